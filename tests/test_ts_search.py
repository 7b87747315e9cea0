"""Single-ended transition-state search (hybrid eigenvector-following), push-off, and the
Rayleigh-Ritz lowest eigenvector."""
import numpy as np
import pytest
from surfaces import FourWellSurface, Quadratic, SphereQuadratic

from mlcore.config.settings import PushOffSettings, QuenchSettings, TSSearchSettings
from mlcore.landscape import System
from mlcore.numderiv import fd_gradient, fd_hessian
from mlcore.optimize import minimize
from mlcore.stationary import characterise
from mloptim.push_off import displaced_points, push_off
from mloptim.rayleigh_ritz import ConstrainedSpace, lowest_eigenpair, rayleigh_ritz_lowest
from mloptim.ts_search import TSResult, find_transition_state, verify_transition_state

TIGHT = TSSearchSettings(tol=1e-9)
TIGHT_QUENCH = QuenchSettings(tol=1e-9)


# --------------------------------------------------------------------------- the test surface
def test_four_well_derivatives_match_finite_differences():
    surface = FourWellSurface()
    rng = np.random.default_rng(0)
    for _ in range(5):
        x = rng.uniform(-1.5, 1.5, 2)
        np.testing.assert_allclose(surface.energy_gradient(x)[1], fd_gradient(surface.energy, x),
                                   rtol=1e-7, atol=1e-8)
        np.testing.assert_allclose(surface.hessian(x), fd_hessian(surface.energy_gradient, x),
                                   rtol=1e-6, atol=1e-6)


def test_four_well_stationary_points_are_as_documented():
    surface = FourWellSurface()
    for m in surface.minima:
        assert np.abs(surface.energy_gradient(m)[1]).max() == 0.0
        assert surface.energy(m) == 0.0
        assert np.all(np.linalg.eigvalsh(surface.hessian(m)) > 0)
    for ts, energy, _, _ in surface.transition_states():
        assert np.abs(surface.energy_gradient(ts)[1]).max() == 0.0
        assert surface.energy(ts) == energy
        assert np.sum(np.linalg.eigvalsh(surface.hessian(ts)) < 0) == 1
    top, energy = surface.index2_saddle
    assert surface.energy(top) == energy == 3.0
    assert np.all(np.linalg.eigvalsh(surface.hessian(top)) < 0)


# --------------------------------------------------------------------------- Rayleigh-Ritz
@pytest.mark.parametrize("method", ["dense", "hvp"])
def test_lowest_eigenpair_projects_analytic_zero_modes(method):
    rng = np.random.default_rng(1)
    lam = np.concatenate([[0.0, 0.0, -0.5], np.linspace(0.2, 10.0, 37)])
    system = Quadratic(lam, rng, zero_indices=(0, 1))
    x = rng.standard_normal(system.ndim)
    pair = lowest_eigenpair(system, x, method=method, tol=1e-10, max_iter=500, rng=rng)
    assert pair.value == pytest.approx(-0.5, abs=1e-10)
    exact = system.q[:, 2]
    assert abs(abs(pair.vector @ exact) - 1.0) < 1e-10
    assert np.abs(system.q[:, :2].T @ pair.vector).max() < 1e-12
    assert pair.converged


@pytest.mark.parametrize("method", ["dense", "hvp"])
def test_lowest_eigenpair_recognises_numerical_zero_modes(method):
    # no analytic zero modes: the two zero eigenvalues are skipped numerically
    rng = np.random.default_rng(2)
    lam = np.concatenate([[0.0, 0.0], np.linspace(0.3, 5.0, 28)])
    system = Quadratic(lam, rng, zero_indices=(0, 1), analytic_zero=False)
    pair = lowest_eigenpair(system, np.zeros(system.ndim), method=method, tol=1e-9,
                            max_iter=500, rng=rng)
    assert pair.value == pytest.approx(0.3, abs=1e-8)
    assert pair.zero_vectors.shape == (2, system.ndim)
    # the skipped vectors span the true zero space
    proj = system.q[:, :2].T @ pair.zero_vectors.T
    np.testing.assert_allclose(np.linalg.svd(proj, compute_uv=False), [1.0, 1.0], atol=1e-5)


