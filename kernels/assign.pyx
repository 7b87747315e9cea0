# cython: language_level=3
"""Compiled inner loop of the cluster alignment (:mod:`mlcore.align.cluster`).

From one start rotation it alternates

1. the best permutation for the rotation: a linear assignment problem, solved here by the
   shortest-augmenting-path method of Jonker and Volgenant in the form given by
   D. F. Crouse, "On implementing 2D rectangular assignment algorithms", IEEE Trans.
   Aerosp. Electron. Syst. 52 (2016) 1679 (dual potentials, Dijkstra-like search per row);
2. the best proper rotation for the permutation: Horn's quaternion method (B. K. P. Horn,
   J. Opt. Soc. Am. A 4 (1987) 629), the eigenvector of the largest eigenvalue of a
   symmetric 4 x 4 matrix, found by cyclic Jacobi rotations. The largest eigenvalue is
   also ``max tr(R^T S)``, so the distance needs no aligned copy:
   ``d^2 = |ref|^2 + |mob|^2 - 2 lambda_max``.

until the permutation repeats.  The NumPy/SciPy twin (``linear_sum_assignment`` and an SVD)
is :func:`kernels.reference.assign.refine`, the test oracle.
"""
import numpy as np
cimport numpy as cnp
from libc.math cimport fabs, sqrt, INFINITY
from libc.stdlib cimport malloc, free

cnp.import_array()


cdef int _assign_max(const double* w, int n, long* col4row, long* row4col, double* u,
                     double* v, double* spc, long* path, long* remaining, char* sr,
                     char* sc, bint warm) noexcept nogil:
    """Maximise ``sum_i w[i, col4row[i]]`` over permutations (minimise ``c = -w``).

    Start: column potentials ``v`` (zero, or kept from the previous call when ``warm``:
    feasible for any matrix), row potentials ``u_i = min_j (c_ij - v_j)``, and every row
    given its cheapest column where that column is still free (reduced cost 0: the duals
    and the partial assignment satisfy complementary slackness).  For the nearly unchanged
    matrices of successive alignment steps, and for well-aligned clusters, most rows are
    assigned here.  Then one shortest augmenting path per row left (Crouse 2016).

    Returns 0, or -1 if no finite assignment exists (not for finite ``w``).
    """
    cdef int i, j, it, cur, n_rem, index_lowest, sink, jmin
    cdef long tmp
    cdef double min_val, lowest, r
    for j in range(n):
        row4col[j] = -1
        if not warm:
            v[j] = 0.0
    for i in range(n):
        lowest = INFINITY
        jmin = 0
        for j in range(n):
            r = -w[i * n + j] - v[j]
            if r < lowest:
                lowest = r
                jmin = j
        u[i] = lowest
        if row4col[jmin] == -1:
            row4col[jmin] = i
            col4row[i] = jmin
        else:
            col4row[i] = -1
    for cur in range(n):
        if col4row[cur] != -1:
            continue
        for j in range(n):
            spc[j] = INFINITY
            path[j] = -1
            sr[j] = 0
            sc[j] = 0
            remaining[j] = n - 1 - j
        n_rem = n
        min_val = 0.0
        i = cur
        sink = -1
        while sink == -1:
            sr[i] = 1
            lowest = INFINITY
            index_lowest = -1
            for it in range(n_rem):
                j = remaining[it]
                r = min_val - w[i * n + j] - u[i] - v[j]
                if r < spc[j]:
                    path[j] = i
                    spc[j] = r
                if spc[j] < lowest or (spc[j] == lowest and row4col[j] == -1):
                    lowest = spc[j]
                    index_lowest = it
            min_val = lowest
            if min_val == INFINITY:
                return -1
            j = remaining[index_lowest]
            if row4col[j] == -1:
                sink = j
            else:
                i = row4col[j]
            sc[j] = 1
            n_rem -= 1
            remaining[index_lowest] = remaining[n_rem]
        u[cur] += min_val
        for i in range(n):
            if sr[i] and i != cur:
                u[i] += min_val - spc[col4row[i]]
        for j in range(n):
            if sc[j]:
                v[j] -= min_val - spc[j]
        j = sink
        while True:
            i = path[j]
            row4col[j] = i
            tmp = col4row[i]
            col4row[i] = j
            j = tmp
            if i == cur:
                break
    return 0


