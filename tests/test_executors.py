"""Executor specs and the task runner that survives a dying worker."""
import os

import pytest

from mlcore.errors import InputError
from mlcore.executors import ExecutorSpec, SerialExecutor, parse_executor, run_tasks


def _square(x):
    return x * x


def _fail_on_three(x):
    if x == 3:
        raise ValueError("three")
    return x


def _die_once(path):
    # the first worker to reach this kills itself; the retried task then succeeds
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL)
    except FileExistsError:
        return "survived"
    os.close(fd)
    os._exit(9)


def test_parse_executor_forms():
    assert parse_executor("serial") == ExecutorSpec("serial", 1)
    assert parse_executor("processes:3") == ExecutorSpec("processes", 3)
    assert parse_executor("processes").workers == (os.cpu_count() or 1)
    assert parse_executor("dask") == ExecutorSpec("dask", None, None)
    assert parse_executor("dask:tcp://127.0.0.1:8786").address == "tcp://127.0.0.1:8786"
    for bad in ("thread", "processes:0", "processes:x", "serial:2", ""):
        with pytest.raises(InputError):
            parse_executor(bad)


def test_serial_executor_runs_and_captures_errors():
    ex = SerialExecutor()
    assert ex.submit(_square, 4).result() == 16
    fut = ex.submit(_fail_on_three, 3)
    with pytest.raises(ValueError):
        fut.result()


@pytest.mark.parametrize("spec", ["serial", "processes:2"])
def test_run_tasks_returns_every_result_and_error(spec):
    out = {task: (res, err) for task, res, err in run_tasks(spec, _fail_on_three, range(6))}
    assert sorted(out) == list(range(6))
    assert out[3][0] is None and isinstance(out[3][1], ValueError)
    assert all(out[k] == (k, None) for k in (0, 1, 2, 4, 5))


def test_run_tasks_resubmits_after_worker_death(tmp_path):
    flag = str(tmp_path / "died")
    results = list(run_tasks("processes:2", _die_once, [flag, flag, flag]))
    assert len(results) == 3
    assert [r for _, r, _ in results] == ["survived"] * 3
    assert os.path.exists(flag)


def test_dask_local_cluster_runs_tasks():
    pytest.importorskip("distributed")
    out = {task: res for task, res, err in run_tasks("dask", _square, range(5))}
    assert out == {k: k * k for k in range(5)}


def test_dask_scheduler_file_subprocesses(tmp_path):
    """A scheduler and a worker started as separate processes on loopback, found through
    the scheduler file, as dask-jobqueue or dask-mpi would start them on a cluster."""
    import subprocess
    import sys
    import time

    pytest.importorskip("distributed")
    sched_file = tmp_path / "scheduler.json"
    bindir = os.path.dirname(sys.executable)
    sched = subprocess.Popen([os.path.join(bindir, "dask"), "scheduler", "--host", "127.0.0.1",
                              "--port", "0", "--scheduler-file", str(sched_file),
                              "--no-dashboard"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    worker = None
    try:
        deadline = time.time() + 60
        while not sched_file.exists() and time.time() < deadline:
            time.sleep(0.1)
        worker = subprocess.Popen([os.path.join(bindir, "dask"), "worker", "--scheduler-file",
                                   str(sched_file), "--nthreads", "1", "--no-dashboard"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # task functions must be importable by the workers: module-level functions of
        # installed packages (as the suite's are), not of this test module
        import operator

        out = {t: r for t, r, e in run_tasks(f"dask:{sched_file}", operator.neg, range(4))}
        assert out == {k: -k for k in range(4)}
    finally:
        for proc in (worker, sched):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)
