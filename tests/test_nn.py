"""The nn landscape: kernel vs NumPy reference vs finite differences, both code paths,
zero modes, hidden-node symmetries and the NNSystem wrapper."""
import pickle

import numpy as np
import pytest
from kernels.nn import BLAS_THRESHOLD, NNKernel
from polish import local_minimum

from kernels.reference.nn import NNReference, n_params, pack, unpack
from mlcore.align.network import apply_node_map
from mlcore.errors import InputError
from mlcore.numderiv import fd_gradient, fd_hessian, fd_hessian_vector
from mlcore.systems.nn import NNSystem

ACTIVATIONS = ("tanh", "linear")
LOSSES = ("xent", "mse")
PATHS = ("fused", "blas")


def rel_err(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def make_data(rng, n_in, n_out, n_data):
    x = rng.normal(size=(n_data, n_in))
    labels = rng.integers(0, n_out, n_data)
    targets = rng.normal(size=(n_data, n_out))
    return x, labels, targets


def make_pair(rng, n_in, n_hidden, n_out, n_data, path="auto", lam=0.01, **kw):
    x, labels, targets = make_data(rng, n_in, n_out, n_data)
    args = dict(labels=labels, targets=targets, lam=lam, **kw)
    return (NNKernel(n_in, n_hidden, n_out, x, path=path, **args),
            NNReference(n_in, n_hidden, n_out, x, **args))


# ---------------------------------------------------------------------- small networks
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("reg_biases", (True, False))
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_small_kernel_matches_reference_and_finite_differences(activation, loss, reg_biases, path):
    rng = np.random.default_rng([3, ACTIVATIONS.index(activation), LOSSES.index(loss),
                                 int(reg_biases), PATHS.index(path)])
    kern, ref = make_pair(rng, 3, 4, 3, 41, path=path, reg_biases=reg_biases,
                          activation=activation, loss=loss)
    assert kern.path == path
    assert kern.ndim == ref.ndim == n_params(3, 4, 3) == 12 + 4 + 12 + 3
    w = rng.uniform(-1.5, 1.5, kern.ndim)
    v = rng.normal(size=kern.ndim)
    e_ref, g_ref = ref.energy_gradient(w)
    e, g = kern.energy_gradient(w)
    assert abs(e - e_ref) <= 1e-10 * abs(e_ref)
    assert abs(kern.energy(w) - e_ref) <= 1e-10 * abs(e_ref)
    assert rel_err(g, g_ref) < 1e-10
    hv = kern.hessian_vector(w, v)
    assert rel_err(hv, ref.hessian_vector(w, v)) < 1e-10
    hess = kern.hessian(w)
    hess_ref = ref.hessian(w)
    assert rel_err(hess, hess_ref) < 1e-10
    assert np.array_equal(hess, hess.T)
    # analytic vs central finite differences
    assert rel_err(g, fd_gradient(kern.energy, w)) < 1e-7
    assert rel_err(hess, fd_hessian(kern.energy_gradient, w)) < 1e-6
    # HVP is H @ v
    assert rel_err(hv, hess @ v) < 1e-12
    assert rel_err(hv, fd_hessian_vector(kern.energy_gradient, w, v)) < 1e-6


def test_reference_hessian_matches_finite_differences():
    rng = np.random.default_rng(11)
    for activation in ACTIVATIONS:
        for loss in LOSSES:
            _, ref = make_pair(rng, 2, 3, 3, 25, activation=activation, loss=loss,
                               reg_biases=False)
            w = rng.uniform(-1, 1, ref.ndim)
            assert rel_err(ref.energy_gradient(w)[1], fd_gradient(ref.energy, w)) < 1e-7
            assert rel_err(ref.hessian(w), fd_hessian(ref.energy_gradient, w)) < 1e-6


def test_energy_value_by_hand():
    # one item, 1-1-2 network, known weights: check E against a direct evaluation
    x = np.array([[0.7]])
    w = pack(np.array([[0.3]]), np.array([-0.2]), np.array([[1.5], [-0.5]]), np.array([0.1, 0.4]))
    z = np.tanh(0.3 * 0.7 - 0.2)
    y = np.array([0.1 + 1.5 * z, 0.4 - 0.5 * z])
    lam = 0.05
    reg = lam * np.sum(w * w)
    for path in PATHS:
        k = NNKernel(1, 1, 2, x, labels=[1], lam=lam, path=path)
        expected = -(y[1] - np.log(np.exp(y).sum())) + reg
        assert k.energy(w) == pytest.approx(expected, rel=1e-14)
        k = NNKernel(1, 1, 2, x, targets=[[1.0, -2.0]], lam=lam, loss="mse", path=path,
                     reg_biases=False)
        reg_nb = lam * (0.3 ** 2 + 1.5 ** 2 + 0.5 ** 2)
        expected = (y[0] - 1.0) ** 2 + (y[1] + 2.0) ** 2 + reg_nb
        assert k.energy(w) == pytest.approx(expected, rel=1e-14)


def test_log_softmax_is_stable_for_huge_outputs():
    rng = np.random.default_rng(5)
    for path in PATHS:
        kern, ref = make_pair(rng, 3, 5, 4, 200, path=path)
        w = 300.0 * rng.uniform(-1, 1, kern.ndim)      # outputs of order 1e3
        e, g = kern.energy_gradient(w)
        assert np.isfinite(e) and np.all(np.isfinite(g))
        e_ref, g_ref = ref.energy_gradient(w)
        assert abs(e - e_ref) <= 1e-10 * abs(e_ref)
        assert rel_err(g, g_ref) < 1e-10


def test_branch_free_tanh_and_exp_are_accurate():
    from kernels.nn import _vector_exp_nonpos, _vector_tanh

    rng = np.random.default_rng(6)
    a = np.concatenate([rng.uniform(-30, 30, 20000),
                        10.0 ** rng.uniform(-300, 0, 2000) * rng.choice([-1, 1], 2000)])
    assert np.max(np.abs(_vector_tanh(a) - np.tanh(a)) / np.abs(np.tanh(a))) < 8e-16   # <= 4 ulp
    special = np.array([0.0, -0.0, 354.0, -400.0, 1e300, np.inf, -np.inf, np.nan])
    t = _vector_tanh(special)
    assert np.array_equal(t[:-1], [0.0, -0.0, 1.0, -1.0, 1.0, 1.0, -1.0])
    assert np.signbit(t[1]) and np.isnan(t[-1])
    x = -rng.uniform(0.0, 708.0, 20000)
    assert np.max(np.abs(_vector_exp_nonpos(x) - np.exp(x)) / np.exp(x)) < 8e-16
    e = _vector_exp_nonpos(np.array([0.0, -1e300, -np.inf, np.nan]))
    assert e[0] == 1.0 and 0.0 < e[1] == e[2] < 1e-307 and np.isnan(e[3])


@pytest.mark.parametrize("path", PATHS)
def test_nan_weights_give_nan_energy(path):
    rng = np.random.default_rng(7)
    for loss in LOSSES:
        kern, _ = make_pair(rng, 3, 4, 3, 100, path=path, lam=0.0, loss=loss)
        w = rng.normal(size=kern.ndim)
        w[0] = np.nan                                   # an input-to-hidden weight
        e, g = kern.energy_gradient(w)
        assert np.isnan(e) and np.isnan(kern.energy(w)) and np.any(np.isnan(g))


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("n_data", [1, 63, 64, 65, 130])
def test_block_edges(n_data, path):
    # both paths work in blocks of 64 items
    rng = np.random.default_rng(n_data)
    for loss in LOSSES:
        kern, ref = make_pair(rng, 2, 3, 4, n_data, path=path, loss=loss)
        w = rng.normal(size=kern.ndim)
        v = rng.normal(size=kern.ndim)
        e, g = kern.energy_gradient(w)
        e_ref, g_ref = ref.energy_gradient(w)
        assert abs(e - e_ref) <= 1e-12 * abs(e_ref)
        assert rel_err(g, g_ref) < 1e-12
        assert rel_err(kern.hessian_vector(w, v), ref.hessian_vector(w, v)) < 1e-12


def test_many_classes_use_per_item_log():
    rng = np.random.default_rng(12)
    kern, ref = make_pair(rng, 2, 2, 1001, 70, path="fused")
    w = rng.normal(size=kern.ndim)
    assert kern.energy(w) == pytest.approx(ref.energy(w), rel=1e-12)
    assert rel_err(kern.energy_gradient(w)[1], ref.energy_gradient(w)[1]) < 1e-10


def test_paths_agree_and_auto_choice():
    rng = np.random.default_rng(8)
    x, labels, _ = make_data(rng, 7, 3, 300)
    fused = NNKernel(7, 5, 3, x, labels=labels, lam=1e-3, path="fused")
    blas = NNKernel(7, 5, 3, x, labels=labels, lam=1e-3, path="blas")
    w = rng.normal(size=fused.ndim)
    v = rng.normal(size=fused.ndim)
    assert fused.energy(w) == pytest.approx(blas.energy(w), rel=1e-13)
    assert rel_err(fused.energy_gradient(w)[1], blas.energy_gradient(w)[1]) < 1e-12
    assert rel_err(fused.hessian_vector(w, v), blas.hessian_vector(w, v)) < 1e-12
    assert NNKernel(7, 5, 3, x, labels=labels).path == "fused"
    wide = rng.normal(size=(10, BLAS_THRESHOLD))
    assert NNKernel(BLAS_THRESHOLD, 1, 2, wide, labels=np.arange(10) % 2).path == "blas"


def test_kernel_keeps_own_copy_and_pickles():
    rng = np.random.default_rng(9)
    x, labels, _ = make_data(rng, 3, 2, 50)
    kern = NNKernel(3, 2, 2, x, labels=labels, lam=0.1, reg_biases=False)
    w = rng.normal(size=kern.ndim)
    e0 = kern.energy(w)
    x[:] = 0.0
    labels[:] = 0
    assert kern.energy(w) == e0
    clone = pickle.loads(pickle.dumps(kern))
    assert clone.energy(w) == e0
    assert (clone.n_in, clone.n_hidden, clone.n_out, clone.lam, clone.reg_biases) == (3, 2, 2, 0.1, False)
    with pytest.raises(ValueError):
        kern.x[0, 0] = 1.0


@pytest.mark.parametrize("path", PATHS)
def test_one_kernel_serves_several_threads(path):
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(13)
    kern, _ = make_pair(rng, 5, 4, 3, 700, path=path)
    points = [rng.normal(size=kern.ndim) for _ in range(16)]
    serial = [(kern.energy_gradient(w), kern.hessian_vector(w, w)) for w in points]
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(lambda w: (kern.energy_gradient(w), kern.hessian_vector(w, w)),
                                 points))
    for ((e1, g1), h1), ((e2, g2), h2) in zip(serial, threaded):
        assert e1 == e2 and np.array_equal(g1, g2) and np.array_equal(h1, h2)


