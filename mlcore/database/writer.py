"""The one writer of a stationary-point file.

Crash safety (details and the argument in ``docs/hdf5-format.md``):

* ``FILE.h5`` is never modified in place.  A *checkpoint* writes the complete state to a
  temporary file beside it, fsyncs it and renames it over ``FILE.h5``; the rename is atomic,
  so ``FILE.h5`` is always a complete file, old or new.
* Between checkpoints, every :meth:`Database.commit` appends one batch record to
  ``FILE.h5.journal`` and fsyncs it before returning.  A batch is committed exactly when its
  record is durable.
* The HDF5 file records the sequence number of the last batch it contains
  (``/journal-state`` attribute ``committed_seq``), written in the same atomic rename as the
  data.  After the rename the journal is replaced (again atomically) by an empty one.
* Opening replays the journal's batches past ``committed_seq``; replay is idempotent (a batch
  already contained is skipped, rows that exist are not appended again) and a torn last
  record is cut off.  Stray temporary files of a killed checkpoint are removed.
"""
from __future__ import annotations

import json
import math
import os
import socket
import time
import uuid
import warnings
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self

import numpy as np

from mlcore._version import __version__
from mlcore.database.atomic import atomic_output, atomic_path, stray_temp_files
from mlcore.database.h5layout import check_array_name, read_snapshot, write_snapshot
from mlcore.database.index import EnergyIndex, make_identity
from mlcore.database.journal import JournalAppender, encode_record, journal_path_for, read_journal
from mlcore.database.lock import WriterLock
from mlcore.database.savedstate import encode_state
from mlcore.database.signals import signals_deferred
from mlcore.database.state import DatabaseState, apply_batch, encode_columns, encode_values
from mlcore.database.view import DatabaseView
from mlcore.errors import InputError

__all__ = ["Database", "JournalRecoveryWarning"]

NAN = float("nan")
_UPDATABLE = {
    "states": ("value",),
    "minima": ("energy", "coords", "log_product", "n_zero", "n_negative", "symmetry_order",
               "lowest_nonzero", "n_extra_zero"),
    "ts": ("energy", "coords", "neg_eigenvalue", "log_product", "n_zero", "n_negative",
           "symmetry_order"),
}
#: Order in which a batch appends tables (runs first: rows refer to them).
_APPEND_ORDER = ("runs", "minima", "ts", "pairs_tried", "states")


class JournalRecoveryWarning(UserWarning):
    """The journal ended in a torn record (a writer was killed while appending it)."""


def _now() -> float:
    return time.time()


