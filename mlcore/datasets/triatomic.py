"""``kind = "triatomic"``: minimisation sequences of the gamma = 2 triatomic cluster (SPEC 3).

The database
------------
Sequence ``i`` starts from the nine coordinates of row ``i`` of
``default_rng(seed).uniform(-b/2, b/2, size=(n_sequences, 9))``, ``b = 2**(1/3)`` (atoms
uniform in a cube of side b), and runs the project's L-BFGS
(:func:`mlcore.optimize.lbfgs.minimize`, its defaults, ``tol = 1e-6`` on the RMS gradient)
on :class:`mlcore.systems.cluster.ClusterSystem` ``(natoms = 3, gamma = 2)``, keeping the
start and every accepted configuration.  For each configuration the three pair distances
``(r12, r13, r23)`` are stored.

The outcome of a sequence is its class, read from the final geometry:

- 0: the equilateral triangle (three equal distances);
- 1, 2, 3: the linear chain with atom 1, 2 or 3 in the middle (the two distances to the
  middle atom equal, the outer distance their sum);
- ``DISSOCIATED`` (-1): anything else, in practice an atom that flew off;
- ``UNCONVERGED`` (-2): the quench did not reach the tolerance.

Sequences of the last two kinds are counted in the data set's ``info`` and left out of the
splits, never silently dropped.

Features and splits
-------------------
``features = "initial"``: ``(r12, r13, r23)`` of the starting configuration.
``features = "steps_from_end"``, ``steps = s``: ``(r12, r13)`` of the configuration s
accepted steps before the converged one (``s = 0`` is the converged configuration; a
sequence with s or fewer steps gives its starting configuration).
Train and test examples are drawn without overlap from the classified sequences by
``default_rng(split_seed).permutation``: the first ``n_train`` of the permutation train,
the next ``n_test`` test, so the split does not depend on the features.

The database is cached (:func:`mlcore.datasets.cache.cache_dir`), keyed by its parameters
and a fingerprint of the code that computes it (L-BFGS, cluster system and kernel, this
module), so a second load is instant and a code change never reuses a stale database.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mlcore.datasets.base import Dataset, assemble
from mlcore.datasets.cache import cache_dir, load_npz, save_npz_atomic
from mlcore.datasets.options import TriatomicOptions
from mlcore.errors import InputError, RunError

GAMMA = 2.0
NATOMS = 3
#: Side of the cube of starting positions.
BOX = 2.0 ** (1.0 / 3.0)
#: RMS-gradient convergence of every sequence.
TOL = 1e-6
#: Relative tolerance of the geometric classification of the final configuration.
GEOMETRY_RTOL = 1e-4
#: Distances beyond this (sigma) are not bonds: such a final geometry is dissociated.
BOND_CUTOFF = 2.0

TRIANGLE = 0
DISSOCIATED = -1
UNCONVERGED = -2
CLASS_NAMES = {0: "triangle", 1: "linear, atom 1 in the middle",
               2: "linear, atom 2 in the middle", 3: "linear, atom 3 in the middle",
               DISSOCIATED: "dissociated", UNCONVERGED: "unconverged"}
#: Version of the database layout and generation recipe; bump it when either changes.
FORMAT_VERSION = 1


def pair_distances(coords: np.ndarray) -> np.ndarray:
    """``(r12, r13, r23)`` of configurations.

    Parameters
    ----------
    coords : ndarray, shape (..., 9)
        Flat coordinates of three atoms.

    Returns
    -------
    ndarray, shape (..., 3)
    """
    c = np.asarray(coords, dtype=np.float64).reshape(coords.shape[:-1] + (3, 3))
    r12 = np.linalg.norm(c[..., 0, :] - c[..., 1, :], axis=-1)
    r13 = np.linalg.norm(c[..., 0, :] - c[..., 2, :], axis=-1)
    r23 = np.linalg.norm(c[..., 1, :] - c[..., 2, :], axis=-1)
    return np.stack([r12, r13, r23], axis=-1)


def classify(distances, rtol: float = GEOMETRY_RTOL) -> int:
    """Class of a final geometry from its ``(r12, r13, r23)``; see the module docstring.

    Returns 0 (triangle), 1, 2 or 3 (linear, that atom in the middle) or ``DISSOCIATED``.
    """
    r = np.asarray(distances, dtype=np.float64)
    short = np.sort(r)
    if short[2] > 2.0 * BOND_CUTOFF or short[1] > BOND_CUTOFF:
        return DISSOCIATED
    if short[2] - short[0] <= rtol * short[2]:
        return TRIANGLE
    # linear: the longest distance is the outer one, the other two are equal bonds
    longest = int(np.argmax(r))
    a, b = short[0], short[1]
    if abs(short[2] - (a + b)) <= rtol * short[2] and abs(b - a) <= rtol * b:
        # the middle atom is the one not in the longest pair: r12 -> 3, r13 -> 2, r23 -> 1
        return {0: 3, 1: 2, 2: 1}[longest]
    return DISSOCIATED


@dataclass(frozen=True, eq=False)
class TriatomicDatabase:
    """Every minimisation sequence of the database (ragged arrays).

    Attributes
    ----------
    seed : int
        Seed of the starting coordinates.
    start_coords : ndarray, shape (n_sequences, 9)
        Starting coordinates.
    final_coords : ndarray, shape (n_sequences, 9)
        Coordinates where each quench ended.
    distances : ndarray, shape (n_configs_total, 3)
        ``(r12, r13, r23)`` of every configuration of every sequence, sequence after
        sequence.
    offsets : ndarray, shape (n_sequences + 1,), int64
        Sequence ``i`` is ``distances[offsets[i]:offsets[i + 1]]``, start first.
    labels : ndarray, shape (n_sequences,), int64
        Class of each sequence (0-3, ``DISSOCIATED`` or ``UNCONVERGED``).
    energies : ndarray, shape (n_sequences,)
        Final energies.
    build_seconds : float
        Wall time of the generation (0 if never measured).
    """

    seed: int
    start_coords: np.ndarray
    final_coords: np.ndarray
    distances: np.ndarray
    offsets: np.ndarray
    labels: np.ndarray
    energies: np.ndarray
    build_seconds: float = 0.0

    @property
    def n_sequences(self) -> int:
        return int(self.labels.shape[0])

    @property
    def lengths(self) -> np.ndarray:
        """Configurations per sequence (start and converged one included)."""
        return np.diff(self.offsets)

    def sequence(self, i: int) -> np.ndarray:
        """``(r12, r13, r23)`` of every configuration of sequence ``i``, shape (n_configs, 3)."""
        return self.distances[self.offsets[i]:self.offsets[i + 1]]

    def counts(self) -> dict[str, int]:
        """Number of sequences per outcome, by name."""
        return {CLASS_NAMES[c]: int(np.sum(self.labels == c)) for c in CLASS_NAMES}

    def features(self, kind: str, steps: int = 0) -> np.ndarray:
        """Features of every sequence.

        Parameters
        ----------
        kind : {"initial", "steps_from_end"}
        steps : int
            s for ``steps_from_end``.

        Returns
        -------
        ndarray, shape (n_sequences, 3) for ``initial``, (n_sequences, 2) otherwise.
        """
        if kind == "initial":
            return self.distances[self.offsets[:-1]].copy()
        if kind == "steps_from_end":
            last = self.offsets[1:] - 1
            index = np.maximum(last - int(steps), self.offsets[:-1])
            return self.distances[index, :2].copy()
        raise ValueError(f"unknown triatomic feature set {kind!r}")

    def to_arrays(self) -> dict:
        return {"seed": np.int64(self.seed), "start_coords": self.start_coords,
                "final_coords": self.final_coords, "distances": self.distances,
                "offsets": self.offsets, "labels": self.labels, "energies": self.energies,
                "build_seconds": np.float64(self.build_seconds)}

    @classmethod
    def from_arrays(cls, a: dict) -> TriatomicDatabase:
        return cls(seed=int(a["seed"]), start_coords=a["start_coords"],
                   final_coords=a["final_coords"], distances=a["distances"],
                   offsets=a["offsets"].astype(np.int64), labels=a["labels"].astype(np.int64),
                   energies=a["energies"], build_seconds=float(a["build_seconds"]))


def make_system():
    """The gamma = 2 triatomic cluster."""
    from mlcore.systems.cluster import ClusterSystem

    return ClusterSystem(natoms=NATOMS, gamma=GAMMA, box=BOX)


def start_coordinates(n_sequences: int, seed: int) -> np.ndarray:
    """Starting coordinates, shape (n_sequences, 9): atoms uniform in the cube of side BOX."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-0.5 * BOX, 0.5 * BOX, size=(n_sequences, 3 * NATOMS))


