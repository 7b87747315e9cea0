"""Worker tasks of connect runs: a connect job plus the Hessian check of what it found.

Minima reached by push-off are characterised in the worker (log product of the non-zero
Hessian eigenvalues, zero and negative counts) so that the file has what the heat capacity
and the rates need, without the driver diagonalising anything.  Landscapes larger than
``CHARACTERISE_LIMIT`` coordinates skip this (their minima keep "unknown").
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from mloptim.connect import PairOutcome, connect_pair

#: Largest landscape whose push-off minima are characterised in the worker.
CHARACTERISE_LIMIT = 3000

#: RMS gradient of the further quench of a push-off minimum whose check finds zero
#: curvatures that no symmetry or free direction explains.
TIGHT_TOL = 1e-10


@dataclass
class MinimumInfo:
    """The Hessian columns of a push-off minimum (the file's "unknown" values by default)."""

    log_product: float = math.nan
    n_zero: int = -1
    n_negative: int = -1
    lowest_nonzero: float = math.nan
    n_extra_zero: int = -1
    energy: float = math.nan
    coords: np.ndarray | None = None

    def point(self, energy: float, coords) -> tuple[float, np.ndarray]:
        """The polished point of the check when it made one (the same minimum, converged
        further), else ``(energy, coords)`` as given."""
        if self.coords is None:
            return energy, coords
        return self.energy, self.coords


@dataclass
class CheckedOutcome:
    """A :class:`PairOutcome` and, per found TS, the Hessian checks of its two minima."""

    outcome: PairOutcome
    minima_info: list[tuple[MinimumInfo, MinimumInfo]] = field(default_factory=list)


def minimum_info(system, coords) -> MinimumInfo:
    from mlcore.optimize import minimize
    from mlcore.stationary import characterise_converged

    if system.ndim > CHARACTERISE_LIMIT:
        return MinimumInfo()
    info = characterise_converged(                # Newton-polished where dense
        system, coords, lambda x: minimize(system, x, tol=TIGHT_TOL).coords)
    # the file stores the canonical form (Database.add_minimum)
    return MinimumInfo(**info.minimum_fields(), energy=float(system.energy(info.coords)),
                       coords=info.coords)


def connect_pair_checked(system, coords_a, coords_b, settings, attempt: int = 0,
                         aligned: bool = False) -> CheckedOutcome:
    """Worker task: :func:`mloptim.connect.connect_pair`, then characterise the minima."""
    outcome = connect_pair(system, coords_a, coords_b, settings, attempt, aligned)
    checked = CheckedOutcome(outcome)
    for f in outcome.found:
        checked.minima_info.append((minimum_info(system, f.minus[1]), minimum_info(system, f.plus[1])))
    return checked


def store_minimum(db, energy, coords, info: MinimumInfo) -> tuple[int, bool]:
    """Add a push-off minimum with its Hessian check; fill in the check of a stored one
    that has none yet.  Returns ``(id, is_new)``."""
    fields = dict(log_product=info.log_product, n_zero=info.n_zero,
                  n_negative=info.n_negative, lowest_nonzero=info.lowest_nonzero,
                  n_extra_zero=info.n_extra_zero)
    mid, is_new = db.add_minimum(energy, coords, **fields)
    if not is_new and math.isfinite(info.log_product):
        if not math.isfinite(float(db.minimum(mid)["log_product"])):
            db.update_minimum(mid, **fields)
    return mid, is_new
