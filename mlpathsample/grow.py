"""Growing the network (PATHSAMPLE cycles): pick pairs of minima, connect them in parallel,
merge what the workers found.

Each cycle asks a strategy for up to ``pairs_per_cycle`` pairs of stored minima that have
not been tried, runs :func:`mloptim.connect.connect_pair` on them through the executor (a new
job starts as soon as a worker is free), and stores every transition state and minimum
found; only this process writes the file.  The results of a cycle are merged in the order
the pairs were chosen (not the order the jobs finish), so that, connect jobs being
deterministic given their pair, every executor writes the same file.  Pairs tried are
recorded in the file, so an interrupted growth run continues where it stopped when it is
started again.  Within one cycle a minimum is in at most one pair.

Strategies:

``unconnected``
    every minimum outside the global minimum's connected component, lowest first, paired
    with the nearest minimum (aligned distance) inside that component not yet tried with it
    ``max_tries_per_pair`` times (each retry with a denser band; one alignment per minimum
    of the component: fine for thousands of minima, a distance-ordered index is still to
    come for much larger networks);
``untrap`` (PATHSAMPLE UNTRAP)
    a superbasin analysis gives every minimum ``j`` connected to the global minimum its
    barrier ``B_j``: the lowest energy at which ``j`` joins the global minimum's superbasin
    (the minimax transition-state energy over all paths; one union-find pass over the
    transition states sorted by energy).  Minima are ranked by
    ``(B_j - E_j) / (E_j - E_gm)`` (high barrier, low energy: a trap) and each of the highest
    is paired with a minimum of the global minimum's funnel below it (joined to the global
    minimum below ``B_j`` and not higher than ``E_j``): the nearest (aligned distance) of
    the ``pool`` lowest such minima whose pair is still open;
``shortcut`` (PATHSAMPLE SHORTCUT)
    the best path from the global minimum to the top-ranked trap (minimax energy, then
    fewest steps) is cut short: minima ``steps`` apart on it (and two apart) are paired,
    segments over the path's highest transition states first; the next-ranked minima's
    paths follow when a path has no open pair left;
``random``
    uniformly random pairs not tried before (from an explicit generator).

A pair is *open* for ``untrap`` and ``shortcut`` if it has been tried fewer than
``max_tries_per_pair`` times and no earlier job joined its two minima (outcome 0): pairs
already connected are not tried again, failed ones are retried with denser bands.

Cost of choosing pairs (``n`` minima, ``m`` transition states): ``untrap`` is
``O(m log m)`` for the sort and union-find plus ``O(n)`` vectorised work and at most
``pool`` alignments per examined trap; ``shortcut`` adds one ``O(n + m)`` breadth-first
search per examined path.  The number of examined traps and paths is bounded by a multiple
of the pairs requested, so nothing grows with ``n**2``.
"""
from __future__ import annotations

import math
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass

import numpy as np

from mlcore.errors import InputError
from mlcore.randomness import fresh_seed, generator_from_state

#: Strategies :func:`grow` knows.
STRATEGIES = ("unconnected", "untrap", "shortcut", "random")


class _Components:
    """Union-find over minimum ids (1-based) joined by transition states."""

    def __init__(self, n_minima: int, ts_min1, ts_min2):
        self.parent = list(range(n_minima + 1))
        for a, b in zip(ts_min1, ts_min2):
            self.union(int(a), int(b))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[ra] = rb

    def grow(self, n_minima: int) -> None:
        self.parent.extend(range(len(self.parent), n_minima + 1))


