"""The cluster landscape (SPEC 2.1): kernel vs finite differences, vs the NumPy reference,
symmetries, known minima, and the System wrapper and its [system] table."""
import pickle

import numpy as np
import pytest
from kernels.cluster import ClusterKernel
from scipy.optimize import brentq, minimize_scalar

from kernels.reference import cluster as ref
from mlcore.errors import InputError
from mlcore.numderiv import fd_gradient, fd_hessian
from mlcore.systems import build_system
from polish import local_minimum
from mlcore.systems.cluster import ClusterSystem, default_box, lj_global_minimum_energies

NATOMS = (3, 4, 7, 13)
GAMMAS = (0.0, 2.0)


def spread_coords(natoms: int, rng: np.random.Generator, min_dist: float = 0.9) -> np.ndarray:
    """Random atoms in a cube (density about 0.5), no two closer than ``min_dist``."""
    side = (2.0 * natoms) ** (1.0 / 3.0) + 0.5
    atoms = []
    while len(atoms) < natoms:
        trial = rng.uniform(0.0, side, 3)
        if all(np.linalg.norm(trial - a) >= min_dist for a in atoms):
            atoms.append(trial)
    return np.array(atoms).reshape(-1)


def rel_err(a, b) -> float:
    """Max abs difference relative to the largest entry of ``b``."""
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def zero_and_negative_counts(hess: np.ndarray, rel_tol: float = 1e-7) -> tuple[int, int]:
    evals = np.linalg.eigvalsh(hess)
    tol = rel_tol * np.max(np.abs(evals))
    return int(np.sum(np.abs(evals) < tol)), int(np.sum(evals < -tol))


# --------------------------------------------------------------------------- derivatives
@pytest.mark.parametrize("gamma", GAMMAS)
@pytest.mark.parametrize("natoms", NATOMS)
def test_kernel_derivatives_match_finite_differences(natoms, gamma):
    rng = np.random.default_rng(100 + natoms)
    kern = ClusterKernel(natoms, gamma)
    for _ in range(2):
        x = spread_coords(natoms, rng)
        e, grad = kern.energy_gradient(x)
        assert kern.energy(x) == pytest.approx(e, rel=1e-13, abs=1e-13)
        assert rel_err(grad, fd_gradient(kern.energy, x)) < 1e-7
        hess = kern.hessian(x)
        assert rel_err(hess, hess.T) < 1e-14
        assert rel_err(hess, fd_hessian(kern.energy_gradient, x)) < 1e-7


@pytest.mark.parametrize("gamma", GAMMAS)
@pytest.mark.parametrize("natoms", (3, 4, 7))
def test_reference_derivatives_match_finite_differences(natoms, gamma):
    rng = np.random.default_rng(200 + natoms)
    x = spread_coords(natoms, rng)
    grad = ref.energy_gradient(x, gamma)[1]
    assert rel_err(grad, fd_gradient(lambda y: ref.energy(y, gamma), x)) < 1e-7
    assert rel_err(ref.hessian(x, gamma),
                   fd_hessian(lambda y: ref.energy_gradient(y, gamma), x)) < 1e-7


@pytest.mark.parametrize("gamma", (0.0, 2.0, -0.7))
@pytest.mark.parametrize("natoms", (2, 3, 4, 7, 13))
def test_kernel_matches_reference(natoms, gamma):
    rng = np.random.default_rng(300 + natoms)
    kern = ClusterKernel(natoms, gamma)
    for _ in range(2):
        x = spread_coords(natoms, rng)
        v = rng.standard_normal(x.size)
        e, grad = kern.energy_gradient(x)
        e_ref, grad_ref = ref.energy_gradient(x, gamma)
        assert e == pytest.approx(e_ref, rel=1e-10)
        assert ref.energy(x, gamma) == pytest.approx(e_ref, rel=1e-12)
        assert kern.energy(x) == pytest.approx(e_ref, rel=1e-10)
        assert rel_err(grad, grad_ref) < 1e-10
        hess_ref = ref.hessian(x, gamma)
        assert rel_err(kern.hessian(x), hess_ref) < 1e-10
        assert rel_err(kern.hessian_vector(x, v), ref.hessian_vector(x, v, gamma)) < 1e-10
        assert rel_err(ref.hessian_vector(x, v, gamma), hess_ref @ v) < 1e-12


