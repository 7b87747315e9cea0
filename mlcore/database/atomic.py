"""Files that appear atomically: write aside, fsync, rename.

Outputs that Make (or a later program) depends on must never be seen half-written.
:func:`atomic_output` and :func:`atomic_path` write to a hidden temporary file in the same
directory, flush it to disk, rename it over the target (``os.replace`` is atomic on POSIX)
and then fsync the directory so that the rename itself survives a power cut.  If the block
raises, the temporary file is removed and the target is left untouched.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

__all__ = ["atomic_output", "atomic_path", "fsync_dir", "fsync_path", "temp_name_for"]

TEMP_MARK = ".tmp-"


def temp_name_for(path: str | os.PathLike) -> Path:
    """A fresh hidden temporary name beside ``path`` that keeps its suffix.

    ``dir/out.png`` gives ``dir/.out.png.tmp-<pid>-<random>.png`` so that libraries which
    infer the format from the extension (matplotlib) still work.
    """
    path = Path(path)
    token = f"{os.getpid()}-{secrets.token_hex(4)}"
    return path.with_name(f".{path.name}{TEMP_MARK}{token}{path.suffix}")


def stray_temp_files(path: str | os.PathLike) -> list[Path]:
    """Temporary files left beside ``path`` by writers killed before their rename."""
    path = Path(path)
    prefix = f".{path.name}{TEMP_MARK}"
    parent = path.parent if str(path.parent) else Path(".")
    try:
        return sorted(p for p in parent.iterdir() if p.name.startswith(prefix))
    except FileNotFoundError:
        return []


def fsync_dir(directory: str | os.PathLike) -> None:
    """Flush a directory entry (a create, rename or unlink) to disk."""
    fd = os.open(os.fspath(directory) or ".", os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_path(path: str | os.PathLike) -> None:
    """Flush the contents of the file at ``path`` to disk."""
    fd = os.open(os.fspath(path), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path; on success it is fsync'ed and renamed to ``path``.

    For writers that take a file name (``h5py.File``, ``matplotlib.savefig``,
    ``numpy.save``).  The caller must have closed its handle before the block ends.

    Examples
    --------
    >>> with atomic_path("fig.png") as tmp:          # doctest: +SKIP
    ...     fig.savefig(tmp)
    """
    target = Path(path)
    tmp = temp_name_for(target)
    try:
        yield tmp
        fsync_path(tmp)
        os.replace(tmp, target)
    except BaseException:
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass
        raise
    fsync_dir(target.parent)


@contextmanager
def atomic_output(path: str | os.PathLike, mode: str = "w", encoding: str | None = None,
                  newline: str | None = None) -> Iterator[IO]:
    """Open a file for writing that appears at ``path`` only when complete.

    Parameters
    ----------
    path : path-like
        The final name.
    mode : {"w", "wb"}
        Text or binary.
    encoding, newline
        As for :func:`open` (text mode; ``encoding`` defaults to UTF-8).

    Yields
    ------
    file object
        Write to it; on leaving the block it is flushed, fsync'ed, closed and renamed to
        ``path``.  If the block raises, nothing appears and the old ``path`` is kept.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_output: mode must be 'w' or 'wb', not {mode!r}")
    if mode == "w" and encoding is None:
        encoding = "utf-8"
    with atomic_path(path) as tmp, open(tmp, mode, encoding=encoding, newline=newline) as fh:
        yield fh
        fh.flush()
        os.fsync(fh.fileno())