def pairs_unconnected(db, system, components: _Components, count: int, busy: set,
                      max_tries: int = 3) -> list:
    """Up to ``count`` pairs (a minimum outside the global minimum's component, the nearest
    minimum inside it), lowest outside minima first.

    Each outside minimum is in one pair per cycle, and the pairs come from different
    outside components while there are enough of them (one job joins a whole component);
    an inside minimum may be the partner of several (early on the global minimum is the only
    one).  A pair is tried again (with a denser band) until it has been tried ``max_tries``
    times.
    """
    energies = db.minima().energy
    n = len(energies)
    if n < 2:
        return []
    gm = int(np.argmin(energies)) + 1
    root = components.find(gm)
    inside = [i for i in range(1, n + 1) if components.find(i) == root]
    outside = sorted((i for i in range(1, n + 1) if components.find(i) != root),
                     key=lambda i: energies[i - 1])
    coords = db.minima().coords
    pairs = []
    used_components: set = set()
    no_partner: set = set()          # every inside partner exhausted: not looked at again
    for distinct in (True, False):
        for m in outside:
            if len(pairs) >= count:
                return pairs
            comp = components.find(m)
            if m in busy or m in no_partner or (distinct and comp in used_components):
                continue
            best, best_d = None, math.inf
            for j in inside:
                if db.tried(m, j) >= max_tries:
                    continue
                d = float(system.distance(coords[m - 1], coords[j - 1]))
                if d < best_d:
                    best, best_d = j, d
            if best is None:
                no_partner.add(m)
            else:
                pairs.append((m, best))
                busy.update((m, best))
                used_components.add(comp)
    return pairs


def pairs_random(db, rng: np.random.Generator, count: int, busy: set,
                 max_draws: int = 10000) -> list:
    """Up to ``count`` random pairs of distinct minima not tried before."""
    n = db.n_minima
    pairs = []
    for _ in range(max_draws):
        if len(pairs) >= count or n < 2:
            break
        a, b = (int(v) + 1 for v in rng.choice(n, size=2, replace=False))
        if a in busy or b in busy or db.tried(a, b):
            continue
        pairs.append((a, b))
        busy.update((a, b))
    return pairs


# ---------------------------------------------------------------------------- superbasins
def barriers_to_global_minimum(energies, ts_energies, ts_min1, ts_min2):
    """Energy at which every minimum joins the global minimum's superbasin.

    The transition states are taken in order of increasing energy and their minima joined
    (union-find); a component that meets the global minimum's component at transition
    state ``t`` gets the barrier ``E_t`` for all its minima.  This is the minimax energy:
    the lowest possible highest transition state on any path to the global minimum.
    ``O(m log m)`` for the sort; each minimum is moved between member lists at most
    ``O(log n)`` times (smaller list into larger).

    Parameters
    ----------
    energies : array_like, shape (n,)
        Energies of the minima (index ``i`` is minimum ``i + 1`` of the file).
    ts_energies : array_like, shape (m,)
        Energies of the transition states.
    ts_min1, ts_min2 : array_like of int, shape (m,)
        1-based ids of the two minima of each transition state.

    Returns
    -------
    barrier : ndarray, shape (n,)
        The joining energy; ``-inf`` for the global minimum itself, ``inf`` for minima not
        connected to it.
    gm : int
        0-based index of the global minimum.
    """
    energies = np.asarray(energies, dtype=float)
    n = len(energies)
    barrier = np.full(n, np.inf)
    if n == 0:
        return barrier, -1
    gm = int(np.argmin(energies))
    barrier[gm] = -np.inf
    ts_e = np.asarray(ts_energies, dtype=float)
    a_all = (np.asarray(ts_min1, dtype=np.int64) - 1).tolist()
    b_all = (np.asarray(ts_min2, dtype=np.int64) - 1).tolist()
    parent = list(range(n))
    members: list = [None] * n     # member lists of roots other than the global minimum's
    left = n - 1                   # minima not yet joined to the global minimum

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for t in np.argsort(ts_e, kind="stable").tolist():
        ra, rb = find(a_all[t]), find(b_all[t])
        if ra == rb:
            continue
        if rb == gm:
            ra, rb = rb, ra
        if ra == gm:                       # rb's component joins the global minimum here
            joined = members[rb] if members[rb] is not None else [rb]
            barrier[joined] = ts_e[t]
            left -= len(joined)
            members[rb] = None
            parent[rb] = gm
            if left == 0:
                break
            continue
        ma = members[ra] if members[ra] is not None else [ra]
        mb = members[rb] if members[rb] is not None else [rb]
        if len(ma) < len(mb):
            ra, rb, ma, mb = rb, ra, mb, ma
        ma.extend(mb)
        members[ra], members[rb] = ma, None
        parent[rb] = ra
    return barrier, gm


