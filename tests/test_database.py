"""The stationary-point file: layout, identity lookup, lock, journal replay, errors, atomic outputs.

The SIGKILL tests are in test_database_crash.py.
"""
from __future__ import annotations

import json
import os
import pickle
import socket
import subprocess
import sys
import warnings

import h5py
import numpy as np
import pytest

from mlcore.database import (
    FORMAT_VERSION,
    Database,
    DatabaseReader,
    JournalRecoveryWarning,
    StaleLockWarning,
    atomic_output,
    atomic_path,
)
from mlcore.database.atomic import stray_temp_files
from mlcore.database.index import EnergyIndex, make_identity
from mlcore.database.journal import encode_record, journal_path_for, read_journal
from mlcore.database.lock import lock_path_for
from mlcore.database.state import apply_batch
from mlcore.database.tables import TABLE_SPECS, Table
from mlcore.errors import InputError

NDIM = 4
CONFIG = {"kind": "regression", "n_points": 100, "noise": 0.02, "q_star": [0.1, 2.13, 0.0],
          "options": {"standardise": True, "name": "ß-test"}}


class SignSymmetricSystem:
    """A landscape whose minima are equal up to an overall sign flip of the coordinates."""

    energy_tol = 1e-6
    distance_tol = 1e-3

    def __init__(self):
        self.calls = 0

    def distance(self, c1, c2):
        self.calls += 1
        return float(min(np.linalg.norm(c1 - c2), np.linalg.norm(c1 + c2)))


def arrays():
    rng = np.random.default_rng(7)
    return {"X": rng.standard_normal((6, 3)), "y": np.arange(6, dtype=np.int32),
            "w32": rng.standard_normal(5).astype(np.float32), "labels": np.array([b"a", b"bc"]),
            "scalar": np.float64(np.pi)}


@pytest.fixture
def path(tmp_path):
    return tmp_path / "db.h5"


def new_db(path, **kw):
    return Database.create(path, CONFIG, arrays(), ndim=NDIM, **kw)


def crash(db):
    """Abandon a writer as a kill would: no checkpoint, the lock of a dead process left."""
    db._journal.close()
    db._closed = True
    info = dict(db._lock.info, pid=dead_pid())
    lock_path_for(db.path).write_text(json.dumps(info))


def other_pid_alive():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    return proc


def dead_pid():
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


# ====================================================================== layout
def test_layout_is_readable_with_plain_h5py(path):
    rng = np.random.default_rng(1)
    c = rng.standard_normal((3, NDIM))
    with new_db(path) as db:
        run = db.begin_run("mlgmin", ["mlgmin", "in.toml", "--seed", "5"], "[system]\n", seed=5)
        assert run == 1
        assert db.add_minimum(-2.0, c[0], log_product=1.5, n_zero=0, n_negative=0, step=3) == (1, True)
        assert db.add_minimum(-1.0, c[1], symmetry_order=2, step=4) == (2, True)
        assert db.add_ts(0.5, c[2], 2, 1, neg_eigenvalue=-0.3, log_product=2.0) == (1, True)
        assert db.add_tried_pair(1, 2, 0, "connected via ts 1", when=1000.0) == 1
    with h5py.File(path, "r") as f:
        assert f.attrs["format"] == "mllandscape-stationary-points"
        assert f.attrs["format_version"] == FORMAT_VERSION == 1
        assert f.attrs["ndim"] == NDIM
        assert json.loads(f["system"].attrs["config_json"]) == CONFIG
        for name, arr in arrays().items():
            stored = f["system"][name][()]
            assert stored.dtype == arr.dtype and np.array_equal(stored, arr)
        np.testing.assert_array_equal(f["minima/energy"][()], [-2.0, -1.0])
        np.testing.assert_array_equal(f["minima/coords"][()], c[:2])
        assert f["minima/coords"].maxshape == (None, NDIM) and f["minima/coords"].chunks
        assert list(f["minima/log_product"][()][:1]) == [1.5]
        assert np.isnan(f["minima/log_product"][1])
        assert list(f["minima/symmetry_order"][()]) == [1, 2]
        assert list(f["minima/found_by_step"][()]) == [3, 4]
        assert list(f["minima/found_by_program"].asstr()[()]) == ["mlgmin", "mlgmin"]
        assert list(f["minima/found_by_run"][()]) == [1, 1]
        assert list(f["ts/min1"][()]) == [2] and list(f["ts/min2"][()]) == [1]  # 1-based
        assert f["ts/neg_eigenvalue"][0] == -0.3
        assert f["pairs_tried/outcome_text"].asstr()[0] == "connected via ts 1"
        assert f["pairs_tried/time"][0] == 1000.0
        assert json.loads(f["pairs_tried"].attrs["outcome_codes"])["0"] == "connected"
        assert json.loads(f["runs/command_line"].asstr()[0]) == ["mlgmin", "in.toml", "--seed", "5"]
        assert f["runs/input_text"].asstr()[0] == "[system]\n"
        assert f["runs/seed"].asstr()[0] == "5"
        assert f["runs/status"].asstr()[0] == "finished"
        assert f["runs/end_time"][0] >= f["runs/start_time"][0] > 0
        assert f["runs/host"].asstr()[0] == socket.gethostname()
        assert f["journal-state"].attrs["committed_seq"] >= 1
        assert "doc" in f["minima/log_product"].attrs


