"""Alignment of two atomic clusters: translation, rotation, inversion and permutation.

The distance between two cluster configurations ``X`` and ``Y`` (``natoms`` atoms in three
dimensions, all atoms identical) is

    d(X, Y) = min over t, Q, P of || X - (P Y) Q^T - t ||

where ``t`` is a translation, ``Q`` a rotation (proper; improper too when inversion is allowed,
since every improper orthogonal matrix is ``-1`` times a proper one) and ``P`` a permutation of
the atoms.  Translation is solved exactly by centring both clusters.  For a fixed permutation
the best rotation is the Kabsch solution (here by Horn's quaternion method); for a fixed
rotation the best permutation is a linear assignment problem on squared atom-atom distances
(a shortest-augmenting-path solver).  Both alternate in the compiled loop
:func:`kernels.assign.refine` (NumPy/SciPy twin: :mod:`kernels.reference.assign`).  Alternating the two never increases the distance,
but it only finds a local optimum, so the search starts from several orientations:

1. the identity (the two clusters may already be aligned);
2. principal-axis orientations: the eigenvectors of the two gyration tensors matched with every
   proper choice of signs (4 starts; useless for spherical tops such as the icosahedron, hence 3);
   tried early because for re-found copies of one structure one of them is usually exact;
3. *anchor* orientations: a well separated atom ``a`` and a second, non-collinear atom ``b`` of
   the reference are matched to the few atoms of ``coords`` with the closest radius (distance
   from the centre) and, for ``b``, the closest ``(radius, distance to a)``; the rotation taking
   the frame of the candidate pair onto the frame of ``(a, b)`` is a start.  When the two
   clusters are the same structure one of these starts is (nearly) exact, whatever the
   symmetry of the cluster;
4. ``niter`` uniformly random rotations from an explicit ``numpy.random.Generator``.

With ``invert=True`` each kind of start is tried for ``Y`` and for the inverted copy ``-Y``.  The search stops
early once a distance below ``stop_below`` is found (the structures are then identical).
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from kernels.assign import refine

__all__ = ["align_clusters", "centred", "kabsch_rotation", "random_rotation"]

_N_ANCHOR_CANDIDATES = 4   # candidates tried for each of the two anchor atoms


def centred(coords_n3: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(coords_n3 - centroid, centroid)`` for an ``(natoms, 3)`` array."""
    centroid = coords_n3.mean(axis=0)
    return coords_n3 - centroid, centroid


def kabsch_rotation(ref_n3: np.ndarray, mobile_n3: np.ndarray, proper: bool = True) -> np.ndarray:
    """Rotation ``R`` (3 x 3) minimising ``|| ref - mobile @ R.T ||`` for centred clusters.

    Parameters
    ----------
    ref_n3, mobile_n3 : ndarray, shape (natoms, 3)
        Centred coordinates, atom ``i`` of ``mobile`` paired with atom ``i`` of ``ref``.
    proper : bool
        If True (default) ``det R = +1``; otherwise the best orthogonal matrix (which may
        include an inversion).

    Returns
    -------
    ndarray, shape (3, 3)
        The orthogonal matrix; the aligned copy is ``mobile_n3 @ R.T``.
    """
    corr = mobile_n3.T @ ref_n3
    u, _, vt = np.linalg.svd(corr)
    if proper and np.linalg.det(u @ vt) < 0.0:
        u = u.copy()
        u[:, -1] = -u[:, -1]
    # minimise over Q = R^T: maximise tr(Q^T corr)  ->  Q = U V^T
    return (u @ vt).T


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A rotation matrix drawn uniformly (Haar measure) from a unit quaternion."""
    q = rng.standard_normal(4)
    q /= np.linalg.norm(q)
    w, x, y, z = q
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def _rotation_onto(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The smallest rotation taking the direction of ``src`` onto that of ``dst``."""
    a = src / np.linalg.norm(src)
    b = dst / np.linalg.norm(dst)
    v = np.cross(a, b)
    c = float(a @ b)
    s = np.linalg.norm(v)
    if s < 1e-12:
        if c > 0:
            return np.eye(3)
        # antiparallel: half turn about any axis perpendicular to a
        perp = np.eye(3)[np.argmin(np.abs(a))]
        axis = np.cross(a, perp)
        axis /= np.linalg.norm(axis)
        return 2.0 * np.outer(axis, axis) - np.eye(3)
    vx = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + vx + vx @ vx * ((1 - c) / (s * s))


