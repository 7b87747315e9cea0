"""Shared core of the suite: landscapes, optimisers, identity of minima, files, executors.

No command-line code lives here; the four programs are thin shells over this library.
"""
from mlcore._version import __version__

__all__ = ["__version__"]
