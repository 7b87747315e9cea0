"""Cluster alignment: translation, rotation, inversion and permutation of identical atoms."""
from itertools import permutations

import numpy as np
import pytest

from mlcore.align.cluster import align_clusters, kabsch_rotation, random_rotation
from shapes import icosahedron13




def truncated_octahedron38():
    """The fcc 38-atom truncated octahedron (the LJ38 global minimum's shape): the 38 fcc
    sites nearest an octahedral hole, shells of 6, 8 and 24 atoms."""
    grid = np.array([(i, j, k) for i in range(-3, 5) for j in range(-3, 4) for k in range(-3, 4)
                     if (i + j + k) % 2 == 0], dtype=float)
    centre = np.array([1.0, 0.0, 0.0])
    dist = np.linalg.norm(grid - centre, axis=1)
    chosen = grid[np.argsort(dist, kind="stable")[:38]] - centre
    radii = np.sort(np.linalg.norm(chosen, axis=1))
    assert np.allclose(radii[[5, 6, 13, 14, 37]], [1, 3 ** 0.5, 3 ** 0.5, 5 ** 0.5, 5 ** 0.5])
    return chosen * (1.1 / np.sqrt(2))


def compact_random(natoms, rng, min_dist=0.9):
    """Random compact cluster: atoms uniform in a cube, no two closer than ``min_dist``."""
    side = 1.2 * natoms ** (1 / 3)
    atoms = []
    while len(atoms) < natoms:
        p = rng.uniform(-side / 2, side / 2, 3)
        if all(np.linalg.norm(p - q) > min_dist for q in atoms):
            atoms.append(p)
    return np.array(atoms)


def scramble(x_n3, rng, invert=True):
    """Random permutation, rotation, translation and (optionally) inversion of a cluster."""
    sign = -1.0 if invert else 1.0
    moved = sign * x_n3 @ random_rotation(rng).T + rng.normal(scale=3.0, size=3)
    return moved[rng.permutation(x_n3.shape[0])]


def brute_force_distance(x_n3, y_n3, invert=True):
    """Exact minimum over all permutations, and proper (and improper) rotations."""
    x = x_n3 - x_n3.mean(0)
    y = y_n3 - y_n3.mean(0)
    best = np.inf
    for perm in permutations(range(x.shape[0])):
        yp = y[list(perm)]
        rot = kabsch_rotation(x, yp, proper=not invert)
        best = min(best, np.linalg.norm(x - yp @ rot.T))
    return best


# --------------------------------------------------------------------------- building blocks
def test_kabsch_recovers_rotation_and_reflection():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 3))
    x -= x.mean(0)
    rot = random_rotation(rng)
    assert np.allclose(rot @ rot.T, np.eye(3)) and np.linalg.det(rot) == pytest.approx(1.0)
    y = x @ rot.T                                   # y = x rotated; bring y back onto x
    found = kabsch_rotation(x, y)
    np.testing.assert_allclose(y @ found.T, x, atol=1e-12)
    assert np.linalg.det(found) == pytest.approx(1.0)
    mirrored = -y                                   # an improper image
    proper = kabsch_rotation(x, mirrored)
    assert np.linalg.det(proper) == pytest.approx(1.0)
    assert np.linalg.norm(x - mirrored @ proper.T) > 0.1
    improper = kabsch_rotation(x, mirrored, proper=False)
    assert np.linalg.det(improper) == pytest.approx(-1.0)
    np.testing.assert_allclose(mirrored @ improper.T, x, atol=1e-12)