def _pair_key(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a <= b else (b, a)


def _to_json_safe(obj):
    """Config values as JSON: TOML dates become ISO text, tuples lists."""
    if isinstance(obj, Mapping):
        return {str(k): _to_json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_to_json_safe(v) for v in obj]
    if isinstance(obj, (str, bool, int, float)) or obj is None:
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    raise InputError(f"system config value {obj!r} cannot be stored (not a TOML/JSON type)")


class Database(DatabaseView):
    """The single writer of a stationary-point file (create with :meth:`create`, open with
    :meth:`open_writer`; do not call the constructor).

    Use it as a context manager: leaving the block commits, folds the journal into the HDF5
    file (a checkpoint) and releases the lock.  All ids are 1-based.

    Parameters (of :meth:`create` and :meth:`open_writer`)
    -----------------------------------------------------
    identity : System-like, callable or None
        How to tell whether a new minimum (or transition state) is one already stored; see
        :func:`mlcore.database.index.make_identity`.
    energy_tol : float, optional
        Energy window of candidates for the identity test (needed with a callable).
    program : str
        Name recorded in the lock file (who holds the file).
    checkpoint_bytes : int
        Fold the journal into the HDF5 file when the journal holds at least
        ``max(checkpoint_bytes, size of the HDF5 file)`` bytes (keeps total write work linear).
    checkpoint_interval : float or None
        Also fold it when this many seconds have passed since the last checkpoint (so that
        plain h5py readers of a long run see recent results); ``None``: never by time.
    """

    def __init__(self, *_a, **_k):
        raise TypeError("use Database.create(...) or Database.open_writer(...)")

    # ================================================================== opening
    @classmethod
    def _new(cls, path, lock, state, identity, energy_tol, checkpoint_bytes,
             checkpoint_interval) -> Database:
        self = object.__new__(cls)
        self.path = Path(path)
        self.journal_path = journal_path_for(self.path)
        self._lock = lock
        self._state = state
        self._journal: JournalAppender | None = None
        self.checkpoint_bytes = int(checkpoint_bytes)
        self.checkpoint_interval = checkpoint_interval
        self._last_checkpoint = _now()
        self._h5_size = self.path.stat().st_size if self.path.exists() else 0
        self._journal_bytes = 0   # batch bytes appended since the last checkpoint
        self._closed = False
        self.current_run = 0
        self.set_identity(identity, energy_tol)
        self._pending_start = {name: t.n for name, t in state.tables.items()}
        self._pending_updates: dict[tuple[str, int], dict[str, Any]] = {}
        self._build_indices()
        return self

    @classmethod
    def create(cls, path: str | os.PathLike, config: dict,
               arrays: Mapping[str, np.ndarray] | None = None, *, ndim: int,
               identity=None, energy_tol: float | None = None, overwrite: bool = False,
               program: str = "", checkpoint_bytes: int = 8 << 20,
               checkpoint_interval: float | None = 300.0) -> Database:
        """Create a new file and return its writer (holding the lock).

        Parameters
        ----------
        path : path-like
            The ``.h5`` file to create.
        config : dict
            The ``[system]`` table that rebuilds the landscape (stored as JSON text).
        arrays : dict of str to ndarray, optional
            The system's data arrays, stored bit for bit as datasets of ``/system``.
        ndim : int
            Number of coordinates of the landscape.
        overwrite : bool
            Replace an existing file (and its journal); otherwise that is an InputError.
        identity, energy_tol, program, checkpoint_bytes, checkpoint_interval
            See the class documentation.
        """
        path = Path(path)
        ndim = int(ndim)
        if ndim < 1:
            raise InputError(f"{path}: ndim must be at least 1, got {ndim}")
        config = _to_json_safe(dict(config))
        stored_arrays = {}
        for name, arr in (arrays or {}).items():
            arr = np.asarray(arr)
            if arr.dtype.hasobject or arr.dtype.kind == "U":
                raise InputError(f"system array {name!r}: dtype {arr.dtype} cannot be stored; "
                                 f"use numbers or bytes")
            stored_arrays[check_array_name(name)] = np.array(arr, copy=True)
        lock = WriterLock(path, program)
        lock.acquire()
        try:
            if path.exists() and not overwrite:
                raise InputError(f"{path}: file exists (open it to add to it, or overwrite)")
            journal = journal_path_for(path)
            for stray in stray_temp_files(path) + stray_temp_files(journal):
                stray.unlink(missing_ok=True)
            if journal.exists():
                if not path.exists():
                    warnings.warn(f"{journal}: removing a journal without its data file",
                                  JournalRecoveryWarning, stacklevel=2)
                journal.unlink()
            state = DatabaseState(ndim=ndim, file_uuid=uuid.uuid4().hex, config=config,
                                  arrays=stored_arrays,
                                  created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
            with atomic_path(path) as tmp:
                write_snapshot(tmp, state, __version__, journal.name)
            self = cls._new(path, lock, state, identity, energy_tol, checkpoint_bytes,
                            checkpoint_interval)
            self._start_journal()
            return self
        except BaseException:
            lock.release()
            raise

    @classmethod
    def open_writer(cls, path: str | os.PathLike, *, identity=None,
                    energy_tol: float | None = None, program: str = "",
                    checkpoint_bytes: int = 8 << 20,
                    checkpoint_interval: float | None = 300.0) -> Database:
        """Open an existing file for writing: take the lock, load, replay the journal.

        Raises
        ------
        InputError
            Another writer holds the file (the message names its host and pid), the file
            is missing or damaged, or the journal belongs to another file.
        """
        path = Path(path)
        if not path.exists():
            raise InputError(f"{path}: no such file")
        lock = WriterLock(path, program)
        lock.acquire()
        try:
            journal = journal_path_for(path)
            for stray in stray_temp_files(path) + stray_temp_files(journal):
                stray.unlink(missing_ok=True)
            state = read_snapshot(path)
            contents = read_journal(journal)
            replayed = cls._replay(path, state, contents)
            self = cls._new(path, lock, state, identity, energy_tol, checkpoint_bytes,
                            checkpoint_interval)
            if replayed:
                # fold the replayed batches into the HDF5 file; starts a clean journal
                self._write_checkpoint()
            elif contents.start is None or contents.batches:
                # no journal, or only batches the HDF5 file already holds (a kill between
                # a checkpoint's rename and the journal's replacement)
                self._start_journal()
            else:
                self._journal = JournalAppender(journal, contents.valid_end)
            return self
        except BaseException:
            lock.release()
            raise

    @staticmethod
    def _replay(path: Path, state: DatabaseState, contents) -> int:
        journal = journal_path_for(path)
        if contents.torn_bytes:
            warnings.warn(f"{journal}: ignoring a torn final record ({contents.torn_bytes} "
                          f"bytes) left by a killed writer; its batch was never committed",
                          JournalRecoveryWarning, stacklevel=3)
        if contents.start is None:
            return 0
        if contents.start.get("file_uuid") != state.file_uuid:
            raise InputError(f"{journal} belongs to another database than {path} "
                             f"(file_uuid differs); move it away to open the file")
        if int(contents.start.get("base_seq", 0)) > state.committed_seq:
            raise InputError(f"{journal} continues from batch {contents.start['base_seq']} but "
                             f"{path} holds only {state.committed_seq} batches")
        applied = 0
        for header, arrays in contents.batches:
            try:
                applied += apply_batch(state, header, arrays)
            except (ValueError, KeyError, IndexError) as exc:
                raise InputError(f"{journal}: cannot replay batch {header.get('seq')}: "
                                 f"{exc}") from None
        return applied

    def set_identity(self, identity=None, energy_tol: float | None = None) -> None:
        """Change the identity test used by :meth:`add_minimum` and :meth:`add_ts`."""
        self.energy_tol, self._same = make_identity(identity, energy_tol)
        canonical = getattr(identity, "canonical", None)
        self._canonical = canonical if (callable(canonical)
                                        and hasattr(identity, "distance")) else None

    def _build_indices(self) -> None:
        minima = self._state.tables["minima"]
        self._min_index = EnergyIndex(minima.column("energy"))
        ts = self._state.tables["ts"]
        self._ts_by_pair: dict[tuple[int, int], list[int]] = defaultdict(list)
        for row, (a, b) in enumerate(zip(ts.column("min1").tolist(), ts.column("min2").tolist())):
            self._ts_by_pair[_pair_key(a, b)].append(row)
        self._state_rows = {k: r for r, k in enumerate(self._state.tables["states"].column("key"))}
        pairs = self._state.tables["pairs_tried"]
        self._tried: dict[tuple[int, int], int] = defaultdict(int)
        for a, b in zip(pairs.column("min1").tolist(), pairs.column("min2").tolist()):
            self._tried[_pair_key(a, b)] += 1

    # ================================================================== journal
    def _start_journal(self) -> None:
        """Atomically replace the journal by one holding only its start record."""
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        start = encode_record({"kind": "start", "file_uuid": self._state.file_uuid,
                               "base_seq": self._state.committed_seq, "format": 1})
        with atomic_output(self.journal_path, "wb") as fh:
            fh.write(start)
        self._journal = JournalAppender(self.journal_path, len(start))
        self._journal_bytes = 0

    def commit(self) -> int:
        """Make everything added since the last commit durable; returns the batch number.

        The batch is appended to the journal and fsync'ed before this returns; a kill at
        any later moment keeps it.  Nothing pending: returns the current number.
        """
        self._check_open()
        seq = self._commit_batch()
        if self._should_checkpoint():
            self._write_checkpoint()
        return seq

    def _commit_batch(self) -> int:
        state = self._state
        ops, arrays = [], []
        for name in _APPEND_ORDER:
            table = state.tables[name]
            start, stop = self._pending_start[name], table.n
            if stop > start:
                ops.append({"op": "append", "table": name, "first_id": start + 1,
                            "count": stop - start,
                            "columns": encode_columns(table, start, stop, arrays)})
        for (name, row), values in self._pending_updates.items():
            ops.append({"op": "update", "table": name, "id": row + 1,
                        "values": encode_values(state.tables[name], values, arrays)})
        if not ops:
            return state.committed_seq
        seq = state.committed_seq + 1
        record = encode_record({"kind": "batch", "seq": seq, "time": _now(), "ops": ops},
                               arrays)
        with signals_deferred():                  # a Ctrl-C waits until we have noted it
            self._journal.append(record)          # durable from here on
            state.committed_seq = seq
            self._pending_start = {name: t.n for name, t in state.tables.items()}
            self._pending_updates = {}
            self._journal_bytes += len(record)
        return seq

    def _should_checkpoint(self) -> bool:
        if self._journal_bytes == 0:
            return False
        if self._journal_bytes >= max(self.checkpoint_bytes, self._h5_size):
            return True
        interval = self.checkpoint_interval
        return interval is not None and _now() - self._last_checkpoint >= interval

    def checkpoint(self) -> None:
        """Commit, then fold all committed batches into the HDF5 file (atomic rename)."""
        self._check_open()
        self._commit_batch()
        self._write_checkpoint()

    def _write_checkpoint(self) -> None:
        with signals_deferred():
            with atomic_path(self.path) as tmp:
                write_snapshot(tmp, self._state, __version__, self.journal_path.name)
            # FILE.h5 now holds every batch up to committed_seq; the old journal's records
            # are all <= committed_seq and would be skipped, so replacing it loses nothing.
            self._h5_size = self.path.stat().st_size
            self._last_checkpoint = _now()
            self._start_journal()

    # ================================================================== runs
    def begin_run(self, program: str, argv: list[str] | None = None, input_text: str = "",
                  seed: int | None = None, version: str | None = None) -> int:
        """Record the start of a run (provenance); returns its 1-based run id.

        Entries added afterwards without an explicit ``run`` are attributed to it.
        """
        self._check_open()
        row = self._state.tables["runs"].append_row((
            str(program), version or __version__, json.dumps([str(a) for a in (argv or [])]),
            input_text or "", "" if seed is None else str(int(seed)), socket.gethostname(),
            os.getpid(), _now(), NAN, "running", ""))
        self.current_run = row + 1
        return row + 1

    def end_run(self, run_id: int | None = None, status: str = "finished",
                message: str = "") -> None:
        """Record the end of a run (time, status ``finished``/``failed``/``interrupted``)."""
        self._check_open()
        run_id = self.current_run if run_id is None else int(run_id)
        if run_id == 0:
            return
        self._update("runs", run_id, {"end_time": _now(), "status": status,
                                      "message": str(message)})
        if run_id == self.current_run:
            self.current_run = 0

    # ================================================================== adding
    def _found_by(self, run: int | None) -> tuple[str, int]:
        run = self.current_run if run is None else int(run)
        runs = self._state.tables["runs"]
        program = runs.value(run - 1, "program") if 1 <= run <= runs.n else ""
        return program, run

    def _stored_coords(self, coords) -> np.ndarray:
        """``coords`` checked and, when the identity is a landscape with a canonical form,
        made canonical (the representative stored and compared)."""
        c = self._coords(coords)
        return c if self._canonical is None else self._coords(self._canonical(c))

    def _coords(self, coords) -> np.ndarray:
        c = np.asarray(coords, dtype=np.float64)
        if c.ndim != 1:
            c = c.reshape(-1)
        if c.shape[0] != self._state.ndim:
            raise InputError(f"{self.path}: coords have length {c.shape[0]}, "
                             f"the landscape has ndim = {self._state.ndim}")
        return c

    def find_minimum(self, energy: float, coords) -> int | None:
        """Id of the stored minimum identical to ``(energy, coords)``, or ``None``."""
        e = float(energy)
        c = self._stored_coords(coords)
        minima = self._state.tables["minima"]
        energies, stored = minima._data["energy"], minima._data["coords"]
        for row in self._min_index.within(e, self.energy_tol):
            if self._same(e, c, float(energies[row]), stored[row]):
                return row + 1
        return None

    def add_minimum(self, energy: float, coords, *, log_product: float = NAN,
                    n_zero: int = -1, n_negative: int = -1, symmetry_order: int = 1,
                    step: int = -1, run: int | None = None, task: int = 0,
                    lowest_nonzero: float = NAN, n_extra_zero: int = -1) -> tuple[int, bool]:
        """Add a minimum unless an identical one is stored.

        Parameters
        ----------
        energy : float
        coords : array_like, shape (ndim,)
        log_product : float
            ln of the product of the non-zero Hessian eigenvalues (NaN: unknown).
        n_zero, n_negative : int
            Zero and negative eigenvalues found (-1: unknown).
        symmetry_order : int
            Order of the symmetry group (1 if none).
        step : int
            Step of the run that found it (-1: unknown).
        run : int, optional
            1-based run id; default the current run (:meth:`begin_run`).
        task : int
            1-based parallel task of the run that found it (basin-hopping run); 0 unknown.
        lowest_nonzero : float
            Lowest non-zero Hessian eigenvalue (NaN: unknown).
        n_extra_zero : int
            Zero eigenvalues beyond the symmetries (0 isolated, > 0 degenerate, -1 unknown).

        Returns
        -------
        (int, bool)
            The 1-based id and whether it is new.  Only stored minima within
            ``energy_tol`` are compared (bisection in an energy-ordered index).  The
            coordinates stored are the identity's canonical representative
            (``identity.canonical``, when the identity is a landscape that has one).
        """
        if self._closed:
            self._check_open()
        e = float(energy)
        if not math.isfinite(e):
            raise InputError(f"{self.path}: minimum energy must be finite, got {energy!r}")
        c = self._stored_coords(coords)
        minima = self._state.tables["minima"]
        energies, stored = minima._data["energy"], minima._data["coords"]
        same = self._same
        for row in self._min_index.within(e, self.energy_tol):
            if same(e, c, float(energies[row]), stored[row]):
                return row + 1, False
        program, run = self._found_by(run)
        row = minima.append_row((e, c, log_product, n_zero, n_negative, symmetry_order,
                                 program, run, step, _now(), int(task), float(lowest_nonzero),
                                 int(n_extra_zero)))
        self._min_index.insert(e, row)
        return row + 1, True

    def add_ts(self, energy: float, coords, min1: int, min2: int, *,
               neg_eigenvalue: float = NAN, log_product: float = NAN, n_zero: int = -1,
               n_negative: int = -1, symmetry_order: int = 1, step: int = -1,
               run: int | None = None, task: int = 0) -> tuple[int, bool]:
        """Add a transition state between minima ``min1`` and ``min2`` (1-based ids)
        unless an identical one is stored.

        A stored TS is the same when it connects the same two minima (in either order),
        and the identity test (energy within ``energy_tol``, distance) accepts it.

        Returns
        -------
        (int, bool)
            The 1-based TS id and whether it is new.
        """
        if self._closed:
            self._check_open()
        e = float(energy)
        if not math.isfinite(e):
            raise InputError(f"{self.path}: transition-state energy must be finite, "
                             f"got {energy!r}")
        n_min = self._state.tables["minima"].n
        a, b = int(min1), int(min2)
        for m in (a, b):
            if not 1 <= m <= n_min:
                raise InputError(f"{self.path}: minimum {m} does not exist (ids are 1..{n_min})")
        c = self._coords(coords)
        ts = self._state.tables["ts"]
        energies, stored = ts._data["energy"], ts._data["coords"]
        key = _pair_key(a, b)
        tol = self.energy_tol
        for row in self._ts_by_pair.get(key, ()):
            e_row = float(energies[row])
            if abs(e_row - e) <= tol and self._same(e, c, e_row, stored[row]):
                return row + 1, False
        program, run = self._found_by(run)
        row = ts.append_row((e, c, a, b, neg_eigenvalue, log_product, n_zero, n_negative,
                             symmetry_order, program, run, step, _now(), int(task)))
        self._ts_by_pair[key].append(row)
        return row + 1, True

    def add_tried_pair(self, min1: int, min2: int, outcome: int, text: str = "", *,
                       run: int | None = None, when: float | None = None) -> int:
        """Record a connect attempt between two minima (1-based ids); returns its row id.

        ``outcome``: 0 connected, 1 not connected, 2 error, 3 skipped
        (:data:`mlcore.database.OUTCOME_CODES`); ``text`` may say more; ``when`` is the
        Unix time of the attempt (default now).
        """
        self._check_open()
        n_min = self._state.tables["minima"].n
        a, b = int(min1), int(min2)
        for m in (a, b):
            if not 1 <= m <= n_min:
                raise InputError(f"{self.path}: minimum {m} does not exist (ids are 1..{n_min})")
        run = self.current_run if run is None else int(run)
        row = self._state.tables["pairs_tried"].append_row(
            (a, b, int(outcome), str(text), _now() if when is None else float(when), run))
        self._tried[_pair_key(a, b)] += 1
        return row + 1

    def tried(self, min1: int, min2: int) -> int:
        """How many times the pair was tried (either order)."""
        return self._tried.get(_pair_key(int(min1), int(min2)), 0)

    def ts_between(self, min1: int, min2: int) -> list[int]:
        """1-based ids of the transition states joining the two minima (either order)."""
        return [r + 1 for r in self._ts_by_pair.get(_pair_key(int(min1), int(min2)), ())]

    # ================================================================== saved states
    def save_state(self, key: str, scalars: dict, arrays: Mapping[str, np.ndarray] | None = None
                   ) -> None:
        """Save (or replace) a named state: JSON-safe ``scalars`` and numpy ``arrays``.

        Programs keep what they need to resume here (e.g. ``mlgmin/run/3``: a basin-hopping
        run's coordinates, step size and random-generator state); it is committed with the
        next :meth:`commit`, atomically with the results it belongs to.
        """
        self._check_open()
        text = encode_state(scalars, arrays or {})
        states = self._state.tables["states"]
        row = self._state_rows.get(key)
        if row is None:
            self._state_rows[key] = states.append_row((str(key), text))
        else:
            self._update("states", row + 1, {"value": text})

    # ================================================================== updates
    def update_minimum(self, min_id: int, **fields) -> None:
        """Change stored fields of a minimum: ``energy``, ``coords`` (e.g. after a tight
        re-convergence), ``log_product``, ``n_zero``, ``n_negative``, ``symmetry_order``."""
        values = self._checked_fields("minima", fields)
        minima = self._state.tables["minima"]
        row = int(min_id) - 1
        old_energy = float(minima.value(row, "energy")) if 0 <= row < minima.n else None
        self._update("minima", min_id, values)
        if "energy" in values and values["energy"] != old_energy:
            self._min_index.remove(old_energy, row)
            self._min_index.insert(values["energy"], row)

    def update_ts(self, ts_id: int, **fields) -> None:
        """Change stored fields of a transition state (not min1/min2)."""
        self._update("ts", ts_id, self._checked_fields("ts", fields))

    def _checked_fields(self, name: str, fields: dict) -> dict:
        bad = [k for k in fields if k not in _UPDATABLE[name]]
        if bad:
            raise InputError(f"cannot update {bad} of {name}; allowed: {_UPDATABLE[name]}")
        out = dict(fields)
        if "coords" in out:
            out["coords"] = self._coords(out["coords"]).copy()
        if "energy" in out:
            out["energy"] = float(out["energy"])
            if not math.isfinite(out["energy"]):
                raise InputError(f"{self.path}: energy must be finite")
        return out

    def _update(self, name: str, row_id: int, values: dict) -> None:
        self._check_open()
        table = self._state.tables[name]
        row = int(row_id) - 1
        if not 0 <= row < table.n:
            raise InputError(f"{self.path}: {name} id {row_id} does not exist "
                             f"(ids are 1..{table.n})")
        for k, v in values.items():
            table.set_value(row, k, v)
        if row < self._pending_start[name]:   # committed row: journal the change
            self._pending_updates.setdefault((name, row), {}).update(values)

    # ================================================================== closing
    @property
    def n_pending(self) -> int:
        """Rows added or changed since the last commit."""
        return (sum(t.n - self._pending_start[k] for k, t in self._state.tables.items())
                + len(self._pending_updates))

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"{self.path}: the writer is closed")

    def close(self, status: str = "finished", message: str = "") -> None:
        """Commit, end an open run with ``status``, fold the journal into the HDF5 file and
        release the lock.  Safe to call twice."""
        if self._closed:
            return
        try:
            if self.current_run:
                self.end_run(status=status, message=message)
            self._commit_batch()
            if self._journal_bytes:
                self._write_checkpoint()
        finally:
            self._closed = True
            if self._journal is not None:
                self._journal.close()
                self._journal = None
            self._lock.release()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            status = "interrupted" if issubclass(exc_type, KeyboardInterrupt) else "failed"
            self.close(status=status, message=" ".join(str(exc).split())[:500])

    def __getstate__(self):
        raise TypeError("the database writer cannot be sent to another process: "
                        "workers compute and return results, only the driving process writes")

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return (f"<Database {self.path} ({state}): {self.n_minima} minima, {self.n_ts} "
                f"transition states, batch {self.committed_seq}>")
