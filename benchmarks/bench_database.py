"""Speed of the stationary-point file: inserting minima (with identity tests) and transition states.

For N = 10,000 ... 100,000 minima and 2N transition states, in a fresh file each time:

* minima: 80% new (random energies on a coarse grid, so many share an energy within
  the tolerance and need the distance test) and 20% re-found copies of stored minima
  (tiny noise: the identity test must find them);
* transition states: between random pairs of stored minima, 10% re-found;
* a commit (journal append + fsync) every 1000 insertions and a checkpoint whenever the
  journal outgrows the HDF5 file, then a final close (checkpoint of everything).

Prints a table of times and the growth from 10,000 to 100,000 (linear would be 10x).
Run:  .venv/bin/python benchmarks/bench_database.py [--sizes 10000,100000] [--ndim 30]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np

from mlcore.database import Database, DatabaseReader


class EuclideanSystem:
    """Identity of minima as a System does it: energy window, then distance."""

    energy_tol = 1e-6
    distance_tol = 1e-3

    def __init__(self):
        self.calls = 0

    def distance(self, c1, c2):
        self.calls += 1
        d = c1 - c2
        return float(np.sqrt(d @ d))


def run(n_min: int, ndim: int, directory: str, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    system = EuclideanSystem()
    path = os.path.join(directory, f"bench_{n_min}.h5")
    # inputs prepared beforehand so that only the database is timed
    n_new = int(0.8 * n_min)
    energies = np.round(rng.uniform(-50.0, 0.0, n_new), 3)   # coarse grid: shared energies
    coords = rng.standard_normal((n_new, ndim))
    is_refind = np.zeros(n_min, dtype=bool)
    is_refind[rng.choice(np.arange(1, n_min), n_min - n_new, replace=False)] = True
    u = rng.random(n_min)
    order = []                     # (is_refind, index into energies/coords)
    k_new = 0
    for pos in range(n_min):
        if is_refind[pos] and k_new > 0:
            order.append((True, int(u[pos] * k_new)))     # a minimum offered before
        else:
            order.append((False, k_new))
            k_new += 1
    noise = 1e-6 * rng.standard_normal((len(order), ndim))

    t0 = time.perf_counter()
    db = Database.create(path, {"kind": "bench"}, {}, ndim=ndim, identity=system,
                         checkpoint_interval=None)
    db.begin_run("bench")
    new_count = 0
    for j, (is_refind, k) in enumerate(order):
        c = coords[k] + noise[j] if is_refind else coords[k]
        _, is_new = db.add_minimum(energies[k], c)
        new_count += is_new
        if j % 1000 == 999:
            db.commit()
    db.commit()
    t1 = time.perf_counter()
    n_stored = db.n_minima
    n_ts = 2 * n_min
    pairs = rng.integers(1, n_stored + 1, (n_ts, 2))
    ts_e = rng.uniform(0.0, 10.0, n_ts)
    ts_c = rng.standard_normal((n_ts, ndim))
    ts_refind = rng.random(n_ts) < 0.1
    stored_ts = []
    for j in range(n_ts):
        if ts_refind[j] and stored_ts:
            k = stored_ts[int(rng.integers(len(stored_ts)))]
            db.add_ts(ts_e[k], ts_c[k] + 1e-7, pairs[k, 1], pairs[k, 0])
        else:
            _, is_new = db.add_ts(ts_e[j], ts_c[j], pairs[j, 0], pairs[j, 1])
            if is_new:
                stored_ts.append(j)
        if j % 1000 == 999:
            db.commit()
    db.commit()
    t2 = time.perf_counter()
    n_ts_stored = db.n_ts
    db.close()
    t3 = time.perf_counter()
    reader = DatabaseReader(path)
    t4 = time.perf_counter()
    assert len(order) == n_min
    assert reader.n_minima == n_stored == new_count and reader.n_ts == n_ts_stored
    return {"n": n_min, "minima_s": t1 - t0, "ts_s": t2 - t1, "close_s": t3 - t2,
            "read_s": t4 - t3, "total_s": t3 - t0, "stored": n_stored, "ts_stored": n_ts_stored,
            "identity_calls": system.calls, "size_mb": os.path.getsize(path) / 2**20}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,20000,50000,100000")
    ap.add_argument("--ndim", type=int, default=30)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(dir=".") as d:
        for n in sizes:
            rows.append(run(n, args.ndim, d))
    print(f"stationary-point file, ndim = {args.ndim}: N minima offered (20% re-found), "
          f"2N transition states (10% re-found), commit every 1000")
    head = (f"{'N':>8} {'stored':>8} {'ts':>8} {'id.tests':>9} {'minima s':>9} {'us/min':>7} "
            f"{'TS s':>7} {'us/ts':>6} {'close s':>8} {'total s':>8} {'read s':>7} {'MiB':>6}")
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r['n']:>8} {r['stored']:>8} {r['ts_stored']:>8} {r['identity_calls']:>9} "
              f"{r['minima_s']:>9.2f} {1e6 * r['minima_s'] / r['n']:>7.1f} {r['ts_s']:>7.2f} "
              f"{1e6 * r['ts_s'] / (2 * r['n']):>6.1f} {r['close_s']:>8.2f} "
              f"{r['total_s']:>8.2f} {r['read_s']:>7.2f} {r['size_mb']:>6.1f}")
    if len(rows) > 1:
        a, b = rows[0], rows[-1]
        print(f"growth {a['n']} -> {b['n']} ({b['n'] / a['n']:.0f}x more): total time x"
              f"{b['total_s'] / a['total_s']:.1f} (minima x{b['minima_s'] / a['minima_s']:.1f}, "
              f"TS x{b['ts_s'] / a['ts_s']:.1f}); linear would be x{b['n'] / a['n']:.0f}")


if __name__ == "__main__":
    main()
