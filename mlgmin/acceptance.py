"""Acceptance tests for basin-hopping: ``accept(energy_new, energy_old, rng) -> bool``."""
from __future__ import annotations

import math


class Metropolis:
    """Accept downhill moves always, uphill ones with probability ``exp(-dE / T)``.

    ``temperature = 0`` accepts only moves that do not raise the energy.  A random number
    is drawn for every uphill move (and only then), so the stream of random numbers does
    not depend on the temperature's value for downhill moves.
    """

    def __init__(self, temperature: float):
        if temperature < 0:
            raise ValueError("temperature must be >= 0")
        self.temperature = float(temperature)

    def __call__(self, energy_new: float, energy_old: float, rng) -> bool:
        delta = energy_new - energy_old
        if delta <= 0.0:
            return True
        u = rng.random()
        if self.temperature == 0.0:
            return False
        return u < math.exp(-delta / self.temperature)
