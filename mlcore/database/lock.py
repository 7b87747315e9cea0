"""The single-writer lock: ``FILE.h5.lock`` beside the data file.

The lock file holds JSON: host, pid, a random token, the program and the time it was taken.
It is created atomically and exclusively (the content is written to a temporary file which is
then hard-linked to the lock name; ``link`` fails if the name exists, like ``O_EXCL``, and the
lock is never seen empty).  A second writer is refused with an
:class:`~mlcore.errors.InputError` naming the holder.  A lock left by a dead process on the
same host is *stale*: it is cleared with a :class:`StaleLockWarning` and the lock is taken.
A lock held from another host is never cleared automatically (we cannot see its processes).
"""
from __future__ import annotations

import json
import os
import secrets
import socket
import sys
import time
import warnings
from pathlib import Path
from typing import Self

from mlcore.errors import InputError

__all__ = ["StaleLockWarning", "WriterLock", "lock_path_for", "read_lock"]


class StaleLockWarning(UserWarning):
    """A lock of a dead writer on this host was found and removed."""


def lock_path_for(data_path: str | os.PathLike) -> Path:
    """``FILE.h5`` -> ``FILE.h5.lock``."""
    data_path = Path(data_path)
    return data_path.with_name(data_path.name + ".lock")


def read_lock(lock_path: str | os.PathLike) -> dict | None:
    """The holder recorded in a lock file, ``None`` if there is none, ``{}`` if unreadable."""
    try:
        text = Path(lock_path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        info = json.loads(text)
        return info if isinstance(info, dict) else {}
    except ValueError:
        return {}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _describe(info: dict) -> str:
    prog = f", program {info['program']}" if info.get("program") else ""
    since = ""
    if isinstance(info.get("time"), (int, float)):
        since = ", since " + time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info["time"]))
    return f"host {info.get('host', '?')}, pid {info.get('pid', '?')}{prog}{since}"


class WriterLock:
    """Exclusive right to write one data file.

    Parameters
    ----------
    data_path : path-like
        The HDF5 file; the lock is ``data_path + ".lock"``.
    program : str
        Recorded in the lock so that the refusal message says who holds it.

    Use :meth:`acquire` / :meth:`release` or the lock as a context manager.
    """

    def __init__(self, data_path: str | os.PathLike, program: str = ""):
        self.data_path = Path(data_path)
        self.path = lock_path_for(self.data_path)
        self.program = program or Path(sys.argv[0] or "python").name
        self.info: dict | None = None

    @property
    def held(self) -> bool:
        return self.info is not None

    def acquire(self) -> None:
        """Take the lock, clearing a stale one; :class:`InputError` if another writer has it."""
        if self.held:
            raise RuntimeError(f"{self.path}: lock already held by this object")
        self._remove_dead_temporaries()
        info = {"host": socket.gethostname(), "pid": os.getpid(),
                "token": secrets.token_hex(8), "program": self.program, "time": time.time()}
        tmp = self.path.with_name(f".{self.path.name}.new-{os.getpid()}-{info['token']}")
        try:
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump(info, fh)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise InputError(f"{self.data_path}: cannot create the writer lock {self.path} "
                             f"({exc.strerror or exc})") from None
        try:
            for _attempt in range(5):
                try:
                    os.link(tmp, self.path)
                except FileExistsError:
                    self._refuse_or_clear(info["host"])
                    continue
                self.info = info
                return
            raise InputError(f"{self.data_path}: could not take the writer lock {self.path}")
        finally:
            tmp.unlink(missing_ok=True)

    def _remove_dead_temporaries(self) -> None:
        """Remove ``.FILE.h5.lock.new-PID-*`` / ``.stale-PID-*`` left by killed processes."""
        for kind in ("new", "stale"):
            prefix = f".{self.path.name}.{kind}-"
            try:
                names = [p for p in self.path.parent.iterdir() if p.name.startswith(prefix)]
            except OSError:
                return
            for p in names:
                pid = p.name[len(prefix):].split("-")[0]
                if pid.isdigit() and not _pid_alive(int(pid)):
                    try:
                        p.unlink()
                    except OSError:
                        pass

    def _refuse_or_clear(self, my_host: str) -> None:
        """Called when the lock exists: raise if its holder lives, else remove it."""
        holder = read_lock(self.path)
        if holder is None:  # vanished meanwhile: try again
            return
        if not holder:
            # unreadable: a hand-made or damaged lock; never guess
            raise InputError(f"{self.data_path}: locked by {self.path} (unreadable holder); "
                             f"if no writer is running, remove the lock file")
        pid = holder.get("pid")
        same_host = holder.get("host") == my_host
        if not same_host or not isinstance(pid, int) or _pid_alive(pid):
            who = " (this process)" if same_host and pid == os.getpid() else ""
            raise InputError(f"{self.data_path} is being written by another process "
                             f"({_describe(holder)}){who}; only one writer at a time "
                             f"(lock file {self.path})")
        self._clear_stale(holder)

    def _clear_stale(self, holder: dict) -> None:
        # Rename first so that two processes clearing the same stale lock cannot remove a
        # fresh lock taken meanwhile by a third: only one rename wins, and the winner checks
        # that what it moved is the stale lock it read.
        aside = self.path.with_name(f".{self.path.name}.stale-{os.getpid()}-{secrets.token_hex(4)}")
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return
        moved = read_lock(aside)
        if moved and moved.get("token") != holder.get("token"):
            # we moved a live lock taken since we looked: put it back
            try:
                os.link(aside, self.path)
            except FileExistsError:
                pass
            aside.unlink(missing_ok=True)
            return
        aside.unlink(missing_ok=True)
        warnings.warn(f"{self.data_path}: removed stale writer lock of a dead process "
                      f"({_describe(holder)})", StaleLockWarning, stacklevel=4)

    def release(self) -> None:
        """Remove the lock if it is still ours."""
        if not self.held:
            return
        current = read_lock(self.path)
        if current and current.get("token") == self.info["token"]:
            self.path.unlink(missing_ok=True)
        self.info = None

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def __getstate__(self):
        raise TypeError("the writer lock cannot be sent to another process: "
                        "workers compute, only the driving process writes")