def test_reader_round_trip_and_row_access(path):
    with new_db(path) as db:
        db.add_minimum(3.0, [1, 2, 3, 4], step=1)
        db.add_minimum(-1.0, [0, 0, 0, 1], step=2)
    r = DatabaseReader(path)
    assert (r.n_minima, r.n_ts, r.ndim) == (2, 0, NDIM)
    assert r.global_minimum() == (2, -1.0)
    assert r.system_config() == CONFIG
    for name, arr in arrays().items():
        got = r.system_arrays()[name]
        assert got.dtype == arr.dtype and np.array_equal(got, arr)
    m = r.minima()
    assert list(m.ids) == [1, 2] and list(m.energy) == [3.0, -1.0]
    assert not m.energy.flags.writeable
    assert m.row(2)["found_by_step"] == 2
    assert r.minimum(1)["coords"].tolist() == [1, 2, 3, 4]
    with pytest.raises(InputError, match="minimum 3 does not exist"):
        r.minimum(3)


# ====================================================================== identity
def test_add_minimum_uses_the_system_identity_and_only_nearby_energies(path):
    system = SignSymmetricSystem()
    rng = np.random.default_rng(2)
    coords = rng.standard_normal((500, NDIM))
    energies = np.linspace(-10, 10, 500)
    with new_db(path, identity=system) as db:
        for e, c in zip(energies, coords):
            assert db.add_minimum(e, c)[1]
        system.calls = 0
        # the same minima again, sign-flipped and with tiny noise: all found, none added
        for k in rng.permutation(500):
            mid, new = db.add_minimum(energies[k] + 1e-8, -coords[k] + 1e-5)
            assert (mid, new) == (k + 1, False)
        assert system.calls == 500          # one comparison each: no linear scan
        # same energy, other coordinates: a new minimum
        assert db.add_minimum(energies[10], coords[11]) == (501, True)
        assert db.find_minimum(energies[10], -coords[11]) == 501
        assert db.find_minimum(energies[10] + 1e-3, coords[11]) is None


def test_callable_identity_needs_energy_tol_and_gets_stored_second(path):
    seen = []

    def same(e1, c1, e2, c2):
        seen.append((e1, e2))
        return abs(c1[0] - c2[0]) < 0.1

    with pytest.raises(ValueError, match="energy_tol"):
        make_identity(same)
    with new_db(path, identity=same, energy_tol=0.5) as db:
        assert db.add_minimum(1.0, [0, 0, 0, 0]) == (1, True)
        assert db.add_minimum(5.0, [0, 0, 0, 0]) == (2, True)    # outside the window
        assert seen == []
        assert db.add_minimum(1.3, [0.05, 9, 9, 9]) == (1, False)
        assert seen == [(1.3, 1.0)]


