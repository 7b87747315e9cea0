# cython: language_level=3
"""Small compiled landscapes used to test the optimisers.

These are not study landscapes.  They exist so that the compiled L-BFGS
(:mod:`kernels.lbfgs`) can be tested on problems with known answers, independently of
the production kernels:

- :class:`RosenbrockKernel`: the n-dimensional Rosenbrock function, a flat landscape
  with a long curved valley and the global minimum at ``x = (1, ..., 1)``, energy 0.
- :class:`SphereQuadraticKernel`: a diagonal quadratic form restricted to the sphere
  ``|x|^2 = n``; it overrides the manifold hooks (``c_project_tangent``, ``c_retract``)
  exactly as the p-spin kernel does and returns the Riemannian gradient.  Its minima are
  the eigenvectors of the smallest diagonal entry, with energy ``n * min(diag)``.

The NumPy reference implementations used as test oracles live in ``tests/test_lbfgs.py``.
"""
import numpy as np
cimport numpy as cnp
from libc.math cimport sqrt

from kernels.base cimport CompiledLandscape

cnp.import_array()


cdef class RosenbrockKernel(CompiledLandscape):
    """Rosenbrock function of ``n >= 2`` variables (flat landscape).

    ``E(x) = sum_{i=0}^{n-2} [ 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2 ]``

    Parameters
    ----------
    n : int
        Number of variables (``ndim``), at least 2.

    Notes
    -----
    The global minimum is ``x = (1, ..., 1)`` with ``E = 0``; for ``n >= 4`` there is
    also a local minimum near ``x_0 = -1``.  Gradient and Hessian are analytic.
    """

    def __init__(self, Py_ssize_t n):
        if n < 2:
            raise ValueError(f"RosenbrockKernel needs n >= 2, got {n}")
        self.ndim = n

    def __reduce__(self):
        return (RosenbrockKernel, (self.ndim,))

    cdef double c_energy(self, const double* x) noexcept nogil:
        cdef Py_ssize_t i
        cdef double e = 0.0, a, b
        for i in range(self.ndim - 1):
            a = x[i + 1] - x[i] * x[i]
            b = 1.0 - x[i]
            e += 100.0 * a * a + b * b
        return e

    cdef double c_energy_gradient(self, const double* x, double* grad) noexcept nogil:
        cdef Py_ssize_t i, n = self.ndim
        cdef double e = 0.0, a, b
        for i in range(n):
            grad[i] = 0.0
        for i in range(n - 1):
            a = x[i + 1] - x[i] * x[i]
            b = 1.0 - x[i]
            e += 100.0 * a * a + b * b
            grad[i] += -400.0 * x[i] * a - 2.0 * b
            grad[i + 1] += 200.0 * a
        return e

    cdef void c_hessian(self, const double* x, double* hess) noexcept nogil:
        cdef Py_ssize_t i, n = self.ndim
        for i in range(n * n):
            hess[i] = 0.0
        for i in range(n - 1):
            # d2/dx_i^2 of 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2
            hess[i * n + i] += 1200.0 * x[i] * x[i] - 400.0 * x[i + 1] + 2.0
            hess[(i + 1) * n + i + 1] += 200.0
            hess[i * n + i + 1] += -400.0 * x[i]
            hess[(i + 1) * n + i] += -400.0 * x[i]

    cdef void c_hessian_vector(self, const double* x, const double* v, double* out) noexcept nogil:
        cdef Py_ssize_t i, n = self.ndim
        cdef double hii, hij
        for i in range(n):
            out[i] = 0.0
        for i in range(n - 1):
            hii = 1200.0 * x[i] * x[i] - 400.0 * x[i + 1] + 2.0
            hij = -400.0 * x[i]
            out[i] += hii * v[i] + hij * v[i + 1]
            out[i + 1] += hij * v[i] + 200.0 * v[i + 1]


