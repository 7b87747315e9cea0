"""The cache directory for converted and generated data, and atomic writes into it.

Location: ``$MLLANDSCAPE_CACHE`` if set, else ``$XDG_CACHE_HOME/mllandscape``, else
``~/.cache/mllandscape``.  Every file is written aside and renamed, so a killed process
never leaves a half-written file, and deleting the directory is always safe.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np


def cache_dir(create: bool = True) -> Path:
    """The cache directory (created if ``create``)."""
    env = os.environ.get("MLLANDSCAPE_CACHE")
    if env:
        path = Path(env).expanduser()
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        path = (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "mllandscape"
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while True:
            block = fh.read(chunk)
            if not block:
                break
            h.update(block)
    return h.hexdigest()


def save_npz_atomic(path: str | Path, arrays: dict) -> None:
    """Write ``arrays`` to ``path`` (.npz, uncompressed) via a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def load_npz(path: str | Path) -> dict | None:
    """All arrays of an .npz file, or ``None`` if it is missing or unreadable."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile):
        return None
