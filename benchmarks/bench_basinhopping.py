"""Basin-hopping: time and steps to first find the LJ38 global minimum, ours vs pele; throughput.

Section 1, LJ38 first passage.  For each seed a single basin-hopping run starts from a
random configuration and stops at the first quench whose energy is at or below the target
(``-173.9284``; the global minimum is ``-173.928427``), or at the step cap or time cap
(a *censored* run, counted as not found).  Methods:

``ours (driver)``
    :func:`mlgmin.run.run` through the Python API, as ``mlgmin configs/lj38.toml`` runs it:
    ``mlcore.config.parse_input`` on the text of ``configs/lj38.toml`` (or ``--config``),
    ``apply_overrides`` with ``seed``, ``runs = 1``, ``executor = "serial"``, ``steps`` =
    the step cap, ``time_limit`` = the time cap and ``target_energy``; output to a
    temporary HDF5 file.  The time is the whole call: building the landscape, creating the
    file, the search with its chunk commits and, when the target is reached, the tight
    re-convergence and Hessian characterisation of the ``save`` lowest minima.
``ours (bare)``
    The algorithm alone with the same settings: :func:`mlgmin.basinhopping.start_run`
    then :func:`mlgmin.basinhopping.advance` in chunks of 500 steps, with the default
    step taker and Metropolis test, no file.
``pele``
    pele 0.1.2's ``BasinHopping`` with its default LJ settings
    (``pele.systems.LJCluster(38).get_basinhopping()``), in a subprocess
    (``benchmarks/pele_bh_side.py``; see its docstring for what the defaults are).

Reported per method: successes, median and quartiles of the wall time and of the steps to
the first hit (censored runs count as infinitely long, so a quantile that falls on one
is shown as ``>cap``), and ``time/success`` = total time of all runs, censored ones
included, divided by the number of successes: the maximum-likelihood estimate of the mean
first-passage time when hitting is a Poisson process, and the figure that uses every
second spent.  Times are given as wall time and as process CPU time (the steadier one on
a shared machine; both sides are single-threaded).  The ratio columns are pele / this
method; > 1 means this method is faster than pele.

Section 2, throughput.  Basin-hopping steps per second of :func:`mlgmin.run.run`
(``save = 0``, so only the search and its file writing are timed) and of the bare
algorithm, on the 3-hidden-node triatomic network (``configs/triatomic-nn-3.toml``),
MNIST 784-10-10 (``configs/mnist-nn.toml``) and the regression landscape
(``configs/regression.toml``), with the settings of those files.

Run ``python benchmarks/bench_basinhopping.py [--quick] [--seeds 10] [--max-steps 100000]
[--max-seconds 120] [-v] [--json PATH]``; ``--quick`` (or ``MLBENCH_QUICK=1``) is a smoke
run of about half a minute (2 seeds, 3 s caps: it checks that everything runs, its LJ38
numbers mean little).
"""
from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: F401  (first: pins the BLAS threads before NumPy loads)
import numpy as np
from common import BENCH_DIR, ROOT, format_table, quick_mode, ratio, thread_note

#: LJ38 global minimum (Cambridge Cluster Database), reduced units
LJ38_GLOBAL_MIN = -173.928427
#: a run stops at the first quench at or below this energy
LJ38_TARGET = -173.9284
#: a hit counts if it is this close to the global minimum
HIT_TOL = 1e-4

THROUGHPUT_CASES = (("triatomic-nn-3", "triatomic-nn-3.toml", 200),
                    ("mnist 784-10-10", "mnist-nn.toml", 20),
                    ("regression", "regression.toml", 200))


# ---------------------------------------------------------------------- ours
def load_settings(config: Path, overrides: dict):
    """``(InputFile, MLGminSettings)`` from the text of ``config`` with ``overrides`` applied."""
    from mlcore.config import apply_overrides, parse_input

    inp = parse_input(Path(config).read_text(), path=config, base_dir=Path(config).parent)
    return inp, apply_overrides(inp.mlgmin, "mlgmin", overrides)