def test_transition_states_deduplicated_by_pair_energy_and_distance(path):
    with new_db(path) as db:
        for k in range(4):
            db.add_minimum(float(k), np.full(NDIM, float(k)))
        c = np.array([0.5, 0.5, 0.5, 0.5])
        assert db.add_ts(1.0, c, 1, 2) == (1, True)
        assert db.add_ts(1.0 + 1e-9, c + 1e-6, 2, 1) == (1, False)   # same, either order
        assert db.add_ts(1.0, c, 1, 3) == (2, True)                   # other pair
        assert db.add_ts(1.1, c, 1, 2) == (3, True)                   # other energy
        assert db.add_ts(1.0, c + 0.1, 1, 2) == (4, True)             # other geometry
        assert db.ts_between(2, 1) == [1, 3, 4]
        with pytest.raises(InputError, match="minimum 5 does not exist"):
            db.add_ts(1.0, c, 1, 5)
        with pytest.raises(InputError, match="minimum 0 does not exist"):
            db.add_tried_pair(0, 1, 1)
        with pytest.raises(InputError, match="ndim = 4"):
            db.add_minimum(0.0, [1, 2, 3])
        with pytest.raises(InputError, match="finite"):
            db.add_minimum(float("nan"), c)
        db.add_tried_pair(3, 1, 1, "no path")
        db.add_tried_pair(1, 3, 0)
        assert db.tried(1, 3) == 2 and db.tried(1, 2) == 0
    with Database.open_writer(path) as db:       # indices are rebuilt on open
        assert db.add_ts(1.0, c, 2, 1) == (1, False)
        assert db.tried(3, 1) == 2


def test_update_minimum_reindexes_energy_and_is_journalled(path):
    db = new_db(path)
    db.add_minimum(1.0, [1, 0, 0, 0])
    db.add_minimum(2.0, [0, 1, 0, 0])
    db.commit()
    db.update_minimum(1, energy=0.5, coords=[1.0001, 0, 0, 0], log_product=4.0, n_zero=0)
    assert db.find_minimum(1.0, [1, 0, 0, 0]) is None
    assert db.find_minimum(0.5, [1, 0, 0, 0]) == 1
    db.commit()
    crash(db)
    with pytest.warns(StaleLockWarning):
        db = Database.open_writer(path)
    m = db.minimum(1)
    assert (m["energy"], m["log_product"], m["n_zero"]) == (0.5, 4.0, 0)
    assert m["coords"].tolist() == [1.0001, 0, 0, 0]
    assert db.add_minimum(0.5, [1, 0, 0, 0]) == (1, False)
    with pytest.raises(InputError, match="cannot update"):
        db.update_minimum(1, found_by_step=3)
    db.close()


# ====================================================================== lock
def test_second_writer_is_refused_naming_host_and_pid(path):
    db = new_db(path)
    with pytest.raises(InputError) as err:
        Database.open_writer(path)
    msg = str(err.value)
    assert socket.gethostname() in msg and f"pid {os.getpid()}" in msg and "\n" not in msg
    db.close()
    assert not lock_path_for(path).exists()
    Database.open_writer(path).close()


def test_writer_in_another_live_process_is_refused(path):
    new_db(path).close()
    holder = other_pid_alive()
    try:
        lock_path_for(path).write_text(json.dumps(
            {"host": socket.gethostname(), "pid": holder.pid, "token": "x", "program": "mlgmin"}))
        with pytest.raises(InputError, match=f"pid {holder.pid}, program mlgmin"):
            Database.open_writer(path)
    finally:
        holder.kill()
        holder.wait()


def test_stale_lock_of_dead_process_is_cleared_with_a_warning(path):
    new_db(path).close()
    pid = dead_pid()
    lock_path_for(path).write_text(json.dumps({"host": socket.gethostname(), "pid": pid,
                                               "token": "old"}))
    with pytest.warns(StaleLockWarning, match=f"pid {pid}"):
        db = Database.open_writer(path)
    assert json.loads(lock_path_for(path).read_text())["pid"] == os.getpid()
    db.close()
    assert not lock_path_for(path).exists()


def test_lock_from_another_host_or_unreadable_is_never_cleared(path):
    new_db(path).close()
    lock_path_for(path).write_text(json.dumps({"host": "node-17", "pid": dead_pid()}))
    with pytest.raises(InputError, match="host node-17"):
        Database.open_writer(path)
    lock_path_for(path).write_text("")
    with pytest.raises(InputError, match="unreadable holder"):
        Database.open_writer(path)


