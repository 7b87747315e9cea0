"""Identity of minima: the two-stage test and the energy-ordered index (no linear scans)."""
import numpy as np
import pytest

from mlcore.align.cluster import align_clusters, random_rotation
from mlcore.identity import MinimaIndex, MinimumIdentity
from mlcore.landscape import System


class CountingFlat(System):
    """Flat Euclidean distance, counting how often it is asked for."""

    kind = "python"
    energy_tol = 1e-3
    distance_tol = 0.1

    def __init__(self, ndim):
        self.ndim = ndim
        self.n_distance = 0

    def distance(self, coords1, coords2):
        self.n_distance += 1
        return float(np.linalg.norm(np.asarray(coords1) - np.asarray(coords2)))


class CountingCluster(CountingFlat):
    """Distance after translation, rotation, inversion and permutation alignment."""

    def __init__(self, natoms):
        super().__init__(3 * natoms)
        self.natoms = natoms

    def distance(self, coords1, coords2):
        self.n_distance += 1
        return align_clusters(coords1, coords2, self.natoms)[0]


def test_identity_tolerances_default_to_the_system():
    system = CountingFlat(3)
    ident = MinimumIdentity()
    assert ident.tolerances(system) == (1e-3, 0.1)
    assert MinimumIdentity(energy_tol=1e-5).tolerances(system) == (1e-5, 0.1)
    assert MinimumIdentity(distance_tol=0.5).tolerances(system) == (1e-3, 0.5)


def test_same_checks_energy_before_distance():
    system = CountingFlat(3)
    ident = MinimumIdentity()
    x = np.array([1.0, 2.0, 3.0])
    assert ident.same(system, -1.0, x, -1.0 + 2e-3, x) is False
    assert system.n_distance == 0                      # energy decided it: no alignment
    assert ident.same(system, -1.0, x, -1.0 + 5e-4, x + 0.05) is True
    assert ident.same(system, -1.0, x, -1.0, x + np.array([0.2, 0.0, 0.0])) is False
    assert system.n_distance == 2
    assert MinimumIdentity(distance_tol=0.3).same(system, -1.0, x, -1.0,
                                                  x + np.array([0.2, 0.0, 0.0])) is True


def test_index_finds_matches_with_few_distance_calls():
    rng = np.random.default_rng(0)
    system = CountingFlat(5)
    index = MinimaIndex(system)
    n = 2000
    energies = rng.uniform(-100.0, 0.0, n)          # mean spacing 0.05 >> energy_tol 1e-3
    coords = rng.standard_normal((n, 5))
    for e, x in zip(energies, coords):
        _idx, new = index.find_or_add(e, x)
        assert new is True
    assert len(index) == n
    assert system.n_distance < 100          # a linear scan would make ~n^2 / 2 = 2e6 calls
    # lookups of existing minima (slightly perturbed) find the right one
    system.n_distance = 0
    calls_before = index.n_distance_calls
    picks = rng.choice(n, 200, replace=False)
    for i in picks:
        found = index.find(energies[i] + 5e-4 * rng.uniform(-1, 1), coords[i] + 0.01)
        assert found == i
    # each lookup compares only the few minima inside the energy window
    assert index.n_distance_calls - calls_before == system.n_distance
    assert system.n_distance <= 1.2 * len(picks)
    # a new energy costs no distance call at all
    system.n_distance = 0
    assert index.find(5.0, coords[0]) is None
    assert system.n_distance == 0
    # the candidate window is found by bisection and holds only close energies
    cand = index.candidates(energies[7])
    assert 7 in cand and len(cand) <= 3
    assert all(abs(energies[j] - energies[7]) <= 1e-3 for j in cand)


def test_index_separates_same_energy_different_structures():
    system = CountingFlat(2)
    index = MinimaIndex(system)
    a = index.add(-1.0, [0.0, 0.0])
    b = index.add(-1.0, [1.0, 0.0])                 # same energy, far away: a new minimum
    c = index.add(-1.0 + 9e-4, [1.0, 0.05])         # the same as b
    d = index.add(-1.0 - 9.99e-4, [0.0, 0.0])       # inside the window (edge), same as a
    e = index.add(-1.0 - 1.1e-3, [0.0, 0.0])        # outside the energy window: new
    assert (a, b, c, d, e) == (0, 1, 1, 0, 2)
    assert len(index) == 3
    assert index.energy(1) == -1.0
    np.testing.assert_array_equal(index.coords(1), [1.0, 0.0])
    # nearest energy first among candidates
    assert index.candidates(-1.0 - 1.05e-3)[0] == 2


def test_index_from_minima_keeps_order_and_rejects_mismatch():
    system = CountingFlat(1)
    index = MinimaIndex.from_minima(system, [3.0, 1.0, 2.0], [[0.0], [1.0], [2.0]])
    assert index.find(1.0, [1.0]) == 1 and index.find(3.0, [0.0]) == 0
    assert index.find(2.0, [5.0]) is None
    with pytest.raises(ValueError):
        MinimaIndex.from_minima(system, [1.0, 2.0], [[0.0]])


def test_index_with_cluster_alignment_recognises_permuted_copies():
    rng = np.random.default_rng(1)
    natoms = 7
    system = CountingCluster(natoms)
    index = MinimaIndex(system, MinimumIdentity(energy_tol=1e-6, distance_tol=1e-6))
    structures = [rng.standard_normal((natoms, 3)) for _ in range(5)]
    for k, s in enumerate(structures):
        assert index.add(-10.0 - 1e-7 * k, s.ravel()) == k   # all within one energy window
    for k, s in enumerate(structures):
        moved = (-s @ random_rotation(rng).T)[rng.permutation(natoms)] + rng.normal(size=3)
        assert index.find(-10.0 - 1e-7 * k, moved.ravel()) == k
