"""Rate constants between two sets of minima: harmonic TST and graph transformation.

The network
-----------
Minima are the states of a master equation; every transition state (TS) joining two
different minima is a pair of elementary rates.  A TS whose two minima are the same
(a degenerate rearrangement) changes nothing and is ignored.  Several TSs between the same
pair add their rates.  Temperatures are in energy units (k_B = 1).

Harmonic transition-state theory (PATHSAMPLE's convention)
----------------------------------------------------------
With ``L_i`` = ``log_product`` of minimum ``i`` (ln of the product of its kappa non-zero
Hessian eigenvalues, i.e. of the squared angular frequencies omega^2 at unit mass) and
``L_t`` = ``log_product`` of the TS (ln of the product of its kappa - 1 *positive*
eigenvalues; the unstable mode is left out, so the TS has one mode fewer), the rate from
minimum ``i`` over TS ``t`` is::

    k_t(i) = (o_i / o_t) * (prod_{m=1}^{kappa} nu_i,m / prod_{m=1}^{kappa-1} nu_t,m)
                         * exp(-(E_t - E_i) / T)

    ln k_t(i) = ln(o_i / (2 pi o_t)) + (L_i - L_t) / 2 - (E_t - E_i) / T

with ``nu = omega / (2 pi)`` the normal-mode frequencies and ``o`` the order of the
point/symmetry group (``symmetry_order``).  Because the minimum has one frequency more than
the TS, the prefactor is a frequency: with ``E`` in the cost function's units and
coordinates of unit mass, rates are in units of ``sqrt(energy) / coordinate`` (the unit of
omega), and mean first-passage times in its inverse.  The equilibrium occupation of
minimum ``i`` in the harmonic superposition approximation, consistent with these rates
(detailed balance ``k_t(i) p_i = k_t(j) p_j``), is::

    ln p_i = -E_i / T - ln o_i - L_i / 2 + const.

Rates between sets A and B (Wales, J. Chem. Phys. 130, 204111 (2009); Trygubenko and Wales,
J. Chem. Phys. 124, 234110 (2006))
------------------------------------------------------------------------------------------
Every minimum ``i`` has a waiting time ``tau_i = 1 / sum_j k_ji`` and branching
probabilities ``P_ji = k_ji tau_i``.  Graph transformation (GT) removes a node ``x`` and
renormalises its neighbours ``beta``, ``gamma``::

    P_gamma,beta += P_gamma,x P_x,beta / (1 - P_xx)       tau_beta += P_x,beta tau_x / (1 - P_xx)

which preserves, for every remaining node, the probabilities of where it goes next among
the remaining nodes and the mean time that takes (``1 - P_xx`` is computed as the sum of
``x``'s other branching probabilities, as Wales recommends, never by subtraction).  The
intermediate minima I (neither A nor B) are removed first, smallest degree first.  Each
removal records ``x``'s branching probabilities and waiting time at that moment, so that
committors and mean first-passage times of every removed minimum follow afterwards by one
back-substitution in reverse order (GT is Gaussian elimination of the master equation; this
is its back-substitution).  Reported, for A<-B (and likewise B<-A):

* ``T_A(b)``: mean first-passage time from minimum ``b`` to the set A (A absorbing); also
  from every other minimum (``mfpt_to_A``).  ``mfpt_AB = sum_b p_b T_A(b) / p_B``.
* ``k_NSS = (1 / p_B) sum_b p_b / T_A(b)`` (Wales 2009, "NSS"), the headline ``k_AB``.
* ``k_SS = (1 / p_B) sum_b p_b C_b^A / tau_b`` with ``C_b^A`` the probability that a
  trajectory leaving ``b`` reaches A before returning to B (steady-state approximation for
  the intermediates; equal to the transition-path-theory reactive flux divided by p_B).
* ``k_KMC = (1 / p_B) sum_b p_b C_b^A / tau'_b`` with ``tau'_b`` the waiting time of ``b``
  after the intermediates were removed.
* ``committor_A``: for every minimum, the probability of reaching A before B (1 on A, 0 on B).

Wales (2009) defines these three rate constants and PATHSAMPLE's NGT analysis reports
them for both directions (SS, NSS, KMC; not checked against a PATHSAMPLE run here); all
three are returned, and the headline ``k_AB``/``k_BA`` of the JSON output are the NSS ones
(the inverse of the equilibrium-weighted first-passage rates, exact for the master
equation).  No regrouping of minima into free-energy groups is done.

Minima in other connected components than the one that holds A and B cannot exchange
probability with them; they are left out of the master equation and listed in
``excluded``.  All of A and B must lie in one component (:class:`InputError` otherwise).

Cost: the graph is kept sparse (a dictionary of neighbours per minimum), so memory is the
number of TS edges plus the fill-in that the elimination creates; no n x n array is formed.
Once the fill-in has made the remaining core dense (smallest degree >= ``DENSE_DEGREE``),
that core is finished with NumPy arrays if it has at most ``DENSE_MAX`` (4000) nodes:
quadratic memory in the core only.  Measured on 2 shared cores: a random network of 20,000
minima (a tree plus 2000 extra edges; the core fills in to about 540 nodes) takes 3 s (34 s
without the dense core).  Removing the set B (or A) at the end is O(|B|^3) time and
O(|B|^2) memory.  :func:`linear_algebra_rates` (the test oracle) is dense (n x n matrices),
fine up to a few thousand minima (3000 minima: about 8 s).
"""
from __future__ import annotations

