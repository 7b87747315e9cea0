"""Doubly-nudged elastic band: the band gradient, interpolation, and relaxations on
Mueller-Brown (known saddles), LJ7, the regression landscape and the p-spin sphere."""
import numpy as np
import pytest

from mlcore.config.settings import NEBSettings, QuenchSettings
from mlcore.landscape import System
from mlcore.numderiv import fd_gradient
from mlcore.optimize import LBFGS, minimize
from mloptim.interpolate import geodesic_images, interpolate, is_manifold, linear_images
from mloptim.neb import (
    BAND_MAX_RISE,
    BAND_MAX_STEP,
    NEBBand,
    NEBResult,
    band_lbfgs,
    choose_n_images,
    local_maxima,
    run_neb,
)
from tests.neb_surfaces import MullerBrown, stationary_points

MB_K = 100.0   # spring constant suited to Mueller-Brown's curvatures (10^2 - 10^3)


@pytest.fixture(scope="module")
def mb():
    return MullerBrown()


@pytest.fixture(scope="module")
def mb_points(mb):
    return stationary_points(mb)


def _distinct_minima(system, n_starts, seed, tol=1e-8):
    """Distinct minima from quenches of random starts, lowest first."""
    rng = np.random.default_rng(seed)
    found = []
    for _ in range(n_starts):
        res = minimize(system, system.random_coords(rng), tol=tol)
        if not res.success:
            continue
        if hasattr(system, "valid_minimum") and not system.valid_minimum(res.coords):
            continue
        if all(abs(res.energy - e) > 1e-5 or system.distance(res.coords, x) > 1e-2
               for e, x in found):
            found.append((res.energy, res.coords))
    found.sort(key=lambda m: m[0])
    return found


def _hessian_index(system, coords, n_zero):
    """Number of negative Hessian eigenvalues once the ``n_zero`` smallest in modulus are
    set aside."""
    ev = np.linalg.eigvalsh(system.hessian(coords))
    keep = np.argsort(np.abs(ev))[n_zero:]
    return int(np.sum(ev[keep] < 0.0))


# --------------------------------------------------------------------------- the surface
def test_mueller_brown_surface(mb, mb_points):
    rng = np.random.default_rng(0)
    for _ in range(5):
        x = rng.uniform([-1.5, -0.5], [1.0, 2.0])
        assert np.allclose(mb.energy_gradient(x)[1], fd_gradient(mb.energy, x), rtol=1e-6,
                           atol=1e-5)
    energies = {k: mb.energy(v) for k, v in mb_points.items()}
    assert energies["A"] == pytest.approx(-146.6995, abs=1e-3)
    assert energies["S1"] == pytest.approx(-40.6648, abs=1e-3)
    assert energies["S2"] == pytest.approx(-72.2489, abs=1e-3)
    for name in ("S1", "S2"):
        assert _hessian_index(mb, mb_points[name], 0) == 1


# --------------------------------------------------------------------------- band gradient
def _random_band(mb_points, n_images, rng, scale=0.05):
    images = linear_images(mb_points["A"], mb_points["B"], n_images)
    images[1:-1] += scale * rng.standard_normal(images[1:-1].shape)
    return images


def test_spring_energy_gradient_matches_finite_differences(mb, mb_points):
    rng = np.random.default_rng(1)
    band = NEBBand(mb, _random_band(mb_points, 6, rng), spring_k=3.7)
    for _ in range(3):
        x = band.x0 + 0.02 * rng.standard_normal(band.ndim)
        es, gs = band.spring_energy_gradient(x)
        fd = fd_gradient(lambda y: band.spring_energy_gradient(y)[0], x)
        assert np.allclose(gs, fd, rtol=1e-7, atol=1e-8)
        diffs = np.diff(band.full_images(x), axis=0)
        assert es == pytest.approx(0.5 * 3.7 * np.sum(diffs ** 2), rel=1e-14)


