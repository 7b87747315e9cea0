"""Characterising a stationary point: Hessian spectrum, zero modes, index and log product.

Two paths, chosen by the dimension:

* **dense** (``ndim <= dense_limit``): the full Hessian ``system.hessian(coords)`` is
  symmetrised and diagonalised with ``numpy.linalg.eigh``; every eigenvalue is known.
* **hvp** (larger landscapes): only Hessian-vector products are used to find the lowest
  eigenvalues, by implicitly restarted Lanczos (``scipy.sparse.linalg.eigsh``) on a
  ``LinearOperator`` wrapping ``system.hessian_vector``.  The spectrum scale (largest
  ``|lambda|``) comes from one more Lanczos run.  The lowest eigenvalues are computed for the
  shifted operator ``H + scale * I`` so that near-zero eigenvalues are converged to an absolute
  accuracy ``~ tol * scale`` (ARPACK's tolerance is relative to the Ritz value).
  If the lowest ``k`` computed eigenvalues include a clearly positive one, every negative and
  zero eigenvalue is among them, and all counts follow (``n_positive = ndim - n_zero -
  n_negative``); otherwise the counts are ``None``.

Zero eigenvalues
----------------
The spectrum scale is ``scale = max |lambda|``.  An eigenvalue is *zero* when
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
The hvp path does not diagonalise: the zero modes found by Lanczos (orthonormal eigenvectors
``V``, shape ``(ndim, n_zero)``) are *shifted* to the spectrum scale,

    H' = H + s V V^T,   s = scale,

so that ``H'`` has the non-zero eigenvalues of ``H`` plus ``n_zero`` eigenvalues ``s``, and

    log_product = ln|det H'| - n_zero ln s.

At a minimum ``H'`` is positive definite and ``ln det H' = 2 sum ln diag(L)`` from its Cholesky
factor ``L`` (``scipy.linalg.cho_factor``, about ``ndim^3 / 3`` flops, no eigen-decomposition);
otherwise (or if Cholesky fails) ``ln|det H'|`` comes from an LU factorisation
(``numpy.linalg.slogdet``).  The Hessian matrix itself is taken from ``system.hessian``;
pass ``log_product=False`` to skip this step where even one dense Hessian is too large.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mlcore.landscape import as_coords

__all__ = [
    "DEFAULT_ZERO_TOL",
    "ZERO_GAP_FACTOR",
    "StationaryInfo",
    "characterise",
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

    @property
    def index(self) -> int | None:
        """Number of negative eigenvalues (the Morse index)."""
        return self.n_negative


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


def _dense(system, x, expected, zero_tol, with_vectors):
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
        zero_threshold=zero_tol * scale, eigenvectors=vecs, zero_mask=mask)


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
    from scipy.sparse.linalg import ArpackNoConvergence, eigsh

    n = op.shape[0]
    v0 = rng.standard_normal(n)
    ncv = min(n, max(2 * k + 1, 20))
    try:
        return eigsh(op, k=k, which=which, tol=tol, v0=v0, ncv=ncv, maxiter=maxiter)
    except ArpackNoConvergence:
        ncv = min(n, max(4 * k + 1, 60))
        return eigsh(op, k=k, which=which, tol=tol, v0=v0, ncv=ncv, maxiter=4 * maxiter)


def _lowest_with_deflation(system, x, k, scale, loose, tol, rng, maxiter, max_rounds):
    """Lowest eigenpairs, robust to degenerate (e.g. several zero) eigenvalues.

    Single-vector Lanczos finds one copy of a multiple eigenvalue in exact arithmetic (and
    often too few in practice).  So every eigenpair below ``loose`` (the zero modes, loosely
    converged ones included, and the negative modes) is *deflated*, i.e. pushed above the
    spectrum by adding ``3 scale V V^T`` to the operator, and Lanczos is run again, until a
    run finds nothing below ``loose``.  Returns ``(eigenvalues ascending, vectors, complete)``.
    """
    n = system.ndim
    found_vals = np.empty(0)
    found_vecs = np.empty((n, 0))
    lam = vecs = None
    complete = False
    for _ in range(max_rounds):
        kk = min(k, n - 1 - found_vecs.shape[1])
        if kk < 1:
            complete = True
            break
        op = _hvp_operator(system, x, shift=scale, deflate=found_vecs, deflate_shift=3 * scale)
        lam_s, vecs = _lanczos(op, kk, "SA", tol, rng, maxiter)
        order = np.argsort(lam_s)
        lam, vecs = lam_s[order] - scale, vecs[:, order]
        low = lam < loose
        if not low.any():
            complete = True
            break
        new = vecs[:, low]
        if found_vecs.shape[1]:  # re-orthogonalise against what is already deflated
            new = new - found_vecs @ (found_vecs.T @ new)
            new, _ = np.linalg.qr(new)
        found_vals = np.concatenate([found_vals, lam[low]])
        found_vecs = np.column_stack([found_vecs, new])
        lam, vecs = lam[~low], vecs[:, ~low]
    all_vals = np.concatenate([found_vals, lam if lam is not None else np.empty(0)])
    all_vecs = np.column_stack([found_vecs, vecs]) if vecs is not None else found_vecs
    order = np.argsort(all_vals, kind="stable")
    return all_vals[order], all_vecs[:, order], complete


def _log_abs_det_shifted(hess, zero_vecs, shift, positive_definite):
    """``ln|det(hess + shift V V^T)|`` by Cholesky (if positive definite) or LU."""
    from scipy.linalg import LinAlgError, cho_factor

    if zero_vecs.shape[1]:
        hess += shift * (zero_vecs @ zero_vecs.T)
    if positive_definite:
        try:
            factor, _ = cho_factor(hess, lower=True, overwrite_a=True, check_finite=False)
            return 2.0 * float(np.log(np.diag(factor)).sum()), "cholesky"
        except LinAlgError:
            pass
    _, logabs = np.linalg.slogdet(hess)
    return float(logabs), "lu"


def _hvp(system, x, expected, zero_tol, n_lowest, with_vectors, log_product, lanczos_tol,
         rng, max_rounds):
    n = system.ndim
    k = min(n - 1, max(n_lowest, expected + 2))
    maxiter = max(1000, 20 * n)
    top = _lanczos(_hvp_operator(system, x), 1, "LM", 1e-6, rng, maxiter)[0]
    scale = float(np.abs(top).max())
    if scale <= 0.0:
        raise ValueError("the Hessian is zero: no spectrum scale for the zero-mode tolerance")
    lam, vecs, complete = _lowest_with_deflation(system, x, k, scale, np.sqrt(zero_tol) * scale,
                                                 lanczos_tol, rng, maxiter, max_rounds)
    mask = classify_eigenvalues(lam, expected, zero_tol, scale)
    nonzero = lam[~mask]
    # complete: a run found nothing below the loose bound, so the uncomputed rest is larger
    complete = complete and bool(nonzero.size) and nonzero.max() > 0
    counts = _summary_from_spectrum(lam, mask, complete, n, expected)
    logp = logp_pos = None
    method = "hvp"
    if log_product and complete:
        hess = np.array(system.hessian(x), dtype=np.float64).reshape(n, n)
        hess += hess.T
        hess *= 0.5
        n_zero = counts[0]
        logdet, how = _log_abs_det_shifted(hess, vecs[:, mask], scale, counts[1] == 0)
        logp = logdet - n_zero * np.log(scale)
        negatives = nonzero[nonzero < 0]
        logp_pos = logp - float(np.log(-negatives).sum())
        method = f"hvp+{how}"
    return StationaryInfo(
        eigenvalues=lam, n_zero=counts[0], n_negative=counts[1], n_positive=counts[2],
        log_product=logp, is_minimum=counts[3], is_transition_state=counts[4],
        zero_modes_expected=expected, zero_modes_match=counts[5], lowest_nonzero=counts[6],
        method=method, log_product_positive=logp_pos, scale=scale,
        zero_threshold=zero_tol * scale, eigenvectors=vecs if with_vectors else None,
        zero_mask=mask)


def characterise(system, coords, *, dense_limit: int = 3000, n_lowest: int = 6,
                 zero_tol: float = DEFAULT_ZERO_TOL, method: str = "auto",
                 with_vectors: bool = False, log_product: bool = True,
                 lanczos_tol: float = 1e-12, max_rounds: int = 20,
                 rng: np.random.Generator | None = None) -> StationaryInfo:
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
    rng : numpy.random.Generator, optional
        Starting vectors of Lanczos; default ``numpy.random.default_rng(0)``.

    Returns
    -------
    StationaryInfo
    """
    x = as_coords(coords, system.ndim)
    expected = int(getattr(system, "n_zero_modes", 0))
    if method == "auto":
        method = "dense" if system.ndim <= dense_limit else "hvp"
    if method == "dense" or system.ndim < 3:
        return _dense(system, x, expected, zero_tol, with_vectors)
    if method != "hvp":
        raise ValueError(f"method = {method!r}: choose 'auto', 'dense' or 'hvp'")
    if rng is None:
        rng = np.random.default_rng(0)
    return _hvp(system, x, expected, zero_tol, n_lowest, with_vectors, log_product,
                lanczos_tol, rng, max_rounds)


def is_minimum(system, coords, **kwargs) -> bool:
    """True if ``coords`` is a minimum (see :func:`characterise`; ``None`` counts as False)."""
    return bool(characterise(system, coords, **kwargs).is_minimum)


def index_of(system, coords, **kwargs) -> int | None:
    """Number of negative Hessian eigenvalues at ``coords`` (None if undetermined)."""
    return characterise(system, coords, **kwargs).n_negative
