"""Identity of minima: the same minimum twice, and an energy-ordered index of known minima.

Two minima are the same when their energies agree within ``energy_tol`` (absolute) and their
distance after alignment under the landscape's symmetries (``system.distance``) is at most
``distance_tol``.  The energy test is cheap and comes first; the alignment may be expensive
(permutations of atoms or hidden nodes), so it runs only for energy matches.

:class:`MinimaIndex` keeps the known minima sorted by energy and looks up a new minimum by
bisection: only the minima inside ``[E - energy_tol, E + energy_tol]`` are compared by
distance, never the whole list (DESIGN: "identity tests of minima must not be a linear scan").
"""
from __future__ import annotations

import bisect
from collections.abc import Iterable

import numpy as np

from mlcore.landscape import as_coords

__all__ = ["MinimaIndex", "MinimumIdentity"]


class MinimumIdentity:
    """The identity test of two minima.

    Parameters
    ----------
    energy_tol : float, optional
        Largest absolute energy difference of the same minimum; default the system's
        ``energy_tol``.
    distance_tol : float, optional
        Largest distance after alignment (``system.distance``) of the same minimum; default
        the system's ``distance_tol``.
    """

    def __init__(self, energy_tol: float | None = None, distance_tol: float | None = None):
        self.energy_tol = None if energy_tol is None else float(energy_tol)
        self.distance_tol = None if distance_tol is None else float(distance_tol)

    def tolerances(self, system) -> tuple[float, float]:
        """``(energy_tol, distance_tol)`` for ``system``: own values, else the system's."""
        etol = self.energy_tol if self.energy_tol is not None else float(system.energy_tol)
        dtol = self.distance_tol if self.distance_tol is not None else float(system.distance_tol)
        return etol, dtol

    def same_energy(self, system, energy1: float, energy2: float) -> bool:
        """True if the two energies agree within the energy tolerance."""
        return abs(float(energy1) - float(energy2)) <= self.tolerances(system)[0]

    def same(self, system, energy1: float, coords1, energy2: float, coords2) -> bool:
        """True if ``(energy1, coords1)`` and ``(energy2, coords2)`` are the same minimum.

        Energies first (cheap); only if they agree is ``system.distance(coords1, coords2)``
        computed and compared with the distance tolerance.
        """
        etol, dtol = self.tolerances(system)
        if abs(float(energy1) - float(energy2)) > etol:
            return False
        return float(system.distance(coords1, coords2)) <= dtol

    def __repr__(self) -> str:
        return f"MinimumIdentity(energy_tol={self.energy_tol}, distance_tol={self.distance_tol})"


class MinimaIndex:
    """Known minima of one landscape, ordered by energy, for fast identity look-ups.

    Indices are 0-based, in order of insertion, and never change (the HDF5 file's
    1-based minimum id is ``index + 1`` when minima are added in the same order).

    Parameters
    ----------
    system : mlcore.landscape.System
        Provides ``distance(coords1, coords2)`` and the default tolerances.
    identity : MinimumIdentity, optional
        The identity test; default ``MinimumIdentity()`` (the system's tolerances).

    Attributes
    ----------
    n_distance_calls : int
        Number of ``system.distance`` evaluations made by look-ups so far.
    """

    def __init__(self, system, identity: MinimumIdentity | None = None):
        self.system = system
        self.identity = identity if identity is not None else MinimumIdentity()
        self._sorted_energies: list[float] = []   # ascending
        self._sorted_ids: list[int] = []          # index of each entry of _sorted_energies
        self._energies: list[float] = []          # by index
        self._coords: list[np.ndarray] = []       # by index
        self.n_distance_calls = 0

    @classmethod
    def from_minima(cls, system, energies: Iterable[float], coords: Iterable,
                    identity: MinimumIdentity | None = None) -> MinimaIndex:
        """Build from known, distinct minima (e.g. read from a file), keeping their order."""
        index = cls(system, identity)
        for energy, x in zip(energies, coords, strict=True):
            index.insert(energy, x)
        return index

    def __len__(self) -> int:
        return len(self._energies)

    def energy(self, index: int) -> float:
        """Energy of minimum ``index``."""
        return self._energies[index]

    def coords(self, index: int) -> np.ndarray:
        """Coordinates of minimum ``index`` (the stored array; do not modify)."""
        return self._coords[index]

    def candidates(self, energy: float) -> list[int]:
        """Indices of the minima whose energy is within the energy tolerance of ``energy``,
        nearest energy first.  Found by bisection: ``O(log n + m)`` for ``m`` candidates."""
        etol = self.identity.tolerances(self.system)[0]
        energy = float(energy)
        lo = bisect.bisect_left(self._sorted_energies, energy - etol)
        hi = bisect.bisect_right(self._sorted_energies, energy + etol, lo=lo)
        window = range(lo, hi)
        ordered = sorted(window, key=lambda j: abs(self._sorted_energies[j] - energy))
        return [self._sorted_ids[j] for j in ordered]

    def find(self, energy: float, coords) -> int | None:
        """Index of the known minimum that is the same as ``(energy, coords)``, or None."""
        dtol = self.identity.tolerances(self.system)[1]
        for idx in self.candidates(energy):
            self.n_distance_calls += 1
            if float(self.system.distance(self._coords[idx], coords)) <= dtol:
                return idx
        return None

    def insert(self, energy: float, coords) -> int:
        """Add a minimum without looking it up first; returns its new index."""
        energy = float(energy)
        idx = len(self._energies)
        x = np.array(as_coords(coords), dtype=np.float64)
        pos = bisect.bisect_right(self._sorted_energies, energy)
        self._sorted_energies.insert(pos, energy)
        self._sorted_ids.insert(pos, idx)
        self._energies.append(energy)
        self._coords.append(x)
        return idx

    def find_or_add(self, energy: float, coords) -> tuple[int, bool]:
        """``(index, is_new)``: the known minimum matching ``(energy, coords)``, else add it."""
        idx = self.find(energy, coords)
        if idx is not None:
            return idx, False
        return self.insert(energy, coords), True

    def add(self, energy: float, coords) -> int:
        """Index of ``(energy, coords)``: the known one if it is already there, else a new one."""
        return self.find_or_add(energy, coords)[0]