import heapq
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mlcore.errors import InputError

__all__ = [
    "Network",
    "RateResult",
    "TSTRates",
    "equilibrium_log_populations",
    "linear_algebra_rates",
    "network_from",
    "ngt_rates",
    "run_rates",
    "tst_rates",
]

_LOG_2PI = math.log(2.0 * math.pi)


# ============================================================================ network
@dataclass(frozen=True)
class Network:
    """The stationary points that the rates need (arrays, ids 1-based).

    Attributes
    ----------
    min_energy, min_log_product : ndarray, shape (n_minima,)
        Energy and ln of the product of the non-zero Hessian eigenvalues of each minimum.
    min_order : ndarray of int, shape (n_minima,)
        Order of each minimum's point/symmetry group.
    ts_energy, ts_log_product : ndarray, shape (n_ts,)
        Energy and ln of the product of the positive Hessian eigenvalues of each TS.
    ts_order : ndarray of int, shape (n_ts,)
    min1, min2 : ndarray of int, shape (n_ts,)
        1-based ids of the minima each TS joins.
    min_degenerate : ndarray of bool, shape (n_minima,), optional
        Degenerate minima (zero curvatures beyond the symmetries, ``n_extra_zero > 0``):
        the harmonic rate out of them does not exist, so they are left out unless asked.
    """

    min_energy: np.ndarray
    min_log_product: np.ndarray
    min_order: np.ndarray
    ts_energy: np.ndarray
    ts_log_product: np.ndarray
    ts_order: np.ndarray
    min1: np.ndarray
    min2: np.ndarray
    min_degenerate: np.ndarray | None = None

    @property
    def n_minima(self) -> int:
        return int(self.min_energy.shape[0])

    @property
    def n_ts(self) -> int:
        return int(self.ts_energy.shape[0])


def network_from(source) -> Network:
    """A :class:`Network` from a reader/writer of the HDF5 file, a Network, or a mapping.

    Parameters
    ----------
    source : DatabaseReader, Database, Network or mapping
        A mapping needs the keys of :class:`Network` (``min_order`` and ``ts_order``
        default to 1).
    """
    if isinstance(source, Network):
        return source
    if hasattr(source, "minima") and hasattr(source, "ts"):
        mins, ts = source.minima(), source.ts()
        arrays = {"min_energy": mins["energy"], "min_log_product": mins["log_product"],
                  "min_order": mins["symmetry_order"], "ts_energy": ts["energy"],
                  "ts_log_product": ts["log_product"], "ts_order": ts["symmetry_order"],
                  "min1": ts["min1"], "min2": ts["min2"],
                  "min_degenerate": np.asarray(mins["n_extra_zero"]) > 0}
    elif isinstance(source, Mapping):
        arrays = dict(source)
        n_min = len(np.atleast_1d(arrays["min_energy"]))
        n_ts = len(np.atleast_1d(arrays["ts_energy"]))
        arrays.setdefault("min_order", np.ones(n_min, dtype=np.int64))
        arrays.setdefault("ts_order", np.ones(n_ts, dtype=np.int64))
    else:
        raise TypeError(f"cannot read a network from {type(source).__name__}")
    out = {}
    for name in ("min_energy", "min_log_product", "ts_energy", "ts_log_product"):
        out[name] = np.array(arrays[name], dtype=np.float64).reshape(-1)
    for name in ("min_order", "ts_order", "min1", "min2"):
        out[name] = np.array(arrays[name], dtype=np.int64).reshape(-1)
    if arrays.get("min_degenerate") is not None:
        out["min_degenerate"] = np.array(arrays["min_degenerate"], dtype=bool).reshape(-1)
    net = Network(**out)
    n, m = net.n_minima, net.n_ts
    if net.min_log_product.shape != (n,) or net.min_order.shape != (n,):
        raise InputError("minimum arrays have different lengths")
    for name in ("ts_log_product", "ts_order", "min1", "min2"):
        if getattr(net, name).shape != (m,):
            raise InputError(f"transition-state array {name} has length "
                             f"{getattr(net, name).shape[0]}, expected {m}")
    bad = np.flatnonzero((net.min1 < 1) | (net.min1 > n) | (net.min2 < 1) | (net.min2 > n))
    if bad.size:
        t = int(bad[0])
        raise InputError(f"transition state {t + 1} joins minima {net.min1[t]} and "
                         f"{net.min2[t]}, but the minima are 1..{n}")
    if np.any(net.min_order < 1) or np.any(net.ts_order < 1):
        raise InputError("symmetry orders must be at least 1")
    return net


