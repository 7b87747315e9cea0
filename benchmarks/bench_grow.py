"""Speed of network growth (``mlpathsample grow``): parallel connect jobs, and pair choice.

Two parts:

``jobs``
    Connect jobs per minute on the regression landscape (20 data points; basin-hopping and
    'unconnected' growth first, not timed) and on a triatomic-network landscape (4 tanh
    hidden nodes, 1,000 training sequences, 36 parameters; 300 basin-hopping steps first,
    not timed) with one and with two local worker processes
    (``processes:1`` versus ``processes:2``).  The same fixed list of pairs (every pair of
    the lowest minima, each connect job deterministic given its pair) is submitted to each
    executor, exactly the task ``grow`` submits
    (:func:`mloptim.jobs.connect_pair_checked`); the clock runs from the first submission
    to the last result.  Target: the two-worker rate at least 1.8 times the one-worker rate
    (on a machine whose two cores are otherwise idle).  The table also shows how many jobs
    were in flight on average and what share of a core each job got; on a loaded machine
    the measured speed-up reflects the load, so an estimate for free cores (jobs in flight
    times CPU seconds per job) is printed too.
``choice``
    Seconds per pair-selection call of each strategy (4 pairs, as one cycle asks) on
    synthetic files of 5,000 and 20,000 minima (1.75 transition states per minimum, a
    funnel of energies, 1% of the minima left unconnected, 2,000 pairs already tried).
    Linear work shows as a ratio of about 4 between the two sizes, quadratic as 16; the
    exponent ``log(ratio) / log(4)`` is printed.

Run:  .venv/bin/python benchmarks/bench_grow.py [--quick] [--part jobs|choice|all]
          [--landscape regression|triatomic-nn|both] [--jobs 24] [--sizes 5000,20000]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: F401  (first: pins the BLAS threads before NumPy loads)
import numpy as np
from common import format_table, quick_mode, thread_note

from mlcore.landscape import System

REGRESSION = ('[system]\nkind = "regression"\nnpoints = 20\n'
              '[mlgmin]\nsteps = 100\nruns = 2\nseed = 5\n')
TRIATOMIC_NN = ('[system]\nkind = "nn"\nhidden = 4\nlam = 1e-4\n'
                '[system.data]\nkind = "triatomic"\nfeatures = "initial"\n'
                'n_sequences = 2000\nn_train = 1000\nn_test = 1000\nseed = 0\n'
                '[mlgmin]\nsteps = 150\nruns = 2\nseed = 1\ntemperature = 1e-4\n'
                'step_size = 0.5\n[mlgmin.quench]\nM = 10\nmax_step = 0.5\n')


# ---------------------------------------------------------------------------- jobs
def landscape_network(directory: str, landscape: str) -> str:
    """A file of minima to connect (not timed): basin-hopping on ``landscape``, and for
    the regression landscape 'unconnected' growth as well."""
    from mlcore.config import apply_overrides, parse_input
    from mlgmin.run import run
    from mlpathsample.grow import grow

    text = REGRESSION if landscape == "regression" else TRIATOMIC_NN
    inp_path = os.path.join(directory, f"{landscape}.toml")
    with open(inp_path, "w") as fh:
        fh.write(text)
    inp = parse_input(text, path=inp_path)
    out = os.path.join(directory, f"{landscape}.h5")
    run(inp, apply_overrides(inp.mlgmin, "mlgmin", {"executor": "serial"}), out)
    if landscape == "regression":
        grow(out, "unconnected", 20, inp.mlpathsample, inp.mloptim, "serial", 0)
    return out


def job_pairs(path: str, n_jobs: int) -> tuple[list, int]:
    """``n_jobs`` pairs of minima (lowest first), as coordinates; and the number of minima."""
    from mlcore.database import DatabaseReader

    minima = DatabaseReader(path).minima()
    order = np.argsort(minima.energy)
    pairs = [(int(order[i]), int(order[j])) for j in range(len(order)) for i in range(j)]
    if not pairs:
        raise SystemExit(f"{path}: needs at least two minima")
    # a file with few minima repeats its pairs: this measures throughput, not discovery
    pairs = [pairs[k % len(pairs)] for k in range(n_jobs)]
    return [(minima.coords[i], minima.coords[j]) for i, j in pairs], len(order)


def timed_connect(system, coords_a, coords_b, optim) -> tuple[int, float, float]:
    """Worker task: the connect job ``grow`` submits, with its wall and CPU seconds."""
    from mloptim.jobs import connect_pair_checked

    t0, c0 = time.perf_counter(), time.process_time()
    out = connect_pair_checked(system, coords_a, coords_b, optim, 0)
    return len(out.outcome.found), time.perf_counter() - t0, time.process_time() - c0


def connect_rate(path: str, pairs: list, workers: int) -> dict:
    """Connect jobs per minute with ``processes:workers``.

    Besides the rate: ``concurrency``, the jobs' summed wall time over the elapsed time (how
    many jobs were in flight on average; ``workers`` if the driver keeps every worker busy),
    and ``core_share``, the jobs' CPU time over their wall time (1 on idle cores; less when
    other programs compete for the cores).
    """
    from concurrent.futures import as_completed

    from mlcore.executors import make_executor
    from mlcore.session import load_system, program_settings

    reader, system = load_system(path)
    optim, _ = program_settings("mloptim", reader, path, None)
    with make_executor(f"processes:{workers}") as executor:
        warm = [executor.submit(math.sqrt, 4.0) for _ in range(workers)]
        for fut in warm:
            fut.result()
        t0 = time.perf_counter()
        futures = [executor.submit(timed_connect, system, a, b, optim) for a, b in pairs]
        done = [f.result() for f in as_completed(futures)]
        elapsed = time.perf_counter() - t0
    wall = sum(d[1] for d in done)
    cpu = sum(d[2] for d in done)
    return {"workers": workers, "jobs": len(pairs), "seconds": elapsed,
            "jobs_per_minute": 60.0 * len(pairs) / elapsed, "ts_found": sum(d[0] for d in done),
            "concurrency": wall / elapsed, "core_share": cpu / wall, "cpu_seconds": cpu}


def bench_jobs(n_jobs: int, repeat: int, file: str | None = None,
               landscape: str = "regression") -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = file or landscape_network(tmp, landscape)
        pairs, n_minima = job_pairs(path, n_jobs)
        best = {}
        for _ in range(repeat):
            for workers in (1, 2):
                row = connect_rate(path, pairs, workers)
                if workers not in best or row["seconds"] < best[workers]["seconds"]:
                    best[workers] = row
    speedup = best[2]["jobs_per_minute"] / best[1]["jobs_per_minute"]
    where = file or {"regression": "the regression landscape (20 points)",
                      "triatomic-nn": "a triatomic network (4 hidden nodes, 1000 sequences)"
                      }[landscape]
    print(f"connect jobs on {where}, pairs of its {n_minima} minima: {len(pairs)} jobs, "
          f"best of {repeat}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(format_table([best[1], best[2]], [("workers", "workers"), ("jobs", "jobs"),
                                            ("seconds", "seconds"),
                                            ("jobs_per_minute", "jobs/min"),
                                            ("ts_found", "TS found"),
                                            ("concurrency", "jobs in flight"),
                                            ("core_share", "core share")]))
    print(f"speed-up processes:2 / processes:1 = {speedup:.2f} (target >= 1.8)")
    # on free cores every job gets a whole core: the rate is then jobs in flight over the
    # CPU seconds per job, and the speed-up the ratio of those
    free = (best[2]["concurrency"] / best[1]["concurrency"]
            * best[1]["cpu_seconds"] / best[2]["cpu_seconds"])
    print(f"estimated speed-up on free cores (jobs in flight x CPU time per job) = {free:.2f}")
    if min(best[1]["core_share"], best[2]["core_share"]) < 0.9:
        print("note: the jobs got less than 90% of a core each (other programs were using "
              "the cores); the speed-up then measures the machine's load, not the suite. "
              f"Jobs in flight with 2 workers: {best[2]['concurrency']:.2f} (2 = no idle "
              "worker)")
    return {"landscape": file or landscape, "one": best[1], "two": best[2], "speedup": speedup,
            "free_core_estimate": free}


# ---------------------------------------------------------------------------- choice
class Plane(System):
    """Two flat coordinates (the synthetic minima's positions); no symmetry."""

    ndim = 2

    def energy_gradient(self, coords):  # pragma: no cover - never evaluated
        return 0.0, np.zeros(2)


def synthetic_network(path: str, n_min: int, rng: np.random.Generator,
                      ts_per_minimum: float = 1.75, n_tried: int = 2000) -> None:
    """A file with a funnel-like synthetic network (see the module docstring)."""
    from mlcore.database import Database

    n_ts = int(ts_per_minimum * n_min)
    where = rng.permutation(n_min)                       # hidden 1-D position
    energy = np.sort(rng.uniform(-100.0, 0.0, n_min))   # id 1 is the global minimum
    at = np.argsort(where)
    kind = rng.choice(3, size=n_ts, p=[0.6, 0.3, 0.1])
    a = rng.integers(0, n_min, n_ts)
    b = rng.integers(0, n_min, n_ts)
    step = rng.integers(1, 4, n_ts) * rng.choice([-1, 1], n_ts)
    local = kind == 0
    b[local] = at[(where[a[local]] + step[local]) % n_min]
    hub = kind == 2
    b[hub] = rng.integers(0, 20, int(hub.sum()))
    lonely = rng.choice(np.arange(20, n_min), size=n_min // 100, replace=False)
    keep = ~(np.isin(a, lonely) | np.isin(b, lonely)) & (a != b)
    coords = np.column_stack((where.astype(float), rng.normal(0.0, 1.0, n_min)))
    with Database.create(path, {"kind": "python", "target": "bench_grow:Plane"},
                         ndim=2) as db:
        for i in range(n_min):
            db.add_minimum(float(energy[i]), coords[i])
        for j in np.flatnonzero(keep).tolist():
            e = max(energy[a[j]], energy[b[j]]) + rng.exponential(5.0)
            db.add_ts(float(e), [float(j), 1.0], int(a[j]) + 1, int(b[j]) + 1)
        for _ in range(n_tried):
            i, k = rng.choice(n_min, 2, replace=False)
            db.add_tried_pair(int(i) + 1, int(k) + 1, int(rng.integers(0, 2)))


def choice_times(path: str, repeat: int) -> dict:
    """Seconds per call (best of ``repeat``) of each strategy's pair choice."""
    from mlcore.database import Database
    from mlpathsample.grow import (
        _Components,
        pairs_random,
        pairs_shortcut,
        pairs_unconnected,
        pairs_untrap,
    )

    system = Plane()
    out = {}
    with Database.open_writer(path) as db:
        ts = db.ts()
        comps = _Components(db.n_minima, ts.min1, ts.min2)
        calls = {
            "unconnected": lambda: pairs_unconnected(db, system, comps, 4, set(), 3),
            "untrap": lambda: pairs_untrap(db, system, 4, set(), 3),
            "shortcut": lambda: pairs_shortcut(db, system, 4, set(), 3),
            "random": lambda: pairs_random(db, np.random.default_rng(0), 4, set()),
        }
        for name, call in calls.items():
            call()                         # warm: imports, caches
            best, pairs = math.inf, None
            for _ in range(repeat):
                t0 = time.perf_counter()
                pairs = call()
                best = min(best, time.perf_counter() - t0)
            out[name] = {"seconds": best, "pairs": len(pairs)}
    return out


def bench_choice(sizes: list[int], repeat: int) -> dict:
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = os.path.join(tmp, f"net{n}.h5")
            t0 = time.perf_counter()
            synthetic_network(path, n, np.random.default_rng(20261126))
            t_write = time.perf_counter() - t0
            results[n] = choice_times(path, repeat)
            print(f"synthetic file of {n} minima written in {t_write:.1f} s (not timed)")
    rows = []
    small, large = sizes[0], sizes[-1]
    for name in results[small]:
        row = {"strategy": name}
        for n in sizes:
            row[f"s{n}"] = results[n][name]["seconds"]
            row[f"p{n}"] = results[n][name]["pairs"]
        r = results[large][name]["seconds"] / results[small][name]["seconds"]
        row["ratio"] = r
        row["exponent"] = math.log(r) / math.log(large / small) if large != small else math.nan
        rows.append(row)
    cols = [("strategy", "strategy")]
    for n in sizes:
        cols += [(f"s{n}", f"s/call n={n}"), (f"p{n}", "pairs")]
    cols += [("ratio", f"ratio {large}/{small}"), ("exponent", "exponent")]
    print(f"pair choice (4 pairs per call), best of {repeat}:")
    print(format_table(rows, cols))
    print("exponent 1: linear in the network size; 2: quadratic")
    return {"sizes": sizes, "rows": rows}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    parser.add_argument("--part", choices=["jobs", "choice", "all"], default="all")
    parser.add_argument("--jobs", type=int, default=24, help="connect jobs per executor")
    parser.add_argument("--sizes", default="5000,20000", help="network sizes (minima)")
    parser.add_argument("--repeat", type=int, default=2, help="timed repetitions (best)")
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument("--landscape", choices=["regression", "triatomic-nn", "both"],
                        default="both", help="built-in landscapes of the jobs part")
    parser.add_argument("--file", help="time connect jobs between the minima of this "
                        "stationary-point file instead of the built-in landscapes")
    args = parser.parse_args(argv)
    quick = quick_mode(args.quick)
    print(thread_note(with_clock=False))
    result = {}
    if args.part in ("jobs", "all"):
        names = ([args.file] if args.file else ["regression", "triatomic-nn"]
                 if args.landscape == "both" else [args.landscape])
        result["jobs"] = []
        for name in names:
            result["jobs"].append(bench_jobs(
                6 if quick else args.jobs, 1 if quick else args.repeat, args.file,
                "regression" if args.file else name))
    if args.part in ("choice", "all"):
        sizes = [500, 2000] if quick else [int(s) for s in args.sizes.split(",")]
        result["choice"] = bench_choice(sizes, 1 if quick else args.repeat)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=2, default=float)
    return result


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