@pytest.mark.parametrize("kwargs, message", [
    ({"labels": [0, 3]}, "labels must lie"),
    ({"labels": [0]}, "labels must have shape"),
    ({"labels": None}, "needs integer labels"),
    ({"loss": "mse"}, "needs targets"),
    ({"labels": [0, 1], "activation": "relu"}, "activation"),
    ({"labels": [0, 1], "lam": -1.0}, "lam"),
])
def test_kernel_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        NNKernel(2, 2, 3, np.zeros((2, 2)), **kwargs)


# ---------------------------------------------------------------------- MNIST-sized
@pytest.fixture(scope="module")
def mnist_sized():
    rng = np.random.default_rng(784)
    x = rng.uniform(0.0, 1.0, size=(1000, 784)) * (rng.uniform(size=(1000, 784)) < 0.2)
    labels = rng.integers(0, 10, 1000)
    ref = NNReference(784, 10, 10, x, labels=labels, lam=0.01)
    kernels = {p: NNKernel(784, 10, 10, x, labels=labels, lam=0.01, path=p) for p in PATHS}
    w = rng.uniform(-1, 1, ref.ndim)
    w[:7840] *= 3.0 / np.sqrt(784)
    return ref, kernels, w, rng.normal(size=ref.ndim), rng


def test_mnist_sized_kernel_matches_reference(mnist_sized):
    ref, kernels, w, v, _ = mnist_sized
    assert ref.ndim == 7960
    assert NNKernel(784, 10, 10, ref.x, labels=ref.labels).path == "blas"
    e_ref, g_ref = ref.energy_gradient(w)
    hv_ref = ref.hessian_vector(w, v)
    for path, kern in kernels.items():
        e, g = kern.energy_gradient(w)
        assert abs(e - e_ref) <= 1e-10 * abs(e_ref), path
        assert rel_err(g, g_ref) < 1e-10, path
        assert rel_err(kern.hessian_vector(w, v), hv_ref) < 1e-10, path


