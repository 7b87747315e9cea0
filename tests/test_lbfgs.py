"""L-BFGS quench: compiled and Python paths, step control, manifolds, paths, failures.

Also checks the small compiled test landscapes (kernels.testsurfaces) against the NumPy
reference implementations below and against central finite differences.
"""
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from kernels.base import CompiledLandscape
from kernels.lbfgs import STATUS_MESSAGES, lbfgs_quench
from kernels.testsurfaces import RosenbrockKernel, SphereQuadraticKernel

from mlcore.landscape import CompiledSystem
from mlcore.numderiv import fd_gradient, fd_hessian
from mlcore.optimize import LBFGS, QuenchResult, compiled_kernel, lbfgs_python, minimize

BACKENDS = ["compiled", "python"]


# --------------------------------------------------------------------------- references
def _seqsum(v):
    """Left-to-right sum, as the compiled loops add."""
    return float(np.add.accumulate(v)[-1])


class NumpyRosenbrock:
    """Plain Python landscape: only ``ndim`` and ``energy_gradient`` (NumPy reference)."""

    def __init__(self, n):
        self.ndim = n

    def energy_gradient(self, x):
        x = np.asarray(x, dtype=np.float64)
        a = x[1:] - x[:-1] * x[:-1]
        b = 1.0 - x[:-1]
        e = _seqsum(100.0 * a * a + b * b)
        g = np.zeros_like(x)
        g[:-1] += -400.0 * x[:-1] * a - 2.0 * b
        g[1:] += 200.0 * a
        return e, g

    def hessian(self, x):
        n = self.ndim
        h = np.zeros((n, n))
        i = np.arange(n - 1)
        h[i, i] += 1200.0 * x[:-1] ** 2 - 400.0 * x[1:] + 2.0
        h[i + 1, i + 1] += 200.0
        h[i, i + 1] += -400.0 * x[:-1]
        h[i + 1, i] += -400.0 * x[:-1]
        return h


class NumpySphereQuadratic:
    """Plain Python manifold landscape: E = sum d x^2 on |x|^2 = n (NumPy reference)."""

    def __init__(self, diag):
        self.diag = np.asarray(diag, dtype=np.float64)
        self.ndim = self.diag.size

    def energy_gradient(self, x):
        e = _seqsum(self.diag * x * x)
        return e, self.project_tangent(x, 2.0 * self.diag * x)

    def project_tangent(self, x, v):
        return v - (_seqsum(x * v) / _seqsum(x * x)) * x

    def retract(self, x):
        return x * np.sqrt(self.ndim / _seqsum(x * x))

    def hessian(self, x):
        p = np.eye(self.ndim) - np.outer(x, x) / (x @ x)
        mu = 2.0 * (self.diag * x) @ x / (x @ x)
        return p @ np.diag(2.0 * self.diag - mu) @ p


def _energies(landscape, path):
    return np.array([landscape.energy_gradient(np.ascontiguousarray(p))[0] for p in path])


@pytest.fixture
def rng():
    return np.random.default_rng(20261126)


