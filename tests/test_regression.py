"""The ``regression`` landscape: compiled kernel, NumPy oracle, symmetry group, system."""
import itertools
import pickle

import numpy as np
import pytest
import scipy.optimize
from kernels.regression import RegressionKernel

from kernels.reference import regression as ref
from mlcore.errors import InputError
from mlcore.numderiv import fd_gradient, fd_hessian
from mlcore.systems import build_system
from mlcore.systems.regression import (
    Q_TRUE,
    SYMMETRY_OPERATIONS,
    RegressionSystem,
    SymmetryOperation,
    apply_operation,
    default_data,
    model,
)

TWO_PI = 2.0 * np.pi


@pytest.fixture(scope="module")
def system():
    return RegressionSystem()


@pytest.fixture(scope="module")
def global_minimum(system):
    res = scipy.optimize.minimize(system.energy_gradient, np.array(Q_TRUE), jac=True,
                                  method="L-BFGS-B", options={"gtol": 1e-11, "ftol": 1e-16})
    q = res.x
    for _ in range(3):                                    # Newton polish with the analytic Hessian
        q = q - np.linalg.solve(system.hessian(q), system.energy_gradient(q)[1])
    return q


def random_points(rng, count):
    """Parameters spread beyond the sampling box (negative frequencies, wrapped phases)."""
    return rng.uniform([-0.2, -4.0, -7.0, -4.0, -7.0], [1.0, 4.0, 7.0, 4.0, 7.0],
                       size=(count, 5))


