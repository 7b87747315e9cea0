"""SIGTERM handled like Ctrl-C: what a cluster's time limit, ``scancel`` or ``kill`` sends.

:func:`handle_sigterm` makes SIGTERM raise :class:`Terminated`, a :class:`KeyboardInterrupt`,
so that every program stops a run the same way for both signals: finished work is committed,
the run is marked interrupted in the file, the lock is released and the local workers are
stopped; the shell then exits with 143 (SIGTERM) or 130 (SIGINT), after one line.
"""
from __future__ import annotations

import signal
import threading

__all__ = ["Terminated", "exit_status", "handle_sigterm"]


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when the process receives SIGTERM."""


def _raise_terminated(signum, frame):
    raise Terminated()


def handle_sigterm() -> None:
    """Make SIGTERM raise :class:`Terminated` in the main thread (nothing elsewhere)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_terminated)


def exit_status(exc: KeyboardInterrupt) -> tuple[int, str]:
    """Exit status and signal name of an interruption: ``(143, "SIGTERM")`` or
    ``(130, "SIGINT")``."""
    if isinstance(exc, Terminated):
        return 128 + int(signal.SIGTERM), "SIGTERM"
    return 128 + int(signal.SIGINT), "SIGINT"
