"""Random generators that resume: the seeds and saved states every program records."""
from __future__ import annotations

import numpy as np


def fresh_seed() -> int:
    """A seed drawn from the operating system's entropy (63 bits, recordable as int64)."""
    return int(np.random.SeedSequence().entropy % (2**63))


def generator_from_state(state: dict) -> np.random.Generator:
    """A PCG64 generator continuing where ``generator.bit_generator.state`` (``state``)
    was taken."""
    rng = np.random.Generator(np.random.PCG64())
    rng.bit_generator.state = state
    return rng
