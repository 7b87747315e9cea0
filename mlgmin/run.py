"""Driving a basin-hopping job: parallel runs, the one writer, resume, the tight finish.

:func:`run` is what ``mlgmin INPUT.toml`` calls and what a notebook can call too.  Runs are
advanced in chunks of steps by workers (module-level :func:`work_chunk`, through the
executor); only this process writes the file.  After every chunk the minima it found and
the run's whole state are committed, so a killed job resumes (``--resume``) from the last
chunk and, because each run's random stream is part of its state, reaches exactly the
minima that one uninterrupted job would.
"""
from __future__ import annotations

import copy
import math
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mlcore.errors import InputError, RunError
from mlcore.randomness import fresh_seed
from mlgmin.acceptance import Metropolis
from mlgmin.basinhopping import BasinHoppingOptions, ChunkResult, RunState, advance, start_run
from mlgmin.steps import default_step_taker

#: Key under which the job's shared settings are stored in the file.
JOB_STATE_KEY = "mlgmin/job"


def run_state_key(run: int) -> str:
    """Key of the stored state of basin-hopping run ``run`` (0-based)."""
    return f"mlgmin/run/{run + 1}"


@dataclass
class RunReport:
    """What a job did: per-run states, the lowest minima, counts and timings."""

    output: Path
    seed: int
    runs: list[RunState]
    n_minima: int
    new_minima: int
    lowest: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    quenches: int = 0
    interrupted: bool = False
    energy_label: str = "energy"
    stop_reasons: dict[int, str] = field(default_factory=dict)
    display_energy: Callable[[float], float] = float
    n_degenerate: int = 0
    n_ts: int = 0

    @property
    def quenches_per_second(self) -> float:
        return self.quenches / self.seconds if self.seconds > 0 else math.nan


def options_from_settings(settings, ndim: int) -> BasinHoppingOptions:
    """The algorithm's options from ``[mlgmin]`` settings."""
    quench = dict(tol=settings.quench.tol, M=settings.quench.M,
                  max_step=settings.quench.max_step, max_rise=settings.quench.max_rise,
                  max_iter=settings.quench.max_iter, H0=settings.quench.H0)
    check = settings.hessian_check
    if check == "auto":
        check = "all" if ndim <= 60 else "saved"
    return BasinHoppingOptions(
        steps=settings.steps, temperature=settings.temperature, step_size=settings.step_size,
        adjust_every=settings.adjust_every, target_acceptance=settings.target_acceptance,
        adjust_factor=settings.adjust_factor,
        max_step_size=(settings.max_step_size if settings.max_step_size is not None
                       else 10.0 * settings.step_size),
        reseed_after=settings.reseed_after,
        target_energy=settings.target_energy, check_hessian=(check == "all"), quench=quench,
        tight_tol=settings.quench.tight_tol)


def work_chunk(system, run: int, seed: int, state: RunState | None, n_steps: int,
               options: BasinHoppingOptions, deadline: float | None) -> ChunkResult:
    """Worker task: start run ``run`` (if ``state`` is None) or advance it by ``n_steps``.

    ``state`` is not modified: the result holds a new state.  (The serial executor runs a
    task at submission, in the driver; advancing the driver's copy in place would move a
    result that is not yet committed on to the next chunk's state.)
    """
    if state is None:
        seq = np.random.SeedSequence(seed, spawn_key=(run,))
        return start_run(system, run, seq, options)
    result = advance(system, copy.deepcopy(state), n_steps, options, default_step_taker(system),
                     Metropolis(options.temperature), deadline)
    result.minima = distinct_minima(system, result.minima)
    return result


def distinct_minima(system, minima):
    """The first of each group of identical minima (identity test of the landscape), so
    that a worker sends each minimum it re-found many times only once."""
    from mlcore.identity import MinimaIndex

    index = MinimaIndex(system)
    kept = []
    for m in minima:
        if index.find(m.energy, m.coords) is None:
            index.insert(m.energy, m.coords)
            kept.append(m)
    return kept