def generate_database(n_sequences: int, seed: int, system=None) -> TriatomicDatabase:
    """Run the ``n_sequences`` minimisations (no cache); deterministic for a seed.

    Parameters
    ----------
    n_sequences : int
    seed : int
    system : optional
        The landscape (default :func:`make_system`); anything
        :func:`mlcore.optimize.lbfgs.minimize` accepts.
    """
    from mlcore.optimize.lbfgs import minimize

    t0 = time.perf_counter()
    system = make_system() if system is None else system
    starts = start_coordinates(n_sequences, seed)
    finals = np.empty_like(starts)
    labels = np.empty(n_sequences, dtype=np.int64)
    energies = np.empty(n_sequences)
    chunks = []
    offsets = np.zeros(n_sequences + 1, dtype=np.int64)
    for i in range(n_sequences):
        result = minimize(system, starts[i], tol=TOL, keep_path=True)
        path = np.asarray(result.path, dtype=np.float64).reshape(-1, 3 * NATOMS)
        dist = pair_distances(path)
        chunks.append(dist)
        offsets[i + 1] = offsets[i] + dist.shape[0]
        finals[i] = result.coords
        energies[i] = result.energy
        labels[i] = classify(dist[-1]) if result.success else UNCONVERGED
    distances = np.concatenate(chunks) if chunks else np.zeros((0, 3))
    return TriatomicDatabase(seed=seed, start_coords=starts, final_coords=finals,
                             distances=np.ascontiguousarray(distances), offsets=offsets,
                             labels=labels, energies=energies,
                             build_seconds=time.perf_counter() - t0)