cdef double _horn_rotation(const double* s, double* rot) noexcept nogil:
    """Best proper rotation ``rot`` (3 x 3, row-major) for the correlation
    ``s[a * 3 + b] = sum_k mob[k, a] ref[k, b]``: ``rot @ mob_k`` is closest to ``ref_k``.
    Returns ``max tr``, the largest eigenvalue of Horn's matrix."""
    cdef double nm[16]
    cdef double vec[16]
    cdef double sxx = s[0], sxy = s[1], sxz = s[2]
    cdef double syx = s[3], syy = s[4], syz = s[5]
    cdef double szx = s[6], szy = s[7], szz = s[8]
    cdef int p, q, k, sweep, best
    cdef double off, scale, theta, t, c, sn, tau, app, aqq, apq, akp, akq, g, h
    cdef double q0, q1, q2, q3
    nm[0] = sxx + syy + szz
    nm[1] = syz - szy
    nm[2] = szx - sxz
    nm[3] = sxy - syx
    nm[5] = sxx - syy - szz
    nm[6] = sxy + syx
    nm[7] = szx + sxz
    nm[10] = -sxx + syy - szz
    nm[11] = syz + szy
    nm[15] = -sxx - syy + szz
    nm[4] = nm[1]
    nm[8] = nm[2]
    nm[12] = nm[3]
    nm[9] = nm[6]
    nm[13] = nm[7]
    nm[14] = nm[11]
    for k in range(16):
        vec[k] = 0.0
    for k in range(4):
        vec[k * 5] = 1.0
    scale = 0.0
    for k in range(16):
        scale += nm[k] * nm[k]
    for sweep in range(60):
        off = 0.0
        for p in range(3):
            for q in range(p + 1, 4):
                off += nm[p * 4 + q] * nm[p * 4 + q]
        if off <= 1e-32 * scale or off == 0.0:
            break
        for p in range(3):
            for q in range(p + 1, 4):
                apq = nm[p * 4 + q]
                if apq == 0.0:
                    continue
                app = nm[p * 4 + p]
                aqq = nm[q * 4 + q]
                theta = (aqq - app) / (2.0 * apq)
                t = 1.0 / (fabs(theta) + sqrt(theta * theta + 1.0))
                if theta < 0.0:
                    t = -t
                c = 1.0 / sqrt(t * t + 1.0)
                sn = t * c
                tau = sn / (1.0 + c)
                nm[p * 4 + p] = app - t * apq
                nm[q * 4 + q] = aqq + t * apq
                nm[p * 4 + q] = 0.0
                nm[q * 4 + p] = 0.0
                for k in range(4):
                    if k != p and k != q:
                        akp = nm[k * 4 + p]
                        akq = nm[k * 4 + q]
                        nm[k * 4 + p] = akp - sn * (akq + tau * akp)
                        nm[p * 4 + k] = nm[k * 4 + p]
                        nm[k * 4 + q] = akq + sn * (akp - tau * akq)
                        nm[q * 4 + k] = nm[k * 4 + q]
                for k in range(4):
                    g = vec[k * 4 + p]
                    h = vec[k * 4 + q]
                    vec[k * 4 + p] = g - sn * (h + tau * g)
                    vec[k * 4 + q] = h + sn * (g - tau * h)
    best = 0
    for k in range(1, 4):
        if nm[k * 5] > nm[best * 5]:
            best = k
    q0 = vec[best]
    q1 = vec[4 + best]
    q2 = vec[8 + best]
    q3 = vec[12 + best]
    t = sqrt(q0 * q0 + q1 * q1 + q2 * q2 + q3 * q3)
    q0 /= t
    q1 /= t
    q2 /= t
    q3 /= t
    rot[0] = q0 * q0 + q1 * q1 - q2 * q2 - q3 * q3
    rot[1] = 2.0 * (q1 * q2 - q0 * q3)
    rot[2] = 2.0 * (q1 * q3 + q0 * q2)
    rot[3] = 2.0 * (q1 * q2 + q0 * q3)
    rot[4] = q0 * q0 - q1 * q1 + q2 * q2 - q3 * q3
    rot[5] = 2.0 * (q2 * q3 - q0 * q1)
    rot[6] = 2.0 * (q1 * q3 - q0 * q2)
    rot[7] = 2.0 * (q2 * q3 + q0 * q1)
    rot[8] = q0 * q0 - q1 * q1 - q2 * q2 + q3 * q3
    return nm[best * 5]