@pytest.mark.parametrize("double_nudged", [True, False])
def test_band_gradient_decomposition(mb, mb_points, double_nudged):
    rng = np.random.default_rng(2)
    k = 5.0
    band = NEBBand(mb, _random_band(mb_points, 7, rng), spring_k=k,
                   double_nudged=double_nudged)
    x = band.x0
    p = band.decompose(x)
    n = band.n_images
    assert p.images.shape == (n + 2, 2) and p.energies.shape == (n + 2,)
    for i in range(n):
        e, g = mb.energy_gradient(p.images[i + 1])
        assert p.energies[i + 1] == e and np.array_equal(p.true_gradient[i], g)
        tau = p.tangents[i]
        assert np.linalg.norm(tau) == pytest.approx(1.0, abs=1e-14)
        # true gradient = perpendicular part + parallel part
        assert abs(p.true_perp[i] @ tau) < 1e-10 * np.linalg.norm(g)
        assert np.allclose(p.true_perp[i] + (g @ tau) * tau, g, atol=1e-10)
        # parallel spring part: -k (|t+| - |t-|) tau
        tp = np.linalg.norm(p.images[i + 2] - p.images[i + 1])
        tm = np.linalg.norm(p.images[i + 1] - p.images[i])
        assert np.allclose(p.spring_parallel[i], -k * (tp - tm) * tau, atol=1e-13)
        # DNEB part: perpendicular to the tangent and to the perpendicular true gradient
        assert abs(p.spring_dneb[i] @ tau) < 1e-10
        assert abs(p.spring_dneb[i] @ p.true_perp[i]) < 1e-9 * np.linalg.norm(p.true_perp[i])
        # and it is the perpendicular spring gradient minus its component along g_perp
        gs = p.spring_gradient[i]
        gs_perp = gs - (gs @ tau) * tau
        u = p.true_perp[i] / np.linalg.norm(p.true_perp[i])
        assert np.allclose(p.spring_dneb[i], gs_perp - (gs_perp @ u) * u, atol=1e-12)
    expected = p.true_perp + p.spring_parallel + (p.spring_dneb if double_nudged else 0.0)
    assert np.allclose(p.gradient, expected.reshape(-1), atol=1e-13)
    e, g = band.energy_gradient(x)
    assert np.array_equal(g, p.gradient)
    assert e == pytest.approx(np.sum(p.energies[1:-1]) + p.spring_energy, rel=1e-14)
    # the plain spring gradient is the spring-energy gradient
    assert np.allclose(p.spring_gradient.reshape(-1), band.spring_energy_gradient(x)[1],
                       atol=1e-14)


def test_climbing_image_gradient(mb, mb_points):
    images = linear_images(mb_points["A"], mb_points["C"], 9)
    band = NEBBand(mb, images, spring_k=MB_K, climbing=True)
    energies = np.array([mb.energy(v) for v in images])
    top = int(np.argmax(energies))
    assert band.climbing == (top,)
    assert local_maxima(energies)[0] == top
    p = band.decompose(band.x0)
    j = top - 1
    g, tau = p.true_gradient[j], p.tangents[j]
    gc = p.gradient.reshape(band.n_images, 2)[j]
    assert np.allclose(gc, g - 2.0 * (g @ tau) * tau, atol=1e-12)
    assert gc @ tau == pytest.approx(-(g @ tau), rel=1e-12)   # parallel part inverted
    # no spring on the climbing image: doubling the spring constant leaves it unchanged
    stiff = NEBBand(mb, images, spring_k=2 * MB_K, climbing=[top])
    assert np.allclose(stiff.decompose(band.x0).gradient.reshape(-1, 2)[j], gc, atol=1e-13)


