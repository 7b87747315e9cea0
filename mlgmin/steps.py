"""Step-taking for basin-hopping: small callables with one signature (DESIGN principle 2).

A step taker is called as ``step(coords, step_size, rng) -> new_coords`` and must not
modify ``coords``.  :func:`default_step_taker` picks the move that suits a landscape:

- atoms (``cluster``): every atom displaced uniformly in a cube of side ``2 step_size``,
  then the cluster recentred (a whole-cluster move, as GMIN's default TAKESTEP);
- networks (``nn``): parameter-scaled moves, each weight displaced by
  ``step_size * max(|w|, 1) * U(-1, 1)`` so that large and small weights move in proportion;
- the sphere (``pspin``): a random tangent displacement of length ``step_size * sqrt(N)``
  per coordinate scale, then back onto the sphere;
- anything else: every coordinate displaced uniformly in ``[-step_size, step_size]``.
"""
from __future__ import annotations

import numpy as np


class UniformDisplacement:
    """Displace every coordinate uniformly in ``[-step_size, step_size]``."""

    name = "uniform"

    def __call__(self, coords, step_size, rng):
        return coords + rng.uniform(-step_size, step_size, size=coords.shape)


class ClusterDisplacement:
    """Displace every atom uniformly in a cube of side ``2 step_size``; recentre the cluster."""

    name = "cluster"

    def __call__(self, coords, step_size, rng):
        new = coords + rng.uniform(-step_size, step_size, size=coords.shape)
        xyz = new.reshape(-1, 3)
        xyz -= xyz.mean(axis=0)
        return new


class ScaledDisplacement:
    """Parameter-scaled move: ``w + step_size * max(|w|, 1) * U(-1, 1)`` for each weight."""

    name = "scaled"

    def __call__(self, coords, step_size, rng):
        scale = np.maximum(np.abs(coords), 1.0)
        return coords + step_size * scale * rng.uniform(-1.0, 1.0, size=coords.shape)


class SphereDisplacement:
    """A random tangent move on the sphere ``|w|^2 = N``, then renormalised.

    Each tangent component is uniform in ``[-step_size, step_size]`` (before projection),
    so ``step_size`` has the meaning it has for flat landscapes.
    """

    name = "sphere"

    def __call__(self, coords, step_size, rng):
        n = coords.shape[0]
        move = rng.uniform(-step_size, step_size, size=n)
        move -= (move @ coords) / (coords @ coords) * coords
        new = coords + move
        new *= np.sqrt(n / (new @ new))
        return new


STEP_TAKERS = {cls.name: cls for cls in (UniformDisplacement, ClusterDisplacement,
                                         ScaledDisplacement, SphereDisplacement)}


def default_step_taker(system):
    """The move that suits ``system`` (see the module documentation)."""
    kind = getattr(system, "kind", "")
    if kind == "cluster":
        return ClusterDisplacement()
    if kind == "nn":
        return ScaledDisplacement()
    if kind == "pspin":
        return SphereDisplacement()
    return UniformDisplacement()
