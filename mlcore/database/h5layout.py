"""Reading and writing the HDF5 file itself (layout: ``docs/hdf5-format.md``).

:func:`write_snapshot` writes a complete file from a :class:`DatabaseState`;
the writer always calls it on a temporary name and renames the result over the data file
(see :mod:`mlcore.database.writer`), so the data file is never modified in place.
:func:`read_snapshot` loads a file and checks that it is one of ours; any damage gives an
:class:`~mlcore.errors.InputError` with a one-line message naming the file.
"""
from __future__ import annotations

import json
import os
import time

import numpy as np

from mlcore.database.state import DatabaseState
from mlcore.database.tables import OUTCOME_CODES, TABLE_SPECS, Table
from mlcore.errors import InputError

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "JOURNAL_GROUP",
    "SYSTEM_GROUP",
    "check_array_name",
    "read_snapshot",
    "write_snapshot",
]

FORMAT_NAME = "mllandscape-stationary-points"
FORMAT_VERSION = 1
SYSTEM_GROUP = "system"
JOURNAL_GROUP = "journal-state"
_CHUNK_ROWS = 4096
_MIN_CHUNK_ROWS = 64
_CHUNK_BYTES = 1 << 20


def check_array_name(name: str) -> str:
    """A system array name must be a plain HDF5 link name."""
    if not isinstance(name, str) or not name or "/" in name or name in (".", ".."):
        raise InputError(f"system array name {name!r} is not allowed "
                         f"(non-empty, no '/')")
    return name


def _str_dtype():
    import h5py

    return h5py.string_dtype("utf-8")


def _write_table(group, table: Table) -> None:
    n = table.n
    for spec in table.specs:
        if spec.is_str:
            data = np.array(table.column(spec.name), dtype=object).reshape(n)
            dtype, row_shape = _str_dtype(), ()
        else:
            data = table.column(spec.name)
            dtype, row_shape = np.dtype(spec.dtype), data.shape[1:]
        # chunks of up to ~1 MiB / 4096 rows, smaller for small tables
        row_bytes = max(1, int(np.prod(row_shape, dtype=np.int64)) * 8)
        rows = min(_CHUNK_ROWS, max(_MIN_CHUNK_ROWS, 1 << int(n).bit_length()))
        rows = int(max(1, min(rows, _CHUNK_BYTES // row_bytes)))
        ds = group.create_dataset(spec.name, shape=(n, *row_shape), dtype=dtype,
                                  maxshape=(None, *row_shape), chunks=(rows, *row_shape))
        if n:
            ds[...] = data
        ds.attrs["doc"] = spec.doc
    group.attrs["count"] = n


def write_snapshot(path: str | os.PathLike, state: DatabaseState, writer_version: str,
                   journal_name: str = "") -> None:
    """Write the whole state as a new HDF5 file at ``path`` (which must not be in use).

    The file is closed on return; the caller fsyncs and renames it.  ``journal_name`` is
    recorded in ``/journal-state`` for human readers.
    """
    import h5py

    with h5py.File(path, "w", track_order=True) as f:
        f.attrs["format"] = FORMAT_NAME
        f.attrs["format_version"] = FORMAT_VERSION
        f.attrs["file_uuid"] = state.file_uuid
        f.attrs["ndim"] = state.ndim
        f.attrs["created"] = state.created
        f.attrs["written"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        f.attrs["writer_version"] = writer_version
        f.attrs["ids"] = "1-based: row r (0-based) of /minima is minimum r+1"
        sg = f.create_group(SYSTEM_GROUP)
        sg.attrs["config_json"] = json.dumps(state.config, sort_keys=True)
        sg.attrs["kind"] = str(state.config.get("kind", ""))
        for name, arr in state.arrays.items():
            sg.create_dataset(name, data=arr)
        for name in TABLE_SPECS:
            g = f.create_group(name)
            _write_table(g, state.tables[name])
            if name == "pairs_tried":
                g.attrs["outcome_codes"] = json.dumps({str(k): v for k, v in
                                                       OUTCOME_CODES.items()})
        jg = f.create_group(JOURNAL_GROUP)
        jg.attrs["committed_seq"] = state.committed_seq
        jg.attrs["checkpoint_time"] = time.time()
        jg.attrs["journal_file"] = journal_name


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] or type(exc).__name__


def _read_table(group, table: Table, where: str) -> None:
    from mlcore.database.tables import OPTIONAL_COLUMNS

    columns, count = {}, None
    absent = []
    for spec in table.specs:
        if spec.name not in group:
            if (table.name, spec.name) in OPTIONAL_COLUMNS:
                absent.append(spec)
                continue
            raise InputError(f"{where}: dataset /{table.name}/{spec.name} is missing")
        ds = group[spec.name]
        if spec.is_str:
            values = list(ds.asstr()[()]) if ds.shape[0] else []
        else:
            values = np.asarray(ds[()], dtype=spec.dtype)
        if count is None:
            count = len(values)
        elif len(values) != count:
            raise InputError(f"{where}: /{table.name}/{spec.name} has {len(values)} rows, "
                             f"other columns have {count} (damaged file)")
        columns[spec.name] = values
    for spec in absent:           # written before the column existed
        columns[spec.name] = np.full(count or 0, spec.default, dtype=spec.dtype)
    table.extend(columns, count or 0)


def read_snapshot(path: str | os.PathLike) -> DatabaseState:
    """Load a stationary-point file completely.

    Raises
    ------
    InputError
        Missing file, not HDF5, truncated or damaged, not an mllandscape file, or a newer
        format version; the message is one line and names the file.
    """
    import h5py

    where = str(path)
    if not os.path.exists(path):
        raise InputError(f"{where}: no such file")
    try:
        f = h5py.File(path, "r")
    except Exception as exc:  # noqa: BLE001 - h5py raises OSError and others for damage
        raise InputError(f"{where}: not a readable HDF5 file ({_one_line(exc)})") from None
    try:
        with f:
            if f.attrs.get("format") != FORMAT_NAME:
                raise InputError(f"{where}: not an mllandscape stationary-point file "
                                 f"(attribute 'format' is not {FORMAT_NAME!r})")
            version = int(f.attrs.get("format_version", -1))
            if not 1 <= version <= FORMAT_VERSION:
                raise InputError(f"{where}: format_version {version} is not supported "
                                 f"(this program reads 1..{FORMAT_VERSION}); "
                                 f"upgrade mllandscape")
            state = DatabaseState(ndim=int(f.attrs["ndim"]), file_uuid=str(f.attrs["file_uuid"]),
                                  created=str(f.attrs.get("created", "")),
                                  format_version=version)
            sg = f[SYSTEM_GROUP]
            state.config = json.loads(sg.attrs["config_json"])
            state.arrays = {name: ds[()] for name, ds in sg.items()}
            for name in TABLE_SPECS:
                if name not in f:
                    raise InputError(f"{where}: group /{name} is missing (damaged file)")
                _read_table(f[name], state.tables[name], where)
            state.committed_seq = int(f[JOURNAL_GROUP].attrs["committed_seq"])
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - damaged metadata or data in an openable file
        raise InputError(f"{where}: damaged stationary-point file ({_one_line(exc)})") from None
    return state
