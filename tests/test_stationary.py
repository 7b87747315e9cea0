"""Characterising stationary points: spectra, zero modes, index, log product, both paths."""
import numpy as np
import pytest
from shapes import icosahedron13
from polish import local_minimum
from surfaces import Quadratic

from kernels.reference import cluster as cluster_ref
from mlcore.landscape import System
from mlcore.numderiv import fd_gradient
from mlcore.stationary import (
    StationaryInfo,
    characterise,
    classify_eigenvalues,
    index_of,
    is_minimum,
)


class SphereRayleigh(System):
    """E = 1/2 x^T A x on the sphere |x|^2 = n: Riemannian gradient and Hessian.

    The stationary points are the eigenvectors of A; at the k-th (0-based, ascending) the
    Riemannian Hessian has eigenvalues a_j - a_k (j != k) and a zero in the radial direction.
    """

    kind = "python"
    n_zero_modes = 1

    def __init__(self, a_diag):
        self.a = np.asarray(a_diag, dtype=np.float64)
        self.ndim = self.a.size

    def _proj(self, x):
        u = x / np.linalg.norm(x)
        return np.eye(self.ndim) - np.outer(u, u)

    def energy_gradient(self, coords):
        g = self.a * coords
        return 0.5 * coords @ g, self._proj(coords) @ g

    def hessian(self, coords):
        p = self._proj(coords)
        lagrange = coords @ (self.a * coords) / (coords @ coords)
        return p @ (np.diag(self.a) - lagrange * np.eye(self.ndim)) @ p

    def hessian_vector(self, coords, vec):
        return self.hessian(coords) @ vec


class ClusterRef(System):
    """The NumPy reference of the cluster landscape wrapped as a System."""

    kind = "cluster"
    n_zero_modes = 6

    def __init__(self, natoms, gamma):
        self.ndim = 3 * natoms
        self.gamma = gamma

    def energy_gradient(self, coords):
        return cluster_ref.energy_gradient(coords, self.gamma)

    def hessian(self, coords):
        return cluster_ref.hessian(coords, self.gamma)

    def hessian_vector(self, coords, vec):
        return cluster_ref.hessian_vector(coords, vec, self.gamma)


def quench(system, x0):
    """A minimum near ``x0``: the project's L-BFGS, then Newton steps to |g| <= 1e-11."""
    return local_minimum(system, x0, gtol=1e-11)


def icosahedron():
    return icosahedron13().ravel()


# --------------------------------------------------------------------------- known spectra
def test_test_systems_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    quad = Quadratic([0.0, 1.0, -2.0, 3.0], rng)
    x = rng.standard_normal(4)
    np.testing.assert_allclose(quad.energy_gradient(x)[1], fd_gradient(quad.energy, x),
                               rtol=1e-7, atol=1e-8)
    assert np.allclose(quad.hessian_vector(x, x), quad.hessian(x) @ x)


def test_known_spectrum_counts_and_log_product_dense():
    rng = np.random.default_rng(1)
    lam = np.array([0.0, 0.0, 0.0, -2.5, 0.3, 1.0, 4.0, 7.5, 12.0, 0.05])
    quad = Quadratic(lam, rng, n_zero_modes=3)
    info = characterise(quad, np.zeros(10))
    assert isinstance(info, StationaryInfo)
    assert info.method == "dense"
    assert (info.n_zero, info.n_negative, info.n_positive) == (3, 1, 6)
    assert info.index == 1
    nonzero = lam[lam != 0]
    assert info.log_product == pytest.approx(np.log(np.abs(nonzero)).sum(), rel=1e-12)
    assert info.log_product_positive == pytest.approx(np.log(nonzero[nonzero > 0]).sum(),
                                                      rel=1e-12)
    np.testing.assert_allclose(info.eigenvalues, np.sort(lam), atol=1e-12)
    assert info.is_transition_state is True and info.is_minimum is False
    assert info.zero_modes_expected == 3 and info.zero_modes_match is True
    assert info.lowest_nonzero == pytest.approx(-2.5, rel=1e-12)
    assert info.scale == pytest.approx(12.0)
    assert index_of(quad, np.zeros(10)) == 1
    assert is_minimum(quad, np.zeros(10)) is False


def test_minimum_and_index_two_saddle():
    rng = np.random.default_rng(2)
    minimum = Quadratic([0.0, 0.5, 2.0, 3.0, 9.0], rng, n_zero_modes=1)
    info = characterise(minimum, np.zeros(5))
    assert info.is_minimum is True and info.is_transition_state is False
    assert info.log_product == pytest.approx(np.log([0.5, 2.0, 3.0, 9.0]).sum(), rel=1e-12)
    assert info.lowest_nonzero == pytest.approx(0.5)
    saddle2 = Quadratic([0.0, -0.5, -2.0, 3.0, 9.0], rng, n_zero_modes=1)
    for method in ("dense", "hvp"):
        info = characterise(saddle2, np.zeros(5), method=method)
        assert info.n_negative == 2, method
        assert info.is_transition_state is False and info.is_minimum is False