def phase_min_image(a, b):
    """Difference of parameter vectors with the phases taken modulo 2 pi into [-pi, pi]."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    for k in (2, 4):
        d[..., k] = (d[..., k] + np.pi) % TWO_PI - np.pi
    return d


# ---------------------------------------------------------------- kernel vs oracle
def test_kernel_matches_reference(system):
    rng = np.random.default_rng(0)
    x, t = system.x, system.t
    for q in random_points(rng, 6):
        v = rng.standard_normal(5)
        e, g = system.kernel.energy_gradient(q)
        e_ref, g_ref = ref.energy_gradient(q, x, t)
        assert e == pytest.approx(e_ref, rel=1e-10)
        assert system.kernel.energy(q) == pytest.approx(e_ref, rel=1e-10)
        assert np.linalg.norm(g - g_ref) <= 1e-10 * np.linalg.norm(g_ref)
        h, h_ref = system.kernel.hessian(q), ref.hessian(q, x, t)
        assert np.linalg.norm(h - h_ref) <= 1e-10 * np.linalg.norm(h_ref)
        hv_ref = ref.hessian_vector(q, x, t, v)
        assert np.linalg.norm(system.kernel.hessian_vector(q, v) - hv_ref) <= \
            1e-10 * np.linalg.norm(hv_ref)


def test_kernel_on_user_data_and_model_formula():
    x = np.array([0.0, 0.7, 1.9, 4.2])
    t = np.array([0.3, -0.1, 0.25, 0.05])
    kernel = RegressionKernel(x, t)
    assert (kernel.ndim, kernel.npoints) == (5, 4)
    q = np.array([0.3, 1.1, 0.4, -0.7, 2.0])
    y = np.exp(-0.3 * x) * np.sin(1.1 * x + 0.4) * np.sin(-0.7 * x + 2.0)
    np.testing.assert_allclose(kernel.model(q), y, rtol=1e-14)
    assert kernel.energy(q) == pytest.approx(np.sum((t - y) ** 2), rel=1e-13)
    clone = pickle.loads(pickle.dumps(kernel))
    assert clone.energy(q) == kernel.energy(q)
    with pytest.raises(ValueError, match="x has 2 points but t has 3"):
        RegressionKernel([0.0, 1.0], [0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="finite"):
        RegressionKernel([0.0, np.nan], [0.0, 1.0])


# ---------------------------------------------------------------- derivatives
def test_gradient_and_hessian_match_finite_differences(system):
    rng = np.random.default_rng(1)
    for q in random_points(rng, 5):
        _, g = system.energy_gradient(q)
        g_fd = fd_gradient(system.energy, q)
        assert np.linalg.norm(g - g_fd) <= 1e-7 * max(np.linalg.norm(g), 1.0)
        h = system.hessian(q)
        h_fd = fd_hessian(system.energy_gradient, q)
        assert np.abs(h - h_fd).max() <= 1e-6 * max(np.abs(h).max(), 1.0)
        np.testing.assert_array_equal(h, h.T)


def test_hessian_vector_product(system):
    rng = np.random.default_rng(2)
    for q in random_points(rng, 5):
        h = system.hessian(q)
        for v in rng.standard_normal((3, 5)):
            np.testing.assert_allclose(system.hessian_vector(q, v), h @ v, rtol=1e-12,
                                       atol=1e-12 * np.abs(h).max())


def test_global_minimum_of_default_data(system, global_minimum):
    # SPEC 2.3: the best fit sits near the noise level, sum of 100 squares of 0.02 ~ 0.04
    e, g = system.energy_gradient(global_minimum)
    assert 0.02 < e < 0.05
    assert np.linalg.norm(g) < 1e-12
    evals = np.linalg.eigvalsh(system.hessian(global_minimum))
    assert evals.min() > 1.0                              # no zero modes, a stiff minimum
    assert system.distance(Q_TRUE, global_minimum) < 0.05   # close to the generating q*


# ---------------------------------------------------------------- symmetry group
def test_every_operation_leaves_the_fitted_function_unchanged(system):
    rng = np.random.default_rng(3)
    xs = np.linspace(-2.0, 12.0, 301)                     # beyond the data range too
    assert len(SYMMETRY_OPERATIONS) == 16 and len(set(SYMMETRY_OPERATIONS)) == 16
    for q in random_points(rng, 5):
        y = model(q, xs)
        e = system.energy(q)
        images = system.symmetry_images(q)
        for op, image in zip(SYMMETRY_OPERATIONS, images):
            np.testing.assert_allclose(apply_operation(q, op), image, rtol=0, atol=1e-14)
            np.testing.assert_allclose(model(image, xs), y, rtol=0, atol=1e-13)
            assert system.energy(image) == pytest.approx(e, rel=1e-12)
        # the 16 images are distinct parameter vectors, even modulo 2 pi in the phases
        for i, j in itertools.combinations(range(16), 2):
            assert np.linalg.norm(phase_min_image(images[i], images[j])) > 1e-3


def test_flip_needs_no_compensating_shift_but_sign_changes_are_not_symmetries():
    # (q2, q3) -> (-q2, pi - q3) alone keeps y: sin(pi - a) = sin(a).  The look-alikes
    # (q2, q3) -> (-q2, -q3) and a pi shift of one phase flip the sign of y; they become
    # symmetries only combined with a pi shift of the other phase (already in the group).
    q = np.array([0.2, 1.3, 0.4, 2.1, 1.0])
    xs = np.linspace(0.0, 3.0 * np.pi, 50)
    y = model(q, xs)
    flip = q.copy(); flip[1:3] = [-q[1], np.pi - q[2]]
    np.testing.assert_allclose(model(flip, xs), y, atol=1e-14)
    negate = q.copy(); negate[1:3] = [-q[1], -q[2]]
    np.testing.assert_allclose(model(negate, xs), -y, atol=1e-14)
    one_shift = q.copy(); one_shift[2] += np.pi
    np.testing.assert_allclose(model(one_shift, xs), -y, atol=1e-14)
    negate[4] += np.pi
    np.testing.assert_allclose(model(negate, xs), y, atol=1e-14)


def test_operations_form_a_group():
    q = np.array([0.15, 1.7, 0.9, 0.6, 2.3])
    images = [apply_operation(q, op) for op in SYMMETRY_OPERATIONS]
    for a, b in itertools.product(SYMMETRY_OPERATIONS, repeat=2):
        composed = apply_operation(apply_operation(q, a), b)
        dists = [np.linalg.norm(phase_min_image(composed, im)) for im in images]
        assert min(dists) < 1e-12                          # closure
    identity = SymmetryOperation(False, False, False, False)
    assert SYMMETRY_OPERATIONS[0] == identity


def test_canonical_picks_one_representative(system):
    rng = np.random.default_rng(4)
    for q in random_points(rng, 20):
        c = system.canonical(q)
        assert 0.0 <= c[1] <= c[3]
        assert 0.0 <= c[2] < np.pi and 0.0 <= c[4] < TWO_PI
        assert c[0] == q[0]
        np.testing.assert_allclose(model(c, system.x), model(q, system.x), atol=1e-13)
        for image in system.symmetry_images(q):
            shifted = image + TWO_PI * np.array([0, 0, rng.integers(-2, 3), 0,
                                                 rng.integers(-2, 3)])
            np.testing.assert_allclose(system.canonical(shifted), c, rtol=0, atol=1e-12)


def test_align_recovers_transformed_copies_and_separates_fits(system, global_minimum):
    rng = np.random.default_rng(5)
    q = global_minimum
    for op in SYMMETRY_OPERATIONS:
        image = apply_operation(q, op)
        image[2] += TWO_PI * rng.integers(-2, 3)
        image[4] += TWO_PI * rng.integers(-2, 3)
        dist, aligned = system.align(q, image)
        assert dist < 1e-12
        np.testing.assert_allclose(aligned, q, rtol=0, atol=1e-12)
        assert system.distance(image, q) < 1e-12          # symmetric in its arguments
    # phases near the cut at 0 / 2 pi: differences are taken as minimum images
    a = np.array([0.1, 1.0, 1e-4, 2.0, 0.5])
    b = a.copy(); b[2] = TWO_PI - 1e-4
    assert system.align(a, b)[0] == pytest.approx(2e-4, rel=1e-6)
    # a different fit (another local minimum) is far away after any alignment
    other = None
    for start in rng.uniform([0, 0, 0, 0, 0], [1, 4, TWO_PI, 4, TWO_PI], size=(30, 5)):
        res = scipy.optimize.minimize(system.energy_gradient, start, jac=True,
                                      method="L-BFGS-B", options={"gtol": 1e-9})
        if res.fun > 1.0 and np.linalg.eigvalsh(system.hessian(res.x)).min() > 1e-3:
            other = res.x
            break
    assert other is not None
    dist, aligned = system.align(q, other)
    assert dist > 0.1
    assert system.energy(aligned) == pytest.approx(system.energy(other), rel=1e-10)
    brute = min(np.linalg.norm(phase_min_image(im, q)) for im in system.symmetry_images(other))
    assert dist == pytest.approx(brute, rel=1e-12)


# ---------------------------------------------------------------- data and sampling
def test_default_data_are_reproducible_in_the_documented_order(system):
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(0.0, 3.0 * np.pi, 100))
    t = model(Q_TRUE, x) + 0.02 * rng.standard_normal(100)
    np.testing.assert_array_equal(system.x, x)
    np.testing.assert_array_equal(system.t, t)
    assert np.all(np.diff(system.x) >= 0) and 0 <= x[0] and x[-1] <= 3 * np.pi
    noise = system.t - model(Q_TRUE, system.x)
    assert 0.014 < noise.std() < 0.026                     # 0.02 within 4 standard errors
    x2, t2 = default_data(1)
    assert not np.array_equal(x2, system.x)
    np.testing.assert_array_equal(RegressionSystem(seed=1).t, t2)
    with pytest.raises(ValueError):
        system.x[0] = 1.0                                  # the data are read-only


def test_random_coords_ranges(system):
    rng = np.random.default_rng(6)
    pts = np.array([system.random_coords(rng) for _ in range(2000)])
    low, high = pts.min(axis=0), pts.max(axis=0)
    np.testing.assert_array_less([-1e-12] * 5, low)
    np.testing.assert_array_less(high, [1.0, 4.0, TWO_PI, 4.0, TWO_PI])
    np.testing.assert_allclose(high, [1.0, 4.0, TWO_PI, 4.0, TWO_PI], rtol=0.01)
    again = np.random.default_rng(6)
    np.testing.assert_array_equal(system.random_coords(again), pts[0])
    assert system.n_zero_modes == 0 and system.ndim == 5


# ---------------------------------------------------------------- configuration
def test_config_round_trip_default_and_user_data(system):
    table = system.config()
    assert table == {"kind": "regression", "seed": 0, "npoints": 100, "noise": 0.02,
                     "q_true": [0.1, 2.13, 0.0, 1.34, 0.0]}
    rebuilt = build_system(table)
    np.testing.assert_array_equal(rebuilt.t, system.t)
    user = RegressionSystem([0.0, 1.0, 2.0], np.array([0.1, 0.2, -0.3]), energy_tol=1e-8)
    table = user.config()
    assert table == {"kind": "regression", "x": [0.0, 1.0, 2.0], "t": [0.1, 0.2, -0.3],
                     "energy_tol": 1e-8}
    again = build_system(table)
    np.testing.assert_array_equal(again.t, user.t)
    assert again.energy_tol == 1e-8 and again.distance_tol == 1e-3
    q = np.array([0.1, 1.0, 0.2, 2.0, 0.3])
    assert pickle.loads(pickle.dumps(user)).energy(q) == user.energy(q)
    custom = RegressionSystem.from_config({"seed": 3, "npoints": 20, "noise": 0.0,
                                           "q_true": [0.2, 1, 0, 1, 0]})
    np.testing.assert_allclose(custom.t, model([0.2, 1, 0, 1, 0], custom.x), atol=1e-15)
    assert custom.config()["npoints"] == 20


@pytest.mark.parametrize("table,match", [
    ({"kind": "regression", "sead": 1}, "did you mean 'seed'"),
    ({"kind": "regression", "x": [1.0, 2.0]}, "'t' is missing"),
    ({"kind": "regression", "x": [1.0], "t": [1.0], "seed": 2}, "'seed' applies to the generated"),
    ({"kind": "regression", "x": [1.0, 2.0], "t": [1.0]}, "x has 2 points but t has 1"),
    ({"kind": "regression", "x": [1.0, "a"], "t": [1.0, 2.0]}, "'x' must be a list of numbers"),
    ({"kind": "regression", "x": 3.0, "t": [1.0]}, "'x' must be a list of numbers"),
    ({"kind": "regression", "x": [], "t": []}, "'x' is empty"),
    ({"kind": "regression", "q_true": [1.0, 2.0]}, "'q_true' must have 5 entries"),
    ({"kind": "regression", "noise": -0.1}, "'noise' = -0.1 must be >= 0"),
    ({"kind": "regression", "npoints": 0}, "'npoints' = 0 must be >= 1"),
    ({"kind": "regression", "seed": "x"}, "'seed' must be an integer"),
    ({"kind": "regression", "distance_tol": 0}, "'distance_tol' = 0.0 must be > 0"),
])
def test_from_config_rejects_bad_tables(table, match):
    with pytest.raises(InputError, match=match):
        build_system(table)


def test_image_in_the_sampling_box_is_the_same_fit():
    from mlcore.systems.regression import RegressionSystem

    system = RegressionSystem(seed=0)
    low, high = system.sampling_box()
    q = np.array([0.1, -2.13, 7.0, 1.34, -0.5])      # outside: negative frequency, phases
    img = system.image_in_box(q, low, high)
    assert img is not None and np.all((img >= low) & (img <= high))
    assert system.energy(img) == pytest.approx(system.energy(q), rel=1e-12)
    assert system.image_in_box(np.array([5.0, 1.0, 1.0, 1.0, 1.0]), low, high) is None
