"""The pele side of the quench benchmark, run in its own interpreter.

pele (GPL; ``pip install pele==0.1.2``) is only *called* here, never copied.  The script
may run under another virtual environment than the project's (set ``PELE_PYTHON``), so it
imports nothing from this project: it reads the starting configurations from a ``.npy``
file, quenches each with pele's C++ L-BFGS (``pele.optimize.lbfgs_cpp``) on pele's own
Lennard-Jones potential (``pele.potentials.LJ``, epsilon = sigma = 1), writes the final
coordinates to an ``.npz`` file and prints a one-line JSON summary on stdout.

pele's convergence test is ``rms = |g| / sqrt(ndim) < tol``.

Usage::

    python pele_side.py STARTS.npy OUT.npz --tol 1e-6 --memory 4 --maxstep 0.1 \
        --maxiter 10000 --repeats 3
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import json
import time

import numpy as np


def _version(module) -> str:
    """Installed version of ``module``'s distribution."""
    try:
        from importlib.metadata import version

        return version(module.__name__)
    except Exception:  # noqa: BLE001 - the version is only informative
        return getattr(module, "__version__", "unknown")


def quench_all(starts: np.ndarray, tol: float, memory: int, maxstep: float,
               maxiter: int, repeats: int = 1) -> dict:
    """Quench every row of ``starts`` with pele's ``lbfgs_cpp`` on pele's LJ.

    Parameters
    ----------
    starts : ndarray, shape (n_starts, 3 * n_atoms)
        Starting configurations, flat ``(x1, y1, z1, x2, ...)``.
    tol : float
        RMS-gradient tolerance (pele's ``tol``).
    memory : int
        L-BFGS memory (pele's ``M``).
    maxstep : float
        Largest step norm (pele's ``maxstep``).
    maxiter : int
        Iteration limit (pele's ``nsteps``).
    repeats : int
        The quenches are repeated this many times; the best wall time is reported.

    Returns
    -------
    dict
        ``coords`` (n_starts, ndim), ``energy``, ``rms``, ``nfev``, ``niter``, ``success``
        (arrays of length n_starts), ``seconds`` and ``cpu_seconds`` (best wall and CPU
        time of all quenches, excluding a warm-up quench) and ``pele_version``.
    """
    import pele
    from pele.optimize import lbfgs_cpp
    from pele.potentials import LJ

    pot = LJ()
    kwargs = {"tol": tol, "M": memory, "maxstep": maxstep, "nsteps": maxiter}
    lbfgs_cpp(np.array(starts[0]), pot, **kwargs)           # warm-up, not timed
    seconds = cpu_seconds = float("inf")
    for _ in range(max(1, repeats)):
        t0, c0 = time.perf_counter(), time.process_time()
        results = [lbfgs_cpp(np.array(x0), pot, **kwargs) for x0 in starts]
        seconds = min(seconds, time.perf_counter() - t0)
        cpu_seconds = min(cpu_seconds, time.process_time() - c0)
    return {
        "coords": np.array([r.coords for r in results]),
        "energy": np.array([r.energy for r in results]),
        "rms": np.array([r.rms for r in results]),
        "nfev": np.array([r.nfev for r in results]),
        "niter": np.array([r.nsteps for r in results]),
        "success": np.array([bool(r.success) for r in results]),
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "pele_version": _version(pele),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("starts", help=".npy file, shape (n_starts, 3 n_atoms)")
    parser.add_argument("out", help=".npz file to write the results to")
    parser.add_argument("--tol", type=float, default=1e-6)
    parser.add_argument("--memory", type=int, default=4)
    parser.add_argument("--maxstep", type=float, default=0.1)
    parser.add_argument("--maxiter", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)
    starts = np.load(args.starts)
    res = quench_all(starts, args.tol, args.memory, args.maxstep, args.maxiter, args.repeats)
    np.savez(args.out, **{k: v for k, v in res.items() if isinstance(v, np.ndarray)})
    print(json.dumps({"seconds": res["seconds"], "cpu_seconds": res["cpu_seconds"],
                      "n": int(starts.shape[0]),
                      "pele_version": res["pele_version"]}))


if __name__ == "__main__":
    main()
