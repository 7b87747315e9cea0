"""Read access shared by the writer (:class:`Database`) and :class:`DatabaseReader`."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np

from mlcore.database.state import DatabaseState
from mlcore.errors import InputError

__all__ = ["DatabaseView", "TableView"]


class TableView:
    """A read-only snapshot of one table.

    Columns are attributes (``view.energy``, ``view.coords``) and items (``view["energy"]``):
    numeric columns as read-only numpy arrays of ``n`` rows, text columns as numpy string
    arrays.  ``view.ids`` holds the 1-based ids (``1 .. n``).

    Examples
    --------
    >>> m = reader.minima()                         # doctest: +SKIP
    >>> m.ids[np.argmin(m.energy)]                  # id of the global minimum
    """

    def __init__(self, name: str, columns: dict[str, Any], n: int):
        self._name = name
        self._columns = columns
        self._n = n

    @property
    def ids(self) -> np.ndarray:
        return np.arange(1, self._n + 1, dtype=np.int64)

    @property
    def columns(self) -> list[str]:
        return list(self._columns)

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, name: str):
        return self._columns[name]

    def __getattr__(self, name: str):
        try:
            return self.__dict__["_columns"][name]
        except KeyError:
            raise AttributeError(f"table {self.__dict__.get('_name')!r} has no column "
                                 f"{name!r}") from None

    def row(self, row_id: int) -> dict[str, Any]:
        """All fields of the entry with 1-based ``row_id``."""
        if not 1 <= row_id <= self._n:
            raise InputError(f"{self._name}: id {row_id} does not exist (ids are 1..{self._n})")
        out = {"id": int(row_id)}
        for k, col in self._columns.items():
            v = col[row_id - 1]
            out[k] = v.item() if isinstance(v, np.generic) else v
        return out

    def __repr__(self) -> str:
        return f"TableView({self._name!r}, n={self._n}, columns={self.columns})"


class DatabaseView:
    """Read methods over a :class:`DatabaseState` (the committed state plus, for the
    writer, what was added since the last commit)."""

    path: Path
    _state: DatabaseState

    # ------------------------------------------------------------------ metadata
    @property
    def ndim(self) -> int:
        """Number of coordinates of the landscape."""
        return self._state.ndim

    @property
    def file_uuid(self) -> str:
        return self._state.file_uuid

    @property
    def format_version(self) -> int:
        return self._state.format_version

    @property
    def committed_seq(self) -> int:
        """Sequence number of the last committed batch."""
        return self._state.committed_seq

    def system_config(self) -> dict:
        """A copy of the ``[system]`` table stored with the file."""
        return copy.deepcopy(self._state.config)

    def system_arrays(self) -> dict[str, np.ndarray]:
        """Copies of the system's data arrays (bit-identical to what was stored)."""
        return {k: np.array(v, copy=True) for k, v in self._state.arrays.items()}

    # ------------------------------------------------------------------ counts
    @property
    def n_minima(self) -> int:
        return self._state.tables["minima"].n

    @property
    def n_ts(self) -> int:
        return self._state.tables["ts"].n

    @property
    def n_pairs_tried(self) -> int:
        return self._state.tables["pairs_tried"].n

    @property
    def n_runs(self) -> int:
        return self._state.tables["runs"].n

    # ------------------------------------------------------------------ tables
    def _view(self, name: str) -> TableView:
        table = self._state.tables[name]
        cols = {}
        for spec in table.specs:
            col = table.column(spec.name)
            if spec.is_str:
                arr = np.array(col, dtype=str) if col else np.zeros(0, dtype="<U1")
            else:
                arr = np.array(col, copy=True)
            arr.flags.writeable = False
            cols[spec.name] = arr
        return TableView(name, cols, table.n)

    def minima(self) -> TableView:
        """The minima: energy, coords (n, ndim), log_product, n_zero, n_negative,
        symmetry_order, found_by_program, found_by_run, found_by_step, found_at."""
        return self._view("minima")

    def ts(self) -> TableView:
        """The transition states: energy, coords, min1, min2 (1-based), neg_eigenvalue,
        log_product, n_zero, n_negative, symmetry_order, found_by_*, found_at."""
        return self._view("ts")

    def pairs_tried(self) -> TableView:
        """Pairs tried by connect jobs: min1, min2, outcome, outcome_text, time, run."""
        return self._view("pairs_tried")

    def runs(self) -> TableView:
        """Provenance of every run: program, version, command_line (JSON), input_text,
        seed, host, pid, start_time, end_time, status, message."""
        return self._view("runs")

    def minimum(self, min_id: int) -> dict[str, Any]:
        """All fields of minimum ``min_id`` (1-based); InputError if there is none."""
        return self._row("minima", min_id, "minimum")

    def transition_state(self, ts_id: int) -> dict[str, Any]:
        """All fields of transition state ``ts_id`` (1-based)."""
        return self._row("ts", ts_id, "transition state")

    def _row(self, name: str, row_id: int, what: str) -> dict[str, Any]:
        table = self._state.tables[name]
        row_id = int(row_id)
        if not 1 <= row_id <= table.n:
            raise InputError(f"{self.path}: {what} {row_id} does not exist "
                             f"(ids are 1..{table.n})")
        out = {"id": row_id}
        for spec in table.specs:
            v = table.value(row_id - 1, spec.name)
            out[spec.name] = np.array(v) if spec.per_row else (
                v.item() if isinstance(v, np.generic) else v)
        return out

    def load_state(self, key: str) -> tuple[dict, dict[str, np.ndarray]] | None:
        """A saved state ``(scalars, arrays)`` (see ``Database.save_state``), or None."""
        from mlcore.database.savedstate import decode_state

        states = self._state.tables["states"]
        keys = states.column("key")
        for row in range(states.n - 1, -1, -1):   # a handful of states: one per task
            if keys[row] == key:
                return decode_state(states.value(row, "value"))
        return None

    def global_minimum(self) -> tuple[int, float] | None:
        """``(id, energy)`` of the lowest minimum, or ``None`` if there are none."""
        e = self._state.tables["minima"].column("energy")
        if len(e) == 0:
            return None
        i = int(np.argmin(e))
        return i + 1, float(e[i])