def _frame(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Right-handed orthonormal frame (columns) from two non-collinear vectors."""
    e1 = first / np.sqrt(first @ first)
    e2 = second - (second @ e1) * e1
    e2 /= np.sqrt(e2 @ e2)
    out = np.empty((3, 3))
    out[:, 0] = e1
    out[:, 1] = e2
    # e1 x e2 written out: numpy.cross costs more than the rest of this function
    out[0, 2] = e1[1] * e2[2] - e1[2] * e2[1]
    out[1, 2] = e1[2] * e2[0] - e1[0] * e2[2]
    out[2, 2] = e1[0] * e2[1] - e1[1] * e2[0]
    return out


def _isolation(features: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """For each row of ``features`` the distance to the nearest other row (inf outside mask)."""
    diff = features[:, None, :] - features[None, :, :]
    dist = np.sqrt((diff * diff).sum(-1))
    np.fill_diagonal(dist, np.inf)
    iso = dist.min(axis=1)
    iso[~mask] = -np.inf
    return iso


def _anchor_rotations(ref: np.ndarray, mob: np.ndarray) -> Iterator[np.ndarray]:
    """Rotations that map candidate atom pairs of ``mob`` onto an anchor pair of ``ref``."""
    natoms = ref.shape[0]
    r_ref = np.linalg.norm(ref, axis=1)
    r_mob = np.linalg.norm(mob, axis=1)
    rmax = r_ref.max()
    if rmax <= 0.0:
        return
    # anchor a: the outer atom whose radius is most unlike any other (least ambiguous)
    outer = r_ref > 0.5 * rmax
    iso = _isolation(r_ref[:, None], outer)
    a = int(np.argmax(iso))
    ua = ref[a] / r_ref[a]
    # anchor b: not collinear with a, with the most distinctive (radius, distance to a)
    cosines = (ref @ ua) / np.where(r_ref > 0, r_ref, 1.0)
    ok_b = (r_ref > 0.3 * rmax) & (np.abs(cosines) < 0.9)
    ok_b[a] = False
    if ok_b.any():
        feat_ref = np.column_stack([r_ref, np.linalg.norm(ref - ref[a], axis=1)])
        iso_b = _isolation(feat_ref, ok_b)
        b = int(np.argmax(iso_b))
        frame_ref = _frame(ref[a], ref[b])
    else:
        b = None
    n_cand = min(natoms, _N_ANCHOR_CANDIDATES)
    for a2 in np.argsort(np.abs(r_mob - r_ref[a]), kind="stable")[:n_cand]:
        if r_mob[a2] <= 1e-12:
            continue
        if b is None:
            yield _rotation_onto(mob[a2], ref[a])
            continue
        ua2 = mob[a2] / r_mob[a2]
        cos2 = (mob @ ua2) / np.where(r_mob > 0, r_mob, 1.0)
        feat_mob = np.column_stack([r_mob, np.linalg.norm(mob - mob[a2], axis=1)])
        mismatch = np.linalg.norm(feat_mob - feat_ref[b], axis=1)
        mismatch[a2] = np.inf
        mismatch[np.abs(cos2) > 0.999] = np.inf   # (nearly) collinear: no frame
        for b2 in np.argsort(mismatch, kind="stable")[:n_cand]:
            if not np.isfinite(mismatch[b2]):
                break
            yield frame_ref @ _frame(mob[a2], mob[b2]).T


def _principal_axis_rotations(ref: np.ndarray, mob: np.ndarray) -> Iterator[np.ndarray]:
    """Rotations matching the principal axes of the gyration tensors, proper sign choices."""
    _, axes_ref = np.linalg.eigh(ref.T @ ref)
    _, axes_mob = np.linalg.eigh(mob.T @ mob)
    for s1 in (1.0, -1.0):
        for s2 in (1.0, -1.0):
            signs = np.array([s1, s2, 1.0])
            rot = axes_ref @ np.diag(signs) @ axes_mob.T
            if np.linalg.det(rot) < 0:
                signs[2] = -1.0
                rot = axes_ref @ np.diag(signs) @ axes_mob.T
            yield rot


def _starts(ref, mobs, niter, rng) -> Iterator[tuple[int, np.ndarray]]:
    """``(which mobile copy, start rotation)``, most promising kinds first for every copy."""
    # principal axes first: for two copies of the same structure (the common case of
    # basin-hopping re-finds) one of these few starts is usually exact already; the anchor
    # pairs, which always contain an exact start for identical structures, come next
    for m, mob in enumerate(mobs):
        yield m, np.eye(3)
        for rot in _principal_axis_rotations(ref, mob):
            yield m, rot
    for m, mob in enumerate(mobs):
        for rot in _anchor_rotations(ref, mob):
            yield m, rot
    for m in range(len(mobs)):
        for _ in range(niter):
            yield m, random_rotation(rng)


def align_clusters(coords_ref, coords, natoms: int, permute: bool = True, invert: bool = True,
                   niter: int = 10, *, rng: np.random.Generator | None = None,
                   stop_below: float = 1e-8, max_assign_iter: int = 30
                   ) -> tuple[float, np.ndarray]:
    """Minimum Euclidean distance between two clusters and the aligned copy of ``coords``.

    Parameters
    ----------
    coords_ref, coords : array_like, shape (3 * natoms,)
        Flat Cartesian coordinates ``[x1, y1, z1, x2, ...]`` of the reference and of the
        cluster to move.  Neither is modified.
    natoms : int
        Number of atoms.
    permute : bool
        Allow permutations of the (identical) atoms.
    invert : bool
        Allow inversion ``x -> -x`` (i.e. improper rotations) as well as proper rotations.
    niter : int
        Number of uniformly random starting orientations tried in addition to the
        deterministic ones (identity, anchor pairs, principal axes), for each of ``coords``
        and (with ``invert``) its inverted copy.
        Only used when ``permute`` is True (without permutations Kabsch is exact).
    rng : numpy.random.Generator, optional
        Source of the random orientations; default ``numpy.random.default_rng(0)`` so that
        the result is reproducible.
    stop_below : float
        Stop searching once a distance below this is found (same units as the coordinates).
    max_assign_iter : int
        Maximum alternations of assignment and rotation from one start.

    Returns
    -------
    distance : float
        ``|| coords_ref - aligned ||``, the smallest distance found (exact when
        ``permute`` is False; otherwise an upper bound that is the global minimum in
        practice, and zero up to rounding when the two are the same structure).
    aligned : ndarray, shape (3 * natoms,)
        The transformed copy of ``coords``: atoms reordered to match the reference,
        rotated (and inverted if that is better), centred on the reference's centroid.
    """
    natoms = int(natoms)
    ref_flat = np.asarray(coords_ref, dtype=np.float64).reshape(-1)
    mob_flat = np.asarray(coords, dtype=np.float64).reshape(-1)
    if ref_flat.size != 3 * natoms or mob_flat.size != 3 * natoms:
        raise ValueError(f"coordinates of lengths {ref_flat.size} and {mob_flat.size} do not "
                         f"match natoms = {natoms} (need {3 * natoms})")
    if rng is None:
        rng = np.random.default_rng(0)
    ref, centroid_ref = centred(ref_flat.reshape(natoms, 3))
    mob, _ = centred(mob_flat.reshape(natoms, 3))

    mobs = [mob, -mob] if invert else [mob]     # -mob: the inverted copy
    best_d, best_aligned = np.inf, mob
    if not permute:
        for mob_s in mobs:
            rot = kabsch_rotation(ref, mob_s)
            aligned = mob_s @ rot.T
            d = float(np.linalg.norm(ref - aligned))
            if d < best_d:
                best_d, best_aligned = d, aligned
    else:
        sq_sum = float(np.einsum("ij,ij->", ref, ref) + np.einsum("ij,ij->", mob, mob))
        seen: list = [set() for _ in mobs]
        best_m, best_perm, best_rot = 0, None, None
        for m, rot in _starts(ref, mobs, niter, rng):
            d, perm, rot = refine(ref, mobs[m], rot, max_assign_iter, seen[m], sq_sum)
            if d < best_d:
                best_d, best_m, best_perm, best_rot = d, m, perm, rot
            if best_d <= stop_below:
                break
        if best_perm is not None:
            best_aligned = mobs[best_m][best_perm] @ best_rot.T
            best_d = float(np.linalg.norm(ref - best_aligned))
    return float(best_d), (best_aligned + centroid_ref).reshape(-1)