def horn_rotation(const double[:, ::1] ref, const double[:, ::1] mob):
    """Best proper rotation ``R`` for paired centred clusters (``mob @ R.T`` is aligned to
    ``ref``) and ``max tr``: Horn's quaternion method (tests and the twin)."""
    cdef Py_ssize_t n = ref.shape[0], k
    cdef int a, b
    cdef double s[9]
    rot = np.empty((3, 3))
    cdef double[:, ::1] r = rot
    for a in range(9):
        s[a] = 0.0
    for k in range(n):
        for a in range(3):
            for b in range(3):
                s[a * 3 + b] += mob[k, a] * ref[k, b]
    cdef double lam = _horn_rotation(s, &r[0, 0])
    return rot, lam


def assign_max(const double[:, ::1] w):
    """``col4row``: the permutation maximising ``sum_i w[i, col4row[i]]`` (square ``w``)."""
    cdef int n = w.shape[0]
    if w.shape[1] != n:
        raise ValueError("assign_max needs a square matrix")
    out = np.empty(n, dtype=np.int64)
    cdef long[::1] col4row = out
    cdef long* row4col = <long*> malloc(n * sizeof(long) * 3)
    cdef double* dwork = <double*> malloc(n * sizeof(double) * 3)
    cdef char* flags = <char*> malloc(2 * n)
    cdef int status
    if row4col == NULL or dwork == NULL or flags == NULL:
        free(row4col)
        free(dwork)
        free(flags)
        raise MemoryError()
    try:
        status = _assign_max(&w[0, 0], n, &col4row[0], row4col, dwork, dwork + n,
                             dwork + 2 * n, row4col + n, row4col + 2 * n, flags, flags + n,
                             False)
    finally:
        free(row4col)
        free(dwork)
        free(flags)
    if status != 0:
        raise ValueError("no finite assignment")
    return out