@pytest.mark.parametrize("gamma", GAMMAS)
@pytest.mark.parametrize("natoms", NATOMS)
def test_hessian_vector_equals_dense_product(natoms, gamma):
    rng = np.random.default_rng(400 + natoms)
    kern = ClusterKernel(natoms, gamma)
    x = spread_coords(natoms, rng)
    hess = kern.hessian(x)
    for _ in range(3):
        v = rng.standard_normal(x.size)
        assert rel_err(kern.hessian_vector(x, v), hess @ v) < 1e-12
    # out= buffers are filled and returned
    out = np.full(x.size, np.nan)
    res = kern.hessian_vector(x, v, out)
    assert np.shares_memory(res, out) and rel_err(out, hess @ v) < 1e-12


def test_gamma_zero_is_plain_lennard_jones():
    rng = np.random.default_rng(5)
    x = spread_coords(7, rng)
    e_lj = ClusterKernel(7, 0.0).energy(x)
    pos = x.reshape(-1, 3)
    r = np.array([np.linalg.norm(pos[i] - pos[j]) for i in range(7) for j in range(i + 1, 7)])
    assert e_lj == pytest.approx(np.sum(4 * (r ** -12 - r ** -6)), rel=1e-13)
    # the three-body term is linear in gamma
    e0 = ClusterKernel(7, 0.0).energy(x)
    e1 = ClusterKernel(7, 1.0).energy(x)
    e3 = ClusterKernel(7, 3.0).energy(x)
    assert e3 - e0 == pytest.approx(3.0 * (e1 - e0), rel=1e-12)


def test_axilrod_teller_triangle_value():
    # right isosceles triangle with legs 1: cosines 0, 1/sqrt2, 1/sqrt2 -> 1 + 0 = 1
    x = np.array([0, 0, 0, 1, 0, 0, 0, 1, 0], dtype=float)
    e_at = ClusterKernel(3, 1.0).energy(x) - ClusterKernel(3, 0.0).energy(x)
    assert e_at == pytest.approx(1.0 / (1.0 * 1.0 * np.sqrt(2.0)) ** 3, rel=1e-14)
    # equilateral triangle with side s: (1 + 3/8) / s^9
    s = 1.3
    x = np.array([0, 0, 0, s, 0, 0, s / 2, s * np.sqrt(3) / 2, 0])
    e_at = ClusterKernel(3, 1.0).energy(x) - ClusterKernel(3, 0.0).energy(x)
    assert e_at == pytest.approx(1.375 / s ** 9, rel=1e-13)


# --------------------------------------------------------------------------- symmetries
@pytest.mark.parametrize("gamma", GAMMAS)
def test_energy_invariant_under_rotation_translation_permutation(gamma):
    rng = np.random.default_rng(6)
    natoms = 7
    kern = ClusterKernel(natoms, gamma)
    x = spread_coords(natoms, rng)
    e, grad = kern.energy_gradient(x)
    rot = random_rotation(rng)
    shift = rng.uniform(-5, 5, 3)
    perm = rng.permutation(natoms)
    y = (x.reshape(-1, 3)[perm] @ rot.T + shift).reshape(-1)
    e_y, grad_y = kern.energy_gradient(y)
    assert e_y == pytest.approx(e, rel=1e-12)
    # the gradient is covariant: rotated and permuted like the atoms
    assert rel_err(grad_y, (grad.reshape(-1, 3)[perm] @ rot.T).reshape(-1)) < 1e-11
    # inversion too
    assert kern.energy(-x) == pytest.approx(e, rel=1e-12)


@pytest.mark.parametrize("gamma", GAMMAS)
@pytest.mark.parametrize("natoms", (3, 7))
def test_translations_are_null_vectors_everywhere(natoms, gamma):
    rng = np.random.default_rng(7)
    kern = ClusterKernel(natoms, gamma)
    x = spread_coords(natoms, rng)
    hess = kern.hessian(x)
    scale = np.max(np.abs(hess))
    for axis in range(3):
        t = np.zeros((natoms, 3))
        t[:, axis] = 1.0
        t = t.reshape(-1)
        assert np.max(np.abs(hess @ t)) < 1e-11 * scale
        assert np.max(np.abs(kern.hessian_vector(x, t))) < 1e-11 * scale
    # and the gradient sums to zero (no net force)
    assert np.max(np.abs(kern.energy_gradient(x)[1].reshape(-1, 3).sum(axis=0))) < 1e-11 * scale


