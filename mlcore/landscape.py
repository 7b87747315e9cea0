"""The landscape protocol and the base classes that every system derives from.

Optimisers take anything with ``ndim`` and ``energy_gradient(coords)`` (DESIGN principle 1);
the richer :class:`System` interface adds what the programs need: Hessians, zero modes,
random starts, alignment and distance between minima, and the ``[system]`` table that
rebuilds the landscape.

Conventions
-----------
``coords`` is always a contiguous float64 array of shape ``(ndim,)``.  Energies are the
cost function in its own units.  Manifold landscapes (pspin) return the tangent-space
(Riemannian) gradient and Hessian and provide ``project_tangent`` and ``retract``.
"""
from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Optimizable(Protocol):
    """What an optimiser needs: a dimension and energy plus gradient."""

    ndim: int

    def energy_gradient(self, coords: np.ndarray) -> tuple[float, np.ndarray]:
        """Return ``(energy, gradient)`` at ``coords``."""


def as_coords(coords, ndim: int | None = None, name: str = "coords") -> np.ndarray:
    """Return ``coords`` as a contiguous float64 vector, checking its length."""
    arr = np.ascontiguousarray(coords, dtype=np.float64).reshape(-1)
    if ndim is not None and arr.shape[0] != ndim:
        raise ValueError(f"{name} has length {arr.shape[0]}, the landscape has ndim = {ndim}")
    return arr


