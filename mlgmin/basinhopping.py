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
   (``system.valid_minimum``, e.g. a dissociated cluster) is counted and rejected, never
   stored.  When the Hessian is checked the point is polished by Newton steps and
   characterised modulo the landscape's symmetries: a degenerate minimum (more zero
   eigenvalues than the symmetries give, none negative) is kept and flagged; a point with one
   negative eigenvalue is pushed off both ways and quenched again (the saddle is kept as a
   transition-state candidate); a higher-index point is rejected;
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
    lowest_nonzero: float = math.nan
    n_extra_zero: int = -1

    def hessian_fields(self) -> dict:
        """The Hessian columns of the file (``Database.add_minimum`` keywords)."""
        return dict(log_product=self.log_product, n_zero=self.n_zero,
                    n_negative=self.n_negative, lowest_nonzero=self.lowest_nonzero,
                    n_extra_zero=self.n_extra_zero)


@dataclass
class FoundSaddle:
    """A quench that ended on a point with one clearly negative Hessian eigenvalue, pushed
    off both ways: the saddle and the two minima below it (a transition-state candidate when
    they are distinct)."""

    energy: float
    coords: np.ndarray
    step: int
    neg_eigenvalue: float
    log_product: float
    n_zero: int
    minus: FoundMinimum
    plus: FoundMinimum


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
    def from_record(cls, scalars: dict, arrays: dict) -> RunState:
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
    tight_tol: float | None = None


@dataclass
class ChunkResult:
    """What :func:`advance` returns: the new state, the minima found, counters."""

    state: RunState
    minima: list[FoundMinimum]
    seconds: float
    saddles: list[FoundSaddle] = field(default_factory=list)


class _Quencher:
    """Quench, then decide whether the result is a minimum to keep.

    With the Hessian check, the quenched point is first polished by Newton steps
    (:func:`mlcore.symmetric_spectrum.refine_stationary`) and made canonical, then
    characterised modulo the landscape's symmetries: an isolated or a degenerate minimum
    (flagged by ``n_extra_zero``; its extra zero modes must all be free directions the
    landscape names, else the point is converged tightly and checked again, and rejected
    if flat directions that nothing explains remain) is kept; a point with one negative
    eigenvalue is pushed off
    along its eigenvector both ways and quenched again (the minima below it are kept, the
    lower one continues the run; the saddle is recorded in :attr:`saddles`); anything
    else is rejected.
    """

    def __init__(self, system, options: BasinHoppingOptions):
        self.system = system
        self.lbfgs = LBFGS(**options.quench)
        tight = dict(options.quench)
        tight["tol"] = options.tight_tol if options.tight_tol is not None \
            else 1e-3 * float(tight.get("tol", 1e-6))
        self.tight = LBFGS(**tight)
        self.check_hessian = options.check_hessian
        self.valid = getattr(system, "valid_minimum", None)
        self.side_minima: list[FoundMinimum] = []
        self.saddles: list[FoundSaddle] = []

    def _checked(self, coords, step: int):
        """``(kind, found, info)``: kind ``"minimum"``, ``"saddle"`` or ``"rejected"``."""
        from mlcore.stationary import characterise_converged

        info = characterise_converged(self.system, coords,                # polished first
                                      lambda x: self.tight.run(self.system, x).coords,
                                      with_vectors=True)
        energy = float(self.system.energy(info.coords))
        x = self.system.canonical(info.coords)    # the run continues from the canonical form
        found = FoundMinimum(energy, x, step, **info.minimum_fields())
        if info.unexplained_zero:
            return "rejected", found, info        # flat directions nothing explains
        if info.n_negative == 0:
            return "minimum", found, info
        if info.n_negative == 1 and info.n_extra_zero == 0:
            return "saddle", found, info
        return "rejected", found, info

    def _push_off(self, saddle: FoundMinimum, info, state: RunState):
        """The minima on both sides of an index-1 point, or None if a side fails."""
        from mloptim.push_off import displaced_points

        vec = info.eigenvectors[:, int(np.argmin(info.eigenvalues))]
        sides = []
        for start in displaced_points(self.system, info.coords, vec,
                                      min_rms=10.0 * self.lbfgs.tol):
            res = self.lbfgs.run(self.system, start)
            state.n_quenches += 1
            state.n_evaluations += int(res.nfev)
            if not res.success or (self.valid is not None and not self.valid(res.coords)):
                return None
            kind, found, _ = self._checked(res.coords, saddle.step)
            if kind != "minimum":
                return None
            sides.append(found)
        return sides

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
        if not self.check_hessian:
            return res, FoundMinimum(float(res.energy), np.array(res.coords), state.step)
        kind, found, info = self._checked(res.coords, state.step)
        if kind == "minimum":
            return res, found
        if kind == "saddle":
            sides = self._push_off(found, info, state)
            if sides is not None:
                minus, plus = sides
                self.saddles.append(FoundSaddle(
                    found.energy, found.coords, state.step, float(info.lowest_nonzero),
                    float(info.log_product_positive), int(info.n_zero), minus, plus))
                low, high = sorted(sides, key=lambda m: m.energy)
                self.side_minima.append(high)
                return res, low
        state.n_rejected += 1
        return res, None

    def drain(self, minima: list[FoundMinimum]) -> list[FoundSaddle]:
        """Move the side minima of push-offs into ``minima``; return and forget the saddles."""
        minima.extend(self.side_minima)
        self.side_minima = []
        saddles, self.saddles = self.saddles, []
        return saddles


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
        _, found = quench(system.random_coords(rng), state)
        if found is not None:
            state.coords, state.energy = found.coords.copy(), found.energy
            state.best_coords, state.best_energy = found.coords.copy(), found.energy
            state.rng_state = rng.bit_generator.state
            if options.target_energy is not None and found.energy <= options.target_energy:
                state.finished = True
            minima = [found]
            saddles = quench.drain(minima)
            return ChunkResult(state, minima, time.perf_counter() - t0, saddles)
        quench.drain([])
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
                _, found = quench(system.random_coords(rng), state)
                if found is not None:
                    found.step = state.step
                    minima.append(found)
                    state.coords, state.energy = found.coords.copy(), found.energy
                    break
            state.since_improvement = 0
        if state.step >= options.steps:
            state.finished = True
    state.rng_state = rng.bit_generator.state
    saddles = quench.drain(minima)
    return ChunkResult(state, minima, time.perf_counter() - t0, saddles)
