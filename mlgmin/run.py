"""Driving a basin-hopping job: parallel runs, the one writer, resume, the tight finish.

:func:`run` is what ``mlgmin INPUT.toml`` calls and what a notebook can call too.  Runs are
advanced in chunks of steps by workers (module-level :func:`work_chunk`, through the
executor); only this process writes the file.  After every chunk the minima it found and
the run's whole state are committed, so a killed job resumes (``--resume``) from the last
chunk and, because each run's random stream is part of its state, reaches exactly the
minima that one uninterrupted job would.
"""
from __future__ import annotations

import math
import time
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
        target_energy=settings.target_energy, check_hessian=(check == "all"), quench=quench)


def work_chunk(system, run: int, seed: int, state: RunState | None, n_steps: int,
               options: BasinHoppingOptions, deadline: float | None) -> ChunkResult:
    """Worker task: start run ``run`` (if ``state`` is None) or advance it by ``n_steps``."""
    if state is None:
        seq = np.random.SeedSequence(seed, spawn_key=(run,))
        return start_run(system, run, seq, options)
    result = advance(system, state, n_steps, options, default_step_taker(system),
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
        kwargs = {}
        if check_hessian:
            kwargs = dict(log_product=m.log_product, n_zero=m.n_zero, n_negative=m.n_negative)
        _, is_new = db.add_minimum(m.energy, m.coords, step=m.step, task=task, **kwargs)
        new += is_new
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
        ``progress(report)`` after every stored chunk (for a terminal progress line).

    Returns
    -------
    RunReport
    """
    from mlcore.executors import make_executor
    from mlcore.systems import build_system

    if not inp.system:
        raise InputError(f"{inp.path}: no [system] table: mlgmin needs a landscape")
    output = Path(output) if output is not None else inp.default_output()
    system = build_system(inp.system, inp.base_dir)
    options = options_from_settings(settings, system.ndim)
    t_start = time.time()
    deadline = None if settings.time_limit is None else t_start + settings.time_limit
    db, seed, runs, states = _prepare_file(inp, system, output, resume, settings.seed,
                                           settings.runs)
    report = RunReport(output=output, seed=seed, runs=[], n_minima=0, new_minima=0)
    status, message = "failed", ""
    try:
        db.begin_run("mlgmin", argv, inp.text, seed)
        n_chunk = chunk_size(options.steps, runs)
        pending = {k: states[k] for k in range(runs)
                   if states[k] is None or not _done(states[k], options)}
        finished = {k: s for k, s in enumerate(states) if s is not None and k not in pending}
        quenches_before = {k: s.n_quenches for k, s in enumerate(states) if s is not None}
        executor = make_executor(settings.executor)
        futures = {}
        try:
            submitted_at = {}

            def submit(k):
                submitted_at[k] = pending[k].step if pending[k] is not None else -1
                futures[executor.submit(work_chunk, system, k, seed, pending[k], n_chunk,
                                        options, deadline)] = k

            for k in list(pending):
                submit(k)
            while futures:
                done, _ = wait(futures, return_when=FIRST_COMPLETED)
                # store finished chunks in run order: with the serial executor (all done at
                # once) the file is then the same, ids included, for the same seed
                for fut in sorted(done, key=lambda f: futures[f]):
                    k = futures.pop(fut)
                    try:
                        result = fut.result()
                    except BrokenProcessPool:
                        # a worker died: rebuild the pool and redo every lost chunk from
                        # its stored state (deterministic, so nothing changes)
                        executor.shutdown(wait=False, cancel_futures=True)
                        executor = make_executor(settings.executor)
                        lost = [k] + [futures.pop(f) for f in list(futures)]
                        for j in lost:
                            submit(j)
                        break
                    report.new_minima += _store_chunk(db, result, options.check_hessian)
                    report.quenches += result.state.n_quenches - quenches_before.get(k, 0)
                    quenches_before[k] = result.state.n_quenches
                    if (result.state.step == submitted_at[k]
                            and not _done(result.state, options) and deadline is None):
                        raise RunError(f"run {k + 1} made no progress in a chunk")
                    pending[k] = result.state
                    out_of_time = deadline is not None and time.time() > deadline
                    if _done(result.state, options) or out_of_time:
                        finished[k] = pending.pop(k)
                        report.interrupted |= not _done(result.state, options)
                    else:
                        submit(k)
                    if progress is not None:
                        report.runs = [*finished.values(), *pending.values()]
                        report.n_minima = db.n_minima
                        report.seconds = time.time() - t_start
                        progress(report)
        finally:
            executor.shutdown(wait=True, cancel_futures=True)
        report.runs = sorted(finished.values(), key=lambda s: s.run)
        if not report.interrupted:
            finish_lowest(db, system, settings)
        report.n_minima = db.n_minima
        report.lowest = lowest_minima(db, 10, system.display_energy)
        report.energy_label = system.display_energy_label
        report.seconds = time.time() - t_start
        status = "interrupted" if report.interrupted else "finished"
    except KeyboardInterrupt:
        status, message = "interrupted", "interrupted by the user"
        raise
    except RuntimeError as exc:
        message = str(exc)
        raise RunError(message) from exc
    finally:
        db.end_run(status=status, message=message)
        db.close(status=status, message=message)
    return report


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
        info = characterise(system, res.coords)
        fields = info.minimum_fields()
        if res.success and abs(res.energy - minima.energy[row]) <= 10 * system.energy_tol:
            fields.update(energy=float(res.energy), coords=res.coords)
        db.update_minimum(min_id, **fields)
    db.commit()


def lowest_minima(db, count: int, display=float) -> list[dict]:
    """The ``count`` lowest minima as dicts (id, energy, shown energy, n_zero, n_negative,
    task and step that found it); ``display`` maps an energy to what users read."""
    minima = db.minima()
    order = np.argsort(minima.energy, kind="stable")[:count]
    return [dict(id=int(r) + 1, energy=float(minima.energy[r]),
                 shown=float(display(float(minima.energy[r]))),
                 n_zero=int(minima.n_zero[r]), n_negative=int(minima.n_negative[r]),
                 task=int(minima.found_by_task[r]), step=int(minima.found_by_step[r]))
            for r in order]
