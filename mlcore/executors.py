"""Executors: where the work of a run is computed (serial, local processes, Dask).

Every program takes the same ``--executor SPEC`` option:

``serial``
    in the driving process, one task after the other (debugging, notebooks, tests);
``processes`` or ``processes:N``
    a pool of N local worker processes (default: all cores); a pool broken by a dying
    worker is rebuilt and the lost tasks are resubmitted by :func:`run_tasks`;
``dask``
    an in-process ``distributed.LocalCluster``;
``dask:ADDRESS`` or ``dask:SCHEDULER_FILE``
    an existing Dask scheduler (``tcp://host:8786``) or the JSON scheduler file written by
    ``dask scheduler --scheduler-file``, as started by dask-jobqueue or dask-mpi.

Algorithms are written against :class:`concurrent.futures.Executor`; task functions are
module-level functions of the installed package, and only the driving process writes files.
"""
from __future__ import annotations

import os
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from mlcore.errors import InputError


@dataclass(frozen=True)
class ExecutorSpec:
    """A parsed ``--executor`` value.

    Attributes
    ----------
    kind : {"serial", "processes", "dask"}
    workers : int or None
        Number of local workers (``processes:N``, or the LocalCluster size).
    address : str or None
        Scheduler address or scheduler-file path for ``dask:...``.
    """

    kind: str
    workers: int | None = None
    address: str | None = None


def parse_executor(spec: str) -> ExecutorSpec:
    """Parse ``serial``, ``processes[:N]``, ``dask`` or ``dask:ADDRESS_OR_FILE``."""
    text = (spec or "").strip()
    head, _, tail = text.partition(":")
    if head == "serial" and not tail:
        return ExecutorSpec("serial", 1)
    if head == "processes":
        if not tail:
            return ExecutorSpec("processes", os.cpu_count() or 1)
        try:
            n = int(tail)
        except ValueError:
            n = 0
        if n < 1:
            raise InputError(f"--executor {spec!r}: the number of processes must be a positive integer")
        return ExecutorSpec("processes", n)
    if head == "dask":
        return ExecutorSpec("dask", None, tail or None)
    raise InputError(f"--executor {spec!r} is not one of serial, processes[:N], dask, "
                     "dask:ADDRESS_OR_SCHEDULER_FILE")


class SerialExecutor(Executor):
    """Runs each task at submission, in the calling process; futures come back done."""

    def submit(self, fn, /, *args, **kwargs):
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # the caller sees it through the future
            future.set_exception(exc)
        return future


def make_executor(spec: str | ExecutorSpec) -> Executor:
    """Build the executor that ``spec`` names; the caller shuts it down (``with`` works)."""
    parsed = parse_executor(spec) if isinstance(spec, str) else spec
    if parsed.kind == "serial":
        return SerialExecutor()
    if parsed.kind == "processes":
        return ProcessPoolExecutor(max_workers=parsed.workers)
    return _dask_executor(parsed)


def _dask_executor(parsed: ExecutorSpec) -> Executor:
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise InputError("--executor dask needs the 'distributed' package "
                         "(pip install 'dask[distributed]')") from exc
    if parsed.address is None:
        cluster = LocalCluster(n_workers=parsed.workers or os.cpu_count() or 1,
                               threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    elif os.path.isfile(parsed.address):
        client = Client(scheduler_file=parsed.address)
    elif "://" in parsed.address or ":" in parsed.address:
        client = Client(parsed.address)
    else:
        raise InputError(f"--executor dask:{parsed.address}: no such scheduler file, "
                         "and not an address like tcp://host:8786")
    return _DaskExecutor(client)


class _DaskExecutor(Executor):
    """A ``concurrent.futures`` executor over a Dask client, closing the client on shutdown."""

    def __init__(self, client):
        self.client = client
        self._executor = client.get_executor(pure=False)

    def submit(self, fn, /, *args, **kwargs):
        return self._executor.submit(fn, *args, **kwargs)

    def shutdown(self, wait=True, *, cancel_futures=False):
        self._executor.shutdown(wait=wait)
        cluster = getattr(self.client, "cluster", None)
        self.client.close()
        if cluster is not None:
            cluster.close()


def run_tasks(executor_spec: str | ExecutorSpec, fn: Callable, tasks: Iterable,
              max_retries: int = 2) -> Iterator[tuple[object, object, BaseException | None]]:
    """Run ``fn(task)`` for every task; yield ``(task, result, error)`` as each completes.

    A task whose worker died (a broken process pool) is resubmitted on a rebuilt pool, at
    most ``max_retries`` times; after that it is yielded with its error.  An exception
    raised by ``fn`` itself is yielded as the error of that task, not re-raised, so one
    failed job never costs the run.
    """
    parsed = parse_executor(executor_spec) if isinstance(executor_spec, str) else executor_spec
    pending = [(task, 0) for task in tasks]
    while pending:
        executor = make_executor(parsed)
        resubmit = []
        try:
            futures = {executor.submit(fn, task): (task, tries) for task, tries in pending}
            for future in as_completed(futures):
                task, tries = futures[future]
                try:
                    yield task, future.result(), None
                except BrokenProcessPool as exc:
                    if tries < max_retries:
                        resubmit.append((task, tries + 1))
                    else:
                        yield task, None, exc
                except Exception as exc:
                    yield task, None, exc
        finally:
            executor.shutdown(wait=True, cancel_futures=True)
        pending = resubmit