def test_hvp_solve_does_not_slide_into_the_projected_zero_modes():
    # near an LJ7 minimum every constrained eigenvalue is positive, so the projected-out
    # translations and rotations (eigenvalue 0 of P H P) lie below the spectrum; without
    # re-projection rounding lets the quotient slide into them (value ~1e-25)
    from mlcore.systems.cluster import ClusterSystem

    system = ClusterSystem(7)
    rng = np.random.default_rng(3)
    minimum = minimize(system, system.random_coords(rng), tol=1e-8).coords
    x = minimum + 1e-3 * rng.standard_normal(system.ndim)
    dense = lowest_eigenpair(system, x, method="dense")
    assert dense.value > 1.0
    hvp = lowest_eigenpair(system, x, method="hvp", tol=1e-12, max_iter=1000, rng=rng)
    assert hvp.value == pytest.approx(dense.value, rel=1e-10)
    assert np.abs(system.zero_mode_vectors(x) @ hvp.vector).max() < 1e-10


def test_rayleigh_ritz_warm_start_is_cheap():
    rng = np.random.default_rng(3)
    lam = np.linspace(-1.0, 20.0, 200)
    system = Quadratic(lam, rng)

    def apply(v):
        return system.hessian_vector(None, v)

    cold = rayleigh_ritz_lowest(apply, rng.standard_normal(200), max_iter=400, tol=1e-8)
    assert cold[0] == pytest.approx(-1.0, abs=1e-10)
    assert cold[3]
    warm_start = system.q[:, 0] + 1e-6 * rng.standard_normal(200)
    warm = rayleigh_ritz_lowest(apply, warm_start, max_iter=400, tol=1e-8)
    assert warm[0] == pytest.approx(-1.0, abs=1e-10)
    assert warm[4] < cold[4] / 2


def test_constrained_space_on_the_sphere_removes_the_radial_direction():
    system = SphereQuadratic([1.0, 2.0, 3.0, 4.0])
    x = np.array([1.0, 1.0, 1.0, 1.0])
    space = ConstrainedSpace.at(system, x)
    w = space.project(np.array([1.0, 0.0, 0.0, 0.0]))
    np.testing.assert_allclose(w, [0.75, -0.25, -0.25, -0.25], atol=1e-15)
    assert space.complement_basis().shape == (4, 3)


def test_constrained_space_complement_of_cluster_zero_modes():
    from mlcore.systems.cluster import ClusterSystem

    system = ClusterSystem(4)
    x = np.random.default_rng(0).standard_normal(12)
    space = ConstrainedSpace.at(system, x)
    assert space.rows.shape == (6, 12)
    q = space.complement_basis()
    assert q.shape == (12, 6)
    np.testing.assert_allclose(q.T @ q, np.eye(6), atol=1e-12)
    assert np.abs(space.rows @ q).max() < 1e-12
    w = space.project(np.arange(12.0))
    np.testing.assert_allclose(q @ (q.T @ np.arange(12.0)), w, atol=1e-12)


# --------------------------------------------------------------------------- 2D surface
@pytest.mark.parametrize("method", ["dense", "hvp"])
@pytest.mark.parametrize("which", range(4))
def test_finds_the_known_saddles_of_the_four_well_surface(which, method):
    surface = FourWellSurface()
    ts, energy, _, _ = surface.transition_states()[which]
    rng = np.random.default_rng(10 + which)
    start = ts + rng.uniform(-0.2, 0.2, 2)
    result = find_transition_state(surface, start, TIGHT, rng=rng, method=method)
    assert isinstance(result, TSResult)
    assert result.success, result.message
    np.testing.assert_allclose(result.coords, ts, atol=1e-6)
    assert result.energy == pytest.approx(energy, abs=1e-6)
    exact = np.linalg.eigh(surface.hessian(ts))
    assert result.eigenvalue == pytest.approx(exact[0][0], abs=1e-6)
    assert abs(abs(result.eigenvector @ exact[1][:, 0]) - 1.0) < 1e-6
    assert result.n_negative == 1
    assert result.rms <= 1e-9
    ok, info = verify_transition_state(surface, result.coords)
    assert ok and info.n_negative == 1