# --------------------------------------------------------------------------- known minima
def test_lj_dimer():
    kern = ClusterKernel(2, 0.0)
    r0 = 2.0 ** (1.0 / 6.0)
    x = np.array([0.0, 0.0, 0.0, r0, 0.0, 0.0])
    e, grad = kern.energy_gradient(x)
    assert e == pytest.approx(-1.0, abs=1e-14)
    assert np.max(np.abs(grad)) < 1e-13
    evals = np.linalg.eigvalsh(kern.hessian(x))
    # five zero modes; the stretch has curvature 2 V''(r0) = 2 * 72 / 2^(1/3)
    assert np.sum(np.abs(evals) < 1e-10) == 5
    assert evals[-1] == pytest.approx(144.0 / 2.0 ** (1.0 / 3.0), rel=1e-13)
    assert ClusterSystem(2).n_zero_modes == 5


def _triangle(side):
    return np.array([0, 0, 0, side, 0, 0, side / 2, side * np.sqrt(3) / 2, 0])


def _chain(bond):
    return np.array([0, 0, 0, bond, 0, 0, 2 * bond, 0, 0], dtype=float)


def _stationary_scale(shape, kern, lo, hi):
    """Root of dE/ds for coordinates ``shape(s)`` (a one-parameter family), by Brent."""
    def slope(s):
        h = 1e-7
        direction = (shape(s + h) - shape(s - h)) / (2 * h)
        return float(kern.energy_gradient(shape(s))[1] @ direction)
    return brentq(slope, lo, hi, xtol=1e-14, rtol=1e-15)


def test_triatomic_gamma2_equilateral_triangle():
    kern = ClusterKernel(3, 2.0)
    side = _stationary_scale(_triangle, kern, 1.0, 1.5)
    assert side == pytest.approx(1.168752, abs=1e-6)
    x = _triangle(side)
    e, grad = kern.energy_gradient(x)
    assert e == pytest.approx(-2.185099, abs=1e-6)
    assert np.max(np.abs(grad)) < 1e-10
    assert zero_and_negative_counts(kern.hessian(x)) == (6, 0)


def test_triatomic_gamma2_linear_chain():
    kern = ClusterKernel(3, 2.0)
    res = minimize_scalar(lambda b: kern.energy(_chain(b)), bracket=(1.0, 1.1, 1.3),
                          tol=1e-12)
    bond = _stationary_scale(_chain, kern, res.x - 0.05, res.x + 0.05)
    assert bond == pytest.approx(res.x, abs=1e-6)
    x = _chain(bond)
    e, grad = kern.energy_gradient(x)
    assert e == pytest.approx(-2.219098, abs=1e-6)
    assert np.max(np.abs(grad)) < 1e-10
    # linear: three translations and two rotations; a true minimum (no negative curvature)
    assert zero_and_negative_counts(kern.hessian(x)) == (5, 0)
    # the linear chains are lower than the triangle (SPEC 2.1)
    assert e < kern.energy(_triangle(1.168752))


def _icosahedron(radius):
    phi = (1 + np.sqrt(5)) / 2
    verts = []
    for s1 in (-1, 1):
        for s2 in (-1, 1):
            verts += [(0, s1, s2 * phi), (s1, s2 * phi, 0), (s2 * phi, 0, s1)]
    verts = np.array(verts, dtype=float)
    verts *= radius / np.linalg.norm(verts[0])
    return np.vstack([np.zeros(3), verts]).reshape(-1)


def test_lj13_icosahedron_global_minimum():
    # by symmetry the centred icosahedron has one free parameter, its radius
    kern = ClusterKernel(13, 0.0)
    res = minimize_scalar(lambda r: kern.energy(_icosahedron(r)), bracket=(1.0, 1.1, 1.2),
                          tol=1e-12)
    radius = _stationary_scale(_icosahedron, kern, res.x - 0.02, res.x + 0.02)
    x = _icosahedron(radius)
    e, grad = kern.energy_gradient(x)
    assert e == pytest.approx(lj_global_minimum_energies[13], abs=1e-6)
    assert np.max(np.abs(grad)) < 1e-10
    assert zero_and_negative_counts(kern.hessian(x)) == (6, 0)


def test_lj7_pentagonal_bipyramid():
    system = ClusterSystem(7)
    ring = [(np.cos(a), np.sin(a), 0.0) for a in 2 * np.pi * np.arange(5) / 5]
    x0 = np.array(ring + [(0, 0, 0.9), (0, 0, -0.9)]).reshape(-1) * 1.0
    x = local_minimum(system, x0, gtol=1e-10)
    assert system.energy(x) == pytest.approx(lj_global_minimum_energies[7], abs=1e-6)
    assert zero_and_negative_counts(system.hessian(x), rel_tol=1e-6) == (6, 0)


