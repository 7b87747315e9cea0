"""The settings of the four programs: one frozen dataclass per input-file section.

This module is the single place where the keys, their defaults and their meaning live;
``docs/input-files.md`` is generated from it (``python -m mlcore.config.docs``).  Adding a
key is one :func:`~mlcore.config.schema.option` line here (then regenerate the doc).

Units: energies and temperatures in the units of the cost function (k_B = 1), distances
and steps in coordinate units, times in seconds.  Gradient tolerances are on the RMS
gradient, sqrt(sum g_i^2 / n), as in GMIN and OPTIM.
"""
from __future__ import annotations

from dataclasses import dataclass

from mlcore.config.schema import option
from mlcore.errors import InputError

STRATEGIES = ("unconnected", "untrap", "shortcut", "random")


def check_executor(value: str, key: str, where: str) -> str:
    """Accept ``serial``, ``processes[:N]``, ``dask`` or ``dask:ADDRESS_OR_FILE`` (a scheduler
    file is looked for when a program starts, not here)."""
    from mlcore.executors import parse_executor

    parse_executor(value, name=f"{where}: '{key}' =", check_file=False)
    return value


def _log_interval_option():
    return option(60.0, "Seconds between progress log lines when standard error is not a "
                  "terminal (batch jobs, pipes); a terminal shows a redrawn line instead.",
                  minimum=0.0, strict_min=True)


def _executor_option():
    return option("processes", "Where the work runs: serial, processes[:N] (default: all "
                  "cores), dask (a local cluster) or dask:ADDRESS_OR_SCHEDULER_FILE.",
                  check=check_executor)


# --------------------------------------------------------------------------- shared
@dataclass(frozen=True)
class QuenchSettings:
    """L-BFGS local minimisation (``quench``), as GMIN's and OPTIM's LBFGS keywords."""

    tol: float = option(1e-6, "Convergence: RMS gradient below this ends a quench.",
                        minimum=0.0, strict_min=True)
    tight_tol: float = option(1e-8, "RMS gradient for the tight re-convergence of the lowest "
                              "minima and of minima stored by push-off.", minimum=0.0, strict_min=True)
    M: int = option(4, "L-BFGS memory: number of correction pairs kept (GMIN/OPTIM UPDATES; "
                    "4 to 10 is usual).", minimum=1, maximum=100)
    max_step: float = option(0.1, "Largest step length of one L-BFGS iteration (GMIN MAXBFGS; "
                             "pele's 0.1, raise it for smooth landscapes).", minimum=0.0,
                             strict_min=True)
    max_rise: float = option(1e-4, "Largest energy rise accepted in one step before the step "
                             "is halved (GMIN MAXERISE).", minimum=0.0)
    max_iter: int = option(10000, "Iteration limit of one quench; a quench that reaches it "
                           "is reported as not converged.", minimum=1)
    H0: float = option(0.1, "Initial inverse-Hessian guess, which sets the first step "
                       "(GMIN DGUESS).", minimum=0.0, strict_min=True)


# --------------------------------------------------------------------------- mlgmin
@dataclass(frozen=True)
class MLGminSettings:
    """``[mlgmin]``: basin-hopping global optimisation (GMIN)."""

    steps: int = option(1000, "Basin-hopping steps per run.", minimum=0)
    runs: int = option(1, "Independent basin-hopping runs (run in parallel, each with its own "
                       "random stream derived from seed).", minimum=1)
    seed: int | None = option(None, "Seed of the random numbers; not set: drawn from the "
                              "operating system and recorded in the output file.", minimum=0)
    temperature: float = option(1.0, "Metropolis temperature of the acceptance test (energy "
                                "units); 0 accepts only downhill moves.", minimum=0.0)
    step_size: float = option(0.3, "Initial perturbation: every coordinate displaced "
                              "uniformly in [-step_size, step_size].", minimum=0.0, strict_min=True)
    adjust_every: int = option(50, "Adapt step_size every this many steps towards "
                               "target_acceptance (GMIN NACCEPT); 0 keeps it fixed.", minimum=0)
    target_acceptance: float = option(0.5, "Acceptance ratio aimed at when adapting the step "
                                      "(GMIN ACCRAT).", minimum=0.0, maximum=1.0)
    adjust_factor: float = option(0.9, "step_size is multiplied (acceptance too low) or divided "
                                  "(too high) by this factor.", minimum=0.0, maximum=1.0,
                                  strict_min=True)
    max_step_size: float | None = option(None, "Largest step_size the adaptation may reach; "
                                         "not set: 10 times step_size.", minimum=0.0,
                                         strict_min=True)
    reseed_after: int = option(0, "Restart from a random point after this many steps without a "
                               "new lowest minimum in a run; 0 never.", minimum=0)
    hessian_check: str = option("auto", "Which minima are checked by their Hessian (no "
                                "negative eigenvalue, no unexplained zero eigenvalue) before "
                                "they are stored: all (every quench result), saved (only the "
                                "save lowest, at the end), auto (all when ndim <= 60).",
                                choices=("auto", "all", "saved"))
    save: int = option(10, "Number of lowest minima re-converged tightly (tight_tol) at the "
                       "end of the run (GMIN SAVE).", minimum=0)
    target_energy: float | None = option(None, "Stop a run when a minimum at or below this "
                                         "energy is found (GMIN TARGET); not set: never.")
    time_limit: float | None = option(None, "Stop after this many seconds of wall time (then "
                                      "resumable); not set: no limit.", minimum=0.0,
                                      strict_min=True)
    quench: QuenchSettings = option(QuenchSettings, "Local minimisation settings.")  # noqa: RUF009
    executor: str = _executor_option()
    log_interval: float = _log_interval_option()
    output: str | None = option(None, "Output HDF5 file, relative to the input file; not set: "
                                "the input file's name with .h5.")


