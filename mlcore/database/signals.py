"""Defer Ctrl-C (and Python-handled SIGTERM) over a few statements that must run together.

A :class:`KeyboardInterrupt` raised between "the journal record is durable" and "the writer
has noted that it is" would make the writer reuse the batch's sequence number.  Inside
:func:`signals_deferred` such signals are recorded instead and re-delivered (the original
handler is called, raising ``KeyboardInterrupt`` as usual) as soon as the block ends.
Signals with the default action (SIGTERM normally, SIGKILL always) still end the process
at once; the file is safe against that by design (``docs/hdf5-format.md``).
"""
from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["signals_deferred"]

_DEFERRED = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Run the block without being interrupted by Python-level signal handlers.

    Only the main thread runs Python signal handlers, so in other threads this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {}
    for sig in _DEFERRED:
        handler = signal.getsignal(sig)
        if callable(handler):
            previous[sig] = handler
            signal.signal(sig, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for sig in received:
            previous[sig](sig, None)
