# cython: language_level=3
"""Compiled L-BFGS quench of a compiled landscape, without Python per iteration.

:func:`lbfgs_quench` runs a whole minimisation of a :class:`kernels.base.CompiledLandscape`
with the GIL released: every iteration calls the landscape's ``c_energy_gradient``,
``c_project_tangent`` and ``c_retract`` through C pointers.  All scratch memory is
allocated per call, so several threads may quench (even with the same landscape
instance) at the same time.

The algorithm is the one documented in :mod:`mlcore.optimize.lbfgs` (which also holds
the pure-Python twin used for Python landscapes); the two are kept step for step
identical so that they produce the same iterates.  In short, for each iteration at
``x`` with tangent gradient ``g``:

1. transport the memory to ``x``: project every stored pair ``(s_j, y_j)`` onto the
   tangent space at ``x`` and recompute ``rho_j = 1 / (s_j . y_j)``; if some
   ``s_j . y_j <= 0`` the memory is reset.  ``H0 = s.y / y.y`` of the newest pair.
   (On a flat landscape projection is the identity and nothing changes.)
2. ``d = -H g`` by the two-loop recursion (Nocedal & Wright, Algorithm 7.4) with
   ``H0 I`` as the initial inverse Hessian; ``d`` is projected onto the tangent space.
3. if ``d . g >= 0`` (not a descent direction): reset the memory, ``H0 = H0_init``,
   ``d = -H0 g``.
4. if ``|d| > max_step``, ``d`` is scaled to length ``max_step``.
5. trial ``x_t = retract(x + d)``; accepted if ``E(x_t) - E(x) <= max_rise``, otherwise
   ``d`` is halved and the trial repeated, at most ``MAX_HALVINGS`` times.  If every
   trial fails the memory is reset and the next iteration steps along ``-H0_init g``;
   if that fails too the quench stops (status 2).
6. on acceptance ``s = x_t - x``, ``y = g_t - g`` are projected onto the tangent space at
   ``x_t`` and stored if ``s . y > 0`` (curvature condition; otherwise skipped, keeping
   the inverse-Hessian approximation positive definite).
7. converged when the RMS gradient ``|g| / sqrt(n) <= tol``.
"""
import numpy as np
cimport numpy as cnp
from libc.stdlib cimport malloc, realloc, free
from libc.string cimport memcpy
from libc.math cimport sqrt, isfinite

from kernels.base cimport CompiledLandscape
from kernels.vector cimport seq_dot

cnp.import_array()

#: Maximum number of halvings of a step whose energy rise exceeds ``max_rise``.
MAX_HALVINGS = 10
cdef int _MAX_HALVINGS = 10

cdef enum:
    _CONVERGED = 0
    _MAX_ITER = 1
    _LINESEARCH_FAILED = 2
    _NONFINITE_START = 3
    _OUT_OF_MEMORY = 4

#: Status codes returned by :func:`lbfgs_quench` (index 5 of the tuple).
STATUS_CONVERGED = _CONVERGED
STATUS_MAX_ITER = _MAX_ITER
STATUS_LINESEARCH_FAILED = _LINESEARCH_FAILED
STATUS_NONFINITE_START = _NONFINITE_START
STATUS_OUT_OF_MEMORY = _OUT_OF_MEMORY

STATUS_MESSAGES = {
    0: "converged: RMS gradient below tol",
    1: "maximum number of iterations reached",
    2: "line search failed: the energy rose by more than max_rise even along steepest "
       "descent with the step halved 10 times",
    3: "energy or gradient not finite at the starting point",
    4: "out of memory while storing the path",
}




cdef inline bint _path_append(double** buf, Py_ssize_t* count, Py_ssize_t* capacity,
                              const double* x, Py_ssize_t n) noexcept nogil:
    """Append ``x`` to the growable row buffer; returns False if memory ran out."""
    cdef Py_ssize_t newcap
    cdef double* newbuf
    if count[0] == capacity[0]:
        newcap = 2 * capacity[0] if capacity[0] > 0 else 64
        newbuf = <double*> realloc(buf[0], newcap * n * sizeof(double))
        if newbuf == NULL:
            return False
        buf[0] = newbuf
        capacity[0] = newcap
    memcpy(buf[0] + count[0] * n, x, n * sizeof(double))
    count[0] += 1
    return True


