"""Zero modes from the declared symmetries, signs with an error bound (mlcore.symmetric_spectrum).

Every check compares with a dense NumPy eigendecomposition of the reference Hessian
(``kernels.reference.nn``) or with eigenvalues known in closed form.
"""
import numpy as np
import pytest

from kernels.reference.nn import NNReference
from mlcore.stationary import DEFAULT_ZERO_TOL, characterise, classify_eigenvalues
from mlcore.systems.cluster import ClusterSystem
from mlcore.systems.nn import NNSystem
from tests.polish import local_minimum
from tests.surfaces import Quadratic


def _network(lam, reg_biases, scale=1.0, seed=0, hidden=3):
    rng = np.random.default_rng(seed)
    x = scale * rng.standard_normal((120, 3))
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int) + (x[:, 2] > 0.8).astype(int)
    system = NNSystem(x, y, hidden, lam=lam, reg_biases=reg_biases)
    ref = NNReference(3, hidden, system.n_out, system.x_train, labels=system.y_train, lam=lam,
                      reg_biases=reg_biases)
    return system, ref, rng


def test_an_l2_curvature_a_million_times_below_the_largest_is_positive():
    """Triatomic network, lambda = 1e-6: curvatures of 2 lambda beside ones above 100 (a
    ratio near 1e-8) made the relative threshold call them zero and reject the minimum."""
    from tests.test_network_minima import _reference, _system

    _, system = _system(500, 1e-6, all_weights=True)
    ref = _reference(system)
    rng = np.random.default_rng(0)
    x = local_minimum(system, system.random_coords(rng), gtol=1e-11)
    exact = np.linalg.eigvalsh(ref.hessian(x))
    assert exact[0] > 0 and exact[0] / exact[-1] < 1e-6          # the hard case
    assert classify_eigenvalues(exact, 0, DEFAULT_ZERO_TOL).any()   # the old rule fails
    info = characterise(system, x)
    assert info.is_minimum and info.n_zero == 0 and info.n_extra_zero == 0
    assert info.lowest_nonzero == pytest.approx(exact[0], rel=1e-6)
    assert info.log_product == pytest.approx(np.log(exact).sum(), rel=1e-9)


def test_the_output_bias_shift_is_the_one_zero_mode_without_bias_l2():
    system, ref, rng = _network(1e-4, False)
    x = local_minimum(system, system.random_coords(rng), gtol=1e-11)
    exact = np.linalg.eigvalsh(ref.hessian(x))
    info = characterise(system, x)
    if system.dead_nodes(x).size:                # a rare start: the test wants a live one
        pytest.skip("this start ended with a dead hidden node")
    assert info.n_zero == 1 and info.zero_modes_expected == 1 and info.n_extra_zero == 0
    nonzero = np.sort(exact)[1:]                 # the shift is an exact eigenvector of H
    assert np.abs(np.sort(exact)[0]) < 1e-10
    got = np.sort(info.eigenvalues[~info.zero_mask])
    np.testing.assert_allclose(got, nonzero, rtol=1e-8, atol=1e-12)


def test_a_dead_hidden_node_gives_a_degenerate_minimum():
    """Weights into and out of node 0 zero, biases outside L2: its bias is free.  At a large
    bias (tanh' small) the point is a minimum of the valley, flagged degenerate; the free
    direction is declared, so nothing else is taken for zero."""
    system, ref, rng = _network(1e-4, False, hidden=2, seed=4)
    start = system.random_coords(rng)
    w2, bh, w1, _ = system.unpack(start)
    w2[0], w1[:, 0], bh[0] = 0.0, 0.0, 6.0
    # minimise over the other parameters with node 0 held dead: the bias stays free
    mask = np.ones(system.ndim, dtype=bool)
    i2, ih, i1, _ = system.unpack(np.arange(system.ndim, dtype=float))
    mask[np.concatenate([i2[0], ih[:1], i1[:, 0]]).astype(int)] = False   # node 0
    from scipy.optimize import minimize as scipy_minimize

    def restricted(v):
        x = start.copy()
        x[mask] = v
        e, g = system.energy_gradient(x)
        return e, g[mask]

    res = scipy_minimize(restricted, start[mask], jac=True, method="L-BFGS-B",
                         options={"maxiter": 20000, "gtol": 1e-12, "ftol": 0})
    x = start.copy()
    x[mask] = res.x
    info = characterise(system, x)
    exact = np.linalg.eigvalsh(ref.hessian(info.coords))
    assert info.n_free == 1 and info.n_extra_zero == 1
    assert info.n_negative == 0 and info.is_degenerate_minimum and not info.is_minimum
    assert int(np.sum(np.abs(exact) <= 1e-9)) == 2    # the output shift and the free bias
    assert exact.min() > -1e-9


def test_a_soft_negative_curvature_is_negative():
    """A saddle with curvatures -1e-6 and 60 (ratio below the old relative threshold)."""
    rng = np.random.default_rng(1)
    system = Quadratic([-1e-6, 60.0, 3.0, 0.5], rng)
    info = characterise(system, np.zeros(4))
    assert info.n_negative == 1 and info.is_transition_state
    assert info.lowest_nonzero == pytest.approx(-1e-6, rel=1e-6)
    assert info.error_bound < 1e-10


def test_the_bound_grows_with_the_residual_gradient():
    """A point off the stationary point: eigenvalues there are known only to within the
    change of the Hessian over the Newton step, which the bound contains."""
    system, ref, rng = _network(1e-4, True)
    x = local_minimum(system, system.random_coords(rng), gtol=1e-11)
    tight = characterise(system, x, refine=False)
    off = x + 1e-3 * rng.standard_normal(system.ndim)
    loose = characterise(system, off, refine=False)
    assert loose.error_bound > 100 * tight.error_bound
    exact_there = np.linalg.eigvalsh(ref.hessian(x))
    exact_off = np.linalg.eigvalsh(ref.hessian(off))
    assert np.abs(exact_there - exact_off).max() <= loose.error_bound
    polished = characterise(system, off)          # refine: back to the minimum
    assert np.linalg.norm(polished.coords - x) < 1e-8
    assert polished.is_minimum


def test_cluster_zero_modes_come_from_translations_and_rotations():
    system = ClusterSystem(7)
    x = local_minimum(system, system.random_coords(np.random.default_rng(2)), gtol=1e-10)
    info = characterise(system, x)
    assert info.n_zero == 6 and info.zero_modes_expected == 6 and info.is_minimum
    exact = np.sort(np.abs(np.linalg.eigvalsh(system.hessian(x))))
    assert exact[5] < 1e-6 < exact[6]
    chain = np.zeros(9)
    chain[2::3] = 1.1224620483 * np.arange(3)    # a linear LJ3 chain: five zero modes
    assert characterise(ClusterSystem(3), chain).zero_modes_expected == 5