def test_improved_tangent_rules(mb):
    band = NEBBand(mb, np.zeros((3, 2)) + np.arange(3)[:, None] * [1.0, 0.0])
    b = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 2.0]])   # t- = (1, 0), t+ = (0, 2)
    up = band.tangents(b, np.array([0.0, 1.0, 3.0]))
    assert np.allclose(up[0], [0.0, 1.0])                 # rising: t+
    down = band.tangents(b, np.array([3.0, 1.0, 0.0]))
    assert np.allclose(down[0], [1.0, 0.0])               # falling: t-
    # maximum, V+ > V-: t+ dVmax + t- dVmin with dVmax = |V- - V| = 2, dVmin = 1
    top = band.tangents(b, np.array([1.0, 3.0, 2.0]))
    w = np.array([0.0, 2.0]) * 2.0 + np.array([1.0, 0.0]) * 1.0
    assert np.allclose(top[0], w / np.linalg.norm(w))
    # minimum, V+ < V-: t+ dVmin + t- dVmax with dVmax = 3, dVmin = 1
    bottom = band.tangents(b, np.array([3.0, 0.0, 1.0]))
    w = np.array([0.0, 2.0]) * 1.0 + np.array([1.0, 0.0]) * 3.0
    assert np.allclose(bottom[0], w / np.linalg.norm(w))
    # flat profile: the bisector of the unit segment vectors
    flat = band.tangents(b, np.zeros(3))
    assert np.allclose(flat[0], np.array([1.0, 1.0]) / np.sqrt(2.0))


def test_band_validation(mb):
    with pytest.raises(ValueError, match="n_images >= 1"):
        NEBBand(mb, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="ndim"):
        NEBBand(mb, np.zeros((4, 3)))
    with pytest.raises(ValueError, match="spring_k"):
        NEBBand(mb, np.zeros((4, 2)), spring_k=0.0)
    with pytest.raises(ValueError, match="outside"):
        NEBBand(mb, np.zeros((4, 2)), climbing=[3])


def test_local_maxima_highest_first():
    assert local_maxima([0.0, 2.0, 1.0, 3.0, 0.5, 0.7, 0.6, 1.0]) == [3, 1, 5]
    assert local_maxima([0.0, 1.0, 2.0]) == []
    assert local_maxima([0.0, 1.0, 1.0, 0.0]) == []      # strict maxima only


def test_choose_n_images():
    s = NEBSettings(image_density=10.0, min_images=3, max_images=20)
    assert choose_n_images(0.55, s) == 6
    assert choose_n_images(0.1, s) == 3
    assert choose_n_images(5.0, s) == 20
    assert choose_n_images(5.0, NEBSettings(n_images=4)) == 4


def test_band_lbfgs_options():
    opt = band_lbfgs(10, 1e-3, 77)
    assert (opt.tol, opt.max_iter, opt.max_step, opt.max_rise) == (1e-3, 77, BAND_MAX_STEP,
                                                                   BAND_MAX_RISE)
    opt = band_lbfgs(10, 1e-3, 77, {"max_step": 0.05, "M": 7})
    assert (opt.max_step, opt.M, opt.max_rise) == (0.05, 7, BAND_MAX_RISE)
    opt = band_lbfgs(10, 1e-3, 77, QuenchSettings(M=9, H0=0.2))
    assert (opt.M, opt.H0, opt.max_step) == (9, 0.2, BAND_MAX_STEP)
    opt = band_lbfgs(10, 1e-3, 77, LBFGS(max_step=0.3, max_rise=2.0, tol=1.0, max_iter=5))
    assert (opt.max_step, opt.max_rise, opt.tol, opt.max_iter) == (0.3, 2.0, 1e-3, 77)
    with pytest.raises(ValueError, match="max_stpe"):
        band_lbfgs(10, 1e-3, 77, {"max_stpe": 0.1})


# --------------------------------------------------------------------------- Mueller-Brown
def test_mueller_brown_band_finds_saddle(mb, mb_points):
    settings = NEBSettings(n_images=10, spring_k=MB_K, tol=1e-3, iterations=2000,
                           climbing=False)
    res = run_neb(mb, mb_points["A"], mb_points["C"], settings)
    assert isinstance(res, NEBResult)
    assert res.converged and res.rms <= 1e-3
    assert res.images.shape == (12, 2) and res.n_images == 10
    assert np.array_equal(res.images[0], mb_points["A"])
    assert np.array_equal(res.images[-1], mb_points["C"])
    assert res.maxima == [int(np.argmax(res.energies))] and res.climbing == []
    # the highest image lies on the path next to the saddle (spacing about 0.16)
    assert np.linalg.norm(res.images[res.highest] - mb_points["S1"]) < 0.03
    assert res.energies[res.highest] == pytest.approx(mb.energy(mb_points["S1"]), abs=1.5)