@pytest.mark.parametrize("which", range(4))
def test_push_off_from_each_saddle_reaches_its_two_minima(which):
    surface = FourWellSurface()
    ts, _, min_a, min_b = surface.transition_states()[which]
    result = find_transition_state(surface, ts + 0.05, TIGHT)
    minus, plus = push_off(surface, result.coords, result.eigenvector, PushOffSettings(),
                           TIGHT_QUENCH)
    assert minus.success and plus.success
    found = sorted([tuple(np.round(minus.coords, 6)), tuple(np.round(plus.coords, 6))])
    expected = sorted([tuple(min_a), tuple(min_b)])
    np.testing.assert_allclose(found, expected, atol=1e-6)
    assert minus.energy == pytest.approx(0.0, abs=1e-12)
    assert plus.energy == pytest.approx(0.0, abs=1e-12)
    # "minus" lies on the side opposite to the eigenvector
    assert (minus.coords - ts) @ result.eigenvector < 0 < (plus.coords - ts) @ result.eigenvector


def test_push_off_max_energy_drop_shrinks_the_displacement():
    surface = FourWellSurface()
    ts = np.array([0.0, 1.0])
    v = np.linalg.eigh(surface.hessian(ts))[1][:, 0]
    settings = PushOffSettings(step=0.5, max_energy_drop=1e-3)
    minus, plus = displaced_points(surface, ts, v, settings)
    for point, sign in ((minus, -1.0), (plus, 1.0)):
        drop = 1.0 - surface.energy(point)
        assert 0.0 < drop <= 1e-3
        step = (point - ts) @ v
        assert sign * step > 0
        np.testing.assert_allclose(point - ts, step * v, atol=1e-15)
        # one halving less would exceed the allowed drop
        assert 1.0 - surface.energy(ts + 2 * step * v) > 1e-3


class SoftSaddle(System):
    """An ill-conditioned saddle like those of network landscapes (in rotated coordinates
    ``y = Q^T x``): a double well of height ``a / 4`` along ``y0`` (the transition mode,
    curvature ``-a`` at the saddle), a soft double well ``eps (-y1^2/2 + y1^4/4)`` (so the
    region around ``y1 = 0`` has two negative eigenvalues), stiff and soft harmonic modes of
    curvatures ``1e-4 .. 10`` and a coupling ``0.1 a y0^2 y2``.  Transition states at
    ``y0 = 0, y1 = +-1, y2.. = 0`` (eigenvalues ``-a``, ``2 eps``, the curvatures)."""

    kind = "python"

    def __init__(self, ndim, rng, a=1e-3, eps=1e-4):
        self.ndim, self.a, self.eps = ndim, a, eps
        self.q, _ = np.linalg.qr(rng.standard_normal((ndim, ndim)))
        self.c = np.logspace(-4, 1, ndim - 2)
        self.n_zero_modes = 0

    def energy_gradient(self, coords):
        y = self.q.T @ np.asarray(coords, dtype=np.float64)
        a, eps, c = self.a, self.eps, self.c
        e = (a * (-0.5 * y[0] ** 2 + 0.25 * y[0] ** 4) + eps * (-0.5 * y[1] ** 2 + 0.25 * y[1] ** 4)
             + 0.5 * np.sum(c * y[2:] ** 2) + 0.1 * a * y[0] ** 2 * y[2])
        gy = np.empty_like(y)
        gy[0] = a * (y[0] ** 3 - y[0]) + 0.2 * a * y[0] * y[2]
        gy[1] = eps * (y[1] ** 3 - y[1])
        gy[2:] = c * y[2:]
        gy[2] += 0.1 * a * y[0] ** 2
        return float(e), self.q @ gy

    def hessian(self, coords):
        y = self.q.T @ np.asarray(coords, dtype=np.float64)
        h = np.diag(np.concatenate([[self.a * (3 * y[0] ** 2 - 1) + 0.2 * self.a * y[2],
                                     self.eps * (3 * y[1] ** 2 - 1)], self.c]))
        h[0, 2] = h[2, 0] = 0.2 * self.a * y[0]
        return self.q @ h @ self.q.T

    def hessian_vector(self, coords, vec):
        return self.hessian(coords) @ vec