# --------------------------------------------------------------------------- the System
def test_system_wraps_kernel_and_samples_the_box():
    system = ClusterSystem(5, gamma=2.0)
    assert system.kind == "cluster" and system.ndim == 15 and system.n_zero_modes == 6
    assert system.box == pytest.approx(10.0 ** (1.0 / 3.0)) == default_box(5)
    assert system.energy_tol == pytest.approx(5e-6)
    assert system.distance_tol == pytest.approx(1e-2)
    rng = np.random.default_rng(8)
    x = system.random_coords(rng)
    assert x.shape == (15,) and np.all(np.abs(x) <= system.box / 2)
    # the same generator state gives the same start
    assert np.array_equal(ClusterSystem(5, box=2.0).random_coords(np.random.default_rng(1)),
                          ClusterSystem(5, box=2.0).random_coords(np.random.default_rng(1)))
    triatomic = ClusterSystem(3, gamma=2.0, box=2 ** (1 / 3))
    starts = np.array([triatomic.random_coords(rng) for _ in range(200)])
    assert np.max(np.abs(starts)) <= 2 ** (1 / 3) / 2
    assert np.max(starts) > 0.95 * 2 ** (1 / 3) / 2
    x = spread_coords(5, rng)
    e, g = system.energy_gradient(x)
    e_ref, g_ref = ref.energy_gradient(x, 2.0)
    assert e == pytest.approx(e_ref, rel=1e-10) and rel_err(g, g_ref) < 1e-10
    assert rel_err(system.hessian(x), ref.hessian(x, 2.0)) < 1e-10
    v = rng.standard_normal(15)
    assert rel_err(system.hessian_vector(x, v), ref.hessian_vector(x, v, 2.0)) < 1e-10
    with pytest.raises(ValueError, match="length"):
        system.energy(np.zeros(14))


def test_kernel_and_system_pickle():
    system = ClusterSystem(4, gamma=1.5, box=3.0)
    clone = pickle.loads(pickle.dumps(system))
    x = spread_coords(4, np.random.default_rng(9))
    assert clone.energy(x) == system.energy(x)
    assert (clone.kernel.natoms, clone.kernel.gamma) == (4, 1.5)


def test_align_matches_a_moved_copy():
    system = ClusterSystem(6)
    rng = np.random.default_rng(10)
    x = spread_coords(6, rng)
    y = (x.reshape(-1, 3)[rng.permutation(6)] @ random_rotation(rng).T + 1.5).reshape(-1)
    dist, aligned = system.align(x, y)
    assert dist < 1e-8
    assert aligned.shape == (18,)
    assert system.energy(aligned) == pytest.approx(system.energy(x), rel=1e-12)
    assert system.distance(x, y) < 1e-8


def test_config_round_trip():
    system = ClusterSystem(13, gamma=0.5)
    table = system.config()
    assert table == {"kind": "cluster", "natoms": 13, "gamma": 0.5, "box": default_box(13)}
    again = build_system(table)
    assert isinstance(again, ClusterSystem) and again.config() == table
    custom = ClusterSystem.from_config({"natoms": 3, "gamma": 2, "box": 2 ** (1 / 3),
                                        "energy_tol": 1e-8, "distance_tol": 0.001}, None)
    assert custom.gamma == 2.0 and custom.box == 2 ** (1 / 3)
    assert custom.energy_tol == 1e-8 and custom.distance_tol == 1e-3
    assert build_system(custom.config()).config() == custom.config()


@pytest.mark.parametrize("table, match", [
    ({"natoms": 3, "gama": 2.0}, "did you mean 'gamma'"),
    ({"natom": 3}, "did you mean 'natoms'"),
    ({"gamma": 2.0}, "missing required key 'natoms'"),
    ({"natoms": 1}, "'natoms' = 1 must be >= 2"),
    ({"natoms": 3.0}, "'natoms' must be an integer"),
    ({"natoms": 3, "gamma": "two"}, "'gamma' must be a number"),
    ({"natoms": 3, "box": 0.0}, "'box' = 0.0 must be > 0"),
    ({"natoms": 3, "distance_tol": -1}, "'distance_tol'"),
])
def test_from_config_errors(table, match):
    with pytest.raises(InputError, match=match):
        ClusterSystem.from_config(table, None)
    with pytest.raises(InputError, match=match):
        build_system({"kind": "cluster", **table})