def test_mueller_brown_climbing_image_converges_onto_saddle(mb, mb_points):
    settings = NEBSettings(n_images=10, spring_k=MB_K, tol=1e-3, iterations=2000,
                           climbing=True)
    res = run_neb(mb, mb_points["A"], mb_points["C"], settings)
    assert res.converged
    assert res.climbing == [res.highest]
    assert np.linalg.norm(res.images[res.highest] - mb_points["S1"]) < 1e-3
    g = mb.energy_gradient(res.images[res.highest])[1]
    assert res.climbing_rms == [pytest.approx(np.linalg.norm(g) / np.sqrt(2), rel=1e-12)]
    assert len(res.stages) == 2 and res.iterations == sum(s.nit for s in res.stages)


def test_mueller_brown_two_barriers_highest_first(mb, mb_points):
    settings = NEBSettings(n_images=15, spring_k=MB_K, tol=1e-3, iterations=2000)
    res = run_neb(mb, mb_points["A"], mb_points["B"], settings)
    assert res.converged and len(res.maxima) == 2
    first, second = res.maxima
    assert res.energies[first] > res.energies[second]
    assert np.linalg.norm(res.images[first] - mb_points["S1"]) < 1e-3    # climbed
    assert np.linalg.norm(res.images[second] - mb_points["S2"]) < 0.05   # on the path
    # the intermediate minimum C lies between the two maxima
    lowest_between = min(range(min(first, second), max(first, second) + 1),
                         key=lambda i: res.energies[i])
    assert np.linalg.norm(res.images[lowest_between] - mb_points["C"]) < 0.1


# --------------------------------------------------------------------------- LJ7
@pytest.fixture(scope="module")
def lj7():
    from mlcore.systems.cluster import ClusterSystem

    system = ClusterSystem(7)
    minima = _distinct_minima(system, 30, seed=1)
    return system, minima


def test_interpolation_of_aligned_lj7_pair(lj7):
    system, minima = lj7
    a, b = minima[0][1], minima[1][1]
    # rotate, translate and permute b so that alignment has work to do
    rng = np.random.default_rng(5)
    q, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    b_moved = (b.reshape(-1, 3)[rng.permutation(7)] @ q.T + [0.3, -1.0, 2.0]).reshape(-1)
    images, dist = interpolate(system, a, b_moved, 5, return_distance=True)
    assert images.shape == (7, 21)
    assert np.array_equal(images[0], a)
    assert dist == pytest.approx(system.align(a, b)[0], rel=1e-8)   # distance() may be a bound
    assert np.linalg.norm(images[-1] - images[0]) == pytest.approx(dist, rel=1e-12)
    assert system.energy(images[-1]) == pytest.approx(minima[1][0], abs=1e-9)
    steps = np.linalg.norm(np.diff(images, axis=0), axis=1)
    assert np.allclose(steps, dist / 6, rtol=1e-10)
    # without alignment the raw coordinates are interpolated: a longer path
    raw = interpolate(system, a, b_moved, 5, align=False)
    assert np.array_equal(raw[-1], b_moved)
    assert np.linalg.norm(raw[-1] - raw[0]) > dist


def test_lj7_band_gives_transition_state_guess(lj7):
    system, minima = lj7
    assert minima[0][0] == pytest.approx(-16.505384, abs=1e-5)
    res = run_neb(system, minima[0][1], minima[1][1], NEBSettings(tol=1e-3, iterations=500))
    assert res.converged
    assert res.n_images == choose_n_images(res.distance, NEBSettings())
    assert len(res.maxima) >= 1
    top = res.images[res.highest]
    assert res.energies[res.highest] > max(res.energies[0], res.energies[-1])
    # the climbing image is a first-order saddle (6 zero modes set aside)
    assert np.linalg.norm(system.energy_gradient(top)[1]) < 3e-3
    assert _hessian_index(system, top, 6) == 1


