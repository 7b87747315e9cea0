"""The ``pspin`` landscape (SPEC 2.4): the spherical p-spin glass.

    H(w) = N^{-(p-1)/2} sum_{i1..ip} x_{i1..ip} w_i1 ... w_ip,     sum_i w_i^2 = N

Input file::

    [system]
    kind = "pspin"
    n = 100              # number of spins N, required, >= 2
    p = 3                # order of the interaction, >= 2; default 3
    seed = 0             # seed of the couplings, integer >= 0; default 0
    energy_tol = 1e-4    # optional; default 1e-6 N
    distance_tol = 0.01  # optional; default 1e-2

The couplings are ``numpy.random.default_rng(seed).standard_normal((N,) * p)``: ``N^p``
standard normals filling ``x[i1, .., ip]`` in C order (the last index fastest)
(:func:`pspin_couplings`).  For ``p = 3`` the variance of ``H`` over the couplings is ``N``
at every point of the sphere.

Optimisation is on the sphere: the kernel returns the tangent-space (Riemannian) gradient
and Hessian, ``project_tangent`` removes the radial component and ``retract`` rescales to
``|w|^2 = N``.  The radial direction is the one zero mode.  Energies are stored as ``H``
and shown per spin (``H / N``, :meth:`PSpinSystem.display_energy`).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from mlcore.errors import InputError
from mlcore.landscape import CompiledSystem, as_coords
from mlcore.validate import as_float, as_int, check_keys, require

_WHERE = "[system] (kind = 'pspin')"
_ALLOWED_KEYS = ("n", "p", "seed", "energy_tol", "distance_tol")
DEFAULT_SEED = 0


def pspin_couplings(n: int, p: int = 3, seed: int = DEFAULT_SEED) -> np.ndarray:
    """The raw couplings of the landscape ``(n, p, seed)``, shape ``(n,) * p``.

    ``numpy.random.default_rng(seed).standard_normal((n,) * p)``: iid standard normals in
    C order (last index fastest).
    """
    return np.random.default_rng(seed).standard_normal((n,) * p)


class PSpinSystem(CompiledSystem):
    """Spherical p-spin glass on the sphere ``|w|^2 = N``.

    Parameters
    ----------
    n : int
        Number of spins N (>= 2); ``ndim = N``.
    p : int, optional
        Order of the interaction (>= 2), default 3.  ``p = 3`` uses a packed tensor
        (``N^2 (N+1) / 2`` doubles); other orders store the full ``N^p`` tensor, limited to
        ``kernels.pspin.MAX_DENSE_ENTRIES`` entries.
    seed : int, optional
        Seed of the couplings (default 0), see :func:`pspin_couplings`.
    energy_tol : float, optional
        Absolute tolerance on ``H`` (total, not per spin) of the identity test of minima.
        Default ``1e-6 N`` (1e-6 per spin): far above the energy error of a quench to RMS
        gradient 1e-6 and far below the gaps between distinct minima.
    distance_tol : float, optional
        Tolerance on the Euclidean distance between aligned minima on the sphere of radius
        ``sqrt(N)``.  Default 1e-2; distinct minima are at distances of order ``sqrt(N)``.

    Attributes
    ----------
    n_zero_modes : int
        1: the radial direction, a zero mode of the Riemannian Hessian by construction.
    """

    kind = "pspin"
    n_zero_modes = 1
    distance_tol = 1e-2

    def __init__(self, n: int, p: int = 3, seed: int = DEFAULT_SEED,
                 energy_tol: float | None = None, distance_tol: float | None = None):
        from kernels.pspin import MAX_DENSE_ENTRIES, PSpinKernel

        self.n = as_int(n, "n", _WHERE, minimum=2)
        self.p = as_int(p, "p", _WHERE, minimum=2, maximum=15)
        self.seed = as_int(seed, "seed", _WHERE, minimum=0)
        if self.p != 3 and self.n ** self.p > MAX_DENSE_ENTRIES:
            raise InputError(f"{_WHERE}: n = {self.n}, p = {self.p} needs {self.n}^{self.p} "
                             f"couplings, above the limit {MAX_DENSE_ENTRIES}; use a smaller n")
        self._energy_tol_given = energy_tol is not None
        self._distance_tol_given = distance_tol is not None
        self.energy_tol = (1e-6 * self.n if energy_tol is None else
                           as_float(energy_tol, "energy_tol", _WHERE, minimum=0.0, strict_min=True))
        if distance_tol is not None:
            self.distance_tol = as_float(distance_tol, "distance_tol", _WHERE, minimum=0.0,
                                         strict_min=True)
        super().__init__(PSpinKernel(pspin_couplings(self.n, self.p, self.seed)))

    def __repr__(self) -> str:
        return f"PSpinSystem(n={self.n}, p={self.p}, seed={self.seed})"

    def __reduce__(self):
        return (_rebuild, (self.config(),))

    display_energy_label = "energy per spin"
    flat = False

    def zero_mode_vectors(self, coords) -> np.ndarray:
        """The radial direction (the one zero mode of the Riemannian Hessian), shape (1, N)."""
        w = np.asarray(coords, dtype=np.float64).reshape(-1)
        return (w / np.linalg.norm(w)).reshape(1, -1)

    def canonical(self, coords) -> np.ndarray:
        """``coords`` on the sphere ``|w|^2 = N`` (the radial direction, the one zero mode,
        fixed; the global flip of even ``p`` is left to :meth:`align`)."""
        w = np.array(coords, dtype=np.float64).reshape(-1)
        return w * (np.sqrt(self.n) / np.linalg.norm(w))

    def display_energy(self, energy: float) -> float:
        """Energy per spin, ``H / N``."""
        return energy / self.n

    # ------------------------------------------------------------------ sampling
    def random_coords(self, rng: np.random.Generator) -> np.ndarray:
        """A point uniform on the sphere ``|w|^2 = N``: N standard normals, rescaled."""
        w = rng.standard_normal(self.n)
        return w * (np.sqrt(self.n) / np.linalg.norm(w))

    # ------------------------------------------------------------------ identity
    def align(self, coords_ref, coords) -> tuple[float, np.ndarray]:
        """Distance after the global sign flip ``w -> -w`` if ``p`` is even (``H`` is then
        even); the identity for odd ``p``.  Returns ``(distance, aligned)``."""
        ref = as_coords(coords_ref, self.ndim)
        w = as_coords(coords, self.ndim).copy()
        dist = float(np.linalg.norm(w - ref))
        if self.p % 2 == 0:
            dist_flip = float(np.linalg.norm(w + ref))
            if dist_flip < dist:
                return dist_flip, -w
        return dist, w

    # ------------------------------------------------------------------ storage
    def config(self) -> dict:
        """The ``[system]`` table: kind, n, p, seed (and tolerances if set)."""
        table = {"kind": "pspin", "n": self.n, "p": self.p, "seed": self.seed}
        self._with_tolerances(table)
        return table

    @classmethod
    def from_config(cls, table: dict, base_dir: Path | None = None) -> PSpinSystem:
        """Build from the ``[system]`` table (``kind`` may be present or already removed)."""
        table = {k: v for k, v in table.items() if k != "kind"}
        check_keys(table, _ALLOWED_KEYS, _WHERE)
        n = require(table, "n", _WHERE)
        return cls(n, p=table.get("p", 3), seed=table.get("seed", DEFAULT_SEED),
                   energy_tol=table.get("energy_tol"), distance_tol=table.get("distance_tol"))


def _rebuild(table: dict) -> PSpinSystem:
    """Unpickling helper: rebuild from the ``[system]`` table."""
    return PSpinSystem.from_config(table)