def refine(const double[:, ::1] ref, const double[:, ::1] mob, rot_start, int max_iter,
           set seen, double sq_sum):
    """Alternate assignment and rotation from ``rot_start`` (see the module docstring).

    Parameters
    ----------
    ref, mob : ndarray, shape (n, 3)
        Centred clusters (C-contiguous float64).
    rot_start : ndarray, shape (3, 3)
        Start rotation (``mob @ rot.T`` is the rotated copy).
    max_iter : int
        Most assignment / rotation alternations.
    seen : set of bytes
        Permutations reached from earlier starts on the same ``mob`` (updated): meeting
        one ends this start, which would repeat a path already followed.
    sq_sum : float
        ``|ref|^2 + |mob|^2``.

    Returns
    -------
    distance : float
        Best distance on the way (``inf`` if nothing new was reached).
    perm : ndarray of int64, shape (n,), or None
        ``mob[perm]`` pairs atom ``i`` of ``ref`` with atom ``perm[i]`` of ``mob``.
    rot : ndarray, shape (3, 3), or None
        The rotation of that alignment.
    """
    cdef int n = ref.shape[0]
    if mob.shape[0] != n or ref.shape[1] != 3 or mob.shape[1] != 3:
        raise ValueError("refine needs two (n, 3) arrays")
    cdef double[:, ::1] r0 = np.ascontiguousarray(rot_start, dtype=np.float64)
    cdef double rot[9]
    cdef double s[9]
    cdef double a0, a1, a2, lam, d2, d, dx, best_d = INFINITY
    cdef int i, j, k, it, same, status
    cdef long p
    for k in range(9):
        rot[k] = r0[k // 3, k % 3]
    perm_arr = np.empty(n, dtype=np.int64)
    prev_arr = np.empty(n, dtype=np.int64)
    cdef long[::1] perm = perm_arr
    cdef long[::1] prev = prev_arr
    best_perm = None
    best_rot = None
    cdef double* w = <double*> malloc(n * n * sizeof(double))
    cdef double* ar = <double*> malloc(n * 3 * sizeof(double))
    cdef long* iwork = <long*> malloc(n * sizeof(long) * 3)
    cdef double* dwork = <double*> malloc(n * sizeof(double) * 3)
    cdef char* flags = <char*> malloc(2 * n)
    if w == NULL or ar == NULL or iwork == NULL or dwork == NULL or flags == NULL:
        free(w)
        free(ar)
        free(iwork)
        free(dwork)
        free(flags)
        raise MemoryError()
    try:
        for it in range(max_iter):
            # w[i, j] = ref_i . (R mob_j) = (ref_i R) . mob_j
            for i in range(n):
                for k in range(3):
                    ar[i * 3 + k] = (ref[i, 0] * rot[k] + ref[i, 1] * rot[3 + k]
                                     + ref[i, 2] * rot[6 + k])
            for i in range(n):
                a0 = ar[i * 3]
                a1 = ar[i * 3 + 1]
                a2 = ar[i * 3 + 2]
                for j in range(n):
                    w[i * n + j] = a0 * mob[j, 0] + a1 * mob[j, 1] + a2 * mob[j, 2]
            status = _assign_max(w, n, &perm[0], iwork, dwork, dwork + n, dwork + 2 * n,
                                 iwork + n, iwork + 2 * n, flags, flags + n, it > 0)
            if status != 0:
                raise ValueError("alignment: no finite assignment (non-finite coordinates?)")
            if it > 0:
                same = 1
                for i in range(n):
                    if perm[i] != prev[i]:
                        same = 0
                        break
                if same:
                    break
            key = perm_arr.tobytes()
            if key in seen:
                break
            seen.add(key)
            for k in range(9):
                s[k] = 0.0
            for i in range(n):
                p = perm[i]
                for j in range(3):
                    for k in range(3):
                        s[j * 3 + k] += mob[p, j] * ref[i, k]
            lam = _horn_rotation(s, rot)
            d2 = sq_sum - 2.0 * lam
            if d2 < 1e-6 * sq_sum:
                d2 = 0.0
                for i in range(n):
                    p = perm[i]
                    for k in range(3):
                        dx = ref[i, k] - (rot[k * 3] * mob[p, 0] + rot[k * 3 + 1] * mob[p, 1]
                                          + rot[k * 3 + 2] * mob[p, 2])
                        d2 += dx * dx
            d = sqrt(d2) if d2 > 0.0 else 0.0
            if d < best_d:
                best_d = d
                best_perm = perm_arr.copy()
                best_rot = np.array([[rot[0], rot[1], rot[2]], [rot[3], rot[4], rot[5]],
                                     [rot[6], rot[7], rot[8]]])
            for i in range(n):
                prev[i] = perm[i]
    finally:
        free(w)
        free(ar)
        free(iwork)
        free(dwork)
        free(flags)
    return best_d, best_perm, best_rot
