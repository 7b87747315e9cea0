"""Local quenches per second on LJ38: this suite's L-BFGS against pele and scipy.

All methods quench the same starting configurations (38 atoms uniform in a cube of side
``(38 / density)^(1/3)``, drawn from ``numpy.random.default_rng(seed)``) to the same
convergence criterion, the RMS gradient ``|g| / sqrt(3 N) <= tol``:

``ours``
    ``mlcore.optimize.lbfgs.minimize`` on ``mlcore.systems.cluster.ClusterSystem(38)``
    (a compiled quench: ``kernels.lbfgs`` with the ``kernels.cluster`` kernel; the
    result object is built in Python).
``ours-raw``
    ``kernels.lbfgs.lbfgs_quench`` called directly on ``kernels.cluster.ClusterKernel``
    (shows the cost of the Python wrapper around the compiled quench).
``pele``
    pele 0.1.2's ``pele.optimize.lbfgs_cpp`` on pele's own ``pele.potentials.LJ``, run in a
    subprocess (``benchmarks/pele_side.py``) with the interpreter ``PELE_PYTHON`` (default:
    this one if it can import pele).  Its test is the same RMS criterion.
``scipy``
    ``scipy.optimize.minimize(method="L-BFGS-B", jac=True)`` on the compiled kernel's
    ``energy_gradient``.  scipy has no RMS test: it gets ``gtol = tol`` on the largest
    gradient component (a stricter test) and ``ftol = 0`` (no stop on a small relative
    decrease of the energy); it still stops when its line search fails, so the table
    reports the fraction of its quenches that actually reach the RMS tolerance.

The L-BFGS memory is the same for all (``--memory``, default 4 as in pele and GMIN); ours
and pele also share the maximum step (0.1) and the accepted energy rise (1e-4).  Every
final configuration is re-evaluated with the NumPy reference
(``kernels.reference.cluster``) to check the RMS gradient independently, and final
energies are compared start by start: two quenches reach the same minimum if their
energies differ by less than ``--energy-tol``.

Run ``python benchmarks/bench_quench.py [--quick] [-n N]``.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: F401  (first: pins the BLAS threads before NumPy loads)
import numpy as np
from common import BENCH_DIR, ROOT, format_table, quick_mode, ratio, thread_note

NATOMS = 38
#: LJ38 global minimum energy (Cambridge Cluster Database), reduced units
LJ38_GLOBAL_MIN = -173.928427


# ---------------------------------------------------------------------- starts
def random_starts(n_starts: int, natoms: int = NATOMS, density: float = 1.0,
                  rng: np.random.Generator | None = None, seed: int = 20261126) -> np.ndarray:
    """Random cluster configurations: atoms uniform in a cube of side ``(natoms / density)^(1/3)``.

    Parameters
    ----------
    n_starts : int
        Number of configurations.
    natoms : int
        Atoms per configuration.
    density : float
        Number density (atoms per sigma^3) of the cube; 1.0 is close to that of a
        compact LJ cluster.
    rng : numpy.random.Generator, optional
        Source of randomness; default ``numpy.random.default_rng(seed)``.
    seed : int
        Seed used when ``rng`` is not given.

    Returns
    -------
    ndarray, shape (n_starts, 3 * natoms)
        Flat coordinates ``(x1, y1, z1, x2, ...)``, centred on the origin.
    """
    if rng is None:
        rng = np.random.default_rng(seed)
    side = (natoms / density) ** (1.0 / 3.0)
    return rng.uniform(-0.5 * side, 0.5 * side, size=(n_starts, 3 * natoms))


def _best_energy_gradient(natoms: int):
    """The compiled kernel's ``energy_gradient`` if built, else the NumPy reference's."""
    try:
        from kernels.cluster import ClusterKernel

        return ClusterKernel(natoms).energy_gradient, ""
    except ImportError:
        from kernels.reference import cluster as ref

        return ref.energy_gradient, "on the NumPy reference (kernels.cluster not built)"


def hopping_starts(n_starts: int, natoms: int = NATOMS, step: float = 0.4,
                   n_minima: int = 50, density: float = 1.0,
                   rng: np.random.Generator | None = None, seed: int = 20261126) -> np.ndarray:
    """Basin-hopping steps: local minima with every coordinate displaced by U(-step, step).

    ``n_minima`` random starts (see :func:`random_starts`) are quenched with scipy's
    L-BFGS-B to a tight gradient (so that no compared L-BFGS chooses the minima), and
    start ``i`` displaces minimum ``i mod n_minima``.  These are the starts a basin-hopping
    run quenches, less chaotic than random ones.

    Returns
    -------
    ndarray, shape (n_starts, 3 * natoms)
    """
    from scipy.optimize import minimize

    if rng is None:
        rng = np.random.default_rng(seed)
    fun, _ = _best_energy_gradient(natoms)
    bases = random_starts(min(n_minima, n_starts), natoms, density, rng=rng)
    minima = np.array([minimize(fun, x0, jac=True, method="L-BFGS-B",
                                options={"gtol": 1e-8, "ftol": 1e-15, "maxiter": 20000}).x
                       for x0 in bases])
    picked = minima[np.arange(n_starts) % len(minima)]
    return picked + rng.uniform(-step, step, size=picked.shape)


def reference_rms(coords: np.ndarray) -> np.ndarray:
    """RMS gradient of each row of ``coords`` by the NumPy reference of the cluster."""
    from kernels.reference import cluster as ref

    return np.array([np.sqrt(np.mean(ref.energy_gradient(x)[1] ** 2)) for x in coords])


def _best_time(quench_all, repeats):
    """Run ``quench_all()`` ``repeats`` times.

    Returns ``(results of the last run, (best wall seconds, best CPU seconds))``.
    """
    wall = cpu = math.inf
    for _ in range(max(1, repeats)):
        t0, c0 = time.perf_counter(), time.process_time()
        results = quench_all()
        wall = min(wall, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return results, (wall, cpu)


def _result(name, starts, coords, energies, nfev, seconds, note=""):
    """The record of one method: ``seconds`` is ``(wall, cpu)`` for all starts."""
    n = len(starts)
    return {"method": name, "n": n, "seconds": seconds[0], "cpu_seconds": seconds[1],
            "coords": np.asarray(coords), "energy": np.asarray(energies, dtype=float),
            "nfev": float(np.mean(nfev)) if len(nfev) else math.nan, "note": note}


# ---------------------------------------------------------------------- the methods
def run_ours(starts, tol, memory, maxstep, maxiter, repeats=1):
    """``mlcore.optimize.lbfgs.minimize`` on ``ClusterSystem(38)``; None if not available."""
    try:
        from mlcore.optimize.lbfgs import minimize
        from mlcore.systems.cluster import ClusterSystem
    except ImportError as exc:
        return {"method": "ours", "missing": f"not available ({exc})"}
    system = ClusterSystem(starts.shape[1] // 3)
    kwargs = {"tol": tol, "M": memory, "max_step": maxstep, "max_iter": maxiter}
    minimize(system, starts[0], **kwargs)                      # warm-up, not timed
    results, seconds = _best_time(lambda: [minimize(system, x0, **kwargs) for x0 in starts],
                                  repeats)
    return _result("ours", starts, [r.coords for r in results], [r.energy for r in results],
                   [r.nfev for r in results], seconds)


def run_ours_raw(starts, tol, memory, maxstep, maxiter, repeats=1):
    """``kernels.lbfgs.lbfgs_quench`` on ``kernels.cluster.ClusterKernel`` directly."""
    try:
        from kernels.cluster import ClusterKernel
        from kernels.lbfgs import lbfgs_quench
    except ImportError as exc:
        return {"method": "ours-raw", "missing": f"not built ({exc})"}
    kernel = ClusterKernel(starts.shape[1] // 3)
    kwargs = {"M": memory, "max_step": maxstep, "tol": tol, "max_iter": maxiter}
    lbfgs_quench(kernel, np.ascontiguousarray(starts[0]), **kwargs)
    results, seconds = _best_time(lambda: [lbfgs_quench(kernel, x0, **kwargs) for x0 in starts],
                                  repeats)
    return _result("ours-raw", starts, [r[0] for r in results], [r[1] for r in results],
                   [r[3] for r in results], seconds)


def run_scipy(starts, tol, memory, maxiter, repeats=1):
    """scipy's L-BFGS-B on the compiled kernel's ``energy_gradient`` (NumPy reference if unbuilt)."""
    from scipy.optimize import minimize

    fun, note = _best_energy_gradient(starts.shape[1] // 3)
    options = {"maxcor": memory, "gtol": tol, "ftol": 0.0, "maxiter": maxiter,
               "maxfun": 10 * maxiter}
    minimize(fun, starts[0], jac=True, method="L-BFGS-B", options=options)
    results, seconds = _best_time(
        lambda: [minimize(fun, x0, jac=True, method="L-BFGS-B", options=options)
                 for x0 in starts], repeats)
    return _result("scipy", starts, [r.x for r in results], [r.fun for r in results],
                   [r.nfev for r in results], seconds, note)


def pele_python() -> str | None:
    """The interpreter that runs the pele side: ``$PELE_PYTHON``, this one, or ``.venv-bench``."""
    env = os.environ.get("PELE_PYTHON")
    if env:
        return env
    if importlib.util.find_spec("pele") is not None:
        return sys.executable
    bench_venv = ROOT / ".venv-bench" / "bin" / "python"
    return str(bench_venv) if bench_venv.exists() else None


def run_pele(starts, tol, memory, maxstep, maxiter, repeats=1):
    """pele's ``lbfgs_cpp`` on pele's LJ, in a subprocess (see ``pele_side.py``)."""
    python = pele_python()
    if python is None:
        return {"method": "pele", "missing": "pele not installed (pip install pele==0.1.2, "
                                              "or set PELE_PYTHON)"}
    with tempfile.TemporaryDirectory() as tmp:
        start_file = Path(tmp) / "starts.npy"
        out_file = Path(tmp) / "pele.npz"
        np.save(start_file, starts)
        cmd = [python, str(BENCH_DIR / "pele_side.py"), str(start_file), str(out_file),
               "--tol", repr(tol), "--memory", str(memory), "--maxstep", repr(maxstep),
               "--maxiter", str(maxiter), "--repeats", str(repeats)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
            return {"method": "pele", "missing": f"pele side failed: {tail}"}
        summary = json.loads(proc.stdout.strip().splitlines()[-1])
        out = np.load(out_file)
        res = _result("pele", starts, out["coords"], out["energy"], out["nfev"],
                      (summary["seconds"], summary["cpu_seconds"]),
                      f"pele {summary['pele_version']}")
    return res


# ---------------------------------------------------------------------- driver
def run(n_starts: int = 300, tol: float = 1e-6, memory: int = 4, maxstep: float = 0.1,
        maxiter: int = 10000, density: float = 1.0, seed: int = 20261126,
        energy_tol: float = 1e-6, methods=("ours", "ours-raw", "pele", "scipy"),
        start_set: str = "random", repeats: int = 1) -> dict:
    """Quench the same LJ38 starts with each method and compare.

    Parameters
    ----------
    n_starts : int
        Number of quenches per method.
    tol : float
        RMS-gradient tolerance ``|g| / sqrt(ndim)``.
    memory : int
        L-BFGS memory of every method.
    maxstep : float
        Maximum step length (ours and pele).
    maxiter : int
        Iteration limit of every method.
    density : float
        Number density of the random starts (see :func:`random_starts`).
    seed : int
        Seed of the ``numpy.random.Generator`` that draws the starts.
    energy_tol : float
        Two final energies closer than this count as the same minimum.
    methods : sequence of str
        Which of ``ours``, ``ours-raw``, ``pele``, ``scipy`` to run.
    start_set : {"random", "hopping"}
        Random configurations (:func:`random_starts`) or basin-hopping steps from local
        minima (:func:`hopping_starts`).
    repeats : int
        Timed rounds: every method quenches all starts once per round (rounds interleaved
        across methods); the best round counts, for wall and CPU time separately.

    Returns
    -------
    dict
        ``rows`` (one dict per method: ``rate`` in quenches/s of wall time, ``cpu_rate``
        of CPU time, ``ms`` wall milliseconds per quench, ``nfev``
        mean evaluations per quench, ``converged`` fraction with reference RMS <= tol,
        ``same_as_ours`` fraction of starts ending at our energy, ``mean_energy``,
        ``global_min`` fraction reaching the LJ38 global minimum, rate ratios ``ours_over``
        and ``ours_over_cpu``),
        ``agree_all`` (fraction of starts where every method ends at the same energy),
        ``settings`` and ``missing`` (methods that could not run, with the reason).
    """
    rng = np.random.default_rng(seed)
    if start_set == "random":
        starts = random_starts(n_starts, NATOMS, density, rng=rng)
    elif start_set == "hopping":
        starts = hopping_starts(n_starts, NATOMS, density=density, rng=rng)
    else:
        raise ValueError(f"start_set must be 'random' or 'hopping', got {start_set!r}")
    runners = {
        "ours": lambda: run_ours(starts, tol, memory, maxstep, maxiter),
        "ours-raw": lambda: run_ours_raw(starts, tol, memory, maxstep, maxiter),
        "pele": lambda: run_pele(starts, tol, memory, maxstep, maxiter),
        "scipy": lambda: run_scipy(starts, tol, memory, maxiter),
    }
    # Rounds are interleaved (every method once, then again) so that a change of load on
    # a shared machine hits all methods alike; each method keeps its best round.
    records, missing = {}, {}
    for _ in range(max(1, repeats)):
        for name in methods:
            if name in missing:
                continue
            res = runners[name]()
            if "missing" in res:
                missing[name] = res["missing"]
            elif name not in records:
                records[name] = res
            else:
                for key in ("seconds", "cpu_seconds"):
                    records[name][key] = min(records[name][key], res[key])
    results = [records[name] for name in methods if name in records]
    for r in results:
        r["rate"] = r["n"] / r["seconds"] if r["seconds"] > 0 else math.nan
        r["cpu_rate"] = r["n"] / r["cpu_seconds"] if r["cpu_seconds"] > 0 else math.nan
    by_name = {r["method"]: r for r in results}
    ours = by_name.get("ours") or by_name.get("ours-raw")
    rows = []
    for r in results:
        rms = reference_rms(r["coords"])
        row = {"method": r["method"], "n": r["n"], "rate": r["rate"], "cpu_rate": r["cpu_rate"],
               "ms": 1e3 * r["seconds"] / r["n"], "nfev": r["nfev"],
               "converged": float(np.mean(rms <= tol * (1 + 1e-9))),
               "mean_energy": float(np.mean(r["energy"])),
               "global_min": float(np.mean(np.abs(r["energy"] - LJ38_GLOBAL_MIN) < 1e-4)),
               "note": r["note"]}
        if ours is not None:
            row["same_as_ours"] = float(np.mean(np.abs(r["energy"] - ours["energy"])
                                                < energy_tol))
            row["ours_over"] = ratio(ours["rate"], r["rate"])
            row["ours_over_cpu"] = ratio(ours["cpu_rate"], r["cpu_rate"])
        rows.append(row)
    agree_all = math.nan
    if len(results) >= 2:
        energies = np.array([r["energy"] for r in results])
        agree_all = float(np.mean(energies.max(axis=0) - energies.min(axis=0) < energy_tol))
    settings = {"n_starts": n_starts, "natoms": NATOMS, "tol": tol, "memory": memory,
                "maxstep": maxstep, "maxiter": maxiter, "density": density, "seed": seed,
                "energy_tol": energy_tol, "start_set": start_set, "repeats": repeats}
    return {"rows": rows, "agree_all": agree_all, "settings": settings, "missing": missing,
            "ours_method": ours["method"] if ours is not None else None}


COLUMNS = [("method", "method"), ("n", "quenches"), ("rate", "quench/s"),
           ("cpu_rate", "quench/CPU-s"), ("ms", "ms/quench"),
           ("nfev", "E+g/quench"), ("converged", "frac rms<=tol"),
           ("same_as_ours", "frac same E as ours"), ("global_min", "frac global min"),
           ("mean_energy", "mean E"), ("ours_over", "ours/this"), ("ours_over_cpu", "ours/this CPU"),
           ("note", "note")]


def report(result: dict) -> str:
    """The printed form of :func:`run`'s result."""
    s = result["settings"]
    if s["start_set"] == "random":
        what = f"random starts (uniform in a cube, density {s['density']}, seed {s['seed']})"
    else:
        what = ("basin-hopping steps (local minima + U(-0.4, 0.4) on every coordinate, "
                f"seed {s['seed']})")
    lines = [
        (f"LJ{s['natoms']} local quenches from {s['n_starts']} {what}; best of "
         f"{s['repeats']} timed rounds; "
         f"converged = RMS gradient |g|/sqrt(3N) <= {s['tol']:g}; "
         f"L-BFGS memory {s['memory']}, max step {s['maxstep']} (ours, pele), "
         f"max {s['maxiter']} iterations"),
        (thread_note(with_clock=False) + "; quench/s from wall time, quench/CPU-s from the "
         "process CPU time (steadier on a shared machine); ratios 'ours/this' use "
         + str(result["ours_method"])),
        format_table(result["rows"], COLUMNS),
        (f"fraction of starts where all methods reach the same energy (|dE| < "
         f"{s['energy_tol']:g}): {result['agree_all']:.3f}"),
    ]
    for name, why in result["missing"].items():
        lines.append(f"{name}: {why}")
    return "\n".join(lines)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description="LJ38 quench rates: ours vs pele vs scipy")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run (also MLBENCH_QUICK=1): 20 starts")
    parser.add_argument("-n", "--n-starts", type=int, default=None,
                        help="quenches per method (default 300, quick 20)")
    parser.add_argument("--tol", type=float, default=1e-6)
    parser.add_argument("--memory", type=int, default=4)
    parser.add_argument("--density", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--methods", default="ours,ours-raw,pele,scipy")
    parser.add_argument("--starts", default="random,hopping",
                        help="start sets to run: random, hopping or both (default)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed rounds per method, best counts (default 3, quick 1)")
    args = parser.parse_args(argv)
    quick = quick_mode(args.quick)
    n = args.n_starts or (20 if quick else 300)
    repeats = args.repeats or (1 if quick else 3)
    results = {}
    for start_set in [s for s in args.starts.split(",") if s]:
        results[start_set] = run(n_starts=n, tol=args.tol, memory=args.memory,
                                 density=args.density, seed=args.seed,
                                 methods=tuple(m for m in args.methods.split(",") if m),
                                 start_set=start_set, repeats=repeats)
        print(report(results[start_set]) + "\n")
    return results


if __name__ == "__main__":
    main()