def test_mnist_sized_finite_differences(mnist_sized):
    _, kernels, w, v, rng = mnist_sized
    kern = kernels["blas"]
    g = kern.energy_gradient(w)[1]
    # a random subset of components from every block of the layout
    blocks = [(0, 7840), (7840, 7850), (7850, 7950), (7950, 7960)]
    idx = np.concatenate([rng.choice(np.arange(a, b), 4, replace=False) for a, b in blocks])
    h = 1e-5
    for i in idx:
        wp = w.copy()
        wp[i] += h
        wm = w.copy()
        wm[i] -= h
        fd = (kern.energy(wp) - kern.energy(wm)) / (2 * h)
        assert abs(fd - g[i]) < 1e-7 * max(1.0, np.max(np.abs(g))), i
    hv = kern.hessian_vector(w, v)
    assert rel_err(hv, fd_hessian_vector(kern.energy_gradient, w, v)) < 1e-6


def test_medium_dense_hessian_matches_reference():
    # wide enough that the dgemm blocks of the dense Hessian are non-trivial
    rng = np.random.default_rng(33)
    for loss in LOSSES:
        kern, ref = make_pair(rng, 40, 5, 3, 150, loss=loss, reg_biases=False)
        w = rng.uniform(-0.5, 0.5, kern.ndim)
        v = rng.normal(size=kern.ndim)
        hess = kern.hessian(w)
        assert rel_err(hess, ref.hessian(w)) < 1e-10
        assert rel_err(hess @ v, kern.hessian_vector(w, v)) < 1e-12