class System:
    """Base of every landscape.  Subclasses set ``ndim``, ``kind`` and implement the energy.

    Attributes
    ----------
    ndim : int
        Number of coordinates (parameters).
    kind : str
        The ``kind`` of the ``[system]`` table (``cluster``, ``nn``, ``regression``, ``pspin``,
        ``python``).
    n_zero_modes : int
        Number of zero Hessian eigenvalues expected at a minimum (continuous symmetries).
    kernel : kernels.base.CompiledLandscape or None
        The compiled kernel, when there is one; the compiled L-BFGS uses it directly.
    energy_tol, distance_tol : float
        Default tolerances of the identity test of minima (absolute energy difference,
        then distance after alignment).
    """

    kind = "abstract"
    #: False for landscapes on a manifold (pspin: the sphere), whose ``project_tangent``
    #: and ``retract`` are not the identity.
    flat = True
    ndim: int = 0
    n_zero_modes: int = 0
    kernel = None
    energy_tol: float = 1e-6
    distance_tol: float = 1e-3
    symmetry_order: int = 1

    # ------------------------------------------------------------------ energy
    def energy(self, coords) -> float:
        """Energy at ``coords``."""
        return self.energy_gradient(coords)[0]

    def energy_gradient(self, coords) -> tuple[float, np.ndarray]:
        """Energy and gradient at ``coords``: ``(float, ndarray of shape (ndim,))``."""
        raise NotImplementedError

    def energy_gradient_rows(self, coords) -> tuple[np.ndarray, np.ndarray]:
        """Energies and gradients of every row of ``coords`` (shape ``(m, ndim)``):
        ``(ndarray (m,), ndarray (m, ndim))``.  Compiled landscapes do it in one call."""
        rows = np.asarray(coords, dtype=np.float64).reshape(-1, self.ndim)
        energies = np.empty(len(rows))
        grads = np.empty((len(rows), self.ndim))
        for r, x in enumerate(rows):
            e, g = self.energy_gradient(x.copy())
            energies[r] = e
            grads[r] = np.asarray(g, dtype=np.float64).reshape(-1)
        return energies, grads

    def hessian(self, coords) -> np.ndarray:
        """Hessian at ``coords``, shape ``(ndim, ndim)``."""
        from mlcore.numderiv import fd_hessian

        return fd_hessian(self.energy_gradient, as_coords(coords, self.ndim))

    def hessian_vector(self, coords, vec) -> np.ndarray:
        """Hessian-vector product at ``coords``, shape ``(ndim,)``."""
        from mlcore.numderiv import fd_hessian_vector

        return fd_hessian_vector(self.energy_gradient, as_coords(coords, self.ndim),
                                 as_coords(vec, self.ndim, "vec"))

    #: How :meth:`display_energy` values are labelled in tables and figures.
    display_energy_label = "energy"

    def zero_mode_vectors(self, coords) -> np.ndarray | None:
        """Orthonormal basis of the known zero modes at ``coords``, shape ``(k, ndim)``.

        Transition-state searches project these directions out.  ``None`` where the
        landscape knows no analytic zero modes (e.g. user landscapes); then they are
        only recognised numerically from the Hessian.
        """
        return None

    def display_energy(self, energy: float) -> float:
        """The energy as users read it (per spin for pspin); default: unchanged."""
        return energy

    # ------------------------------------------------------------------ manifold
    def project_tangent(self, coords, vec) -> np.ndarray:
        """Project ``vec`` onto the tangent space at ``coords`` (identity if flat)."""
        return vec

    def retract(self, coords) -> np.ndarray:
        """Map ``coords`` back onto the manifold in place (identity if flat)."""
        return coords

    # ------------------------------------------------------------------ sampling
    def random_coords(self, rng: np.random.Generator) -> np.ndarray:
        """Random starting coordinates drawn from ``rng``."""
        return rng.standard_normal(self.ndim)

    # ------------------------------------------------------------------ identity
    def align(self, coords_ref, coords) -> tuple[float, np.ndarray]:
        """Best alignment of ``coords`` onto ``coords_ref`` under the landscape's symmetries.

        Returns ``(distance, aligned)``: the Euclidean distance after alignment and the
        transformed copy of ``coords``.  The base class knows no symmetry.
        """
        ref = as_coords(coords_ref, self.ndim)
        x = as_coords(coords, self.ndim).copy()
        return float(np.linalg.norm(x - ref)), x

    def distance(self, coords1, coords2) -> float:
        """Distance between two points after alignment under the symmetries."""
        return self.align(coords1, coords2)[0]

    def canonical(self, coords) -> np.ndarray:
        """A canonical representative of ``coords`` (e.g. phases wrapped); default: a copy."""
        return as_coords(coords, self.ndim).copy()

    # ------------------------------------------------------------------ storage
    def config(self) -> dict[str, Any]:
        """The ``[system]`` table (plain TOML types) that rebuilds this landscape."""
        raise NotImplementedError

    def _with_tolerances(self, table: dict[str, Any]) -> dict[str, Any]:
        """``table`` plus the identity tolerances the user set (``_energy_tol_given`` /
        ``_distance_tol_given``), so that defaults stay defaults in stored tables."""
        if getattr(self, "_energy_tol_given", False):
            table["energy_tol"] = self.energy_tol
        if getattr(self, "_distance_tol_given", False):
            table["distance_tol"] = self.distance_tol
        return table


class CompiledSystem(System):
    """A system whose arithmetic lives in a compiled kernel (``self.kernel``).

    The energy methods delegate to the kernel; subclasses add sampling, alignment and
    the configuration.
    """

    def __init__(self, kernel):
        self.kernel = kernel
        self.ndim = int(kernel.ndim)

    def energy(self, coords) -> float:
        return self.kernel.energy(as_coords(coords, self.ndim))

    def energy_gradient(self, coords, out=None):
        return self.kernel.energy_gradient(as_coords(coords, self.ndim), out)

    def energy_gradient_rows(self, coords):
        rows = np.ascontiguousarray(coords, dtype=np.float64).reshape(-1, self.ndim)
        return self.kernel.energy_gradient_rows(rows)

    def hessian(self, coords, out=None):
        return self.kernel.hessian(as_coords(coords, self.ndim), out)

    def hessian_vector(self, coords, vec, out=None):
        return self.kernel.hessian_vector(as_coords(coords, self.ndim),
                                          as_coords(vec, self.ndim, "vec"), out)

    def project_tangent(self, coords, vec):
        return self.kernel.project_tangent(as_coords(coords, self.ndim), vec)

    def retract(self, coords):
        return self.kernel.retract(coords)