# --------------------------------------------------------------------------- mloptim
@dataclass(frozen=True)
class TSSearchSettings:
    """``[mloptim.ts]``: hybrid eigenvector-following transition-state search (OPTIM BFGSTS)."""

    max_iter: int = option(500, "Eigenvector-following steps before the search gives up.",
                           minimum=1)
    tol: float = option(1e-6, "Convergence: RMS gradient below this at a transition state.",
                        minimum=0.0, strict_min=True)
    max_uphill_step: float = option(0.2, "Largest step uphill along the lowest eigenvector "
                                    "(trust radius; OPTIM MAXMAX).", minimum=0.0, strict_min=True)
    max_step: float = option(0.2, "Largest step length of the tangent-space minimisation.",
                             minimum=0.0, strict_min=True)
    tangent_steps: int = option(10, "L-BFGS steps in the space orthogonal to the eigenvector "
                                "per uphill step (OPTIM BFGSSTEPS).", minimum=1)
    eig_max_iter: int = option(100, "Iterations of the Rayleigh-Ritz search for the lowest "
                               "Hessian eigenvector.", minimum=1)
    eig_tol: float = option(1e-4, "Convergence of the lowest eigenvector (RMS of the Rayleigh "
                            "quotient gradient).", minimum=0.0, strict_min=True)
    zero_eig_tol: float = option(1e-6, "Eigenvalues smaller in magnitude than this (relative to "
                                 "the largest) count as zero modes during the search, on the "
                                 "Hessian-vector path and for landscapes that do not name "
                                 "their zero modes; the final dense check uses the declared "
                                 "zero modes and an error bound instead.", minimum=0.0,
                                 strict_min=True)
    all_modes: bool = option(True, "Dense Hessians (ndim <= 300) on flat landscapes: where "
                             "there is one negative eigenvalue, step in every eigenmode at "
                             "once (Newton / rational-function eigenvector-following) "
                             "instead of the uphill step plus tangent L-BFGS; elsewhere, "
                             "if some mode is very soft (network L2 modes), minimise "
                             "across the followed mode by rational-function steps instead "
                             "of L-BFGS.")


@dataclass(frozen=True)
class NEBSettings:
    """``[mloptim.neb]``: doubly-nudged elastic band between two minima (OPTIM NEWNEB)."""

    image_density: float = option(10.0, "Images per unit distance between the end points "
                                  "(OPTIM IMAGEDENSITY).", minimum=0.0, strict_min=True)
    n_images: int | None = option(None, "Fixed number of intermediate images; not set: from "
                                  "image_density, clipped to [min_images, max_images].",
                                  minimum=1)
    min_images: int = option(3, "Fewest intermediate images of a band.", minimum=1)
    max_images: int = option(50, "Most intermediate images of a band.", minimum=1)
    spring_k: float = option(1.0, "Spring constant between images (OPTIM NEBK).",
                             minimum=0.0, strict_min=True)
    iterations: int = option(500, "Most L-BFGS iterations of a band (OPTIM NEBITERATIONS).",
                             minimum=1)
    iteration_density: float | None = option(None, "If set, L-BFGS iterations of a band per "
                                             "image: a band gets min(iterations, max(50, "
                                             "iteration_density * images)) (pele's "
                                             "iter_density); not set: iterations.", minimum=0.0,
                                             strict_min=True)
    tol: float = option(0.01, "RMS-gradient convergence of the band.", minimum=0.0,
                        strict_min=True)
    climbing: bool = option(True, "Let the highest images climb towards the saddle before "
                            "refinement by eigenvector-following.")
    double_nudged: bool = option(True, "Use the doubly-nudged spring force (DNEB).")

    def check(self, where: str) -> None:
        if self.min_images > self.max_images:
            raise InputError(f"{where}: 'min_images' = {self.min_images} exceeds "
                             f"'max_images' = {self.max_images}")


@dataclass(frozen=True)
class ConnectSettings:
    """``[mloptim.connect]``: double-ended connection of two minima (OPTIM NEWCONNECT)."""

    max_attempts: int = option(50, "Elastic-band cycles (choices of a missing link) before a "
                               "connect job gives up (OPTIM's NConMax).", minimum=1)
    max_tries_per_pair: int = option(3, "Bands tried between the same two minima, each with "
                                     "more images.", minimum=1)
    band_iteration_density: float = option(10.0, "Connect jobs cap each band at this many "
                                           "L-BFGS iterations per image (at least 50, at most "
                                           "[mloptim.neb] iterations), unless [mloptim.neb] "
                                           "iteration_density is set.", minimum=0.0,
                                           strict_min=True)
    image_density_factor: float = option(1.5, "Factor applied to image_density on each retry "
                                         "of a pair.", minimum=1.0)