def untrap_ranking(energies, barrier, gm: int):
    """Minima connected to the global minimum ranked as traps, highest ratio first.

    Parameters
    ----------
    energies : ndarray, shape (n,)
    barrier : ndarray, shape (n,)
        From :func:`barriers_to_global_minimum`.
    gm : int
        0-based index of the global minimum.

    Returns
    -------
    order : ndarray of int
        0-based indices of the minima with a positive ratio
        ``(B_j - E_j) / (E_j - E_gm)``, by decreasing ratio (ties: lower energy first).
        Minima degenerate with the global minimum get an infinite ratio.
    ratio : ndarray, shape (n,)
        The ratio of every minimum (NaN where it is not defined).
    """
    energies = np.asarray(energies, dtype=float)
    ratio = np.full(len(energies), np.nan)
    if gm < 0:
        return np.zeros(0, dtype=np.int64), ratio
    ok = np.isfinite(barrier)
    ok[gm] = False
    rise = np.maximum(barrier[ok] - energies[ok], 0.0)
    above = energies[ok] - energies[gm]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio[ok] = np.where(above > 0.0, rise / np.where(above > 0.0, above, 1.0),
                             np.where(rise > 0.0, np.inf, 0.0))
    cand = np.flatnonzero(ok & (np.nan_to_num(ratio, nan=0.0) > 0.0))
    order = cand[np.lexsort((energies[cand], -ratio[cand]))]
    return order, ratio


class _OpenPairs:
    """Which pairs may still be tried: fewer than ``max_tries`` tries, none connected.

    Built from the file's table of tried pairs (works on a reader and on the writer, whose
    table includes the pairs added in this cycle); ``O(number of tries)``.
    """

    def __init__(self, db, max_tries: int):
        self.max_tries = int(max_tries)
        self.tries: dict = {}
        self.connected: set = set()
        tried = db.pairs_tried()
        if len(tried):
            for a, b, outcome in zip(tried.min1.tolist(), tried.min2.tolist(),
                                     tried.outcome.tolist()):
                key = (min(a, b), max(a, b))
                self.tries[key] = self.tries.get(key, 0) + 1
                if outcome == 0:
                    self.connected.add(key)

    def __call__(self, a: int, b: int) -> bool:
        """``a``, ``b``: 1-based ids."""
        key = (min(a, b), max(a, b))
        return a != b and key not in self.connected and self.tries.get(key, 0) < self.max_tries


def _landscape_arrays(db):
    minima, ts = db.minima(), db.ts()
    return (np.asarray(minima.energy, dtype=float), minima.coords,
            np.asarray(ts.energy, dtype=float), np.asarray(ts.min1), np.asarray(ts.min2))


