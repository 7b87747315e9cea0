# cython: language_level=3
"""C-level interface shared by every compiled landscape.

A compiled landscape is a ``cdef class`` deriving from :class:`CompiledLandscape` that
overrides the ``c_*`` methods.  All of them are ``noexcept nogil`` and work on raw
pointers to contiguous float64 buffers of length ``ndim`` (``ndim * ndim`` for the
Hessian), so optimisers written in Cython (``kernels.lbfgs``) can run a whole quench
without entering Python.  Instances keep no mutable scratch space between calls, so
one instance may be used from several threads at once.
"""

cdef class CompiledLandscape:
    cdef readonly Py_ssize_t ndim

    cdef double c_energy(self, const double* x) noexcept nogil
    cdef double c_energy_gradient(self, const double* x, double* grad) noexcept nogil
    cdef void c_hessian(self, const double* x, double* hess) noexcept nogil
    cdef void c_hessian_vector(self, const double* x, const double* v, double* out) noexcept nogil
    # Manifold hooks (the identity for flat landscapes; the sphere for pspin).
    cdef void c_project_tangent(self, const double* x, double* v) noexcept nogil
    cdef void c_retract(self, double* x) noexcept nogil
