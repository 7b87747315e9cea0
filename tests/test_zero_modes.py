"""Analytic zero modes of the landscapes are orthonormal and annihilated by the Hessian."""
import numpy as np

from mlcore.optimize import minimize
from mlcore.systems.cluster import ClusterSystem
from mlcore.systems.nn import NNSystem
from mlcore.systems.pspin import PSpinSystem


def _check(system, coords, k):
    z = system.zero_mode_vectors(coords)
    assert z.shape == (k, system.ndim)
    assert np.allclose(z @ z.T, np.eye(k), atol=1e-12)
    hz = np.array([system.hessian_vector(coords, v) for v in z])
    scale = np.abs(np.linalg.eigvalsh(system.hessian(coords))).max()
    assert np.abs(hz).max() < 1e-5 * scale


def test_cluster_translations_rotations_at_a_minimum_and_linear_chain():
    system = ClusterSystem(7)
    res = minimize(system, system.random_coords(np.random.default_rng(1)), tol=1e-9)
    _check(system, res.coords, 6)
    chain = np.zeros(15)
    chain[2::3] = 1.1 * np.arange(5)
    assert ClusterSystem(5).zero_mode_vectors(chain).shape == (5, 15)


def test_pspin_radial_mode():
    system = PSpinSystem(12, seed=3)
    res = minimize(system, system.random_coords(np.random.default_rng(2)), tol=1e-9)
    _check(system, res.coords, 1)


def test_nn_output_bias_shift_only_when_unregularised():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((40, 2)), rng.integers(0, 3, 40)
    free = NNSystem(x, y, 2, lam=1e-3, reg_biases=False)
    res = minimize(free, free.random_coords(rng), tol=1e-9)
    _check(free, res.coords, 1)
    assert NNSystem(x, y, 2, lam=1e-3).zero_mode_vectors(res.coords).shape == (0, 15)