def ours_driver(config: Path, seed: int, max_steps: int, max_seconds: float | None,
                target: float | None = LJ38_TARGET, extra: dict | None = None) -> dict:
    """One :func:`mlgmin.run.run` job (one run, serial) into a temporary file.

    Returns
    -------
    dict
        ``steps`` (steps of the run), ``best_energy``, ``seconds`` / ``cpu_seconds`` (the
        whole call), ``run_seconds`` (the report's time: the call without building the
        landscape), ``quenches``, ``nfev_per_quench``, ``step_size`` (final).
    """
    from mlgmin.run import run

    overrides = {"seed": seed, "runs": 1, "executor": "serial", "steps": max_steps,
                 "time_limit": max_seconds, "target_energy": target, **(extra or {})}
    inp, settings = load_settings(config, overrides)
    with tempfile.TemporaryDirectory() as tmp:
        t0, c0 = time.perf_counter(), time.process_time()
        rep = run(inp, settings, Path(tmp) / "bench.h5")
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    state = rep.runs[0]
    return {"seed": seed, "steps": int(state.step), "best_energy": float(state.best_energy),
            "seconds": seconds, "cpu_seconds": cpu, "run_seconds": float(rep.seconds),
            "quenches": int(rep.quenches),
            "nfev_per_quench": state.n_evaluations / max(1, state.n_quenches),
            "step_size": float(state.step_size)}


def ours_bare(config: Path, seed: int, max_steps: int, max_seconds: float | None,
              target: float | None = LJ38_TARGET, extra: dict | None = None,
              chunk: int = 500) -> dict:
    """The algorithm without the driver: ``start_run`` then ``advance`` in chunks.

    The seed is turned into the run's random stream exactly as the driver does
    (``SeedSequence(seed, spawn_key=(0,))``), so both visit the same minima.  The clock
    starts after the landscape is built (``build_seconds``, reported apart).
    """
    from mlcore.systems import build_system
    from mlgmin.acceptance import Metropolis
    from mlgmin.basinhopping import advance, start_run
    from mlgmin.run import options_from_settings
    from mlgmin.steps import default_step_taker

    overrides = {"seed": seed, "runs": 1, "steps": max_steps, "target_energy": target,
                 **(extra or {})}
    inp, settings = load_settings(config, overrides)
    tb = time.perf_counter()
    system = build_system(inp.system, inp.base_dir)
    build_seconds = time.perf_counter() - tb
    t0, c0 = time.perf_counter(), time.process_time()
    options = options_from_settings(settings, system.ndim)
    deadline = None if max_seconds is None else time.time() + max_seconds
    state = start_run(system, 0, np.random.SeedSequence(seed, spawn_key=(0,)), options).state
    step_taker, accept = default_step_taker(system), Metropolis(options.temperature)
    while not state.finished and (deadline is None or time.time() < deadline):
        state = advance(system, state, chunk, options, step_taker, accept, deadline).state
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"seed": seed, "steps": int(state.step), "best_energy": float(state.best_energy),
            "seconds": seconds, "cpu_seconds": cpu, "quenches": int(state.n_quenches),
            "nfev_per_quench": state.n_evaluations / max(1, state.n_quenches),
            "step_size": float(state.step_size), "build_seconds": build_seconds}


# ---------------------------------------------------------------------- pele
def pele_python() -> str | None:
    """The interpreter of the pele side (as in ``bench_quench``)."""
    from bench_quench import pele_python as find

    return find()


def pele_runs(seed: int, max_steps: int, max_seconds: float | None,
              target: float = LJ38_TARGET) -> dict:
    """pele's default LJ38 basin-hopping for one seed, in a subprocess."""
    python = pele_python()
    if python is None:
        return {"missing": "pele not installed (pip install pele==0.1.2, or set PELE_PYTHON)"}
    cmd = [python, str(BENCH_DIR / "pele_bh_side.py"), "--seeds", str(seed),
           "--target", repr(target), "--max-steps", str(max_steps),
           "--max-seconds", repr(math.inf if max_seconds is None else max_seconds)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"missing": f"pele side failed: {tail}"}
    return json.loads(lines[-1])


# ---------------------------------------------------------------------- statistics
def _quantiles(values: np.ndarray, found: np.ndarray) -> list[float]:
    """Lower quartile, median, upper quartile; censored runs count as +inf."""
    v = np.where(found, values, np.inf)
    v = np.sort(v)
    out = []
    for q in (0.25, 0.5, 0.75):
        # the order statistic that numpy's "lower"/"higher" pair brackets: interpolate
        # only between finite values, else the quantile is censored
        pos = q * (len(v) - 1)
        lo, hi = v[math.floor(pos)], v[math.ceil(pos)]
        out.append(math.inf if not math.isfinite(hi) else lo + (hi - lo) * (pos - math.floor(pos)))
    return out