def test_create_refuses_existing_file_unless_overwrite(path):
    new_db(path).close()
    with pytest.raises(InputError, match="file exists"):
        new_db(path)
    assert not lock_path_for(path).exists()
    with new_db(path, overwrite=True) as db:
        assert db.n_minima == 0


def test_writer_cannot_be_pickled_or_used_after_close(path):
    db = new_db(path)
    with pytest.raises(TypeError, match="only the driving process writes"):
        pickle.dumps(db)
    db.close()
    with pytest.raises(ValueError, match="closed"):
        db.add_minimum(0.0, np.zeros(NDIM))


# ====================================================================== journal
def test_commit_is_durable_before_any_checkpoint_and_replayed_once(path):
    db = new_db(path)
    for k in range(3):
        db.add_minimum(float(k), np.full(NDIM, k))
        assert db.commit() == k + 1
    db.add_minimum(9.0, np.full(NDIM, 9.0))       # never committed
    crash(db)
    assert DatabaseReader(path, journal=False).n_minima == 0   # HDF5 alone: last checkpoint
    assert DatabaseReader(path).n_minima == 3                 # + the journal's batches
    with pytest.warns(StaleLockWarning):
        db = Database.open_writer(path)
    assert db.n_minima == 3 and db.committed_seq == 3
    assert list(db.minima().energy) == [0.0, 1.0, 2.0]
    # the replay was folded into the HDF5 file, the journal restarted
    assert DatabaseReader(path, journal=False).n_minima == 3
    assert read_journal(journal_path_for(path)).batches == []
    db.close()


def test_replaying_a_batch_twice_does_not_duplicate(path):
    db = new_db(path)
    db.begin_run("t")
    db.add_minimum(1.0, np.ones(NDIM))
    db.commit()
    db.add_minimum(2.0, np.full(NDIM, 2.0))
    db.add_ts(1.5, np.zeros(NDIM), 1, 2)
    db.commit()
    crash(db)
    jpath = journal_path_for(path)
    data = jpath.read_bytes()
    contents = read_journal(jpath)
    # the same record appended twice (e.g. a writer that retried)
    last = data[-(len(data) - _offset_of_batch(data, 2)):]
    jpath.write_bytes(data + last)
    with pytest.warns(StaleLockWarning):
        db = Database.open_writer(path)
    assert (db.n_minima, db.n_ts, db.n_runs, db.committed_seq) == (2, 1, 1, 2)
    db.close()
    # directly: applying the same batches again changes nothing
    state = DatabaseReader(path)._state
    for header, arrs in contents.batches:
        assert apply_batch(state, header, arrs) is False
    assert state.tables["minima"].n == 2
    # row-level idempotence: an append overlapping existing rows adds only the new ones
    t = Table("minima", TABLE_SPECS["minima"], NDIM)
    rows = {s.name: ([""] * 3 if s.is_str else
                     np.zeros((3, NDIM)) if s.per_row else np.arange(3, dtype=s.dtype))
            for s in TABLE_SPECS["minima"]}
    assert t.apply_append(1, 3, rows) == 3
    assert t.apply_append(1, 3, rows) == 0
    assert t.apply_append(2, 3, rows) == 1 and t.n == 4
    with pytest.raises(ValueError, match="missing batch"):
        t.apply_append(9, 3, rows)


def _offset_of_batch(data: bytes, k: int) -> int:
    """Byte offset of the k-th batch record (1-based) of a journal."""
    import struct

    pos, seen = 0, -1   # the start record comes first
    while True:
        _, hl, pl, _ = struct.unpack_from("<4sIQI", data, pos)
        seen += 1
        if seen == k:
            return pos
        pos += 20 + hl + pl


def test_stale_journal_after_checkpoint_rename_is_skipped(path):
    db = new_db(path)
    db.add_minimum(1.0, np.ones(NDIM))
    db.commit()
    jpath = journal_path_for(path)
    old_journal = jpath.read_bytes()
    db.checkpoint()                       # FILE.h5 now holds batch 1
    crash(db)
    jpath.write_bytes(old_journal)        # as if killed before the journal was replaced
    with pytest.warns(StaleLockWarning):
        db = Database.open_writer(path)
    assert db.n_minima == 1
    assert read_journal(jpath).batches == []
    db.close()


