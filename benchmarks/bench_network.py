"""Speed of the network statistics (``mlanalyse network``) on a large synthetic landscape.

A stationary-point file with 20,000 minima and 35,000 transition states is written with
the database writer (not timed), then timed:

* ``minima_graph``: reading the file into the graph of minima;
* ``network_statistics``: all statistics plus 10 random G(n, m) reference graphs
  (target: under 10 s).

The transition states mimic a landscape explored by connect jobs: 60% join minima that
are close in a hidden one-dimensional order (local, so the graph has triangles), 30% join
random pairs, 9% join a minimum to one of the 20 lowest (hubs, as connect-to-global
creates), 1% connect a minimum to itself; pairs may repeat.

Run:  .venv/bin/python benchmarks/bench_network.py [--minima 20000] [--ts 35000]
                                                   [--random 10] [--repeat 3] [--exact]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np

from mlanalyse.network import minima_graph, network_statistics
from mlcore.database import Database, DatabaseReader

NDIM = 2


def synthetic_file(path: str, n_min: int, n_ts: int, rng: np.random.Generator) -> None:
    """Write ``n_min`` minima and ``n_ts`` transition states to a new file at ``path``."""
    energy = np.sort(rng.uniform(-100.0, 0.0, n_min))        # id 1 is the lowest
    where = rng.permutation(n_min)                            # hidden 1-D position
    at = np.argsort(where)                                    # minimum at each position
    kind = rng.choice(4, size=n_ts, p=[0.6, 0.3, 0.09, 0.01])
    a = rng.integers(0, n_min, n_ts)
    b = rng.integers(0, n_min, n_ts)
    step = rng.integers(1, 4, n_ts) * rng.choice([-1, 1], n_ts)
    local = kind == 0
    b[local] = at[(where[a[local]] + step[local]) % n_min]
    hub = kind == 2
    b[hub] = rng.integers(0, 20, int(hub.sum()))
    b[kind == 3] = a[kind == 3]
    with Database.create(path, {"kind": "python", "target": "bench:Synthetic"},
                         ndim=NDIM) as db:
        for i in range(n_min):
            db.add_minimum(float(energy[i]), [float(i), 0.0])
        for j in range(n_ts):
            e = max(energy[a[j]], energy[b[j]]) + rng.exponential(1.0)
            db.add_ts(float(e), [float(j), 1.0], int(a[j]) + 1, int(b[j]) + 1)
            if (j + 1) % 5000 == 0:
                db.commit()


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minima", type=int, default=20_000)
    parser.add_argument("--ts", type=int, default=35_000)
    parser.add_argument("--random", type=int, default=10, help="random reference graphs")
    parser.add_argument("--repeat", type=int, default=3, help="timed repetitions (best)")
    parser.add_argument("--exact", action="store_true",
                        help="also time exact all-pairs shortest paths (slow)")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(20261126)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "network.h5")
        t0 = time.perf_counter()
        synthetic_file(path, args.minima, args.ts, rng)
        t_write = time.perf_counter() - t0
        reader = DatabaseReader(path)

        t_graph = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            graph = minima_graph(reader)
            t_graph.append(time.perf_counter() - t0)
        t_stats = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            stats = network_statistics(graph, n_random=args.random,
                                       rng=np.random.default_rng(1))
            t_stats.append(time.perf_counter() - t0)

    print(f"synthetic file: {args.minima} minima, {args.ts} transition states "
          f"(written in {t_write:.1f} s, not timed)")
    print(f"graph: {stats['nodes']} nodes, {stats['edges']} edges, mean degree "
          f"{stats['mean_degree']:.3f}, {stats['n_components']} components, largest "
          f"{stats['largest_component_nodes']}")
    print(f"mean shortest path {stats['mean_shortest_path']:.4f} "
          f"+- {stats['mean_shortest_path_stderr']:.4f} ({stats['shortest_path_method']}), "
          f"diameter {stats['diameter']} ({stats['diameter_method']})")
    print(f"clustering {stats['average_clustering']:.4f} (random "
          f"{stats['random_graphs']['mean']['average_clustering']:.2e}), sigma "
          f"{stats['small_world']['sigma']:.1f}")
    print(f"minima_graph:       best {min(t_graph):6.3f} s of {args.repeat}")
    print(f"network_statistics: best {min(t_stats):6.3f} s, worst {max(t_stats):6.3f} s "
          f"of {args.repeat} (with {args.random} random graphs; target < 10 s)")
    result = {"minima_graph_s": min(t_graph), "network_statistics_s": min(t_stats),
              "network_statistics_worst_s": max(t_stats), "stats": stats}
    if args.exact:
        t0 = time.perf_counter()
        exact = network_statistics(graph, n_random=0, rng=np.random.default_rng(1),
                                   exact_limit=10 ** 9)
        t_exact = time.perf_counter() - t0
        print(f"exact all pairs: mean shortest path {exact['mean_shortest_path']:.4f}, "
              f"diameter {exact['diameter']}, {t_exact:.1f} s (no random graphs)")
        result["exact_s"] = t_exact
        result["exact_mean_shortest_path"] = exact["mean_shortest_path"]
    return result


if __name__ == "__main__":
    main()
