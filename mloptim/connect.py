"""Double-ended connect (OPTIM NEWCONNECT): join two minima by a chain of transition states.

The driver keeps a small graph of the minima of this connect job (the two end points and
every minimum found on the way).  Each cycle it finds, by Dijkstra, the cheapest path from
the first to the second minimum, where an edge costs

- 0 when a transition state already joins the two minima,
- ``distance ** 2`` (distance after alignment under the landscape's symmetries) when the
  pair has not been tried in this job,
- infinity when the pair has been tried ``max_tries_per_pair`` times,

and runs an elastic band on every missing link of that path (in parallel, through the
executor).  The highest images of each band are refined into transition states by
eigenvector-following; every verified transition state (exactly one negative Hessian
eigenvalue beyond the zero modes) is pushed off both ways and quenched, which gives the two
minima it connects.  Workers compute (:func:`connect_pair`); the driver alone stores
minima, transition states and tried pairs in the file.
"""
from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

import numpy as np


@dataclass
class FoundTS:
    """A verified transition state and the two minima its push-off reached."""

    energy: float
    coords: np.ndarray
    eigenvalue: float
    log_product: float
    n_zero: int
    minus: tuple[float, np.ndarray]
    plus: tuple[float, np.ndarray]


@dataclass
class PairOutcome:
    """What one connect job between two minima found."""

    found: list[FoundTS] = field(default_factory=list)
    n_candidates: int = 0
    n_rejected: int = 0
    message: str = ""


def connect_pair(system, coords_a, coords_b, settings, attempt: int = 0,
                 aligned: bool = False) -> PairOutcome:
    """Worker task: elastic band between two minima, then refine, verify and push off.

    ``attempt`` (0, 1, ...) raises the image density by ``image_density_factor`` per retry.
    ``aligned``: ``coords_b`` is already aligned onto ``coords_a`` (the band skips it).
    """
    import dataclasses

    from mloptim.neb import run_neb
    from mloptim.push_off import push_off
    from mloptim.ts_search import find_transition_state, verify_transition_state

    neb_settings = settings.neb
    if neb_settings.iteration_density is None:
        neb_settings = dataclasses.replace(
            neb_settings, iteration_density=settings.connect.band_iteration_density)
    if attempt:
        factor = settings.connect.image_density_factor ** attempt
        neb_settings = dataclasses.replace(
            neb_settings, image_density=neb_settings.image_density * factor,
            max_images=max(neb_settings.max_images, int(neb_settings.max_images * factor)))
    # the band takes only M and H0 from the quench settings (its step control is its own)
    band = run_neb(system, np.asarray(coords_a, float), np.asarray(coords_b, float),
                   neb_settings, settings.quench, align=not aligned)
    outcome = PairOutcome()
    images = np.asarray(band.images)
    for k in band.maxima:
        outcome.n_candidates += 1
        tangent = images[min(k + 1, len(images) - 1)] - images[max(k - 1, 0)]
        ts = find_transition_state(system, images[k], settings.ts, initial_direction=tangent)
        if not ts.success:
            outcome.n_rejected += 1
            continue
        ok, info = verify_transition_state(system, ts.coords)
        if not ok:
            outcome.n_rejected += 1
            continue
        if any(abs(f.energy - ts.energy) <= system.energy_tol
               and system.distance(f.coords, ts.coords) <= system.distance_tol
               for f in outcome.found):
            continue
        minus, plus = push_off(system, ts.coords, ts.eigenvector, settings.push_off,
                               settings.quench)
        if not (minus.success and plus.success):
            outcome.n_rejected += 1
            continue
        # a quench that stayed at the transition state found no minimum
        if any(q.energy >= ts.energy or system.distance(q.coords, ts.coords)
               <= system.distance_tol for q in (minus, plus)):
            outcome.n_rejected += 1
            continue
        fields = info.ts_fields()
        outcome.found.append(FoundTS(
            energy=float(ts.energy), coords=np.array(ts.coords),
            eigenvalue=fields["neg_eigenvalue"], log_product=fields["log_product"],
            n_zero=fields["n_zero"],
            minus=(float(minus.energy), np.array(minus.coords)),
            plus=(float(plus.energy), np.array(plus.coords))))
    outcome.message = (f"{len(outcome.found)} transition state(s) from "
                       f"{outcome.n_candidates} band maxima")
    return outcome