# ============================================================================ TST
@dataclass(frozen=True)
class TSTRates:
    """Harmonic TST rate constants of every transition state (formula: module docstring).

    Attributes
    ----------
    temperature : float
    min1, min2 : ndarray of int, shape (n_ts,)
        1-based minima of each TS.
    log_k12, log_k21 : ndarray, shape (n_ts,)
        ln of the rate from ``min1`` to ``min2`` over the TS, and back.  NaN where a log
        product is unknown.
    """

    temperature: float
    min1: np.ndarray
    min2: np.ndarray
    log_k12: np.ndarray
    log_k21: np.ndarray

    @property
    def k12(self) -> np.ndarray:
        """Rate from ``min1`` to ``min2`` (units of omega; see the module docstring)."""
        return np.exp(self.log_k12)

    @property
    def k21(self) -> np.ndarray:
        """Rate from ``min2`` to ``min1``."""
        return np.exp(self.log_k21)


def _check_temperature(temperature) -> float:
    t = float(temperature)
    if not (math.isfinite(t) and t > 0.0):
        raise InputError(f"temperature must be positive and finite, got {temperature!r}")
    return t


def _log_rate_from(net: Network, ts: np.ndarray, mins: np.ndarray, t: float) -> np.ndarray:
    """ln k of leaving 0-based minima ``mins`` over 0-based TSs ``ts``."""
    return (np.log(net.min_order[mins] / net.ts_order[ts]) - _LOG_2PI
            + 0.5 * (net.min_log_product[mins] - net.ts_log_product[ts])
            - (net.ts_energy[ts] - net.min_energy[mins]) / t)


def tst_rates(reader_or_arrays, temperature: float) -> TSTRates:
    """Harmonic TST rate constants of every transition state, both directions.

    Parameters
    ----------
    reader_or_arrays : DatabaseReader, Database, Network or mapping
        See :func:`network_from`.
    temperature : float
        In energy units (k_B = 1).

    Returns
    -------
    TSTRates
        ``ln k = ln(o_min / (2 pi o_ts)) + (L_min - L_ts)/2 - (E_ts - E_min)/T``.
    """
    net = network_from(reader_or_arrays)
    t = _check_temperature(temperature)
    idx = np.arange(net.n_ts)
    return TSTRates(temperature=t, min1=net.min1.copy(), min2=net.min2.copy(),
                    log_k12=_log_rate_from(net, idx, net.min1 - 1, t),
                    log_k21=_log_rate_from(net, idx, net.min2 - 1, t))


def equilibrium_log_populations(reader_or_arrays, temperature: float,
                                minima: np.ndarray | None = None) -> np.ndarray:
    """Normalised ln of the harmonic equilibrium occupation of minima (0-based ``minima``,
    default all): ``ln p_i = -E_i/T - ln o_i - L_i/2 - ln Z``."""
    net = network_from(reader_or_arrays)
    t = _check_temperature(temperature)
    idx = np.arange(net.n_minima) if minima is None else np.asarray(minima, dtype=np.int64)
    lp = -net.min_energy[idx] / t - np.log(net.min_order[idx]) - 0.5 * net.min_log_product[idx]
    return lp - _logsumexp(lp)


def _logsumexp(x: np.ndarray) -> float:
    if x.size == 0:
        return -math.inf
    m = float(np.max(x))
    return m + math.log(float(np.sum(np.exp(x - m))))