def code_fingerprint(system=None) -> str:
    """Hash of the source of the code that computes the database (for the cache key)."""
    import mlcore.optimize.lbfgs as lbfgs_module

    system = make_system() if system is None else system
    objects = [lbfgs_module, inspect.getmodule(type(system)), inspect.getmodule(classify)]
    kernel = getattr(system, "kernel", None)
    if kernel is not None:
        objects.append(inspect.getmodule(type(kernel)))
    compiled = getattr(lbfgs_module, "lbfgs_quench", None)
    if compiled is not None and inspect.getmodule(compiled) is not None:
        objects.append(inspect.getmodule(compiled))
    h = hashlib.sha256()
    for module in objects:
        try:
            path = Path(inspect.getfile(module))
            h.update(path.name.encode())
            h.update(path.read_bytes())
        except (TypeError, OSError):
            h.update(repr(module).encode())
    return h.hexdigest()[:16]


def cache_key(n_sequences: int, seed: int, fingerprint: str) -> str:
    """Key of a database in the cache."""
    params = {"n_sequences": n_sequences, "seed": seed, "gamma": GAMMA, "box": BOX, "tol": TOL,
              "format": FORMAT_VERSION, "code": fingerprint}
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:20]


def load_database(n_sequences: int, seed: int, use_cache: bool = True
                  ) -> tuple[TriatomicDatabase, bool]:
    """The database for ``(n_sequences, seed)``: ``(database, came_from_cache)``."""
    system = make_system()
    path = cache_dir() / f"triatomic-n{n_sequences}-s{seed}-" \
                         f"{cache_key(n_sequences, seed, code_fingerprint(system))}.npz"
    if use_cache:
        arrays = load_npz(path)
        if arrays is not None:
            try:
                db = TriatomicDatabase.from_arrays(arrays)
                if db.n_sequences == n_sequences and db.seed == seed:
                    return db, True
            except KeyError:
                pass
    db = generate_database(n_sequences, seed, system)
    if use_cache:
        save_npz_atomic(path, db.to_arrays())
    return db, False


def split_indices(labels: np.ndarray, n_train: int, n_test: int, split_seed: int,
                  where: str = "[data] (kind = 'triatomic')") -> tuple[np.ndarray, np.ndarray]:
    """Disjoint random train and test indices among the classified sequences."""
    valid = np.flatnonzero(labels >= 0)
    if n_train + n_test > valid.size:
        raise InputError(f"{where}: n_train + n_test = {n_train + n_test} exceeds the "
                         f"{valid.size} classified sequences; raise n_sequences")
    order = np.random.default_rng(split_seed).permutation(valid.size)
    return valid[order[:n_train]], valid[order[n_train:n_train + n_test]]


def load_triatomic_dataset(opts: TriatomicOptions, base_dir: Path | None = None,
                           where: str = "[data] (kind = 'triatomic')",
                           use_cache: bool = True) -> Dataset:
    """The triatomic data set that ``opts`` describes (see the module docstring)."""
    split_seed = opts.seed if opts.split_seed is None else opts.split_seed
    if opts.features == "initial" and opts.steps != 0:
        raise InputError(f"{where}: 'steps' = {opts.steps} is only used with "
                         "features = 'steps_from_end'")
    db, cached = load_database(opts.n_sequences, opts.seed, use_cache)
    n_classified = int(np.sum(db.labels >= 0))
    if n_classified == 0:
        raise RunError("triatomic: no sequence ended in a known minimum")
    train_idx, test_idx = split_indices(db.labels, opts.n_train, opts.n_test, split_seed, where)
    feats = db.features(opts.features, opts.steps)
    config = {"kind": "triatomic", "n_sequences": opts.n_sequences, "seed": opts.seed,
              "features": opts.features, "steps": opts.steps, "n_train": opts.n_train,
              "n_test": opts.n_test, "split_seed": split_seed}
    counts = db.counts()
    info = {"n_sequences": db.n_sequences, "class_counts": counts,
            "n_classified": n_classified,
            "n_dissociated": counts[CLASS_NAMES[DISSOCIATED]],
            "n_unconverged": counts[CLASS_NAMES[UNCONVERGED]],
            "mean_sequence_length": float(db.lengths.mean()),
            "build_seconds": db.build_seconds, "from_cache": cached}
    label = "initial" if opts.features == "initial" else f"s={opts.steps}"
    return assemble(feats[train_idx], db.labels[train_idx], feats[test_idx],
                    db.labels[test_idx], n_classes=4,
                    name=f"triatomic {label} {opts.n_train}/{opts.n_test}", config=config,
                    extra_arrays={"train_index": train_idx, "test_index": test_idx,
                                  "sequence_labels": db.labels.astype(np.int8)},
                    info=info)
