"""mlgmin: basin-hopping on landscapes with known answers, resume, the command line."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from mlcore.config import apply_overrides, parse_input
from mlcore.database import DatabaseReader
from mlcore.errors import InputError
from mlgmin.acceptance import Metropolis
from mlgmin.run import run
from mlgmin.steps import ClusterDisplacement, SphereDisplacement

MLGMIN = str(Path(sys.executable).parent / "mlgmin")
LJ7_MINIMA = [-16.505384, -15.935043, -15.593211, -15.533060]


def _input(tmp_path, text, name="job.toml"):
    path = tmp_path / name
    path.write_text(text)
    return parse_input(text, path=path)


def _run(inp, out, resume=False, **overrides):
    settings = apply_overrides(inp.mlgmin, "mlgmin", {"executor": "serial", **overrides})
    return run(inp, settings, out, resume=resume)


def test_lj7_all_four_minima_stored_and_characterised(tmp_path):
    inp = _input(tmp_path, '[system]\nkind = "cluster"\nnatoms = 7\n'
                           '[mlgmin]\nsteps = 150\nruns = 2\nseed = 3\n')
    report = _run(inp, tmp_path / "lj7.h5")
    db = DatabaseReader(tmp_path / "lj7.h5")
    energies = np.sort(db.minima().energy)
    assert len(energies) == 4
    assert np.allclose(energies, LJ7_MINIMA, atol=1e-6)
    # the saved lowest are re-converged and checked: six zero modes, no negative eigenvalue
    assert (db.minima().n_zero == 6).all() and (db.minima().n_negative == 0).all()
    assert np.isfinite(db.minima().log_product).all()
    assert report.lowest[0]["energy"] == pytest.approx(-16.505384, abs=1e-6)
    assert sorted(db.minima().found_by_task.tolist())[0] >= 1
    assert db.runs().status.tolist() == ["finished"]


def test_lj13_global_minimum_found(tmp_path):
    inp = _input(tmp_path, '[system]\nkind = "cluster"\nnatoms = 13\n'
                           '[mlgmin]\nsteps = 3000\nruns = 2\nseed = 11\n'
                           'target_energy = -44.3268\n')
    report = _run(inp, tmp_path / "lj13.h5")
    assert report.lowest[0]["energy"] == pytest.approx(-44.326801, abs=1e-6)
    assert any(s.finished and s.step < 3000 for s in report.runs)  # stopped at the target


def test_regression_global_minimum_near_truth_up_to_symmetry(tmp_path):
    inp = _input(tmp_path, '[system]\nkind = "regression"\nseed = 0\n'
                           '[mlgmin]\nsteps = 300\nruns = 2\nseed = 5\n')
    _run(inp, tmp_path / "reg.h5")
    from mlcore.systems.regression import RegressionSystem

    system = RegressionSystem(seed=0)
    db = DatabaseReader(tmp_path / "reg.h5")
    best = int(np.argmin(db.minima().energy))
    e_best = db.minima().energy[best]
    assert 0.02 < e_best < 0.06          # 100 points, noise 0.02: sum of squares ~ 0.04
    q_star = np.array([0.1, 2.13, 0.0, 1.34, 0.0])
    dist, _ = system.align(q_star, db.minima().coords[best])
    assert dist < 0.05
    # no fit is stored twice under the 16 symmetry operations or the 2 pi periods
    coords = db.minima().coords
    energies = db.minima().energy
    for i in range(len(coords)):
        for j in range(i):
            if abs(energies[i] - energies[j]) < 1e-6:
                assert system.distance(coords[i], coords[j]) > system.distance_tol
    # every stored minimum passed the Hessian check (ndim 5 <= 60: all are checked)
    assert (db.minima().n_negative == 0).all() and (db.minima().n_zero == 0).all()


def _signature(path):
    db = DatabaseReader(path)
    states = {k: db.load_state(f"mlgmin/run/{k}") for k in (1, 2)}
    return (np.sort(db.minima().energy),
            {k: (s[0]["step"], s[0]["rng_state"], s[1]["coords"].tobytes()) for k, s in states.items()})


def test_resume_reaches_the_same_minima_as_one_long_run(tmp_path):
    text = '[system]\nkind = "cluster"\nnatoms = 9\n[mlgmin]\nruns = 2\nseed = 21\nsave = 0\n'
    inp = _input(tmp_path, text)
    _run(inp, tmp_path / "long.h5", steps=80)
    _run(inp, tmp_path / "split.h5", steps=30)
    _run(inp, tmp_path / "split.h5", resume=True, steps=80)
    e_long, s_long = _signature(tmp_path / "long.h5")
    e_split, s_split = _signature(tmp_path / "split.h5")
    assert e_long.shape == e_split.shape and np.allclose(e_long, e_split, rtol=0, atol=1e-9)
    assert s_long == s_split
    assert DatabaseReader(tmp_path / "split.h5").runs().status.tolist() == ["finished"] * 2


def test_resume_needs_the_same_landscape(tmp_path):
    inp = _input(tmp_path, '[system]\nkind = "cluster"\nnatoms = 5\n[mlgmin]\nsteps = 5\n')
    _run(inp, tmp_path / "a.h5")
    other = _input(tmp_path, '[system]\nkind = "cluster"\nnatoms = 6\n[mlgmin]\nsteps = 5\n',
                   name="other.toml")
    with pytest.raises(InputError, match="another landscape"):
        _run(other, tmp_path / "a.h5", resume=True)
    with pytest.raises(InputError, match="exists"):
        _run(inp, tmp_path / "a.h5")


def test_metropolis_and_steps():
    rng = np.random.default_rng(0)
    acc = Metropolis(1.0)
    assert acc(-1.0, 0.0, rng)
    n = sum(acc(1.0, 0.0, rng) for _ in range(20000))
    assert abs(n / 20000 - np.exp(-1.0)) < 0.015
    assert not Metropolis(0.0)(1e-9, 0.0, rng)
    x = rng.standard_normal(30)
    moved = ClusterDisplacement()(x, 0.4, rng)
    assert np.allclose(moved.reshape(-1, 3).mean(axis=0), 0.0)
    w = rng.standard_normal(50)
    w *= np.sqrt(50) / np.linalg.norm(w)
    w2 = SphereDisplacement()(w, 0.3, rng)
    assert w2 @ w2 == pytest.approx(50.0)


def test_cli_kill_and_resume_matches_uninterrupted(tmp_path):
    text = ('[system]\nkind = "cluster"\nnatoms = 10\n'
            '[mlgmin]\nsteps = 400\nruns = 2\nseed = 8\nsave = 0\nexecutor = "serial"\n')
    (tmp_path / "job.toml").write_text(text)
    full = subprocess.run([MLGMIN, "job.toml", "-o", "full.h5", "-q"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert full.returncode == 0, full.stderr
    proc = subprocess.Popen([MLGMIN, "job.toml", "-o", "cut.h5", "-q"], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal = tmp_path / "cut.h5.journal"
    deadline = time.time() + 60
    while time.time() < deadline and (not journal.exists() or journal.stat().st_size < 3000):
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    res = subprocess.run([MLGMIN, "job.toml", "-o", "cut.h5", "--resume", "-q"], cwd=tmp_path,
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    e_full, s_full = _signature(tmp_path / "full.h5")
    e_cut, s_cut = _signature(tmp_path / "cut.h5")
    # the same minima (the copy stored of each may come from another re-find: 1e-13 apart)
    assert e_full.shape == e_cut.shape and np.allclose(e_full, e_cut, rtol=0, atol=1e-9)
    assert s_full == s_cut


def test_a_job_killed_right_after_creating_its_file_resumes(tmp_path):
    """Killed after the file exists but before any basin-hopping chunk: --resume works
    (the job's seed and runs are committed with the file)."""
    text = ('[system]\nkind = "cluster"\nnatoms = 7\n'
            '[mlgmin]\nsteps = 30\nruns = 2\nseed = 4\nexecutor = "serial"\n')
    (tmp_path / "job.toml").write_text(text)
    script = ("import os, sys\n"
              "from pathlib import Path\n"
              "from mlcore.config import load_input\n"
              "from mlcore.systems import build_system\n"
              "from mlgmin.run import _prepare_file\n"
              "inp = load_input('job.toml')\n"
              "system = build_system(inp.system, inp.base_dir)\n"
              "_prepare_file(inp, system, Path('cut.h5'), False, 4, 2)\n"
              "os._exit(9)\n")
    killed = subprocess.run([sys.executable, "-c", script], cwd=tmp_path)
    assert killed.returncode == 9 and (tmp_path / "cut.h5").exists()
    res = subprocess.run([MLGMIN, "job.toml", "-o", "cut.h5", "--resume", "-q"], cwd=tmp_path,
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    full = subprocess.run([MLGMIN, "job.toml", "-o", "full.h5", "-q"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert full.returncode == 0, full.stderr
    e_full, s_full = _signature(tmp_path / "full.h5")
    e_cut, s_cut = _signature(tmp_path / "cut.h5")
    assert np.allclose(e_full, e_cut, rtol=0, atol=1e-9) and s_full == s_cut


def test_cli_errors_exit_2_and_leave_the_file(tmp_path):
    (tmp_path / "bad.toml").write_text('[system]\nkind = "cluster"\nnatoms = 5\n'
                                       '[mlgmin]\nstepz = 5\n')
    res = subprocess.run([MLGMIN, "bad.toml"], cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 2
    assert "stepz" in res.stderr and "steps" in res.stderr and "Traceback" not in res.stderr
    (tmp_path / "ok.toml").write_text('[system]\nkind = "cluster"\nnatoms = 5\n'
                                      '[mlgmin]\nsteps = 5\nexecutor = "serial"\n')
    assert subprocess.run([MLGMIN, "ok.toml", "-q"], cwd=tmp_path).returncode == 0
    before = (tmp_path / "ok.h5").read_bytes()
    res = subprocess.run([MLGMIN, "ok.toml", "-q"], cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 2 and "exists" in res.stderr
    assert (tmp_path / "ok.h5").read_bytes() == before
    res = subprocess.run([MLGMIN, "missing.toml"], cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 2 and res.stderr.count("\n") == 1


def test_triatomic_four_minima_when_permutational_isomers_are_distinct(tmp_path):
    from mlcore.config import load_input

    root = Path(__file__).resolve().parents[1]
    inp = load_input(root / "configs" / "triatomic.toml")
    report = _run(inp, tmp_path / "tri.h5")
    db = DatabaseReader(tmp_path / "tri.h5")
    energies = np.sort(db.minima().energy)
    assert len(energies) == 4
    assert np.allclose(energies, [-2.219098, -2.219098, -2.219098, -2.185099], atol=1e-6)
    zeros = {round(e, 4): z for e, z in zip(db.minima().energy, db.minima().n_zero)}
    assert zeros[-2.2191] == 5 and zeros[-2.1851] == 6   # linear chain: 5 zero modes
    assert report.n_minima == 4


def test_serial_runs_with_one_seed_write_identical_files(tmp_path):
    inp = _input(tmp_path, '[system]\nkind = "cluster"\nnatoms = 8\n'
                           '[mlgmin]\nsteps = 60\nruns = 3\nseed = 17\nsave = 0\n')
    _run(inp, tmp_path / "a.h5")
    _run(inp, tmp_path / "b.h5")
    a, b = DatabaseReader(tmp_path / "a.h5").minima(), DatabaseReader(tmp_path / "b.h5").minima()
    assert np.array_equal(a.energy, b.energy) and np.array_equal(a.coords, b.coords)
    assert np.array_equal(a.found_by_task, b.found_by_task)


def test_step_size_adaptation_is_bounded(tmp_path):
    # LJ4 has a single minimum: every move is accepted and the step would grow without end
    inp = _input(tmp_path, '[system]\nkind = "cluster"\nnatoms = 4\n'
                           '[mlgmin]\nsteps = 400\nruns = 1\nseed = 2\nadjust_every = 10\n'
                           'step_size = 0.3\nsave = 0\n')
    report = _run(inp, tmp_path / "lj4.h5")
    assert report.runs[0].step_size == pytest.approx(3.0)   # 10 x step_size


def _quench_on_the_saddle_line():
    """Separable four-well surface (c = 0): a quench started on the line x = 0 stays on it
    and ends at the transition state (0, 1).  Returns ``(system, state, minima, saddles)``
    of the checked quench."""
    from mlgmin.basinhopping import BasinHoppingOptions, RunState, _Quencher
    from tests.surfaces import FourWellSurface

    system = FourWellSurface(b=2.0, c=0.0)
    quench = _Quencher(system, BasinHoppingOptions(check_hessian=True, quench={"tol": 1e-9}))
    state = RunState(run=0, step=3, coords=np.zeros(2), energy=0.0, best_coords=np.zeros(2),
                     best_energy=0.0, step_size=0.1, rng_state={})
    _, found = quench(np.array([0.0, 0.7]), state)
    minima = [found]
    saddles = quench.drain(minima)
    return system, state, minima, saddles


def test_a_quench_that_ends_on_a_saddle_is_pushed_off_both_ways():
    """The Hessian check finds the saddle's one negative eigenvalue (-4), pushes off along
    it both ways and keeps the two minima below it and the saddle as a transition-state
    candidate."""
    _, state, minima, saddles = _quench_on_the_saddle_line()
    assert len(saddles) == 1
    saddle = saddles[0]
    np.testing.assert_allclose(saddle.coords, [0.0, 1.0], atol=1e-8)
    assert saddle.energy == pytest.approx(1.0, abs=1e-12)
    assert saddle.neg_eigenvalue == pytest.approx(-4.0, rel=1e-8)
    got = sorted(tuple(np.round(m.coords, 6)) for m in minima)
    assert got == [(-1.0, 1.0), (1.0, 1.0)]
    assert all(m.n_negative == 0 and m.n_extra_zero == 0 for m in minima)
    assert state.n_rejected == 0 and state.n_quenches == 3


def test_the_saddle_of_a_push_off_is_stored_as_a_transition_state(tmp_path):
    from mlcore.database import Database, DatabaseReader
    from mlgmin.basinhopping import ChunkResult
    from mlgmin.run import _store_chunk

    system, state, minima, saddles = _quench_on_the_saddle_line()
    path = tmp_path / "s.h5"
    with Database.create(path, {"kind": "python"}, ndim=2, identity=system) as db:
        db.begin_run("mlgmin")
        _store_chunk(db, ChunkResult(state, minima, 0.0, saddles), check_hessian=True)
    reader = DatabaseReader(path)
    assert reader.n_minima == 2 and reader.n_ts == 1
    ts = reader.transition_state(1)
    assert {ts["min1"], ts["min2"]} == {1, 2}
    assert ts["n_negative"] == 1 and ts["neg_eigenvalue"] == pytest.approx(-4.0, rel=1e-8)