# --------------------------------------------------------------------------- regression
def test_regression_band_between_neighbouring_minima():
    from mlcore.systems.regression import RegressionSystem

    system = RegressionSystem()
    minima = _distinct_minima(system, 40, seed=3)
    assert len(minima) >= 2
    a = minima[0][1]
    dists = [system.distance(a, m[1]) for m in minima[1:]]
    b = minima[1 + int(np.argmin(dists))][1]
    res = run_neb(system, a, b, NEBSettings(tol=1e-3, iterations=600))
    assert np.all(np.isfinite(res.energies))
    assert res.distance == pytest.approx(min(dists), rel=1e-10)
    assert len(res.maxima) >= 1 and res.climbing == [res.highest]
    top = res.images[res.highest]
    assert res.energies[res.highest] > max(res.energies[0], res.energies[-1])
    assert np.linalg.norm(system.energy_gradient(top)[1]) < 1e-3
    assert _hessian_index(system, top, 0) == 1


# --------------------------------------------------------------------------- p-spin sphere
def test_geodesic_interpolation_on_the_sphere():
    from mlcore.systems.pspin import PSpinSystem

    system = PSpinSystem(8, 3, seed=1)
    rng = np.random.default_rng(0)
    a, b = system.random_coords(rng), system.random_coords(rng)
    assert is_manifold(system)
    images = interpolate(system, a, b, 6)
    assert np.allclose(np.linalg.norm(images, axis=1), np.sqrt(8), rtol=1e-12)
    chords = np.linalg.norm(np.diff(images, axis=0), axis=1)
    assert np.allclose(chords, chords[0], rtol=1e-10)          # equal angles
    assert np.array_equal(images[0], a) and np.array_equal(images[-1], b)
    assert np.allclose(geodesic_images(a, b, 6), images)
    assert not is_manifold(MullerBrown())


def test_pspin_band_stays_on_sphere_and_climbs_to_saddle():
    from mlcore.systems.pspin import PSpinSystem

    system = PSpinSystem(10, 3, seed=0)
    minima = _distinct_minima(system, 30, seed=4)
    a = minima[0][1]
    dists = [system.distance(a, m[1]) for m in minima[1:]]
    b = minima[1 + int(np.argmin(dists))][1]
    res = run_neb(system, a, b, NEBSettings(tol=1e-3, iterations=600, max_images=30))
    assert np.allclose(np.linalg.norm(res.images, axis=1), np.sqrt(10), rtol=1e-12)
    assert len(res.maxima) >= 1
    top = res.images[res.highest]
    assert np.linalg.norm(system.energy_gradient(top)[1]) < 1e-3
    assert _hessian_index(system, top, 1) == 1


def test_run_away_band_is_relaxed_again_safely(mb, mb_points, monkeypatch):
    """A band that runs away is relaxed again from the interpolation with the quench-like
    max_rise.  (Seen for real on distant regression minima with three barriers between
    them; that trajectory is chaotic, so the control flow is tested with a forced verdict.)"""
    from mloptim import neb
    from mloptim.neb import SAFE_MAX_RISE

    calls = []
    real_relax = neb._relax

    def spy_relax(system, images, settings, lbfgs, budget):
        calls.append((images.copy(), lbfgs))
        return real_relax(system, images, settings, lbfgs, budget)

    verdicts = iter([True, False])
    monkeypatch.setattr(neb, "_relax", spy_relax)
    monkeypatch.setattr(neb, "_blown_up", lambda *args: next(verdicts))
    settings = NEBSettings(n_images=8, spring_k=MB_K, tol=1e-3, iterations=400)
    res = run_neb(mb, mb_points["A"], mb_points["C"], settings)
    assert res.retried and len(calls) == 2 and len(res.stages) == 4
    assert calls[0][1] is None and calls[1][1] == {"max_rise": SAFE_MAX_RISE}
    assert np.array_equal(calls[0][0], calls[1][0])          # both from the interpolation
    assert res.iterations == sum(st.nit for st in res.stages)
    # a caller that chose max_rise gets no retry
    calls.clear()
    verdicts = iter([True])
    res = run_neb(mb, mb_points["A"], mb_points["C"], settings, {"max_rise": 1.0})
    assert not res.retried and len(calls) == 1


