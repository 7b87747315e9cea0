"""A one-line progress display on standard error, rewritten in place (terminals only)."""
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


def terminal_progress(describe: Callable[..., str], quiet: bool = False):
    """A :class:`ProgressLine` when standard error is a terminal and not ``quiet``; else
    None (batch jobs and pipes stay quiet)."""
    if quiet or not sys.stderr.isatty():
        return None
    return ProgressLine(describe)