@pytest.mark.slow
def test_mnist_sized_dense_hessian(mnist_sized):
    # 7960 x 7960 (0.5 GB), about 6 s: the dense Hessian agrees with the R-operator product
    _, kernels, w, v, _ = mnist_sized
    hess = kernels["blas"].hessian(w)
    assert np.array_equal(hess, hess.T)
    for kern in kernels.values():
        assert rel_err(hess @ v, kern.hessian_vector(w, v)) < 1e-12


# ---------------------------------------------------------------------- zero modes
def _bias_shift(n_in, n_hidden, n_out):
    u = np.zeros(n_params(n_in, n_hidden, n_out))
    u[-n_out:] = 1.0 / np.sqrt(n_out)
    return u


@pytest.mark.parametrize("path", PATHS)
def test_output_bias_shift_is_a_zero_mode_without_bias_regularisation(path):
    rng = np.random.default_rng(21)
    kern, _ = make_pair(rng, 3, 5, 4, 300, path=path, reg_biases=False)
    w = rng.uniform(-1, 1, kern.ndim)
    u = _bias_shift(3, 5, 4)
    e, g = kern.energy_gradient(w)
    assert kern.energy(w + 0.7 * u) == pytest.approx(e, rel=1e-13)
    assert abs(g @ u) < 1e-13
    assert np.max(np.abs(kern.hessian_vector(w, u))) < 1e-13
    assert np.max(np.abs(kern.hessian(w) @ u)) < 1e-13
    regularised, _ = make_pair(rng, 3, 5, 4, 300, path=path, reg_biases=True)
    assert regularised.hessian_vector(w, u) @ u == pytest.approx(2 * 0.01, rel=1e-6)