def summarise(name: str, runs: list[dict], cap_steps: int, cap_seconds: float | None) -> dict:
    """Success count, time and step quartiles, time per success of one method's runs."""
    found = np.array([abs(r["best_energy"] - LJ38_GLOBAL_MIN) < HIT_TOL for r in runs])
    seconds = np.array([r["seconds"] for r in runs])
    cpu = np.array([r["cpu_seconds"] for r in runs])
    steps = np.array([r["steps"] for r in runs], dtype=float)
    tq, sq, cq = _quantiles(seconds, found), _quantiles(steps, found), _quantiles(cpu, found)
    n_ok = int(found.sum())
    return {"method": name, "runs": len(runs), "found": n_ok,
            "t25": tq[0], "t50": tq[1], "t75": tq[2],
            "s25": sq[0], "s50": sq[1], "s75": sq[2],
            "c50": cq[1],
            "t_per_success": seconds.sum() / n_ok if n_ok else math.inf,
            "c_per_success": cpu.sum() / n_ok if n_ok else math.inf,
            "s_per_success": steps.sum() / n_ok if n_ok else math.inf,
            "ms_per_step": 1e3 * seconds.sum() / max(1.0, steps.sum()),
            "cpu_ms_per_step": 1e3 * cpu.sum() / max(1.0, steps.sum()),
            "nfev": float(np.mean([r.get("nfev_per_quench", r.get("nfev_per_step", math.nan))
                                   for r in runs])),
            "cap_steps": cap_steps, "cap_seconds": cap_seconds}


def _cell(value, cap_text):
    if value is None:
        return "-"
    if isinstance(value, float) and math.isinf(value):
        return f">{cap_text}"
    return value


# ---------------------------------------------------------------------- section 1
def run_lj38(seeds: list[int], max_steps: int, max_seconds: float | None, config: Path,
             methods=("driver", "bare", "pele"), log=None) -> dict:
    """Run every method on every seed (interleaved, seed by seed) and summarise.

    Returns
    -------
    dict
        ``per_seed`` ({method: [run dicts]}), ``rows`` (summaries, with ``pele_over``
        ratios), ``missing`` ({method: reason}) and ``settings``.
    """
    runners = {
        "driver": lambda s: ours_driver(config, s, max_steps, max_seconds),
        "bare": lambda s: ours_bare(config, s, max_steps, max_seconds),
        "pele": lambda s: pele_runs(s, max_steps, max_seconds),
    }
    labels = {"driver": "ours (driver)", "bare": "ours (bare)", "pele": "pele 0.1.2"}
    if "driver" in methods or "bare" in methods:
        # warm-up, not timed: the first job of a process pays the imports (h5py, scipy,
        # the alignment of the identity test); pele's side imports pele before its clock
        import mlcore.align.cluster
        import mlcore.stationary  # noqa: F401

        ours_driver(config, 0, 2, None, target=None)
    per_seed = {m: [] for m in methods}
    missing = {}
    for seed in seeds:
        for m in methods:
            if m in missing:
                continue
            res = runners[m](seed)
            if "missing" in res:
                missing[m] = res["missing"]
                continue
            per_seed[m].append(res)
            if log is not None:
                log(f"  seed {seed:3d} {labels[m]:14s} steps {res['steps']:7d}  "
                    f"{res['seconds']:8.2f} s  best E {res['best_energy']:.6f}")
    rows = [summarise(labels[m], per_seed[m], max_steps, max_seconds)
            for m in methods if per_seed[m]]
    by = {r["method"]: r for r in rows}
    ours = by.get("ours (driver)") or by.get("ours (bare)")
    for r in rows:
        if ours is not None and "pele 0.1.2" in by:
            r["pele_over_t50"] = ratio(by.get("pele 0.1.2", {}).get("t50"), r["t50"])
            r["pele_over_tps"] = ratio(by.get("pele 0.1.2", {}).get("t_per_success"),
                                       r["t_per_success"])
            r["pele_over_cps"] = ratio(by.get("pele 0.1.2", {}).get("c_per_success"),
                                       r["c_per_success"])
    _, ours_settings = load_settings(config, {})
    q = ours_settings.quench
    settings = {"seeds": seeds, "max_steps": max_steps, "max_seconds": max_seconds,
                "config": str(config), "target": LJ38_TARGET,
                "ours": (f"temperature {ours_settings.temperature:g}, step_size "
                         f"{ours_settings.step_size:g} (adapted to acceptance "
                         f"{ours_settings.target_acceptance:g}), reseed_after "
                         f"{ours_settings.reseed_after}, quench tol {q.tol:g}, M {q.M}, "
                         f"max_step {q.max_step:g}")}
    return {"per_seed": per_seed, "rows": rows, "missing": missing, "settings": settings}


