"""The :class:`Dataset` container and the checks and scalings shared by every kind."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mlcore.errors import InputError


@dataclass(frozen=True, eq=False)
class Dataset:
    """A classification data set with a training and a test part.

    Attributes
    ----------
    x_train : ndarray, shape (n_train, n_features), float64
        Training inputs (pixels scaled to [0, 1] for MNIST, otherwise as given).
    y_train : ndarray, shape (n_train,), int64
        Class labels of the training inputs, in ``0 .. n_classes - 1``; for ``teacher``
        data real-valued targets, float64 of shape ``(n_train, n_classes)``.
    x_test : ndarray, shape (n_test, n_features), float64
        Test inputs (may have ``n_test = 0``).
    y_test : ndarray, shape (n_test,), int64
        Class labels of the test inputs.
    n_classes : int
        Number of classes.
    name : str
        Short description for output (``"triatomic initial 500/500"``).
    config : dict
        The data table, every default filled in, in plain TOML types: loading it again with
        :func:`mlcore.datasets.load_dataset` rebuilds this data set.
    arrays : dict of str -> ndarray
        What the HDF5 file stores so that :func:`mlcore.datasets.restore_dataset` rebuilds the
        data set from the file alone: the raw inputs ``x_train``, ``x_test`` (possibly uint8),
        ``y_train``, ``y_test``, the divisor ``x_divisor`` that scales the raw inputs
        (``x = raw / x_divisor``), and per-kind provenance (indices of the chosen examples,
        the class of every triatomic sequence).  Standardisation of the inputs is the
        landscape's business (``[system] standardise`` of ``kind = "nn"``), not the data set's.
    info : dict
        Facts about how the data set was made (counts, hashes, build time); plain types.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    name: str
    config: dict
    arrays: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)

    @property
    def n_features(self) -> int:
        """Number of input features."""
        return int(self.x_train.shape[1])

    @property
    def n_train(self) -> int:
        """Number of training examples."""
        return int(self.x_train.shape[0])

    @property
    def n_test(self) -> int:
        """Number of test examples."""
        return int(self.x_test.shape[0])


def scale_inputs(raw: np.ndarray, divisor: float) -> np.ndarray:
    """Raw inputs as float64 divided by ``divisor`` (e.g. uint8 pixels / 255)."""
    x = np.asarray(raw, dtype=np.float64)
    if divisor != 1.0:
        x = x / divisor
    return np.ascontiguousarray(x)


def assemble(raw_train, y_train, raw_test, y_test, *, n_classes: int, name: str, config: dict,
             divisor: float = 1.0, extra_arrays: dict | None = None,
             info: dict | None = None, targets: bool = False) -> Dataset:
    """Scale raw inputs (``raw / divisor``) and pack a :class:`Dataset`.

    Used both when a data set is loaded and when it is restored from stored arrays, so the
    two give bit-identical inputs.  ``targets``: ``y`` are real-valued target vectors
    (float64, shape ``(n, n_outputs)``), not class labels.
    """
    y_dtype = np.float64 if targets else np.int64
    x_train = scale_inputs(raw_train, divisor)
    x_test = scale_inputs(raw_test, divisor)
    arrays = {"x_train": np.asarray(raw_train), "y_train": np.asarray(y_train, dtype=y_dtype),
              "x_test": np.asarray(raw_test), "y_test": np.asarray(y_test, dtype=y_dtype),
              "x_divisor": np.float64(divisor)}
    arrays.update(extra_arrays or {})
    return Dataset(x_train=x_train, y_train=np.ascontiguousarray(y_train, dtype=y_dtype),
                   x_test=x_test, y_test=np.ascontiguousarray(y_test, dtype=y_dtype),
                   n_classes=int(n_classes), name=name, config=config, arrays=arrays,
                   info=dict(info or {}))


def check_features(x, label: str, where: str) -> np.ndarray:
    """Inputs as a finite float64 matrix (a vector counts as one feature), or an error."""
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise InputError(f"{where}: {label} must be numeric, got dtype {x.dtype}")
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise InputError(f"{where}: {label} must be a 2-d array (examples x features), "
                         f"got shape {x.shape}")
    x = np.asarray(x, dtype=np.float64)
    bad = ~np.isfinite(x)
    if bad.any():
        row = int(np.argwhere(bad)[0][0])
        raise InputError(f"{where}: {label} has {int(bad.sum())} non-finite value(s) "
                         f"(first in row {row})")
    return x


def check_labels(y, n_rows: int, label: str, where: str) -> np.ndarray:
    """Labels as non-negative int64 of length ``n_rows``, or an error."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise InputError(f"{where}: {label} must be a 1-d array of class labels, got shape {y.shape}")
    if y.shape[0] != n_rows:
        raise InputError(f"{where}: {label} has {y.shape[0]} labels for {n_rows} examples")
    if y.dtype.kind == "b":
        y = y.astype(np.int64)
    if y.dtype.kind not in "iuf":
        raise InputError(f"{where}: {label} must hold integer class labels, got dtype {y.dtype}")
    if y.dtype.kind == "f":
        bad = ~np.isfinite(y) | (y != np.round(y))
        if bad.any():
            i = int(np.argmax(bad))
            raise InputError(f"{where}: {label}[{i}] = {y[i]} is not an integer class label")
    y = y.astype(np.int64)
    if (y < 0).any():
        i = int(np.argmax(y < 0))
        raise InputError(f"{where}: {label}[{i}] = {y[i]} is negative; labels must be 0, 1, 2, ...")
    return y


def check_label_range(y, n_classes: int, label: str, where: str) -> None:
    """Refuse labels ``>= n_classes``."""
    if len(y) and int(y.max()) >= n_classes:
        i = int(np.argmax(y >= n_classes))
        raise InputError(f"{where}: {label}[{i}] = {y[i]} is out of range for "
                         f"n_classes = {n_classes}")
