"""The pele half of the basin-hopping benchmark, run in its own interpreter.

pele (GPL; ``pip install pele==0.1.2``) is only *called* here, never copied.  Like
``pele_side.py`` this script imports nothing from the project, so it may run under another
virtual environment (``PELE_PYTHON``).  For each seed it builds pele's own LJ system class
with its defaults, ``pele.systems.LJCluster(natoms).get_basinhopping(outstream=None)``:

* start: ``LJCluster.get_random_configuration`` (uniform in a cube of half-side
  ``0.7 natoms^(1/3)``), quenched;
* step: ``RandomDisplacement`` (every coordinate U(-s, s)), s = 0.6 initially, wrapped in
  ``AdaptiveStepsizeTemperature`` (every 100 steps: step size scaled by 0.95 towards a
  probability 0.8 of reaching a different minimum, temperature by 0.95 towards an acceptance
  0.3 of those moves);
* quench: ``lbfgs_cpp`` with pele's defaults (RMS gradient tol 1e-5, M = 4, max step 0.1);
* acceptance: Metropolis at the initial temperature 1.0;
* storage: pele's in-memory SQLite ``Database`` (accepted minima, exact-match comparison).

The run is advanced one step at a time (``bh.run(1)``) until a quench reaches the target
energy, the step cap or the time cap.  The clock starts before the system is built, so it
includes the first quench and the database set-up, as the suite's driver time does.  The
seed goes to ``numpy.random.seed`` (pele draws from NumPy's global generator).

Prints one JSON line per seed on stdout:
``{"seed", "found", "steps", "seconds", "cpu_seconds", "best_energy", "nfev_per_step"}``.

Usage::

    python pele_bh_side.py --seeds 1,2,3 --target -173.9284 --max-steps 100000 \
        --max-seconds 120 [--natoms 38]
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import json
import sys
import time

import numpy as np


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("pele")
    except Exception:  # noqa: BLE001 - the version is only informative
        return "unknown"


def first_passage(seed: int, natoms: int, target: float, max_steps: int,
                  max_seconds: float) -> dict:
    """Basin-hopping with pele's LJ defaults until the target energy is first reached.

    Parameters
    ----------
    seed : int
        Seed of NumPy's global generator (pele's source of random numbers).
    natoms : int
        Number of Lennard-Jones atoms.
    target : float
        The run stops at the first quench with energy <= ``target``.
    max_steps : int
        Step cap (censored run if reached without success).
    max_seconds : float
        Wall-time cap in seconds (censored run if reached without success).

    Returns
    -------
    dict
        ``found`` (bool), ``steps`` (basin-hopping steps taken; 0 if the first quench
        hit the target), ``seconds`` / ``cpu_seconds`` (wall / process CPU time),
        ``best_energy`` (lowest quench energy seen), ``nfev_per_step`` (mean energy and
        gradient evaluations per quench), ``stepsize`` and ``temperature`` at the end.
    """
    from pele.systems import LJCluster

    np.random.seed(seed)
    t0, c0 = time.perf_counter(), time.process_time()
    system = LJCluster(natoms)
    bh = system.get_basinhopping(outstream=None)
    best = float(bh.markovE)
    while best > target and bh.stepnum < max_steps:
        if time.perf_counter() - t0 > max_seconds:
            break
        bh.run(1)
        if bh.config_ok:
            best = min(best, float(bh.trial_energy))
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    takestep = bh.takeStep
    return {"seed": seed, "found": best <= target, "steps": int(bh.stepnum),
            "seconds": seconds, "cpu_seconds": cpu, "best_energy": best,
            "nfev_per_step": bh.result.nfev / (bh.stepnum + 1),
            "stepsize": float(getattr(getattr(takestep, "stepclass", takestep), "stepsize",
                                      float("nan"))),
            "temperature": float(getattr(bh.acceptTest, "temperature", float("nan")))}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", required=True, help="comma-separated integers")
    parser.add_argument("--natoms", type=int, default=38)
    parser.add_argument("--target", type=float, required=True)
    parser.add_argument("--max-steps", type=int, default=100000)
    parser.add_argument("--max-seconds", type=float, default=float("inf"))
    args = parser.parse_args(argv)
    version = _version()
    for seed in (int(s) for s in args.seeds.split(",") if s):
        res = first_passage(seed, args.natoms, args.target, args.max_steps, args.max_seconds)
        res["pele_version"] = version
        print(json.dumps(res), flush=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
