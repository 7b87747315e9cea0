# cython: language_level=3
"""Small vector loops shared by the compiled kernels (inline, no Python)."""


cdef inline double seq_dot(const double* a, const double* b, Py_ssize_t n) noexcept nogil:
    """``sum_i a[i] b[i]`` summed left to right (compiled without contraction into fused
    multiply-adds, so the rounding is that of the plain loop on every machine)."""
    cdef Py_ssize_t i
    cdef double s = 0.0
    for i in range(n):
        s += a[i] * b[i]
    return s