cdef class SphereQuadraticKernel(CompiledLandscape):
    """Quadratic form ``E(x) = sum_i d_i x_i^2`` on the sphere ``|x|^2 = n``.

    Parameters
    ----------
    diag : array_like, shape (n,)
        The diagonal ``d`` of the quadratic form (eigenvalues).

    Notes
    -----
    With Euclidean gradient ``G = 2 D x`` and the tangent projector
    ``P = I - x x^T / |x|^2``, the kernel returns the Riemannian gradient ``g = P G``
    and the Riemannian Hessian ``P (2 D - (x.G / |x|^2) I) P`` (one zero eigenvalue, the
    radial direction).  ``c_retract`` rescales ``x`` to ``|x|^2 = n``.  The minima on the
    sphere are ``x = +-sqrt(n) e_k`` for ``k`` the index of the smallest ``d_k``, with
    energy ``n * min(d)``.  These are the same conventions as the p-spin kernel.
    """

    cdef double[::1] diag
    cdef readonly double radius2

    def __init__(self, diag):
        d = np.ascontiguousarray(diag, dtype=np.float64).reshape(-1)
        if d.shape[0] < 2:
            raise ValueError("SphereQuadraticKernel needs at least 2 diagonal entries")
        self.diag = d.copy()
        self.ndim = d.shape[0]
        self.radius2 = <double> d.shape[0]

    def __reduce__(self):
        return (SphereQuadraticKernel, (np.asarray(self.diag).copy(),))

    @property
    def diagonal(self):
        """The diagonal ``d`` of the quadratic form (a copy), shape ``(n,)``."""
        return np.asarray(self.diag).copy()

    cdef double c_energy(self, const double* x) noexcept nogil:
        cdef Py_ssize_t i
        cdef double e = 0.0
        for i in range(self.ndim):
            e += self.diag[i] * x[i] * x[i]
        return e

    cdef double c_energy_gradient(self, const double* x, double* grad) noexcept nogil:
        cdef Py_ssize_t i, n = self.ndim
        cdef double e = 0.0
        for i in range(n):
            e += self.diag[i] * x[i] * x[i]
            grad[i] = 2.0 * self.diag[i] * x[i]
        self.c_project_tangent(x, grad)
        return e

    cdef void c_hessian(self, const double* x, double* hess) noexcept nogil:
        cdef Py_ssize_t i, j, n = self.ndim
        cdef double xx = 0.0, xg = 0.0, mu, pij, acc
        cdef Py_ssize_t k
        for i in range(n):
            xx += x[i] * x[i]
            xg += 2.0 * self.diag[i] * x[i] * x[i]
        mu = xg / xx
        # H = P A P with A = 2 D - mu I diagonal: H_ij = sum_k P_ik A_k P_kj
        for i in range(n):
            for j in range(i, n):
                acc = 0.0
                for k in range(n):
                    pij = ((1.0 if i == k else 0.0) - x[i] * x[k] / xx) \
                        * ((1.0 if k == j else 0.0) - x[k] * x[j] / xx)
                    acc += pij * (2.0 * self.diag[k] - mu)
                hess[i * n + j] = acc
                hess[j * n + i] = acc

    cdef void c_hessian_vector(self, const double* x, const double* v, double* out) noexcept nogil:
        cdef Py_ssize_t i, n = self.ndim
        cdef double xx = 0.0, xg = 0.0, mu, xv = 0.0
        for i in range(n):
            xx += x[i] * x[i]
            xg += 2.0 * self.diag[i] * x[i] * x[i]
            xv += x[i] * v[i]
        mu = xg / xx
        for i in range(n):
            out[i] = (2.0 * self.diag[i] - mu) * (v[i] - xv / xx * x[i])
        self.c_project_tangent(x, out)

    cdef void c_project_tangent(self, const double* x, double* v) noexcept nogil:
        cdef Py_ssize_t i, n = self.ndim
        cdef double xx = 0.0, xv = 0.0, c
        for i in range(n):
            xx += x[i] * x[i]
            xv += x[i] * v[i]
        if xx == 0.0:
            return
        c = xv / xx
        for i in range(n):
            v[i] -= c * x[i]

    cdef void c_retract(self, double* x) noexcept nogil:
        cdef Py_ssize_t i, n = self.ndim
        cdef double xx = 0.0, f
        for i in range(n):
            xx += x[i] * x[i]
        if xx == 0.0:
            return
        f = sqrt(self.radius2 / xx)
        for i in range(n):
            x[i] *= f
