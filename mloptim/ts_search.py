"""Single-ended transition-state search: hybrid eigenvector-following (OPTIM BFGSTS).

    from mloptim.ts_search import find_transition_state, verify_transition_state
    ts = find_transition_state(system, start, settings)      # TSResult
    ok, info = verify_transition_state(system, ts.coords)    # exactly one negative mode

Algorithm
---------
From ``x`` (retracted onto the manifold on pspin), each iteration

1. finds the lowest eigenpair ``(lambda, v)`` of the Hessian in the space orthogonal to the
   zero modes and tangent to the manifold (:mod:`mloptim.rayleigh_ritz`: dense ``eigh`` for
   ``ndim <= 300``, else Rayleigh-Ritz minimisation with Hessian-vector products, warm
   started from the previous ``v``; the sign of ``v`` is kept continuous);
2. stops if the RMS gradient ``|g| / sqrt(ndim) <= tol`` and ``lambda < 0`` (beyond the
   zero threshold ``zero_eig_tol * max|lambda|``), after checking that ``lambda`` is the
   only negative eigenvalue (below); on the hvp path the eigenpair is first re-solved to
   ``FINAL_EIG_TOL_FACTOR * eig_tol`` (warm start), so the reported eigenvalue is accurate;
3. takes an *uphill step* ``h v``: the Newton step ``h = -g.v / lambda`` if ``lambda < 0``
   (towards the maximum along ``v``), else ``h = +-trust`` with the sign of ``g.v``; in
   both cases ``|h| <= trust``.  The trust radius starts at ``max_uphill_step`` and is
   adapted by the ratio ``rho`` of the actual to the predicted energy change
   ``h g.v + lambda h^2 / 2``: ``rho < 0`` (the energy moved the wrong way) rejects the
   step and halves the radius; ``rho`` outside ``[0.5, 2]`` halves it; ``rho`` in
   ``[0.8, 1.25]`` after a step limited by the radius enlarges it by 1.5, up to
   ``max_uphill_step``;
4. minimises the energy in the space orthogonal to ``v`` and to the zero modes (tangent
   to the sphere on pspin) by at most ``tangent_steps`` iterations of the shared L-BFGS
   (:func:`mlcore.optimize.lbfgs_python` on the projected landscape: projected gradient,
   ``project_tangent`` = the projector, ``retract`` = the landscape's), with step length
   ``max_step``, energy rise per step at most ``TANGENT_MAX_RISE * max(1, |E|)``, stopping
   early once the projected RMS gradient is below ``tol / 2``.  Its initial inverse
   Hessian is the ``s.y / y.y`` of the previous tangent minimisation (the memory itself is
   not carried over, since ``v`` changes).

All-mode steps (dense path, flat landscape)
-------------------------------------------
Where the dense spectrum shows exactly the shape of a transition state's neighbourhood
(followed eigenvalue ``lambda < 0``, second-lowest eigenvalue ``> 0`` beyond the zero
threshold) and the landscape is flat (no manifold), steps 3 and 4 are replaced by one step
in every eigenmode at once (Cerjan-Miller / Baker eigenvector-following with per-mode
rational-function shifts, :func:`_all_mode_step`): Newton uphill along ``v``, Newton (or,
far from the quadratic region, a shorter rational-function step) downhill along every
other mode, the downhill part at most ``max_step`` long and the whole step at most the
trust radius.  The step is rejected (radius halved) when the energy change misses the
quadratic model's prediction by more than the model's own scale ``sum |h_j g_j| +
|lambda_j| h_j^2 / 2``, the radius is halved when it misses by more than half of it and
enlarged by 1.5 when a radius-limited step misses by at most a fifth.  This converges
quadratically where the tangent-space L-BFGS stalls: on network landscapes the modes held
only by the L2 term have curvature ``2 lam ~ 2e-4`` while the stiff ones have curvature of
order one, and ten L-BFGS steps of memory four, restarted every iteration, do not bring the
RMS gradient of such an ill-conditioned problem from ``1e-5`` to ``tol = 1e-6``
(triatomic network with three hidden nodes: 500 iterations stuck at RMS ``~1e-5`` before,
9 to 200 iterations to RMS ``< 1e-6`` with the all-mode step).  Elsewhere (several
negative eigenvalues, or none) the hybrid steps 3 and 4 are used: an all-mode step
everywhere cycles on LJ7 between a soft positive and a negative second mode.

Where the hybrid steps are used but the tangent problem is ill-conditioned (some mode
other than ``v`` has ``|lambda_j| <= SOFT_RATIO * max|lambda|``, always the case on a
network with L2-held weights), step 4 is one rational-function step
(:func:`_downhill_step`) in all modes but ``v``, with the Hessian of step 1 as the model,
at most ``min(max_step, r)`` long; it is accepted only if the energy does not rise (this
part is a minimisation, so the energy is an honest merit function), and ``r`` is halved
after a poor (actual/predicted ``< 0.25``) step, doubled after a good (``> 0.75``) one
that it limited and quartered after a rejected one.  L-BFGS moves along a mode of
curvature ``lambda_j`` by about ``g_j / max|lambda|`` per step instead of ``g_j / lambda_j``:
in a region with a second, soft negative eigenvalue (``-1e-4`` against ``19`` on the
triatomic network) it slid down that mode by ``1e-7`` in energy per twenty iterations.

``TSSearchSettings.all_modes = false`` turns both dense variants off (the pure hybrid
scheme of steps 1-4).

No dense Hessian is formed on the hvp path (``ndim > dense_limit``): the search runs on
Hessian-vector products alone (a 784-10-10 network has 7960 parameters).

Higher-index saddles
--------------------
A point with zero gradient and two or more negative eigenvalues satisfies step 2's test
for ``lambda`` but is not a transition state.  At convergence the number of negative
eigenvalues is counted (dense path: the whole constrained spectrum; hvp path: the lowest
eigenvalue orthogonal to ``v``, by a second Rayleigh-Ritz solve).  If it exceeds one, the
search *escapes*: it steps ``max_uphill_step`` (random sign) along the second negative
mode, downhill, and carries on (at most ``max_escapes`` times); after that it stops and
reports failure.  ``success`` is True only for a verified index-one point.

Limitations
-----------
Eigenvector-following climbs the softest mode.  From a minimum of a network with fewer
training samples than inputs, the softest modes are the first-layer weights orthogonal to
the data, held by the L2 term alone (curvature exactly ``2 lam``, thousands of them): the
energy along them is a parabola without a saddle, and the search climbs it until
``max_iter`` (the result has ``eigenvalue ~ 2 lam > 0`` and ``success = False``).  Start
such searches from a point with negative curvature (a climbing image of an elastic band),
not from a minimum.

Small dense eigen-decompositions are dominated by BLAS threading overhead on a busy
machine (a 30 x 30 ``eigh`` took 23 ms with two OpenBLAS threads competing with other
processes, 0.07 ms with one); run many searches in parallel with
``OPENBLAS_NUM_THREADS=1``.

The settings are :class:`mlcore.config.settings.TSSearchSettings` (OPTIM keywords in its
docstrings).  ``n_evaluations`` counts energy-and-gradient evaluations; Hessian-vector
products and dense Hessians are counted separately.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mlcore.config.settings import TSSearchSettings
from mlcore.landscape import as_coords
from mlcore.optimize import lbfgs_python
from mlcore.stationary import DEFAULT_ZERO_TOL, StationaryInfo, characterise
from mloptim.rayleigh_ritz import (
    DENSE_LIMIT,
    ConstrainedSpace,
    EigenPair,
    lowest_eigenpair,
    spectrum_scale,
)

__all__ = ["TSResult", "find_transition_state", "verify_transition_state"]

#: Largest energy rise per tangent-space L-BFGS step, relative to ``max(1, |E|)``.
TANGENT_MAX_RISE = 1e-6

#: L-BFGS memory of the tangent-space minimisation (OPTIM's default of 4 to 10).
TANGENT_MEMORY = 4

#: Smallest trust radius of the uphill step.
MIN_TRUST = 1e-7

#: Bounds of the carried-over inverse-Hessian guess of the tangent minimisation.
H0_BOUNDS = (1e-6, 1e3)

#: On the hvp path the eigenpair at convergence is re-solved to ``eig_tol`` times this.
FINAL_EIG_TOL_FACTOR = 1e-3

#: Default number of escapes from a higher-index saddle.
MAX_ESCAPES = 2

#: Dense flat path: the tangent minimisation takes rational-function steps instead of
#: L-BFGS when a mode other than the followed one is this soft relative to the spectrum.
SOFT_RATIO = 1e-3


@dataclass
class TSResult:
    """Outcome of a transition-state search.

    Attributes
    ----------
    coords : ndarray, shape (ndim,)
        Final point (the transition state if ``success``).
    energy : float
        Energy at ``coords``.
    eigenvalue : float
        Lowest Hessian eigenvalue at ``coords`` (zero modes excluded).
    eigenvector : ndarray, shape (ndim,)
        Its unit eigenvector (tangent to the manifold, orthogonal to the zero modes).
    rms : float
        RMS gradient ``|g| / sqrt(ndim)`` at ``coords``.
    n_iter : int
        Eigenvector-following iterations.
    n_evaluations : int
        Energy-and-gradient evaluations.
    success : bool
        Converged (``rms <= tol``, ``eigenvalue < 0``) with exactly one negative eigenvalue.
    message : str
        What stopped the search, in words.
    n_hessian_vector : int
        Hessian-vector products.
    n_hessian : int
        Dense Hessians formed (0 on the hvp path).
    n_negative : int or None
        Negative eigenvalues found at ``coords`` (dense: exact; hvp: 1, or 2 meaning "at
        least 2"); None if not counted (not converged).
    n_escapes : int
        Escapes from higher-index saddles.
    grad : ndarray or None
        Gradient at ``coords``.
    """

    coords: np.ndarray
    energy: float
    eigenvalue: float
    eigenvector: np.ndarray
    rms: float
    n_iter: int
    n_evaluations: int
    success: bool
    message: str
    n_hessian_vector: int = 0
    n_hessian: int = 0
    n_negative: int | None = None
    n_escapes: int = 0
    grad: np.ndarray | None = None


def _retract(system, x):
    out = system.retract(x)
    return x if out is None else np.asarray(out, dtype=np.float64)


class _Evaluator:
    """Counts energy-and-gradient calls and remembers recent ones (bitwise keys)."""

    def __init__(self, system):
        self.system = system
        self.count = 0
        self._cache: dict[bytes, tuple[float, np.ndarray]] = {}

    def __call__(self, x):
        key = np.asarray(x, dtype=np.float64).tobytes()
        hit = self._cache.get(key)
        if hit is not None:
            return hit[0], hit[1].copy()
        e, g = self.system.energy_gradient(np.ascontiguousarray(x, dtype=np.float64))
        e = float(e)
        g = np.array(g, dtype=np.float64).reshape(-1)
        self.count += 1
        if len(self._cache) >= 8:
            self._cache.pop(next(iter(self._cache)))
        self._cache[key] = (e, g.copy())
        return e, g


class _TangentProblem:
    """The landscape restricted to a constrained space, as the shared L-BFGS sees it."""

    def __init__(self, system, evaluate, space):
        self.ndim = int(system.ndim)
        self._system = system
        self._evaluate = evaluate
        self._space = space

    def energy_gradient(self, x):
        e, g = self._evaluate(x)
        return e, self._space.project(g, at=x)

    def project_tangent(self, x, vec):
        return self._space.project(vec, at=x)

    def retract(self, x):
        return _retract(self._system, x)


def _second_negative(system, x, space, pair, settings, method, dense_limit, rng):
    """``(value, vector)`` of the second-lowest eigenpair (orthogonal to ``pair.vector``)."""
    if pair.spectrum is not None:
        if pair.spectrum.size < 2:
            return math.inf, None, 0
        return float(pair.spectrum[1]), pair.vectors[:, 1].copy(), 0
    second = lowest_eigenpair(system, x, space.with_rows(pair.vector[None, :]), method=method,
                              dense_limit=dense_limit, max_iter=4 * settings.eig_max_iter,
                              tol=settings.eig_tol, zero_tol=settings.zero_eig_tol,
                              scale=pair.scale, rng=rng)
    return second.value, second.vector, second.n_hvp


def _all_modes_wanted(system, settings) -> bool:
    """True if the dense search takes all-mode steps (flat landscape, setting on)."""
    from mloptim.interpolate import is_manifold

    return bool(settings.all_modes) and not is_manifold(system)


def _all_mode_step(pair, g, v, lam, thr, trust, max_step):
    """Eigenvector-following step in every mode of the dense constrained spectrum.

    Parameters
    ----------
    pair : EigenPair
        Dense eigenpair with ``spectrum`` and ``vectors`` (ndim, m).
    g : ndarray, shape (ndim,)
        Gradient.
    v : ndarray, shape (ndim,)
        The followed (uphill) mode, a column of ``pair.vectors`` up to sign.
    lam : float
        Its eigenvalue.
    thr : float
        Zero threshold of the eigenvalues.
    trust : float
        Trust radius of the whole step (Euclidean length).
    max_step : float
        Largest length of the downhill (minimising) part.

    Returns
    -------
    step : ndarray, shape (ndim,)
    pred : float
        Energy change predicted by the quadratic model, ``sum h_j g_j + lam_j h_j^2 / 2``.
    size : float
        ``sum |h_j g_j| + |lam_j| h_j^2 / 2``: the scale against which the model error is
        judged.

    Notes
    -----
    The followed mode is maximised: ``h = 2 g / (|lam| + sqrt(lam^2 + 4 g^2))`` if ``lam < 0``
    (the Newton step ``-g / lam`` near the saddle), else ``+-trust`` with the sign of ``g``.
    Every other mode ``j`` is minimised by the rational-function step
    ``h_j = -2 g_j / (lam_j + sqrt(lam_j^2 + 4 g_j^2))``: Newton's ``-g_j / lam_j`` where
    ``lam_j > 0`` and ``g_j`` is small, a downhill step of length ``|g_j| / |lam_j|``-ish otherwise
    (also along negative modes, which a transition state must lose).  Modes below
    ``thr`` in magnitude with vanishing gradient do not move.  The downhill part is scaled
    to at most ``max_step``, then the whole step to at most ``trust``.
    """
    vecs = pair.vectors
    lams = pair.spectrum
    gc = vecs.T @ g
    overlaps = np.abs(vecs.T @ v)
    k = int(np.argmax(overlaps))
    h = np.zeros_like(gc)
    for j in range(gc.size):
        gj, lj = float(gc[j]), float(lams[j])
        if j == k:
            continue
        root = math.sqrt(lj * lj + 4.0 * gj * gj)
        den = lj + root
        h[j] = -2.0 * gj / den if den > 0.0 else 0.0
    down = float(np.linalg.norm(h))
    if down > max_step:
        h *= max_step / down
    gk = float(gc[k])
    if lam < -thr:
        hk = 2.0 * gk / (-lam + math.sqrt(lam * lam + 4.0 * gk * gk))
    else:
        hk = trust if gk >= 0.0 else -trust
    h[k] = math.copysign(min(abs(hk), trust), hk)
    total = float(np.linalg.norm(h))
    if total > trust:
        h *= trust / total
    pred = float(h @ gc + 0.5 * np.sum(lams * h * h))
    size = float(np.sum(np.abs(h * gc)) + 0.5 * np.sum(np.abs(lams) * h * h))
    return vecs @ h, pred, size


def _ill_conditioned(pair, v) -> bool:
    """True if some mode other than the followed one has ``|lambda_j| <= SOFT_RATIO * scale``.

    L-BFGS steps in the tangent space move along a mode of curvature ``lambda_j`` by about
    ``g_j / max|lambda|`` per step instead of Newton's ``g_j / lambda_j``: along such a soft
    mode (the L2-held weights of a network, ``2 lam = 2e-4`` against stiff curvatures of
    order 10) it would take thousands of steps.
    """
    lams = pair.spectrum
    k = int(np.argmax(np.abs(pair.vectors.T @ v)))
    others = np.abs(np.delete(lams, k))
    return bool(others.size) and float(others.min()) <= SOFT_RATIO * pair.scale


def _downhill_step(pair, g, v, radius):
    """Rational-function minimisation step in every dense mode but the followed one.

    Parameters
    ----------
    pair : EigenPair
        Dense eigenpair (``spectrum``, ``vectors``).
    g : ndarray, shape (ndim,)
        Gradient at the point the step starts from.
    v : ndarray, shape (ndim,)
        The followed mode (excluded: its column is the one of largest overlap).
    radius : float
        Largest step length.

    Returns
    -------
    step : ndarray, shape (ndim,)
    pred : float
        Predicted energy change (negative unless the step is zero).
    """
    vecs = pair.vectors
    lams = pair.spectrum
    gc = vecs.T @ g
    k = int(np.argmax(np.abs(vecs.T @ v)))
    root = np.sqrt(lams * lams + 4.0 * gc * gc)
    den = lams + root
    h = np.where(den > 0.0, -2.0 * gc / np.where(den > 0.0, den, 1.0), 0.0)
    h[k] = 0.0
    norm = float(np.linalg.norm(h))
    if norm > radius:
        h *= radius / norm
    pred = float(h @ gc + 0.5 * np.sum(lams * h * h))
    return vecs @ h, pred


def find_transition_state(system, coords, settings: TSSearchSettings | None = None, *,
                          initial_direction=None, rng: np.random.Generator | None = None,
                          method: str = "auto", dense_limit: int = DENSE_LIMIT,
                          max_escapes: int = MAX_ESCAPES) -> TSResult:
    """Hybrid eigenvector-following from ``coords`` to a transition state.

    Parameters
    ----------
    system : mlcore.landscape.System
        The landscape: ``energy_gradient``, ``hessian`` (dense path) or ``hessian_vector``,
        ``zero_mode_vectors``, ``n_zero_modes``, ``project_tangent`` / ``retract``.
    coords : array_like, shape (ndim,)
        Starting point (not modified).
    settings : TSSearchSettings, optional
        Default ``TSSearchSettings()``.
    initial_direction : array_like, shape (ndim,), optional
        Guess of the transition mode (e.g. the band tangent at a climbing image): the warm
        start of the first eigenvector solve on the hvp path and the sign convention of
        the reported eigenvector.  Default: random (from ``rng``).
    rng : numpy.random.Generator, optional
        Random start vectors and escape signs; default ``numpy.random.default_rng(0)``.
    method : {"auto", "dense", "hvp"}
        Eigenvector method (see :mod:`mloptim.rayleigh_ritz`); ``auto`` is dense for
        ``ndim <= dense_limit``.
    dense_limit : int
        Default 300.
    max_escapes : int
        Escapes from a higher-index saddle before the search gives up (module docstring).

    Returns
    -------
    TSResult
    """
    s = TSSearchSettings() if settings is None else settings
    if rng is None:
        rng = np.random.default_rng(0)
    n = int(system.ndim)
    sqrt_n = math.sqrt(n)
    if method == "auto":
        method = "dense" if n <= dense_limit else "hvp"
    evaluate = _Evaluator(system)
    x = _retract(system, np.array(as_coords(coords, n), dtype=np.float64))
    e, g = evaluate(x)
    v = (rng.standard_normal(n) if initial_direction is None
         else np.array(as_coords(initial_direction, n, "initial_direction")))
    ref_sign = None if initial_direction is None else v.copy()
    trust = s.max_uphill_step
    h0 = 0.1
    n_hvp = n_hess = 0
    escapes = 0
    scale = None
    pair: EigenPair | None = None
    n_negative = None
    reuse_pair = False
    all_modes = method == "dense" and _all_modes_wanted(system, s)
    tangent_trust = s.max_step
    success = False
    message = f"maximum number of iterations ({s.max_iter}) reached"
    it = 0
    while True:
        if not (math.isfinite(e) and np.all(np.isfinite(g))):
            message = "energy or gradient not finite"
            break
        if not reuse_pair:
            space = ConstrainedSpace.at(system, x)
            if method == "hvp" and scale is None:
                # spectrum scale once, for the zero threshold of the index count
                scale, used = spectrum_scale(system, x, space, rng)
                n_hvp += used
            pair = lowest_eigenpair(system, x, space, v0=v, method=method,
                                    dense_limit=dense_limit, max_iter=s.eig_max_iter,
                                    tol=s.eig_tol, zero_tol=s.zero_eig_tol, scale=scale,
                                    rng=rng)
            n_hvp += pair.n_hvp
            n_hess += pair.n_hessian
            lam = pair.value
            vec = pair.vector
            ref = v if ref_sign is None else ref_sign
            if float(vec @ ref) < 0.0:
                vec = -vec
            v = vec
            ref_sign = None
        reuse_pair = False
        thr = max(pair.zero_threshold, s.zero_eig_tol * (scale or 0.0))
        rms = float(np.linalg.norm(g)) / sqrt_n

        # ---- convergence, with the index check
        if rms <= s.tol and lam < -thr:
            if pair.spectrum is None:
                # hvp path: polish the eigenpair that is reported (warm start, tighter tol)
                pair = lowest_eigenpair(system, x, space, v0=v, method=method,
                                        dense_limit=dense_limit, max_iter=4 * s.eig_max_iter,
                                        tol=FINAL_EIG_TOL_FACTOR * s.eig_tol,
                                        zero_tol=s.zero_eig_tol, scale=scale, rng=rng)
                n_hvp += pair.n_hvp
                lam = pair.value
                v = pair.vector if float(pair.vector @ v) >= 0.0 else -pair.vector
            lam2, u, used = _second_negative(system, x, space, pair, s, method, dense_limit, rng)
            n_hvp += used
            if pair.n_negative is not None:
                n_negative = pair.n_negative
            else:
                n_negative = 1 if lam2 >= -thr else 2
            if n_negative == 1:
                success = True
                message = (f"converged: RMS gradient {rms:.3g} <= tol {s.tol:.3g}, one negative "
                           f"eigenvalue {lam:.6g}")
                break
            more = "" if pair.n_negative is not None else "at least "
            if escapes >= max_escapes:
                message = (f"converged to a saddle of index {more}{n_negative} (eigenvalues "
                           f"{lam:.6g}, {lam2:.6g}), not a transition state; "
                           f"{escapes} escapes tried")
                break
            escapes += 1
            sign = 1.0 if rng.random() < 0.5 else -1.0
            x = _retract(system, x + sign * s.max_uphill_step * u)
            e, g = evaluate(x)
            trust = s.max_uphill_step
            n_negative = None
            continue
        n_negative = None
        if it >= s.max_iter:
            break
        it += 1

        if (all_modes and pair.vectors is not None and lam < -thr
                and pair.spectrum.size > 1 and pair.spectrum[1] > thr):
            # ---- dense, flat landscape: one step in every mode at once (Newton / RFO)
            step, pred, size = _all_mode_step(pair, g, v, lam, thr, trust, s.max_step)
            xt = x + step
            et, gt = evaluate(xt)
            if not math.isfinite(et):
                trust = max(0.5 * trust, MIN_TRUST)
                reuse_pair = True
                continue
            err = abs((et - e) - pred)
            noise = 1e-12 * max(1.0, abs(e))
            if err > noise + size and trust > MIN_TRUST:
                trust = max(0.5 * trust, MIN_TRUST)    # the model is wrong: reject the step
                reuse_pair = True
                continue
            step_len = float(np.linalg.norm(step))
            if err > noise + 0.5 * size:
                trust = max(0.5 * step_len, MIN_TRUST)
            elif err <= noise + 0.2 * size and step_len >= 0.999 * trust:
                trust = min(1.5 * trust, s.max_uphill_step)
            x, e, g = xt, et, gt
            continue

        # ---- uphill step along v
        gv = float(g @ v)
        if lam < -thr:
            h = -gv / lam
        else:
            h = trust if gv >= 0.0 else -trust
        if abs(h) > trust:
            h = math.copysign(trust, h)
        limited = abs(h) >= 0.999 * trust
        xt = _retract(system, x + h * v)
        et, gt = evaluate(xt)
        pred = h * gv + 0.5 * lam * h * h
        actual = et - e
        noise = 1e-12 * max(1.0, abs(e))
        if not math.isfinite(et):
            trust = max(0.5 * trust, MIN_TRUST)
            reuse_pair = True
            continue
        if abs(pred) > noise and abs(actual) > noise:
            ratio = actual / pred
            if ratio < 0.0 and trust > MIN_TRUST:
                trust = max(0.5 * trust, MIN_TRUST)   # wrong direction: reject the step
                reuse_pair = True                       # x unchanged: same eigenpair
                continue
            if ratio < 0.5 or ratio > 2.0:
                trust = max(0.5 * trust, MIN_TRUST)
            elif 0.8 <= ratio <= 1.25 and limited:
                trust = min(1.5 * trust, s.max_uphill_step)
        x, e, g = xt, et, gt

        if all_modes and pair.vectors is not None and _ill_conditioned(pair, v):
            # ---- dense: one rational-function step downhill in the other modes (the
            # Hessian of the previous point as the model), accepted if the energy drops
            step, pred = _downhill_step(pair, g, v, min(tangent_trust, s.max_step))
            if float(np.linalg.norm(step)) > 0.0:
                xt = x + step
                et, gt = evaluate(xt)
                actual = et - e
                noise = 1e-12 * max(1.0, abs(e))
                if math.isfinite(et) and actual <= noise:
                    ratio = actual / pred if pred < 0.0 else 1.0
                    step_len = float(np.linalg.norm(step))
                    if ratio < 0.25:
                        tangent_trust = max(0.5 * step_len, MIN_TRUST)
                    elif ratio > 0.75 and step_len >= 0.999 * tangent_trust:
                        tangent_trust = min(2.0 * tangent_trust, s.max_step)
                    x, e, g = xt, et, gt
                else:
                    tangent_trust = max(0.25 * float(np.linalg.norm(step)), MIN_TRUST)
            continue

        # ---- minimisation orthogonal to v and to the zero modes
        sub = ConstrainedSpace.at(system, x).with_rows(v[None, :])
        problem = _TangentProblem(system, evaluate, sub)
        g_perp0 = sub.project(g, at=x)
        res = lbfgs_python(problem, x, tol=0.5 * s.tol, M=TANGENT_MEMORY, max_step=s.max_step,
                           max_rise=TANGENT_MAX_RISE * max(1.0, abs(e)),
                           max_iter=s.tangent_steps, H0=h0)
        step = res.coords - x
        dgrad = res.grad - g_perp0
        sy = float(step @ dgrad)
        if sy > 0.0:
            h0 = min(max(sy / float(dgrad @ dgrad), H0_BOUNDS[0]), H0_BOUNDS[1])
        x = res.coords
        e, g = evaluate(x)

    rms = float(np.linalg.norm(g)) / sqrt_n
    return TSResult(coords=x, energy=e, eigenvalue=float(pair.value) if pair else math.nan,
                    eigenvector=v, rms=rms, n_iter=it, n_evaluations=evaluate.count,
                    success=success, message=message, n_hessian_vector=n_hvp,
                    n_hessian=n_hess, n_negative=n_negative, n_escapes=escapes, grad=g)


def verify_transition_state(system, coords, zero_tol: float = DEFAULT_ZERO_TOL,
                            **characterise_kwargs) -> tuple[bool, StationaryInfo]:
    """Check that ``coords`` has exactly one negative Hessian eigenvalue beyond the zero modes.

    Parameters
    ----------
    system : mlcore.landscape.System
    coords : array_like, shape (ndim,)
    zero_tol : float
        Relative zero tolerance of :func:`mlcore.stationary.characterise`.
    **characterise_kwargs
        Passed on (e.g. ``method="hvp", log_product=False`` for large landscapes, which
        then forms no dense Hessian).

    Returns
    -------
    ok : bool
        ``info.is_transition_state`` is True (one negative eigenvalue, no unexplained zero
        eigenvalues); False also when the counts could not be determined.
    info : StationaryInfo
    """
    info = characterise(system, coords, zero_tol=zero_tol, **characterise_kwargs)
    return bool(info.is_transition_state), info
