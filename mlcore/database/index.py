"""Lookup of stored stationary points without linear scans.

:class:`EnergyIndex` keeps the minima ordered by energy: a large sorted numpy array plus a
small sorted buffer of recent insertions (merged into the array when it grows past
``~sqrt(n)``), so that the minima within ``energy_tol`` of a new energy are found by
bisection in O(log n) and inserting costs amortised O(sqrt n) numpy work (a memmove).
Only those candidates go to the identity test.

:func:`make_identity` turns what the caller gives (a system with ``energy_tol``,
``distance_tol`` and ``distance(c1, c2)``, or a plain callable) into an energy tolerance
and a test ``same(energy1, coords1, energy2, coords2) -> bool``.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from math import isqrt

import numpy as np

__all__ = ["EnergyIndex", "IdentityTest", "make_identity"]

IdentityTest = Callable[[float, np.ndarray, float, np.ndarray], bool]

DEFAULT_ENERGY_TOL = 1e-6
DEFAULT_DISTANCE_TOL = 1e-3


def make_identity(identity=None, energy_tol: float | None = None) -> tuple[float, IdentityTest]:
    """The energy window and identity test of stored points.

    Parameters
    ----------
    identity : System-like, callable or None
        * an object with ``energy_tol``, ``distance_tol`` and ``distance(c1, c2)`` (every
          :class:`mlcore.landscape.System`): two points are the same when their energies
          differ by at most ``energy_tol`` and their distance (after the system's alignment)
          is at most ``distance_tol``;
        * a callable ``identity(energy1, coords1, energy2, coords2) -> bool``; then
          ``energy_tol`` must be given: only stored points within it are tested;
        * ``None``: energies within ``energy_tol`` (default 1e-6) and Euclidean distance
          at most 1e-3.
    energy_tol : float, optional
        Overrides the system's ``energy_tol``.

    Returns
    -------
    energy_tol : float
    same : callable
        ``same(energy_new, coords_new, energy_stored, coords_stored) -> bool``.
    """
    if identity is None:
        tol = DEFAULT_ENERGY_TOL if energy_tol is None else float(energy_tol)

        def same(e1, c1, e2, c2):
            d = c1 - c2
            return abs(e1 - e2) <= tol and float(np.sqrt(d @ d)) <= DEFAULT_DISTANCE_TOL

        return tol, same
    if hasattr(identity, "distance") and hasattr(identity, "energy_tol"):
        system = identity
        tol = float(system.energy_tol if energy_tol is None else energy_tol)
        dtol = float(system.distance_tol)
        distance = system.distance

        def same(e1, c1, e2, c2):
            return abs(e1 - e2) <= tol and distance(c1, c2) <= dtol

        return tol, same
    if callable(identity):
        if energy_tol is None:
            raise ValueError("an identity callable needs energy_tol: the energy window in "
                             "which stored points are compared with it")
        return float(energy_tol), identity
    raise TypeError("identity must be a system (energy_tol, distance_tol, distance), "
                    "a callable identity(e1, c1, e2, c2) -> bool, or None")


class EnergyIndex:
    """Row numbers ordered by energy, for range queries ``|E - e| <= tol``.

    Notes
    -----
    Each entry is ``(energy, row)``.  Entries live in a sorted main array or in a sorted
    buffer of at most ``max(1024, 4 sqrt(n))`` recent insertions; the buffer is merged into
    the array when full.  Queries bisect both.
    """

    def __init__(self, energies: np.ndarray | None = None, rows: np.ndarray | None = None):
        energies = np.zeros(0) if energies is None else np.asarray(energies, dtype=np.float64)
        rows = np.arange(len(energies)) if rows is None else np.asarray(rows, dtype=np.int64)
        order = np.argsort(energies, kind="stable")
        self._main_e = np.ascontiguousarray(energies[order])
        self._main_r = np.ascontiguousarray(rows[order])
        self._buf_e: list[float] = []
        self._buf_r: list[int] = []
        self._limit = self._buffer_limit()

    def _buffer_limit(self) -> int:
        return max(1024, 4 * isqrt(len(self._main_e)))

    def __len__(self) -> int:
        return len(self._main_e) + len(self._buf_e)

    def insert(self, energy: float, row: int) -> None:
        """Add ``row`` with ``energy``."""
        i = bisect_right(self._buf_e, energy)
        self._buf_e.insert(i, energy)
        self._buf_r.insert(i, row)
        if len(self._buf_e) > self._limit:
            self._merge()

    def _merge(self) -> None:
        be = np.asarray(self._buf_e, dtype=np.float64)
        br = np.asarray(self._buf_r, dtype=np.int64)
        pos = np.searchsorted(self._main_e, be, side="right")
        self._main_e = np.insert(self._main_e, pos, be)
        self._main_r = np.insert(self._main_r, pos, br)
        self._buf_e, self._buf_r = [], []
        self._limit = self._buffer_limit()

    def remove(self, energy: float, row: int) -> None:
        """Remove the entry ``(energy, row)`` (as inserted); KeyError if absent."""
        lo, hi = bisect_left(self._buf_e, energy), bisect_right(self._buf_e, energy)
        for i in range(lo, hi):
            if self._buf_r[i] == row:
                del self._buf_e[i]
                del self._buf_r[i]
                return
        lo = int(np.searchsorted(self._main_e, energy, side="left"))
        hi = int(np.searchsorted(self._main_e, energy, side="right"))
        hits = np.nonzero(self._main_r[lo:hi] == row)[0]
        if len(hits) == 0:
            raise KeyError(f"row {row} with energy {energy!r} is not in the index")
        k = lo + int(hits[0])
        self._main_e = np.delete(self._main_e, k)
        self._main_r = np.delete(self._main_r, k)

    def within(self, energy: float, tol: float) -> list[int]:
        """Rows with ``|E - energy| <= tol``, nearest in energy first."""
        e_lo, e_hi = energy - tol, energy + tol
        main_e = self._main_e
        lo = main_e.searchsorted(e_lo, "left")
        hi = main_e.searchsorted(e_hi, "right")
        b_lo = bisect_left(self._buf_e, e_lo)
        b_hi = bisect_right(self._buf_e, e_hi)
        if hi - lo + b_hi - b_lo == 0:
            return []
        pairs = [(abs(e - energy), r) for e, r in
                 zip(main_e[lo:hi].tolist(), self._main_r[lo:hi].tolist())]
        pairs += [(abs(self._buf_e[i] - energy), self._buf_r[i]) for i in range(b_lo, b_hi)]
        if len(pairs) > 1:
            pairs.sort()
        return [r for _, r in pairs]

    def lowest(self) -> int | None:
        """Row of the lowest energy, or ``None`` if empty."""
        best = None
        if len(self._main_e):
            best = (self._main_e[0], self._main_r[0])
        if self._buf_e and (best is None or self._buf_e[0] < best[0]):
            best = (self._buf_e[0], self._buf_r[0])
        return None if best is None else int(best[1])