def test_soft_saddle_derivatives_match_finite_differences():
    rng = np.random.default_rng(1)
    system = SoftSaddle(12, rng)
    for _ in range(3):
        x = rng.standard_normal(12)
        np.testing.assert_allclose(system.energy_gradient(x)[1],
                                   fd_gradient(lambda z: system.energy_gradient(z)[0], x),
                                   rtol=1e-6, atol=1e-10)
        np.testing.assert_allclose(system.hessian(x), fd_hessian(system.energy_gradient, x),
                                   rtol=1e-5, atol=1e-9)


def test_ill_conditioned_saddle_needs_all_mode_steps():
    # from a point with two negative eigenvalues (-a, -eps) and gradients ~1e-5: the tangent
    # L-BFGS (all_modes=False) creeps along the soft negative mode (steps ~ g / 10 instead of
    # g / eps) and stalls above tol; the all-mode / rational-function steps converge at once
    rng = np.random.default_rng(1)
    system = SoftSaddle(12, rng)
    y = np.zeros(12)
    y[0], y[1], y[2:] = 0.2, 0.05, 0.01 * rng.standard_normal(10)
    start = system.q @ y
    old = find_transition_state(system, start, TSSearchSettings(all_modes=False, max_iter=100))
    assert not old.success and old.rms > 1e-6
    res = find_transition_state(system, start, TSSearchSettings())
    assert res.success and res.n_iter <= 20, res.message
    yts = system.q.T @ res.coords
    assert abs(yts[0]) < 1e-6 and abs(abs(yts[1]) - 1.0) < 1e-2
    ok, info = verify_transition_state(system, res.coords)
    assert ok and info.n_negative == 1
    assert res.eigenvalue == pytest.approx(-system.a, rel=1e-3)


class ShallowDoubleWell(System):
    """``E = eps ((x0^2 - 1)^2 + x1^2)``: minima at ``x0 = +-1``, a transition state at the
    origin with curvature ``-4 eps`` along ``x0``."""

    kind = "python"
    ndim = 2
    n_zero_modes = 0

    def __init__(self, eps):
        self.eps = eps

    def energy_gradient(self, coords):
        x = np.asarray(coords, dtype=np.float64)
        e = self.eps * ((x[0] ** 2 - 1.0) ** 2 + x[1] ** 2)
        return float(e), self.eps * np.array([4.0 * x[0] * (x[0] ** 2 - 1.0), 2.0 * x[1]])


def test_push_off_from_a_soft_transition_state_grows_the_displacement():
    # eps = 1e-5: a displacement of 0.01 leaves an RMS gradient of 3e-7 < quench tol 1e-6,
    # so the quench would stop at once, at the transition state
    system = ShallowDoubleWell(1e-5)
    ts, v = np.zeros(2), np.array([1.0, 0.0])
    minus, plus = displaced_points(system, ts, v, PushOffSettings(step=0.01))
    assert minus[0] == pytest.approx(-0.01) and plus[0] == pytest.approx(0.01)
    minus, plus = displaced_points(system, ts, v, PushOffSettings(step=0.01), min_rms=1e-5)
    for x in (minus, plus):
        g = system.energy_gradient(x)[1]
        assert np.linalg.norm(g) / np.sqrt(2) >= 1e-5
        assert np.linalg.norm(system.energy_gradient(x / 2.0)[1]) / np.sqrt(2) < 1e-5
    assert plus[0] == pytest.approx(-minus[0]) and plus[0] == pytest.approx(0.01 * 2 ** 6)
    qm, qp = push_off(system, ts, v, PushOffSettings(step=0.01), QuenchSettings(tol=1e-6))
    assert qm.success and qp.success
    assert qm.coords[0] == pytest.approx(-1.0, abs=0.05)
    assert qp.coords[0] == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("method", ["dense", "hvp"])
