# cython: language_level=3
"""Compiled ``regression`` landscape (SPEC 2.3): non-linear least squares.

Model and cost, for data ``(x_i, t_i)``, ``i = 1..M``, and parameters ``q = (q1..q5)``::

    y(x; q) = exp(-q1 x) sin(q2 x + q3) sin(q4 x + q5)
    E(q)    = sum_i [ t_i - y(x_i; q) ]^2

Write ``D = exp(-q1 x)``, ``a = q2 x + q3``, ``b = q4 x + q5``, ``y = D f(a) g(b)`` with
``f = g = sin``.  Every parameter acts on ``y`` as a factor times a derivative:

    param   factor c   acts on
    q1      -x         (nothing: d/dq1 multiplies by -x)
    q2       x         d/da
    q3       1         d/da
    q4       x         d/db
    q5       1         d/db

so ``dy/dq_k = c_k D f^(n_a) g^(n_b)`` and ``d2y/dq_k dq_l = c_k c_l D f^(n_a) g^(n_b)``,
where ``n_a`` (``n_b``) counts how many of the differentiated parameters act on ``a``
(``b``), and ``sin^(0) = sin``, ``sin^(1) = cos``, ``sin^(2) = -sin``.  With residuals
``r_i = t_i - y_i``::

    grad_k   = -2 sum_i r_i dy_k
    hess_kl  =  2 sum_i [ dy_k dy_l - r_i d2y_kl ]

The Hessian-vector product accumulates ``dy (dy . v)`` and ``d2y v`` point by point
without forming the 5 x 5 Hessian.  The NumPy oracle is ``kernels/reference/regression.py``.
"""
import numpy as np

from libc.math cimport exp, sin, cos
from libc.string cimport memset

from kernels.base cimport CompiledLandscape

cdef enum:
    NPAR = 5


cdef inline int _on_a(int k) noexcept nogil:
    """1 if parameter ``k`` (0-based) acts on the phase ``a = q2 x + q3``, else 0."""
    return 1 if (k == 1 or k == 2) else 0


cdef inline int _on_b(int k) noexcept nogil:
    """1 if parameter ``k`` (0-based) acts on the phase ``b = q4 x + q5``, else 0."""
    return 1 if (k == 3 or k == 4) else 0


cdef inline void _point_terms(const double* q, double xi, double* y, double* dy,
                              double* d2y) noexcept nogil:
    """Model value, first (5) and, unless ``d2y`` is NULL, second (5 x 5) derivatives at x."""
    cdef double D = exp(-q[0] * xi)
    cdef double a = q[1] * xi + q[2]
    cdef double b = q[3] * xi + q[4]
    cdef double fa[3]
    cdef double gb[3]
    cdef double c[5]
    cdef int k, l, na, nb
    fa[0] = sin(a); fa[1] = cos(a); fa[2] = -fa[0]
    gb[0] = sin(b); gb[1] = cos(b); gb[2] = -gb[0]
    c[0] = -xi; c[1] = xi; c[2] = 1.0; c[3] = xi; c[4] = 1.0
    y[0] = D * fa[0] * gb[0]
    for k in range(NPAR):
        dy[k] = c[k] * D * fa[_on_a(k)] * gb[_on_b(k)]
    if d2y != NULL:
        for k in range(NPAR):
            for l in range(k, NPAR):
                na = _on_a(k) + _on_a(l)
                nb = _on_b(k) + _on_b(l)
                d2y[k * NPAR + l] = c[k] * c[l] * D * fa[na] * gb[nb]
                d2y[l * NPAR + k] = d2y[k * NPAR + l]


