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
import signal
import sys
import threading
import time
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


def parse_executor(spec: str, name: str = "--executor", *,
                   check_file: bool = True) -> ExecutorSpec:
    """Parse ``serial``, ``processes[:N]``, ``dask`` or ``dask:ADDRESS_OR_FILE``.

    With ``check_file`` a ``dask:`` value that is not an address must name an existing
    scheduler file (programs parse their executor before they create any output file);
    input files are checked without it, since the scheduler may start later.  ``name`` says
    in error messages where the value came from.
    """
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
            raise InputError(f"{name} {spec!r}: the number of processes must be a positive integer")
        return ExecutorSpec("processes", n)
    if head == "dask":
        address = tail or None
        if (check_file and address is not None and ":" not in address
                and not os.path.isfile(address)):
            raise InputError(f"{name} {spec!r}: no such scheduler file, and not an "
                             "address like tcp://host:8786")
        return ExecutorSpec("dask", None, address)
    raise InputError(f"{name} {spec!r} is not one of serial, processes[:N], dask, "
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
    """Build the executor that ``spec`` names; the caller shuts it down (``with`` works,
    or :func:`stop_executor`)."""
    parsed = parse_executor(spec) if isinstance(spec, str) else spec
    if parsed.kind == "serial":
        return SerialExecutor()
    if parsed.kind == "processes":
        return ProcessPoolExecutor(max_workers=parsed.workers, initializer=worker_init,
                                   initargs=(os.getpid(),))
    return _dask_executor(parsed)


def worker_init(parent_pid: int) -> None:
    """Set up a local worker process so that it never outlives its driver.

    * Ctrl-C goes to the whole process group of a terminal: the worker ignores SIGINT and
      leaves the interruption to the driver (no worker traceback), which then stops it;
    * SIGTERM ends the worker at once (the default action);
    * when the driver dies, even by SIGKILL, the worker dies too: on Linux the kernel sends
      it SIGKILL (``PR_SET_PDEATHSIG``), and everywhere a watcher thread ends the process
      once its parent is no longer ``parent_pid``.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _kill_me_with_parent()
    if os.getppid() != parent_pid:     # the driver died before this worker started
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True,
                     name="watch-driver").start()


def _kill_me_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - no prctl: the watcher remains
        pass


def _watch_parent(parent_pid: int, interval: float = 1.0) -> None:
    while True:
        time.sleep(interval)
        if os.getppid() != parent_pid:
            os._exit(1)


def stop_executor(executor: Executor, *, now: bool = False) -> None:
    """Shut ``executor`` down: wait for its running tasks, or (``now``, after an interruption
    or an error) cancel what has not started and end the local worker processes at once."""
    if not now:
        executor.shutdown(wait=True, cancel_futures=True)
        return
    processes = list((getattr(executor, "_processes", None) or {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        if proc.is_alive():
            proc.terminate()
    for proc in processes:
        proc.join(timeout=5)
        if proc.is_alive():  # pragma: no cover - a worker stuck in the kernel
            proc.kill()


class ManagedExecutor:
    """``with ManagedExecutor(spec) as pool:`` -- the executor is stopped at once
    (:func:`stop_executor` with ``now``) when the block ends by an exception, Ctrl-C and
    SIGTERM included, and shut down normally otherwise; :meth:`rebuild` replaces a pool
    broken by a dying worker."""

    def __init__(self, spec: str | ExecutorSpec):
        self.spec = parse_executor(spec) if isinstance(spec, str) else spec
        self.executor: Executor | None = None

    def __enter__(self) -> "ManagedExecutor":
        self.executor = make_executor(self.spec)
        return self

    def submit(self, fn, /, *args, **kwargs) -> Future:
        """Submit ``fn(*args, **kwargs)`` to the current executor."""
        return self.executor.submit(fn, *args, **kwargs)

    def rebuild(self) -> None:
        """Stop the current executor at once and start a new one of the same kind."""
        stop_executor(self.executor, now=True)
        self.executor = make_executor(self.spec)

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.executor is not None:
            stop_executor(self.executor, now=exc_type is not None)
            self.executor = None


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
    else:
        client = Client(parsed.address)
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
        except BaseException:
            stop_executor(executor, now=True)
            raise
        else:
            stop_executor(executor)
        pending = resubmit
