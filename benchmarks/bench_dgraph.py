"""Speed of the disconnectivity graph on a synthetic network of N minima (default 20,000).

The network: minima along a hidden coordinate s in [0, 1] with energies
``4 (s - 1/2)^2 + 0.5 * noise`` (a rugged funnel), each joined to a few of its neighbours
in s (3 transition states per minimum on average, barriers ``max(E_i, E_j) + Exp(0.3)``),
plus a few long-range links.  Timed separately: the superbasin analysis
(:func:`mlanalyse.disconnectivity.superbasin_tree`), the layout and drawing to PNG, and the
whole ``run_dgraph`` on a stationary-point file holding the network (target: < 10 s for
20,000 minima).

Run:  .venv/bin/python benchmarks/bench_dgraph.py [--n 20000] [--levels 20] [--quick]
      [--keep OUT.png]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np


def synthetic_network(n: int, rng: np.random.Generator, ts_per_min: float = 3.0):
    """``(energies (n,), min1 (m,), min2 (m,), ts_energies (m,))``, 0-based, connected."""
    s = np.sort(rng.random(n))
    e = 4.0 * (s - 0.5) ** 2 + 0.5 * rng.standard_normal(n)
    chain = np.arange(n - 1)
    m_extra = int(max(ts_per_min - 1.0, 0.0) * n)
    i = rng.integers(0, n, m_extra)
    j = np.clip(i + rng.integers(2, 12, m_extra), 0, n - 1)
    longi = rng.integers(0, n, n // 100 + 1)
    longj = rng.integers(0, n, n // 100 + 1)
    a = np.concatenate([chain, i, longi])
    b = np.concatenate([chain + 1, j, longj])
    ok = a != b
    a, b = a[ok], b[ok]
    te = np.maximum(e[a], e[b]) + rng.exponential(0.3, len(a))
    return e, a, b, te


def write_file(path: str, e, a, b, te) -> None:
    """A stationary-point file of a 2-coordinate 'python' landscape holding the network."""
    from mlcore.database import Database

    with Database.create(path, {"kind": "python", "note": "synthetic network"}, ndim=2,
                         identity=lambda *args: False, energy_tol=1e-12,
                         checkpoint_interval=1e9) as db:
        zero = np.zeros(2)
        for k, v in enumerate(e):
            db.add_minimum(float(v), zero + k)
        for k in range(len(a)):
            db.add_ts(float(te[k]), zero - k, int(a[k]) + 1, int(b[k]) + 1)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--levels", type=int, default=20)
    ap.add_argument("--quick", action="store_true", help="2000 minima")
    ap.add_argument("--keep", default=None, help="keep run_dgraph's figure here")
    args = ap.parse_args(argv)
    n = 2000 if args.quick or os.environ.get("MLBENCH_QUICK") else args.n

    from mlanalyse.disconnectivity import draw_dgraph, energy_levels, run_dgraph, superbasin_tree

    rng = np.random.default_rng(20261126)
    e, a, b, te = synthetic_network(n, rng)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        png = os.path.join(tmp, "dgraph.png")
        t0 = time.perf_counter()
        lv = energy_levels(float(e.min()), float(np.quantile(te, 0.9)), args.levels)
        tree = superbasin_tree(e, a, b, te, lv)
        out["tree_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        drawn = draw_dgraph(tree, png, colour_values=e, colour_label="energy")
        out["draw_s"] = time.perf_counter() - t0
        h5 = os.path.join(tmp, "net.h5")
        t0 = time.perf_counter()
        write_file(h5, e, a, b, te)
        out["write_file_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        info = run_dgraph(h5, args.keep or os.path.join(tmp, "run.png"), levels=args.levels,
                          colour_by="energy")
        out["run_dgraph_s"] = time.perf_counter() - t0
    out.update(n_minima=n, n_ts=len(a), n_nodes=tree.n_nodes, n_leaves=drawn["n_leaves"],
               run_leaves=info["n_leaves"])
    print(f"disconnectivity graph, {n} minima, {len(a)} transition states, "
          f"{args.levels} levels")
    print(f"  superbasin tree        {out['tree_s']:8.3f} s  ({tree.n_nodes} nodes, "
          f"{drawn['n_leaves']} leaves)")
    print(f"  layout + draw (PNG)    {out['draw_s']:8.3f} s")
    print(f"  run_dgraph (file->PNG) {out['run_dgraph_s']:8.3f} s  (target < 10 s; "
          f"writing the file took {out['write_file_s']:.1f} s, not counted)")
    return out


if __name__ == "__main__":
    main()