def test_torn_final_record_is_ignored_and_writing_resumes(path):
    db = new_db(path)
    for k in range(3):
        db.add_minimum(float(k), np.full(NDIM, k))
        db.commit()
    crash(db)
    jpath = journal_path_for(path)
    data = jpath.read_bytes()
    jpath.write_bytes(data[:-7])          # the last batch was being written
    assert DatabaseReader(path).n_minima == 2    # readers ignore the torn tail
    with pytest.warns(JournalRecoveryWarning, match="torn final record"), \
            pytest.warns(StaleLockWarning):
        db = Database.open_writer(path)
    assert list(db.minima().energy) == [0.0, 1.0]
    assert db.add_minimum(2.0, np.full(NDIM, 2)) == (3, True)
    assert db.commit() == 3
    crash(db)
    # a damaged byte in the last record: also a torn tail, not an error
    data = bytearray(jpath.read_bytes())
    data[-3] ^= 0xFF
    jpath.write_bytes(bytes(data))
    with pytest.warns(JournalRecoveryWarning), pytest.warns(StaleLockWarning):
        db = Database.open_writer(path)
    assert db.n_minima == 2
    db.close()


def test_journal_of_another_database_is_refused(path, tmp_path):
    other = tmp_path / "other.h5"
    d2 = Database.create(other, CONFIG, {}, ndim=NDIM)
    d2.add_minimum(0.0, np.zeros(NDIM))
    d2.commit()
    crash(d2)
    new_db(path).close()
    journal_path_for(path).write_bytes(journal_path_for(other).read_bytes())
    with pytest.raises(InputError, match="belongs to another database"):
        Database.open_writer(path)
    assert not lock_path_for(path).exists()


def test_journal_records_round_trip_and_detect_damage(tmp_path):
    arrs = [np.arange(5, dtype=np.int32), np.ones((2, 3)), np.array([], dtype=np.float64),
            np.arange(4, dtype=">f8")]
    rec = encode_record({"kind": "batch", "seq": 1, "ops": [], "note": "ü"}, arrs)
    start = encode_record({"kind": "start", "file_uuid": "u", "base_seq": 0})
    p = tmp_path / "j"
    p.write_bytes(start + rec + rec)
    got = read_journal(p)
    assert got.start["file_uuid"] == "u" and len(got.batches) == 2 and got.torn_bytes == 0
    header, decoded = got.batches[0]
    assert header["note"] == "ü"
    for a, b in zip(arrs, decoded):
        assert np.array_equal(a, b) and a.shape == b.shape
    bad = bytearray(start + rec + rec)
    bad[len(start) + len(rec) + 30] ^= 1        # damage inside the second batch
    p.write_bytes(bytes(bad))
    got = read_journal(p)
    assert len(got.batches) == 1 and got.valid_end == len(start) + len(rec)
    assert got.torn_bytes == len(rec)
    with pytest.raises(TypeError):
        encode_record({}, [np.array([object()])])


# ====================================================================== reader & checkpoints
def test_reader_sees_only_committed_batches_and_refreshes(path):
    db = new_db(path)
    db.add_minimum(1.0, np.ones(NDIM))
    r = DatabaseReader(path)
    assert r.n_minima == 0                      # not committed yet
    assert r.writer["pid"] == os.getpid()
    db.commit()
    assert r.n_minima == 0
    r.refresh()
    assert r.n_minima == 1
    db.close()
    assert DatabaseReader(path).writer is None


def test_checkpoints_fold_the_journal_by_size(path):
    db = new_db(path, checkpoint_bytes=2000, checkpoint_interval=None)
    rng = np.random.default_rng(3)
    jpath = journal_path_for(path)
    checkpoints = set()
    for k in range(150):
        db.add_minimum(float(k), rng.standard_normal(NDIM))
        db.commit()
        # the journal never grows much beyond max(checkpoint_bytes, size of the HDF5 file)
        h5_size = path.stat().st_size
        assert jpath.stat().st_size <= max(2000, h5_size) + 3000
        checkpoints.add(path.stat().st_ino)          # each checkpoint is a new file
    assert len(checkpoints) >= 3
    with h5py.File(path, "r") as f:                 # the HDF5 file alone is not far behind
        assert f["minima/energy"].shape[0] == f["journal-state"].attrs["committed_seq"] > 50
    db.close()
    assert DatabaseReader(path, journal=False).n_minima == 150