def _minimise(system, rng, gtol=1e-11):
    """A minimum from a random start: the project's L-BFGS, then Newton to ``|g| <= gtol``."""
    return local_minimum(system, system.random_coords(rng), gtol=gtol)


@pytest.mark.parametrize("activation, loss, reg_biases, expected", [
    ("tanh", "xent", True, 0),
    ("tanh", "xent", False, 1),
    ("tanh", "mse", False, 0),
    ("linear", "mse", True, 1),        # O(2) mixing of the two hidden nodes
    ("linear", "mse", False, 3),       # + two hidden-bias shifts
    ("linear", "xent", False, 4),      # + the output-bias shift
])
def test_zero_mode_count_at_a_minimum(activation, loss, reg_biases, expected):
    rng = np.random.default_rng(31)
    x, labels, targets = make_data(rng, 3, 3, 40)
    y = labels if loss == "xent" else targets
    system = NNSystem(x, y, 2, lam=0.02, reg_biases=reg_biases, activation=activation,
                      loss=loss, n_out=3)
    assert system.n_zero_modes == expected
    w = _minimise(system, rng)
    assert np.linalg.norm(system.energy_gradient(w)[1]) < 1e-8
    eig = np.linalg.eigvalsh(system.hessian(w))
    assert np.sum(np.abs(eig) < 1e-6) == expected
    assert np.all(eig > -1e-6)


def test_zero_mode_count_without_regularisation():
    x = np.zeros((4, 3))
    for act, loss, expected in (("tanh", "xent", 1), ("tanh", "mse", 0), ("linear", "mse", 4 + 2),
                                ("linear", "xent", 4 + 2 + 1)):
        y = np.array([0, 1, 2, 0]) if loss == "xent" else np.zeros((4, 3))
        assert NNSystem(x, y, 2, lam=0.0, activation=act, loss=loss).n_zero_modes == expected


# ---------------------------------------------------------------------- symmetries
def _random_symmetry_copy(rng, coords, n_in, n_hidden, n_out):
    perm = rng.permutation(n_hidden)
    signs = rng.choice([-1.0, 1.0], n_hidden)
    signs[0] = -1.0
    return apply_node_map(coords, perm, signs, n_in, n_hidden, n_out), perm, signs


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_hidden_permutation_and_sign_flips_leave_network_unchanged(activation):
    rng = np.random.default_rng(41)
    x, labels, _ = make_data(rng, 4, 3, 200)
    x_test = rng.normal(size=(50, 4))
    system = NNSystem(x, labels, 6, lam=0.01, activation=activation, x_test=x_test,
                      y_test=rng.integers(0, 3, 50))
    w = system.random_coords(rng)
    w_sym, _, _ = _random_symmetry_copy(rng, w, 4, 6, 3)
    assert not np.allclose(w_sym, w)
    assert np.allclose(system.predictions(w_sym, x_test), system.predictions(w, x_test),
                       rtol=1e-13, atol=1e-13)
    assert system.energy(w_sym) == pytest.approx(system.energy(w), rel=1e-13)
    d, aligned = system.align(w, w_sym)
    assert d < 1e-12
    # linear networks: aligned in canonical form (the hidden mixing fixed)
    expected = w if activation == "tanh" else system.canonical(w)
    assert np.allclose(aligned, expected, rtol=0, atol=1e-12)
    assert system.distance(w, w_sym) < 1e-12
    other = system.random_coords(rng)
    d_other, aligned_other = system.align(w, other)
    assert 0.5 < d_other <= np.linalg.norm(other - w) + 1e-12
    assert d_other == pytest.approx(np.linalg.norm(aligned_other - expected), rel=1e-12)
    assert system.energy(aligned_other) == pytest.approx(system.energy(other), rel=1e-13)


