"""mlpathsample grow: the 'unconnected' strategy joins every minimum to the global minimum."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mlcore.config import apply_overrides, parse_input
from mlcore.database import DatabaseReader
from mlpathsample.grow import _Components, pairs_random

MLPATHSAMPLE = str(Path(sys.executable).parent / "mlpathsample")


def _gmin(tmp_path, text, name):
    from mlgmin.run import run

    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    inp = parse_input(text, path=path)
    run(inp, apply_overrides(inp.mlgmin, "mlgmin", {"executor": "serial"}),
        tmp_path / f"{name}.h5")
    return tmp_path / f"{name}.h5"


def _all_connected(path):
    reader = DatabaseReader(path)
    ts = reader.ts()
    comps = _Components(reader.n_minima, ts.min1, ts.min2)
    gm = reader.global_minimum()[0]
    return all(comps.find(i) == comps.find(gm) for i in range(1, reader.n_minima + 1))


def test_regression_grow_unconnected_joins_everything(tmp_path):
    path = _gmin(tmp_path, '[system]\nkind = "regression"\nseed = 0\n'
                           '[mlgmin]\nsteps = 40\nruns = 2\nseed = 5\n', "reg")
    assert DatabaseReader(path).n_minima >= 3
    res = subprocess.run([MLPATHSAMPLE, "grow", str(path), "--strategy", "unconnected",
                          "--cycles", "15", "--executor", "serial"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert _all_connected(path), res.stdout
    assert "0 minima not connected" in res.stdout
    reader = DatabaseReader(path)
    assert reader.n_pairs_tried >= 1 and reader.runs().program.tolist()[-1] == "mlpathsample"


def test_lj13_grow_unconnected_with_two_processes(tmp_path):
    path = _gmin(tmp_path, '[system]\nkind = "cluster"\nnatoms = 13\n'
                           '[mlgmin]\nsteps = 15\nruns = 2\nseed = 2\n', "lj13")
    res = subprocess.run([MLPATHSAMPLE, "grow", str(path), "--strategy", "unconnected",
                          "--cycles", "20", "--executor", "processes:2"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert _all_connected(path), res.stdout


def test_random_pairs_are_new_and_distinct():
    class FakeDB:
        n_minima = 6

        def tried(self, a, b):
            return {a, b} == {1, 2}

    pairs = pairs_random(FakeDB(), np.random.default_rng(0), 3, set())
    assert len(pairs) == 3
    flat = [m for p in pairs for m in p]
    assert len(set(flat)) == 6 and (1, 2) not in pairs and (2, 1) not in pairs


def test_unknown_strategy_is_a_clear_error(tmp_path):
    """All four strategies exist; an unknown name is bad input (exit 2), also through the
    Python API, and the message lists the valid ones."""
    import pytest

    from mlcore.errors import InputError
    from mlpathsample.grow import grow

    path = _gmin(tmp_path, '[system]\nkind = "cluster"\nnatoms = 5\n[mlgmin]\nsteps = 3\n', "c5")
    res = subprocess.run([MLPATHSAMPLE, "grow", str(path), "--strategy", "untrapp",
                          "--cycles", "1"], capture_output=True, text=True, check=False)
    assert res.returncode == 2 and "untrap" in res.stderr
    with pytest.raises(InputError, match="unconnected, untrap, shortcut, random"):
        grow(path, "untrapp", 1, None, None, "serial")


CRASHING_LANDSCAPE = '''
import os
import numpy as np


class CrashOnce:
    """A 2-d double well whose worker process dies once (os._exit) during a connect job,
    as a crash inside a compiled kernel would kill it."""

    def __init__(self, flag, driver_pid):
        self.ndim = 2
        self.flag = flag
        self.driver_pid = driver_pid

    def energy_gradient(self, x):
        if os.getpid() != self.driver_pid and os.path.exists(self.flag):
            try:
                os.remove(self.flag)
            except FileNotFoundError:
                pass
            else:
                os._exit(9)
        a, b = x
        e = (a * a - 1.0) ** 2 + 2.0 * b * b + 0.3 * a
        return e, np.array([4.0 * a * (a * a - 1.0) + 0.3, 4.0 * b])

    def random_coords(self, rng):
        return rng.uniform(-1.5, 1.5, 2)
'''


def test_a_worker_killed_mid_job_costs_nothing(tmp_path):
    import os

    (tmp_path / "crash.py").write_text(CRASHING_LANDSCAPE)
    flag = tmp_path / "kill-one-worker"
    text = ('[system]\nkind = "python"\ntarget = "crash.py:CrashOnce"\n'
            f'params = {{ flag = "{flag}", driver_pid = {os.getpid()} }}\n'
            '[mlgmin]\nsteps = 20\nruns = 1\nseed = 1\nstep_size = 1.5\n')
    path = _gmin(tmp_path, text, "dw")
    assert DatabaseReader(path).n_minima == 2
    flag.write_text("armed")
    from mlcore.config import parse_input
    from mlpathsample.grow import grow

    inp = parse_input(text, path=tmp_path / "dw.toml")
    report = grow(path, "unconnected", 3, inp.mlpathsample, inp.mloptim, "processes:2")
    assert not flag.exists()            # a worker did die
    assert report.failed_jobs == 0      # its job was run again on a fresh pool
    assert _all_connected(path)


def _same_network(a, b):
    a, b = DatabaseReader(a), DatabaseReader(b)
    assert a.n_minima == b.n_minima and a.n_ts == b.n_ts
    assert np.array_equal(a.minima().energy, b.minima().energy)
    assert np.array_equal(a.minima().coords, b.minima().coords)
    assert np.array_equal(a.ts().energy, b.ts().energy)
    assert a.ts().min1.tolist() == b.ts().min1.tolist()
    assert a.ts().min2.tolist() == b.ts().min2.tolist()
    ta, tb = a.pairs_tried(), b.pairs_tried()
    assert (ta.min1.tolist(), ta.min2.tolist(), ta.outcome.tolist()) == \
        (tb.min1.tolist(), tb.min2.tolist(), tb.outcome.tolist())


REGRESSION_GROW = ('[system]\nkind = "regression"\nseed = 0\n'
                   '[mlgmin]\nsteps = 40\nruns = 2\nseed = 5\n'
                   '[mlpathsample]\npairs_per_cycle = 1\n')


@pytest.mark.parametrize("strategy", ["unconnected", "random"])
def test_resumed_growth_equals_uninterrupted(tmp_path, strategy):
    """Four cycles in one run, or two and two: the same file (the random strategy's
    generator is saved with every cycle and continued)."""
    import shutil

    from mlpathsample.grow import grow

    path = _gmin(tmp_path, REGRESSION_GROW, "reg")
    shutil.copy(path, tmp_path / "split.h5")
    shutil.copy(str(path) + ".journal", str(tmp_path / "split.h5") + ".journal")
    inp = parse_input(REGRESSION_GROW, path=tmp_path / "reg.toml")
    s, o = inp.mlpathsample, inp.mloptim
    seen = []
    grow(path, strategy, 4, s, o, "serial", 11,
         progress=lambda report, cycles: seen.append((report.cycles, cycles, report.n_minima,
                                                      report.jobs)))
    assert [(c, n, j) for c, n, _, j in seen] == [(1, 4, 1), (2, 4, 2), (3, 4, 3), (4, 4, 4)]
    assert seen[-1][2] == DatabaseReader(path).n_minima
    grow(tmp_path / "split.h5", strategy, 2, s, o, "serial", 11)
    grow(tmp_path / "split.h5", strategy, 2, s, o, "serial", 11)
    assert DatabaseReader(path).n_pairs_tried == 4   # four cycles of one pair: not done
    _same_network(path, tmp_path / "split.h5")
    if strategy == "random":    # a new seed starts a new sequence of pairs
        shutil.copy(path, tmp_path / "other.h5")
        shutil.copy(str(path) + ".journal", str(tmp_path / "other.h5") + ".journal")
        grow(path, strategy, 2, s, o, "serial", 11)
        grow(tmp_path / "other.h5", strategy, 2, s, o, "serial", 12)
        assert (DatabaseReader(path).pairs_tried().min1.tolist()
                != DatabaseReader(tmp_path / "other.h5").pairs_tried().min1.tolist())


SLOW_FOUR_WELLS = '''
import time
import numpy as np


class SlowFourWells:
    """Four wells (x, y near +-1), each gradient a millisecond: connect jobs take long
    enough for a test to kill the run between two cycles."""

    ndim = 2

    def energy_gradient(self, x):
        time.sleep(1e-3)
        a, b = x
        e = (a * a - 1.0) ** 2 + (b * b - 1.0) ** 2 + 0.1 * a + 0.05 * b
        return e, np.array([4.0 * a * (a * a - 1.0) + 0.1, 4.0 * b * (b * b - 1.0) + 0.05])

    def random_coords(self, rng):
        return rng.uniform(-1.6, 1.6, 2)
'''


def test_growth_killed_and_run_again_equals_uninterrupted(tmp_path):
    """SIGKILL to ``mlpathsample grow`` after its first committed cycle; the same command
    run again until every minimum is connected gives the file of an uninterrupted run."""
    import os
    import shutil
    import signal
    import time

    (tmp_path / "wells.py").write_text(SLOW_FOUR_WELLS)
    text = ('[system]\nkind = "python"\ntarget = "wells.py:SlowFourWells"\n'
            '[mlgmin]\nsteps = 30\nruns = 1\nseed = 2\nstep_size = 1.5\n')
    path = _gmin(tmp_path, text, "wells")
    assert DatabaseReader(path).n_minima == 4
    (tmp_path / "killed.h5").write_bytes(path.read_bytes())
    shutil.copy(str(path) + ".journal", str(tmp_path / "killed.h5") + ".journal")
    command = ["grow", "--strategy", "unconnected", "--cycles", "60", "--executor", "serial",
               "--pairs", "1"]
    proc = subprocess.Popen([MLPATHSAMPLE, command[0], str(tmp_path / "killed.h5"),
                             *command[1:]], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=tmp_path)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if DatabaseReader(tmp_path / "killed.h5").n_pairs_tried >= 1:
            break
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = DatabaseReader(tmp_path / "killed.h5").n_pairs_tried
    assert killed_at >= 1
    for target in (tmp_path / "killed.h5", path):
        res = subprocess.run([MLPATHSAMPLE, command[0], str(target), *command[1:]],
                             capture_output=True, text=True, check=False, cwd=tmp_path)
        assert res.returncode == 0, res.stderr
    assert DatabaseReader(path).n_pairs_tried > killed_at   # the kill came before the end
    assert _all_connected(path)
    _same_network(path, tmp_path / "killed.h5")
