"""Crash safety of the stationary-point file: SIGKILL a writer at random moments, reopen.

A child process (the script CHILD below) opens the file as the one writer and commits
batches numbered 1, 2, 3, ... (each: K new minima, one re-found minimum, K-1 new transition
states and one re-found, a tried pair, and an update of a minimum of the previous batch),
reporting each committed batch on stdout.  The parent kills it with SIGKILL at a random
moment: while it starts, while it opens and replays the journal, while it commits or
checkpoints.  After every kill the file must open, hold every reported batch completely and
exactly once, and the next child must resume where the file ends.
"""
from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from mlcore.database import Database, DatabaseReader
from mlcore.database.atomic import stray_temp_files
from mlcore.database.journal import journal_path_for, read_journal
from mlcore.database.lock import lock_path_for

ROOT = Path(__file__).resolve().parents[1]
NDIM = 5
K = 4  # new minima per batch

CHILD = r"""
import sys
import numpy as np
import pytest
from mlcore.database import Database

NDIM, K = 5, 4
path, checkpoint_bytes, n_batches = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])


def coords(b, i):
    return np.random.default_rng([b, i]).standard_normal(NDIM)


print("O", flush=True)
db = Database.open_writer(path, checkpoint_bytes=checkpoint_bytes, checkpoint_interval=None,
                          program="crash-child")
steps = db.minima().found_by_step
start = int(steps.max()) + 1 if len(steps) else 1
db.begin_run("crash-child", sys.argv, "", seed=start)
print("R", start, flush=True)
for b in range(start, start + n_batches):
    ids = []
    for i in range(K):
        mid, new = db.add_minimum(b + 0.01 * i, coords(b, i), step=b)
        assert new, ("minimum not new", b, i)
        ids.append(mid)
    if b > 1:
        old = db.find_minimum(b - 1, coords(b - 1, 0))
        mid, new = db.add_minimum(b - 1, coords(b - 1, 0) + 1e-5, step=b)
        assert not new and mid == old, ("re-found minimum", b, mid, old)
        db.update_minimum(old, log_product=float(b))
    for i in range(K - 1):
        tid, new = db.add_ts(b + 0.01 * i + 0.005, coords(b, 100 + i), ids[i], ids[i + 1],
                             step=b)
        assert new, ("ts not new", b, i)
    tid, new = db.add_ts(b + 0.005, coords(b, 100), ids[1], ids[0], step=b)
    assert not new, ("re-found ts", b)
    db.add_tried_pair(ids[0], ids[-1], 0, f"batch {b}")
    db.commit()
    print("C", b, flush=True)
    if checkpoint_bytes == 0:
        db.checkpoint()
db.close()
print("DONE", flush=True)
"""


def _coords(b, i):
    return np.random.default_rng([b, i]).standard_normal(NDIM)


def verify(path: Path, rng: np.random.Generator | None = None) -> int:
    """Check the committed content; return the number of complete batches M.

    Batches 1..M must each be present completely and exactly once; nothing else.
    """
    r = DatabaseReader(path)
    m, t, p = r.minima(), r.ts(), r.pairs_tried()
    n_batches = int(m.found_by_step.max()) if len(m) else 0
    b = np.arange(1, n_batches + 1)
    # minima: K per batch, in order, nothing duplicated
    assert len(m) == K * n_batches
    np.testing.assert_array_equal(m.found_by_step, np.repeat(b, K))
    np.testing.assert_allclose(m.energy, (b[:, None] + 0.01 * np.arange(K)).ravel(), rtol=0,
                               atol=1e-12)
    assert len(np.unique(m.energy)) == len(m)
    # the update made by batch b+1 of the first minimum of batch b
    first = m.log_product[::K]
    np.testing.assert_array_equal(first[:-1], b[1:].astype(float))
    if n_batches:
        assert np.isnan(first[-1])
    # transition states: K-1 per batch joining consecutive new minima
    assert len(t) == (K - 1) * n_batches
    np.testing.assert_array_equal(t.found_by_step, np.repeat(b, K - 1))
    base = ((b - 1) * K)[:, None] + np.arange(1, K)  # 1-based id of ts's min1
    np.testing.assert_array_equal(t.min1, base.ravel())
    np.testing.assert_array_equal(t.min2, base.ravel() + 1)
    # one tried pair per batch
    assert len(p) == n_batches
    assert list(p.outcome_text) == [f"batch {k}" for k in b]
    # coordinates of a sample of batches (and the last) are bit-identical
    check = set(b[-3:].tolist())
    if rng is not None and n_batches:
        check |= set(rng.choice(b, size=min(5, n_batches), replace=False).tolist())
    for k in check:
        for i in range(K):
            np.testing.assert_array_equal(m.coords[(k - 1) * K + i], _coords(k, i))
    return n_batches


def _reported_batches(out: str) -> list[int]:
    """Batch numbers of the complete "C <batch>" lines (a kill may cut the last line)."""
    complete_lines = out.split("\n")[:-1]
    for line in complete_lines:
        assert re.fullmatch(r"O|R \d+|C \d+|DONE", line), repr(out[-300:])
    return [int(x[2:]) for x in complete_lines if x.startswith("C ")]