def dijkstra_path(n_nodes: int, weight, source: int, target: int) -> list[int] | None:
    """Cheapest path ``source -> target`` over nodes ``0..n-1``; ``weight(i, j)`` gives the
    edge cost (``math.inf``: no edge).  Returns the node list or None."""
    dist = [math.inf] * n_nodes
    prev = [-1] * n_nodes
    dist[source] = 0.0
    heap = [(0.0, source)]
    done = [False] * n_nodes
    while heap:
        d, i = heapq.heappop(heap)
        if done[i]:
            continue
        done[i] = True
        if i == target:
            break
        for j in range(n_nodes):
            if done[j] or j == i:
                continue
            w = weight(i, j)
            if w == math.inf:
                continue
            nd = d + w
            if nd < dist[j]:
                dist[j] = nd
                prev[j] = i
                heapq.heappush(heap, (nd, j))
    if dist[target] == math.inf:
        return None
    path = [target]
    while path[-1] != source:
        path.append(prev[path[-1]])
    return path[::-1]


@dataclass
class ConnectReport:
    """The outcome of a connect run between two stored minima (1-based ids)."""

    min1: int
    min2: int
    connected: bool
    path_minima: list[int]
    path_ts: list[int]
    cycles: int
    new_minima: int = 0
    new_ts: int = 0
    rejected: int = 0
    message: str = ""


def progress_text(report: ConnectReport, cycle: int, max_cycles: int, done: int,
                  jobs: int) -> str:
    """The text of ``mloptim connect``'s progress line."""
    return (f"connect {report.min1}-{report.min2}: cycle {cycle}/{max_cycles}, "
            f"job {done}/{jobs}, {report.new_minima} new minima, {report.new_ts} new TS, "
            f"{report.rejected} rejected")


