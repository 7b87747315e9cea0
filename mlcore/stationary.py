"""Characterising a stationary point: Hessian spectrum, zero modes, index and log product.

Two paths, chosen by the dimension:

* **dense** (``ndim <= dense_limit``): the full Hessian ``system.hessian(coords)`` is
  symmetrised and diagonalised with ``numpy.linalg.eigh``; every eigenvalue is known.
* **hvp** (larger landscapes; the full eigen-decomposition is avoided).  The spectrum scale
  (largest ``|lambda|``) comes from Lanczos (``scipy.sparse.linalg.eigsh``) on a
  ``LinearOperator`` wrapping ``system.hessian_vector``.  Then, by default
  (``log_product=True``), one dense Hessian and Cholesky factorisations give everything
  (see "hvp path with factorisations" below); with ``log_product=False`` nothing dense is
  formed and the lowest eigenvalues come from Lanczos on the Hessian-vector product alone.

Zero eigenvalues
----------------
On the dense path, when the landscape names its zero modes (``zero_mode_vectors``, and
``free_mode_vectors`` for degenerate directions), they are projected out and the rest of the
spectrum is classified by sign with an error bound from the accuracy of the Hessian and the
residual gradient (:mod:`mlcore.symmetric_spectrum`): no threshold relative to the largest
eigenvalue.  ``n_extra_zero`` counts the zero modes beyond the symmetries (free directions and
undeclared zeros); a point with none negative and ``n_extra_zero > 0`` is a *degenerate
minimum* (:attr:`StationaryInfo.is_degenerate_minimum`).

What follows describes the threshold used on the hvp path and for landscapes that declare
zero modes without naming them (user landscapes).  The spectrum scale is ``scale = max |lambda|``.  An eigenvalue is *zero* when
``|lambda| <= zero_tol * scale`` (default ``zero_tol = 1e-6``).  A stationary point converged
only loosely has zero-mode eigenvalues of the order of its residual gradient, which may exceed
that threshold; so if fewer than ``system.n_zero_modes`` eigenvalues pass, the next smallest
``|lambda|`` are counted as zero too, up to the expected number, but only when each is below
``sqrt(zero_tol) * scale`` *and* the next eigenvalue (by magnitude) is at least
``ZERO_GAP_FACTOR`` times larger (a clear gap).  The count found is reported as ``n_zero`` and
compared with the expectation (``zero_modes_match``); it may legitimately differ (a linear
triatomic cluster has 5 zero modes where the cluster expects 6).  A point with *more* zero
eigenvalues than its symmetries explain (e.g. the plateau of the regression landscape) is
neither a minimum nor a transition state.

Log product of the non-zero eigenvalues
---------------------------------------
``log_product = sum ln|lambda|`` over the non-zero eigenvalues, and ``log_product_positive``
the same sum over the positive ones only (what a transition-state record stores next to its
negative eigenvalue; for a minimum the two are equal).  The dense path sums the eigenvalues.

hvp path with factorisations (default)
--------------------------------------
Krylov methods alone converge very slowly on ML Hessians, whose spectra have degenerate zero
modes next to dense clusters of small positive eigenvalues; factorisations do not care.

1. *Negative modes.*  Try the Cholesky factorisation of ``H + 2 t I`` (``t = zero_tol *
   scale``).  If it fails there are negative eigenvalues; they are the extreme ones, so
   Lanczos (``eigsh``, ``which="SA"``) finds them; they are *reflected* to ``+scale``,
   ``H_r = H + sum_neg (scale - lambda_i) v_i v_i^T``, and the factorisation of
   ``H_r + 2 t I`` is tried again (up to ``max_rounds`` times).
2. *Zero modes and lowest eigenvalues.*  Block inverse (subspace) iteration with that Cholesky
   factor and Rayleigh-Ritz on ``H_r``: eigenvalues nearest ``-2t`` dominate, so the zero modes
   (degenerate or not) converge in a few steps, however clustered the rest.  The block holds
   ``max(n_lowest, n_zero_modes + 2) + 4`` vectors and grows if all of them are zero modes.
3. *Log product.*  The zero modes ``z_j`` are shifted to ``+scale`` too,
   ``H' = H_r + scale sum_zero z_j z_j^T``: ``H'`` has the positive eigenvalues of ``H``
   plus ``n_zero + n_negative`` eigenvalues ``scale``, is positive definite, and its Cholesky
   factor ``L`` (``ndim^3 / 3`` flops, no eigen-decomposition) gives

       log_product_positive = 2 sum ln diag(L) - (n_zero + n_negative) ln scale,
       log_product          = log_product_positive + sum_neg ln|lambda_i|.

4. *Check.*  The factorisation of ``H'`` succeeding proves that no negative eigenvalue was
   missed; a few steps of inverse iteration with ``L`` expose a missed zero mode (an
   eigenvalue of ``H'`` below ``t``).  The counts are then exact:
   ``n_positive = ndim - n_zero - n_negative``.  If a check fails, the counts and the log
   product are reported as ``None`` rather than wrong (``method = "hvp+cholesky-failed"``).

Eigenvalues reported are the negative ones and the lowest Ritz values; a Ritz value inside a
dense positive cluster may be an upper bound of its eigenvalue rather than converged.

hvp path without a dense Hessian (``log_product=False``)
---------------------------------------------------------
Lanczos on ``H + scale I`` (ARPACK's tolerance is relative to the Ritz value, so the shift
converges near-zero eigenvalues to an absolute accuracy ``~ tol * scale``).  Single-vector
Lanczos finds one copy of a multiple eigenvalue, so every zero or negative mode found is
deflated (pushed above the spectrum) and Lanczos is run again until a run finds none.  The
counts are known only if the last run converged; otherwise they are ``None``.  This is slow
or inconclusive for clustered spectra; prefer the default where one dense Hessian fits.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from mlcore.landscape import as_coords

__all__ = [
    "DEFAULT_ZERO_TOL",
    "ZERO_GAP_FACTOR",
    "StationaryInfo",
    "characterise",
    "characterise_converged",
    "classify_eigenvalues",
    "index_of",
    "is_minimum",
]

DEFAULT_ZERO_TOL = 1e-6
"""Default relative tolerance: ``|lambda| <= zero_tol * max|lambda|`` counts as zero."""

ZERO_GAP_FACTOR = 100.0
"""Gap (ratio of consecutive ``|lambda|``) that admits loosely converged zero modes."""


@dataclass
class StationaryInfo:
    """What the Hessian says about a stationary point.

    Attributes
    ----------
    eigenvalues : ndarray
        Ascending; all ``ndim`` of them (dense path) or the lowest ``k`` (hvp path).
    n_zero, n_negative, n_positive : int or None
        Numbers of zero, negative and positive eigenvalues (``None`` where the computed
        part of the spectrum does not determine them).
    log_product : float or None
        ``sum ln|lambda|`` over the non-zero eigenvalues.
    log_product_positive : float or None
        ``sum ln(lambda)`` over the positive non-zero eigenvalues.
    is_minimum : bool or None
        No negative eigenvalue and no more zero eigenvalues than the symmetries explain.
    is_transition_state : bool or None
        Exactly one negative eigenvalue, and no unexplained zero eigenvalues.
    zero_modes_expected : int
        ``system.n_zero_modes``.
    zero_modes_match : bool or None
        ``n_zero == zero_modes_expected``.
    lowest_nonzero : float or None
        The algebraically lowest non-zero eigenvalue (the negative one at a transition
        state, the smallest curvature at a minimum).
    method : str
        ``"dense"``, ``"hvp"``, ``"hvp+cholesky"`` or ``"hvp+lu"``.
    scale : float
        Spectrum scale ``max |lambda|``.
    zero_threshold : float
        The absolute threshold ``zero_tol * scale``.
    eigenvectors : ndarray or None
        Shape ``(ndim, len(eigenvalues))``, columns matching ``eigenvalues``; only when
        asked for (``with_vectors=True``).
    zero_mask : ndarray of bool
        Which of ``eigenvalues`` were counted as zero.
    n_extra_zero : int or None
        Zero eigenvalues beyond those of the symmetries (0: isolated).
    error_bound : float or None
        Eigenvalues within this of zero are zero (symmetric dense path).
    n_free : int
        Of the extra zero modes, those the landscape names as free directions (a dead
        node's bias); the rest (``n_extra_zero - n_free``) no direction explains: a flat
        valley, or a point not converged enough for its small curvatures to be known.
    coords : ndarray or None
        The point characterised: the given one, or the stationary point Newton steps found
        next to it (``refine``, dense path); store this one.
    """

    eigenvalues: np.ndarray
    n_zero: int | None
    n_negative: int | None
    n_positive: int | None
    log_product: float | None
    is_minimum: bool | None
    is_transition_state: bool | None
    zero_modes_expected: int
    zero_modes_match: bool | None
    lowest_nonzero: float | None
    method: str
    log_product_positive: float | None = None
    scale: float = 0.0
    zero_threshold: float = 0.0
    eigenvectors: np.ndarray | None = field(default=None, repr=False)
    zero_mask: np.ndarray | None = field(default=None, repr=False)
    n_extra_zero: int | None = None
    error_bound: float | None = None
    n_free: int = 0
    coords: np.ndarray | None = field(default=None, repr=False)

    @property
    def index(self) -> int | None:
        """Number of negative eigenvalues (the Morse index)."""
        return self.n_negative

    @property
    def unexplained_zero(self) -> bool:
        """Zero eigenvalues beyond the symmetries that no free direction explains, or an
        undetermined count: the point is not characterised well enough to be stored."""
        return self.n_extra_zero is None or self.n_extra_zero > self.n_free

    @property
    def is_degenerate_minimum(self) -> bool | None:
        """No negative eigenvalue but more zero eigenvalues than the symmetries give (a
        valley of minima, e.g. a dead hidden node's free bias); None if undetermined."""
        if self.n_negative is None or self.n_extra_zero is None:
            return None
        return self.n_negative == 0 and self.n_extra_zero > 0

    def minimum_fields(self) -> dict:
        """The Hessian columns of a stored minimum: ``log_product``, ``n_zero``,
        ``n_negative``, ``lowest_nonzero``, ``n_extra_zero``, with the file's "unknown"
        values (NaN, -1) where not determined."""
        return {"log_product": _or(self.log_product, math.nan, float),
                "n_zero": _or(self.n_zero, -1, int),
                "n_negative": _or(self.n_negative, -1, int),
                "lowest_nonzero": _or(self.lowest_nonzero, math.nan, float),
                "n_extra_zero": _or(self.n_extra_zero, -1, int)}

    def ts_fields(self) -> dict:
        """The Hessian columns of a stored transition state: ``neg_eigenvalue`` (the lowest
        non-zero eigenvalue), ``log_product`` (over the positive eigenvalues), ``n_zero``."""
        return {"neg_eigenvalue": _or(self.lowest_nonzero, math.nan, float),
                "log_product": _or(self.log_product_positive, math.nan, float),
                "n_zero": _or(self.n_zero, -1, int)}


def _or(value, unknown, kind):
    """``kind(value)``, or ``unknown`` where the value was not determined (None)."""
    return unknown if value is None else kind(value)


def classify_eigenvalues(eigenvalues, n_expected: int, zero_tol: float = DEFAULT_ZERO_TOL,
                         scale: float | None = None) -> np.ndarray:
    """Mark which eigenvalues are zero modes.

    Parameters
    ----------
    eigenvalues : array_like, shape (k,)
        Eigenvalues (any order); all of them, or a lowest part of the spectrum that
        contains every eigenvalue of magnitude below the gap test's reach.
    n_expected : int
        Zero modes expected from the symmetries.
    zero_tol : float
        Relative tolerance (see the module docstring).
    scale : float, optional
        Spectrum scale; default ``max |eigenvalues|``.

    Returns
    -------
    ndarray of bool, shape (k,)
        True for the eigenvalues counted as zero.
    """
    lam = np.asarray(eigenvalues, dtype=np.float64)
    mag = np.abs(lam)
    if scale is None:
        scale = float(mag.max()) if mag.size else 0.0
    if scale <= 0.0:
        return np.ones(lam.shape, dtype=bool)
    mask = mag <= zero_tol * scale
    n_strict = int(mask.sum())
    if n_strict < n_expected < lam.size:
        order = np.argsort(mag, kind="stable")
        loose = np.sqrt(zero_tol) * scale
        last, nxt = mag[order[n_expected - 1]], mag[order[n_expected]]
        if last <= loose and nxt >= ZERO_GAP_FACTOR * max(last, zero_tol * scale):
            mask[order[:n_expected]] = True
    return mask


def _summary_from_spectrum(lam, mask, complete, ndim, expected):
    """Counts and flags from eigenvalues ``lam`` with zero ``mask``."""
    nonzero = lam[~mask]
    if complete:
        n_zero = int(mask.sum())
        n_negative = int((nonzero < 0).sum())
        n_positive = ndim - n_zero - n_negative
        extra_zero = n_zero > expected
        is_min = n_negative == 0 and not extra_zero
        is_ts = n_negative == 1 and not extra_zero
        match = n_zero == expected
    else:
        n_zero = n_negative = n_positive = None
        n_neg_seen = int((nonzero < 0).sum())
        is_min = False if n_neg_seen > 0 else None
        is_ts = False if n_neg_seen > 1 else None
        match = None
    lowest = float(nonzero.min()) if nonzero.size else None
    return n_zero, n_negative, n_positive, is_min, is_ts, match, lowest


def _dense_symmetric(system, x, with_vectors, refine):
    """The dense path modulo the declared directions (:mod:`mlcore.symmetric_spectrum`),
    at the stationary point nearest ``x`` when ``refine``; None when the system declares
    zero modes it does not name."""
    from mlcore.symmetric_spectrum import (
        POLISH_LIMIT,
        declared_modes,
        refine_stationary,
        symmetric_spectrum,
    )

    declared = declared_modes(system, x)
    if declared is None:
        return None
    if refine and system.ndim <= POLISH_LIMIT:
        x = refine_stationary(system, x)
        declared = declared_modes(system, x)
    spec = symmetric_spectrum(system, x, declared=declared)
    rows = spec.declared.rows
    k, n = rows.shape[0], system.ndim
    lam = np.concatenate([spec.rayleigh, spec.mu])
    mask = np.concatenate([np.ones(k, dtype=bool), spec.zero])
    order = np.argsort(lam, kind="stable")
    nonzero = spec.mu[~spec.zero]
    n_zero = k + spec.n_undeclared_zero
    n_negative = spec.n_negative
    extra = spec.n_extra_zero
    expected = spec.declared.n_symmetry
    vecs = np.column_stack([rows.T, spec.vectors])[:, order] if with_vectors else None
    return StationaryInfo(
        eigenvalues=lam[order], n_zero=n_zero, n_negative=n_negative,
        n_positive=n - n_zero - n_negative,
        log_product=float(np.log(np.abs(nonzero)).sum()),
        is_minimum=n_negative == 0 and extra == 0,
        is_transition_state=n_negative == 1 and extra == 0,
        zero_modes_expected=expected, zero_modes_match=n_zero == expected,
        lowest_nonzero=float(nonzero.min()) if nonzero.size else None, method="dense",
        log_product_positive=float(np.log(nonzero[nonzero > 0]).sum()),
        scale=float(np.abs(lam).max()) if lam.size else 0.0, zero_threshold=spec.bound,
        eigenvectors=vecs, zero_mask=mask[order], n_extra_zero=extra,
        error_bound=spec.bound, coords=x, n_free=spec.declared.n_free)


def _dense(system, x, expected, zero_tol, with_vectors, refine=True):
    info = _dense_symmetric(system, x, with_vectors, refine)
    if info is not None:
        return info
    hess = np.array(system.hessian(x), dtype=np.float64).reshape(system.ndim, system.ndim)
    hess = 0.5 * (hess + hess.T)
    if with_vectors:
        lam, vecs = np.linalg.eigh(hess)
    else:
        lam, vecs = np.linalg.eigvalsh(hess), None
    scale = float(np.abs(lam).max()) if lam.size else 0.0
    mask = classify_eigenvalues(lam, expected, zero_tol, scale)
    counts = _summary_from_spectrum(lam, mask, True, system.ndim, expected)
    nonzero = lam[~mask]
    logp = float(np.log(np.abs(nonzero)).sum())
    logp_pos = float(np.log(nonzero[nonzero > 0]).sum())
    return StationaryInfo(
        eigenvalues=lam, n_zero=counts[0], n_negative=counts[1], n_positive=counts[2],
        log_product=logp, is_minimum=counts[3], is_transition_state=counts[4],
        zero_modes_expected=expected, zero_modes_match=counts[5], lowest_nonzero=counts[6],
        method="dense", log_product_positive=logp_pos, scale=scale,
        zero_threshold=zero_tol * scale, eigenvectors=vecs, zero_mask=mask,
        n_extra_zero=max(0, counts[0] - expected))


def _hvp_operator(system, x, shift=0.0, deflate=None, deflate_shift=0.0):
    """``v -> (H + shift I + deflate_shift V V^T) v`` as a ``LinearOperator``."""
    from scipy.sparse.linalg import LinearOperator

    n = system.ndim

    def matvec(v):
        v = np.ascontiguousarray(np.asarray(v, dtype=np.float64).reshape(-1))
        hv = np.array(system.hessian_vector(x, v), dtype=np.float64).reshape(-1)
        if shift:
            hv += shift * v
        if deflate is not None and deflate.shape[1]:
            hv += deflate_shift * (deflate @ (deflate.T @ v))
        return hv

    return LinearOperator((n, n), matvec=matvec, rmatvec=matvec, dtype=np.float64)


def _lanczos(op, k, which, tol, rng, maxiter):
    """``eigsh`` that returns the converged part ``(values, vectors, all_converged)``."""
    from scipy.sparse.linalg import ArpackNoConvergence, eigsh

    n = op.shape[0]
    v0 = rng.standard_normal(n)
    ncv = min(n, max(2 * k + 1, 20))
    try:
        vals, vecs = eigsh(op, k=k, which=which, tol=tol, v0=v0, ncv=ncv, maxiter=maxiter)
        return vals, vecs, True
    except ArpackNoConvergence as exc:
        vals = np.asarray(exc.eigenvalues, dtype=np.float64)
        vecs = np.asarray(exc.eigenvectors, dtype=np.float64).reshape(n, vals.size)
        return vals, vecs, False


def _lowest_with_deflation(system, x, k, scale, thr, tol, rng, maxiter, max_rounds):
    """Lowest eigenpairs by Lanczos, robust to degenerate (e.g. several zero) eigenvalues.

    Single-vector Lanczos finds one copy of a multiple eigenvalue in exact arithmetic (and
    often too few in practice).  So every converged eigenpair below ``thr`` (zero and
    negative modes) is *deflated*, i.e. pushed above the spectrum by adding
    ``3 scale V V^T`` to the operator, and Lanczos is run again, until a run finds nothing
    below ``thr``.  A run that does not converge within ``maxiter`` restarts keeps the pairs
    that did converge (the extreme ones converge first; a dense cluster of small positive
    eigenvalues, common in ML Hessians, may not).

    Returns
    -------
    values : ndarray, ascending
    vectors : ndarray, shape (ndim, len(values))
    complete : bool
        True if the last run converged and its lowest eigenvalue is above ``thr``: then
        every eigenvalue below ``thr`` is among ``values``.
    """
    n = system.ndim
    found_vals = np.empty(0)
    found_vecs = np.empty((n, 0))
    rest_vals, rest_vecs = np.empty(0), np.empty((n, 0))
    complete = False
    for _ in range(max_rounds):
        kk = min(k, n - 1 - found_vecs.shape[1])
        if kk < 1:
            complete = True
            break
        op = _hvp_operator(system, x, shift=scale, deflate=found_vecs, deflate_shift=3 * scale)
        lam_s, vecs, converged = _lanczos(op, kk, "SA", tol, rng, maxiter)
        order = np.argsort(lam_s)
        lam, vecs = lam_s[order] - scale, vecs[:, order]
        low = lam <= thr
        rest_vals, rest_vecs = lam[~low], vecs[:, ~low]
        if not low.any():
            complete = converged and lam.size > 0
            break
        new = vecs[:, low]
        if found_vecs.shape[1]:  # re-orthogonalise against what is already deflated
            new = new - found_vecs @ (found_vecs.T @ new)
        new, _ = np.linalg.qr(new)
        found_vals = np.concatenate([found_vals, lam[low]])
        found_vecs = np.column_stack([found_vecs, new])
    all_vals = np.concatenate([found_vals, rest_vals])
    all_vecs = np.column_stack([found_vecs, rest_vecs])
    order = np.argsort(all_vals, kind="stable")
    return all_vals[order], all_vecs[:, order], complete


def _try_cholesky(matrix):
    """Lower Cholesky factor ``(c, lower)`` of ``matrix``, or None if not positive definite."""
    from scipy.linalg import LinAlgError, cho_factor

    try:
        factor = cho_factor(matrix, lower=True, overwrite_a=False, check_finite=False)
    except LinAlgError:
        return None
    if not np.all(np.diag(factor[0]) > 0):
        return None
    return factor


def _block_inverse_iteration(matrix, factor, m, rng, scale, rtol=1e-11, max_iter=60):
    """Lowest ``m`` Ritz pairs of ``matrix`` by subspace iteration with ``factor``.

    ``factor`` is the Cholesky factor of ``matrix + c I`` (``c > 0`` small), so that the
    eigenvalues nearest ``-c`` - the zero modes first - dominate the block after a few steps,
    whatever the clustering of the rest of the spectrum.  Iterates until the Ritz values
    change by less than ``rtol * scale`` (or ``max_iter`` steps: the zero modes converge in a
    few; Ritz values inside a dense positive cluster may converge slowly, and are then upper
    bounds of the true eigenvalues).
    """
    from scipy.linalg import cho_solve

    block, _ = np.linalg.qr(rng.standard_normal((matrix.shape[0], m)))
    prev = None
    for _ in range(max_iter):
        block, _ = np.linalg.qr(cho_solve(factor, block, check_finite=False))
        ritz, rot = np.linalg.eigh(block.T @ matrix @ block)
        if prev is not None and np.abs(ritz - prev).max() <= rtol * scale:
            break
        prev = ritz
    return ritz, block @ rot


def _factorised(system, x, scale, thr, expected, n_lowest, rng, lanczos_tol, maxiter,
                max_rounds):
    """Low end of the spectrum and log product from the dense Hessian, by factorisations.

    Returns ``(eigenvalues, vectors, logp, logp_pos, complete)``; when a check fails,
    ``complete`` is False and only the negative modes found so far are returned.
    """
    from scipy.sparse.linalg import aslinearoperator

    n = system.ndim
    hess = np.array(system.hessian(x), dtype=np.float64).reshape(n, n)
    hess += hess.T
    hess *= 0.5
    eye_shift = 2.0 * thr * np.eye(n)
    neg_vals, neg_vecs = np.empty(0), np.empty((n, 0))
    reflected = hess
    factor = None
    for _ in range(max_rounds):
        # negative modes found so far are reflected to +scale
        reflected = hess + (neg_vecs * (scale - neg_vals)) @ neg_vecs.T
        factor = _try_cholesky(reflected + eye_shift)
        if factor is not None:
            break
        # more negative eigenvalues: they are extreme, so Lanczos finds them
        op = aslinearoperator(reflected + scale * np.eye(n))
        kk = min(n - 1, max(2, n_lowest))
        vals, vecs, _ = _lanczos(op, kk, "SA", lanczos_tol, rng, maxiter)
        vals = vals - scale
        new = vals < -thr
        if not new.any():
            return neg_vals, neg_vecs, None, None, False
        fresh = vecs[:, new]
        if neg_vecs.shape[1]:
            fresh = fresh - neg_vecs @ (neg_vecs.T @ fresh)
        fresh, _ = np.linalg.qr(fresh)
        # Rayleigh quotients of H for the (re-orthogonalised) new vectors
        neg_vals = np.concatenate([neg_vals, np.einsum("ij,ij->j", fresh, hess @ fresh)])
        neg_vecs = np.column_stack([neg_vecs, fresh])
    if factor is None:
        return neg_vals, neg_vecs, None, None, False
    # block of n_lowest Ritz pairs plus 4 guard vectors (the top of a block converges last)
    m = min(n - neg_vecs.shape[1], max(n_lowest, expected + 2) + 4)
    while True:
        ritz, ritz_vecs = _block_inverse_iteration(reflected, factor, m, rng, scale)
        zero = np.abs(ritz) <= thr
        if not zero.all() or m >= n - neg_vecs.shape[1]:
            break
        m = min(n - neg_vecs.shape[1], 2 * m)   # more zero modes than the block holds
    zero_vecs = ritz_vecs[:, zero]
    keep = max(n_lowest, int(zero.sum()))
    ritz, ritz_vecs = ritz[:keep], ritz_vecs[:, :keep]
    shifted = reflected + scale * (zero_vecs @ zero_vecs.T)
    final = _try_cholesky(shifted)
    if final is None:
        return neg_vals, neg_vecs, None, None, False
    # a zero mode missed by the block would show as an eigenvalue of H' below thr
    check, _ = _block_inverse_iteration(shifted, final, min(3, n), rng, scale, rtol=1e-6,
                                        max_iter=6)
    if check.min() <= thr:
        return neg_vals, neg_vecs, None, None, False
    logp_pos = 2.0 * float(np.log(np.diag(final[0])).sum())
    logp_pos -= (neg_vecs.shape[1] + zero_vecs.shape[1]) * np.log(scale)
    logp = logp_pos + float(np.log(-neg_vals).sum())
    vals = np.concatenate([neg_vals, ritz])
    vecs = np.column_stack([neg_vecs, ritz_vecs])
    order = np.argsort(vals, kind="stable")
    return vals[order], vecs[:, order], logp, logp_pos, True


def _hvp(system, x, expected, zero_tol, n_lowest, with_vectors, log_product, lanczos_tol,
         rng, max_rounds, maxiter):
    n = system.ndim
    k = min(n - 1, max(n_lowest, expected + 2))
    top = _lanczos(_hvp_operator(system, x), 1, "LM", 1e-6, rng, max(maxiter, 300))[0]
    if top.size == 0 or not np.abs(top).max() > 0.0:
        raise ValueError("no spectrum scale: the Hessian is zero or Lanczos failed")
    scale = float(np.abs(top).max())
    thr = zero_tol * scale
    logp = logp_pos = None
    if log_product:
        lam, vecs, logp, logp_pos, complete = _factorised(
            system, x, scale, thr, expected, k, rng, lanczos_tol, maxiter, max_rounds)
        method = "hvp+cholesky" if complete else "hvp+cholesky-failed"
    else:
        lam, vecs, complete = _lowest_with_deflation(system, x, k, scale, thr, lanczos_tol, rng,
                                                     maxiter, max_rounds)
        method = "hvp"
    strict = np.abs(lam) <= thr
    mask = classify_eigenvalues(lam, expected, zero_tol, scale) if complete else strict
    extra = lam[mask & ~strict]
    if logp is not None and extra.size:   # loosely converged zero modes (gap rule)
        logp -= float(np.log(np.abs(extra)).sum())
        logp_pos -= float(np.log(extra[extra > 0]).sum())
    counts = _summary_from_spectrum(lam, mask, complete, n, expected)
    return StationaryInfo(
        eigenvalues=lam, n_zero=counts[0], n_negative=counts[1], n_positive=counts[2],
        log_product=logp if complete else None, is_minimum=counts[3],
        is_transition_state=counts[4], zero_modes_expected=expected,
        zero_modes_match=counts[5], lowest_nonzero=counts[6], method=method,
        log_product_positive=logp_pos if complete else None, scale=scale,
        zero_threshold=thr, eigenvectors=vecs if with_vectors else None,
        zero_mask=mask,
        n_extra_zero=None if counts[0] is None else max(0, counts[0] - expected))


def characterise(system, coords, *, dense_limit: int = 3000, n_lowest: int = 6,
                 zero_tol: float = DEFAULT_ZERO_TOL, method: str = "auto",
                 with_vectors: bool = False, log_product: bool = True,
                 lanczos_tol: float = 1e-8, max_rounds: int = 20, maxiter: int = 200,
                 rng: np.random.Generator | None = None, refine: bool = True
                 ) -> StationaryInfo:
    """Hessian eigenvalues, zero/negative/positive counts and log product at ``coords``.

    Parameters
    ----------
    system : mlcore.landscape.System
        Provides ``ndim``, ``n_zero_modes``, ``hessian(coords)`` and
        ``hessian_vector(coords, vec)``.  Manifold landscapes give the Riemannian Hessian,
        whose radial direction is simply one of the zero modes.
    coords : array_like, shape (ndim,)
        The stationary point.
    dense_limit : int
        Use the dense path when ``ndim <= dense_limit``, else the hvp path.
    n_lowest : int
        Eigenvalues computed by Lanczos on the hvp path; raised to
        ``n_zero_modes + 2`` if smaller, and capped at ``ndim - 1``.
    zero_tol : float
        Relative zero tolerance (module docstring).
    method : {"auto", "dense", "hvp"}
        Force a path.
    with_vectors : bool
        Also return the eigenvectors (columns matching ``eigenvalues``).
    log_product : bool
        On the hvp path, compute the log product (needs one dense Hessian and a Cholesky or
        LU factorisation).  The dense path always computes it.
    lanczos_tol : float
        ARPACK tolerance for the lowest eigenvalues (relative to the spectrum scale).
    max_rounds : int
        Lanczos runs with deflation on the hvp path (each deflates the zero and negative
        modes found so far); if they do not suffice the counts are ``None``.
    maxiter : int
        Implicit restarts allowed per Lanczos run (each costs about ``max(20, 2k+1) - k``
        Hessian-vector products).
    rng : numpy.random.Generator, optional
        Starting vectors of Lanczos; default ``numpy.random.default_rng(0)``.
    refine : bool
        On the dense path of a landscape that names its zero modes (and ``ndim <=
        POLISH_LIMIT``), first take Newton steps to the stationary point next to ``coords``
        (:func:`mlcore.symmetric_spectrum.refine_stationary`): a quench stopped at an RMS
        gradient of 1e-6 is up to ``g / (2 lambda)`` away along the soft directions of an L2
        term, too far for its small curvatures to be told from zero.  ``info.coords`` is
        the point characterised.

    Returns
    -------
    StationaryInfo
    """
    x = as_coords(coords, system.ndim)
    expected = int(getattr(system, "n_zero_modes", 0))
    if method == "auto":
        method = "dense" if system.ndim <= dense_limit else "hvp"
    if method == "dense" or system.ndim < 3:
        info = _dense(system, x, expected, zero_tol, with_vectors, refine)
    elif method != "hvp":
        raise ValueError(f"method = {method!r}: choose 'auto', 'dense' or 'hvp'")
    else:
        info = _hvp(system, x, expected, zero_tol, n_lowest, with_vectors, log_product,
                    lanczos_tol, np.random.default_rng(0) if rng is None else rng,
                    max_rounds, maxiter)
    if info.coords is None:
        info.coords = x
    return info


def characterise_converged(system, coords, requench, **kwargs) -> StationaryInfo:
    """:func:`characterise`; when it finds zero curvatures that nothing explains
    (:attr:`StationaryInfo.unexplained_zero`), ``requench(info.coords)`` (a tighter quench,
    returning coordinates) and characterise again.  Such zeros are usually a quench that
    stopped on a slow path, e.g. a hidden node whose weights are still decaying."""
    info = characterise(system, coords, **kwargs)
    if info.unexplained_zero:
        info = characterise(system, requench(info.coords), **kwargs)
    return info


def is_minimum(system, coords, **kwargs) -> bool:
    """True if ``coords`` is a minimum (see :func:`characterise`; ``None`` counts as False)."""
    return bool(characterise(system, coords, **kwargs).is_minimum)


def index_of(system, coords, **kwargs) -> int | None:
    """Number of negative Hessian eigenvalues at ``coords`` (None if undetermined)."""
    return characterise(system, coords, **kwargs).n_negative
