"""Checking and preparing the paths that commands write (one rule for every program).

A command that writes a file (or a folder of files) calls :func:`prepare_output` before
its work starts: missing parent folders are created, and a path that cannot be written is
refused with an :class:`~mlcore.errors.InputError` (exit 2, one line) before anything is
created.  Kept free of heavy imports.
"""
from __future__ import annotations

import os
from pathlib import Path

from mlcore.errors import InputError

__all__ = ["check_output", "prepare_output"]


def _deepest_existing(path: Path) -> tuple[Path, list[Path]]:
    """The deepest existing ancestor of ``path`` and the missing folders below it."""
    missing = []
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        missing.append(parent)
        parent = parent.parent
    return parent, missing[::-1]


def check_output(path, *, what: str = "output", directory: bool = False) -> Path:
    """Refuse an output path that cannot be written; create nothing.

    Parameters
    ----------
    path : path-like
        The file (or, with ``directory``, the folder) to be written.
    what : str
        How the path is named in messages (``"-o"``, ``"DIR"``).
    directory : bool
        The output is a folder of files rather than one file.

    Returns
    -------
    Path
        ``path`` as a :class:`~pathlib.Path`.

    Raises
    ------
    InputError
        The path is empty, is an existing folder (file output) or an existing file
        (folder output), lies under a regular file, or its nearest existing folder is not
        writable.
    """
    if path is None or str(path) == "":
        raise InputError(f"{what}: the output path is empty")
    p = Path(path).expanduser()
    if directory:
        if p.exists() and not p.is_dir():
            raise InputError(f"{what} {p}: exists and is not a folder")
    elif p.is_dir():
        raise InputError(f"{what} {p}: is a folder, not a file")
    base, _ = _deepest_existing(p if not (directory and p.exists()) else p / "x")
    base = base if str(base) else Path(".")
    if not base.is_dir():
        raise InputError(f"{what} {p}: {base} is a file, not a folder")
    if not os.access(base, os.W_OK | os.X_OK):
        raise InputError(f"{what} {p}: cannot write in folder {base} (permission denied)")
    return p


def prepare_output(path, *, what: str = "output", directory: bool = False) -> Path:
    """Check ``path`` (:func:`check_output`) and create its missing parent folders
    (and, with ``directory``, the folder itself).

    Returns
    -------
    Path
        ``path`` as a :class:`~pathlib.Path`, ready to be written.

    Raises
    ------
    InputError
        As :func:`check_output`, or when a folder cannot be created (the folders made
        by this call are removed again).
    """
    p = check_output(path, what=what, directory=directory)
    _, missing = _deepest_existing(p / "x" if directory else p)
    made = []
    try:
        for folder in missing:
            folder.mkdir()
            made.append(folder)
    except OSError as exc:
        for folder in reversed(made):
            try:
                folder.rmdir()
            except OSError:
                pass
        raise InputError(f"{what} {p}: cannot create folder {exc.filename or folder}: "
                         f"{exc.strerror or exc}") from None
    return p
