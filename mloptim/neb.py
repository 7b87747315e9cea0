"""Doubly-nudged elastic band (DNEB) between two minima, relaxed by the shared L-BFGS.

    from mloptim.neb import NEBBand, run_neb
    result = run_neb(system, min_a, min_b, NEBSettings(n_images=10))
    result.images[result.maxima[0]]      # the highest local maximum: a transition-state guess

The band (DESIGN principle 1) is an optimisable object in its own right: :class:`NEBBand`
has ``ndim`` (the intermediate images, flattened) and ``energy_gradient``, and the same
L-BFGS that quenches a landscape relaxes it (:func:`mlcore.optimize.minimize`).

The band gradient
-----------------
Images ``x_0 .. x_{n+1}`` with energies ``V_i`` and true gradients ``g_i``; the end points
``x_0`` and ``x_{n+1}`` (the minima) are fixed, the ``n`` intermediate images move.  For an
intermediate image ``i``, with ``t+ = x_{i+1} - x_i`` and ``t- = x_i - x_{i-1}``:

tangent ``tau_i`` (Henkelman & Jonsson, J. Chem. Phys. 113, 9978 (2000), improved tangent)
    ``t+`` if ``V_{i+1} > V_i > V_{i-1}``; ``t-`` if ``V_{i+1} < V_i < V_{i-1}``; otherwise
    (extremum of the profile) ``t+ dVmax + t- dVmin`` if ``V_{i+1} > V_{i-1}`` else
    ``t+ dVmin + t- dVmax``, with ``dVmax, dVmin`` the larger and smaller of
    ``|V_{i+1} - V_i|`` and ``|V_{i-1} - V_i|``; normalised.  (An exactly flat profile, where
    the weights vanish, uses the bisector ``t+/|t+| + t-/|t-|``.)
true gradient, perpendicular part
    ``g_perp = g - (g . tau) tau``.
spring gradient
    the spring energy is ``E_s = k/2 sum_{i=0..n} |x_{i+1} - x_i|^2``, whose gradient on image
    ``i`` is ``gs = k (2 x_i - x_{i-1} - x_{i+1})``.
parallel spring part
    ``gs_par = -k (|t+| - |t-|) tau`` (Henkelman & Jonsson): it depends only on the spacings,
    so the band relaxes to equally spaced images even where the path is curved.
doubly-nudged part (Trygubenko & Wales, J. Chem. Phys. 120, 2082 (2004))
    ``gs_perp = gs - (gs . tau) tau`` and ``gs_dneb = gs_perp - (gs_perp . u) u`` with
    ``u = g_perp / |g_perp|``: the part of the perpendicular spring gradient that does not
    oppose the perpendicular true gradient.  It keeps the images from bunching and kinking
    when ``g_perp`` is large, which makes the band well behaved under L-BFGS.
image gradient
    ``g_perp + gs_par (+ gs_dneb if double_nudged)``.
climbing image (Henkelman, Uberuaga & Jonsson, J. Chem. Phys. 113, 9901 (2000))
    the highest intermediate image, if it is a strict local maximum of the energy profile,
    feels no spring and the inverted parallel true gradient: ``g - 2 (g . tau) tau``.  It
    climbs along the band to the saddle and converges onto it.  The climbing images are
    chosen once, from the band the :class:`NEBBand` is built with, and stay fixed: choosing
    them anew at every evaluation makes the band gradient jump whenever two images swap
    places in the profile, which sends L-BFGS astray (observed on Mueller-Brown).

On a manifold (pspin, the sphere) the true gradients are tangent already; the spring
gradient and the tangent are projected onto the tangent space of each image, and the band's
``retract`` and ``project_tangent`` act image by image, so L-BFGS keeps every image on the
sphere.

The objective
-------------
The band gradient is not the gradient of any function (the projections and the climbing
image break that).  As is common practice (OPTIM), the energy that L-BFGS sees is the sum of the
intermediate image energies plus the spring energy; it is what the energy-rise test of
L-BFGS compares.  Along the nudged direction that sum can rise legitimately (the springs
move images uphill to space them; a climbing image climbs), and a quench-sized ``max_rise``
(1e-4) then halves good steps away and stalls the band.  Band relaxations therefore use
their own step control (:data:`BAND_MAX_RISE`, :data:`BAND_MAX_STEP`): the rise test only
rejects steps that blow up (overlapping atoms, non-finite energies) and the length of a
step is what limits it.  Should a relaxation nevertheless run away (an image ends higher than the
highest image of the interpolation by more than the interpolation's energy span, or an
energy is not finite), :func:`run_neb` relaxes the band again from the interpolation with
the quench-like :data:`SAFE_MAX_RISE` (unless the caller chose ``max_rise``).

The spring constant must suit the landscape's energy scale: springs much softer than the
curvature across the path (``k = 1`` on Mueller-Brown, whose curvatures are of order 10^3)
make the band so ill-conditioned that it does not relax; ``k`` of a few percent of those
curvatures works.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from mlcore.landscape import as_coords
from mlcore.optimize import LBFGS, QuenchResult
from mloptim.interpolate import interpolate, is_manifold

#: Largest rise of the band objective accepted in one L-BFGS step (see the module docstring):
#: large against the barriers of every landscape of the suite, small against the energy of
#: two overlapping Lennard-Jones atoms, and finite, so non-finite energies are still rejected.
BAND_MAX_RISE = 1e3

#: ``max_rise`` of the retry after a blown-up relaxation (pele's quench value): steps can then
#: hardly raise the band objective, which may stall the band before convergence but cannot
#: let it run away.
SAFE_MAX_RISE = 1e-4

#: Largest step (Euclidean length, all images together) of one band L-BFGS iteration:
#: pele's quench step, so that no image moves further than in one quench step.  Larger
#: caps (``0.1 sqrt(n_images)``) let the first step after a (re)start, ``-H0 g``, throw the
#: climbing image across a narrow saddle.
BAND_MAX_STEP = 0.1

#: L-BFGS memory of the band (OPTIM NEB practice: a few pairs).
BAND_M = 4

#: Fraction of the iteration budget spent relaxing the band before the climbing image is
#: switched on (climbing from an unrelaxed band chases the wrong maximum).
PRE_CLIMB_FRACTION = 0.5

#: Tolerance factor of the pre-climbing relaxation: the band is relaxed to
#: ``PRE_CLIMB_TOL_FACTOR * tol`` before the climbing image starts.
PRE_CLIMB_TOL_FACTOR = 5.0

_TINY = 1e-300


# --------------------------------------------------------------------------- the band
@dataclass
class BandGradient:
    """The parts of the band gradient at one configuration (see the module docstring).

    All per-image arrays have shape ``(n_images, ndim_system)`` (intermediate images only)
    unless stated.

    Attributes
    ----------
    images : ndarray, shape (n_images + 2, ndim_system)
        The whole band, end points included.
    energies : ndarray, shape (n_images + 2,)
        Energies of all images, end points included.
    true_gradient : ndarray
        The landscape gradients ``g_i`` (tangent-space gradients on a manifold).
    tangents : ndarray
        Unit tangents ``tau_i``.
    true_perp : ndarray
        ``g_perp = g - (g . tau) tau``.
    spring_gradient : ndarray
        Gradient of the spring energy ``k (2 x_i - x_{i-1} - x_{i+1})`` (projected onto the
        tangent space on a manifold).
    spring_parallel : ndarray
        ``-k (|t+| - |t-|) tau``.
    spring_dneb : ndarray
        The doubly-nudged part ``gs_perp - (gs_perp . u) u`` (computed whether or not it is used).
    climbing : tuple of int
        Indices (into the whole band, 1..n) of the climbing images (fixed per band).
    spring_energy : float
        ``k/2 sum |x_{i+1} - x_i|^2``.
    gradient : ndarray
        The band gradient the optimiser sees.
    """

    images: np.ndarray
    energies: np.ndarray
    true_gradient: np.ndarray
    tangents: np.ndarray
    true_perp: np.ndarray
    spring_gradient: np.ndarray
    spring_parallel: np.ndarray
    spring_dneb: np.ndarray
    climbing: tuple
    spring_energy: float
    gradient: np.ndarray


class NEBBand:
    """A (doubly-)nudged elastic band as an optimisable object.

    Parameters
    ----------
    system : mlcore.landscape.System
        The landscape (``ndim``, ``energy_gradient``; ``project_tangent``, ``retract`` on a
        manifold).
    images : array_like, shape (n_images + 2, ndim_system)
        The initial band, end points first and last (e.g. from
        :func:`mloptim.interpolate.interpolate`).  The end points stay fixed.
    spring_k : float
        Spring constant ``k`` (OPTIM NEBK), energy per squared distance.
    double_nudged : bool
        Add the doubly-nudged perpendicular spring part (DNEB); False gives plain NEB with
        the improved tangent.
    climbing : bool, int or sequence of int
        The climbing images.  A number (True = 1): that many of the highest strict local
        maxima of the energy profile of ``images``, chosen here once and kept fixed.  A
        sequence: the indices (into ``images``, 1..n_images) themselves.

    Attributes
    ----------
    climbing : tuple of int
        Indices (into the whole band) of the climbing images, highest first.
    ndim : int
        ``n_images * ndim_system``: the optimiser's vector is the intermediate images,
        flattened row by row.
    n_images, ndim_system : int
    start, end : ndarray, shape (ndim_system,)
        The fixed end points.
    end_energies : tuple of float
        Their energies.
    x0 : ndarray, shape (ndim,)
        The initial intermediate images, flattened.
    manifold : bool
        True if the landscape lives on a manifold (images are retracted).
    """

    def __init__(self, system, images, *, spring_k: float = 1.0, double_nudged: bool = True,
                 climbing: bool | int | Sequence[int] = False):
        band = np.array(images, dtype=np.float64)
        if band.ndim != 2 or band.shape[0] < 3:
            raise ValueError(f"images must have shape (n_images + 2, ndim) with n_images >= 1, "
                             f"got {band.shape}")
        if band.shape[1] != int(system.ndim):
            raise ValueError(f"images have {band.shape[1]} coordinates, the landscape has "
                             f"ndim = {system.ndim}")
        if not spring_k > 0.0:
            raise ValueError(f"spring_k must be > 0, got {spring_k!r}")
        self.system = system
        self.n_images = band.shape[0] - 2
        self.ndim_system = band.shape[1]
        self.ndim = self.n_images * self.ndim_system
        self.spring_k = float(spring_k)
        self.double_nudged = bool(double_nudged)
        self.manifold = is_manifold(system)
        self.start = band[0].copy()
        self.end = band[-1].copy()
        self.end_energies = (float(system.energy_gradient(self.start.copy())[0]),
                             float(system.energy_gradient(self.end.copy())[0]))
        self.x0 = band[1:-1].reshape(-1).copy()
        if isinstance(climbing, (bool, int, np.integer)):
            if int(climbing) < 0:
                raise ValueError(f"climbing must be >= 0, got {climbing!r}")
            if int(climbing) == 0:
                self.climbing = ()
            else:
                energies = np.array([self.end_energies[0]]
                                    + [float(system.energy_gradient(band[i].copy())[0])
                                       for i in range(1, self.n_images + 1)]
                                    + [self.end_energies[1]])
                self.climbing = tuple(local_maxima(energies)[: int(climbing)])
        else:
            self.climbing = tuple(int(i) for i in climbing)
            bad = [i for i in self.climbing if not 1 <= i <= self.n_images]
            if bad:
                raise ValueError(f"climbing image indices {bad} outside 1..{self.n_images}")

    def __repr__(self) -> str:
        return (f"NEBBand(n_images={self.n_images}, ndim_system={self.ndim_system}, "
                f"spring_k={self.spring_k!r}, double_nudged={self.double_nudged}, "
                f"climbing={self.climbing})")

    # ------------------------------------------------------------------ layout
    def full_images(self, x) -> np.ndarray:
        """The whole band for the optimiser vector ``x``: shape ``(n_images + 2, ndim_system)``."""
        inner = as_coords(x, self.ndim, "band coords").reshape(self.n_images, self.ndim_system)
        return np.vstack([self.start[None, :], inner, self.end[None, :]])

    # ------------------------------------------------------------------ manifold hooks
    def project_tangent(self, x, vec) -> np.ndarray:
        """Project ``vec`` image by image onto the tangent spaces at the images of ``x``."""
        if not self.manifold:
            return vec
        xs = as_coords(x, self.ndim).reshape(self.n_images, self.ndim_system)
        out = np.array(vec, dtype=np.float64).reshape(self.n_images, self.ndim_system)
        for i in range(self.n_images):
            out[i] = self._project(xs[i], out[i])
        return out.reshape(-1)

    def retract(self, x) -> np.ndarray:
        """Map every image of ``x`` back onto the manifold (a new array)."""
        if not self.manifold:
            return x
        out = np.array(x, dtype=np.float64).reshape(self.n_images, self.ndim_system)
        for i in range(self.n_images):
            res = self.system.retract(out[i])   # in place for compiled kernels
            if res is not None:
                out[i] = res
        return out.reshape(-1)

    def _project(self, at, vec) -> np.ndarray:
        res = self.system.project_tangent(np.ascontiguousarray(at), np.array(vec, dtype=np.float64))
        return np.asarray(res, dtype=np.float64)

    # ------------------------------------------------------------------ pieces
    def spring_energy_gradient(self, x) -> tuple[float, np.ndarray]:
        """Spring energy ``k/2 sum_{i=0..n} |x_{i+1} - x_i|^2`` and its plain (ambient)
        gradient with respect to the intermediate images, shape ``(ndim,)``."""
        band = self.full_images(x)
        diffs = np.diff(band, axis=0)                         # (n + 1, d)
        energy = 0.5 * self.spring_k * float(np.sum(diffs * diffs))
        grad = self.spring_k * (diffs[:-1] - diffs[1:])       # k (2 x_i - x_{i-1} - x_{i+1})
        return energy, grad.reshape(-1)

    def tangents(self, band: np.ndarray, energies: np.ndarray) -> np.ndarray:
        """Unit improved tangents (Henkelman & Jonsson) of the intermediate images.

        Parameters
        ----------
        band : ndarray, shape (n_images + 2, ndim_system)
        energies : ndarray, shape (n_images + 2,)

        Returns
        -------
        ndarray, shape (n_images, ndim_system)
        """
        tp = band[2:] - band[1:-1]
        tm = band[1:-1] - band[:-2]
        vp, v0, vm = energies[2:], energies[1:-1], energies[:-2]
        dp, dm = np.abs(vp - v0), np.abs(vm - v0)
        dmax, dmin = np.maximum(dp, dm), np.minimum(dp, dm)
        up = (vp > v0) & (v0 > vm)
        down = (vp < v0) & (v0 < vm)
        wp = np.where(vp > vm, dmax, dmin)
        wm = np.where(vp > vm, dmin, dmax)
        wp = np.where(up, 1.0, np.where(down, 0.0, wp))
        wm = np.where(up, 0.0, np.where(down, 1.0, wm))
        tau = wp[:, None] * tp + wm[:, None] * tm
        if self.manifold:
            for i in range(self.n_images):
                tau[i] = self._project(band[i + 1], tau[i])
        norms = np.linalg.norm(tau, axis=1)
        for i in np.flatnonzero(~(norms > _TINY)):
            # flat profile: the bisector of the two unit segment vectors
            tau[i] = (tp[i] / max(np.linalg.norm(tp[i]), _TINY)
                      + tm[i] / max(np.linalg.norm(tm[i]), _TINY))
            if self.manifold:
                tau[i] = self._project(band[i + 1], tau[i])
            norms[i] = np.linalg.norm(tau[i])
        tau /= np.maximum(norms, _TINY)[:, None]
        return tau

    def _image_energies_gradients(self, band) -> tuple[np.ndarray, np.ndarray]:
        """Energies of the whole band (end points stored) and true gradients of the
        intermediate images, shapes ``(n_images + 2,)`` and ``(n_images, ndim_system)``."""
        energies = np.empty(self.n_images + 2)
        energies[0], energies[-1] = self.end_energies
        energies[1:-1], true_grad = self.system.energy_gradient_rows(band[1:-1])
        return energies, np.ascontiguousarray(true_grad)

    def decompose(self, x) -> BandGradient:
        """Every part of the band gradient at ``x`` (see :class:`BandGradient`)."""
        band = self.full_images(x)
        n, d = self.n_images, self.ndim_system
        energies, true_grad = self._image_energies_gradients(band)
        tau = self.tangents(band, energies)
        true_perp = true_grad - np.sum(true_grad * tau, axis=1)[:, None] * tau

        spring_energy, gs_flat = self.spring_energy_gradient(x)
        gs = gs_flat.reshape(n, d)
        if self.manifold:
            for i in range(n):
                gs[i] = self._project(band[i + 1], gs[i])
        len_p = np.linalg.norm(band[2:] - band[1:-1], axis=1)
        len_m = np.linalg.norm(band[1:-1] - band[:-2], axis=1)
        spring_par = (-self.spring_k * (len_p - len_m))[:, None] * tau
        spring_perp = gs - np.sum(gs * tau, axis=1)[:, None] * tau
        perp_norm = np.linalg.norm(true_perp, axis=1)
        unit = true_perp / np.where(perp_norm > _TINY, perp_norm, 1.0)[:, None]
        spring_dneb = spring_perp - np.sum(spring_perp * unit, axis=1)[:, None] * unit

        grad = true_perp + spring_par
        if self.double_nudged:
            grad = grad + spring_dneb
        climbing = self.climbing
        for c in climbing:
            j = c - 1
            grad[j] = true_grad[j] - 2.0 * float(true_grad[j] @ tau[j]) * tau[j]
        return BandGradient(images=band, energies=energies, true_gradient=true_grad,
                            tangents=tau, true_perp=true_perp, spring_gradient=gs,
                            spring_parallel=spring_par, spring_dneb=spring_dneb,
                            climbing=climbing, spring_energy=spring_energy,
                            gradient=grad.reshape(-1))

    # ------------------------------------------------------------------ protocol
    def energy_gradient(self, x) -> tuple[float, np.ndarray]:
        """``(objective, band gradient)``: objective = sum of the intermediate image energies
        plus the spring energy; gradient as in the module docstring, shape ``(ndim,)``."""
        if self.manifold:
            parts = self.decompose(x)
            return float(np.sum(parts.energies[1:-1])) + parts.spring_energy, parts.gradient
        # flat landscapes: the same gradient from the compiled kernels.band, without the
        # intermediate parts that decompose keeps for diagnostics
        from kernels.band import band_gradient

        band = self.full_images(x)
        energies, true_grad = self._image_energies_gradients(band)
        grad, spring_energy = band_gradient(band, energies, true_grad, self.spring_k,
                                            self.double_nudged, self.climbing)
        return float(np.sum(energies[1:-1])) + spring_energy, grad


def local_maxima(energies) -> list:
    """Indices of the strict interior local maxima of an energy profile, highest first.

    Parameters
    ----------
    energies : array_like, shape (m,)
        The profile, end points first and last (the end points themselves are never maxima).
    """
    e = np.asarray(energies, dtype=np.float64)
    idx = [i for i in range(1, e.size - 1) if e[i] > e[i - 1] and e[i] > e[i + 1]]
    return sorted(idx, key=lambda i: -e[i])


# --------------------------------------------------------------------------- driver
@dataclass
class NEBResult:
    """Outcome of :func:`run_neb`.

    Attributes
    ----------
    images : ndarray, shape (n_images + 2, ndim)
        The relaxed band, end points included (the second end point aligned onto the first).
    energies : ndarray, shape (n_images + 2,)
        Energies of the images.
    maxima : list of int
        Indices into ``images`` of the strict local maxima of the profile, highest first:
        the transition-state candidates for refinement by eigenvector-following.
    climbing : list of int
        Indices of the images that climbed in the final stage (empty without climbing).
    iterations : int
        L-BFGS iterations, both stages.
    nfev : int
        Energy-and-gradient evaluations of single images (band evaluations times n_images).
    rms : float
        RMS band gradient ``|g| / sqrt(n_images ndim)`` at the end.
    converged : bool
        True if the final stage reached ``settings.tol``.
    distance : float
        Distance between the end points after alignment.
    n_images : int
        Number of intermediate images.
    message : str
        The final L-BFGS message.
    stages : list of QuenchResult
        The L-BFGS results of the stages (relaxation, then climbing; those of the retry
        follow those of the first attempt).
    climbing_rms : list of float
        RMS true gradient ``|g| / sqrt(ndim)`` at each climbing image (how close it is to
        the saddle), in the order of ``climbing``.
    retried : bool
        True if the first relaxation blew up and the band was relaxed again from the
        interpolation with the quench-like ``max_rise`` :data:`SAFE_MAX_RISE`.
    """

    images: np.ndarray
    energies: np.ndarray
    maxima: list
    climbing: list
    iterations: int
    nfev: int
    rms: float
    converged: bool
    distance: float
    n_images: int
    message: str
    stages: list = field(default_factory=list, repr=False)
    climbing_rms: list = field(default_factory=list)
    retried: bool = False

    @property
    def highest(self) -> int | None:
        """Index of the highest local maximum, or None if the profile has none."""
        return self.maxima[0] if self.maxima else None


def choose_n_images(distance: float, settings) -> int:
    """Number of intermediate images (OPTIM NEWCONNECT practice).

    ``settings.n_images`` if set, else ``round(image_density * distance)`` clipped to
    ``[min_images, max_images]``.
    """
    if settings.n_images is not None:
        return int(settings.n_images)
    n = round(settings.image_density * float(distance))
    return int(min(max(n, settings.min_images), settings.max_images))


def band_iterations(settings, n_images: int) -> int:
    """Iteration budget of a band: ``iterations``, or with ``iteration_density`` set
    ``min(iterations, max(50, iteration_density * n_images))`` (pele's iter_density)."""
    density = getattr(settings, "iteration_density", None)
    if density is None:
        return int(settings.iterations)
    return int(min(settings.iterations, max(50, math.ceil(float(density) * n_images))))


def band_lbfgs(n_images: int, tol: float, max_iter: int, options=None) -> LBFGS:
    """The L-BFGS that relaxes a band of ``n_images`` images.

    Parameters
    ----------
    n_images : int
    tol : float
        RMS band-gradient convergence.
    max_iter : int
        Iteration limit.
    options : None, Mapping, QuenchSettings-like or LBFGS
        None: the band defaults (:data:`BAND_M`, :data:`BAND_MAX_STEP`,
        :data:`BAND_MAX_RISE`, ``H0 = 0.1``).  A mapping overrides any of
        ``M, max_step, max_rise, H0`` (and ``tol, max_iter``).  An object with attributes
        ``M`` and ``H0`` (a :class:`mlcore.config.settings.QuenchSettings`) supplies those two
        (the quench's max_step and max_rise are for quenches, not bands).  An
        :class:`mlcore.optimize.LBFGS` instance is used as it is, with ``tol`` and
        ``max_iter`` replaced by the band's.
    """
    opts = {"tol": float(tol), "M": BAND_M, "max_iter": int(max_iter),
            "max_step": BAND_MAX_STEP,
            "max_rise": BAND_MAX_RISE, "H0": 0.1}
    if isinstance(options, LBFGS):
        opts.update(options.settings())
        opts["tol"], opts["max_iter"] = float(tol), int(max_iter)
    elif isinstance(options, Mapping):
        unknown = set(options) - set(opts)
        if unknown:
            raise ValueError(f"unknown band L-BFGS options {sorted(unknown)}; "
                             f"valid: {sorted(opts)}")
        opts.update(options)
    elif options is not None:
        opts["M"], opts["H0"] = int(options.M), float(options.H0)
    return LBFGS(backend="python", **opts)


def run_neb(system, coords_a, coords_b, settings=None, lbfgs=None, *,
            align: bool = True) -> NEBResult:
    """Relax a doubly-nudged elastic band between two minima.

    Parameters
    ----------
    system : mlcore.landscape.System
        The landscape.
    coords_a, coords_b : array_like, shape (ndim,)
        The end points (minima).  ``b`` is aligned onto ``a`` first (unless ``align`` is
        False), see :func:`mloptim.interpolate.interpolate`.
    settings : mlcore.config.settings.NEBSettings, optional
        Images, spring constant, iterations, tolerance, climbing, double nudging; default
        ``NEBSettings()``.
    lbfgs : None, Mapping, QuenchSettings or LBFGS, optional
        Step control of the band L-BFGS, see :func:`band_lbfgs`.
    align : bool
        Align ``b`` onto ``a`` before interpolating.

    Returns
    -------
    NEBResult

    Notes
    -----
    The number of images is ``settings.n_images`` or ``image_density * distance`` clipped
    to ``[min_images, max_images]``.  Without climbing the band is relaxed once, to
    ``settings.tol`` within ``settings.iterations`` L-BFGS iterations.  With climbing it is
    first relaxed without climbing (to ``PRE_CLIMB_TOL_FACTOR * tol``, within
    ``PRE_CLIMB_FRACTION`` of the iterations), then the highest local maximum climbs and
    the band is relaxed to ``tol`` with the remaining iterations.
    """
    if settings is None:
        from mlcore.config.settings import NEBSettings

        settings = NEBSettings()
    a = as_coords(coords_a, int(system.ndim), "coords_a")
    b = as_coords(coords_b, int(system.ndim), "coords_b")
    if align:
        distance, b = system.align(a, b)
        b = as_coords(b, int(system.ndim), "aligned coords_b")
    distance = float(np.linalg.norm(b - a))
    n_images = choose_n_images(distance, settings)
    images = interpolate(system, a, b, n_images, align=False)

    budget = band_iterations(settings, n_images)
    band, x, stages = _relax(system, images, settings, lbfgs, budget)
    parts = band.decompose(x)
    retried = False
    if _blown_up(parts.energies, band.end_energies, images, system) and not _sets_max_rise(lbfgs):
        retried = True
        safe = _with_max_rise(lbfgs, SAFE_MAX_RISE)
        band, x, more = _relax(system, images, settings, safe, budget)
        stages += more
        parts = band.decompose(x)
    res = stages[-1]
    return NEBResult(images=parts.images, energies=parts.energies,
                     maxima=local_maxima(parts.energies), climbing=list(parts.climbing),
                     iterations=sum(r.nit for r in stages),
                     nfev=sum(r.nfev for r in stages) * n_images, rms=float(res.rms),
                     converged=bool(res.success), distance=distance, n_images=n_images,
                     message=res.message, stages=stages, retried=retried,
                     climbing_rms=[float(np.linalg.norm(parts.true_gradient[c - 1]))
                                   / math.sqrt(band.ndim_system) for c in parts.climbing])


def _relax(system, images, settings, lbfgs, budget):
    """Relax the band from ``images``: once, or first without and then with climbing.

    Returns ``(band, coords, stages)``: the final :class:`NEBBand` (with its climbing
    images), the relaxed optimiser vector and the L-BFGS results of the stages.
    """
    n_images = images.shape[0] - 2
    stages: list[QuenchResult] = []
    band = NEBBand(system, images, spring_k=settings.spring_k,
                   double_nudged=settings.double_nudged, climbing=False)
    x = band.x0
    if settings.climbing and budget > 1:
        pre_iter = max(1, int(PRE_CLIMB_FRACTION * budget))
        opt = band_lbfgs(n_images, PRE_CLIMB_TOL_FACTOR * settings.tol, pre_iter, lbfgs)
        res = opt.run(band, x)
        stages.append(res)
        x = res.coords
        band = NEBBand(system, band.full_images(x), spring_k=settings.spring_k,
                       double_nudged=settings.double_nudged, climbing=True)
        budget -= res.nit
    opt = band_lbfgs(n_images, settings.tol, max(budget, 1), lbfgs)
    res = opt.run(band, x)
    stages.append(res)
    return band, res.coords, stages


def _blown_up(energies, end_energies, initial_images, system) -> bool:
    """True if the relaxed band is worse than its start: a non-finite energy, or an image
    higher than the highest initial image by more than the initial band's energy span."""
    if not np.all(np.isfinite(energies)):
        return True
    initial = [float(system.energy_gradient(np.array(v))[0]) for v in initial_images[1:-1]]
    top = max(initial)
    span = top - min(end_energies)
    return bool(np.max(energies) > top + max(span, 0.0))


def _sets_max_rise(options) -> bool:
    """True if the caller chose the band's max_rise (then no automatic retry)."""
    if isinstance(options, LBFGS):
        return True
    return isinstance(options, Mapping) and "max_rise" in options


def _with_max_rise(options, max_rise):
    """``options`` (None, a mapping or QuenchSettings-like) with ``max_rise`` set."""
    if options is None:
        return {"max_rise": max_rise}
    if isinstance(options, Mapping):
        return {**options, "max_rise": max_rise}
    return {"M": int(options.M), "H0": float(options.H0), "max_rise": max_rise}
