"""In-memory tables of the stationary-point file and the batch operations on them.

Each table is a set of equal-length columns (numpy arrays with spare capacity, or lists of
``str``).  Row ``r`` (0-based, internal) is the entry with id ``r + 1`` (1-based, as users
see it).  The column definitions here are the single source of the file layout: the HDF5
writer and reader and the journal all iterate over them.

Batches change tables by two idempotent operations:

``append``
    rows ``first_id .. first_id + count - 1``; rows that already exist are skipped (so a
    batch applied twice does not duplicate anything), a gap is an error.
``update``
    set some fields of one existing row (setting a value twice is harmless).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "OUTCOME_CODES",
    "TABLE_NAMES",
    "TABLE_SPECS",
    "ColumnSpec",
    "Table",
    "make_tables",
]

NAN = float("nan")


@dataclass(frozen=True)
class ColumnSpec:
    """One column.

    Attributes
    ----------
    name : str
        Dataset name inside the table's HDF5 group.
    dtype : str
        ``"f8"``, ``"i4"``, ``"i8"`` or ``"str"`` (variable-length UTF-8).
    per_row : str or None
        ``"ndim"`` for a coordinate vector per row (shape ``(n, ndim)``), else ``None``.
    default : Any
        Value meaning "unknown / not given".
    doc : str
        Meaning and units, copied into the HDF5 attribute ``doc`` of the dataset.
    """

    name: str
    dtype: str
    per_row: str | None = None
    default: Any = None
    doc: str = ""

    @property
    def is_str(self) -> bool:
        return self.dtype == "str"


_FOUND = [
    ColumnSpec("found_by_program", "str", None, "", "program that found it (mlgmin, mloptim, ...)"),
    ColumnSpec("found_by_run", "i4", None, 0, "1-based row of /runs that found it; 0 unknown"),
    ColumnSpec("found_by_step", "i8", None, -1,
               "step of that run (basin-hopping step, connect cycle, ...); -1 unknown"),
    ColumnSpec("found_at", "f8", None, NAN, "when it was added, Unix time in seconds (UTC)"),
    ColumnSpec("found_by_task", "i4", None, 0,
               "1-based parallel task of that run (basin-hopping run, connect job); 0 unknown"),
]

MINIMA_COLUMNS = [
    ColumnSpec("energy", "f8", None, NAN, "energy (the cost function in its own units)"),
    ColumnSpec("coords", "f8", "ndim", None, "coordinates, one row per minimum"),
    ColumnSpec("log_product", "f8", None, NAN,
               "natural log of the product of the non-zero Hessian eigenvalues; NaN unknown"),
    ColumnSpec("n_zero", "i4", None, -1, "number of zero Hessian eigenvalues found; -1 unknown"),
    ColumnSpec("n_negative", "i4", None, -1,
               "number of negative Hessian eigenvalues found (0 at a true minimum); -1 unknown"),
    ColumnSpec("symmetry_order", "i4", None, 1, "order of the point/symmetry group; 1 if none"),
    *_FOUND,
    ColumnSpec("lowest_nonzero", "f8", None, NAN,
               "lowest non-zero Hessian eigenvalue (the smallest curvature); NaN unknown"),
    ColumnSpec("n_extra_zero", "i4", None, -1,
               "zero Hessian eigenvalues beyond the landscape's symmetries: 0 an isolated "
               "minimum, > 0 a degenerate one (one entry per valley); -1 unknown"),
]

#: Columns added after format version 1 was first written: a file without them reads with
#: every row at the column's default.
OPTIONAL_COLUMNS = {("minima", "lowest_nonzero"), ("minima", "n_extra_zero")}

TS_COLUMNS = [
    ColumnSpec("energy", "f8", None, NAN, "energy"),
    ColumnSpec("coords", "f8", "ndim", None, "coordinates, one row per transition state"),
    ColumnSpec("min1", "i8", None, 0, "1-based id of the first minimum it connects"),
    ColumnSpec("min2", "i8", None, 0, "1-based id of the second minimum it connects"),
    ColumnSpec("neg_eigenvalue", "f8", None, NAN, "the negative Hessian eigenvalue; NaN unknown"),
    ColumnSpec("log_product", "f8", None, NAN,
               "natural log of the product of the other non-zero (positive) eigenvalues; NaN unknown"),
    ColumnSpec("n_zero", "i4", None, -1, "number of zero Hessian eigenvalues found; -1 unknown"),
    ColumnSpec("n_negative", "i4", None, -1,
               "number of negative Hessian eigenvalues found (1 for a true TS); -1 unknown"),
    ColumnSpec("symmetry_order", "i4", None, 1, "order of the point/symmetry group; 1 if none"),
    *_FOUND,
]

#: Outcome codes of /pairs_tried/outcome (the text column may say more).
OUTCOME_CODES = {0: "connected", 1: "not connected", 2: "error", 3: "skipped"}

PAIRS_COLUMNS = [
    ColumnSpec("min1", "i8", None, 0, "1-based id of the first minimum of the pair"),
    ColumnSpec("min2", "i8", None, 0, "1-based id of the second minimum of the pair"),
    ColumnSpec("outcome", "i4", None, 1,
               "0 connected, 1 not connected, 2 error, 3 skipped (see attribute outcome_codes)"),
    ColumnSpec("outcome_text", "str", None, "", "free text about the outcome"),
    ColumnSpec("time", "f8", None, NAN, "when the attempt ended, Unix time in seconds"),
    ColumnSpec("run", "i4", None, 0, "1-based row of /runs that tried it; 0 unknown"),
]

RUNS_COLUMNS = [
    ColumnSpec("program", "str", None, "", "program name"),
    ColumnSpec("version", "str", None, "", "mllandscape version that ran"),
    ColumnSpec("command_line", "str", None, "[]", "argv as a JSON list of strings"),
    ColumnSpec("input_text", "str", None, "", "full text of the input file, '' if none"),
    ColumnSpec("seed", "str", None, "", "random seed as decimal text ('' if none)"),
    ColumnSpec("host", "str", None, "", "host name"),
    ColumnSpec("pid", "i8", None, -1, "process id"),
    ColumnSpec("start_time", "f8", None, NAN, "start, Unix time in seconds"),
    ColumnSpec("end_time", "f8", None, NAN, "end, Unix time in seconds; NaN while running or if killed"),
    ColumnSpec("status", "str", None, "running",
               "running (or killed, if end_time is NaN and no writer holds the file), "
               "finished, failed, interrupted"),
    ColumnSpec("message", "str", None, "", "closing message ('' if none)"),
]

STATES_COLUMNS = [
    ColumnSpec("key", "str", None, "", "name of the saved state, e.g. mlgmin/run/3"),
    ColumnSpec("value", "str", None, "{}",
               "JSON: {'scalars': {...}, 'arrays': {name: {'dtype', 'shape', 'base64'}}}; "
               "arrays as raw little-endian bytes, so they come back bit for bit"),
]

TABLE_SPECS = {
    "minima": MINIMA_COLUMNS,
    "ts": TS_COLUMNS,
    "pairs_tried": PAIRS_COLUMNS,
    "runs": RUNS_COLUMNS,
    "states": STATES_COLUMNS,
}
TABLE_NAMES = tuple(TABLE_SPECS)


class Table:
    """Equal-length columns with amortised O(1) append.

    Parameters
    ----------
    name : str
        Table (HDF5 group) name.
    specs : list of ColumnSpec
    ndim : int
        Length of per-row coordinate vectors.
    """

    def __init__(self, name: str, specs: list[ColumnSpec], ndim: int):
        self.name = name
        self.specs = list(specs)
        self.spec = {s.name: s for s in self.specs}
        self.ndim = int(ndim)
        self.n = 0
        self._cap = 0
        self._data: dict[str, Any] = {}
        for s in self.specs:
            self._data[s.name] = [] if s.is_str else self._empty(s, 0)
        self._order = [(s.is_str, s.name) for s in self.specs]

    # ------------------------------------------------------------------ storage
    def _row_shape(self, s: ColumnSpec) -> tuple:
        return (self.ndim,) if s.per_row == "ndim" else ()

    def _empty(self, s: ColumnSpec, cap: int) -> np.ndarray:
        return np.empty((cap, *self._row_shape(s)), dtype=s.dtype)

    def _reserve(self, needed: int) -> None:
        if needed <= self._cap:
            return
        cap = max(16, 2 * self._cap, needed)
        for s in self.specs:
            if not s.is_str:
                new = self._empty(s, cap)
                new[:self.n] = self._data[s.name][:self.n]
                self._data[s.name] = new
        self._cap = cap

    def __len__(self) -> int:
        return self.n

    def column(self, name: str):
        """The live column: an array view of ``n`` rows, or the list of strings."""
        col = self._data[name]
        return col if isinstance(col, list) else col[:self.n]

    def value(self, row: int, name: str):
        """One cell (0-based ``row``)."""
        return self._data[name][row]

    # ------------------------------------------------------------------ changes
    def append_row(self, values: tuple) -> int:
        """Append one row given in column order; returns its 0-based index."""
        n = self.n
        if n == self._cap:
            self._reserve(n + 1)
        for (is_str, name), v in zip(self._order, values):
            if is_str:
                self._data[name].append(v)
            else:
                self._data[name][n] = v
        self.n = n + 1
        return n

    def extend(self, columns: dict[str, Any], count: int) -> None:
        """Append ``count`` rows; ``columns`` maps every column name to its values."""
        if count <= 0:
            return
        missing = [s.name for s in self.specs if s.name not in columns]
        if missing:
            raise ValueError(f"table {self.name}: missing columns {missing}")
        self._reserve(self.n + count)
        for s in self.specs:
            vals = columns[s.name]
            if len(vals) != count:
                raise ValueError(f"table {self.name}: column {s.name} has {len(vals)} rows, "
                                 f"expected {count}")
            if s.is_str:
                self._data[s.name].extend(str(v) for v in vals)
            else:
                arr = np.asarray(vals)
                if arr.shape[1:] != self._row_shape(s):
                    raise ValueError(f"table {self.name}: column {s.name} has rows of shape "
                                     f"{arr.shape[1:]}, expected {self._row_shape(s)}")
                self._data[s.name][self.n:self.n + count] = arr
        self.n += count

    def set_value(self, row: int, name: str, value) -> None:
        """Set one cell (0-based ``row``)."""
        if not 0 <= row < self.n:
            raise IndexError(f"table {self.name}: row {row + 1} does not exist")
        if self.spec[name].is_str:
            self._data[name][row] = str(value)
        else:
            self._data[name][row] = value

    def rows_slice(self, start: int, stop: int) -> dict[str, Any]:
        """Copies of rows ``start:stop`` of every column."""
        out = {}
        for s in self.specs:
            col = self._data[s.name]
            out[s.name] = list(col[start:stop]) if s.is_str else np.array(col[start:stop])
        return out

    # ------------------------------------------------------------------ batch ops
    def apply_append(self, first_id: int, count: int, columns: dict[str, Any]) -> int:
        """Idempotent append of rows with 1-based ids ``first_id ..``; returns rows added."""
        first = first_id - 1
        if first > self.n:
            raise ValueError(f"table {self.name}: batch starts at id {first_id} but only "
                             f"{self.n} rows exist (missing batch)")
        skip = self.n - first
        if skip >= count:
            return 0
        if skip > 0:
            columns = {k: v[skip:] for k, v in columns.items()}
        self.extend(columns, count - skip)
        return count - skip

    def apply_update(self, row_id: int, values: dict[str, Any]) -> None:
        """Set fields of the row with 1-based id ``row_id``."""
        for name, v in values.items():
            if name not in self.spec:
                raise ValueError(f"table {self.name}: unknown column {name!r}")
            self.set_value(row_id - 1, name, v)


def make_tables(ndim: int) -> dict[str, Table]:
    """Empty tables for a landscape of dimension ``ndim``."""
    return {name: Table(name, specs, ndim) for name, specs in TABLE_SPECS.items()}
