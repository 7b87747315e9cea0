"""What the ``mloptim`` commands do: connect two minima, search from a point, trace a path.

Each function takes the file and settings, does the work (workers compute, this process
alone writes) and returns a report; a notebook can call them as the command line does.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlcore.errors import InputError, RunError


def connect(path, min1: int, min2: int, settings, executor_spec: str,
            argv=None, input_text: str = "", progress=None):
    """Connect minima ``min1`` and ``min2`` (1-based) of the file; returns a ConnectReport.

    ``progress`` is handed to :meth:`mloptim.connect.ConnectDriver.run`."""
    from mlcore.database import Database
    from mlcore.executors import ManagedExecutor, parse_executor
    from mlcore.session import check_minimum_id, load_system
    from mloptim.connect import ConnectDriver

    executor_spec = parse_executor(executor_spec)
    reader, system = load_system(path)
    check_minimum_id(reader, min1)
    check_minimum_id(reader, min2)
    if min1 == min2:
        raise InputError(f"MIN1 and MIN2 are both {min1}: nothing to connect")
    with Database.open_writer(path, identity=system, program="mloptim") as db:
        db.begin_run("mloptim", argv, input_text)
        status = "failed"
        try:
            # stopped at once after Ctrl-C, SIGTERM or an error; each cycle is committed
            with ManagedExecutor(executor_spec) as executor:
                report = ConnectDriver(db, system, settings, executor).run(min1, min2, progress)
            status = "finished"
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        finally:
            db.end_run(status=status)
    return report


@dataclass
class TSReport:
    """The outcome of a single-ended search."""

    success: bool
    ts_id: int | None
    energy: float
    eigenvalue: float
    minima: tuple[int, int] | None
    message: str


def single_ended(path, start_coords, settings, argv=None, input_text: str = "") -> TSReport:
    """Hybrid eigenvector-following from ``start_coords``; a verified transition state is
    pushed off both ways and stored with the two minima it connects."""
    from mlcore.database import Database
    from mlcore.session import load_system
    from mloptim.push_off import push_off
    from mloptim.ts_search import find_transition_state, verify_transition_state

    reader, system = load_system(path)
    start = np.asarray(start_coords, dtype=np.float64).reshape(-1)
    if start.shape[0] != system.ndim:
        raise InputError(f"--start has {start.shape[0]} coordinates, the landscape has "
                         f"{system.ndim}")
    ts = find_transition_state(system, start, settings.ts)
    if not ts.success:
        return TSReport(False, None, float(ts.energy), float(ts.eigenvalue), None, ts.message)
    ok, info = verify_transition_state(system, ts.coords)
    if not ok:
        return TSReport(False, None, float(ts.energy), float(ts.eigenvalue), None,
                        f"converged point is not a transition state "
                        f"({info.n_negative} negative eigenvalues)")
    minus, plus = push_off(system, ts.coords, ts.eigenvector, settings.push_off, settings.quench)
    if not (minus.success and plus.success):
        raise RunError("the quenches after push-off did not converge")
    with Database.open_writer(path, identity=system, program="mloptim") as db:
        db.begin_run("mloptim", argv, input_text)
        from mloptim.jobs import minimum_info, store_minimum

        ids = [store_minimum(db, r.energy, r.coords, minimum_info(system, r.coords))[0]
               for r in (minus, plus)]
        ts_id, _ = db.add_ts(ts.energy, ts.coords, ids[0], ids[1], n_negative=1,
                             **info.ts_fields())
        db.end_run(status="finished")
    return TSReport(True, ts_id, float(ts.energy), float(info.lowest_nonzero),
                    (ids[0], ids[1]), "transition state stored")


def path_profile(path, ts_id: int, settings, step: float | None = None):
    """Energy against integrated path length along the two descent paths from a stored TS.

    Each side starts with a push-off along the negative-eigenvalue eigenvector and follows
    an L-BFGS minimisation with a small maximum step (0.02 unless ``step``), which traces the
    steepest-descent path closely.  Returns an ``(n, 3)`` array: signed path length s
    (negative towards ``min1``), energy, and 0/1/2 for TS / min1 side / min2 side.
    """
    from mlcore.optimize import minimize
    from mlcore.session import load_system
    from mloptim.ts_search import verify_transition_state

    reader, system = load_system(path)
    n_ts = reader.n_ts
    if not 1 <= int(ts_id) <= n_ts:
        raise InputError(f"transition state {ts_id} does not exist: the file has "
                         f"{'transition states 1..' + str(n_ts) if n_ts else 'none'}")
    rec = reader.transition_state(int(ts_id))
    x_ts = np.asarray(rec["coords"], dtype=np.float64)
    ok, info = verify_transition_state(system, x_ts)
    info_vec = _lowest_eigenvector(system, x_ts)
    max_step = 0.02 if step is None else float(step)
    q = settings.quench
    e_ts = system.energy(x_ts)
    m1 = np.asarray(reader.minimum(int(rec["min1"]))["coords"])
    sides = []
    for sign in (-1.0, 1.0):
        x0 = x_ts + sign * settings.push_off.step * info_vec
        system.retract(x0)
        res = minimize(system, x0, tol=q.tol, M=q.M, max_step=max_step, max_rise=q.max_rise,
                       max_iter=max(q.max_iter, 100000), H0=q.H0, keep_path=True)
        pts = np.vstack([x_ts, res.path])
        seg = np.linalg.norm(np.diff(pts, axis=0), axis=1)
        s = np.concatenate([[0.0], np.cumsum(seg)])
        energies = np.array([system.energy(p) for p in pts])
        d_end = system.distance(m1, res.coords)
        sides.append((s, energies, d_end))
    # the side that ends nearer min1 goes to negative s
    first = 0 if sides[0][2] <= sides[1][2] else 1
    s1, e1, _ = sides[first]
    s2, e2, _ = sides[1 - first]
    out = np.vstack([np.column_stack([-s1[::-1], e1[::-1], np.r_[np.ones(len(s1) - 1), 0]]),
                     np.column_stack([s2[1:], e2[1:], np.full(len(s2) - 1, 2.0)])])
    return out, e_ts, ok


def _lowest_eigenvector(system, coords) -> np.ndarray:
    from mlcore.stationary import characterise

    info = characterise(system, coords, with_vectors=True)
    k = int(np.argmin(np.where(info.zero_mask, np.inf, info.eigenvalues)))
    v = np.asarray(info.eigenvectors[:, k])
    return v / np.linalg.norm(v)