# --------------------------------------------------------------------------- test kernels
def test_rosenbrock_kernel_matches_reference_and_finite_differences(rng):
    n = 7
    kern, ref = RosenbrockKernel(n), NumpyRosenbrock(n)
    assert isinstance(kern, CompiledLandscape) and kern.ndim == n
    assert kern.energy(np.ones(n)) == 0.0
    for _ in range(3):
        x = rng.uniform(-2.0, 2.0, n)
        e, g = kern.energy_gradient(x)
        e_ref, g_ref = ref.energy_gradient(x)
        assert e == pytest.approx(e_ref, rel=1e-10)
        assert kern.energy(x) == pytest.approx(e_ref, rel=1e-10)
        np.testing.assert_allclose(g, g_ref, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(g, fd_gradient(kern.energy, x), rtol=1e-6, atol=1e-6)
        h = kern.hessian(x)
        np.testing.assert_allclose(h, ref.hessian(x), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(h, fd_hessian(kern.energy_gradient, x), rtol=1e-6, atol=1e-4)
        v = rng.standard_normal(n)
        np.testing.assert_allclose(kern.hessian_vector(x, v), h @ v, rtol=1e-10, atol=1e-10)
    with pytest.raises(ValueError):
        RosenbrockKernel(1)


def test_sphere_quadratic_kernel_matches_reference_and_finite_differences(rng):
    diag = np.array([3.0, 1.5, 0.5, 2.0, 4.0])
    n = diag.size
    kern, ref = SphereQuadraticKernel(diag), NumpySphereQuadratic(diag)
    np.testing.assert_array_equal(kern.diagonal, diag)
    for _ in range(3):
        x = kern.retract(rng.standard_normal(n))
        assert x @ x == pytest.approx(n, rel=1e-14)
        e, g = kern.energy_gradient(x)
        e_ref, g_ref = ref.energy_gradient(x)
        assert e == pytest.approx(e_ref, rel=1e-10)
        np.testing.assert_allclose(g, g_ref, rtol=1e-10, atol=1e-12)
        assert abs(g @ x) < 1e-12 * n                   # tangent
        # Riemannian gradient = tangent projection of the Euclidean finite-difference one
        g_fd = ref.project_tangent(x, fd_gradient(lambda z: float(diag @ (z * z)), x))
        np.testing.assert_allclose(g, g_fd, rtol=1e-6, atol=1e-6)
        h = kern.hessian(x)
        np.testing.assert_allclose(h, ref.hessian(x), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(h @ x, 0.0, atol=1e-12)   # radial zero mode
        v = rng.standard_normal(n)
        np.testing.assert_allclose(kern.hessian_vector(x, v), h @ v, rtol=1e-10, atol=1e-12)
        # along a tangent geodesic the second derivative of E is t.H.t
        t = ref.project_tangent(x, v)
        t /= np.linalg.norm(t)
        r = np.sqrt(n)
        eps = 1e-4

        def curve(s, x=x, t=t, r=r):
            return float(diag @ (np.cos(s) * x + r * np.sin(s) * t) ** 2)

        second = (curve(eps) - 2 * curve(0.0) + curve(-eps)) / (eps * r) ** 2
        assert second == pytest.approx(t @ h @ t, rel=1e-5, abs=1e-6)
    # at the minimum +-sqrt(n) e_k the Hessian spectrum is {0, 2 (d_i - d_min)}
    xmin = np.zeros(n)
    xmin[np.argmin(diag)] = np.sqrt(n)
    ev = np.linalg.eigvalsh(kern.hessian(xmin))
    np.testing.assert_allclose(np.sort(ev), np.sort(2.0 * (diag - diag.min())), atol=1e-12)
    # projection and retraction work in place
    v = rng.standard_normal(n)
    out = kern.project_tangent(x, v)
    assert abs(v @ x) < 1e-12 * n and out is not None
    y = 3.0 * x
    kern.retract(y)
    np.testing.assert_allclose(y, x, rtol=1e-14)


# --------------------------------------------------------------------------- convergence
@pytest.mark.parametrize("backend", BACKENDS)
def test_converges_to_rosenbrock_minimum(backend, rng):
    # the classic start of the 2-d problem, and a 10-d start around the minimum
    for x0 in (np.array([-1.2, 1.0]), 1.0 + 0.5 * rng.standard_normal(10)):
        res = minimize(RosenbrockKernel(x0.size), x0, tol=1e-6, backend=backend)
        assert isinstance(res, QuenchResult)
        assert res.success and res.status == 0 and "converged" in res.message
        assert res.rms <= 1e-6
        assert res.rms == pytest.approx(np.linalg.norm(res.grad) / np.sqrt(x0.size), rel=1e-12)
        np.testing.assert_allclose(res.coords, 1.0, atol=1e-4)
        assert 0.0 <= res.energy < 1e-9
        assert res.path is None
        assert res.nfev >= res.nit + 1 and res.nit > 5


def test_compiled_and_python_paths_give_the_same_iterates(rng):
    kern = RosenbrockKernel(30)
    for _ in range(2):
        x0 = rng.uniform(-2.0, 2.0, 30)
        a = minimize(kern, x0, keep_path=True, backend="compiled")
        b = minimize(kern, x0, keep_path=True, backend="python")
        assert a.success and b.success
        assert (a.nit, a.nfev) == (b.nit, b.nfev)
        assert a.path.shape == b.path.shape and a.path.shape[0] > 50
        np.testing.assert_allclose(a.path, b.path, rtol=0, atol=1e-10)
        assert a.energy == pytest.approx(b.energy, rel=1e-10, abs=1e-14)
        np.testing.assert_allclose(a.grad, b.grad, rtol=0, atol=1e-10)


def test_plain_python_landscape_works_and_matches_compiled(rng):
    ref = NumpyRosenbrock(12)
    assert not hasattr(ref, "project_tangent") and compiled_kernel(ref) is None
    x0 = rng.uniform(-2.0, 2.0, 12)
    res = minimize(ref, x0, keep_path=True)                  # auto -> Python path
    assert res.success and res.rms <= 1e-6
    comp = minimize(RosenbrockKernel(12), x0, keep_path=True)
    assert res.nit == comp.nit
    np.testing.assert_allclose(res.path, comp.path, rtol=0, atol=1e-10)
    np.testing.assert_allclose(res.coords, comp.coords, rtol=0, atol=1e-10)
    with pytest.raises(TypeError, match="compiled"):
        minimize(ref, x0, backend="compiled")


def test_compiled_path_chosen_through_system_kernel(rng):
    kern = RosenbrockKernel(6)
    system = CompiledSystem(kern)
    assert compiled_kernel(system) is kern and compiled_kernel(kern) is kern
    x0 = rng.uniform(-1.5, 1.5, 6)
    direct = lbfgs_quench(kern, x0, 4, 0.1, 1e-4, 1e-6, 10000, 0.1, False)
    res = minimize(system, x0)
    np.testing.assert_array_equal(res.coords, direct[0])
    assert (res.nit, res.nfev, res.energy) == (direct[4], direct[3], direct[1])


# --------------------------------------------------------------------------- step control
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("max_step", [0.05, 0.3])
def test_max_step_respected(backend, max_step, rng):
    res = minimize(RosenbrockKernel(8), rng.uniform(-2.0, 2.0, 8), max_step=max_step,
                   keep_path=True, backend=backend)
    steps = np.linalg.norm(np.diff(res.path, axis=0), axis=1)
    assert steps.max() <= max_step * (1.0 + 1e-12)
    assert np.sum(steps > 0.999 * max_step) >= 3          # the cap was active


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("max_rise", [0.0, 1e-4])
def test_energy_never_rises_more_than_max_rise(backend, max_rise, rng):
    kern = RosenbrockKernel(10)
    n_backtracked = 0
    for _ in range(3):
        res = minimize(kern, rng.uniform(-2.0, 2.0, 10), max_rise=max_rise, max_step=0.4,
                       keep_path=True, backend=backend)
        assert res.success
        energies = _energies(kern, res.path)
        assert np.diff(energies).max() <= max_rise
        assert energies[-1] == res.energy
        n_backtracked += res.nfev - (res.path.shape[0])   # rejected trial steps
    assert n_backtracked > 0                                # the halving was exercised


# --------------------------------------------------------------------------- manifold
@pytest.mark.parametrize("backend", BACKENDS)
def test_sphere_quadratic_stays_on_sphere_and_finds_lowest_eigenvector(backend, rng):
    n = 20
    diag = rng.uniform(1.0, 5.0, n)
    diag[7] = 0.5                                       # unique smallest eigenvalue
    kern = SphereQuadraticKernel(diag)
    x0 = 2.5 * rng.standard_normal(n)                   # off the sphere: retracted first
    x0_copy = x0.copy()
    res = minimize(kern, x0, keep_path=True, backend=backend)
    np.testing.assert_array_equal(x0, x0_copy)          # the start is not modified
    np.testing.assert_allclose(res.path[0], x0 * np.sqrt(n / (x0 @ x0)), rtol=1e-14)
    assert res.success and res.rms <= 1e-6
    radii2 = np.einsum("ij,ij->i", res.path, res.path)
    np.testing.assert_allclose(radii2, n, rtol=1e-12)
    assert res.energy == pytest.approx(n * 0.5, rel=1e-9)
    assert abs(res.coords[7]) == pytest.approx(np.sqrt(n), rel=1e-6)
    other = np.delete(res.coords, 7)
    assert np.abs(other).max() < 1e-5
    assert abs(res.grad @ res.coords) < 1e-10            # tangent gradient


@pytest.mark.parametrize("backend", BACKENDS)
def test_sphere_memory_stays_useful_after_transport(backend, rng):
    # ill-conditioned quadratic on the sphere with long steps: a longer (transported)
    # memory must pay off, as it does on flat landscapes
    n = 50
    diag = np.geomspace(1.0, 100.0, n)
    diag[7] = 0.5
    kern = SphereQuadraticKernel(diag)
    x0 = rng.standard_normal(n)
    short = minimize(kern, x0, M=1, max_step=2.0, backend=backend)
    long = minimize(kern, x0, M=10, max_step=2.0, backend=backend)
    assert short.success and long.success
    assert long.energy == pytest.approx(0.5 * n, rel=1e-9)
    assert long.nit < 0.85 * short.nit


def test_sphere_compiled_python_and_plain_numpy_agree(rng):
    n = 15
    diag = rng.uniform(0.5, 3.0, n)
    x0 = rng.standard_normal(n)
    a = minimize(SphereQuadraticKernel(diag), x0, keep_path=True, backend="compiled")
    b = minimize(SphereQuadraticKernel(diag), x0, keep_path=True, backend="python")
    c = minimize(NumpySphereQuadratic(diag), x0, keep_path=True)
    assert a.success and b.success and c.success
    assert a.nit == b.nit
    np.testing.assert_allclose(a.path, b.path, rtol=0, atol=1e-10)
    assert c.energy == pytest.approx(n * diag.min(), rel=1e-9)
    np.testing.assert_allclose(np.einsum("ij,ij->i", c.path, c.path), n, rtol=1e-12)
    m = min(len(a.path), len(c.path), 30)
    np.testing.assert_allclose(a.path[:m], c.path[:m], rtol=0, atol=1e-10)


# --------------------------------------------------------------------------- paths, failures
@pytest.mark.parametrize("backend", BACKENDS)
def test_keep_path_returns_accepted_sequence(backend, rng):
    kern = RosenbrockKernel(5)
    x0 = rng.uniform(-2.0, 2.0, 5)
    res = minimize(kern, x0, keep_path=True, backend=backend)
    assert res.path.shape[1] == 5 and res.path.dtype == np.float64
    np.testing.assert_array_equal(res.path[0], x0)
    np.testing.assert_array_equal(res.path[-1], res.coords)
    assert res.path.shape[0] == res.nit + 1          # one accepted configuration per iteration
    assert np.all(np.linalg.norm(np.diff(res.path, axis=0), axis=1) > 0)   # accepted moves
    plain = minimize(kern, x0, backend=backend)
    np.testing.assert_array_equal(plain.coords, res.coords)
    assert plain.path is None


@pytest.mark.parametrize("backend", BACKENDS)
def test_failure_reported_when_max_iter_too_small(backend, rng):
    x0 = rng.uniform(-2.0, 2.0, 10)
    res = minimize(RosenbrockKernel(10), x0, max_iter=5, keep_path=True, backend=backend)
    assert not res.success and res.status == 1
    assert res.nit == 5 and "maximum number of iterations (5)" in res.message
    assert res.rms > 1e-6
    np.testing.assert_array_equal(res.path[-1], res.coords)
    zero = minimize(RosenbrockKernel(10), x0, max_iter=0, backend=backend)
    assert not zero.success and zero.nit == 0 and zero.nfev == 1
    np.testing.assert_array_equal(zero.coords, x0)
    at_min = minimize(RosenbrockKernel(10), np.ones(10), max_iter=0, backend=backend)
    assert at_min.success and at_min.nit == 0 and at_min.energy == 0.0


class LyingGradient:
    """Energy |x|^2 but the gradient points uphill: every step raises the energy."""

    ndim = 3

    def energy_gradient(self, x):
        return float(x @ x), -2.0 * x


class NotFinite:
    ndim = 2

    def energy_gradient(self, x):
        return float("nan"), np.zeros(2)


def test_line_search_failure_and_nonfinite_start():
    res = minimize(LyingGradient(), np.array([1.0, 2.0, 3.0]))
    assert not res.success and res.status == 2 and "line search failed" in res.message
    np.testing.assert_array_equal(res.coords, [1.0, 2.0, 3.0])   # no step was accepted
    assert res.nfev == 1 + 11                                     # start + 1 + 10 halvings
    bad = minimize(NotFinite(), np.zeros(2))
    assert not bad.success and bad.status == 3 and "not finite" in bad.message
    assert set(STATUS_MESSAGES) == {0, 1, 2, 3, 4}


def test_options_validated_and_lbfgs_object_reusable(rng):
    for bad in ({"M": 0}, {"max_step": 0.0}, {"H0": -1.0}, {"tol": -1.0},
                {"max_iter": -1}, {"max_rise": -1.0}, {"backend": "fortran"}):
        with pytest.raises(ValueError):
            LBFGS(**bad)
    opt = LBFGS(M=6, max_step=0.25, tol=1e-8)
    assert opt.settings() == {"tol": 1e-8, "M": 6, "max_step": 0.25, "max_rise": 1e-4,
                                  "max_iter": 10000, "H0": 0.1}
    assert "M=6" in repr(opt)
    kern = RosenbrockKernel(4)
    for _ in range(2):
        x0 = rng.uniform(-2.0, 2.0, 4)
        r1, r2 = opt.run(kern, x0), opt(kern, x0)
        assert r1.success and r1.rms <= 1e-8
        np.testing.assert_array_equal(r1.coords, r2.coords)
        r3 = minimize(kern, x0, M=6, max_step=0.25, tol=1e-8)
        np.testing.assert_array_equal(r1.coords, r3.coords)
        r4 = lbfgs_python(kern, x0, M=6, max_step=0.25, tol=1e-8)
        np.testing.assert_allclose(r4.coords, r1.coords, atol=1e-10)
    with pytest.raises(ValueError, match="ndim"):
        minimize(kern, np.zeros(3))


def test_compiled_quench_thread_safe_on_shared_instance(rng):
    kern = RosenbrockKernel(20)
    starts = [rng.uniform(-2.0, 2.0, 20) for _ in range(8)]
    serial = [minimize(kern, x0).coords for x0 in starts]
    with ThreadPoolExecutor(max_workers=2) as pool:
        threaded = list(pool.map(lambda x0: minimize(kern, x0).coords, starts))
    for a, b in zip(serial, threaded):
        np.testing.assert_array_equal(a, b)


def test_sequential_dot_is_the_left_to_right_sum():
    """The compiled dot of the Python path sums exactly as np.add.accumulate (bit for
    bit), so results do not depend on BLAS or its thread count."""
    from kernels.lbfgs import sequential_dot

    gen = np.random.default_rng(9)
    for n in (1, 7, 114, 5000, 30000):
        a, b = gen.normal(size=n) * 1e3, gen.normal(size=n)
        assert sequential_dot(a, b) == float(np.add.accumulate(a * b)[-1])
    assert sequential_dot(np.zeros(0), np.zeros(0)) == 0.0
    with pytest.raises(ValueError, match="lengths"):
        sequential_dot(np.zeros(3), np.zeros(4))