# ---------------------------------------------------------------------- NNSystem
def test_system_standardisation_and_helpers():
    rng = np.random.default_rng(61)
    x = rng.normal(loc=[5.0, -2.0, 0.0], scale=[3.0, 0.5, 0.0], size=(400, 3))
    labels = (x[:, 0] > 5.0).astype(np.int64) + 2 * (x[:, 1] > -2.0)
    x_test = rng.normal(loc=[5.0, -2.0, 0.0], scale=[3.0, 0.5, 1.0], size=(100, 3))
    y_test = (x_test[:, 0] > 5.0).astype(np.int64) + 2 * (x_test[:, 1] > -2.0)
    system = NNSystem(x, labels, 3, lam=1e-3, x_test=x_test, y_test=y_test, standardise=True)
    assert system.kind == "nn"
    assert (system.n_in, system.n_hidden, system.n_out, system.ndim) == (3, 3, 4, 9 + 3 + 12 + 4)
    assert np.allclose(system.input_mean, x.mean(axis=0))
    assert np.allclose(system.input_std[:2], x.std(axis=0)[:2]) and system.input_std[2] == 1.0
    assert np.allclose(system.x_train.mean(axis=0), 0.0, atol=1e-12)
    assert np.allclose(system.x_train.std(axis=0)[:2], 1.0)
    assert np.allclose(system.x_test, (x_test - system.input_mean) / system.input_std)
    assert np.array_equal(system.kernel.x, system.x_train)
    clone = pickle.loads(pickle.dumps(system))          # process executors ship systems
    w0 = np.linspace(-1, 1, system.ndim)
    assert clone.energy(w0) == system.energy(w0) and clone.kernel.path == system.kernel.path
    w = system.random_coords(np.random.default_rng(1))
    assert w.shape == (system.ndim,) and np.all(np.abs(w) <= 1.0)
    ref = NNReference(3, 3, 4, system.x_train, labels=labels, lam=1e-3)
    assert system.energy(w) == pytest.approx(ref.energy(w), rel=1e-12)
    assert np.allclose(system.predictions(w, x_test), ref.predictions(w, system.x_test))
    p = system.probabilities(w, x_test)
    assert p.shape == (100, 4) and np.allclose(p.sum(axis=1), 1.0)
    mis = system.misclassified(w, x_test, y_test)
    assert mis.dtype == bool and mis.shape == (100,)
    assert np.array_equal(mis, np.argmax(p, axis=1) != y_test)
    assert np.array_equal(system.misclassified(w), system.predicted_labels(w) != labels)
    # a quench learns this easy rule: far fewer test errors than a random guess
    w_min = _minimise(system, np.random.default_rng(2), gtol=1e-6)
    assert system.misclassified(w_min, x_test, y_test).mean() < 0.2
    # wide inputs start with small input weights
    wide = NNSystem(rng.normal(size=(5, 100)), [0, 1, 0, 1, 1], 2)
    w_wide = wide.random_coords(rng)
    assert np.max(np.abs(w_wide[:200])) <= 0.3 and np.max(np.abs(w_wide[200:])) > 0.3


def test_system_mse_targets_and_validation():
    rng = np.random.default_rng(71)
    x = rng.normal(size=(30, 2))
    t = rng.normal(size=30)
    system = NNSystem(x, t, 3, loss="mse", activation="linear", lam=0.1)
    assert system.n_out == 1 and system.y_train.shape == (30, 1)
    w = rng.normal(size=system.ndim)
    ref = NNReference(2, 3, 1, x, targets=t[:, None], lam=0.1, loss="mse", activation="linear")
    assert system.energy(w) == pytest.approx(ref.energy(w), rel=1e-12)
    assert system.config()["data"] == {"kind": "arrays"}   # built from arrays
    with pytest.raises(ValueError):
        NNSystem(x, t[:-1], 3, loss="mse")
    with pytest.raises(ValueError, match="x_test and y_test"):
        NNSystem(x, t, 3, loss="mse", y_test=t)


