"""Stationary-point files written directly for tests: a landscape and given minima."""
import numpy as np

from mlcore.database import Database
from mlcore.systems import build_system
from mlcore.systems.storage import system_storage


def minima_file(path, table, coords=None, n_random=0, seed=0, ts=(), energies=None):
    """Write ``path`` for the landscape of ``table`` with minima at ``coords`` (or at
    ``n_random`` random points) at their energies (or at ``energies``), and transition
    states ``ts = [(energy, min1, min2)]`` at the first minimum's coordinates.

    Returns ``(path, system, coords)``.
    """
    system = build_system(table, path.parent)
    if coords is None:
        rng = np.random.default_rng(seed)
        coords = [system.random_coords(rng) for _ in range(n_random)]
    config, arrays = system_storage(system)
    with Database.create(path, config, arrays, ndim=system.ndim,
                         identity=lambda *a: False, energy_tol=1e-9) as db:
        for k, c in enumerate(coords):
            db.add_minimum(system.energy(c) if energies is None else float(energies[k]), c)
        for e, a, b in ts:
            db.add_ts(float(e), coords[0], a, b)
    return path, system, coords
