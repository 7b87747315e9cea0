# cython: language_level=3
"""Compiled ``pspin`` landscape (SPEC 2.4): the spherical p-spin glass.

    H(w) = N^{-(p-1)/2} sum_{i1..ip} x_{i1..ip} w_i1 ... w_ip,     sum_i w_i^2 = N

Geometry
--------
``H`` is a homogeneous polynomial of degree ``p``.  With the symmetrised couplings
``J = sym(x)`` (mean over the ``p!`` index permutations, which leaves ``H`` unchanged) and
``c = N^{-(p-1)/2}``, the Euclidean derivatives are::

    g    = p c J[w, .., w, .]            (p - 1 copies of w)
    Hess = p (p - 1) c J[w, .., w, ., .]  (p - 2 copies of w)

Optimisation is on the sphere ``|w|^2 = N``.  With the tangent projector
``P = I - w w^T / |w|^2`` (``= I - w w^T / N`` on the sphere) the kernel returns the
Riemannian gradient and Hessian::

    grad_R = P g
    hess_R = P (Hess - (w . g / |w|^2) I) P

The second term is the curvature (Weingarten) term of the sphere: along the great circle
``gamma(s) = w cos(s/R) + R u sin(s/R)``, ``R = |w|``, ``|u| = 1``, ``u . w = 0``,
``d2 H / ds2 = u^T Hess u + g . gamma''(0) = u^T Hess u - (w . g) / R^2``.
By Euler's theorem ``w . g = p H`` and ``Hess w = (p - 1) g``.  The radial direction ``w``
is an exact zero mode of ``hess_R`` (``P w = 0``).  The Hessian-vector product contracts
the tensor with ``w`` and the projected vector in one pass and never forms the Hessian.

Storage
-------
``p = 3`` (the case that matters): the symmetrised tensor is stored packed by index pairs,
``rows[pair(j, k), i] = m_jk J[j, k, i]`` for ``j <= k`` (``m_jk = 2`` off the diagonal, 1 on
it), ``N^2 (N + 1) / 2`` doubles (4 MB at ``N = 100``).  Then
``J[w, w, i] = sum_{j<=k} w_j w_k rows[jk, i]`` is a sequence of contiguous ``axpy`` updates
that the compiler vectorises, reading the packed tensor once per gradient.
Other ``p`` (2, 4, ...): the full symmetrised tensor, ``N^p`` doubles, contracted one index
at a time.  The NumPy oracle is ``kernels/reference/pspin.py``.
"""
import itertools

import numpy as np

from libc.math cimport sqrt, NAN
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy

from kernels.base cimport CompiledLandscape
from kernels.vector cimport seq_dot

#: Largest number of stored tensor entries accepted for the dense (p != 3) layout.
MAX_DENSE_ENTRIES = 64_000_000


def symmetrise(couplings):
    """Mean of ``couplings`` over all permutations of its ``p`` indices.

    Parameters
    ----------
    couplings : ndarray, shape (N,) * p

    Returns
    -------
    ndarray, shape (N,) * p
        The symmetric tensor ``J`` with ``J[w, .., w] == couplings[w, .., w]`` for every w.
    """
    x = np.asarray(couplings, dtype=np.float64)
    out = np.zeros_like(x)
    perms = list(itertools.permutations(range(x.ndim)))
    for perm in perms:
        out += np.transpose(x, perm)
    out /= len(perms)
    return out




cdef inline void _remove_radial(const double* w, double ww, double* v, Py_ssize_t n) noexcept nogil:
    """``v <- v - (w . v / ww) w`` (nothing if ``ww == 0``)."""
    cdef Py_ssize_t i
    cdef double f
    if ww <= 0.0:
        return
    f = seq_dot(w, v, n) / ww
    for i in range(n):
        v[i] -= f * w[i]


# The two inner kernels of the packed p = 3 contraction, in C so that GCC can build an
# AVX2 clone next to the baseline (SSE2) one and pick it at load time on CPUs that have it
# (function multi-versioning; results are identical in both: no FMA, same operation order).
cdef extern from *:
    """
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__)
    #define PSPIN_CLONES __attribute__((target_clones("avx2", "default")))
    #else
    #define PSPIN_CLONES
    #endif

    /* y += c r  (length n) */
    PSPIN_CLONES
    static void pspin_axpy1(double *restrict y, const double *restrict r, Py_ssize_t n, double c)
    {
        for (Py_ssize_t i = 0; i < n; ++i) y[i] += c * r[i];
    }

    /* y += sum_m c[m] r[m n : (m + 1) n] over four consecutive rows of length n */
    PSPIN_CLONES
    static void pspin_axpy4(double *restrict y, const double *restrict r, Py_ssize_t n,
                            const double *c)
    {
        const double c0 = c[0], c1 = c[1], c2 = c[2], c3 = c[3];
        const double *restrict r1 = r + n, *restrict r2 = r + 2 * n, *restrict r3 = r + 3 * n;
        for (Py_ssize_t i = 0; i < n; ++i)
            y[i] += (c0 * r[i] + c1 * r1[i]) + (c2 * r2[i] + c3 * r3[i]);
    }
    """
    void _axpy1 "pspin_axpy1"(double* y, const double* r, Py_ssize_t n, double c) noexcept nogil
    void _axpy4 "pspin_axpy4"(double* y, const double* r, Py_ssize_t n, const double* c) noexcept nogil