cdef int _lbfgs_core(CompiledLandscape pot, double* x, double* g, double* energy,
                     int M, double max_step, double max_rise, double tol, long max_iter,
                     double H0_init, bint keep_path, double** path, Py_ssize_t* n_path,
                     long* nfev_out, long* nit_out) noexcept nogil:
    """The quench proper.  ``x`` (in: start, out: final) and ``g`` (out) have length ndim.

    Returns a status code (see ``STATUS_*``).  ``path`` is grown with ``realloc`` when
    ``keep_path``; the caller frees it.
    """
    cdef Py_ssize_t n = pot.ndim
    cdef Py_ssize_t i, j, idx, path_cap = 0
    cdef double* S = NULL
    cdef double* Y = NULL
    cdef double* rho = NULL
    cdef double* alpha = NULL
    cdef double* d = NULL
    cdef double* xt = NULL
    cdef double* gt = NULL
    cdef double* ynew = NULL
    cdef double* sv
    cdef double* yv
    cdef int k = 0            # number of stored pairs
    cdef int head = 0         # slot of the next pair to store (circular buffer)
    cdef int status = _MAX_ITER
    cdef int nred
    cdef long nit = 0, nfev = 0
    cdef double e = 0.0, et, rms = 0.0, h0 = H0_init, ys, yy, gd, dnorm, beta, fac
    cdef double sqrt_n = sqrt(<double> n)
    cdef bint accepted, reset, goto_cleanup = False

    S = <double*> malloc(M * n * sizeof(double))
    Y = <double*> malloc(M * n * sizeof(double))
    rho = <double*> malloc(M * sizeof(double))
    alpha = <double*> malloc(M * sizeof(double))
    d = <double*> malloc(n * sizeof(double))
    xt = <double*> malloc(n * sizeof(double))
    gt = <double*> malloc(n * sizeof(double))
    ynew = <double*> malloc(n * sizeof(double))
    if S == NULL or Y == NULL or rho == NULL or alpha == NULL or d == NULL \
            or xt == NULL or gt == NULL or ynew == NULL:
        status = _OUT_OF_MEMORY
        goto_cleanup = True

    if not goto_cleanup:
        pot.c_retract(x)
        e = pot.c_energy_gradient(x, g)
        nfev += 1
        gd = seq_dot(g, g, n)
        if not (isfinite(e) and isfinite(gd)):
            status = _NONFINITE_START
            goto_cleanup = True
        elif keep_path and not _path_append(path, n_path, &path_cap, x, n):
            status = _OUT_OF_MEMORY
            goto_cleanup = True
        rms = sqrt(gd) / sqrt_n

    while not goto_cleanup:
        if rms <= tol:
            status = _CONVERGED
            break
        if nit >= max_iter:
            status = _MAX_ITER
            break
        nit += 1

        # 1. transport the memory to the tangent space at x (identity when flat)
        reset = False
        for j in range(k):
            idx = (head - k + j + M) % M
            sv = S + idx * n
            yv = Y + idx * n
            pot.c_project_tangent(x, sv)
            pot.c_project_tangent(x, yv)
            ys = seq_dot(sv, yv, n)
            if not (ys > 0.0):
                reset = True
                break
            rho[idx] = 1.0 / ys
            if j == k - 1:
                h0 = ys / seq_dot(yv, yv, n)
        if reset:
            k = 0
            head = 0
            h0 = H0_init

        # 2. two-loop recursion: d = -H g
        for i in range(n):
            d[i] = g[i]
        for j in range(k - 1, -1, -1):          # newest to oldest
            idx = (head - k + j + M) % M
            alpha[idx] = rho[idx] * seq_dot(S + idx * n, d, n)
            yv = Y + idx * n
            for i in range(n):
                d[i] -= alpha[idx] * yv[i]
        for i in range(n):
            d[i] *= h0
        for j in range(k):                      # oldest to newest
            idx = (head - k + j + M) % M
            beta = rho[idx] * seq_dot(Y + idx * n, d, n)
            sv = S + idx * n
            for i in range(n):
                d[i] += sv[i] * (alpha[idx] - beta)
        for i in range(n):
            d[i] = -d[i]
        pot.c_project_tangent(x, d)

        # 3. not a descent direction: reset the memory, steepest descent
        gd = seq_dot(g, d, n)
        if not (gd < 0.0):
            k = 0
            head = 0
            h0 = H0_init
            for i in range(n):
                d[i] = -h0 * g[i]

        # 4. cap the step length
        dnorm = sqrt(seq_dot(d, d, n))
        if dnorm > max_step:
            fac = max_step / dnorm
            for i in range(n):
                d[i] *= fac

        # 5. backtracking on the energy rise
        accepted = False
        for nred in range(_MAX_HALVINGS + 1):
            for i in range(n):
                xt[i] = x[i] + d[i]
            pot.c_retract(xt)
            et = pot.c_energy_gradient(xt, gt)
            nfev += 1
            if et - e <= max_rise:
                accepted = True
                break
            for i in range(n):
                d[i] *= 0.5
        if not accepted:
            if k == 0:
                status = _LINESEARCH_FAILED
                break
            k = 0
            head = 0
            h0 = H0_init
            continue

        # 6. update the memory with the projected pair (built in scratch space: when the
        #    memory is full, slot `head` still holds the oldest pair, kept if ys <= 0)
        for i in range(n):
            d[i] = xt[i] - x[i]
            ynew[i] = gt[i] - g[i]
        pot.c_project_tangent(xt, d)
        pot.c_project_tangent(xt, ynew)
        ys = seq_dot(d, ynew, n)
        if ys > 0.0:
            yy = seq_dot(ynew, ynew, n)
            memcpy(S + head * n, d, n * sizeof(double))
            memcpy(Y + head * n, ynew, n * sizeof(double))
            rho[head] = 1.0 / ys
            h0 = ys / yy
            head = (head + 1) % M
            if k < M:
                k += 1

        for i in range(n):
            x[i] = xt[i]
            g[i] = gt[i]
        e = et
        rms = sqrt(seq_dot(g, g, n)) / sqrt_n
        if keep_path and not _path_append(path, n_path, &path_cap, x, n):
            status = _OUT_OF_MEMORY
            break

    free(S); free(Y); free(rho); free(alpha); free(d); free(xt); free(gt); free(ynew)
    energy[0] = e
    nfev_out[0] = nfev
    nit_out[0] = nit
    return status


