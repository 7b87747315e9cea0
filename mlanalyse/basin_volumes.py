"""Basin volumes by thermodynamic integration (SPEC section 6, item 6).

The basin of attraction of a minimum ``x0`` is the set of points whose quench (the
project's L-BFGS) ends at ``x0``.  Its volume inside the sampling box ``low <= x <= high``
(the domain of random starts) is

    V = Z(0),   Z(k) = int_{basin and box} exp(-k |x - x0|^2 / 2) dx.

For a stiff spring ``k_max`` the Gaussian lies inside the basin and ``Z(k_max)`` is known,
``(2 pi / k_max)^(d / 2)``.  A ladder of springs from ``k_max`` down to ``k_min`` (where the
walker already roams the whole basin) is sampled by Metropolis random walks confined to the
basin: a move is rejected if it leaves the box or if its quench ends elsewhere.  The
multistate Bennett acceptance ratio (MBAR: M. R. Shirts and J. D. Chodera, J. Chem. Phys.
129 (2008) 124105, solved here by its self-consistent equations) combines every sample
into the free energies of all springs and of ``k = 0``, which was never sampled:

    log V = log Z(k_max) - (f(0) - f(k_max)),   f = -log Z + constant.

From the volumes of the minima of a file: the fraction of the box their basins cover, the
number of minima the box holds, ``Omega = V_box / <V>``, the Boltzmann-like entropy
``S_B = -sum p_i log p_i`` with ``p_i = V_i / sum V`` (the chance that a random start
quenches to minimum i) and the Gibbs-like entropy ``S_G = log Omega`` (Martiniani et al.,
Phys. Rev. E 94 (2016) 031301 use the same two).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from mlcore.errors import InputError


# ---------------------------------------------------------------------------- MBAR
def mbar_free_energies(u_kn: np.ndarray, n_k, tol: float = 1e-10,
                       max_iter: int = 100000) -> np.ndarray:
    """Dimensionless free energies ``f_i = -log Z_i`` (``f_0 = 0``) of every state.

    Parameters
    ----------
    u_kn : ndarray, shape (K, N)
        Reduced potential of every sample ``n`` (all states' samples pooled) in every state
        ``i``; states with ``n_k[i] = 0`` are estimated without samples of their own.
    n_k : array_like of int, shape (K,)
        Samples drawn from each state (the pooled samples are in this order).
    """
    u = np.asarray(u_kn, dtype=np.float64)
    n_k = np.asarray(n_k, dtype=np.float64)
    if u.shape[1] != int(n_k.sum()):
        raise ValueError("u_kn has a column per sample: its width must be sum(n_k)")
    sampled = n_k > 0
    log_n = np.log(n_k[sampled])
    f = np.zeros(len(n_k))
    for _ in range(max_iter):
        # log of the mixture density denominator of every sample
        log_den = logsumexp(log_n[:, None] + f[sampled][:, None] - u[sampled], axis=0)
        f_new = -logsumexp(-u - log_den[None, :], axis=1)
        f_new -= f_new[0]
        if np.max(np.abs(f_new - f)) < tol:
            return f_new
        f = f_new
    return f


# ---------------------------------------------------------------------------- sampling
@dataclass
class BasinVolume:
    """The volume of one basin and how it was obtained.

    Attributes
    ----------
    log_volume : float
        ``log V`` (natural log, in the units of the coordinates to the power ``d``).
    log_volume_error : float
        Standard error of ``log V`` from batch means (the MBAR estimate repeated on four
        consecutive blocks of every walk).
    springs : ndarray
        The spring constants sampled, stiffest first.
    acceptance : ndarray
        Acceptance of the moves at each spring.
    left_basin : ndarray
        Fraction of proposals rejected because their quench ended elsewhere.
    n_quenches : int
    """

    log_volume: float
    log_volume_error: float
    springs: np.ndarray
    acceptance: np.ndarray
    left_basin: np.ndarray
    n_quenches: int


def _log_volume(r2_per_spring: list, springs: np.ndarray, d: int) -> float:
    """MBAR over the springs and ``k = 0`` from the squared distances of each walk."""
    r2 = np.concatenate(r2_per_spring)
    states = np.concatenate([springs, [0.0]])
    f = mbar_free_energies(0.5 * states[:, None] * r2[None, :],
                           [len(x) for x in r2_per_spring] + [0])
    return 0.5 * d * math.log(2.0 * math.pi / springs[0]) - (f[-1] - f[0])


def basin_volume(quench_to, x0, box, springs, n_samples: int,
                 rng: np.random.Generator, n_burn: int | None = None) -> BasinVolume:
    """Volume of the basin of ``x0`` inside ``box``.

    Parameters
    ----------
    quench_to : callable
        ``quench_to(x) -> bool``: does the quench from ``x`` end at ``x0``?
    x0 : array_like, shape (d,)
    box : (low, high)
        Arrays (or scalars) of shape ``(d,)``: the sampling domain.
    springs : array_like
        Spring constants, decreasing; the first so stiff that its Gaussian lies inside the
        basin, the last so weak that the walker covers the basin.
    n_samples : int
        Samples kept per spring (after ``n_burn`` moves that tune the step); at least 8.
    rng : numpy.random.Generator
    """
    x0 = np.asarray(x0, dtype=np.float64)
    d = x0.size
    low = np.broadcast_to(np.asarray(box[0], dtype=np.float64), (d,))
    high = np.broadcast_to(np.asarray(box[1], dtype=np.float64), (d,))
    springs = np.asarray(springs, dtype=np.float64)
    if len(springs) < 2 or np.any(np.diff(springs) >= 0) or springs[-1] <= 0:
        raise InputError("springs must be positive and strictly decreasing (at least two)")
    if np.any(high <= low) or np.any(x0 < low) or np.any(x0 > high):
        raise InputError("the minimum must lie inside a non-empty sampling box")
    if n_samples < 8:
        raise InputError(f"n_samples = {n_samples}: at least 8 samples per spring")
    n_burn = n_samples // 4 if n_burn is None else n_burn
    widest = float(np.max(high - low))
    samples, acc, left, n_q = [], [], [], 0
    x = x0.copy()
    for k in springs:
        step = min(1.0 / math.sqrt(k), widest)
        r2 = float((x - x0) @ (x - x0))
        kept = np.empty(n_samples)
        n_acc = n_left = 0
        for it in range(n_burn + n_samples):
            trial = x + rng.normal(0.0, step, d)
            t2 = float((trial - x0) @ (trial - x0))
            ok = bool(np.all(trial >= low) and np.all(trial <= high)) and \
                math.log(rng.random() + 1e-300) < -0.5 * k * (t2 - r2)
            if ok:
                n_q += 1
                if quench_to(trial):
                    x, r2 = trial, t2
                else:
                    ok = False
                    n_left += it >= n_burn
            if it < n_burn:         # tune the step towards 40 % acceptance
                step = min(step * (1.05 if ok else 0.97), 2.0 * widest)
            else:
                n_acc += ok
                kept[it - n_burn] = r2
        samples.append(kept)
        acc.append(n_acc / n_samples)
        left.append(n_left / n_samples)
    log_v = _log_volume(samples, springs, d)
    blocks = [_log_volume([np.array_split(x, 4)[b] for x in samples], springs, d)
              for b in range(4)]
    return BasinVolume(log_volume=float(log_v), log_volume_error=float(np.std(blocks) / 2.0),
                       springs=springs, acceptance=np.array(acc), left_basin=np.array(left),
                       n_quenches=n_q)


def contained_spring(quench_to, x0, box, k: float, rng: np.random.Generator,
                     n_probe: int = 60, max_tries: int = 12) -> float:
    """The first of ``k, 16 k, 256 k, ...`` whose Gaussian around ``x0`` lies inside the
    basin and the box: ``n_probe`` independent draws all in the box and all quenching to
    ``x0``.  Needed where the minimum sits near the edge of the box (phases near 0) or in
    a narrow basin: ``Z(k_max)`` is taken as the full Gaussian integral."""
    x0 = np.asarray(x0, dtype=np.float64)
    low, high = box
    for _ in range(max_tries):
        pts = x0 + rng.normal(0.0, 1.0 / math.sqrt(k), (n_probe, x0.size))
        if np.all((pts >= low) & (pts <= high)) and all(quench_to(p) for p in pts):
            return float(k)
        k *= 16.0
    raise InputError("no spring keeps the walker inside the basin and the box (the minimum "
                     "lies on the edge of the box, or its basin is too narrow)")


def spring_ladder(k_max: float, k_min: float, n_min: int, ratio: float = 4.0) -> np.ndarray:
    """Geometric springs from ``k_max`` to ``k_min``: at least ``n_min`` of them, and
    neighbours at most ``ratio`` apart (enough overlap for MBAR)."""
    if k_min >= k_max:
        raise InputError("the stiffest spring must be above the weakest")
    n = max(int(n_min), math.ceil(math.log(k_max / k_min) / math.log(ratio)) + 1)
    return np.geomspace(k_max, k_min, n)


# ---------------------------------------------------------------------------- a file
def sampling_box(system, half_width: float | None):
    """The domain of random starts: ``[-L, L]^d`` for ``half_width = L``, else the
    landscape's own (``system.sampling_box()``), else an input error."""
    if half_width is not None:
        if not half_width > 0:
            raise InputError(f"--box {half_width}: the half-width must be positive")
        return -float(half_width), float(half_width)
    own = getattr(system, "sampling_box", None)
    if own is None:
        raise InputError("this landscape has no sampling box of its own: give --box L "
                         "(the domain |x_i| <= L of random starts)")
    return own()


def direct_fractions(quench, targets, tol: float, low, high, n: int,
                     rng: np.random.Generator) -> np.ndarray:
    """Plain Monte Carlo check: the fraction of ``n`` uniform random starts in the box
    whose quench ends within ``tol`` of each target (an unbiased estimate of ``V / V_box``,
    usable for basins that are not too small)."""
    targets = np.asarray(targets)
    hits = np.zeros(len(targets))
    for _ in range(n):
        end = quench(rng.uniform(low, high))
        if end is not None:
            d = np.linalg.norm(targets - end, axis=1)
            hits += d <= tol
    return hits / n


def file_basin_volumes(path, half_width: float | None = None, n_samples: int = 400,
                       lowest: int | None = 10, n_springs: int = 12, seed: int = 0,
                       progress=None, n_direct: int = 0, include_degenerate: bool = False
                       ) -> dict:
    """Basin volumes of the lowest minima of a file, and the counts and entropies.

    A sample belongs to the basin of minimum ``m`` when its quench (the file's stored
    [mlgmin.quench] settings, else the defaults) ends within the landscape's identity
    distance of ``m`` itself: the basin of this copy, not of its symmetry images.  A stored
    minimum outside the box is replaced by a symmetry image inside it where the landscape
    has one (``image_in_box``: the regression fits); the box may hold several copies of a
    fit (e.g. the two orders of the regression's factors), each a basin of its own.
    ``n_direct > 0`` adds the plain Monte Carlo check :func:`direct_fractions` (with its
    binomial standard error) to every minimum's entry.  Degenerate minima (``n_extra_zero
    > 0``: a valley, whose quenches end anywhere along it) are left out unless
    ``include_degenerate``; their count is ``n_degenerate_left_out`` in the result.
    """
    from mlcore.optimize import LBFGS
    from mlcore.session import load_system, program_settings

    reader, system = load_system(path)
    if getattr(system, "flat", True) is False:
        raise InputError("basin volumes need a flat landscape (not a sphere)")
    mins = reader.minima()
    if len(mins) == 0:
        raise InputError(f"{path}: no minima")
    low, high = sampling_box(system, half_width)
    d = int(system.ndim)
    low = np.broadcast_to(np.asarray(low, dtype=np.float64), (d,))
    high = np.broadcast_to(np.asarray(high, dtype=np.float64), (d,))
    q = program_settings("mlgmin", reader, path, None)[0].quench
    lbfgs = LBFGS(tol=q.tol, M=q.M, max_step=q.max_step, max_rise=q.max_rise)
    order = np.argsort(np.asarray(mins.energy), kind="stable")
    coords = np.array(mins.coords, dtype=np.float64)
    image = getattr(system, "image_in_box", None)
    for i in range(len(coords)):        # a symmetry copy of the fit inside the box
        if image is not None and not np.all((coords[i] >= low) & (coords[i] <= high)):
            found = image(coords[i], low, high)
            if found is not None:
                coords[i] = found
    inside = np.all((coords >= low) & (coords <= high), axis=1)
    degenerate = np.asarray(mins.n_extra_zero) > 0
    left_out = 0 if include_degenerate else int(degenerate.sum())
    if not include_degenerate:
        inside &= ~degenerate
    order = [i for i in order if inside[i]]
    if lowest is not None:
        order = order[:int(lowest)]
    if not order:
        raise InputError(f"{path}: no stored minimum lies inside the sampling box")
    tol = float(system.distance_tol)
    rng = np.random.default_rng(seed)
    results = []
    for i in order:
        x0 = coords[i]
        others = np.delete(coords, i, axis=0)
        nearest = float(np.min(np.linalg.norm(others - x0, axis=1))) if len(others) else 1.0
        size = float(np.max(high - low))

        def quench_to(x, x0=x0):
            res = lbfgs.run(system, x)
            return bool(res.success and np.linalg.norm(res.coords - x0) <= tol)

        k_max = contained_spring(quench_to, x0, (low, high),
                                 d / (0.02 * min(nearest, size)) ** 2, rng)
        springs = spring_ladder(k_max, 1.0 / (16.0 * size ** 2), n_springs)

        bv = basin_volume(quench_to, x0, (low, high), springs, n_samples, rng)
        results.append({"id": int(i) + 1, "energy": float(mins.energy[i]),
                        "log_volume": bv.log_volume, "log_volume_error": bv.log_volume_error,
                        "n_quenches": bv.n_quenches,
                        "acceptance_stiffest": float(bv.acceptance[0]),
                        "left_basin_weakest": float(bv.left_basin[-1])})
        if progress is not None:
            progress(len(results), len(order))
    log_box = float(np.sum(np.log(high - low)))
    if n_direct > 0:
        def quench(x):
            res = lbfgs.run(system, x)
            return np.asarray(res.coords) if res.success else None

        frac = direct_fractions(quench, coords[order], tol, low, high, int(n_direct), rng)
        for r, f in zip(results, frac):
            r["volume_fraction"] = float(math.exp(r["log_volume"] - log_box))
            r["direct_fraction"] = float(f)
            r["direct_fraction_error"] = float(math.sqrt(f * (1.0 - f) / n_direct))
    summary = summarise_volumes(results, log_box, d)
    summary["n_degenerate_left_out"] = left_out
    return summary


def summarise_volumes(results: list[dict], log_box: float, d: int) -> dict:
    """Counts and entropies from basin volumes (see the module docstring)."""
    log_v = np.array([r["log_volume"] for r in results])
    p = np.exp(log_v - logsumexp(log_v))
    log_mean = logsumexp(log_v) - math.log(len(log_v))
    return {"minima": results, "dimension": int(d), "log_box_volume": float(log_box),
            "fraction_of_box_covered": float(math.exp(logsumexp(log_v) - log_box)),
            "number_of_minima": float(math.exp(log_box - log_mean)),
            "boltzmann_entropy": float(-np.sum(p * np.log(p))),
            "gibbs_entropy": float(log_box - log_mean)}
