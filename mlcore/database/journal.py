"""The journal ``FILE.h5.journal``: an append-only log of committed batches.

Record layout (all integers little-endian)::

    offset  size  field
    0       4     magic  b"MLJ1"
    4       4     header_len   (uint32)  length of the JSON header in bytes
    8       8     payload_len  (uint64)  length of the binary payload in bytes
    16      4     crc32        (uint32)  zlib.crc32 of header bytes followed by payload bytes
    20      ...   header: UTF-8 JSON object
    ...     ...   payload: the raw bytes of the record's numpy arrays, back to back

The header lists the arrays as ``{"dtype": "<f8", "shape": [...], "offset": o,
"nbytes": b}`` (offset within the payload); nothing is pickled.  The first record of every
journal has ``"kind": "start"`` and names the data file it belongs to (``file_uuid``) and
the sequence number it continues from (``base_seq``); every later record is a batch
(``"kind": "batch"``, ``"seq"``, ``"ops"``).

A record is valid if it is complete and its checksum matches.  Records are appended and
fsync'ed one at a time, so after a crash only the *last* record can be torn; reading
stops at the first invalid record and reports where the valid part ends, and the writer
cuts the torn tail off before appending again.
"""
from __future__ import annotations

import json
import os
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "RECORD_MAGIC",
    "JournalAppender",
    "JournalContents",
    "encode_record",
    "journal_path_for",
    "read_journal",
]

RECORD_MAGIC = b"MLJ1"
_PREFIX = struct.Struct("<4sIQI")


def journal_path_for(data_path: str | os.PathLike) -> Path:
    """``FILE.h5`` -> ``FILE.h5.journal``."""
    data_path = Path(data_path)
    return data_path.with_name(data_path.name + ".journal")


def _little_endian(arr: np.ndarray) -> np.ndarray:
    arr = np.ascontiguousarray(arr)
    if arr.dtype.byteorder == ">" or (arr.dtype.byteorder == "=" and not np.little_endian):
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    return arr


def encode_record(header: dict, arrays: list[np.ndarray] = ()) -> bytes:
    """One journal record: prefix, JSON header (with the array table added), payload.

    Parameters
    ----------
    header : dict
        JSON-serialisable description; ``"arrays"`` is added by this function.
    arrays : list of ndarray
        Numeric arrays (no object dtype), referred to from ``header`` by position.
    """
    descs, parts, offset = [], [], 0
    for arr in arrays:
        arr = _little_endian(np.asarray(arr))
        if arr.dtype.hasobject:
            raise TypeError("journal arrays must be numeric")
        descs.append({"dtype": arr.dtype.str, "shape": list(arr.shape), "offset": offset,
                      "nbytes": arr.nbytes})
        parts.append(arr.tobytes())
        offset += arr.nbytes
    head = json.dumps({**header, "arrays": descs}, separators=(",", ":")).encode("utf-8")
    payload = b"".join(parts)
    crc = zlib.crc32(payload, zlib.crc32(head))
    return _PREFIX.pack(RECORD_MAGIC, len(head), len(payload), crc) + head + payload


@dataclass
class JournalContents:
    """What :func:`read_journal` found.

    Attributes
    ----------
    start : dict or None
        The header of the ``start`` record (``None`` if the journal is empty or torn
        before it ended).
    batches : list of (dict, list of ndarray)
        The valid batch records in order: header and decoded arrays (read-only views).
    valid_end : int
        Byte offset where the valid records end.
    torn_bytes : int
        Bytes after ``valid_end`` (a torn or damaged tail; 0 normally).
    """

    start: dict | None = None
    batches: list = field(default_factory=list)
    valid_end: int = 0
    torn_bytes: int = 0


def _decode_arrays(descs: list, payload: memoryview) -> list[np.ndarray]:
    out = []
    for d in descs:
        dtype = np.dtype(d["dtype"])
        count = d["nbytes"] // dtype.itemsize if dtype.itemsize else 0
        arr = np.frombuffer(payload, dtype=dtype, count=count, offset=d["offset"])
        out.append(arr.reshape(d["shape"]))
    return out


def read_journal(path: str | os.PathLike) -> JournalContents:
    """Parse a journal file, stopping at the first torn or damaged record.

    A missing file reads as an empty journal.
    """
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return JournalContents()
    view = memoryview(data)
    out = JournalContents()
    pos, size = 0, len(data)
    while pos + _PREFIX.size <= size:
        magic, hlen, plen, crc = _PREFIX.unpack_from(data, pos)
        end = pos + _PREFIX.size + hlen + plen
        if magic != RECORD_MAGIC or end > size:
            break
        head = view[pos + _PREFIX.size: pos + _PREFIX.size + hlen]
        payload = view[pos + _PREFIX.size + hlen: end]
        if zlib.crc32(payload, zlib.crc32(head)) != crc:
            break
        try:
            header = json.loads(bytes(head))
            arrays = _decode_arrays(header.get("arrays", []), payload)
        except (ValueError, TypeError, KeyError):
            break
        if header.get("kind") == "start":
            if out.start is not None or out.batches:
                break  # a start record in the middle is damage
            out.start = header
        else:
            out.batches.append((header, arrays))
        pos = end
    out.valid_end = pos
    out.torn_bytes = size - pos
    return out


class JournalAppender:
    """Appends records to a journal, each flushed and fsync'ed before returning.

    Parameters
    ----------
    path : path-like
        The journal file; it must exist (the writer creates it with its start record).
    valid_end : int
        Where the valid records end; anything after it (a torn tail) is cut off first.
    """

    def __init__(self, path: str | os.PathLike, valid_end: int):
        self.path = Path(path)
        self._fh = open(self.path, "r+b")  # noqa: SIM115 - kept open until close()
        self._fh.seek(0, os.SEEK_END)
        if self._fh.tell() != valid_end:
            self._fh.truncate(valid_end)
            self._fh.flush()
            os.fsync(self._fh.fileno())
        self._fh.seek(valid_end)
        self.size = valid_end

    def append(self, record: bytes) -> None:
        """Write one record and make it durable (flush + fsync).

        If writing fails (disk full), the partial record is cut off again so that the
        journal stays a sequence of valid records, and the error propagates.
        """
        try:
            self._fh.write(record)
            self._fh.flush()
            os.fsync(self._fh.fileno())
        except BaseException:
            try:
                self._fh.seek(self.size)
                self._fh.truncate(self.size)
            except OSError:
                pass
            raise
        self.size += len(record)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
