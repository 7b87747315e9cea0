# cython: language_level=3
"""Compiled ``cluster`` landscape (SPEC 2.1): Lennard-Jones plus Axilrod-Teller.

N atoms in three dimensions, reduced units (epsilon = sigma = 1)::

    V = sum_{i<j} 4 [ r_ij^-12 - r_ij^-6 ]
      + gamma * sum_{i<j<k} (1 + 3 cos t1 cos t2 cos t3) / (r_ij r_ik r_jk)^3

Coordinates are flat, ``(x1, y1, z1, x2, ...)``, ``ndim = 3 N``.

Every term is a function of squared distances: ``e(s)``, ``s = r^2``, for a pair and
``f(a, b, c)``, ``(a, b, c) = (r_ij^2, r_ik^2, r_jk^2)``, for a triplet, with
``f = gamma [q^(-3/2) + (3/8) M q^(-5/2)]``, ``q = abc``,
``M = (a+b-c)(a-b+c)(-a+b+c)`` (8 abc times the product of the cosines).  Gradients and
Hessians follow by the chain rule (see ``kernels/reference/cluster.py``, the NumPy oracle
of this module).  The Hessian-vector product works pair by pair and triplet by triplet and
never forms the Hessian.  With ``gamma == 0`` the triplet loop is skipped entirely.
"""
from libc.math cimport sqrt
from libc.string cimport memset

from kernels.base cimport CompiledLandscape

cdef double AT_K = 3.0 / 8.0


cdef inline double _at_terms(double a, double b, double c, double gamma,
                             double* f_d, double* f_dd) noexcept nogil:
    """Axilrod-Teller energy of one triplet from its squared distances (a, b, c).

    Writes ``f_d[p] = df/dd_p`` (3 values) and, unless ``f_dd`` is NULL,
    ``f_dd[3 p + q] = d2f/dd_p dd_q`` (9 values).  Returns ``f``.
    """
    cdef double q = a * b * c
    cdef double A = 1.0 / (q * sqrt(q))          # q^-3/2
    cdef double B = A / q                        # q^-5/2
    cdef double u = a + b - c, v = a - b + c, w = -a + b + c
    cdef double m = u * v * w
    cdef double inv[3]
    cdef double md[3]
    cdef double mdd[9]
    cdef double Bd[3]
    cdef double delta, apq, bpq
    cdef int p, r
    inv[0] = 1.0 / a; inv[1] = 1.0 / b; inv[2] = 1.0 / c
    md[0] = -3.0 * a * a + 2.0 * a * (b + c) + (b - c) * (b - c)
    md[1] = -3.0 * b * b + 2.0 * b * (a + c) + (a - c) * (a - c)
    md[2] = -3.0 * c * c + 2.0 * c * (a + b) + (a - b) * (a - b)
    for p in range(3):
        Bd[p] = -2.5 * B * inv[p]
        f_d[p] = gamma * (-1.5 * A * inv[p] + AT_K * (md[p] * B + m * Bd[p]))
    if f_dd != NULL:
        mdd[0] = -6.0 * a + 2.0 * (b + c)
        mdd[4] = -6.0 * b + 2.0 * (a + c)
        mdd[8] = -6.0 * c + 2.0 * (a + b)
        mdd[1] = 2.0 * u; mdd[3] = mdd[1]
        mdd[2] = 2.0 * v; mdd[6] = mdd[2]
        mdd[5] = 2.0 * w; mdd[7] = mdd[5]
        for p in range(3):
            for r in range(3):
                delta = 1.0 if p == r else 0.0
                apq = (2.25 + 1.5 * delta) * A * inv[p] * inv[r]
                bpq = (6.25 + 2.5 * delta) * B * inv[p] * inv[r]
                f_dd[3 * p + r] = gamma * (apq + AT_K * (mdd[3 * p + r] * B + md[p] * Bd[r]
                                                         + Bd[p] * md[r] + m * bpq))
    return gamma * (A + AT_K * m * B)