def pairs_untrap(db, system, count: int, busy: set, max_tries: int = 3, *, pool: int = 20,
                 max_traps: int | None = None) -> list:
    """Up to ``count`` pairs (trap, funnel minimum) as PATHSAMPLE's UNTRAP.

    Parameters
    ----------
    db : Database or DatabaseReader
        The stationary-point file (``minima()``, ``ts()``, ``pairs_tried()``): the writer
        during a run, or a reader.
    system : System
        Gives the aligned distance (``align``) used to choose the nearest partner.
    count : int
        Pairs wanted.
    busy : set of int
        1-based ids already in a pair of this cycle; the chosen ones are added.
    max_tries : int
        A pair tried this many times (or joined by an earlier job) is not tried again.
    pool : int
        Partners considered per trap: this many lowest open minima of its funnel.
    max_traps : int, optional
        Traps examined at most (default ``16 * count + 64``); keeps the cost linear.

    Returns
    -------
    list of (int, int)
        ``(trap, partner)`` 1-based ids, highest-ratio trap first.
    """
    energies, coords, ts_e, ts_a, ts_b = _landscape_arrays(db)
    if len(energies) < 2 or count < 1:
        return []
    barrier, gm = barriers_to_global_minimum(energies, ts_e, ts_a, ts_b)
    order, _ = untrap_ranking(energies, barrier, gm)
    is_open = _OpenPairs(db, max_tries)
    by_energy = np.argsort(energies, kind="stable")
    e_sorted, b_sorted = energies[by_energy], barrier[by_energy]
    limit = 16 * count + 64 if max_traps is None else int(max_traps)
    pairs = []
    for j in order[:limit].tolist():
        if len(pairs) >= count:
            break
        if j + 1 in busy:
            continue
        # the funnel below j: joined to the global minimum below j's barrier, not higher
        # than j (j itself is excluded by the strict barrier test), lowest first
        funnel = by_energy[(b_sorted < barrier[j]) & (e_sorted <= energies[j])]
        partners = []
        for start in range(0, len(funnel), 256):
            for i in funnel[start:start + 256].tolist():
                if i + 1 not in busy and is_open(j + 1, i + 1):
                    partners.append(i)
                    if len(partners) >= pool:
                        break
            if len(partners) >= pool:
                break
        if not partners:
            continue
        dist = [float(system.align(coords[j], coords[i])[0]) for i in partners]
        best = partners[min(range(len(partners)), key=lambda k: (dist[k], energies[partners[k]]))]
        pairs.append((j + 1, best + 1))
        busy.update((j + 1, best + 1))
    return pairs


