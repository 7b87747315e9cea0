"""The whole content of a stationary-point file in memory, and batch replay.

Both the writer and the reader hold a :class:`DatabaseState`: loaded from the last HDF5
checkpoint, then brought up to date by applying the journal's batches past
``committed_seq``.  A batch header (see :mod:`mlcore.database.journal`) looks like::

    {"kind": "batch", "seq": 12, "time": 1764130000.0,
     "ops": [{"op": "append", "table": "minima", "first_id": 101, "count": 3,
              "columns": {"energy": {"array": 0}, "coords": {"array": 1}, ...,
                          "found_by_program": {"strings": ["mlgmin", ...]}}},
             {"op": "update", "table": "runs", "id": 2,
              "values": {"end_time": 1764130500.0, "status": "finished"}}]}

where ``{"array": k}`` refers to the k-th array of the record's payload.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlcore.database.tables import Table, make_tables

__all__ = ["DatabaseState", "apply_batch", "encode_columns", "encode_values"]


@dataclass
class DatabaseState:
    """Everything the file holds.

    Attributes
    ----------
    ndim : int
        Number of coordinates of the landscape.
    file_uuid : str
        Identity of this database (ties the journal to its HDF5 file).
    committed_seq : int
        Sequence number of the last batch included.
    config : dict
        The ``[system]`` table.
    arrays : dict of str to ndarray
        The system's data arrays.
    tables : dict of str to Table
        ``minima``, ``ts``, ``pairs_tried``, ``runs``.
    created : str
        ISO 8601 creation time.
    format_version : int
    """

    ndim: int
    file_uuid: str
    committed_seq: int = 0
    config: dict = field(default_factory=dict)
    arrays: dict = field(default_factory=dict)
    tables: dict = None
    created: str = ""
    format_version: int = 1

    def __post_init__(self):
        if self.tables is None:
            self.tables = make_tables(self.ndim)


def _decode_column(spec, ref, arrays):
    if "strings" in ref:
        return list(ref["strings"])
    return arrays[ref["array"]]


def apply_batch(state: DatabaseState, header: dict, arrays: list[np.ndarray]) -> bool:
    """Apply one journal batch if it is the next one; returns whether it was applied.

    Batches with ``seq <= state.committed_seq`` are already included and skipped (this is
    what makes replay idempotent); ``seq > committed_seq + 1`` means batches are missing
    and raises ``ValueError``.  Within a batch, appends skip rows that already exist.
    """
    seq = int(header["seq"])
    if seq <= state.committed_seq:
        return False
    if seq != state.committed_seq + 1:
        raise ValueError(f"journal batch {seq} follows batch {state.committed_seq}: "
                         f"batches {state.committed_seq + 1}..{seq - 1} are missing")
    for op in header["ops"]:
        table: Table = state.tables[op["table"]]
        if op["op"] == "append":
            columns = {name: _decode_column(table.spec[name], ref, arrays)
                       for name, ref in op["columns"].items()}
            table.apply_append(int(op["first_id"]), int(op["count"]), columns)
        elif op["op"] == "update":
            values = {name: (arrays[v["array"]] if isinstance(v, dict) else v)
                      for name, v in op["values"].items()}
            table.apply_update(int(op["id"]), values)
        else:
            raise ValueError(f"unknown journal operation {op['op']!r}")
    state.committed_seq = seq
    return True


def encode_columns(table: Table, start: int, stop: int,
                   arrays: list[np.ndarray]) -> dict[str, Any]:
    """Journal references for rows ``start:stop`` of ``table``; numeric data go to ``arrays``."""
    cols = {}
    rows = table.rows_slice(start, stop)
    for spec in table.specs:
        if spec.is_str:
            cols[spec.name] = {"strings": rows[spec.name]}
        else:
            cols[spec.name] = {"array": len(arrays)}
            arrays.append(rows[spec.name])
    return cols


def encode_values(table: Table, values: dict[str, Any], arrays: list[np.ndarray]) -> dict:
    """Journal form of an update: scalars inline (JSON), vectors as payload arrays."""
    out = {}
    for name, v in values.items():
        spec = table.spec[name]
        if spec.is_str:
            out[name] = str(v)
        elif spec.per_row:
            out[name] = {"array": len(arrays)}
            arrays.append(np.asarray(v, dtype=spec.dtype))
        elif spec.dtype == "f8":
            out[name] = float(v)
        else:
            out[name] = int(v)
    return out