def test_blown_up_verdict_and_safe_options(mb, mb_points):
    from mloptim.neb import SAFE_MAX_RISE, _blown_up, _with_max_rise

    assert _with_max_rise(None, SAFE_MAX_RISE) == {"max_rise": SAFE_MAX_RISE}
    assert _with_max_rise(QuenchSettings(M=6), 1.0) == {"M": 6, "H0": 0.1, "max_rise": 1.0}
    assert _with_max_rise({"M": 5}, 2.0) == {"M": 5, "max_rise": 2.0}
    line = linear_images(mb_points["A"], mb_points["C"], 3)
    e = np.array([mb.energy(v) for v in line])
    assert not _blown_up(e, (e[0], e[-1]), line, mb)
    e_nan, e_high = e.copy(), e.copy()
    e_nan[2], e_high[2] = np.nan, 2.0 * e.max() - 2.0 * min(e[0], e[-1]) + 1.0
    assert _blown_up(e_nan, (e[0], e[-1]), line, mb)
    assert _blown_up(e_high, (e[0], e[-1]), line, mb)


def test_nn_band_after_hidden_node_alignment():
    from mlcore.systems.nn import NNSystem

    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(int)
    system = NNSystem(x, y, 3, lam=0.01)
    minima = _distinct_minima(system, 30, seed=0, tol=1e-7)
    a, b = minima[0][1], minima[1][1]
    images, dist = interpolate(system, a, b, 3, return_distance=True)
    assert dist == pytest.approx(system.distance(a, b), rel=1e-10)
    assert dist < np.linalg.norm(b - a)           # the symmetry brought b closer
    assert system.energy(images[-1]) == pytest.approx(minima[1][0], abs=1e-9)
    res = run_neb(system, a, b, NEBSettings(tol=1e-3, iterations=400))
    assert res.distance == pytest.approx(dist, rel=1e-10)
    assert len(res.maxima) >= 1
    assert res.energies[res.highest] > max(res.energies[0], res.energies[-1])
    assert res.climbing_rms[0] < 1e-3


class _FlatProfile(System):
    """Every image has the same energy (the tangent falls back to the bisector); the
    'gradient' is an arbitrary field, enough to test the force algebra."""

    ndim = 6

    def energy_gradient(self, x):
        return 0.0, np.sin(3.0 * np.asarray(x)) + 0.1

    def energy_gradient_rows(self, rows):
        rows = np.asarray(rows)
        return np.zeros(len(rows)), np.sin(3.0 * rows) + 0.1


@pytest.mark.parametrize("double_nudged", [True, False])
@pytest.mark.parametrize("case", ["lj7", "flat", "nn"])
def test_compiled_band_gradient_equals_decompose(case, double_nudged, lj7):
    """NEBBand.energy_gradient (kernels.band on flat landscapes) against the NumPy
    decomposition, with and without climbing images."""
    from mlcore.systems import build_system

    rng = np.random.default_rng(11)
    if case == "lj7":
        system = lj7[0]
    elif case == "nn":
        system = build_system({"kind": "nn", "hidden": 3, "data": {
            "kind": "triatomic", "n_sequences": 200, "n_train": 100, "n_test": 100}})
    else:
        system = _FlatProfile()
    a = rng.normal(size=system.ndim)
    b = a + rng.normal(size=system.ndim)
    images = linear_images(a, b, 9) + rng.normal(scale=0.05, size=(11, system.ndim))
    if case == "flat":
        images[4] = images[3]                  # a zero-length segment as well
    for climbing in ((), (3,), (2, 7)):
        band = NEBBand(system, images, spring_k=2.5, double_nudged=double_nudged,
                       climbing=climbing)
        parts = band.decompose(band.x0)
        e, g = band.energy_gradient(band.x0)
        np.testing.assert_allclose(g, parts.gradient, rtol=1e-11,
                                   atol=1e-12 * np.abs(parts.gradient).max())
        assert e == pytest.approx(np.sum(parts.energies[1:-1]) + parts.spring_energy,
                                  rel=1e-13, abs=1e-13)