# --------------------------------------------------------------------------- identical copies
SHAPES = {
    "ico13": lambda rng: icosahedron13(),
    "random13": lambda rng: compact_random(13, rng),
    "to38": lambda rng: truncated_octahedron38(),
    "random38": lambda rng: compact_random(38, rng),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_scrambled_copy_is_recognised(shape):
    rng = np.random.default_rng(11)
    x = SHAPES[shape](rng)
    natoms = x.shape[0]
    for trial in range(4):
        y = scramble(x, rng, invert=bool(trial % 2))
        dist, aligned = align_clusters(x.ravel(), y.ravel(), natoms)
        assert dist < 1e-9, (shape, trial)
        np.testing.assert_allclose(aligned, x.ravel(), atol=1e-9)
        assert dist == pytest.approx(np.linalg.norm(aligned - x.ravel()), abs=1e-12)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_perturbed_structure_is_not_the_same(shape):
    rng = np.random.default_rng(12)
    x = SHAPES[shape](rng)
    natoms = x.shape[0]
    z = x + rng.normal(scale=0.05, size=x.shape)   # a nearby but different structure
    z_c, x_c = z - z.mean(0), x - x.mean(0)
    upper = np.linalg.norm(x_c - z_c @ kabsch_rotation(x_c, z_c).T)  # known correspondence
    dist, aligned = align_clusters(x.ravel(), scramble(z, rng).ravel(), natoms)
    assert 0.05 < dist <= upper + 1e-9
    assert dist == pytest.approx(np.linalg.norm(aligned - x.ravel()), rel=1e-12)
    # the aligned copy is a rigid, permuted image of z: same sorted pair distances
    pd = lambda c: np.sort(np.linalg.norm(c[:, None] - c[None], axis=-1).ravel())
    np.testing.assert_allclose(pd(aligned.reshape(-1, 3)), pd(z), atol=1e-10)
    # a different structure altogether is far away
    other = compact_random(natoms, rng)
    assert align_clusters(x.ravel(), other.ravel(), natoms)[0] > 0.5


def test_aligned_copy_sits_on_reference_centroid():
    rng = np.random.default_rng(13)
    x = compact_random(10, rng) + np.array([5.0, -2.0, 1.0])
    z = x + rng.normal(scale=0.1, size=x.shape)
    _, aligned = align_clusters(x.ravel(), scramble(z, rng).ravel(), 10)
    np.testing.assert_allclose(aligned.reshape(-1, 3).mean(0), x.mean(0), atol=1e-12)


# --------------------------------------------------------------------------- options
def test_inversion_only_when_allowed():
    rng = np.random.default_rng(14)
    x = compact_random(9, rng)                      # chiral: its mirror image is different
    y = scramble(x, rng, invert=True)
    assert align_clusters(x.ravel(), y.ravel(), 9, invert=True)[0] < 1e-9
    assert align_clusters(x.ravel(), y.ravel(), 9, invert=False)[0] > 0.1


def test_without_permutation_is_exact_kabsch():
    rng = np.random.default_rng(15)
    x = compact_random(8, rng)
    y = x @ random_rotation(rng).T + 1.5
    dist, aligned = align_clusters(x.ravel(), y.ravel(), 8, permute=False)
    assert dist < 1e-12
    np.testing.assert_allclose(aligned, x.ravel(), atol=1e-12)
    swapped = y[[1, 0, 2, 3, 4, 5, 6, 7]]
    assert align_clusters(x.ravel(), swapped.ravel(), 8, permute=False)[0] > 0.1
    assert align_clusters(x.ravel(), swapped.ravel(), 8, permute=True)[0] < 1e-9


@pytest.mark.parametrize("invert", [True, False])
def test_global_optimum_matches_brute_force_for_small_clusters(invert):
    rng = np.random.default_rng(16)
    for _ in range(6):
        x = compact_random(5, rng, min_dist=0.7)
        y = compact_random(5, rng, min_dist=0.7)
        exact = brute_force_distance(x, y, invert=invert)
        dist, _ = align_clusters(x.ravel(), y.ravel(), 5, invert=invert)
        assert dist == pytest.approx(exact, rel=1e-9, abs=1e-12)
        back, _ = align_clusters(y.ravel(), x.ravel(), 5, invert=invert)
        assert back == pytest.approx(exact, rel=1e-9, abs=1e-12)


def test_reproducible_and_inputs_untouched():
    rng = np.random.default_rng(17)
    x = compact_random(13, rng)
    y = compact_random(13, rng)
    x0, y0 = x.ravel().copy(), y.ravel().copy()
    first = align_clusters(x.ravel(), y.ravel(), 13)
    second = align_clusters(x.ravel(), y.ravel(), 13)
    assert first[0] == second[0] and np.array_equal(first[1], second[1])
    np.testing.assert_array_equal(x.ravel(), x0)
    np.testing.assert_array_equal(y.ravel(), y0)
    # the random orientations only add starts to the deterministic ones
    deterministic_only = align_clusters(x.ravel(), y.ravel(), 13, niter=0)[0]
    assert first[0] <= deterministic_only + 1e-12


def test_degenerate_geometries():
    rng = np.random.default_rng(18)
    line = np.array([[0.0, 0.0, 0.0], [1.1, 0.0, 0.0], [2.2, 0.0, 0.0]])   # linear triatomic
    dist, aligned = align_clusters(line.ravel(), scramble(line, rng).ravel(), 3)
    assert dist < 1e-9
    dimer = np.array([[0.0, 0.0, 0.0], [1.12, 0.0, 0.0]])
    assert align_clusters(dimer.ravel(), scramble(dimer, rng).ravel(), 2)[0] < 1e-9
    single = np.array([1.0, 2.0, 3.0])
    dist, aligned = align_clusters(single, single + 4.0, 1)
    assert dist == 0.0 and np.allclose(aligned, single)
    with pytest.raises(ValueError):
        align_clusters(np.zeros(9), np.zeros(6), 3)