def _spawn(path: Path, checkpoint_bytes: int, n_batches: int) -> subprocess.Popen:
    # unbuffered binary pipes: readline() then takes exactly one line, and communicate()
    # (which reads the file descriptors directly) gets everything after it
    return subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(checkpoint_bytes),
                             str(n_batches)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, bufsize=0)


def _line(child: subprocess.Popen) -> str:
    return child.stdout.readline().decode()


def _finish(child: subprocess.Popen, timeout: float | None = None) -> tuple[str, str]:
    out, err = child.communicate(timeout=timeout)
    return out.decode(), err.decode()


def _make_file(path: Path) -> None:
    Database.create(path, {"kind": "python", "target": "crash:Test"},
                    {"data": np.arange(10.0)}, ndim=NDIM).close()


def test_sigkill_at_random_moments_keeps_every_committed_batch(tmp_path):
    _kill_many_times(tmp_path, n_kills=22, seed=20261126)


@pytest.mark.slow
def test_sigkill_many_more_times(tmp_path):
    _kill_many_times(tmp_path, n_kills=150, seed=7)


def _kill_many_times(tmp_path, n_kills: int, seed: int) -> None:
    path = tmp_path / "crash.h5"
    _make_file(path)
    rng = np.random.default_rng(seed)
    complete = 0          # batches in the file after the last kill
    stale_cleared = torn_seen = replays = 0
    phases = {"opening": 0, "writing": 0}
    killed_in_checkpoint = 0
    for kill in range(n_kills):
        killed_in_checkpoint += bool(stray_temp_files(path))   # a half-written checkpoint
        checkpoint_bytes = int(rng.choice([0, 4000, 1 << 30]))
        child = _spawn(path, checkpoint_bytes, 100000)
        line = _line(child)
        assert line.strip() == "O", _finish(child)[1]
        if kill % 3 == 0:
            # kill while it opens: lock, load, replay the journal, checkpoint
            phases["opening"] += 1
            time.sleep(rng.uniform(0.0, 0.08))
        else:
            line = _line(child)
            assert line.startswith("R "), _finish(child)[1]
            assert int(line.split()[1]) == complete + 1   # resumes right after the file's end
            phases["writing"] += 1
            time.sleep(rng.uniform(0.0, 0.35))
        child.send_signal(signal.SIGKILL)
        out, err = _finish(child)
        assert child.returncode == -signal.SIGKILL, err
        assert "Traceback" not in err, err
        stale_cleared += "stale writer lock" in err
        torn_seen += "torn final record" in err
        reported = _reported_batches(out)
        n = verify(path, rng)
        # every batch reported as committed is there; nothing earlier was lost
        assert n >= max(reported, default=complete) and n >= complete
        if reported:
            assert reported == list(range(reported[0], reported[-1] + 1))
        replays += n > max(reported, default=complete)  # committed, killed before printing
        complete = n
    assert complete > 20
    assert stale_cleared >= n_kills // 2   # killed writers leave locks; the next one clears them

    # writing resumes and a clean close folds everything into the HDF5 file
    child = _spawn(path, 1 << 30, 3)
    out, err = _finish(child, timeout=60)
    assert child.returncode == 0, err
    assert out.splitlines()[-1] == "DONE"
    assert verify(path, rng) == complete + 3
    assert not lock_path_for(path).exists()
    assert read_journal(journal_path_for(path)).batches == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crash.h5", "crash.h5.journal"]
    with h5py.File(path, "r") as f:   # plain h5py sees everything after a clean close
        assert f["minima/energy"].shape == (K * (complete + 3),)
        assert f["journal-state"].attrs["committed_seq"] >= complete + 3
        runs = f["runs/status"].asstr()[()]
        assert runs[-1] == "finished" and len(runs) <= n_kills + 1
    print(f"kills={n_kills} phases={phases} batches={complete + 3} stale_locks_cleared="
          f"{stale_cleared} torn_records={torn_seen} committed_unreported={replays} "
          f"killed_during_checkpoint={killed_in_checkpoint}")


def test_reader_sees_consistent_committed_state_while_a_run_writes(tmp_path):
    path = tmp_path / "live.h5"
    _make_file(path)
    child = _spawn(path, 3000, 120)   # checkpoints often, so readers race with renames
    seen = []
    try:
        assert _line(child).strip() == "O"
        while child.poll() is None:
            seen.append(verify(path))              # complete batches only, never half
            with h5py.File(path, "r") as f:        # plain h5py opens it at any time
                n_h5 = f["minima/energy"].shape[0]
            assert n_h5 % K == 0
            writer = DatabaseReader(path).writer
            assert writer is None or writer["program"] == "crash-child"
        _, err = _finish(child, timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, err
    assert seen == sorted(seen)                     # never goes back
    assert any(0 < s < 120 for s in seen)           # saw the run in progress
    assert verify(path) == 120