class ConnectDriver:
    """Runs the connect cycles between minima ``min1`` and ``min2`` of an open writer.

    Parameters
    ----------
    db : mlcore.database.Database
        The open writer (the only process that writes).
    system : mlcore.landscape.System
    settings : mlcore.config.settings.MLOptimSettings
    executor : concurrent.futures.Executor
    """

    def __init__(self, db, system, settings, executor):
        self.db = db
        self.system = system
        self.settings = settings
        self.executor = executor
        self._dist: dict[tuple[int, int], float] = {}
        # (a, b) -> b aligned onto a, from the distance computation: the band reuses it
        self._aligned: dict[tuple[int, int], np.ndarray] = {}
        self._lower: dict[tuple[int, int], float] = {}
        self._tries: dict[tuple[int, int], int] = {}

    def _coords(self, min_id: int) -> np.ndarray:
        return np.asarray(self.db.minimum(min_id)["coords"])

    def _distance(self, a: int, b: int) -> float:
        key = (min(a, b), max(a, b))
        if key not in self._dist:
            distance, aligned = self.system.align(self._coords(a), self._coords(b))
            self._dist[key] = float(distance)
            self._aligned[a, b] = np.asarray(aligned)
        return self._dist[key]

    def _band_ends(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray, bool]:
        """End points of the band of link ``(a, b)``: with the aligned copy from the
        distance computation when there is one (then ``True``: no second alignment)."""
        if (a, b) in self._aligned:
            return self._coords(a), self._aligned[a, b], True
        if (b, a) in self._aligned:
            return self._coords(b), self._aligned[b, a], True
        return self._coords(a), self._coords(b), False

    def _bound(self, a: int, b: int) -> float:
        """A cheap lower bound of the aligned distance (the exact one if already known)."""
        key = (min(a, b), max(a, b))
        if key in self._dist:
            return self._dist[key]
        if key not in self._lower:
            lower = getattr(self.system, "distance_lower_bound", None)
            self._lower[key] = (float(lower(self._coords(a), self._coords(b)))
                                if lower is not None else self._distance(a, b))
        return self._lower[key]

    def _weight(self, nodes, exact: bool = True):
        max_tries = self.settings.connect.max_tries_per_pair

        def weight(i, j):
            a, b = nodes[i], nodes[j]
            if self.db.ts_between(a, b):
                return 0.0
            key = (min(a, b), max(a, b))
            if self._tries.get(key, 0) >= max_tries:
                return math.inf
            return (self._distance(a, b) if exact else self._bound(a, b)) ** 2

        return weight

    def _cheapest_path(self, nodes):
        """Dijkstra with lazy distances: search with lower bounds, make the edges of the
        path found exact, and search again until the path uses exact edges only.  The path
        is the one a search with every distance exact would give, at a fraction of the
        alignments (each costs milliseconds for LJ38)."""
        while True:
            path = dijkstra_path(len(nodes), self._weight(nodes, exact=False), 0, 1)
            if path is None:
                return None
            loose = [(nodes[i], nodes[j]) for i, j in zip(path, path[1:])
                     if (min(nodes[i], nodes[j]), max(nodes[i], nodes[j])) not in self._dist
                     and not self.db.ts_between(nodes[i], nodes[j])]
            if not loose:
                return path
            for a, b in loose:
                self._distance(a, b)

    def _store(self, a: int, b: int, checked, error: str,
               nodes: list[int], report: ConnectReport) -> None:
        from mloptim.jobs import store_minimum

        db = self.db
        if checked is None:
            db.add_tried_pair(a, b, 2, error[:500])
            return
        outcome = checked.outcome
        joined = False
        for f, infos in zip(outcome.found, checked.minima_info):
            ids = []
            for (energy, coords), info in zip((f.minus, f.plus), infos):
                energy, coords = info.point(energy, coords)
                mid, is_new = store_minimum(db, energy, coords, info)
                report.new_minima += is_new
                if mid not in nodes:
                    nodes.append(mid)
                ids.append(mid)
            _, new_ts = db.add_ts(f.energy, f.coords, ids[0], ids[1],
                                  neg_eigenvalue=f.eigenvalue, log_product=f.log_product,
                                  n_zero=f.n_zero, n_negative=1)
            report.new_ts += new_ts
            joined |= {ids[0], ids[1]} == {a, b}
        report.rejected += outcome.n_rejected
        db.add_tried_pair(a, b, 0 if joined else 1, outcome.message)

    def run(self, min1: int, min2: int, progress=None) -> ConnectReport:
        """Connect the two minima (1-based ids); commits after every cycle.

        ``progress(report, cycle, max_cycles, done, jobs)``, if given, is called when a cycle
        starts (``done = 0``) and after each of its ``jobs`` connect jobs is stored.
        """
        from mloptim.jobs import connect_pair_checked

        nodes = [int(min1), int(min2)]
        report = ConnectReport(min1, min2, False, [], [], 0)
        for cycle in range(1, self.settings.connect.max_attempts + 1):
            path = self._cheapest_path(nodes)
            weight = self._weight(nodes, exact=False)
            if path is None:
                report.message = "every pair on the way has been tried; giving up"
                break
            links = [(nodes[i], nodes[j]) for i, j in zip(path, path[1:]) if weight(i, j) > 0]
            if not links:
                break
            report.cycles = cycle
            futures = {}
            for a, b in links:
                key = (min(a, b), max(a, b))
                attempt = self._tries.get(key, 0)
                self._tries[key] = attempt + 1
                first, second, aligned = self._band_ends(a, b)
                fut = self.executor.submit(connect_pair_checked, self.system, first, second,
                                           self.settings, attempt, aligned)
                futures[fut] = (a, b)
            max_cycles = self.settings.connect.max_attempts
            if progress is not None:
                progress(report, cycle, max_cycles, 0, len(futures))
            # merged in the order the links were chosen, so the file does not depend on
            # which worker finished first (the cycle waits for all of them anyway)
            for fut in list(futures):
                a, b = futures[fut]
                try:
                    outcome, error = fut.result(), ""
                except Exception as exc:  # a failed job costs its pair, not the run
                    outcome, error = None, f"{type(exc).__name__}: {exc}"
                self._store(a, b, outcome, error, nodes, report)
                if progress is not None:
                    progress(report, cycle, max_cycles, list(futures).index(fut) + 1,
                             len(futures))
            self.db.commit()
        # joined through transition states only: no distances (alignments) needed
        path = dijkstra_path(len(nodes), lambda i, j: 0.0 if self.db.ts_between(
            nodes[i], nodes[j]) else math.inf, 0, 1)
        if path is not None:
            report.connected = True
            report.path_minima = [nodes[i] for i in path]
            report.path_ts = [min(self.db.ts_between(nodes[i], nodes[j]),
                                  key=lambda t: self.db.transition_state(t)["energy"])
                              for i, j in zip(path, path[1:])]
            report.message = (f"connected by {len(report.path_ts)} transition state(s) "
                              f"in {report.cycles} cycle(s)")
        elif not report.message:
            report.message = f"not connected after {report.cycles} cycle(s)"
        return report
