"""Read-only access to a stationary-point file, also while a run is writing it.

The reader never takes the writer lock and never changes a file.  It loads the last HDF5
checkpoint and then the batches committed to the journal since then, so it sees exactly the
*committed* state at the moment it was opened: every batch whose :meth:`Database.commit`
had returned, nothing half-written, nothing not yet committed.  Call :meth:`refresh` to see
newer batches.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Self

from mlcore.database.h5layout import read_snapshot
from mlcore.database.journal import journal_path_for, read_journal
from mlcore.database.lock import lock_path_for, read_lock
from mlcore.database.state import apply_batch
from mlcore.database.view import DatabaseView
from mlcore.errors import InputError

__all__ = ["DatabaseReader"]

_ATTEMPTS = 20


class DatabaseReader(DatabaseView):
    """Open ``path`` read-only and load its committed state.

    Parameters
    ----------
    path : path-like
        The ``.h5`` file.
    journal : bool
        Also apply the batches committed to ``FILE.h5.journal`` since the last checkpoint
        (default).  ``False`` reads the HDF5 file alone, as plain h5py would.

    Raises
    ------
    InputError
        Missing, damaged or foreign file (one-line message naming it).

    Notes
    -----
    A writer may fold the journal into the HDF5 file (a checkpoint: new file renamed over
    the old, journal replaced) while the reader loads.  The reader notices (the journal no
    longer continues the checkpoint it read) and loads again.
    """

    def __init__(self, path: str | os.PathLike, journal: bool = True):
        self.path = Path(path)
        self.journal_path = journal_path_for(self.path)
        self.use_journal = journal
        self.refresh()

    def refresh(self) -> None:
        """Load the committed state again (newer batches of a running writer)."""
        problem = ""
        for _attempt in range(_ATTEMPTS):
            state = read_snapshot(self.path)
            if not self.use_journal:
                break
            contents = read_journal(self.journal_path)
            if contents.start is None:
                break  # no journal: the HDF5 file is everything
            if contents.start.get("file_uuid") != state.file_uuid:
                problem = "the journal belongs to another database"
                continue
            if int(contents.start.get("base_seq", 0)) > state.committed_seq:
                problem = "a checkpoint happened while loading"
                continue
            try:
                for header, arrays in contents.batches:
                    apply_batch(state, header, arrays)
            except (ValueError, KeyError, IndexError) as exc:
                problem = str(exc)
                continue
            break
        else:
            raise InputError(f"{self.path}: cannot read a consistent state with "
                             f"{self.journal_path.name} ({problem})")
        self._state = state

    @property
    def writer(self) -> dict | None:
        """Who holds the writer lock (``host``, ``pid``, ``program``, ``time``), or ``None``.

        A lock of a killed writer is reported too until the next writer clears it.
        """
        info = read_lock(lock_path_for(self.path))
        return info or None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        pass

    def __repr__(self) -> str:
        return (f"<DatabaseReader {self.path}: {self.n_minima} minima, {self.n_ts} "
                f"transition states, batch {self.committed_seq}>")