def test_index_two_saddle_is_not_accepted(method):
    surface = FourWellSurface()
    top, _ = surface.index2_saddle
    result = find_transition_state(surface, top, rng=np.random.default_rng(0), method=method,
                                   max_escapes=0)
    assert not result.success
    assert "index" in result.message and "not a transition state" in result.message
    np.testing.assert_array_equal(result.coords, top)
    assert result.n_negative == 2
    assert result.eigenvalue < 0


def test_escape_from_index_two_saddle_reaches_a_true_transition_state():
    surface = FourWellSurface()
    top, _ = surface.index2_saddle
    result = find_transition_state(surface, top, TIGHT, rng=np.random.default_rng(0))
    assert result.success and result.n_escapes == 1
    distances = [np.linalg.norm(result.coords - ts) for ts, *_ in surface.transition_states()]
    assert min(distances) < 1e-6
    assert np.linalg.norm(result.coords - top) > 0.9
    assert verify_transition_state(surface, result.coords)[0]


def test_stationary_point_with_two_negative_modes_in_higher_dimension_is_rejected():
    # E = 1/2 x^T H x with two negative eigenvalues: the origin is stationary, index 2,
    # and there is no transition state anywhere (the escape runs downhill for ever)
    rng = np.random.default_rng(4)
    system = Quadratic([-2.0, -1.0, 1.0, 3.0, 5.0], rng)
    result = find_transition_state(system, np.zeros(5), TSSearchSettings(max_iter=30), rng=rng)
    assert not result.success
    assert result.n_iter == 30 or "index" in result.message
    info = characterise(system, np.zeros(5))
    assert info.n_negative == 2 and not info.is_transition_state


def test_evaluation_count_and_initial_direction_sign():
    surface = FourWellSurface()
    calls = [0]

    class Counting(FourWellSurface):
        def energy_gradient(self, coords):
            calls[0] += 1
            return super().energy_gradient(coords)

    direction = np.array([-1.0, 0.3])
    result = find_transition_state(Counting(), [0.15, 0.9], initial_direction=direction)
    assert result.success
    assert result.n_evaluations == calls[0] > 0
    assert result.eigenvector @ direction > 0
    flipped = find_transition_state(surface, [0.15, 0.9], initial_direction=-direction)
    np.testing.assert_allclose(flipped.eigenvector, -result.eigenvector, atol=1e-8)


# --------------------------------------------------------------------------- sphere
@pytest.mark.parametrize("method", ["dense", "hvp"])
def test_sphere_quadratic_saddle_on_the_sphere(method):
    d = np.array([1.0, 2.0, 3.5, 4.0, 5.0, 6.0])
    system = SphereQuadratic(d)
    n = system.ndim
    rng = np.random.default_rng(5)
    start = system.stationary_point(0) + 0.3 * rng.standard_normal(n)
    result = find_transition_state(system, start, TIGHT, rng=rng, method=method)
    assert result.success, result.message
    assert np.sum(result.coords ** 2) == pytest.approx(n, rel=1e-12)
    ts = system.stationary_point(1, np.sign(result.coords[1]))
    np.testing.assert_allclose(result.coords, ts, atol=1e-6)
    assert result.energy == pytest.approx(n * d[1], abs=1e-6)
    assert result.eigenvalue == pytest.approx(2 * (d[0] - d[1]), abs=1e-6)
    assert abs(result.eigenvector @ result.coords) < 1e-8       # tangent
    minus, plus = push_off(system, result.coords, result.eigenvector, quench_settings=TIGHT_QUENCH)
    for q in (minus, plus):
        assert q.success and q.energy == pytest.approx(n * d[0], abs=1e-8)
        assert np.sum(q.coords ** 2) == pytest.approx(n, rel=1e-12)
    assert np.sign(minus.coords[0]) != np.sign(plus.coords[0])