def test_system_from_config_round_trip(tmp_path):
    rng = np.random.default_rng(81)
    x = rng.normal(size=(60, 3))
    y = rng.integers(0, 3, 60)
    np.savez(tmp_path / "d.npz", X=x, y=y, X_test=x[:10], y_test=y[:10])
    table = {"hidden": 4, "lam": 1e-3, "reg_biases": False, "standardise": True,
             "data": {"kind": "file", "path": "d.npz"}}
    system = NNSystem.from_config(table, tmp_path)
    assert (system.n_in, system.n_hidden, system.n_out) == (3, 4, 3)
    assert system.n_zero_modes == 1 and system.standardise
    cfg = system.config()
    assert cfg["kind"] == "nn" and cfg["hidden"] == 4 and cfg["reg_biases"] is False
    from mlcore.systems import build_system

    again = build_system(cfg, tmp_path)
    w = system.random_coords(rng)
    assert again.energy(w) == system.energy(w)
    mse = NNSystem.from_config({**table, "loss": "mse"}, tmp_path)
    assert mse.n_out == 3 and np.allclose(mse.y_train.sum(axis=1), 1.0)
    with pytest.raises(InputError, match="did you mean 'hidden'"):
        NNSystem.from_config({**table, "hiden": 3}, tmp_path)
    with pytest.raises(InputError, match="activation"):
        NNSystem.from_config({**table, "activation": "relu"}, tmp_path)
    with pytest.raises(InputError, match="hidden"):
        NNSystem.from_config({"data": table["data"]}, tmp_path)


def test_storage_round_trip_is_bit_identical(tmp_path):
    from mlcore.systems.storage import system_from_storage, system_storage

    rng = np.random.default_rng(82)
    x = rng.normal(size=(60, 3)) * [1.0, 10.0, 0.1]
    y = rng.integers(0, 3, 60)
    np.savez(tmp_path / "d.npz", X=x, y=y, X_test=x[:10], y_test=y[:10])
    from_file = NNSystem.from_config({"hidden": 3, "lam": 1e-3, "standardise": True,
                                      "data": {"kind": "file", "path": "d.npz"}}, tmp_path)
    from_arrays = NNSystem(x, rng.normal(size=(60, 2)), 2, loss="mse", activation="linear",
                           x_test=x[:5], y_test=np.zeros((5, 2)), standardise=True,
                           reg_biases=False, distance_tol=0.01)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for system in (from_file, from_arrays):
        config, arrays = system_storage(system)
        (tmp_path / "d.npz").rename(tmp_path / "moved.npz")      # the source is gone
        again = system_from_storage(config, arrays, elsewhere)
        (tmp_path / "moved.npz").rename(tmp_path / "d.npz")
        w = system.random_coords(rng)
        assert again.energy(w) == system.energy(w)
        assert np.array_equal(again.energy_gradient(w)[1], system.energy_gradient(w)[1])
        assert np.array_equal(again.x_test, system.x_test)
        assert again.config() == config and again.n_zero_modes == system.n_zero_modes
    with pytest.raises(InputError, match="arrays"):
        NNSystem.from_config({k: v for k, v in from_arrays.config().items() if k != "kind"},
                             tmp_path)


def test_unpack_layout_matches_reference():
    rng = np.random.default_rng(91)
    system = NNSystem(rng.normal(size=(8, 3)), rng.integers(0, 2, 8), 4)
    w = rng.normal(size=system.ndim)
    for a, b in zip(system.unpack(w), unpack(w, 3, 4, 2)):
        assert np.array_equal(a, b)
    assert [a.shape for a in system.unpack(w)] == [(4, 3), (4,), (2, 4), (2,)]
