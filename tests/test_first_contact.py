"""What a new user meets first: progress on a terminal and in a batch log, signals from a
cluster (SIGTERM) or a keyboard (SIGINT), a killed driver's workers, and ids that do not
depend on the executor.  Each test runs the installed programs as a user would."""
import csv
import io
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import psutil
import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CONFIG = ROOT / "configs" / "regression.toml"


def _prog(name):
    return str(BIN / name)


def run_on_terminal(argv, timeout=120):
    """Run ``argv`` with standard output and error on a pseudo-terminal; return
    ``(exit status, everything written)``."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, cwd=ROOT,
                            close_fds=True)
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:          # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    os.close(master)
    return proc.wait(timeout=30), b"".join(chunks).decode(errors="replace")


@pytest.mark.parametrize("runs", [1, 2])
def test_mlgmin_progress_line_on_a_terminal(tmp_path, runs):
    out = tmp_path / "t.h5"
    rc, text = run_on_terminal([_prog("mlgmin"), str(CONFIG), "-o", str(out), "--steps", "400",
                                "--runs", str(runs), "--seed", "3"])
    assert rc == 0, text
    assert "Traceback" not in text
    assert f"\rmlgmin: step {400 * runs}/{400 * runs} (100.0%)" in text
    assert "mlgmin finished" in text and "steps done" in text


def test_grow_progress_line_on_a_terminal(tmp_path):
    out = tmp_path / "t.h5"
    subprocess.run([_prog("mlgmin"), str(CONFIG), "-o", str(out), "--steps", "60", "--seed", "2",
                    "-q"], check=True, cwd=ROOT)
    rc, text = run_on_terminal([_prog("mlpathsample"), "grow", str(out), "--cycles", "2",
                                "--executor", "serial"])
    assert rc == 0, text
    assert "Traceback" not in text
    assert "\rmlpathsample grow: cycle " in text


def test_connect_progress_line_on_a_terminal(tmp_path):
    out = tmp_path / "t.h5"
    subprocess.run([_prog("mlgmin"), str(CONFIG), "-o", str(out), "--steps", "200", "--seed", "2",
                    "-q"], check=True, cwd=ROOT)
    rows = _minima_rows(out)
    assert len(rows) >= 2
    gm = min(rows, key=lambda r: float(r["energy"]))["id"]
    other = next(r["id"] for r in rows if r["id"] != gm)
    rc, text = run_on_terminal([_prog("mloptim"), "connect", str(out), "gm", other,
                                "--max-attempts", "2", "--executor", "serial"])
    assert rc in (0, 1), text                      # 1: not connected in two cycles
    assert "Traceback" not in text
    assert f"\rconnect {gm}-{other}: cycle 1/2, job " in text
    assert f"mloptim connect {gm} {other}: " in text


def test_batch_job_log_shows_progress_lines(tmp_path):
    out = tmp_path / "t.h5"
    proc = subprocess.run([_prog("mlgmin"), str(CONFIG), "-o", str(out), "--steps", "3000",
                           "--runs", "2", "--seed", "4", "--executor", "serial",
                           "--log-interval", "1e-6"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if "mlgmin: step" in ln]
    assert len(lines) >= 5                       # one per committed chunk at this interval
    assert all(ln.startswith("[20") and "\r" not in ln for ln in lines)
    assert "step 6000/6000" in lines[-1]
    quiet = subprocess.run([_prog("mlgmin"), str(CONFIG), "-o", str(tmp_path / "q.h5"),
                            "--steps", "300", "--seed", "4", "--log-interval", "1e-6", "-q"],
                           capture_output=True, text=True, cwd=ROOT)
    assert quiet.returncode == 0 and quiet.stderr == "" and quiet.stdout == ""


def _start_long_job(out, extra=()):
    proc = subprocess.Popen([_prog("mlgmin"), str(CONFIG), "-o", str(out), "--steps", "400000",
                             "--runs", "2", "--seed", "5", "--executor", "processes:2", "-q",
                             *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
                            text=True, start_new_session=True)
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + 60
    workers = []
    while time.monotonic() < deadline and len(workers) < 2:
        time.sleep(0.2)
        workers = parent.children(recursive=True)
    assert len(workers) >= 2, "the driver did not start its two workers"
    time.sleep(1.5)                                  # a few chunks committed
    return proc, workers


def _all_gone(processes, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        if not alive:
            return True
        time.sleep(0.1)
    return False


def _minima_rows(path):
    proc = subprocess.run([_prog("mlanalyse"), "list", "minima", str(path)], capture_output=True,
                          text=True, check=True, cwd=ROOT)
    return list(csv.DictReader(io.StringIO(proc.stdout)))


@pytest.mark.parametrize("sig, status, name", [(signal.SIGTERM, 143, "SIGTERM"),
                                               (signal.SIGINT, 130, "SIGINT")])
def test_signal_saves_work_stops_workers_and_resumes(tmp_path, sig, status, name):
    out = tmp_path / "t.h5"
    proc, workers = _start_long_job(out)
    if sig == signal.SIGINT:
        os.killpg(proc.pid, sig)         # Ctrl-C reaches the whole foreground group
    else:
        proc.send_signal(sig)            # scancel / a time limit: the driver
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == status, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and f"interrupted by {name}" in lines[0], err
    assert "Traceback" not in err
    assert _all_gone(workers), "a worker outlived its driver"
    assert not Path(str(out) + ".lock").exists()
    stored = _minima_rows(out)
    assert len(stored) >= 1                          # finished chunks were committed
    with h5py.File(out, "r") as f:
        statuses = [s.decode() if isinstance(s, bytes) else str(s) for s in f["runs/status"][()]]
    assert statuses[-1] == "interrupted"
    resumed = subprocess.run([_prog("mlgmin"), str(CONFIG), "-o", str(out), "--steps", "2000",
                              "--runs", "2", "--resume", "--executor", "processes:2", "-q"],
                             capture_output=True, text=True, cwd=ROOT)
    assert resumed.returncode == 0, resumed.stderr
    assert len(_minima_rows(out)) >= len(stored)


def test_sigkill_of_the_driver_takes_its_workers_along(tmp_path):
    out = tmp_path / "t.h5"
    proc, workers = _start_long_job(out)
    proc.kill()
    proc.communicate(timeout=30)
    assert _all_gone(workers), "a worker outlived its SIGKILLed driver"
    resumed = subprocess.run([_prog("mlgmin"), str(CONFIG), "-o", str(out), "--steps", "2000",
                              "--runs", "2", "--resume", "--executor", "processes:2", "-q"],
                             capture_output=True, text=True, cwd=ROOT)
    assert resumed.returncode == 0, resumed.stderr
    assert len(_minima_rows(out)) >= 1


def test_same_seed_same_ids_with_every_executor(tmp_path):
    tables = {}
    for spec in ("serial", "processes:2"):
        out = tmp_path / f"{spec.replace(':', '-')}.h5"
        subprocess.run([_prog("mlgmin"), str(CONFIG), "-o", str(out), "--steps", "1500",
                        "--runs", "3", "--seed", "11", "--executor", spec, "-q"], check=True,
                       cwd=ROOT)
        tables[spec] = [(r["id"], r["energy"]) for r in _minima_rows(out)]
    assert len(tables["serial"]) >= 3
    # The same minima under the same ids; energies agree to rounding (a worker process may
    # sum in a different order than the driver, so the last bits can differ).
    serial, parallel = tables["serial"], tables["processes:2"]
    assert [i for i, _ in serial] == [i for i, _ in parallel]
    for (_, e_serial), (_, e_parallel) in zip(serial, parallel):
        assert float(e_parallel) == pytest.approx(float(e_serial), rel=1e-10, abs=1e-12)


def test_missing_scheduler_file_is_refused_before_a_file_is_made(tmp_path):
    out = tmp_path / "t.h5"
    proc = subprocess.run([_prog("mlgmin"), str(CONFIG), "-o", str(out), "--executor",
                           f"dask:{tmp_path / 'nosuch.json'}"], capture_output=True, text=True,
                          cwd=ROOT)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "no such scheduler file" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_chunk_leaves_the_state_it_was_given_alone():
    """The serial executor runs a chunk at submission, in the driver: the chunk must not
    advance the state of a result that is not yet committed (it did, so the file saved a
    later state than its minima, and serial and processes:N committed in other orders)."""
    from mlcore.config import load_input
    from mlcore.systems import build_system
    from mlgmin.run import options_from_settings, work_chunk

    inp = load_input(CONFIG)
    system = build_system(inp.system, inp.base_dir)
    options = options_from_settings(inp.settings("mlgmin"), system.ndim)
    first = work_chunk(system, 0, 7, None, 0, options, None).state
    before = (first.step, first.energy, first.coords.copy(), repr(first.rng_state))
    second = work_chunk(system, 0, 7, first, 25, options, None).state
    assert second.step == before[0] + 25
    assert (first.step, first.energy, repr(first.rng_state)) == (before[0], before[1], before[3])
    assert np.array_equal(first.coords, before[2])


class _ShuffledPool:
    """Threads that finish chunks in a random order (a loaded machine, uneven workers)."""

    def __init__(self, seed):
        from concurrent.futures import ThreadPoolExecutor

        self.pool = ThreadPoolExecutor(3)
        self.rng = np.random.default_rng(seed)

    def submit(self, fn, *args):
        delay = float(self.rng.uniform(0.0, 0.05))

        def late():
            time.sleep(delay)
            return fn(*args)

        return self.pool.submit(late)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_chunks_finishing_in_any_order_are_each_committed_once_in_step_order(seed):
    """A run's next chunk may come back before its previous one is committed (another run
    is behind): both must be committed, in order (the second used to replace the first,
    losing its minima)."""
    from mlcore.config import load_input
    from mlcore.executors import SerialExecutor
    from mlcore.systems import build_system
    from mlgmin.run import _Chunks, options_from_settings

    inp = load_input(CONFIG)
    system = build_system(inp.system, inp.base_dir)
    options = options_from_settings(inp.settings("mlgmin"), system.ndim)
    options.steps = 60

    def committed(pool):
        chunks = _Chunks(system, 5, [None] * 3, options, 10, None)
        return [(r.state.run, r.state.step, r.state.energy, len(r.minima))
                for r in chunks.results_in_order(pool)]

    reference = committed(SerialExecutor())
    shuffled = _ShuffledPool(seed)
    try:
        got = committed(shuffled)
    finally:
        shuffled.pool.shutdown()
    assert got == reference
    assert [(run, step) for run, step, _, _ in got] == [
        (run, step) for step in range(0, 61, 10) for run in range(3)]


@pytest.mark.parametrize("argv", [
    ["mlgmin", "{d}"],
    ["mloptim", "connect", "{d}", "1", "2"],
    ["mlpathsample", "rates", "{d}", "--A", "1", "--B", "2"],
    ["mlanalyse", "summary", "{d}"],
    ["mlgmin", "{d}", "--no-such-option"],
])
def test_usage_errors_are_one_line(tmp_path, argv):
    """A folder where a file goes, or an unknown option: click's four-line usage text
    becomes one line naming the command, the problem and where help is."""
    args = [a.format(d=tmp_path) for a in argv]
    proc = subprocess.run([_prog(args[0]), *args[1:]], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"{' '.join(argv[:2]) if argv[0] != 'mlgmin' else 'mlgmin'}")
    assert "--help" in lines[0] or "error" in lines[0]
