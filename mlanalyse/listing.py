"""Tables of minima and transition states as CSV (``mlanalyse list minima|ts``).

One row per entry, 1-based ids, floats at full precision (``repr``: they parse back to
the stored values exactly; ``nan`` for unknown), integers as stored (-1 or 0 unknown).
"""
from __future__ import annotations

import csv
from typing import TextIO

import numpy as np

__all__ = ["MINIMA_COLUMNS", "TS_COLUMNS", "write_minima_csv", "write_ts_csv"]

#: Columns of ``mlanalyse list minima`` after ``id``.
MINIMA_COLUMNS = ("energy", "log_product", "n_zero", "n_negative", "symmetry_order",
                  "found_by_program", "found_by_run", "found_by_step", "lowest_nonzero",
                  "n_extra_zero")

#: Columns of ``mlanalyse list ts`` after ``id``.
TS_COLUMNS = ("energy", "min1", "min2", "neg_eigenvalue", "log_product", "n_zero",
              "n_negative", "symmetry_order", "found_by_program", "found_by_run",
              "found_by_step")


def _as_text(column) -> list[str]:
    """The values of one column as text: ``repr`` of floats, decimal ints, strings."""
    arr = np.asarray(column)
    values = arr.tolist()
    if arr.dtype.kind == "f":
        return [repr(x) for x in values]
    return [str(x) for x in values]


def _write_table(table, columns: tuple[str, ...], stream: TextIO) -> int:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(("id",) + columns)
    data = [_as_text(table[name]) for name in columns]
    writer.writerows(zip((str(i) for i in range(1, len(table) + 1)), *data))
    return len(table)


def write_minima_csv(path, stream: TextIO) -> int:
    """Write the minima of the file ``path`` as CSV on ``stream``.

    Header ``id,energy,log_product,n_zero,n_negative,symmetry_order,found_by_program,
    found_by_run,found_by_step,lowest_nonzero,n_extra_zero``; energies in cost-function
    units; ``n_extra_zero > 0`` marks a degenerate minimum (a valley), -1 unknown.  Returns the number of
    rows written (a file without minima gives the header alone).
    """
    from mlcore.database import DatabaseReader

    return _write_table(DatabaseReader(path).minima(), MINIMA_COLUMNS, stream)


def write_ts_csv(path, stream: TextIO) -> int:
    """Write the transition states of the file ``path`` as CSV on ``stream``.

    Header ``id,energy,min1,min2,neg_eigenvalue,log_product,n_zero,n_negative,
    symmetry_order,found_by_program,found_by_run,found_by_step`` (``min1``/``min2``:
    1-based minimum ids).  Returns the number of rows written.
    """
    from mlcore.database import DatabaseReader

    return _write_table(DatabaseReader(path).ts(), TS_COLUMNS, stream)
