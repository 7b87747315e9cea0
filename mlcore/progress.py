"""Progress of long work on standard error: a line redrawn in place on a terminal, log
lines at intervals in a batch job or a pipe (so that a cluster job's log shows progress).
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable


class ProgressLine:
    """Shows ``describe(*args)`` on one line each time it is called, at most every
    ``min_interval`` seconds (the last call before :meth:`close` is always shown).

    Parameters
    ----------
    describe : callable
        Turns the arguments of a call (a program's report) into the line's text.
    stream : file, optional
        Default: standard error.
    min_interval : float
        Seconds between redraws.
    """

    def __init__(self, describe: Callable[..., str], stream=None, min_interval: float = 0.2):
        self.describe = describe
        self.stream = stream or sys.stderr
        self.min_interval = min_interval
        self._last = -float("inf")
        self._width = 0
        self._skipped = None        # arguments of the last call not drawn

    def __call__(self, *args, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.min_interval:
            self._skipped = args
            return
        self._last = now
        self._skipped = None
        text = self.describe(*args)
        pad = max(0, self._width - len(text))
        self._width = len(text)
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()

    def close(self) -> None:
        """Draw the last call if it was skipped, then end the line (nothing if nothing was
        ever called)."""
        if self._skipped is not None:
            self(*self._skipped, force=True)
        if self._width:
            self.stream.write("\n")
            self.stream.flush()
            self._width = 0


class ProgressLog:
    """Writes ``describe(*args)`` as a log line, with the time of day, at the first call and
    then at most every ``interval`` seconds; :meth:`close` writes the last call if it was
    not written (for batch jobs, whose standard error is a file).

    Parameters
    ----------
    describe : callable
        Turns the arguments of a call into the line's text.
    interval : float
        Seconds between log lines.
    stream : file, optional
        Default: standard error.
    """

    def __init__(self, describe: Callable[..., str], interval: float = 60.0, stream=None):
        self.describe = describe
        self.interval = float(interval)
        self.stream = stream or sys.stderr
        self._last = -float("inf")
        self._skipped = None

    def __call__(self, *args) -> None:
        now = time.monotonic()
        if now - self._last < self.interval:
            self._skipped = args
            return
        self._last = now
        self._skipped = None
        self._write(args)

    def _write(self, args) -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        self.stream.write(f"[{stamp}] {self.describe(*args)}\n")
        self.stream.flush()

    def close(self) -> None:
        """Write the last call if the interval had held it back."""
        if self._skipped is not None:
            self._write(self._skipped)
            self._skipped = None


def progress_display(describe: Callable[..., str], quiet: bool = False,
                     log_interval: float = 60.0):
    """The progress display a program should use: a :class:`ProgressLine` when standard
    error is a terminal, a :class:`ProgressLog` (a line every ``log_interval`` seconds)
    when it is not, None when ``quiet``.  The caller closes it."""
    if quiet:
        return None
    if sys.stderr.isatty():
        return ProgressLine(describe)
    return ProgressLog(describe, log_interval)


def terminal_progress(describe: Callable[..., str], quiet: bool = False):
    """A :class:`ProgressLine` when standard error is a terminal and not ``quiet``; else
    None (for short analyses whose progress a batch log does not need)."""
    if quiet or not sys.stderr.isatty():
        return None
    return ProgressLine(describe)