def test_unexplained_zero_modes_make_no_minimum():
    # a plateau: two flat directions beyond the one symmetry
    rng = np.random.default_rng(3)
    quad = Quadratic([0.0, 0.0, 0.0, 1.0, 2.0, 5.0], rng, n_zero_modes=1)
    info = characterise(quad, np.zeros(6))
    assert info.n_zero == 3 and info.n_negative == 0
    assert info.zero_modes_match is False
    assert info.is_minimum is False and info.is_transition_state is False


def test_loosely_converged_zero_modes_counted_by_gap():
    scale = 100.0
    lam = np.array([2e-4, -3e-4, 1e-4, 0.5, 2.0, scale])   # |zeros| ~ 3e-6 relative > 1e-6
    strict = classify_eigenvalues(lam, 0, 1e-6)
    assert strict.sum() == 0
    loose = classify_eigenvalues(lam, 3, 1e-6)
    assert loose.tolist() == [True, True, True, False, False, False]
    # no clear gap: a genuine small curvature is not swallowed as a zero mode
    lam_nogap = np.array([0.0, 0.0, 2e-3, 5e-3, 2.0, scale])
    assert classify_eigenvalues(lam_nogap, 3, 1e-6).sum() == 2
    rng = np.random.default_rng(4)
    quad = Quadratic(lam, rng, n_zero_modes=3)
    info = characterise(quad, np.zeros(6))
    assert info.n_zero == 3 and info.n_negative == 0 and info.is_minimum is True
    assert info.log_product == pytest.approx(np.log([0.5, 2.0, scale]).sum(), rel=1e-10)


def test_tolerance_relative_to_spectrum_scale():
    rng = np.random.default_rng(5)
    lam = np.array([0.0, 1e-8, 1e-3, 1.0]) * 1e6   # scaled: 1e-2 is "zero" next to 1e6
    info = characterise(Quadratic(lam, rng, n_zero_modes=2), np.zeros(4))
    assert info.n_zero == 2 and info.zero_modes_match is True
    assert info.zero_threshold == pytest.approx(1.0)


# --------------------------------------------------------------------------- dense vs hvp
@pytest.mark.parametrize("negative", [False, True])
def test_dense_and_hvp_paths_agree_on_200_dim_quadratic(negative):
    rng = np.random.default_rng(6)
    lam = np.concatenate([np.zeros(6), rng.uniform(0.01, 50.0, 194)])
    if negative:
        lam[10] = -3.0
    quad = Quadratic(lam, rng, n_zero_modes=6)
    x = np.zeros(200)
    dense = characterise(quad, x)
    quad.n_hvp = 0
    hvp = characterise(quad, x, method="hvp", n_lowest=8, with_vectors=True)
    assert dense.method == "dense"
    assert hvp.method == "hvp+cholesky"
    assert quad.n_hvp > 0
    for info in (dense, hvp):
        assert info.n_zero == 6 and info.n_negative == int(negative)
        assert info.n_positive == 194 - int(negative)
        assert info.is_minimum is (not negative)
        assert info.is_transition_state is negative
    assert hvp.log_product == pytest.approx(dense.log_product, rel=1e-10)
    assert hvp.log_product_positive == pytest.approx(dense.log_product_positive, rel=1e-10)
    nonzero = lam[lam != 0]
    assert dense.log_product == pytest.approx(np.log(np.abs(nonzero)).sum(), rel=1e-12)
    k = hvp.eigenvalues.size
    assert k >= 8
    np.testing.assert_allclose(hvp.eigenvalues, dense.eigenvalues[:k], atol=1e-9)
    # eigenvectors returned by the hvp path are eigenvectors of H
    vecs = hvp.eigenvectors
    resid = quad.hess @ vecs - vecs * hvp.eigenvalues
    assert np.abs(resid).max() < 1e-6
    assert hvp.lowest_nonzero == pytest.approx(dense.lowest_nonzero, rel=1e-10)
    # Lanczos alone (no dense Hessian): same counts on this well-separated spectrum
    quad.n_hvp = 0
    lanczos = characterise(quad, x, method="hvp", log_product=False)
    assert lanczos.method == "hvp" and lanczos.log_product is None
    assert (lanczos.n_zero, lanczos.n_negative, lanczos.n_positive) == (
        dense.n_zero, dense.n_negative, dense.n_positive)
    assert quad.n_hvp < 5000
    np.testing.assert_allclose(lanczos.eigenvalues[:7], dense.eigenvalues[:7], atol=1e-8)


def test_hvp_path_reports_unknown_counts_when_spectrum_not_reached():
    rng = np.random.default_rng(7)
    lam = np.concatenate([-np.arange(1.0, 13.0), np.arange(1.0, 39.0)])
    quad = Quadratic(lam, rng)
    for log_product in (True, False):   # factorised checks, or Lanczos alone
        info = characterise(quad, np.zeros(lam.size), method="hvp", n_lowest=3, max_rounds=1,
                            log_product=log_product)
        assert info.n_negative is None and info.n_zero is None and info.n_positive is None
        assert info.is_minimum is False and info.is_transition_state is False
        assert info.log_product is None
        full = characterise(quad, np.zeros(lam.size), method="hvp", n_lowest=3,
                            log_product=log_product)
        assert full.n_negative == 12 and full.n_positive == 38 and full.n_zero == 0
        np.testing.assert_allclose(full.eigenvalues[:12], lam[:12][::-1], atol=1e-8)
    assert full.log_product is None and info.method == "hvp"
    assert characterise(quad, np.zeros(lam.size), method="hvp").log_product == pytest.approx(
        np.log(np.abs(lam)).sum(), rel=1e-10)


