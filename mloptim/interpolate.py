"""Initial guesses for a band between two minima: alignment, then interpolation.

    from mloptim.interpolate import interpolate
    images = interpolate(system, coords_a, coords_b, n_images)   # (n_images + 2, ndim)

The second end point is first moved onto the first under the landscape's symmetries
(:meth:`mlcore.landscape.System.align`: rotation, translation, permutation and inversion
for clusters; hidden-node permutations and sign flips for networks; the 16 operations and
the minimum image of the phases for regression; the sign flip of even-p pspin), so that
the straight line joins the two minima by the shortest route.  On a flat landscape the
images are then equally spaced on the straight line; on the sphere (pspin) they are
equally spaced on the great circle (spherical linear interpolation).
"""
from __future__ import annotations

import numpy as np

from mlcore.landscape import as_coords

#: Probe of :func:`is_manifold`: a point with every coordinate 0.37, off the sphere
#: ``|w|^2 = N`` of pspin for every N (its radius is 0.37 sqrt(N)).
_PROBE_VALUE = 0.37


def is_manifold(system) -> bool:
    """True if ``system.retract`` moves a point, i.e. the landscape lives on a manifold.

    The landscape protocol has no flag for it; flat landscapes (the base class and every
    flat compiled kernel) return the point unchanged, the sphere of pspin rescales it.
    """
    if hasattr(system, "flat"):
        return not system.flat
    probe = np.full(int(system.ndim), _PROBE_VALUE)
    out = system.retract(probe.copy())
    if out is None:  # an in-place retraction that returns nothing cannot be probed this way
        return False
    return not np.array_equal(np.asarray(out, dtype=np.float64).reshape(-1),
                              np.full(int(system.ndim), _PROBE_VALUE))


def linear_images(coords_a, coords_b, n_images: int) -> np.ndarray:
    """``n_images`` equally spaced points strictly between ``a`` and ``b`` plus both ends.

    Returns
    -------
    ndarray, shape (n_images + 2, ndim)
        Row 0 is ``a``, row ``n_images + 1`` is ``b``.
    """
    a = np.asarray(coords_a, dtype=np.float64).reshape(-1)
    b = np.asarray(coords_b, dtype=np.float64).reshape(-1)
    t = np.linspace(0.0, 1.0, int(n_images) + 2)[:, None]
    images = (1.0 - t) * a + t * b
    images[0], images[-1] = a, b
    return images


def geodesic_images(coords_a, coords_b, n_images: int) -> np.ndarray:
    """Equally spaced points on the great circle from ``a`` to ``b`` (sphere of radius |a|).

    Spherical linear interpolation of the directions; the radius is interpolated linearly
    (it is the same at both ends on the pspin sphere).  Antipodal or coincident end points
    fall back to normalised linear interpolation.

    Returns
    -------
    ndarray, shape (n_images + 2, ndim)
    """
    a = np.asarray(coords_a, dtype=np.float64).reshape(-1)
    b = np.asarray(coords_b, dtype=np.float64).reshape(-1)
    ra, rb = np.linalg.norm(a), np.linalg.norm(b)
    ua, ub = a / ra, b / rb
    cos = float(np.clip(ua @ ub, -1.0, 1.0))
    angle = float(np.arccos(cos))
    t = np.linspace(0.0, 1.0, int(n_images) + 2)[:, None]
    radius = (1.0 - t) * ra + t * rb
    if angle < 1e-12 or np.pi - angle < 1e-8:
        lin = (1.0 - t) * ua + t * ub
        norms = np.linalg.norm(lin, axis=1, keepdims=True)
        dirs = lin / np.where(norms > 0.0, norms, 1.0)
    else:
        s = np.sin(angle)
        dirs = (np.sin((1.0 - t) * angle) * ua + np.sin(t * angle) * ub) / s
    images = radius * dirs
    images[0], images[-1] = a, b
    return images


def interpolate(system, coords_a, coords_b, n_images: int, *, align: bool = True,
                return_distance: bool = False):
    """Initial band between two minima: ``b`` aligned onto ``a``, then interpolated.

    Parameters
    ----------
    system : mlcore.landscape.System
        The landscape (``align``, ``retract``).
    coords_a, coords_b : array_like, shape (ndim,)
        The two end points (minima).  ``a`` is kept as given; ``b`` is replaced by its best
        image under the landscape's symmetries (``system.align(a, b)``).
    n_images : int
        Number of intermediate images (>= 0).
    align : bool
        Align ``b`` onto ``a`` first (default True); False interpolates the raw coordinates.
    return_distance : bool
        Also return the distance between the end points after alignment.

    Returns
    -------
    images : ndarray, shape (n_images + 2, ndim)
        Row 0 is ``a``, the last row the aligned ``b``, the rows between equally spaced on the
        straight line (flat landscapes) or on the great circle (manifolds).
    distance : float
        Only with ``return_distance``: ``|b_aligned - a|``.
    """
    n_images = int(n_images)
    if n_images < 0:
        raise ValueError(f"n_images must be >= 0, got {n_images}")
    ndim = int(system.ndim)
    a = as_coords(coords_a, ndim, "coords_a").copy()
    b = as_coords(coords_b, ndim, "coords_b").copy()
    if align:
        _, b = system.align(a, b)
        b = as_coords(b, ndim, "aligned coords_b").copy()
    if is_manifold(system):
        images = geodesic_images(a, b, n_images)
        for i in range(1, n_images + 1):
            out = system.retract(images[i])
            if out is not None:
                images[i] = out
    else:
        images = linear_images(a, b, n_images)
    if return_distance:
        return images, float(np.linalg.norm(b - a))
    return images