def chunk_size(steps: int, runs: int) -> int:
    """Steps per chunk: about ten commits per run, between 10 and 500 steps."""
    return int(min(500, max(10, steps // 10)))


def _prepare_file(inp, system, output: Path, resume: bool, seed: int | None, runs: int):
    """Open (``resume``) or create the output file; return ``(db, seed, runs, states)``."""
    from mlcore.database import Database
    from mlcore.systems.storage import system_storage

    config, arrays = system_storage(system)
    if resume:
        if not output.exists():
            raise InputError(f"{output}: --resume needs an existing file; it does not exist")
        db = Database.open_writer(output, identity=system, program="mlgmin")
        try:
            stored = db.system_config()
            if stored != config:
                raise InputError(f"{output}: the file was made for another landscape than "
                                 f"{inp.path.name} describes; resume with the same input file")
            job = db.load_state(JOB_STATE_KEY)
            if job is None:
                raise InputError(f"{output}: no basin-hopping job is stored to resume")
            scalars, _ = job
            seed, runs = int(scalars["seed"]), int(scalars["runs"])
            states: list[RunState | None] = []
            for k in range(runs):
                rec = db.load_state(run_state_key(k))
                states.append(None if rec is None else RunState.from_record(*rec))
        except BaseException:
            db.close(status="failed")
            raise
        return db, seed, runs, states
    if output.exists():
        raise InputError(f"{output}: file exists; add --resume to continue its job, or choose "
                         "another output with -o")
    if seed is None:
        seed = fresh_seed()
    db = Database.create(output, config, arrays, ndim=system.ndim, identity=system,
                         program="mlgmin")
    db.save_state(JOB_STATE_KEY, {"seed": seed, "runs": runs}, {})
    db.commit()     # from here on a killed job can always be resumed
    return db, seed, runs, [None] * runs


def _store_chunk(db, result: ChunkResult, check_hessian: bool) -> int:
    """Add the minima of a chunk and the run's state to the file; commit; count new minima."""
    new = 0
    task = result.state.run + 1
    for m in result.minima:
        kwargs = m.hessian_fields() if check_hessian else {}
        _, is_new = db.add_minimum(m.energy, m.coords, step=m.step, task=task, **kwargs)
        new += is_new
    for saddle in result.saddles:
        # a quench stopped on it; pushed off both ways it joins these two minima
        ids = [db.add_minimum(m.energy, m.coords, step=m.step, task=task,
                              **m.hessian_fields())[0] for m in (saddle.minus, saddle.plus)]
        if ids[0] != ids[1]:
            db.add_ts(saddle.energy, saddle.coords, ids[0], ids[1],
                      neg_eigenvalue=saddle.neg_eigenvalue, log_product=saddle.log_product,
                      n_zero=saddle.n_zero, n_negative=1, step=saddle.step, task=task)
    db.save_state(run_state_key(result.state.run), *result.state.to_record())
    db.commit()
    return new


def run(inp, settings, output: Path | None = None, *, resume: bool = False,
        argv: list[str] | None = None, progress=None) -> RunReport:
    """Run (or resume) the basin-hopping job that ``inp`` and ``settings`` describe.

    Parameters
    ----------
    inp : mlcore.config.InputFile
        The loaded input file (its ``[system]`` table and text).
    settings : mlcore.config.settings.MLGminSettings
        The ``[mlgmin]`` settings, command-line overrides applied.
    output : Path, optional
        The HDF5 file; default ``inp.default_output()``.
    resume : bool
        Continue the job stored in ``output`` (same input file); ``settings.steps`` is the
        step budget of each run in total, so a resumed job can also be extended.
    argv : list of str, optional
        Command line, recorded with the run.
    progress : callable, optional
        ``progress(report)`` after every stored chunk (a terminal's progress line, or a
        batch job's log lines).

    Returns
    -------
    RunReport

    Notes
    -----
    Chunks are computed in parallel but committed in a fixed order, by the step each chunk
    starts from and then by run, whichever worker finishes first; the same input and seed
    therefore give the same file, minimum ids included, with every executor.
    """
    from mlcore.executors import ManagedExecutor, parse_executor
    from mlcore.systems import build_system

    if not inp.system:
        raise InputError(f"{inp.path}: no [system] table: mlgmin needs a landscape")
    output = Path(output) if output is not None else inp.default_output()
    executor_spec = parse_executor(settings.executor)     # before any file is made
    system = build_system(inp.system, inp.base_dir)
    options = options_from_settings(settings, system.ndim)
    t_start = time.time()
    deadline = None if settings.time_limit is None else t_start + settings.time_limit
    db, seed, runs, states = _prepare_file(inp, system, output, resume, settings.seed,
                                           settings.runs)
    report = RunReport(output=output, seed=seed, runs=[], n_minima=0, new_minima=0,
                       energy_label=system.display_energy_label,
                       display_energy=system.display_energy)
    status, message = "failed", ""
    try:
        db.begin_run("mlgmin", argv, inp.text, seed)
        jobs = _Chunks(system, seed, states, options, chunk_size(options.steps, runs),
                       deadline)
        with ManagedExecutor(executor_spec) as pool:
            for result in jobs.results_in_order(pool):
                report.new_minima += _store_chunk(db, result, options.check_hessian)
                report.quenches += jobs.new_quenches(result)
                if progress is not None:
                    report.runs = jobs.states()
                    report.n_minima = db.n_minima
                    report.seconds = time.time() - t_start
                    progress(report)
        report.runs = jobs.states()
        report.stop_reasons = {s.run: stop_reason(s, options, jobs.timed_out)
                               for s in report.runs}
        report.interrupted = any(r == "time limit" for r in report.stop_reasons.values())
        if not report.interrupted:
            finish_lowest(db, system, settings)
        report.n_minima = db.n_minima
        report.n_degenerate = int(np.count_nonzero(db.minima().n_extra_zero > 0))
        report.n_ts = db.n_ts
        report.lowest = lowest_minima(db, 10, system.display_energy)
        report.seconds = time.time() - t_start
        status = "interrupted" if report.interrupted else "finished"
    except KeyboardInterrupt:
        status, message = "interrupted", "interrupted by a signal"
        raise
    except RuntimeError as exc:
        message = str(exc)
        raise RunError(message) from exc
    finally:
        db.end_run(status=status, message=message)
        db.close(status=status, message=message)
    return report


class _Chunks:
    """The chunks of a job's runs: submitted as soon as a run's previous chunk is back,
    handed out for committing in a fixed order.

    Each run has at most one chunk in flight.  The order key of a chunk is ``(step it
    starts from, run)``; a finished chunk is handed out once it is the smallest key among
    the runs still going, so the commit order does not depend on the executor.
    """

    def __init__(self, system, seed, states, options, n_chunk, deadline):
        self.system, self.seed, self.options = system, seed, options
        self.n_chunk, self.deadline = n_chunk, deadline
        self.latest = {k: s for k, s in enumerate(states)}    # newest state of each run
        self.going = {k for k, s in self.latest.items() if s is None or not _done(s, options)}
        self.committed_step = {k: _start_step(s) for k, s in self.latest.items()}
        self.quenches = {k: (0 if s is None else s.n_quenches) for k, s in self.latest.items()}
        self.timed_out = False

    def states(self) -> list[RunState]:
        """The newest state of every started run, in run order."""
        return [s for _, s in sorted(self.latest.items()) if s is not None]

    def new_quenches(self, result: ChunkResult) -> int:
        """Quenches a chunk made (for the rate)."""
        k = result.state.run
        new = result.state.n_quenches - self.quenches[k]
        self.quenches[k] = result.state.n_quenches
        return new

    def _submit(self, pool, k, in_flight):
        start = _start_step(self.latest[k])
        fut = pool.submit(work_chunk, self.system, k, self.seed, self.latest[k], self.n_chunk,
                          self.options, self.deadline)
        in_flight[fut] = (k, start)

    def results_in_order(self, pool):
        """Yield every chunk's :class:`ChunkResult` in commit order until all runs are done
        or out of time.  A pool broken by a dying worker is rebuilt and its lost chunks
        are computed again from their runs' states (deterministic, so nothing changes)."""
        in_flight: dict = {}
        ready: dict = {}        # run -> its chunks back but not yet committed, in step order
        try:
            yield from self._in_order(pool, in_flight, ready)
        except KeyboardInterrupt:
            # Ctrl-C or SIGTERM: the chunks already back are finished work, committed too
            # (out of the usual order: ids may then differ from an uninterrupted job's)
            for k in sorted(ready, key=lambda j: (self.committed_step[j], j)):
                yield from ready.pop(k)
            raise

    def _in_order(self, pool, in_flight, ready):
        for k in sorted(self.going):
            self._submit(pool, k, in_flight)
        while in_flight or ready:
            if in_flight:
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for fut in done:
                    k, start = in_flight.pop(fut)
                    try:
                        result = fut.result()
                    except BrokenProcessPool:
                        lost = [k] + [in_flight.pop(f)[0] for f in list(in_flight)]
                        pool.rebuild()
                        for j in sorted(lost):
                            self._submit(pool, j, in_flight)
                        break
                    if (result.state.step == start and not _done(result.state, self.options)
                            and self.deadline is None):
                        raise RunError(f"run {k + 1} made no progress in a chunk")
                    self.latest[k] = result.state
                    # a run's next chunk may come back before this one is committed
                    ready.setdefault(k, deque()).append(result)
                    out_of_time = self.deadline is not None and time.time() > self.deadline
                    self.timed_out |= out_of_time and not _done(result.state, self.options)
                    if not (_done(result.state, self.options) or out_of_time):
                        self._submit(pool, k, in_flight)
            while ready:
                k = min(self.going, key=lambda j: (self.committed_step[j], j))
                if k not in ready:
                    break
                result = ready[k].popleft()
                if not ready[k]:
                    del ready[k]
                self.committed_step[k] = result.state.step
                if k not in ready and not any(run == k for run, _ in in_flight.values()):
                    self.going.discard(k)
                yield result


def _start_step(state: RunState | None) -> int:
    """The step a run's next chunk starts from (-1: the run has not started)."""
    return -1 if state is None else state.step


def stop_reason(state: RunState, options: BasinHoppingOptions, timed_out: bool) -> str:
    """Why a run stopped: ``target energy reached``, ``steps done`` or ``time limit``."""
    if options.target_energy is not None and state.best_energy <= options.target_energy:
        return "target energy reached"
    if state.step >= options.steps:
        return "steps done"
    return "time limit" if timed_out else "not finished"


def _done(state: RunState, options: BasinHoppingOptions) -> bool:
    if state.step >= options.steps:
        return True
    return options.target_energy is not None and state.best_energy <= options.target_energy


def finish_lowest(db, system, settings) -> None:
    """Re-converge the ``save`` lowest minima tightly and characterise them by the Hessian.

    A point whose Hessian has a negative eigenvalue, or more zero eigenvalues than the
    landscape's symmetries explain, keeps its row but is flagged by ``n_negative`` (> 0)
    or ``n_zero`` in the file.
    """
    from mlcore.optimize import minimize
    from mlcore.stationary import characterise

    if settings.save <= 0 or db.n_minima == 0:
        return
    minima = db.minima()
    order = np.argsort(minima.energy, kind="stable")[: settings.save]
    q = settings.quench
    for row in order:
        min_id = int(row) + 1
        res = minimize(system, minima.coords[row], tol=q.tight_tol, M=q.M, max_step=q.max_step,
                       max_rise=q.max_rise, max_iter=q.max_iter, H0=q.H0)
        info = characterise(system, res.coords)       # Newton-polished where dense
        fields = info.minimum_fields()
        energy = float(system.energy(info.coords))
        if res.success and abs(energy - minima.energy[row]) <= 10 * system.energy_tol:
            fields.update(energy=energy, coords=system.canonical(info.coords))
        db.update_minimum(min_id, **fields)
    db.commit()


def lowest_minima(db, count: int, display=float) -> list[dict]:
    """The ``count`` lowest minima as dicts (id, energy, shown energy, n_zero, n_negative,
    n_extra_zero, task and step that found it); ``display`` maps an energy to what users read."""
    minima = db.minima()
    order = np.argsort(minima.energy, kind="stable")[:count]
    return [dict(id=int(r) + 1, energy=float(minima.energy[r]),
                 shown=float(display(float(minima.energy[r]))),
                 n_zero=int(minima.n_zero[r]), n_negative=int(minima.n_negative[r]),
                 n_extra_zero=int(minima.n_extra_zero[r]),
                 task=int(minima.found_by_task[r]), step=int(minima.found_by_step[r]))
            for r in order]