def sequential_dot(const double[::1] a, const double[::1] b):
    """``sum_k a[k] b[k]`` summed left to right, exactly as the compiled quench sums (the
    Python L-BFGS uses it so that both paths round alike, and so that results do not depend
    on the number of BLAS threads)."""
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"sequential_dot: lengths {a.shape[0]} and {b.shape[0]} differ")
    if a.shape[0] == 0:
        return 0.0
    cdef double s
    with nogil:
        s = seq_dot(&a[0], &b[0], a.shape[0])
    return s


def lbfgs_quench(CompiledLandscape pot, const double[::1] x0, int M=4, double max_step=0.1,
                 double max_rise=1e-4, double tol=1e-6, long max_iter=10000, double H0=0.1,
                 bint keep_path=False):
    """Minimise the compiled landscape ``pot`` from ``x0`` by L-BFGS, with the GIL released.

    Parameters
    ----------
    pot : kernels.base.CompiledLandscape
        The landscape; its ``c_energy_gradient`` must return the (tangent) gradient.
    x0 : ndarray of float64, shape (ndim,)
        Starting coordinates (not modified; retracted onto the manifold first).
    M : int
        Number of stored correction pairs (>= 1).
    max_step : float
        Maximum Euclidean length of a step (before retraction), > 0.
    max_rise : float
        Largest energy rise accepted between successive configurations.
    tol : float
        Convergence threshold on the RMS gradient ``|g| / sqrt(ndim)``.
    max_iter : int
        Maximum number of iterations.
    H0 : float
        Initial (and after-reset) inverse-Hessian scale, > 0.
    keep_path : bool
        Also return every accepted configuration, the start included.

    Returns
    -------
    tuple
        ``(coords, energy, grad, nfev, nit, status, path)``: final coordinates and tangent
        gradient (ndarrays, shape ``(ndim,)``), final energy, number of energy-gradient
        evaluations, number of iterations, a status code (``STATUS_MESSAGES``), and
        ``path`` (ndarray ``(n_configs, ndim)``, last row = ``coords``) or ``None``.
    """
    cdef Py_ssize_t n = pot.ndim
    if x0.shape[0] != n:
        raise ValueError(f"x0 has length {x0.shape[0]}, the landscape has ndim = {n}")
    if n < 1:
        raise ValueError("the landscape has ndim = 0")
    if M < 1:
        raise ValueError(f"M must be >= 1, got {M}")
    if not max_step > 0.0:
        raise ValueError(f"max_step must be > 0, got {max_step}")
    if not H0 > 0.0:
        raise ValueError(f"H0 must be > 0, got {H0}")
    if max_iter < 0:
        raise ValueError(f"max_iter must be >= 0, got {max_iter}")
    cdef cnp.ndarray[cnp.float64_t, ndim=1] x = np.array(x0, dtype=np.float64, copy=True)
    cdef cnp.ndarray[cnp.float64_t, ndim=1] g = np.zeros(n, dtype=np.float64)
    cdef double* xp = <double*> x.data
    cdef double* gp = <double*> g.data
    cdef double energy = 0.0
    cdef double* path_buf = NULL
    cdef Py_ssize_t n_path = 0
    cdef long nfev = 0, nit = 0
    cdef int status
    with nogil:
        status = _lbfgs_core(pot, xp, gp, &energy, M, max_step, max_rise, tol, max_iter, H0,
                             keep_path, &path_buf, &n_path, &nfev, &nit)
    path = None
    if keep_path:
        try:
            path = np.empty((n_path, n), dtype=np.float64)
            if n_path > 0:
                memcpy(<double*> cnp.PyArray_DATA(path), path_buf, n_path * n * sizeof(double))
        finally:
            free(path_buf)
    else:
        free(path_buf)
    return x, energy, g, nfev, nit, status, path