def test_pspin_transition_state_stays_on_the_sphere():
    from mlcore.systems.pspin import PSpinSystem

    system = PSpinSystem(12)
    rng = np.random.default_rng(0)
    minimum = minimize(system, system.random_coords(rng), tol=1e-9).coords
    start = system.retract(minimum + 0.1 * rng.standard_normal(system.ndim))
    result = find_transition_state(system, start, TIGHT, rng=rng)
    assert result.success, result.message
    assert np.sum(result.coords ** 2) == pytest.approx(12.0, rel=1e-12)
    ok, info = verify_transition_state(system, result.coords)
    assert ok and info.n_negative == 1 and info.n_zero == 1
    assert info.lowest_nonzero == pytest.approx(result.eigenvalue, rel=1e-6)
    minus, plus = push_off(system, result.coords, result.eigenvector, quench_settings=TIGHT_QUENCH)
    for q in (minus, plus):
        assert q.success and q.energy < result.energy
        assert characterise(system, q.coords).is_minimum


# --------------------------------------------------------------------------- study landscapes
def _quenched(system, seed, tol=1e-9):
    rng = np.random.default_rng(seed)
    return minimize(system, system.random_coords(rng), tol=tol), rng


@pytest.mark.parametrize("method", ["dense", "hvp"])
def test_lj7_from_a_perturbed_minimum(method):
    from mlcore.systems.cluster import ClusterSystem

    system = ClusterSystem(7)
    minimum, _ = _quenched(system, 3)
    rng = np.random.default_rng(0)
    start = minimum.coords + 0.1 * rng.standard_normal(system.ndim)
    result = find_transition_state(system, start, TIGHT, rng=rng, method=method)
    assert result.success, result.message
    ok, info = verify_transition_state(system, result.coords)
    assert ok
    assert info.n_negative == 1 and info.n_zero == 6
    assert info.lowest_nonzero == pytest.approx(result.eigenvalue, rel=1e-6)
    # the eigenvector is orthogonal to translations and rotations
    zero = system.zero_mode_vectors(result.coords)
    assert np.abs(zero @ result.eigenvector).max() < 1e-8
    minus, plus = push_off(system, result.coords, result.eigenvector, quench_settings=TIGHT_QUENCH)
    assert minus.success and plus.success
    for q in (minus, plus):
        assert q.energy < result.energy - 0.1
        mi = characterise(system, q.coords)
        assert mi.is_minimum and mi.n_zero == 6
    assert system.distance(minus.coords, plus.coords) > 10 * system.distance_tol


def test_regression_landscape():
    from mlcore.systems.regression import RegressionSystem

    system = RegressionSystem()
    minimum, rng = _quenched(system, 0)
    start = minimum.coords + 0.1 * rng.standard_normal(system.ndim)
    result = find_transition_state(system, start, TIGHT, rng=rng)
    assert result.success, result.message
    ok, info = verify_transition_state(system, result.coords)
    assert ok and info.n_negative == 1 and info.n_zero == 0
    assert info.eigenvalues[0] == pytest.approx(result.eigenvalue, rel=1e-8)
    minus, plus = push_off(system, result.coords, result.eigenvector, quench_settings=TIGHT_QUENCH)
    for q in (minus, plus):
        assert q.success and q.energy < result.energy
        assert characterise(system, q.coords).is_minimum


def test_small_network_with_three_hidden_nodes():
    from mlcore.systems.nn import NNSystem

    data = np.random.default_rng(0)
    x = data.normal(size=(40, 3))
    labels = data.integers(0, 4, 40)
    system = NNSystem(x, labels, 3, lam=1e-2)
    assert system.ndim == 28 and system.n_zero_modes == 0
    minimum, rng = _quenched(system, 0)
    start = minimum.coords + 0.1 * rng.standard_normal(system.ndim)
    result = find_transition_state(system, start, TIGHT, rng=rng)
    assert result.success, result.message
    ok, info = verify_transition_state(system, result.coords)
    assert ok and info.n_negative == 1
    assert info.eigenvalues[0] == pytest.approx(result.eigenvalue, rel=1e-6)
    minus, plus = push_off(system, result.coords, result.eigenvector, quench_settings=TIGHT_QUENCH)
    for q in (minus, plus):
        assert q.success and q.energy < result.energy
        assert characterise(system, q.coords).is_minimum
    assert system.distance(minus.coords, plus.coords) > system.distance_tol