# ============================================================================ results
@dataclass
class RateResult:
    """Rate constants between A and B, from :func:`ngt_rates` or :func:`linear_algebra_rates`.

    ``AB`` means A<-B (from B to A), ``BA`` means B<-A.  Per-minimum arrays have one entry
    per minimum of the file (row ``id - 1``), NaN for excluded minima.

    Attributes
    ----------
    method : str
        ``"NGT"`` or ``"linear algebra"``.
    temperature : float
    A, B : ndarray of int
        The sets, 1-based ids, sorted.
    excluded : ndarray of int
        1-based ids of minima outside the connected component of A and B (left out).
    ignored_ts : ndarray of int
        1-based ids of transition states whose two minima are the same (no rate).
    log_p_eq : ndarray, shape (n_minima,)
        ln of the equilibrium occupation, normalised over the included minima.
    p_A, p_B : float
        Equilibrium occupation of A and of B.
    committor_A : ndarray, shape (n_minima,)
        Probability of reaching A before B (1 on A, 0 on B).
    mfpt_to_A, mfpt_to_B : ndarray, shape (n_minima,)
        Mean first-passage time to the set (0 on the set itself).
    k_AB_NSS, k_AB_SS, k_AB_KMC, k_BA_NSS, k_BA_SS, k_BA_KMC : float
        See the module docstring.
    mfpt_AB, mfpt_BA : float
        Equilibrium-weighted mean first-passage times A<-B and B<-A.
    """

    method: str
    temperature: float
    A: np.ndarray
    B: np.ndarray
    excluded: np.ndarray
    ignored_ts: np.ndarray
    log_p_eq: np.ndarray
    p_A: float
    p_B: float
    committor_A: np.ndarray
    mfpt_to_A: np.ndarray
    mfpt_to_B: np.ndarray
    k_AB_NSS: float
    k_AB_SS: float
    k_AB_KMC: float
    k_BA_NSS: float
    k_BA_SS: float
    k_BA_KMC: float
    mfpt_AB: float
    mfpt_BA: float
    extra: dict = field(default_factory=dict)

    @property
    def k_AB(self) -> float:
        """The headline rate A<-B (NSS)."""
        return self.k_AB_NSS

    @property
    def k_BA(self) -> float:
        """The headline rate B<-A (NSS)."""
        return self.k_BA_NSS

    def to_dict(self) -> dict:
        """JSON-safe dictionary (NaN becomes None; per-minimum lists indexed by id - 1)."""
        def num(x):
            x = float(x)
            return x if math.isfinite(x) else None

        def lst(a):
            return [num(v) for v in np.asarray(a, dtype=float)]

        return {
            "method": self.method,
            "temperature": float(self.temperature),
            "A": [int(i) for i in self.A],
            "B": [int(i) for i in self.B],
            "convention": "k_AB is A<-B (from B to A); k_AB = k_AB_NSS (Wales 2009); "
                          "rates in units of sqrt(energy)/coordinate, times in its inverse",
            "k_AB": num(self.k_AB_NSS), "k_BA": num(self.k_BA_NSS),
            "k_AB_NSS": num(self.k_AB_NSS), "k_AB_SS": num(self.k_AB_SS),
            "k_AB_KMC": num(self.k_AB_KMC),
            "k_BA_NSS": num(self.k_BA_NSS), "k_BA_SS": num(self.k_BA_SS),
            "k_BA_KMC": num(self.k_BA_KMC),
            "mfpt_AB": num(self.mfpt_AB), "mfpt_BA": num(self.mfpt_BA),
            "p_eq_A": num(self.p_A), "p_eq_B": num(self.p_B),
            "detailed_balance_SS": num(self.k_AB_SS * self.p_B / (self.k_BA_SS * self.p_A)),
            "n_minima": int(self.log_p_eq.shape[0]),
            "n_minima_used": int(self.log_p_eq.shape[0] - self.excluded.shape[0]),
            "excluded_minima": [int(i) for i in self.excluded],
            "ignored_ts": [int(i) for i in self.ignored_ts],
            "committor_A": lst(self.committor_A),
            "mfpt_to_A": lst(self.mfpt_to_A),
            "mfpt_to_B": lst(self.mfpt_to_B),
            **self.extra,
        }


# ============================================================================ set-up
@dataclass
class _Problem:
    """The validated master equation on the component of A and B (0-based local indices)."""

    net: Network
    temperature: float
    A: np.ndarray            # 1-based, sorted
    B: np.ndarray
    nodes: np.ndarray        # 0-based global ids of the included minima
    local: dict              # global 0-based -> local index
    excluded: np.ndarray     # 1-based
    ignored_ts: np.ndarray   # 1-based
    log_rates: dict          # (i_local, j_local) -> ln k(i -> j), summed over TSs
    log_p: np.ndarray        # local, normalised
    in_A: np.ndarray         # bool, local
    in_B: np.ndarray


def _parse_ids(ids, n: int, name: str) -> np.ndarray:
    if isinstance(ids, (int, np.integer)):
        ids = [ids]
    try:
        arr = np.array(list(ids), dtype=np.int64).reshape(-1)
    except (TypeError, ValueError):
        raise InputError(f"set {name}: ids must be integers, got {ids!r}") from None
    if arr.size == 0:
        raise InputError(f"set {name} is empty: give at least one minimum id")
    bad = arr[(arr < 1) | (arr > n)]
    if bad.size:
        raise InputError(f"set {name}: minimum {int(bad[0])} does not exist "
                         f"(the file has minima 1..{n})" if n else
                         f"set {name}: the file has no minima")
    return np.unique(arr)


