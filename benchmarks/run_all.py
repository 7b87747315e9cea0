"""Run every benchmark of the suite in one go and print their tables.

1. ``bench_kernels``: microseconds per energy + gradient, compiled kernel vs NumPy reference.
2. ``bench_quench``: LJ38 quenches per second, ours vs pele vs scipy, with final-energy
   agreement, from random starts and from basin-hopping steps.
3. ``bench_basinhopping``: LJ38 time and steps to the global minimum, mlgmin vs pele's
   BasinHopping; mlgmin throughput on the study's landscapes.
4. ``bench_database``, ``bench_dgraph``, ``bench_network``, ``bench_grow``,
   ``bench_connect``: the stationary-point file (100,000 minima, 200,000 transition
   states), disconnectivity graph and network statistics of 20,000 minima, growth with 1 and
   2 workers and the cost of choosing pairs, LJ13/LJ38 connect against pele (each run as its
   own process; their tables are printed).

Usage::

    python benchmarks/run_all.py [--quick] [-n N_QUENCHES] [--json results.json]

``--quick`` (or ``MLBENCH_QUICK=1``) makes a smoke run of a few seconds.
"""
from __future__ import annotations

import argparse
import json
import math
import platform
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_basinhopping
import bench_kernels  # imports common first, which pins the BLAS threads
import bench_quench
from common import quick_mode


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description="all benchmarks of the suite")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run (also MLBENCH_QUICK=1)")
    parser.add_argument("-n", "--n-starts", type=int, default=None,
                        help="LJ38 quenches per method (default 300, quick 20)")
    parser.add_argument("--json", metavar="PATH", default=None,
                        help="also write the numbers to PATH as JSON")
    args = parser.parse_args(argv)
    quick = quick_mode(args.quick)
    t0 = time.perf_counter()
    print(f"# mllandscape benchmarks ({'quick' if quick else 'full'} mode) on "
          f"{platform.node()}, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')}\n")
    print("## 1. Kernels\n")
    kernel_rows = bench_kernels.run(quick=quick)
    print(bench_kernels.report(kernel_rows))
    print("\n## 2. LJ38 quenches\n")
    n = args.n_starts or (20 if quick else 300)
    quench = {}
    for start_set in ("random", "hopping"):
        quench[start_set] = bench_quench.run(n_starts=n, start_set=start_set,
                                             repeats=1 if quick else 3)
        print(bench_quench.report(quench[start_set]) + "\n")
    print("\n## 3. Basin-hopping\n")
    bh = bench_basinhopping.run(quick=quick)
    print(bench_basinhopping.report(bh))
    print("\n## 4. File, disconnectivity graph, network statistics\n")
    here = Path(__file__).resolve().parent
    for script, extra in (("bench_database.py", []),
                          ("bench_dgraph.py", ["--quick"] if quick else []),
                          ("bench_network.py", []),
                          ("bench_grow.py", ["--quick"] if quick else []),
                          ("bench_connect.py", ["--quick"] if quick else [])):
        print(f"### {script}\n", flush=True)
        subprocess.run([sys.executable, str(here / script), *extra], check=False)
        print(flush=True)
    print(f"(total {time.perf_counter() - t0:.1f} s)")
    result = {"kernels": kernel_rows, "quench": quench, "basinhopping": bh}
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(_plain(result), fh, indent=1)
    return result


def _plain(obj):
    """``obj`` with only JSON types: numbers, strings, lists, dicts (NaN -> None)."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()
                if isinstance(v, (dict, list, tuple, str, int, float, type(None)))}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


if __name__ == "__main__":
    main()