cdef class RegressionKernel(CompiledLandscape):
    """Least-squares cost of the damped two-sine model on fixed data.

    Parameters
    ----------
    x : array_like, shape (M,)
        Abscissae of the data points.
    t : array_like, shape (M,)
        Targets at those abscissae.

    Attributes
    ----------
    ndim : int
        Always 5 (``q1..q5``).
    npoints : int
        Number of data points ``M``.
    """

    cdef readonly Py_ssize_t npoints
    cdef object _x_arr
    cdef object _t_arr
    cdef const double* _x
    cdef const double* _t

    def __init__(self, x, t):
        x_arr = np.ascontiguousarray(x, dtype=np.float64).reshape(-1).copy()
        t_arr = np.ascontiguousarray(t, dtype=np.float64).reshape(-1).copy()
        if x_arr.shape[0] != t_arr.shape[0]:
            raise ValueError(f"x has {x_arr.shape[0]} points but t has {t_arr.shape[0]}")
        if x_arr.shape[0] == 0:
            raise ValueError("the regression landscape needs at least one data point")
        if not (np.all(np.isfinite(x_arr)) and np.all(np.isfinite(t_arr))):
            raise ValueError("x and t must be finite")
        x_arr.setflags(write=False)
        t_arr.setflags(write=False)
        self._x_arr = x_arr
        self._t_arr = t_arr
        cdef const double[::1] xv = x_arr
        cdef const double[::1] tv = t_arr
        self._x = &xv[0]
        self._t = &tv[0]
        self.npoints = x_arr.shape[0]
        self.ndim = NPAR

    @property
    def x(self):
        """The abscissae (read-only array of shape ``(npoints,)``)."""
        return self._x_arr

    @property
    def t(self):
        """The targets (read-only array of shape ``(npoints,)``)."""
        return self._t_arr

    def __reduce__(self):
        return (RegressionKernel, (self._x_arr, self._t_arr))

    def model(self, const double[::1] coords, x=None):
        """Model values ``y(x; coords)``; ``x`` defaults to the data abscissae."""
        self._check(coords.shape[0], "coords")
        xs = self._x_arr if x is None else np.asarray(x, dtype=np.float64)
        q = np.asarray(coords)
        return np.exp(-q[0] * xs) * np.sin(q[1] * xs + q[2]) * np.sin(q[3] * xs + q[4])

    cdef double c_energy(self, const double* q) noexcept nogil:
        cdef Py_ssize_t i
        cdef double e = 0.0, r, xi
        for i in range(self.npoints):
            xi = self._x[i]
            r = self._t[i] - exp(-q[0] * xi) * sin(q[1] * xi + q[2]) * sin(q[3] * xi + q[4])
            e += r * r
        return e

    cdef double c_energy_gradient(self, const double* q, double* grad) noexcept nogil:
        cdef Py_ssize_t i
        cdef int k
        cdef double e = 0.0, r, y
        cdef double dy[5]
        for k in range(NPAR):
            grad[k] = 0.0
        for i in range(self.npoints):
            _point_terms(q, self._x[i], &y, dy, NULL)
            r = self._t[i] - y
            e += r * r
            for k in range(NPAR):
                grad[k] -= 2.0 * r * dy[k]
        return e

    cdef void c_hessian(self, const double* q, double* hess) noexcept nogil:
        cdef Py_ssize_t i
        cdef int k, l
        cdef double r, y
        cdef double dy[5]
        cdef double d2y[25]
        memset(hess, 0, NPAR * NPAR * sizeof(double))
        for i in range(self.npoints):
            _point_terms(q, self._x[i], &y, dy, d2y)
            r = self._t[i] - y
            for k in range(NPAR):
                for l in range(NPAR):
                    hess[k * NPAR + l] += 2.0 * (dy[k] * dy[l] - r * d2y[k * NPAR + l])

    cdef void c_hessian_vector(self, const double* q, const double* v, double* out) noexcept nogil:
        cdef Py_ssize_t i
        cdef int k, l
        cdef double r, y, dyv, d2yv
        cdef double dy[5]
        cdef double d2y[25]
        for k in range(NPAR):
            out[k] = 0.0
        for i in range(self.npoints):
            _point_terms(q, self._x[i], &y, dy, d2y)
            r = self._t[i] - y
            dyv = 0.0
            for k in range(NPAR):
                dyv += dy[k] * v[k]
            for k in range(NPAR):
                d2yv = 0.0
                for l in range(NPAR):
                    d2yv += d2y[k * NPAR + l] * v[l]
                out[k] += 2.0 * (dy[k] * dyv - r * d2yv)