def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected-component label of each of ``n`` nodes (union-find over edges a-b)."""
    parent = np.arange(n)

    def find(x):
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    for i, j in zip(a.tolist(), b.tolist()):
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[ri] = rj
    return np.array([find(i) for i in range(n)])


def _setup(source, A, B, temperature, include_degenerate: bool = False) -> _Problem:
    net = network_from(source)
    t = _check_temperature(temperature)
    n = net.n_minima
    a_ids, b_ids = _parse_ids(A, n, "A"), _parse_ids(B, n, "B")
    common = np.intersect1d(a_ids, b_ids)
    if common.size:
        raise InputError(f"sets A and B must be disjoint; both contain minimum {int(common[0])}")
    real = net.min1 != net.min2
    degenerate = (np.zeros(n, dtype=bool) if net.min_degenerate is None or include_degenerate
                  else net.min_degenerate)
    for name, ids in (("A", a_ids), ("B", b_ids)):
        bad = ids[degenerate[ids - 1]]
        if bad.size:
            raise InputError(f"minimum {int(bad[0])} of set {name} is degenerate (zero "
                             "curvatures beyond the symmetries: no harmonic rate); leave it "
                             "out or add --include-degenerate")
    if degenerate.any():           # their transition states lead nowhere harmonic
        real &= ~degenerate[net.min1 - 1] & ~degenerate[net.min2 - 1]
    ignored = np.flatnonzero(~real) + 1
    e1, e2 = net.min1[real] - 1, net.min2[real] - 1
    label = _components(n, e1, e2)
    root = label[a_ids[0] - 1]
    for name, ids in (("A", a_ids), ("B", b_ids)):
        off = ids[label[ids - 1] != root]
        if off.size:
            raise InputError(f"minimum {int(off[0])} of set {name} is not connected to minimum "
                             f"{int(a_ids[0])} of set A by transition states; no rate exists")
    keep = label == root
    nodes = np.flatnonzero(keep)
    excluded = np.flatnonzero(~keep) + 1
    local = {int(g): k for k, g in enumerate(nodes)}
    ts_used = np.flatnonzero(real & keep[np.maximum(net.min1 - 1, 0)])
    bad_min = nodes[~np.isfinite(net.min_log_product[nodes]) | ~np.isfinite(net.min_energy[nodes])]
    if bad_min.size:
        raise InputError(f"minimum {int(bad_min[0]) + 1} has no log_product (unknown Hessian "
                         f"eigenvalues; {bad_min.size} minima in all): rates need it")
    bad_ts = ts_used[~np.isfinite(net.ts_log_product[ts_used])
                     | ~np.isfinite(net.ts_energy[ts_used])]
    if bad_ts.size:
        raise InputError(f"transition state {int(bad_ts[0]) + 1} has no log_product (unknown "
                         f"Hessian eigenvalues; {bad_ts.size} transition states in all): "
                         f"rates need it")
    lk12 = _log_rate_from(net, ts_used, net.min1[ts_used] - 1, t)
    lk21 = _log_rate_from(net, ts_used, net.min2[ts_used] - 1, t)
    log_rates: dict = {}
    for m1, m2, l12, l21 in zip((net.min1[ts_used] - 1).tolist(), (net.min2[ts_used] - 1).tolist(),
                                lk12.tolist(), lk21.tolist()):
        i, j = local[m1], local[m2]
        for key, lk in (((i, j), l12), ((j, i), l21)):
            old = log_rates.get(key)
            log_rates[key] = lk if old is None else float(np.logaddexp(old, lk))
    log_p = equilibrium_log_populations(net, t, nodes)
    in_A = np.zeros(nodes.size, dtype=bool)
    in_B = np.zeros(nodes.size, dtype=bool)
    in_A[[local[i - 1] for i in a_ids.tolist()]] = True
    in_B[[local[i - 1] for i in b_ids.tolist()]] = True
    return _Problem(net, t, a_ids, b_ids, nodes, local, excluded, ignored, log_rates, log_p,
                    in_A, in_B)


def _branching(prob: _Problem) -> tuple[list[dict], np.ndarray]:
    """Sparse branching probabilities ``P[i][j]`` (i -> j) and waiting times ``tau``."""
    m = prob.nodes.size
    out_logs: list[dict] = [{} for _ in range(m)]
    for (i, j), lk in prob.log_rates.items():
        out_logs[i][j] = lk
    graph: list[dict] = []
    tau = np.empty(m)
    for i in range(m):
        logs = out_logs[i]
        total = _logsumexp(np.fromiter(logs.values(), dtype=float, count=len(logs)))
        tau[i] = math.exp(-total)
        graph.append({j: math.exp(lk - total) for j, lk in logs.items()})
    return graph, tau


def _expand(prob: _Problem, local_values: np.ndarray) -> np.ndarray:
    out = np.full(prob.net.n_minima, np.nan)
    out[prob.nodes] = local_values
    return out


def _finish(prob: _Problem, method: str, q_A, t_A, t_B, c_A_from_b, c_B_from_a,
            tau, tau_red) -> RateResult:
    """Rate constants from committors, first-passage times and waiting times (local arrays).

    ``c_A_from_b`` / ``c_B_from_a``: probability that a trajectory leaving each node reaches
    the other set before returning to its own; ``tau`` original, ``tau_red`` after the
    intermediates are removed.
    """
    p = np.exp(prob.log_p)
    iA, iB = np.flatnonzero(prob.in_A), np.flatnonzero(prob.in_B)
    pA, pB = float(p[iA].sum()), float(p[iB].sum())
    res = RateResult(
        method=method, temperature=prob.temperature, A=prob.A, B=prob.B,
        excluded=prob.excluded, ignored_ts=prob.ignored_ts,
        log_p_eq=_expand(prob, prob.log_p), p_A=pA, p_B=pB,
        committor_A=_expand(prob, q_A), mfpt_to_A=_expand(prob, t_A),
        mfpt_to_B=_expand(prob, t_B),
        k_AB_NSS=float(np.sum(p[iB] / t_A[iB]) / pB),
        k_AB_SS=float(np.sum(p[iB] * c_A_from_b[iB] / tau[iB]) / pB),
        k_AB_KMC=float(np.sum(p[iB] * c_A_from_b[iB] / tau_red[iB]) / pB),
        k_BA_NSS=float(np.sum(p[iA] / t_B[iA]) / pA),
        k_BA_SS=float(np.sum(p[iA] * c_B_from_a[iA] / tau[iA]) / pA),
        k_BA_KMC=float(np.sum(p[iA] * c_B_from_a[iA] / tau_red[iA]) / pA),
        mfpt_AB=float(np.sum(p[iB] * t_A[iB]) / pB),
        mfpt_BA=float(np.sum(p[iA] * t_B[iA]) / pA))
    return res


# ============================================================================ GT
#: Switch to dense elimination when the smallest degree left reaches this ...
DENSE_DEGREE = 40
#: ... and the remaining nodes with their neighbours are at most this many (memory 8 m^2).
DENSE_MAX = 4000


def _eliminate(graph: list[dict], tau: np.ndarray, nodes: Sequence[int],
               removed: np.ndarray) -> list[tuple[int, float, np.ndarray, np.ndarray]]:
    """Remove ``nodes`` from the sparse graph in place, smallest current degree first.

    When the smallest degree left reaches :data:`DENSE_DEGREE` (the elimination has filled
    in a dense core) and the core with its neighbours has at most :data:`DENSE_MAX` nodes,
    the rest is removed with dense NumPy arrays over that core (the same arithmetic,
    vectorised); memory is then quadratic in the size of the core only.

    Parameters
    ----------
    graph : list of dict
        ``graph[i][j]`` = branching probability i -> j (j != i; self-loops are implicit,
        ``1 - sum``).  The neighbour structure is symmetric and stays so.
    tau : ndarray
        Waiting times, updated in place.
    nodes : sequence of int
        Local indices to remove.
    removed : ndarray of bool
        Marks removed nodes (updated).

    Returns
    -------
    list of (x, t_x, neighbours, probs)
        In removal order: the mean time ``t_x = tau_x / (1 - P_xx)`` spent before ``x``
        moves to another remaining node, and ``probs = P_gx / (1 - P_xx)`` over the
        ``neighbours`` g remaining at that moment: the back-substitution record.
    """
    targets = {int(x) for x in nodes}
    heap = [(len(graph[x]), x) for x in targets]
    heapq.heapify(heap)
    record = []
    while heap:
        deg, x = heapq.heappop(heap)
        if removed[x] or deg != len(graph[x]):
            continue
        if deg >= DENSE_DEGREE and _try_dense(graph, tau, targets, removed, record):
            return record
        out = graph[x]
        esc = math.fsum(out.values())           # 1 - P_xx without cancellation
        record.append((x, tau[x] / esc, np.fromiter(out.keys(), dtype=np.int64, count=len(out)),
                       np.fromiter(out.values(), dtype=float, count=len(out)) / esc))
        for beta in out:
            nb = graph[beta]
            f = nb.pop(x) / esc
            tau[beta] += f * tau[x]
            for g, pg in out.items():
                if g != beta:                    # g == beta: a self-loop, kept implicit
                    nb[g] = nb.get(g, 0.0) + f * pg
            if beta in targets and not removed[beta]:
                heapq.heappush(heap, (len(nb), beta))
        graph[x] = {}
        removed[x] = True
    return record


def _try_dense(graph, tau, targets, removed, record) -> bool:
    """Remove every target left using dense arrays over the targets and their neighbours;
    False (nothing done) if that set is larger than :data:`DENSE_MAX`."""
    rest = [x for x in targets if not removed[x]]
    core = set(rest)
    for x in rest:
        core.update(graph[x])
    if len(core) > DENSE_MAX:
        return False
    order = sorted(core, key=lambda x: (x not in targets, len(graph[x])))
    nodes = np.array(order, dtype=np.int64)
    pos = {int(g): k for k, g in enumerate(order)}
    m = len(order)
    P = np.zeros((m, m))                        # P[g, b]: probability b -> g
    S = np.zeros((m, m), dtype=bool)            # structure (edges), symmetric
    for k, b in enumerate(order):
        for g, pg in graph[b].items():
            j = pos.get(g)
            if j is not None:
                P[j, k] = pg
                S[j, k] = True
    t = tau[nodes].copy()
    alive = np.ones(m, dtype=bool)
    n_rest = len(rest)
    for k in range(n_rest):                     # targets come first in ``order``
        alive[k] = False
        col = P[:, k].copy()                    # k -> g
        row = P[k, :].copy()                    # b -> k
        col[k] = row[k] = 0.0
        esc = math.fsum(col[alive])
        nb = np.flatnonzero(S[:, k] & alive)
        record.append((int(nodes[k]), t[k] / esc, nodes[nb], col[nb] / esc))
        f = row / esc
        t += f * t[k]
        P[np.ix_(nb, nb)] += np.outer(col[nb], f[nb])
        S[np.ix_(nb, nb)] = True
        P[k, :] = P[:, k] = 0.0
        S[k, :] = S[:, k] = False
    np.fill_diagonal(P, 0.0)
    np.fill_diagonal(S, False)
    for k in range(n_rest):
        x = int(nodes[k])
        graph[x] = {}
        removed[x] = True
    for k in range(n_rest, m):                  # neighbours outside the set are unchanged
        b = int(nodes[k])
        nb = graph[b]
        for g in [g for g in nb if g in pos]:
            del nb[g]
        for j in np.flatnonzero(S[:, k]).tolist():
            nb[int(nodes[j])] = float(P[j, k])
        tau[b] = t[k]
    return True


def _back_substitute(record, values: np.ndarray, with_time: bool) -> None:
    """Fill ``values`` of removed nodes in reverse removal order.

    Committor (``with_time=False``): ``q_x = sum_g probs_g q_g``; mean first-passage time
    (``with_time=True``): ``T_x = t_x + sum_g probs_g T_g``.
    """
    for x, t_x, nbrs, probs in reversed(record):
        acc = float(probs @ values[nbrs])
        values[x] = acc + t_x if with_time else acc


def ngt_rates(reader_or_arrays, A, B, temperature: float,
              include_degenerate: bool = False) -> RateResult:
    """Rate constants A<-B and B<-A, committors and first-passage times by graph
    transformation (module docstring).

    Parameters
    ----------
    reader_or_arrays : DatabaseReader, Database, Network or mapping
        See :func:`network_from`.
    A, B : iterable of int
        1-based minimum ids; non-empty, disjoint, in one connected component.
    temperature : float
        Energy units (k_B = 1).
    include_degenerate : bool
        Keep degenerate minima (``n_extra_zero > 0``) and their transition states in the
        network; by default they are left out (A and B may not contain one).

    Raises
    ------
    InputError
        Bad sets, a non-positive temperature, unknown log products of minima or TSs in
        the component, or A and B not connected.
    """
    prob = _setup(reader_or_arrays, A, B, temperature, include_degenerate)
    graph, tau0 = _branching(prob)
    m = prob.nodes.size
    tau = tau0.copy()
    removed = np.zeros(m, dtype=bool)
    inter = np.flatnonzero(~prob.in_A & ~prob.in_B)
    rec_I = _eliminate(graph, tau, inter, removed)
    # committor: probability of reaching A before B
    q_A = np.where(prob.in_A, 1.0, 0.0)
    _back_substitute(rec_I, q_A, with_time=False)
    # the reduced graph on A and B: probability of reaching the other set on leaving a node
    c_other = np.zeros(m)
    for i in np.flatnonzero(prob.in_A | prob.in_B).tolist():
        other = prob.in_B if prob.in_A[i] else prob.in_A
        c_other[i] = math.fsum(p for j, p in graph[i].items() if other[j])
    tau_red = tau.copy()
    mfpt = {}
    for target, source in ((prob.in_A, prob.in_B), (prob.in_B, prob.in_A)):
        g2 = [dict(d) for d in graph]
        t2 = tau.copy()
        rem2 = removed.copy()
        rec = _eliminate(g2, t2, np.flatnonzero(source), rem2)
        times = np.zeros(m)
        _back_substitute(rec, times, with_time=True)
        _back_substitute(rec_I, times, with_time=True)
        mfpt[bool(target is prob.in_A)] = times
    return _finish(prob, "NGT", q_A, mfpt[True], mfpt[False], c_other, c_other, tau0, tau_red)


# ============================================================================ oracle
def linear_algebra_rates(reader_or_arrays, A, B, temperature: float,
                         include_degenerate: bool = False) -> RateResult:
    """The same quantities as :func:`ngt_rates` by direct dense linear solves of the master
    equation (the test oracle; O(n^2) memory, O(n^3) time: a few thousand minima at most).

    With the rate matrix ``K[j, i] = k_{i->j}`` (``K[i, i] = -sum_j k_{j->i}``):
    first-passage times to A solve ``-K[N, N]^T T = 1`` over the minima N outside A;
    committors solve ``K[I, I]^T q = -K[A, I]^T 1``; the time spent among the
    intermediates after leaving a boundary node solves ``-K[I, I]^T t = 1``.
    """
    prob = _setup(reader_or_arrays, A, B, temperature, include_degenerate)
    m = prob.nodes.size
    K = np.zeros((m, m))
    for (i, j), lk in prob.log_rates.items():
        K[j, i] = math.exp(lk)
    K[np.diag_indices(m)] = -K.sum(axis=0)
    inA, inB = prob.in_A, prob.in_B
    inI = ~inA & ~inB
    tau = -1.0 / np.diag(K)

    def mfpt(target):
        nt = np.flatnonzero(~target)
        times = np.zeros(m)
        if nt.size:
            times[nt] = np.linalg.solve(-K[np.ix_(nt, nt)].T, np.ones(nt.size))
        return times

    iI, iA = np.flatnonzero(inI), np.flatnonzero(inA)
    q_A = inA.astype(float)
    t_I = np.zeros(m)
    if iI.size:
        KII_T = K[np.ix_(iI, iI)].T
        q_A[iI] = np.linalg.solve(KII_T, -K[np.ix_(iA, iI)].T @ np.ones(iA.size))
        t_I[iI] = np.linalg.solve(-KII_T, np.ones(iI.size))
    P = K * tau[None, :]
    P[np.diag_indices(m)] = 0.0
    # leaving node i: probability of reaching A (resp. B) first, and the reduced waiting time
    reach_A = P.T @ q_A
    reach_B = P.T @ np.where(inB, 1.0, np.where(inA, 0.0, 1.0 - q_A))
    c_other = np.where(inB, reach_A, reach_B)
    tau_red = tau + P.T @ t_I
    return _finish(prob, "linear algebra", q_A, mfpt(inA), mfpt(inB), c_other, c_other,
                   tau, tau_red)


# ============================================================================ driver
def run_rates(path: str | Path, A, B, temperature: float,
              include_degenerate: bool = False) -> dict:
    """Rates between sets A and B of the minima in the HDF5 file ``path`` (the work of
    ``mlpathsample rates``); returns :meth:`RateResult.to_dict` plus the file and counts.

    Raises
    ------
    InputError
        A missing or damaged file, or any problem listed in :func:`ngt_rates`.
    """
    from mlcore.database import DatabaseReader

    reader = DatabaseReader(path)
    result = ngt_rates(reader, A, B, temperature, include_degenerate)
    n_degenerate = int(np.count_nonzero(np.asarray(reader.minima()["n_extra_zero"]) > 0))
    out = {"file": str(path), "n_ts": int(reader.n_ts),
           "n_degenerate_left_out": 0 if include_degenerate else n_degenerate,
           "n_ts_used": int(reader.n_ts - result.ignored_ts.size
                            - _n_ts_excluded(reader, result)),
           **result.to_dict()}
    return out


def _n_ts_excluded(reader, result: RateResult) -> int:
    if result.excluded.size == 0:
        return 0
    ts = reader.ts()
    real = ts["min1"] != ts["min2"]
    return int(np.sum(real & np.isin(ts["min1"], result.excluded)))