def test_exception_in_block_commits_results_and_marks_run_failed(path):
    with pytest.raises(RuntimeError), new_db(path) as db:
        db.begin_run("mlgmin")
        db.add_minimum(1.0, np.ones(NDIM))
        raise RuntimeError("optimiser diverged")
    r = DatabaseReader(path, journal=False)
    assert r.n_minima == 1
    run = r.runs().row(1)
    assert run["status"] == "failed" and run["message"] == "optimiser diverged"


# ====================================================================== damaged files
@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "foreign", "newer"])
def test_damaged_or_foreign_file_gives_one_line_input_error(path, damage):
    with new_db(path) as db:
        for k in range(50):
            db.add_minimum(float(k), np.full(NDIM, k))
    data = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(b"not an hdf5 file at all" * 100)
    elif damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "foreign":
        path.unlink()
        with h5py.File(path, "w") as f:
            f["x"] = np.arange(3)
    elif damage == "newer":
        with h5py.File(path, "a") as f:
            f.attrs["format_version"] = FORMAT_VERSION + 1
    for opener in (DatabaseReader, Database.open_writer):
        with pytest.raises(InputError) as err:
            opener(path)
        msg = str(err.value)
        assert str(path) in msg and "\n" not in msg
    assert not lock_path_for(path).exists()


def test_missing_file_is_an_input_error(path):
    with pytest.raises(InputError, match="no such file"):
        DatabaseReader(path)
    with pytest.raises(InputError, match="no such file"):
        Database.open_writer(path)


# ====================================================================== atomic outputs
def test_atomic_output_appears_whole_or_not_at_all(tmp_path):
    out = tmp_path / "table.csv"
    with atomic_output(out) as fh:
        fh.write("a,b\n")
        assert not out.exists()
    assert out.read_text() == "a,b\n"
    with pytest.raises(ZeroDivisionError), atomic_output(out) as fh:
        fh.write("half")
        raise ZeroDivisionError
    assert out.read_text() == "a,b\n"
    assert stray_temp_files(out) == []
    with atomic_path(tmp_path / "fig.png") as tmp:
        assert tmp.suffix == ".png" and tmp.parent == tmp_path
        tmp.write_bytes(b"\x89PNG")
    assert (tmp_path / "fig.png").read_bytes() == b"\x89PNG"
    with atomic_output(tmp_path / "b.bin", "wb") as fh:
        fh.write(b"\x00\x01")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.bin", "fig.png", "table.csv"]


# ====================================================================== index
def test_energy_index_matches_brute_force_under_inserts_and_removals():
    rng = np.random.default_rng(4)
    energies = list(rng.uniform(-1, 1, 300))
    index = EnergyIndex(np.array(energies))
    index._limit = 7            # force many buffer merges
    alive = dict(enumerate(energies))
    for step in range(3000):
        if step % 5 == 4 and alive:
            row = int(rng.choice(list(alive)))
            index.remove(alive.pop(row), row)
        else:
            row = len(energies)
            e = float(rng.uniform(-1, 1)) if step % 3 else float(rng.choice(energies))
            energies.append(e)
            alive[row] = e
            index.insert(e, row)
        if step % 50 == 0:
            e0, tol = float(rng.uniform(-1, 1)), float(rng.uniform(0, 0.05))
            expected = sorted(r for r, e in alive.items() if abs(e - e0) <= tol)
            got = index.within(e0, tol)
            assert sorted(got) == expected
            d = [abs(alive[r] - e0) for r in got]
            assert d == sorted(d)           # nearest first
    assert len(index) == len(alive)
    assert index.lowest() == min(alive, key=alive.get)
    with pytest.raises(KeyError):
        index.remove(5.0, 10**6)


