"""Growing the network (PATHSAMPLE cycles): pick pairs of minima, connect them in parallel,
merge what the workers found.

Each cycle asks a strategy for up to ``pairs_per_cycle`` pairs of stored minima that have
not been tried, runs :func:`mloptim.connect.connect_pair` on them through the executor (a new
job starts as soon as a worker is free), and stores every transition state and minimum
found; only this process writes the file.  Pairs tried are recorded in the file, so an
interrupted growth run continues where it stopped when it is started again.

Strategies implemented here:

``unconnected``
    every minimum outside the global minimum's connected component, lowest first, paired
    with the nearest minimum (aligned distance) inside that component not yet tried with it
    ``max_tries_per_pair`` times (each retry with a denser band; one alignment per minimum of the component: fine for thousands of minima, a
    distance-ordered index is still to come for much larger networks);
``random``
    uniformly random pairs not tried before (from an explicit generator).

``untrap`` and ``shortcut`` are not implemented yet; asking for them is an error that says so.
"""
from __future__ import annotations

import math
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass

import numpy as np

from mlcore.errors import InputError


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
    """Up to ``count`` pairs (outside the global minimum's component, nearest inside it);
    a pair is tried again (with a denser band) until it has been tried ``max_tries`` times."""
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
    for m in outside:
        if len(pairs) >= count:
            break
        if m in busy:
            continue
        best, best_d = None, math.inf
        for j in inside:
            if j in busy or db.tried(m, j) >= max_tries:
                continue
            d = float(system.distance(coords[m - 1], coords[j - 1]))
            if d < best_d:
                best, best_d = j, d
        if best is not None:
            pairs.append((m, best))
            busy.update((m, best))
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
         seed: int | None = None, argv=None, input_text: str = "") -> GrowReport:
    """Run ``cycles`` cycles of pair selection, parallel connect jobs and merging."""
    from mlcore.database import Database
    from mlcore.executors import make_executor
    from mlcore.session import load_system
    from mloptim.jobs import connect_pair_checked

    if strategy not in ("unconnected", "random"):
        raise InputError(f"--strategy {strategy}: not implemented yet (available: "
                         "unconnected, random)")
    _, system = load_system(path)
    rng = np.random.default_rng(seed)
    report = GrowReport(0, 0, 0, 0, 0, 0, 0, 0)
    with Database.open_writer(path, identity=system, program="mlpathsample") as db:
        db.begin_run("mlpathsample", argv, input_text, seed)
        ts = db.ts()
        comps = _Components(db.n_minima, ts.min1, ts.min2)
        status = "failed"
        try:
            with make_executor(executor_spec) as executor:
                for cycle in range(1, cycles + 1):
                    busy: set = set()
                    if strategy == "unconnected":
                        pairs = pairs_unconnected(db, system, comps, settings.pairs_per_cycle,
                                                  busy, optim_settings.connect.max_tries_per_pair)
                    else:
                        pairs = pairs_random(db, rng, settings.pairs_per_cycle, busy)
                    if not pairs:
                        break
                    report.cycles = cycle
                    futures = {executor.submit(connect_pair_checked, system,
                                               db.minimum(a)["coords"], db.minimum(b)["coords"],
                                               optim_settings, db.tried(a, b)): (a, b)
                               for a, b in pairs}
                    while futures:
                        done, _ = wait(futures, return_when=FIRST_COMPLETED)
                        for fut in done:
                            a, b = futures.pop(fut)
                            report.jobs += 1
                            try:
                                outcome = fut.result()
                            except Exception as exc:  # one failed job costs its pair only
                                report.failed_jobs += 1
                                db.add_tried_pair(a, b, 2, f"{type(exc).__name__}: {exc}"[:500])
                                continue
                            joined = _merge(db, outcome, comps, report)
                            db.add_tried_pair(a, b, 0 if joined(a, b) else 1,
                                              outcome.outcome.message)
                    db.commit()
            status = "finished"
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


def _merge(db, checked, comps: _Components, report: GrowReport):
    """Store a job's transition states and minima; returns ``joined(a, b)``."""
    from mloptim.jobs import store_minimum

    for f, infos in zip(checked.outcome.found, checked.minima_info):
        ids = []
        for (energy, coords), info in zip((f.minus, f.plus), infos):
            mid, is_new = store_minimum(db, energy, coords, info)
            report.new_minima += is_new
            ids.append(mid)
        comps.grow(db.n_minima)
        _, new = db.add_ts(f.energy, f.coords, ids[0], ids[1], neg_eigenvalue=f.eigenvalue,
                           log_product=f.log_product, n_zero=f.n_zero, n_negative=1)
        report.new_ts += new
        comps.union(ids[0], ids[1])

    def joined(a: int, b: int) -> bool:
        return comps.find(a) == comps.find(b)

    return joined