# --------------------------------------------------------------------------- manifold
def test_riemannian_hessian_radial_zero_mode():
    a = np.array([-3.0, -1.0, 0.5, 2.0, 4.0, 7.0])
    sphere = SphereRayleigh(a)
    for k in range(a.size):
        x = np.zeros(a.size)
        x[k] = np.sqrt(a.size)
        info = characterise(sphere, x)
        assert info.n_zero == 1 and info.zero_modes_match is True
        assert info.n_negative == k
        others = np.delete(a, k) - a[k]
        assert info.log_product == pytest.approx(np.log(np.abs(others)).sum(), rel=1e-12)


# --------------------------------------------------------------------------- clusters
@pytest.fixture(scope="module")
def triatomic_minima():
    system = ClusterRef(3, gamma=2.0)
    linear = quench(system, np.array([0, 0, 0, 1.1, 0.02, 0, 2.2, 0, 0.01]))
    triangle = quench(system, np.array([0, 0, 0, 1.2, 0, 0, 0.6, 1.0, 0.0]))
    return system, linear, triangle


def test_triatomic_linear_chain_has_five_zero_modes(triatomic_minima):
    system, linear, _ = triatomic_minima
    pos = linear.reshape(3, 3)
    bond = np.linalg.norm(pos[1] - pos[0]) + np.linalg.norm(pos[2] - pos[1])
    assert bond == pytest.approx(np.linalg.norm(pos[2] - pos[0]), rel=1e-9)  # collinear
    for method in ("dense", "hvp"):
        info = characterise(system, linear, method=method)
        assert info.n_zero == 5, method
        assert info.zero_modes_expected == 6 and info.zero_modes_match is False
        assert info.n_negative == 0 and info.is_minimum is True


def test_triatomic_triangle_has_six_zero_modes(triatomic_minima):
    system, linear, triangle = triatomic_minima
    assert system.energy(linear) < system.energy(triangle)   # SPEC 2.1: linear is lower
    dense = characterise(system, triangle)
    hvp = characterise(system, triangle, method="hvp")
    for info in (dense, hvp):
        assert info.n_zero == 6 and info.zero_modes_match is True
        assert info.n_positive == 3 and info.is_minimum is True
    assert hvp.log_product == pytest.approx(dense.log_product, rel=1e-10)


def test_lj13_icosahedron_minimum():
    system = ClusterRef(13, gamma=0.0)
    x = quench(system, icosahedron())
    assert system.energy(x) == pytest.approx(-44.326801, abs=1e-5)
    dense = characterise(system, x)
    assert dense.n_zero == 6 and dense.n_negative == 0 and dense.n_positive == 33
    assert dense.is_minimum is True
    hvp = characterise(system, x, method="hvp")
    assert hvp.n_zero == 6 and hvp.is_minimum is True
    assert hvp.log_product == pytest.approx(dense.log_product, rel=1e-10)
    # all six zero modes were found (deflation); each positive value is a true eigenvalue
    # (multiplicities of the degenerate positive ones, e.g. the 5-fold 42.65, are not resolved)
    np.testing.assert_allclose(hvp.eigenvalues[:7], dense.eigenvalues[:7], atol=1e-8)
    gaps = np.abs(hvp.eigenvalues[:, None] - dense.eigenvalues[None, :]).min(axis=1)
    assert gaps.max() < 1e-8


@pytest.mark.parametrize("negative", [False, True])
def test_hvp_path_on_clustered_ml_like_spectrum(negative):
    # six degenerate zero modes next to a dense cluster of small curvatures (cond. 1e4):
    # plain Lanczos stalls here; the factorised hvp path must still be exact
    rng = np.random.default_rng(8)
    lam = np.concatenate([np.zeros(6), 10.0 ** rng.uniform(-2.0, 2.0, 394)])
    if negative:
        lam[20] = -0.5
    quad = Quadratic(lam, rng, n_zero_modes=6)
    quad.n_hvp = 0
    info = characterise(quad, np.zeros(400), method="hvp")
    assert info.method == "hvp+cholesky"
    assert quad.n_hvp < 200            # the scale only; no stalled Lanczos runs
    assert (info.n_zero, info.n_negative, info.n_positive) == (6, int(negative),
                                                               394 - int(negative))
    nonzero = lam[lam != 0]
    assert info.log_product == pytest.approx(np.log(np.abs(nonzero)).sum(), rel=1e-10)
    assert info.log_product_positive == pytest.approx(np.log(nonzero[nonzero > 0]).sum(),
                                                      rel=1e-10)
    assert np.abs(info.eigenvalues[info.zero_mask]).max() < 1e-10
    assert info.is_minimum is (not negative) and info.is_transition_state is negative
