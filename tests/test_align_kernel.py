"""The compiled alignment loop (kernels.assign) against its SciPy/NumPy twin."""
import numpy as np
import pytest
from kernels.assign import assign_max, horn_rotation, refine
from scipy.optimize import linear_sum_assignment

from kernels.reference.assign import proper_rotation
from kernels.reference.assign import refine as refine_reference
from mlcore.align.cluster import random_rotation


@pytest.mark.parametrize("ties", [False, True])
def test_assignment_is_optimal(ties):
    """The same optimum as scipy's linear_sum_assignment on 400 matrices of sizes 1-45,
    including integer matrices full of ties."""
    rng = np.random.default_rng(1 + ties)
    for _ in range(400):
        n = int(rng.integers(1, 46))
        w = (rng.integers(-3, 4, size=(n, n)).astype(float) if ties
             else rng.normal(size=(n, n)))
        perm = assign_max(w)
        assert sorted(perm.tolist()) == list(range(n))
        _, best = linear_sum_assignment(w, maximize=True)
        assert w[np.arange(n), perm].sum() == pytest.approx(w[np.arange(n), best].sum(),
                                                             abs=1e-10)


def test_assignment_of_a_permuted_identity():
    rng = np.random.default_rng(3)
    p = rng.permutation(30)
    w = np.eye(30)[:, p]            # w[i, p[i]] = 1: the only perfect assignment
    assert assign_max(np.ascontiguousarray(w)).tolist() == np.argsort(p).tolist()


def test_horn_rotation_is_the_best_proper_rotation():
    rng = np.random.default_rng(4)
    for _ in range(200):
        n = int(rng.integers(3, 40))
        ref = rng.normal(size=(n, 3))
        ref -= ref.mean(axis=0)
        mob = ref @ random_rotation(rng).T + rng.normal(scale=rng.choice([0.0, 0.1, 2.0]),
                                                        size=(n, 3))
        if rng.random() < 0.3:
            mob = -mob                   # an inverted copy: the proper optimum differs
        mob = np.ascontiguousarray(mob - mob.mean(axis=0))
        rot, lam = horn_rotation(ref, mob)
        rot_ref, lam_ref = proper_rotation(ref, mob)
        assert np.allclose(rot @ rot.T, np.eye(3), atol=1e-12)
        assert np.linalg.det(rot) == pytest.approx(1.0, abs=1e-12)
        assert lam == pytest.approx(lam_ref, rel=1e-12, abs=1e-12)
        assert np.linalg.norm(ref - mob @ rot.T) == pytest.approx(
            np.linalg.norm(ref - mob @ rot_ref.T), rel=1e-9, abs=1e-9)


def _clusters(rng, n, noise, with_rotation=False):
    """``ref`` and a rotated, permuted, noisy copy; optionally the rotation ``R`` that
    aligns the copy back (``mob[perm] @ R.T`` is ``ref`` without noise)."""
    ref = rng.normal(size=(n, 3))
    ref -= ref.mean(axis=0)
    q = random_rotation(rng)
    mob = (ref @ q.T)[rng.permutation(n)] + rng.normal(scale=noise, size=(n, 3))
    mob = np.ascontiguousarray(mob - mob.mean(axis=0))
    return (ref, mob, q.T) if with_rotation else (ref, mob)


@pytest.mark.parametrize("noise", [0.0, 0.05, 0.5])
def test_refine_matches_the_reference(noise):
    """Same distance from the same random starts, and an alignment that gives it.  (Where
    the alternation ends in a cycle of equally good permutations, rounding may make the two
    report different members of it, so permutations are compared only where they agree on
    the rotation.)"""
    rng = np.random.default_rng(5)
    same = 0
    for _ in range(60):
        ref, mob = _clusters(rng, int(rng.integers(4, 40)), noise)
        sq = float((ref * ref).sum() + (mob * mob).sum())
        start = random_rotation(rng)
        d, perm, rot = refine(ref, mob, start, 30, set(), sq)
        d_ref, perm_ref, rot_ref = refine_reference(ref, mob, start, 30, set(), sq)
        assert d == pytest.approx(d_ref, rel=1e-9, abs=1e-9)
        assert d == pytest.approx(np.linalg.norm(ref - mob[perm] @ rot.T), rel=1e-9, abs=1e-12)
        if np.allclose(rot, rot_ref, atol=1e-8):
            same += perm.tolist() == perm_ref.tolist()
    assert same >= 50


def test_refine_finds_an_exact_copy_and_stops_on_seen_permutations():
    rng = np.random.default_rng(6)
    ref, mob, back = _clusters(rng, 25, 0.0, with_rotation=True)
    sq = float((ref * ref).sum() + (mob * mob).sum())
    seen: set = set()
    near = [back @ _small_rotation(rng, 0.2) for _ in range(5)]
    far = [random_rotation(rng) for _ in range(20)]
    found = [refine(ref, mob, s, 30, seen, sq) for s in near + far]
    assert found[0][0] < 1e-10
    assert np.allclose(mob[found[0][1]] @ found[0][2].T, ref, atol=1e-10)
    # the same starts again: every path is known, nothing new is reached
    assert all(refine(ref, mob, s, 30, seen, sq)[1] is None for s in near + far)


def _small_rotation(rng, angle):
    axis = rng.normal(size=3)
    axis /= np.linalg.norm(axis)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k