@dataclass(frozen=True)
class PushOffSettings:
    """``[mloptim.push_off]``: from a transition state down to the two minima it connects."""

    step: float = option(0.01, "Displacement along the negative-eigenvalue eigenvector on "
                         "each side before the quench (OPTIM PUSHOFF).", minimum=0.0,
                         strict_min=True)
    max_energy_drop: float = option(0.0, "If positive, shrink the displacement until the energy "
                                    "drop is below this; 0 disables.", minimum=0.0)


@dataclass(frozen=True)
class MLOptimSettings:
    """``[mloptim]``: transition states, pathways, connect (OPTIM)."""

    ts: TSSearchSettings = option(TSSearchSettings, "Transition-state search.")  # noqa: RUF009
    neb: NEBSettings = option(NEBSettings, "Doubly-nudged elastic band.")  # noqa: RUF009
    connect: ConnectSettings = option(ConnectSettings, "Double-ended connect.")  # noqa: RUF009
    push_off: PushOffSettings = option(PushOffSettings, "Push-off from transition states.")  # noqa: RUF009
    quench: QuenchSettings = option(QuenchSettings, "Quenches after push-off.")  # noqa: RUF009
    seed: int | None = option(None, "Seed of the random numbers; not set: drawn from the "
                              "operating system and recorded.", minimum=0)
    executor: str = _executor_option()
    log_interval: float = _log_interval_option()


# --------------------------------------------------------------------------- mlpathsample
@dataclass(frozen=True)
class MLPathsampleSettings:
    """``[mlpathsample]``: growing the network and rates (PATHSAMPLE)."""

    strategy: str = option("unconnected", "How pairs are chosen: unconnected (join every "
                           "minimum to the global one), untrap, shortcut or random.",
                           choices=STRATEGIES)
    cycles: int = option(10, "Cycles of pair selection, connect jobs and merging.", minimum=1)
    pairs_per_cycle: int = option(4, "Connect jobs per cycle (PATHSAMPLE CONNECTPAIRS).",
                                  minimum=1)
    temperature: float = option(1.0, "Temperature of the rate constants of `mlpathsample "
                                "rates` when --temperature is not given (energy units). Pair "
                                "choice does not use it: untrap ranks by barrier over energy, "
                                "as PATHSAMPLE.", minimum=0.0, strict_min=True)
    seed: int | None = option(None, "Seed of the random numbers; not set: drawn from the "
                              "operating system and recorded.", minimum=0)
    executor: str = _executor_option()
    log_interval: float = _log_interval_option()


# --------------------------------------------------------------------------- mlanalyse
@dataclass(frozen=True)
class DGraphSettings:
    """``[mlanalyse.dgraph]``: disconnectivity graphs (disconnectionDPS)."""

    levels: int = option(20, "Number of regularly spaced energy thresholds (NLEVELS).",
                         minimum=2)
    emax: float | None = option(None, "Highest energy threshold; not set: the highest "
                                "transition state.")
    colour_by: str | None = option(None, "Per-minimum quantity that colours the branches "
                                   "(e.g. misclassification); not set: no colour.")
    lowest: int | None = option(None, "Draw only the branches of the lowest this many minima; "
                                "not set: all.", minimum=1)


@dataclass(frozen=True)
class CvSettings:
    """``[mlanalyse.cv]``: heat-capacity analogue (harmonic superposition)."""

    tmin: float = option(0.01, "Lowest temperature (energy units).", minimum=0.0, strict_min=True)
    tmax: float = option(1.0, "Highest temperature (energy units).", minimum=0.0,
                         strict_min=True)
    npoints: int = option(200, "Number of temperatures, evenly spaced from tmin to tmax.",
                          minimum=2)
    lowest: int | None = option(None, "Partial sum over the lowest this many minima; not set: "
                                "all minima.", minimum=1)

    def check(self, where: str) -> None:
        if self.tmin >= self.tmax:
            raise InputError(f"{where}: 'tmin' = {self.tmin} must be below 'tmax' = {self.tmax}")


@dataclass(frozen=True)
class MLAnalyseSettings:
    """``[mlanalyse]``: analysis and figures (disconnectionDPS and analysis scripts)."""

    dgraph: DGraphSettings = option(DGraphSettings, "Disconnectivity graph.")  # noqa: RUF009
    cv: CvSettings = option(CvSettings, "Heat-capacity analogue.")  # noqa: RUF009


#: The program sections of an input file and their settings classes.
PROGRAM_SECTIONS = {
    "mlgmin": MLGminSettings,
    "mloptim": MLOptimSettings,
    "mlpathsample": MLPathsampleSettings,
    "mlanalyse": MLAnalyseSettings,
}
