# cython: language_level=3
"""Base class of the compiled landscapes and its Python-facing methods.

Subclasses override the ``c_*`` methods declared in ``base.pxd``.  The defaults here
are generic fallbacks: the energy from ``c_energy_gradient``, the Hessian by central
differences of the gradient, the Hessian-vector product by a directional difference,
and identity manifold hooks.  Every compiled landscape of this project overrides the
derivative methods with analytic ones; the fallbacks exist so that a new kernel can be
developed one method at a time.
"""
import numpy as np
cimport numpy as cnp
from libc.stdlib cimport malloc, free
from libc.math cimport fabs, sqrt

cnp.import_array()

KERNELS_PACKAGE_MARKER = "mllandscape"


cdef class CompiledLandscape:
    """Base of every compiled landscape (see ``kernels/base.pxd``)."""

    def __cinit__(self, *args, **kwargs):
        self.ndim = 0

    cdef double c_energy(self, const double* x) noexcept nogil:
        cdef double* g = <double*> malloc(self.ndim * sizeof(double))
        cdef double e = self.c_energy_gradient(x, g)
        free(g)
        return e

    cdef double c_energy_gradient(self, const double* x, double* grad) noexcept nogil:
        return 0.0

    cdef void c_hessian(self, const double* x, double* hess) noexcept nogil:
        cdef Py_ssize_t n = self.ndim, i, j
        cdef double h = 1e-5
        cdef double* xp = <double*> malloc(n * sizeof(double))
        cdef double* gp = <double*> malloc(n * sizeof(double))
        cdef double* gm = <double*> malloc(n * sizeof(double))
        for i in range(n):
            xp[i] = x[i]
        for i in range(n):
            xp[i] = x[i] + h
            self.c_energy_gradient(xp, gp)
            xp[i] = x[i] - h
            self.c_energy_gradient(xp, gm)
            xp[i] = x[i]
            for j in range(n):
                hess[i * n + j] = (gp[j] - gm[j]) / (2.0 * h)
        for i in range(n):
            for j in range(i + 1, n):
                hess[i * n + j] = 0.5 * (hess[i * n + j] + hess[j * n + i])
                hess[j * n + i] = hess[i * n + j]
        free(xp); free(gp); free(gm)

    cdef void c_hessian_vector(self, const double* x, const double* v, double* out) noexcept nogil:
        cdef Py_ssize_t n = self.ndim, i
        cdef double vnorm = 0.0, h
        cdef double* xp = <double*> malloc(n * sizeof(double))
        cdef double* gp = <double*> malloc(n * sizeof(double))
        cdef double* gm = <double*> malloc(n * sizeof(double))
        for i in range(n):
            vnorm += v[i] * v[i]
        vnorm = sqrt(vnorm)
        if vnorm == 0.0:
            for i in range(n):
                out[i] = 0.0
        else:
            h = 1e-5 / vnorm
            for i in range(n):
                xp[i] = x[i] + h * v[i]
            self.c_energy_gradient(xp, gp)
            for i in range(n):
                xp[i] = x[i] - h * v[i]
            self.c_energy_gradient(xp, gm)
            for i in range(n):
                out[i] = (gp[i] - gm[i]) / (2.0 * h)
        free(xp); free(gp); free(gm)

    cdef void c_project_tangent(self, const double* x, double* v) noexcept nogil:
        pass

    cdef void c_retract(self, double* x) noexcept nogil:
        pass

    # ------------------------------------------------------------------ Python API
    def _check(self, Py_ssize_t n, str what):
        if n != self.ndim:
            raise ValueError(f"{what} has length {n}, the landscape has ndim = {self.ndim}")

    def energy(self, const double[::1] coords):
        """Energy at ``coords`` (shape ``(ndim,)``), a float."""
        self._check(coords.shape[0], "coords")
        cdef double e
        with nogil:
            e = self.c_energy(&coords[0])
        return e

    def energy_gradient(self, const double[::1] coords, double[::1] out=None):
        """Energy and gradient at ``coords``; the gradient is written to ``out`` if given.

        Returns ``(energy, grad)`` with ``grad`` of shape ``(ndim,)``.
        """
        self._check(coords.shape[0], "coords")
        if out is None:
            out = np.empty(self.ndim)
        self._check(out.shape[0], "out")
        cdef double e
        with nogil:
            e = self.c_energy_gradient(&coords[0], &out[0])
        return e, np.asarray(out)

    def energy_gradient_rows(self, const double[:, ::1] coords):
        """Energies and gradients of every row of ``coords`` (shape ``(m, ndim)``) in one
        call, without Python between the rows (the images of an elastic band).

        Returns ``(energies, grads)`` of shapes ``(m,)`` and ``(m, ndim)``.
        """
        self._check(coords.shape[1], "each row of coords")
        cdef Py_ssize_t m = coords.shape[0], r
        energies = np.empty(m)
        grads = np.empty((m, self.ndim))
        cdef double[::1] e = energies
        cdef double[:, ::1] g = grads
        if m:
            with nogil:
                for r in range(m):
                    e[r] = self.c_energy_gradient(&coords[r, 0], &g[r, 0])
        return energies, grads

    def hessian(self, const double[::1] coords, double[:, ::1] out=None):
        """Hessian at ``coords``, shape ``(ndim, ndim)``, written to ``out`` if given."""
        self._check(coords.shape[0], "coords")
        if out is None:
            out = np.empty((self.ndim, self.ndim))
        if out.shape[0] != self.ndim or out.shape[1] != self.ndim:
            raise ValueError("out must have shape (ndim, ndim)")
        with nogil:
            self.c_hessian(&coords[0], &out[0, 0])
        return np.asarray(out)

    def hessian_vector(self, const double[::1] coords, const double[::1] vec, double[::1] out=None):
        """Hessian-vector product ``H(coords) @ vec``, shape ``(ndim,)``."""
        self._check(coords.shape[0], "coords")
        self._check(vec.shape[0], "vec")
        if out is None:
            out = np.empty(self.ndim)
        self._check(out.shape[0], "out")
        with nogil:
            self.c_hessian_vector(&coords[0], &vec[0], &out[0])
        return np.asarray(out)

    def project_tangent(self, const double[::1] coords, double[::1] vec):
        """Project ``vec`` in place onto the tangent space at ``coords``; returns it."""
        self._check(coords.shape[0], "coords")
        self._check(vec.shape[0], "vec")
        with nogil:
            self.c_project_tangent(&coords[0], &vec[0])
        return np.asarray(vec)

    def retract(self, double[::1] coords):
        """Map ``coords`` back onto the manifold in place (no-op for flat landscapes)."""
        self._check(coords.shape[0], "coords")
        with nogil:
            self.c_retract(&coords[0])
        return np.asarray(coords)
