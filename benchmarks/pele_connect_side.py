"""The pele half of the connect benchmark, run in its own interpreter.

pele (GPL; ``pip install pele==0.1.2``) is only *called* here, never copied.  Like
``pele_side.py`` this script imports nothing from the project, so it may run under another
virtual environment (``PELE_PYTHON``).  It connects one pair of minima with pele's own LJ
system class and its defaults:

* ``system = pele.systems.LJCluster(natoms)``; ``db = system.create_database()`` (in-memory
  SQLite, pele's exact-match comparison of minima);
* the two minima are added with ``db.addMinimum(E, x)`` (energies from pele's LJ);
* ``system.get_double_ended_connect(m1, m2, db, verbosity=0).connect()``, i.e.
  ``pele.landscape.DoubleEndedConnect`` with pele's default parameters (at most 200
  cycles, longest missing link first, NEB guesses refined by ``FindTransitionState``,
  push-off quenches with ``lbfgs_cpp``); ``verbosity=0`` only silences its messages.

The clock starts before the database is built and stops when ``connect()`` returns.  pele
draws from NumPy's global generator, seeded with ``--seed``.  pele's own messages go to
stderr so that stdout carries only the result.

Reads ``PAIR.npz`` (arrays ``x1``, ``x2``, flat ``(x1, y1, z1, x2, ...)``) and writes the
transition states of the path and of the whole pele database to ``OUT.npz`` (``path_ts``,
``all_ts``: shape ``(n, 3 natoms)``); prints one JSON line on stdout:
``{"connected", "seconds", "cpu_seconds", "n_path_ts", "n_ts", "n_minima",
"pele_version"}``.

Usage::

    python pele_connect_side.py PAIR.npz OUT.npz --natoms 13 [--seed 1]
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import contextlib
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


def connect_pair(natoms: int, x1: np.ndarray, x2: np.ndarray, seed: int) -> dict:
    """Connect two minima with pele's default ``DoubleEndedConnect`` for LJ clusters.

    Parameters
    ----------
    natoms : int
        Number of Lennard-Jones atoms (epsilon = sigma = 1).
    x1, x2 : ndarray, shape (3 natoms,)
        The two minima.
    seed : int
        Seed of NumPy's global generator.

    Returns
    -------
    dict
        ``connected`` (pele's ``success()``), ``seconds`` / ``cpu_seconds`` (wall / process
        CPU time, database set-up included), ``path_ts`` (n, 3 natoms) coordinates of the
        transition states on the path (empty if not connected), ``all_ts`` (every
        transition state pele stored), ``n_minima`` (minima pele stored).
    """
    from pele.systems import LJCluster

    np.random.seed(seed)
    system = LJCluster(natoms)
    pot = system.get_potential()
    t0, c0 = time.perf_counter(), time.process_time()
    db = system.create_database()
    m1 = db.addMinimum(pot.getEnergy(x1), np.array(x1))
    m2 = db.addMinimum(pot.getEnergy(x2), np.array(x2))
    dec = system.get_double_ended_connect(m1, m2, db, verbosity=0)
    dec.connect()
    connected = bool(dec.success())
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    ndim = 3 * natoms
    path_ts = np.zeros((0, ndim))
    if connected:
        mints, _, _ = dec.returnPath()
        path_ts = np.array([np.asarray(m.coords) for m in mints[1::2]]).reshape(-1, ndim)
    all_ts = np.array([np.asarray(t.coords) for t in db.transition_states()]).reshape(-1, ndim)
    return {"connected": connected, "seconds": seconds, "cpu_seconds": cpu,
            "path_ts": path_ts, "all_ts": all_ts, "n_minima": len(db.minima())}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pair", help=".npz file with arrays x1, x2")
    parser.add_argument("out", help=".npz file to write the transition states to")
    parser.add_argument("--natoms", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    pair = np.load(args.pair)
    with contextlib.redirect_stdout(sys.stderr):
        res = connect_pair(args.natoms, pair["x1"], pair["x2"], args.seed)
    np.savez(args.out, path_ts=res["path_ts"], all_ts=res["all_ts"])
    print(json.dumps({"connected": res["connected"], "seconds": res["seconds"],
                      "cpu_seconds": res["cpu_seconds"], "n_path_ts": len(res["path_ts"]),
                      "n_ts": len(res["all_ts"]), "n_minima": res["n_minima"],
                      "pele_version": _version()}), flush=True)


if __name__ == "__main__":
    main()