LJ38_COLUMNS = [("method", "method"), ("found", "found"), ("runs", "runs"),
                ("t25", "t q1 (s)"), ("t50", "t median (s)"), ("t75", "t q3 (s)"),
                ("s25", "steps q1"), ("s50", "steps median"), ("s75", "steps q3"),
                ("t_per_success", "time/success (s)"), ("s_per_success", "steps/success"),
                ("c50", "CPU median (s)"), ("c_per_success", "CPU/success (s)"),
                ("ms_per_step", "ms/step"), ("cpu_ms_per_step", "CPU ms/step"),
                ("nfev", "E+g/quench"),
                ("pele_over_t50", "pele/this median t"),
                ("pele_over_tps", "pele/this time/success"),
                ("pele_over_cps", "pele/this CPU/success")]


def report_lj38(result: dict) -> str:
    s = result["settings"]
    cap_t = "none" if s["max_seconds"] is None else f"{s['max_seconds']:g} s"
    rows = []
    for r in result["rows"]:
        row = dict(r)
        for key in ("t25", "t50", "t75", "t_per_success", "c50", "c_per_success"):
            row[key] = _cell(r[key], "cap")
        for key in ("s25", "s50", "s75", "s_per_success"):
            row[key] = _cell(r[key], "cap")
        rows.append(row)
    lines = [
        (f"LJ38 basin-hopping, first passage to E <= {s['target']} (global minimum "
         f"{LJ38_GLOBAL_MIN}, hit if within {HIT_TOL:g}); {len(s['seeds'])} seeds "
         f"{s['seeds'][0]}..{s['seeds'][-1]}; caps per run: {s['max_steps']} steps, {cap_t}; "
         f"ours: {Path(s['config']).name} ({s['ours']}); pele: LJCluster(38) defaults"),
        thread_note(with_clock=False) + "; t = wall time, CPU = process CPU time (steadier "
        "on a shared machine); '>cap' = the quantile falls on a censored run; "
        "time/success = all time spent (censored runs too) / successes; ratios pele / this",
        format_table(rows, LJ38_COLUMNS),
    ]
    for name, why in result["missing"].items():
        lines.append(f"{name}: {why}")
    return "\n".join(lines)


# ---------------------------------------------------------------------- section 2
def run_throughput(cases=THROUGHPUT_CASES, scale: float = 1.0, seed: int = 1) -> dict:
    """Steps per second of the driver (``save = 0``) and of the bare algorithm per landscape.

    Parameters
    ----------
    cases : sequence of (label, config file name in ``configs/``, steps)
    scale : float
        Multiplies the step counts (quick mode uses a fraction).
    seed : int
        Seed of every run.

    Returns
    -------
    dict
        ``rows`` (one per landscape: ``ndim``, ``steps``, ``driver_rate`` and ``bare_rate``
        in steps/s, ``nfev`` per quench, ``best_energy``) and ``missing``.
    """
    rows, missing = [], {}
    for label, name, steps in cases:
        config = ROOT / "configs" / name
        n = max(2, round(steps * scale))
        extra = {"save": 0}
        try:
            drv = ours_driver(config, seed, n, None, target=None, extra=extra)
            bare = ours_bare(config, seed, n, None, target=None, extra=extra)
        except Exception as exc:  # noqa: BLE001 - a missing data package, reported
            missing[label] = f"{type(exc).__name__}: {exc}"
            continue
        from mlcore.systems import build_system

        inp, _ = load_settings(config, {})
        ndim = build_system(inp.system, inp.base_dir).ndim
        rows.append({"landscape": label, "ndim": ndim, "steps": drv["steps"],
                     "driver_rate": drv["steps"] / drv["run_seconds"],
                     "build_seconds": bare["build_seconds"],
                     "bare_rate": bare["steps"] / bare["seconds"],
                     "bare_cpu_rate": bare["steps"] / bare["cpu_seconds"],
                     "nfev": bare["nfev_per_quench"], "best_energy": bare["best_energy"],
                     "ms_per_eval": 1e3 * bare["seconds"] / max(1.0, bare["nfev_per_quench"]
                                                              * bare["quenches"])})
    return {"rows": rows, "missing": missing}