def test_784_10_10_network_runs_on_hessian_vector_products_only(monkeypatch):
    from scipy.sparse.linalg import LinearOperator, eigsh

    from mlcore.systems.nn import NNSystem

    data = np.random.default_rng(0)
    system = NNSystem(data.normal(size=(200, 784)), data.integers(0, 10, 200), 10, lam=1e-4)
    assert system.ndim == 7960

    def no_dense(*args, **kwargs):
        raise AssertionError("the search formed a dense Hessian")

    monkeypatch.setattr(system, "hessian", no_dense)
    rng = np.random.default_rng(1)
    settings = TSSearchSettings(max_iter=5, tangent_steps=3, eig_max_iter=30)
    start = system.random_coords(rng)
    result = find_transition_state(system, start, settings, rng=rng)
    assert result.n_iter == 5 and not result.success
    assert result.n_hessian == 0 and result.n_hessian_vector > 0
    assert result.n_evaluations >= 5 * 2
    assert np.linalg.norm(result.eigenvector) == pytest.approx(1.0, abs=1e-12)
    hv = system.hessian_vector(result.coords, result.eigenvector)
    assert result.eigenvector @ hv == pytest.approx(result.eigenvalue, rel=1e-9)
    residual = np.linalg.norm(hv - result.eigenvalue * result.eigenvector)
    assert 2 * residual / np.sqrt(system.ndim) <= settings.eig_tol
    # a Rayleigh quotient is an upper bound of the lowest eigenvalue (with a loose eig_tol
    # on a clustered spectrum it may be a neighbouring eigenvalue, within the residual)
    op = LinearOperator((7960, 7960), matvec=lambda v: system.hessian_vector(result.coords, v),
                        dtype=np.float64)
    exact = eigsh(op, k=1, which="SA", tol=1e-8, v0=result.eigenvector)[0][0]
    assert exact - 1e-9 <= result.eigenvalue < 0.0
    e, g = system.energy_gradient(result.coords)
    assert result.energy == pytest.approx(e, rel=1e-12)
    assert result.rms == pytest.approx(np.linalg.norm(g) / np.sqrt(7960), rel=1e-10)


def test_784_10_10_network_transition_state_near_a_minimum(monkeypatch):
    from scipy.sparse.linalg import LinearOperator, eigsh

    from mlcore.systems.nn import NNSystem

    # more samples than inputs: with fewer, the first-layer weights orthogonal to the data
    # are held by the L2 term alone (curvature 2 lam, thousands of them), and from a
    # minimum the search climbs that parabolic bowl instead of finding a saddle
    data = np.random.default_rng(0)
    system = NNSystem(data.normal(size=(1000, 784)), data.integers(0, 10, 1000), 10, lam=1e-2)
    monkeypatch.setattr(system, "hessian", lambda *a, **k: pytest.fail("dense Hessian formed"))
    rng = np.random.default_rng(0)
    minimum = minimize(system, system.random_coords(rng), tol=1e-6)
    assert minimum.success
    start = minimum.coords + 0.05 * rng.standard_normal(system.ndim)
    result = find_transition_state(system, start, TSSearchSettings(max_iter=300), rng=rng)
    assert result.success, result.message
    assert result.n_hessian == 0 and result.rms <= 1e-6
    op = LinearOperator((7960, 7960), dtype=np.float64,
                        matvec=lambda v: system.hessian_vector(result.coords, v))
    lowest = np.sort(eigsh(op, k=3, which="SA", tol=1e-9, v0=result.eigenvector)[0])
    assert lowest[0] < 0 < lowest[1]                     # index one
    assert result.eigenvalue == pytest.approx(lowest[0], rel=1e-6)
    assert result.energy > minimum.energy
    assert np.linalg.norm(result.coords - minimum.coords) < 1.0
