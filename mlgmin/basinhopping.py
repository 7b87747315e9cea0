"""Basin-hopping (GMIN): perturb, quench, accept by Metropolis, adapt the step.

The algorithm works on a :class:`RunState` and advances it by a number of steps in
:func:`advance`; it returns what it found and never prints or writes files (DESIGN
principle 4).  Because the whole state of a run, random-generator state included, is in
:class:`RunState`, a run advanced in chunks (and resumed from a stored state after a kill)
visits exactly the same minima as one advanced in one go.

One step:

1. ``trial = step_taker(current, step_size, rng)``;
2. quench ``trial`` with L-BFGS; a quench that does not converge is a rejected step;
3. a converged quench whose point the landscape does not accept as a minimum
   (``system.valid_minimum``, e.g. a dissociated cluster; or, when checked, a Hessian with a
   negative eigenvalue or more zero eigenvalues than the symmetries explain, such as the
   plateau of the regression landscape) is counted and rejected, never stored;
4. otherwise the minimum is recorded and the move accepted by ``accept(E_new, E_old, rng)``;
5. every ``adjust_every`` steps the step size is multiplied by ``adjust_factor`` when the
   acceptance ratio of the last window was below ``target_acceptance`` and divided by it
   when above (GMIN's ACCRAT scheme), never beyond ``max_step_size`` (a landscape with few
   minima accepts nearly every move, and unbounded growth would make the moves, and the
   quenches after them, ever larger);
6. after ``reseed_after`` steps without a new lowest minimum the run restarts from a
   random point (the lowest minimum found so far stays recorded).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from mlcore.optimize import LBFGS
from mlcore.randomness import generator_from_state


@dataclass
class FoundMinimum:
    """A minimum found by a run: energy, coordinates, step, and its Hessian check if made."""

    energy: float
    coords: np.ndarray
    step: int
    log_product: float = math.nan
    n_zero: int = -1
    n_negative: int = -1


@dataclass
class RunState:
    """Everything a basin-hopping run needs to continue (stored for ``--resume``).

    Attributes
    ----------
    run : int
        0-based index of the run.
    step : int
        Steps completed.
    coords, energy :
        The current (last accepted) minimum.
    best_coords, best_energy :
        The lowest minimum the run has found.
    step_size : float
        The current perturbation size.
    rng_state : dict
        ``numpy.random.Generator.bit_generator.state`` (PCG64).
    since_improvement : int
        Steps since ``best_energy`` last went down (for reseeding).
    window_tried, window_accepted : int
        Moves tried and accepted since the step size was last adapted.
    n_accepted, n_failed_quenches, n_rejected : int
        Totals: accepted moves, quenches that did not converge, converged quenches that
        were not minima.
    n_quenches, n_evaluations : int
        Quenches made and energy evaluations spent.
    finished : bool
        The run reached its step budget or the target energy.
    """

    run: int
    step: int
    coords: np.ndarray
    energy: float
    best_coords: np.ndarray
    best_energy: float
    step_size: float
    rng_state: dict
    since_improvement: int = 0
    window_tried: int = 0
    window_accepted: int = 0
    n_accepted: int = 0
    n_failed_quenches: int = 0
    n_rejected: int = 0
    n_quenches: int = 0
    n_evaluations: int = 0
    finished: bool = False

    def to_record(self) -> tuple[dict, dict]:
        """A JSON-safe dict and a dict of arrays that :meth:`from_record` reads back."""
        scalars = {k: getattr(self, k) for k in (
            "run", "step", "energy", "best_energy", "step_size", "since_improvement",
            "window_tried", "window_accepted", "n_accepted", "n_failed_quenches",
            "n_rejected", "n_quenches", "n_evaluations", "finished")}
        scalars["rng_state"] = self.rng_state
        return scalars, {"coords": np.asarray(self.coords), "best_coords": np.asarray(self.best_coords)}

    @classmethod
    def from_record(cls, scalars: dict, arrays: dict) -> "RunState":
        return cls(coords=np.array(arrays["coords"], dtype=np.float64),
                   best_coords=np.array(arrays["best_coords"], dtype=np.float64), **scalars)


@dataclass
class BasinHoppingOptions:
    """Options of the algorithm (the ``[mlgmin]`` keys that act inside a run)."""

    steps: int = 1000
    temperature: float = 1.0
    step_size: float = 0.3
    adjust_every: int = 50
    target_acceptance: float = 0.5
    adjust_factor: float = 0.9
    max_step_size: float = math.inf
    reseed_after: int = 0
    target_energy: float | None = None
    check_hessian: bool = False
    quench: dict = field(default_factory=dict)


@dataclass
class ChunkResult:
    """What :func:`advance` returns: the new state, the minima found, counters."""

    state: RunState
    minima: list[FoundMinimum]
    seconds: float


class _Quencher:
    """Quench, then decide whether the result is a minimum to keep."""

    def __init__(self, system, options: BasinHoppingOptions):
        self.system = system
        self.lbfgs = LBFGS(**options.quench)
        self.check_hessian = options.check_hessian
        self.valid = getattr(system, "valid_minimum", None)

    def __call__(self, coords, state: RunState):
        """Return ``(result, found)``: the quench result and a FoundMinimum or None."""
        res = self.lbfgs.run(self.system, coords)
        state.n_quenches += 1
        state.n_evaluations += int(res.nfev)
        if not res.success:
            state.n_failed_quenches += 1
            return res, None
        if self.valid is not None and not self.valid(res.coords):
            state.n_rejected += 1
            return res, None
        found = FoundMinimum(float(res.energy), np.array(res.coords), state.step)
        if self.check_hessian:
            from mlcore.stationary import characterise

            info = characterise(self.system, res.coords)
            if not info.is_minimum:
                state.n_rejected += 1
                return res, None
            found.log_product = float(info.log_product)
            found.n_zero = int(info.n_zero)
            found.n_negative = int(info.n_negative)
        return res, found


def start_run(system, run: int, seed_sequence: np.random.SeedSequence,
              options: BasinHoppingOptions) -> ChunkResult:
    """Start run ``run``: a random point, quenched until it gives a minimum (step 0).

    Up to 100 random starts are tried; if none quenches to a valid minimum a
    ``RuntimeError`` says so.
    """
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed_sequence)
    state = RunState(run=run, step=0, coords=np.zeros(system.ndim), energy=math.inf,
                     best_coords=np.zeros(system.ndim), best_energy=math.inf,
                     step_size=float(options.step_size), rng_state={})
    quench = _Quencher(system, options)
    for _ in range(100):
        res, found = quench(system.random_coords(rng), state)
        if found is not None:
            state.coords, state.energy = found.coords.copy(), found.energy
            state.best_coords, state.best_energy = found.coords.copy(), found.energy
            state.rng_state = rng.bit_generator.state
            if options.target_energy is not None and found.energy <= options.target_energy:
                state.finished = True
            return ChunkResult(state, [found], time.perf_counter() - t0)
    raise RuntimeError(f"run {run + 1}: 100 random starts gave no valid minimum "
                       f"(failed quenches: {state.n_failed_quenches}, rejected: {state.n_rejected})")


def advance(system, state: RunState, n_steps: int, options: BasinHoppingOptions,
            step_taker, accept, deadline: float | None = None) -> ChunkResult:
    """Advance ``state`` by up to ``n_steps`` basin-hopping steps (in place; also returned).

    Stops early at the step budget ``options.steps``, at ``options.target_energy``, or when
    ``time.time()`` passes ``deadline``.
    """
    t0 = time.perf_counter()
    rng = generator_from_state(state.rng_state)
    quench = _Quencher(system, options)
    minima: list[FoundMinimum] = []
    # "finished" is judged against this call's budget and target (a resumed job may have
    # raised the step budget of runs that had finished)
    state.finished = False
    for _ in range(n_steps):
        if state.finished or state.step >= options.steps:
            state.finished = True
            break
        if deadline is not None and time.time() > deadline:
            break
        state.step += 1
        trial = step_taker(state.coords, state.step_size, rng)
        res, found = quench(trial, state)
        state.window_tried += 1
        improved = False
        if found is not None:
            minima.append(found)
            if accept(found.energy, state.energy, rng):
                state.coords, state.energy = found.coords.copy(), found.energy
                state.n_accepted += 1
                state.window_accepted += 1
            if found.energy < state.best_energy - 1e-12:
                state.best_coords, state.best_energy = found.coords.copy(), found.energy
                improved = True
        state.since_improvement = 0 if improved else state.since_improvement + 1
        if options.adjust_every and state.window_tried >= options.adjust_every:
            ratio = state.window_accepted / state.window_tried
            if ratio > options.target_acceptance:
                state.step_size = min(state.step_size / options.adjust_factor,
                                      options.max_step_size)
            elif ratio < options.target_acceptance:
                state.step_size *= options.adjust_factor
            state.window_tried = state.window_accepted = 0
        if options.target_energy is not None and state.best_energy <= options.target_energy:
            state.finished = True
        elif options.reseed_after and state.since_improvement >= options.reseed_after:
            for _ in range(100):
                res, found = quench(system.random_coords(rng), state)
                if found is not None:
                    found.step = state.step
                    minima.append(found)
                    state.coords, state.energy = found.coords.copy(), found.energy
                    break
            state.since_improvement = 0
        if state.step >= options.steps:
            state.finished = True
    state.rng_state = rng.bit_generator.state
    return ChunkResult(state, minima, time.perf_counter() - t0)