cdef inline void _triplet_grads(const double* x, Py_ssize_t i, Py_ssize_t j, Py_ssize_t k,
                                double* vec, double* d) noexcept nogil:
    """Edge vectors ``vec[3 p + x]`` and squared lengths ``d[p]`` of triplet (i, j, k).

    Edge a = x_i - x_j, b = x_i - x_k, c = x_j - x_k.
    """
    cdef int t
    for t in range(3):
        vec[t] = x[3 * i + t] - x[3 * j + t]
        vec[3 + t] = x[3 * i + t] - x[3 * k + t]
        vec[6 + t] = x[3 * j + t] - x[3 * k + t]
    for t in range(3):
        d[t] = vec[3 * t] * vec[3 * t] + vec[3 * t + 1] * vec[3 * t + 1] + vec[3 * t + 2] * vec[3 * t + 2]


# local atom (0 = i, 1 = j, 2 = k) at the two ends of edges a, b, c
cdef int EDGE_P0[3]
cdef int EDGE_P1[3]
EDGE_P0[0] = 0; EDGE_P1[0] = 1
EDGE_P0[1] = 0; EDGE_P1[1] = 2
EDGE_P0[2] = 1; EDGE_P1[2] = 2


cdef class ClusterKernel(CompiledLandscape):
    """Lennard-Jones plus Axilrod-Teller cluster of ``natoms`` atoms.

    Parameters
    ----------
    natoms : int
        Number of atoms N (>= 1); ``ndim = 3 N``.
    gamma : float, optional
        Strength of the Axilrod-Teller three-body term (0 gives plain LJ_N).
    """

    cdef readonly Py_ssize_t natoms
    cdef readonly double gamma

    def __init__(self, Py_ssize_t natoms, double gamma=0.0):
        if natoms < 1:
            raise ValueError(f"natoms must be >= 1, got {natoms}")
        self.natoms = natoms
        self.gamma = gamma
        self.ndim = 3 * natoms

    def __reduce__(self):
        return (ClusterKernel, (self.natoms, self.gamma))

    # ------------------------------------------------------------------ energy
    cdef double c_energy(self, const double* x) noexcept nogil:
        cdef Py_ssize_t n = self.natoms, i, j, k
        cdef double xi, yi, zi, dx, dy, dz, ir2, ir6, e = 0.0, eat = 0.0
        cdef double vec[9]
        cdef double d[3]
        cdef double fd[3]
        for i in range(n):
            xi = x[3 * i]; yi = x[3 * i + 1]; zi = x[3 * i + 2]
            for j in range(i + 1, n):
                dx = xi - x[3 * j]; dy = yi - x[3 * j + 1]; dz = zi - x[3 * j + 2]
                ir2 = 1.0 / (dx * dx + dy * dy + dz * dz)
                ir6 = ir2 * ir2 * ir2
                e += ir6 * (ir6 - 1.0)
        e *= 4.0
        if self.gamma != 0.0:
            for i in range(n):
                for j in range(i + 1, n):
                    for k in range(j + 1, n):
                        _triplet_grads(x, i, j, k, vec, d)
                        eat += _at_terms(d[0], d[1], d[2], self.gamma, fd, NULL)
        return e + eat

    cdef double c_energy_gradient(self, const double* x, double* grad) noexcept nogil:
        cdef Py_ssize_t n = self.natoms, i, j, k
        cdef int p, t
        cdef double xi, yi, zi, dx, dy, dz, ir2, ir6, g, gxi, gyi, gzi
        cdef double e = 0.0, eat = 0.0
        cdef double vec[9]
        cdef double d[3]
        cdef double fd[3]
        cdef Py_ssize_t atom[3]
        memset(grad, 0, 3 * n * sizeof(double))
        for i in range(n):
            xi = x[3 * i]; yi = x[3 * i + 1]; zi = x[3 * i + 2]
            gxi = 0.0; gyi = 0.0; gzi = 0.0
            for j in range(i + 1, n):
                dx = xi - x[3 * j]; dy = yi - x[3 * j + 1]; dz = zi - x[3 * j + 2]
                ir2 = 1.0 / (dx * dx + dy * dy + dz * dz)
                ir6 = ir2 * ir2 * ir2
                e += ir6 * (ir6 - 1.0)
                # (1/r) dE/dr = (-48 r^-12 + 24 r^-6) / r^2
                g = (24.0 - 48.0 * ir6) * ir6 * ir2
                gxi += g * dx; gyi += g * dy; gzi += g * dz
                grad[3 * j] -= g * dx
                grad[3 * j + 1] -= g * dy
                grad[3 * j + 2] -= g * dz
            grad[3 * i] += gxi
            grad[3 * i + 1] += gyi
            grad[3 * i + 2] += gzi
        e *= 4.0
        if self.gamma != 0.0:
            for i in range(n):
                atom[0] = i
                for j in range(i + 1, n):
                    atom[1] = j
                    for k in range(j + 1, n):
                        atom[2] = k
                        _triplet_grads(x, i, j, k, vec, d)
                        eat += _at_terms(d[0], d[1], d[2], self.gamma, fd, NULL)
                        # grad(d_p) = +2 vec_p on its first end, -2 vec_p on its second
                        for p in range(3):
                            for t in range(3):
                                g = 2.0 * fd[p] * vec[3 * p + t]
                                grad[3 * atom[EDGE_P0[p]] + t] += g
                                grad[3 * atom[EDGE_P1[p]] + t] -= g
        return e + eat

    # ------------------------------------------------------------------ Hessian
    cdef void c_hessian(self, const double* x, double* hess) noexcept nogil:
        cdef Py_ssize_t n = self.natoms, nd = 3 * n, i, j, k, ri, rj
        cdef int p, r, s, t, m, mm
        cdef double dx[3]
        cdef double r2, ir2, ir6, e_s, e_ss, val
        cdef double blk[9]
        cdef double vec[9]
        cdef double d[3]
        cdef double fd[3]
        cdef double fdd[9]
        cdef double G[27]      # G[3 * row + p], row = 3 * local atom + xyz: d(d_p)/d(coordinate)
        cdef double GF[27]
        cdef Py_ssize_t atom[3]
        memset(hess, 0, nd * nd * sizeof(double))
        for i in range(n):
            for j in range(i + 1, n):
                for t in range(3):
                    dx[t] = x[3 * i + t] - x[3 * j + t]
                r2 = dx[0] * dx[0] + dx[1] * dx[1] + dx[2] * dx[2]
                ir2 = 1.0 / r2
                ir6 = ir2 * ir2 * ir2
                e_s = 4.0 * (-6.0 * ir6 + 3.0) * ir6 * ir2            # de/ds
                e_ss = 4.0 * (42.0 * ir6 - 12.0) * ir6 * ir2 * ir2    # d2e/ds2
                for r in range(3):
                    for s in range(3):
                        blk[3 * r + s] = 4.0 * e_ss * dx[r] * dx[s]
                    blk[4 * r] += 2.0 * e_s
                for r in range(3):
                    ri = (3 * i + r) * nd
                    rj = (3 * j + r) * nd
                    for s in range(3):
                        val = blk[3 * r + s]
                        hess[ri + 3 * i + s] += val
                        hess[rj + 3 * j + s] += val
                        hess[ri + 3 * j + s] -= val
                        hess[rj + 3 * i + s] -= val
        if self.gamma == 0.0:
            return
        for i in range(n):
            atom[0] = i
            for j in range(i + 1, n):
                atom[1] = j
                for k in range(j + 1, n):
                    atom[2] = k
                    _triplet_grads(x, i, j, k, vec, d)
                    _at_terms(d[0], d[1], d[2], self.gamma, fd, fdd)
                    for r in range(27):
                        G[r] = 0.0
                    for p in range(3):
                        for t in range(3):
                            G[3 * (3 * EDGE_P0[p] + t) + p] = 2.0 * vec[3 * p + t]
                            G[3 * (3 * EDGE_P1[p] + t) + p] = -2.0 * vec[3 * p + t]
                    # GF = G fdd (9 x 3)
                    for r in range(9):
                        for p in range(3):
                            GF[3 * r + p] = (G[3 * r] * fdd[p] + G[3 * r + 1] * fdd[3 + p]
                                             + G[3 * r + 2] * fdd[6 + p])
                    # local Hessian GF G^T, scattered straight into hess
                    for r in range(9):
                        ri = (3 * atom[r // 3] + r % 3) * nd
                        for s in range(9):
                            val = GF[3 * r] * G[3 * s] + GF[3 * r + 1] * G[3 * s + 1] + GF[3 * r + 2] * G[3 * s + 2]
                            hess[ri + 3 * atom[s // 3] + s % 3] += val
                    # sum_p f_p hess(d_p); hess(d_p) = 2 [[I, -I], [-I, I]] on the edge's ends
                    for p in range(3):
                        m = EDGE_P0[p]
                        mm = EDGE_P1[p]
                        val = 2.0 * fd[p]
                        for t in range(3):
                            hess[(3 * atom[m] + t) * nd + 3 * atom[m] + t] += val
                            hess[(3 * atom[mm] + t) * nd + 3 * atom[mm] + t] += val
                            hess[(3 * atom[m] + t) * nd + 3 * atom[mm] + t] -= val
                            hess[(3 * atom[mm] + t) * nd + 3 * atom[m] + t] -= val

    cdef void c_hessian_vector(self, const double* x, const double* v, double* out) noexcept nogil:
        cdef Py_ssize_t n = self.natoms, i, j, k
        cdef int p, t
        cdef double dx[3]
        cdef double dv[3]
        cdef double r2, ir2, ir6, e_s, e_ss, proj, val
        cdef double vec[9]
        cdef double dvec[9]     # v_P0 - v_P1 for each edge
        cdef double d[3]
        cdef double fd[3]
        cdef double fdd[9]
        cdef double gv[3]       # grad(d_p) . v
        cdef double tq[3]       # fdd @ gv
        cdef Py_ssize_t atom[3]
        memset(out, 0, 3 * n * sizeof(double))
        for i in range(n):
            for j in range(i + 1, n):
                for t in range(3):
                    dx[t] = x[3 * i + t] - x[3 * j + t]
                    dv[t] = v[3 * i + t] - v[3 * j + t]
                r2 = dx[0] * dx[0] + dx[1] * dx[1] + dx[2] * dx[2]
                ir2 = 1.0 / r2
                ir6 = ir2 * ir2 * ir2
                e_s = 4.0 * (-6.0 * ir6 + 3.0) * ir6 * ir2
                e_ss = 4.0 * (42.0 * ir6 - 12.0) * ir6 * ir2 * ir2
                proj = 4.0 * e_ss * (dx[0] * dv[0] + dx[1] * dv[1] + dx[2] * dv[2])
                for t in range(3):
                    val = proj * dx[t] + 2.0 * e_s * dv[t]
                    out[3 * i + t] += val
                    out[3 * j + t] -= val
        if self.gamma == 0.0:
            return
        for i in range(n):
            atom[0] = i
            for j in range(i + 1, n):
                atom[1] = j
                for k in range(j + 1, n):
                    atom[2] = k
                    _triplet_grads(x, i, j, k, vec, d)
                    _at_terms(d[0], d[1], d[2], self.gamma, fd, fdd)
                    for p in range(3):
                        gv[p] = 0.0
                        for t in range(3):
                            dvec[3 * p + t] = v[3 * atom[EDGE_P0[p]] + t] - v[3 * atom[EDGE_P1[p]] + t]
                            gv[p] += 2.0 * vec[3 * p + t] * dvec[3 * p + t]
                    for p in range(3):
                        tq[p] = fdd[3 * p] * gv[0] + fdd[3 * p + 1] * gv[1] + fdd[3 * p + 2] * gv[2]
                    for p in range(3):
                        for t in range(3):
                            val = 2.0 * (tq[p] * vec[3 * p + t] + fd[p] * dvec[3 * p + t])
                            out[3 * atom[EDGE_P0[p]] + t] += val
                            out[3 * atom[EDGE_P1[p]] + t] -= val