def _edge_graph(n: int, ts_e, ts_a, ts_b):
    """Distinct edges (0-based end points) with the lowest transition-state energy of each."""
    a = np.asarray(ts_a, dtype=np.int64) - 1
    b = np.asarray(ts_b, dtype=np.int64) - 1
    keep = a != b
    lo, hi, e = np.minimum(a, b)[keep], np.maximum(a, b)[keep], np.asarray(ts_e)[keep]
    order = np.lexsort((e, hi, lo))
    lo, hi, e = lo[order], hi[order], e[order]
    first = np.ones(len(lo), dtype=bool)
    first[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
    return lo[first], hi[first], e[first]


def best_path(n: int, edges, source: int, target: int, threshold: float):
    """Fewest-steps path from ``source`` to ``target`` over edges no higher than
    ``threshold`` (the minimax energy: then it is the best minimax path).

    Parameters
    ----------
    n : int
        Number of minima.
    edges : tuple of ndarray
        ``(lo, hi, energy)`` from :func:`_edge_graph` (0-based end points).
    source, target : int
        0-based indices.
    threshold : float

    Returns
    -------
    path : list of int
        0-based minima from ``source`` to ``target`` (empty if not joined).
    step_energies : list of float
        Energy of the edge of each step (``len(path) - 1`` values).
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import breadth_first_order

    lo, hi, e = edges
    use = e <= threshold
    u, v, w = lo[use], hi[use], e[use]
    graph = coo_matrix((np.ones(2 * len(u)), (np.concatenate((u, v)), np.concatenate((v, u)))),
                       shape=(n, n)).tocsr()
    _, pred = breadth_first_order(graph, source, directed=True, return_predecessors=True)
    if target != source and pred[target] < 0:
        return [], []
    path = [target]
    while path[-1] != source:
        path.append(int(pred[path[-1]]))
    path.reverse()
    # the energy of each step: the edge between consecutive minima (sorted lookup)
    key = u * n + v
    sort = np.argsort(key)
    p = np.asarray(path, dtype=np.int64)
    s_lo, s_hi = np.minimum(p[:-1], p[1:]), np.maximum(p[:-1], p[1:])
    where = sort[np.searchsorted(key[sort], s_lo * n + s_hi)]
    return path, w[where].tolist()


def shortcut_segments(step_energies, steps: int = 3) -> list:
    """Candidate shortcuts on a path: ``(i, k)`` pairs of positions ``k - i`` in
    ``{steps, 2}`` apart, those spanning the highest transition states first.

    Parameters
    ----------
    step_energies : sequence of float
        Energy of each step of the path (``L`` values for ``L + 1`` minima).
    steps : int
        The longer separation (at least 2).

    Returns
    -------
    list of (int, int)
        Positions on the path, best first: the highest step energy spanned (descending),
        then the longer separation, then the segment centred on its highest step.
    """
    s = np.asarray(step_energies, dtype=float)
    length = len(s)
    found = []
    for d in sorted({max(2, int(steps)), 2}, reverse=True):
        for i in range(length - d + 1):
            seg = s[i:i + d]
            top = int(np.argmax(seg))
            off = abs((i + top + 0.5) - (i + d / 2.0))
            found.append((-float(seg[top]), -d, off, i, i + d))
    found.sort()
    return [(i, k) for *_, i, k in found]


def pairs_shortcut(db, system, count: int, busy: set, max_tries: int = 3, *, steps: int = 3,
                   max_paths: int | None = None) -> list:
    """Up to ``count`` pairs that cut short the best paths to the global minimum.

    The traps are ranked as in :func:`pairs_untrap`; for each (highest ratio first) the
    best path from the global minimum (minimax energy, then fewest steps) is found and its
    :func:`shortcut_segments` give the pairs (end minima of a segment).

    Parameters
    ----------
    db, count, busy, max_tries
        As :func:`pairs_untrap`.
    system : System
        Unused (the choice needs no distances); kept for a uniform signature.
    steps : int
        Separation on the path of the longer shortcuts (PATHSAMPLE SHORTCUT n).
    max_paths : int, optional
        Paths examined at most (default ``4 * count + 8``): each costs ``O(n + m)``.

    Returns
    -------
    list of (int, int)
        1-based ids, the minimum nearer the global minimum on the path first.
    """
    energies, _, ts_e, ts_a, ts_b = _landscape_arrays(db)
    n = len(energies)
    if n < 3 or count < 1:
        return []
    barrier, gm = barriers_to_global_minimum(energies, ts_e, ts_a, ts_b)
    order, _ = untrap_ranking(energies, barrier, gm)
    is_open = _OpenPairs(db, max_tries)
    edges = _edge_graph(n, ts_e, ts_a, ts_b)
    limit = 4 * count + 8 if max_paths is None else int(max_paths)
    pairs = []
    examined = 0
    for j in order.tolist():
        if len(pairs) >= count or examined >= limit:
            break
        path, step_e = best_path(n, edges, gm, j, float(barrier[j]))
        examined += 1
        if len(path) < 3:
            continue
        for i, k in shortcut_segments(step_e, steps):
            if len(pairs) >= count:
                break
            a, b = path[i] + 1, path[k] + 1
            if a in busy or b in busy or not is_open(a, b):
                continue
            pairs.append((a, b))
            busy.update((a, b))
    return pairs


@dataclass
class GrowReport:
    cycles: int
    jobs: int
    failed_jobs: int
    new_minima: int
    new_ts: int
    n_minima: int
    n_ts: int
    unconnected: int


def grow(path, strategy: str, cycles: int, settings, optim_settings, executor_spec: str,
         seed: int | None = None, argv=None, input_text: str = "",
         progress=None) -> GrowReport:
    """Run ``cycles`` cycles of pair selection, parallel connect jobs and merging.

    ``progress(report, cycles)``, if given, is called after every committed cycle (a
    terminal's progress line); ``report`` is the :class:`GrowReport` so far.
    """
    from mlcore.database import Database
    from mlcore.session import load_system
    from mloptim.jobs import connect_pair_checked

    if strategy not in STRATEGIES:
        raise InputError(f"--strategy {strategy}: unknown (available: {', '.join(STRATEGIES)})")
    _, system = load_system(path)
    report = GrowReport(0, 0, 0, 0, 0, 0, 0, 0)
    with Database.open_writer(path, identity=system, program="mlpathsample") as db:
        rng, seed = _random_pairs_generator(db, seed)
        db.begin_run("mlpathsample", argv, input_text, seed)
        ts = db.ts()
        comps = _Components(db.n_minima, ts.min1, ts.min2)
        status = "failed"
        try:
            pool = _Pool(executor_spec)
            with pool:
                for cycle in range(1, cycles + 1):
                    busy: set = set()
                    max_tries = optim_settings.connect.max_tries_per_pair
                    count = settings.pairs_per_cycle
                    if strategy == "unconnected":
                        pairs = pairs_unconnected(db, system, comps, count, busy, max_tries)
                    elif strategy == "untrap":
                        pairs = pairs_untrap(db, system, count, busy, max_tries)
                    elif strategy == "shortcut":
                        pairs = pairs_shortcut(db, system, count, busy, max_tries)
                    else:
                        pairs = pairs_random(db, rng, count, busy)
                    if not pairs:
                        break
                    report.cycles = cycle
                    was_joined = {(a, b): comps.find(a) == comps.find(b) for a, b in pairs}
                    jobs = [(connect_pair_checked, system, db.minimum(a)["coords"],
                             db.minimum(b)["coords"], optim_settings, db.tried(a, b))
                            for a, b in pairs]
                    results: list = [None] * len(pairs)
                    try:
                        pool.run(jobs, results)
                    finally:
                        # merged in the order the pairs were chosen, not the order the jobs
                        # finished: the file (ids, and which copy of a minimum found twice
                        # is kept) is then the same for every executor
                        for (a, b), res in zip(pairs, results):
                            if res is not None:
                                _record(db, a, b, res, comps, was_joined[a, b], report)
                        # with the cycle's results (an interrupted cycle's finished jobs are
                        # committed too): the next run continues after these draws
                        if strategy == "random":
                            db.save_state(RANDOM_STATE_KEY, {"seed": seed,
                                                             "state": rng.bit_generator.state})
                    db.commit()
                    if progress is not None:
                        report.n_minima, report.n_ts = db.n_minima, db.n_ts
                        progress(report, cycles)
            status = "finished"
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        finally:
            report.n_minima, report.n_ts = db.n_minima, db.n_ts
            comps.grow(db.n_minima)
            gm = db.global_minimum()
            if gm is not None:
                root = comps.find(gm[0])
                report.unconnected = sum(comps.find(i) != root
                                         for i in range(1, db.n_minima + 1))
            db.end_run(status=status)
    return report


RANDOM_STATE_KEY = "mlpathsample/random"


def _random_pairs_generator(db, seed: int | None) -> tuple[np.random.Generator, int]:
    """The generator of the random strategy and its seed.

    A file whose last random growth used the same seed (or any seed, when ``seed`` is None)
    continues that generator where its last committed cycle left it, so growth run in
    pieces picks the pairs one uninterrupted run would.  Otherwise a new generator: from
    ``seed``, or from a seed drawn from the operating system (returned, to be recorded).
    """
    saved = db.load_state(RANDOM_STATE_KEY)
    if saved is not None:
        scalars = saved[0]
        if seed is None or int(seed) == int(scalars["seed"]):
            return generator_from_state(scalars["state"]), int(scalars["seed"])
    if seed is None:
        seed = fresh_seed()
    return np.random.default_rng(seed), int(seed)


def progress_text(report: GrowReport, cycles: int) -> str:
    """The text of ``mlpathsample grow``'s progress line."""
    return (f"mlpathsample grow: cycle {report.cycles}/{cycles}  jobs {report.jobs} "
            f"({report.failed_jobs} failed)  new minima {report.new_minima}  new TS "
            f"{report.new_ts}  file {report.n_minima} minima, {report.n_ts} TS")


class _Pool:
    """The executor of a growth run, rebuilt when a worker process dies.

    A job whose worker died (a crash in a kernel breaks the whole process pool) is run once
    more on a fresh pool; if it fails again it is recorded as failed.  Other exceptions
    raised by a job are its result, so one failed job costs its pair, not the run.
    """

    def __init__(self, spec: str):
        from mlcore.executors import ManagedExecutor

        self._managed = ManagedExecutor(spec)

    @property
    def executor(self):
        return self._managed.executor

    def __enter__(self):
        self._managed.__enter__()
        return self

    def __exit__(self, *exc):
        # after Ctrl-C, SIGTERM or an error the workers are stopped at once
        self._managed.__exit__(*exc)

    def run(self, jobs: list, results: list, retries: int = 1) -> None:
        """Run ``jobs`` (``(fn, *args)`` tuples); fill ``results[k] = (value, error)``."""
        from concurrent.futures.process import BrokenProcessPool

        todo = list(range(len(jobs)))
        for attempt in range(retries + 1):
            futures = {self.executor.submit(*jobs[k]): k for k in todo}
            broken = []
            while futures:
                done, _ = wait(futures, return_when=FIRST_COMPLETED)
                for fut in done:
                    k = futures.pop(fut)
                    try:
                        results[k] = (fut.result(), None)
                    except BrokenProcessPool as exc:
                        results[k] = (None, exc)
                        broken.append(k)
                    except Exception as exc:  # one failed job costs its pair only
                        results[k] = (None, exc)
            if not broken:
                return
            self._managed.rebuild()
            todo = sorted(broken)


def _record(db, a: int, b: int, res, comps: _Components, was_joined: bool,
            report: GrowReport) -> None:
    """Merge one job's result ``(outcome, error)`` and record its pair as tried."""
    report.jobs += 1
    outcome, exc = res
    if exc is not None:
        report.failed_jobs += 1
        db.add_tried_pair(a, b, 2, f"{type(exc).__name__}: {exc}"[:500])
        return
    joined_by_job = _merge(db, outcome, comps, report)
    # connected: the job's own transition states join the pair, or the pair, apart before
    # this cycle, is joined now
    connected = joined_by_job(a, b) or (not was_joined and comps.find(a) == comps.find(b))
    db.add_tried_pair(a, b, 0 if connected else 1, outcome.outcome.message)


def _merge(db, checked, comps: _Components, report: GrowReport):
    """Store a job's transition states and minima; returns ``joined_by_job(a, b)``: whether
    the transition states of this job alone join minima ``a`` and ``b`` (1-based ids)."""
    from mloptim.jobs import store_minimum

    own: dict = {}

    def own_find(i: int) -> int:
        while own.setdefault(i, i) != i:
            i = own[i]
        return i

    for f, infos in zip(checked.outcome.found, checked.minima_info):
        ids = []
        for (energy, coords), info in zip((f.minus, f.plus), infos):
            energy, coords = info.point(energy, coords)
            mid, is_new = store_minimum(db, energy, coords, info)
            report.new_minima += is_new
            ids.append(mid)
        comps.grow(db.n_minima)
        _, new = db.add_ts(f.energy, f.coords, ids[0], ids[1], neg_eigenvalue=f.eigenvalue,
                           log_product=f.log_product, n_zero=f.n_zero, n_negative=1)
        report.new_ts += new
        comps.union(ids[0], ids[1])
        ra, rb = own_find(ids[0]), own_find(ids[1])
        if ra != rb:
            own[ra] = rb

    def joined_by_job(a: int, b: int) -> bool:
        return a == b or own_find(a) == own_find(b)

    return joined_by_job
