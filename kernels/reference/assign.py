"""NumPy/SciPy reference of :mod:`kernels.assign`: the test oracle of the alignment loop.

The same alternation from one start rotation: the best permutation by
``scipy.optimize.linear_sum_assignment`` (maximising ``sum_i ref_i . R mob_perm[i]``), then
the best proper rotation by an SVD of the correlation matrix (Kabsch), until the
permutation repeats or meets one in ``seen``.  Clear rather than fast.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment


def proper_rotation(ref: np.ndarray, mob: np.ndarray) -> tuple[np.ndarray, float]:
    """Best proper rotation ``R`` (``mob @ R.T`` closest to ``ref``) and ``max tr``."""
    u, sv, vt = np.linalg.svd(mob.T @ ref)
    trace = float(sv.sum())
    if np.linalg.det(u @ vt) < 0.0:
        u = u.copy()
        u[:, -1] = -u[:, -1]
        trace -= 2.0 * float(sv[2])
    return (u @ vt).T, trace


def refine(ref, mob, rot_start, max_iter: int, seen: set, sq_sum: float):
    """See :func:`kernels.assign.refine` (same arguments, same results up to ties)."""
    rot = np.asarray(rot_start, dtype=float)
    best_d, best_perm, best_rot = np.inf, None, None
    perm_prev = None
    for _ in range(max_iter):
        _, perm = linear_sum_assignment((ref @ rot) @ mob.T, maximize=True)
        perm = perm.astype(np.int64)
        if perm_prev is not None and np.array_equal(perm, perm_prev):
            break
        key = perm.tobytes()
        if key in seen:
            break
        seen.add(key)
        rot, trace = proper_rotation(ref, mob[perm])
        d = float(np.sqrt(max(sq_sum - 2.0 * trace, 0.0)))
        if d * d < 1e-6 * sq_sum:
            d = float(np.linalg.norm(ref - mob[perm] @ rot.T))
        if d < best_d:
            best_d, best_perm, best_rot = d, perm, rot
        perm_prev = perm
    return best_d, best_perm, best_rot