cdef void _contract_last(const double* src, Py_ssize_t nouter, Py_ssize_t n,
                         const double* v, double* dst) noexcept nogil:
    """``dst[a] = sum_i src[a n + i] v[i]`` for ``a < nouter``."""
    cdef Py_ssize_t a
    for a in range(nouter):
        dst[a] = seq_dot(src + a * n, v, n)


cdef class PSpinKernel(CompiledLandscape):
    """Spherical p-spin energy with Riemannian gradient and Hessian.

    Parameters
    ----------
    couplings : array_like, shape (N,) * p
        The coupling tensor ``x`` (need not be symmetric; it is symmetrised once here).
        ``p = ndim of the array >= 2``.

    Attributes
    ----------
    ndim : int
        ``N``, the number of spins.
    p : int
        Order of the interaction.
    scale : float
        ``N^{-(p-1)/2}``.
    packed : bool
        True for the packed ``p = 3`` layout.
    """

    cdef readonly int p
    cdef readonly double scale
    cdef readonly bint packed
    cdef object _store
    cdef const double* _t
    cdef Py_ssize_t _npow[16]

    def __init__(self, couplings):
        x = np.asarray(couplings, dtype=np.float64)
        p = x.ndim
        if p < 2:
            raise ValueError(f"the p-spin couplings need p >= 2 indices, got {p}")
        if p > 15:
            raise ValueError(f"p = {p} is too large")
        n = x.shape[0]
        if n < 2 or any(s != n for s in x.shape):
            raise ValueError(f"couplings must have shape (N,) * p with N >= 2, got {x.shape}")
        if not np.all(np.isfinite(x)):
            raise ValueError("couplings must be finite")
        sym = symmetrise(x)
        if p == 3:
            jj, kk = np.triu_indices(n)
            mult = np.where(jj == kk, 1.0, 2.0)
            store = np.ascontiguousarray(sym[jj, kk, :] * mult[:, None])
            self.packed = True
        else:
            if n ** p > MAX_DENSE_ENTRIES:
                raise ValueError(f"N^p = {n}^{p} couplings exceed the dense limit "
                                 f"{MAX_DENSE_ENTRIES}; use a smaller N")
            store = np.ascontiguousarray(sym)
            self.packed = False
        store.setflags(write=False)
        self._store = store
        cdef const double[::1] flat = store.reshape(-1)
        self._t = &flat[0]
        self.ndim = n
        self.p = p
        self.scale = float(n) ** (-(p - 1) / 2.0)
        self._npow[0] = 1
        for k in range(1, p + 1):
            self._npow[k] = self._npow[k - 1] * n

    @property
    def n(self):
        """Number of spins ``N``."""
        return self.ndim

    # ------------------------------------------------------------------ contractions
    cdef void _packed_pass(self, const double* w, const double* v, double* graw,
                           double* hraw) noexcept nogil:
        """p = 3: ``graw = J[w, w, .]`` and, if ``v`` is not NULL, ``hraw = J[w, v, .]``.

        Both outputs must be zeroed by the caller.  Rows are consumed four at a time
        (``_axpy4``) so that each output element is loaded and stored once per four rows.
        """
        cdef Py_ssize_t n = self.ndim, j, k, m
        cdef const double* row = self._t
        cdef double wj, vj
        cdef double cg[4]
        cdef double ch[4]
        for j in range(n):
            wj = w[j]
            vj = v[j] if v != NULL else 0.0
            k = j
            while k < n:
                if k + 4 <= n:
                    for m in range(4):
                        cg[m] = wj * w[k + m]
                        if v != NULL:
                            ch[m] = 0.5 * (wj * v[k + m] + w[k + m] * vj)
                    _axpy4(graw, row, n, cg)
                    if v != NULL:
                        _axpy4(hraw, row, n, ch)
                    row += 4 * n
                    k += 4
                else:
                    cg[0] = wj * w[k]
                    _axpy1(graw, row, n, cg[0])
                    if v != NULL:
                        _axpy1(hraw, row, n, 0.5 * (wj * v[k] + w[k] * vj))
                    row += n
                    k += 1

    cdef int _dense_contract(self, const double* first, const double* w, int nleft,
                             double* out) noexcept nogil:
        """Dense layout: contract the last index with ``first``, then with ``w``, until
        ``nleft`` indices remain; ``out`` has ``N^nleft`` entries.  Returns -1 on
        allocation failure (``out`` is then filled with NaN)."""
        cdef int level = self.p
        cdef Py_ssize_t n = self.ndim, a
        cdef const double* cur = self._t
        cdef const double* vec = first
        cdef double* buf1 = NULL
        cdef double* buf2 = NULL
        cdef double* dst
        if nleft >= level:
            memcpy(out, self._t, self._npow[level] * sizeof(double))
            return 0
        if level - 1 > nleft:
            buf1 = <double*> malloc(self._npow[level - 1] * sizeof(double))
            if level - 2 > nleft:
                buf2 = <double*> malloc(self._npow[level - 2] * sizeof(double))
            if buf1 == NULL or (level - 2 > nleft and buf2 == NULL):
                free(buf1); free(buf2)
                for a in range(self._npow[nleft]):
                    out[a] = NAN
                return -1
        while level > nleft:
            if level - 1 == nleft:
                dst = out
            elif cur == buf1:
                dst = buf2
            else:
                dst = buf1
            _contract_last(cur, self._npow[level - 1], n, vec, dst)
            cur = dst
            vec = w
            level -= 1
        free(buf1); free(buf2)
        return 0

    cdef void _raw_gradient(self, const double* w, double* graw) noexcept nogil:
        """``graw = J[w, .., w, .]`` (length N)."""
        cdef Py_ssize_t i
        if self.packed:
            for i in range(self.ndim):
                graw[i] = 0.0
            self._packed_pass(w, NULL, graw, NULL)
        else:
            self._dense_contract(w, w, 1, graw)

    # ------------------------------------------------------------------ landscape
    cdef double c_energy(self, const double* w) noexcept nogil:
        cdef double* graw = <double*> malloc(self.ndim * sizeof(double))
        cdef double e
        if graw == NULL:
            return NAN
        self._raw_gradient(w, graw)
        e = self.scale * seq_dot(w, graw, self.ndim)
        free(graw)
        return e

    cdef double c_energy_gradient(self, const double* w, double* grad) noexcept nogil:
        cdef Py_ssize_t n = self.ndim, i
        cdef double e, f = self.p * self.scale
        self._raw_gradient(w, grad)
        e = self.scale * seq_dot(w, grad, n)
        for i in range(n):
            grad[i] *= f
        _remove_radial(w, seq_dot(w, w, n), grad, n)
        return e

    cdef void c_hessian(self, const double* w, double* hess) noexcept nogil:
        cdef Py_ssize_t n = self.ndim, i, j, k, pair
        cdef double f = self.p * (self.p - 1) * self.scale
        cdef double ww, s, wg, mult
        cdef double* a = <double*> malloc(n * sizeof(double))
        if a == NULL:
            for i in range(n * n):
                hess[i] = NAN
            return
        # Euclidean Hessian
        if self.packed:
            pair = 0
            for j in range(n):
                for k in range(j, n):
                    mult = 1.0 if j == k else 0.5
                    hess[j * n + k] = f * mult * seq_dot(self._t + pair * n, w, n)
                    hess[k * n + j] = hess[j * n + k]
                    pair += 1
        else:
            self._dense_contract(w, w, 2, hess)
            for i in range(n * n):
                hess[i] *= f
        # Riemannian: P Hess P - (w.g / ww) P, with Hess w = (p-1) g  =>  w.g = w.Hess.w / (p-1)
        ww = seq_dot(w, w, n)
        if ww > 0.0:
            for i in range(n):
                a[i] = seq_dot(hess + i * n, w, n)
            s = seq_dot(a, w, n)
            wg = s / (self.p - 1)
            for i in range(n):
                for j in range(i, n):
                    hess[i * n + j] += (-(a[i] * w[j] + w[i] * a[j]) / ww
                                        + s * w[i] * w[j] / (ww * ww)
                                        - (wg / ww) * ((1.0 if i == j else 0.0) - w[i] * w[j] / ww))
                    hess[j * n + i] = hess[i * n + j]
        free(a)

    cdef void c_hessian_vector(self, const double* w, const double* v, double* out) noexcept nogil:
        cdef Py_ssize_t n = self.ndim, i
        cdef double ww = seq_dot(w, w, n), wg
        cdef double* vt = <double*> malloc(n * sizeof(double))
        cdef double* graw = <double*> malloc(n * sizeof(double))
        if vt == NULL or graw == NULL:
            free(vt); free(graw)
            for i in range(n):
                out[i] = NAN
            return
        for i in range(n):
            vt[i] = v[i]
            graw[i] = 0.0
        _remove_radial(w, ww, vt, n)
        if self.packed:
            for i in range(n):
                out[i] = 0.0
            self._packed_pass(w, vt, graw, out)
        else:
            self._dense_contract(w, w, 1, graw)
            self._dense_contract(vt, w, 1, out)
        wg = self.p * self.scale * seq_dot(w, graw, n)
        for i in range(n):
            out[i] *= self.p * (self.p - 1) * self.scale
        _remove_radial(w, ww, out, n)
        if ww > 0.0:
            for i in range(n):
                out[i] -= (wg / ww) * vt[i]
        free(vt); free(graw)

    cdef void c_project_tangent(self, const double* w, double* v) noexcept nogil:
        _remove_radial(w, seq_dot(w, w, self.ndim), v, self.ndim)

    cdef void c_retract(self, double* w) noexcept nogil:
        cdef Py_ssize_t n = self.ndim, i
        cdef double ww = seq_dot(w, w, n), f
        if ww <= 0.0:
            return
        f = sqrt(n / ww)
        for i in range(n):
            w[i] *= f