THROUGHPUT_COLUMNS = [("landscape", "landscape"), ("ndim", "ndim"), ("steps", "steps"),
                      ("driver_rate", "steps/s (run)"), ("bare_rate", "steps/s (bare)"),
                      ("bare_cpu_rate", "steps/CPU-s (bare)"),
                      ("nfev", "E+g/quench"), ("ms_per_eval", "ms/E+g (bare)"),
                      ("best_energy", "lowest E"), ("build_seconds", "build s")]


def report_throughput(result: dict) -> str:
    lines = [("mlgmin throughput: one run, serial, seed 1, settings of each configs/*.toml; "
              "'run' = mlgmin.run.run with save = 0 (search + file writing), 'bare' = "
              "start_run + advance; both without building the landscape (its time is "
              "'build s'); steps/s from wall time, steps/CPU-s from process CPU time"),
             format_table(result["rows"], THROUGHPUT_COLUMNS)]
    for name, why in result["missing"].items():
        lines.append(f"{name}: skipped ({why})")
    return "\n".join(lines)


# ---------------------------------------------------------------------- driver
def run(quick: bool = False, n_seeds: int | None = None, first_seed: int = 1,
        max_steps: int | None = None, max_seconds: float | None = None,
        config: Path | None = None, methods=("driver", "bare", "pele"),
        throughput: bool = True, lj38: bool = True, log=None) -> dict:
    """Both sections; the defaults of quick mode (a smoke run of about half a minute) are
    2 seeds, 3000 steps, 3 s caps and a twentieth of the throughput steps."""
    n_seeds = n_seeds or (2 if quick else 10)
    max_steps = max_steps or (3000 if quick else 100000)
    if max_seconds is None:
        max_seconds = 3.0 if quick else 120.0
    config = Path(config) if config is not None else ROOT / "configs" / "lj38.toml"
    seeds = list(range(first_seed, first_seed + n_seeds))
    out = {}
    if lj38:
        out["lj38"] = run_lj38(seeds, max_steps, max_seconds, config, methods, log=log)
    if throughput:
        out["throughput"] = run_throughput(scale=0.05 if quick else 1.0)
    return out


def report(result: dict) -> str:
    parts = [report_lj38(result["lj38"])] if "lj38" in result else []
    if "throughput" in result:
        parts.append(report_throughput(result["throughput"]))
    return "\n\n".join(parts)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description="LJ38 basin-hopping first passage: ours vs "
                                     "pele; mlgmin throughput")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run (also MLBENCH_QUICK=1): 2 seeds, 3 s caps")
    parser.add_argument("--seeds", type=int, default=None, help="number of seeds (default 10)")
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--max-steps", type=int, default=None,
                        help="step cap per run (default 100000)")
    parser.add_argument("--max-seconds", type=float, default=None,
                        help="wall-time cap per run (default 120)")
    parser.add_argument("--config", default=None,
                        help="our LJ38 input file (default configs/lj38.toml)")
    parser.add_argument("--methods", default="driver,bare,pele")
    parser.add_argument("--no-throughput", action="store_true")
    parser.add_argument("--no-lj38", action="store_true", help="only the throughput section")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every run")
    parser.add_argument("--json", metavar="PATH", default=None)
    args = parser.parse_args(argv)
    quick = quick_mode(args.quick)
    t0 = time.perf_counter()
    log = (lambda msg: print(msg, flush=True)) if args.verbose else None
    result = run(quick=quick, n_seeds=args.seeds, first_seed=args.first_seed,
                 max_steps=args.max_steps, max_seconds=args.max_seconds, config=args.config,
                 methods=[m for m in args.methods.split(",") if m],
                 throughput=not args.no_throughput, lj38=not args.no_lj38, log=log)
    print(report(result))
    print(f"(total {time.perf_counter() - t0:.1f} s)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=1, default=float)
    return result


if __name__ == "__main__":
    main()