def test_warnings_are_not_printed_by_normal_use(path, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with new_db(path) as db:
            db.add_minimum(0.0, np.zeros(NDIM))
        Database.open_writer(path).close()
        DatabaseReader(path)
    assert capsys.readouterr().out == ""


def test_every_dataset_and_attribute_is_documented(path):
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "hdf5-format.md").read_text()
    with new_db(path) as db:
        db.begin_run("x")
        db.add_minimum(0.0, np.zeros(NDIM))
    names = set()
    with h5py.File(path, "r") as f:
        names |= set(f.attrs)

        def visit(name, obj):
            if not name.startswith("system/"):       # system arrays are the user's
                names.add(name.split("/")[-1])
            names.update(obj.attrs)

        f.visititems(visit)
    missing = sorted(n for n in names if f"`{n}`" not in doc and f"/{n}" not in doc)
    assert missing == []
    assert len(names) > 40


def test_ctrl_c_during_commit_is_delivered_after_the_batch_is_noted(path, monkeypatch):
    import signal

    from mlcore.database.journal import JournalAppender

    real_append = JournalAppender.append

    def append_then_interrupt(self, record):
        real_append(self, record)
        os.kill(os.getpid(), signal.SIGINT)       # Ctrl-C right after the fsync

    db = new_db(path)
    db.add_minimum(1.0, np.ones(NDIM))
    monkeypatch.setattr(JournalAppender, "append", append_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        db.commit()
    monkeypatch.setattr(JournalAppender, "append", real_append)
    assert db.committed_seq == 1 and db.n_pending == 0     # the batch was noted
    db.add_minimum(2.0, np.full(NDIM, 2.0))
    assert db.commit() == 2
    crash(db)
    r = DatabaseReader(path)
    assert list(r.minima().energy) == [1.0, 2.0] and r.committed_seq == 2


def test_time_based_checkpoint_and_a_real_system_as_identity(path):
    from mlcore.landscape import System

    class Bowl(System):
        kind = "python"
        ndim = NDIM
        energy_tol = 1e-5
        distance_tol = 0.01

        def energy_gradient(self, coords):
            return float(coords @ coords), 2 * coords

    db = Database.create(path, {"kind": "python"}, ndim=NDIM, identity=Bowl(),
                         checkpoint_interval=0.0)
    assert db.add_minimum(0.0, np.zeros(NDIM)) == (1, True)
    assert db.add_minimum(5e-6, np.full(NDIM, 0.004)) == (1, False)   # distance 0.008
    assert db.add_minimum(5e-6, np.full(NDIM, 0.006)) == (2, True)    # distance 0.012
    db.commit()                              # interval 0: every commit folds the journal
    assert DatabaseReader(path, journal=False).n_minima == 2
    crash(db)
    with pytest.raises(TypeError, match="Database.create"):
        Database(path)


def test_create_in_a_missing_directory_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="cannot create the writer lock"):
        Database.create(tmp_path / "nowhere" / "x.h5", {}, ndim=2)


def test_saved_states_round_trip_bit_for_bit_and_replace(path):
    rng = np.random.default_rng(5)
    coords = rng.standard_normal(NDIM)
    gen_state = np.random.default_rng(9).bit_generator.state
    with new_db(path) as db:
        db.save_state("mlgmin/run/1", {"step": 3, "rng": gen_state}, {"coords": coords})
        db.add_minimum(-1.0, coords, step=3, task=2)
        db.commit()
        db.save_state("mlgmin/run/1", {"step": 4, "rng": gen_state}, {"coords": coords + 1})
        db.commit()
    with Database.open_writer(path) as db:
        scalars, arrs = db.load_state("mlgmin/run/1")
        assert scalars["step"] == 4 and scalars["rng"] == gen_state
        assert np.array_equal(arrs["coords"], coords + 1)
        assert db.load_state("mlgmin/run/2") is None
        assert db.minima().found_by_task.tolist() == [2]
    reader = DatabaseReader(path)
    assert reader.load_state("mlgmin/run/1")[0]["step"] == 4
    with h5py.File(path, "r") as f:
        assert list(f["states/key"].asstr()[()]) == ["mlgmin/run/1"]
