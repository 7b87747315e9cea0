"""The ``cluster`` landscape (SPEC 2.1): N atoms with Lennard-Jones plus Axilrod-Teller.

    [system]
    kind = "cluster"
    natoms = 38          # required, >= 2
    gamma = 0.0          # Axilrod-Teller strength; 0 gives plain LJ_N
    box = 4.24           # side of the cube of random starts; default (2 natoms)^(1/3)
    energy_tol = 3.8e-5  # optional; default 1e-6 per atom
    distance_tol = 0.01  # optional; default 1e-2
    permute = true       # identify permutational isomers as one minimum (false: distinct)

Reduced units (epsilon = sigma = 1).  Coordinates are flat ``(x1, y1, z1, x2, ...)``,
``ndim = 3 natoms``.  The arithmetic lives in :class:`kernels.cluster.ClusterKernel`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from mlcore.errors import InputError
from mlcore.landscape import CompiledSystem, as_coords
from mlcore.validate import as_float, as_int, check_keys, require

_WHERE = "[system] (kind = 'cluster')"
_ALLOWED_KEYS = ("natoms", "gamma", "box", "energy_tol", "distance_tol", "permute")

#: Reduced number density of the default cube of random starts (atoms per sigma^3).
DEFAULT_START_DENSITY = 0.5

#: Atoms closer than this (sigma) are neighbours when a cluster is checked to be in one piece.
BOUND_CUTOFF = 2.0

#: Putative global-minimum energies of LJ_N (gamma = 0), for tests and examples.
lj_global_minimum_energies = {7: -16.505384, 13: -44.326801, 38: -173.928427}


def default_box(natoms: int) -> float:
    """Default side of the cube of random starts: ``(natoms / 0.5)^(1/3)``.

    The cube then holds the atoms at a reduced number density of 0.5, about half that of
    the close-packed LJ solid: compact enough that a quench from it usually ends in one
    cluster rather than evaporating atoms, loose enough that starts are varied
    (side 1.82 for N = 3, 2.96 for N = 13, 4.24 for N = 38).
    """
    return float((natoms / DEFAULT_START_DENSITY) ** (1.0 / 3.0))


class ClusterSystem(CompiledSystem):
    """Lennard-Jones cluster with an optional Axilrod-Teller three-body term.

    Parameters
    ----------
    natoms : int
        Number of atoms N (>= 2); ``ndim = 3 N``.
    gamma : float, optional
        Strength of the Axilrod-Teller term (reduced units); 0 gives plain LJ_N.
    box : float, optional
        Side of the cube, centred on the origin, from which :meth:`random_coords` draws
        atom positions uniformly.  Default :func:`default_box` (density 0.5); the
        triatomic data set uses ``2**(1/3)``.
    energy_tol : float, optional
        Absolute energy tolerance of the identity test of minima.  Default ``1e-6 * N``
        (1e-6 per atom): far above the rounding error of the energy and the energy error of
        a quench to RMS gradient 1e-6, far below the gaps between distinct minima.  Two
        minima within it are then compared by distance.
    distance_tol : float, optional
        Tolerance on the distance after alignment (translation, rotation, inversion and
        permutation), in units of sigma.  Default 1e-2, about 1 % of a bond length.

    Attributes
    ----------
    n_zero_modes : int
        6 (three translations, three rotations); 5 for the dimer, which is linear.  A linear
        minimum of a larger cluster (the gamma = 2 triatomic chain) also has only 5.
    """

    kind = "cluster"
    n_zero_modes = 6
    distance_tol = 1e-2

    def __init__(self, natoms: int, gamma: float = 0.0, box: float | None = None,
                 energy_tol: float | None = None, distance_tol: float | None = None,
                 permute: bool = True):
        from kernels.cluster import ClusterKernel

        if not isinstance(permute, bool):
            raise InputError(f"{_WHERE}: 'permute' must be true or false, got {permute!r}")
        self.permute = permute

        self.natoms = as_int(natoms, "natoms", _WHERE, minimum=2)
        self.gamma = as_float(gamma, "gamma", _WHERE)
        self.box = default_box(self.natoms) if box is None else as_float(
            box, "box", _WHERE, minimum=0.0, strict_min=True)
        self._box_given = box is not None
        self._energy_tol_given = energy_tol is not None
        self._distance_tol_given = distance_tol is not None
        self.energy_tol = (1e-6 * self.natoms if energy_tol is None else
                           as_float(energy_tol, "energy_tol", _WHERE, minimum=0.0, strict_min=True))
        if distance_tol is not None:
            self.distance_tol = as_float(distance_tol, "distance_tol", _WHERE,
                                         minimum=0.0, strict_min=True)
        self.n_zero_modes = 5 if self.natoms == 2 else 6
        super().__init__(ClusterKernel(self.natoms, self.gamma))

    def __repr__(self) -> str:
        return f"ClusterSystem(natoms={self.natoms}, gamma={self.gamma!r}, box={self.box!r})"

    # ------------------------------------------------------------------ sampling
    def random_coords(self, rng: np.random.Generator) -> np.ndarray:
        """Atoms uniform in the cube ``[-box/2, box/2]^3``; shape ``(3 natoms,)``."""
        return rng.uniform(-0.5 * self.box, 0.5 * self.box, size=self.ndim)

    def valid_minimum(self, coords) -> bool:
        """True if the cluster is in one piece: every atom is joined to the others through
        neighbours closer than :data:`BOUND_CUTOFF`.

        A quench that lets an atom or a fragment fly off converges far apart (the LJ force
        falls as r^-7, so an RMS gradient of 1e-6 leaves a dissociated atom about 8 sigma
        away); such a configuration is not a minimum of the N-atom cluster.
        """
        xyz = as_coords(coords, self.ndim).reshape(-1, 3)
        d2 = ((xyz[:, None, :] - xyz[None, :, :]) ** 2).sum(axis=2)
        bonded = d2 < BOUND_CUTOFF ** 2
        seen = np.zeros(self.natoms, dtype=bool)
        seen[0] = True
        frontier = [0]
        while frontier:
            i = frontier.pop()
            new = np.flatnonzero(bonded[i] & ~seen)
            seen[new] = True
            frontier.extend(new.tolist())
        return bool(seen.all())

    def zero_mode_vectors(self, coords) -> np.ndarray:
        """Orthonormal translations and infinitesimal rotations at ``coords``, shape
        ``(k, 3 natoms)``: k = 6, or 5 for a linear configuration (rank-revealing SVD)."""
        xyz = as_coords(coords, self.ndim).reshape(-1, 3)
        centred = xyz - xyz.mean(axis=0)
        vecs = []
        for axis in range(3):
            t = np.zeros_like(xyz)
            t[:, axis] = 1.0
            vecs.append(t.reshape(-1))
        for axis in np.eye(3):
            vecs.append(np.cross(axis, centred).reshape(-1))
        u, sing, _ = np.linalg.svd(np.array(vecs).T, full_matrices=False)
        rank = int(np.sum(sing > 1e-8 * sing[0]))
        return np.ascontiguousarray(u[:, :rank].T)

    # ------------------------------------------------------------------ identity
    def distance_lower_bound(self, coords1, coords2) -> float:
        """A lower bound of the aligned distance, without aligning: rotations, inversion
        and permutations keep the sorted distances of the atoms from the centre, so the
        difference of the sorted radii bounds the aligned distance from below."""
        x1, x2 = as_coords(coords1, self.ndim), as_coords(coords2, self.ndim)
        r1 = np.sort(np.linalg.norm(x1.reshape(-1, 3) - x1.reshape(-1, 3).mean(0), axis=1))
        r2 = np.sort(np.linalg.norm(x2.reshape(-1, 3) - x2.reshape(-1, 3).mean(0), axis=1))
        return float(np.linalg.norm(r1 - r2))

    def distance(self, coords1, coords2) -> float:
        """Distance after alignment, for the identity test of minima.

        The search for the best alignment stops as soon as a distance below a tenth of
        ``distance_tol`` is found: the two are then certainly the same minimum, and the many
        re-finds of known minima in basin-hopping cost one or two alignments each instead of
        the full search.  Two clusters whose sorted distances from the centre already differ
        by more than ``distance_tol`` return that lower bound without any alignment.  So a
        value above ``distance_tol`` only says "different"; use :meth:`align` for the exact
        optimum in every case.
        """
        from mlcore.align.cluster import align_clusters

        x1, x2 = as_coords(coords1, self.ndim), as_coords(coords2, self.ndim)
        if self.permute:
            bound = self.distance_lower_bound(x1, x2)
            if bound > self.distance_tol:
                return bound
        distance, _ = align_clusters(x1, x2, self.natoms, permute=self.permute,
                                     stop_below=0.1 * self.distance_tol)
        return float(distance)

    def canonical(self, coords) -> np.ndarray:
        """``coords`` translated so that the centre of the atoms is the origin (the
        representative stored in files; rotations, inversion and permutations are left to
        :meth:`align`)."""
        xyz = as_coords(coords, self.ndim).reshape(-1, 3)
        return np.ascontiguousarray((xyz - xyz.mean(axis=0)).reshape(-1))

    def align(self, coords_ref, coords) -> tuple[float, np.ndarray]:
        """Align ``coords`` onto ``coords_ref`` by translation, rotation, inversion, permutation.

        Returns ``(distance, aligned)``; see :func:`mlcore.align.cluster.align_clusters`.
        """
        from mlcore.align.cluster import align_clusters

        distance, aligned = align_clusters(as_coords(coords_ref, self.ndim),
                                           as_coords(coords, self.ndim), self.natoms,
                                           permute=self.permute)
        return float(distance), as_coords(aligned, self.ndim)

    # ------------------------------------------------------------------ storage
    def config(self) -> dict:
        """The ``[system]`` table: kind, natoms, gamma, box (and tolerances if set)."""
        table = {"kind": "cluster", "natoms": self.natoms, "gamma": self.gamma, "box": self.box}
        self._with_tolerances(table)
        if not self.permute:
            table["permute"] = False
        return table

    @classmethod
    def from_config(cls, table: dict, base_dir: Path | None = None) -> ClusterSystem:
        """Build from the ``[system]`` table (``kind`` may be present or already removed)."""
        table = {k: v for k, v in table.items() if k != "kind"}
        check_keys(table, _ALLOWED_KEYS, _WHERE)
        natoms = as_int(require(table, "natoms", _WHERE), "natoms", _WHERE, minimum=2)
        return cls(natoms, gamma=table.get("gamma", 0.0), box=table.get("box"),
                   energy_tol=table.get("energy_tol"), distance_tol=table.get("distance_tol"),
                   permute=table.get("permute", True))
