# cython: language_level=3
"""Compiled force of a doubly-nudged elastic band on a flat landscape.

Given the whole band (end points included), the energies of its images and the true
gradients of the intermediate ones, :func:`band_gradient` returns the optimiser's gradient
and the spring energy exactly as :meth:`mloptim.neb.NEBBand.decompose` defines them (that
method is the reference and the test oracle; it also serves landscapes on manifolds):

- improved tangents (Henkelman and Jonsson): the uphill segment, or an energy-weighted mix
  of both at extrema, normalised; the bisector of the two unit segments where the mix
  vanishes;
- the true gradient perpendicular to the tangent, the spring force along it
  ``-k (|x_{i+1} - x_i| - |x_i - x_{i-1}|) tau``, and with double nudging the part of the
  perpendicular spring gradient that is perpendicular to the true perpendicular gradient;
- climbing images: the true gradient with its tangential part reversed.

One pass over the images without Python in between; each image costs a few passes over
its ``d`` coordinates.
"""
import numpy as np
cimport numpy as cnp
from kernels.vector cimport seq_dot
from libc.math cimport fabs, sqrt
from libc.stdlib cimport malloc, free

cnp.import_array()

cdef double TINY = 1e-300




def band_gradient(const double[:, ::1] band, const double[::1] energies,
                  const double[:, ::1] true_grad, double spring_k, bint double_nudged,
                  climbing):
    """Gradient of the band objective for the optimiser, and the spring energy.

    Parameters
    ----------
    band : ndarray, shape (n + 2, d)
        The images, end points first and last.
    energies : ndarray, shape (n + 2,)
    true_grad : ndarray, shape (n, d)
        Gradients of the intermediate images.
    spring_k : float
    double_nudged : bool
    climbing : sequence of int
        Indices (1..n, into ``band``) of the climbing images.

    Returns
    -------
    grad : ndarray, shape (n * d,)
    spring_energy : float
        ``k / 2 sum_i |x_{i+1} - x_i|^2`` over all ``n + 1`` segments.
    """
    cdef Py_ssize_t n = band.shape[0] - 2, d = band.shape[1], i, j, k
    if n < 1 or energies.shape[0] != n + 2 or true_grad.shape[0] != n \
            or true_grad.shape[1] != d:
        raise ValueError("band_gradient: shapes of band, energies and true_grad disagree")
    is_climbing = np.zeros(n + 2, dtype=np.int8)
    for c in climbing:
        if not 1 <= int(c) <= n:
            raise ValueError(f"climbing image {c} outside 1..{n}")
        is_climbing[int(c)] = 1
    cdef const cnp.int8_t[::1] climb = is_climbing
    out = np.empty(n * d)
    cdef double[::1] grad = out
    cdef double* tau = <double*> malloc(4 * d * sizeof(double))
    if tau == NULL:
        raise MemoryError()
    cdef double* tp = tau + d
    cdef double* tm = tau + 2 * d
    cdef double* perp = tau + 3 * d
    cdef double vp, v0, vm, dp, dm, dmax, dmin, wp, wm, norm, np_, nm_, gt, len_p, len_m
    cdef double pn, gs_tau, gs_unit, spring = 0.0, seg, x
    cdef double* g
    cdef const double* gt_row
    with nogil:
        for k in range(d):
            x = band[1, k] - band[0, k]
            spring += x * x
        for i in range(1, n + 1):
            for k in range(d):
                tp[k] = band[i + 1, k] - band[i, k]
                tm[k] = band[i, k] - band[i - 1, k]
            seg = seq_dot(tp, tp, d)
            spring += seg
            len_p = sqrt(seg)
            len_m = sqrt(seq_dot(tm, tm, d))
            vp = energies[i + 1]
            v0 = energies[i]
            vm = energies[i - 1]
            dp = fabs(vp - v0)
            dm = fabs(vm - v0)
            dmax = dp if dp > dm else dm
            dmin = dp if dp < dm else dm
            if vp > v0 and v0 > vm:
                wp, wm = 1.0, 0.0
            elif vp < v0 and v0 < vm:
                wp, wm = 0.0, 1.0
            elif vp > vm:
                wp, wm = dmax, dmin
            else:
                wp, wm = dmin, dmax
            for k in range(d):
                tau[k] = wp * tp[k] + wm * tm[k]
            norm = sqrt(seq_dot(tau, tau, d))
            if not norm > TINY:
                np_ = len_p if len_p > TINY else TINY
                nm_ = len_m if len_m > TINY else TINY
                for k in range(d):
                    tau[k] = tp[k] / np_ + tm[k] / nm_
                norm = sqrt(seq_dot(tau, tau, d))
            if norm < TINY:
                norm = TINY
            for k in range(d):
                tau[k] /= norm
            gt_row = &true_grad[i - 1, 0]
            g = &grad[(i - 1) * d]
            gt = seq_dot(gt_row, tau, d)
            if climb[i]:
                for k in range(d):
                    g[k] = gt_row[k] - 2.0 * gt * tau[k]
                continue
            for k in range(d):
                perp[k] = gt_row[k] - gt * tau[k]
            pn = sqrt(seq_dot(perp, perp, d))
            if not pn > TINY:
                pn = 1.0
            # spring gradient gs = k (tm - tp); tp is reused for it
            for k in range(d):
                tp[k] = spring_k * (tm[k] - tp[k])
            gs_tau = seq_dot(tp, tau, d)
            for k in range(d):
                g[k] = perp[k] - spring_k * (len_p - len_m) * tau[k]
            if double_nudged:
                # spring_perp = gs - (gs.tau) tau; its part along unit = perp / pn
                gs_unit = (seq_dot(tp, perp, d) - gs_tau * seq_dot(tau, perp, d)) / pn
                for k in range(d):
                    g[k] += (tp[k] - gs_tau * tau[k]) - gs_unit * perp[k] / pn
    free(tau)
    return out, 0.5 * spring_k * spring
