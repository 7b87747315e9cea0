"""``kind = "file"``: the user's own classification data from an .npz or a CSV file.

.npz: arrays ``X`` (n, d) and ``y`` (n,), optionally ``X_test`` and ``y_test`` (both or
neither).  CSV: one example per row, the features and then the class label in the last
column, comma-separated; blank lines and lines starting with ``#`` are skipped, and a first
row that is not numeric is taken as a header.  A second CSV, ``test_path``, holds the test
set.  Every problem found (shape, non-finite values, labels that are not non-negative
integers below ``n_classes``) is an :class:`InputError` naming the file.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from mlcore.datasets.base import Dataset, assemble, check_features, check_label_range, check_labels
from mlcore.datasets.cache import sha256_file
from mlcore.datasets.options import FileOptions
from mlcore.errors import InputError


def read_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Features (n, d) and raw labels (n,) of a CSV file; errors name file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read data file: {exc}") from None
    rows = []
    width = None
    first_data_line = True
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        fields = [f.strip() for f in stripped.split(",")]
        try:
            values = [float(f) for f in fields]
        except ValueError:
            if first_data_line:  # a header row
                first_data_line = False
                continue
            bad = next(f for f in fields if not _is_number(f))
            raise InputError(f"{path}:{lineno}: '{bad}' is not a number") from None
        first_data_line = False
        if width is None:
            width = len(values)
            if width < 2:
                raise InputError(f"{path}:{lineno}: a row needs at least one feature and the "
                                 "label (last column)")
        elif len(values) != width:
            raise InputError(f"{path}:{lineno}: {len(values)} columns, expected {width}")
        rows.append(values)
    if not rows:
        raise InputError(f"{path}: no data rows")
    data = np.array(rows, dtype=np.float64)
    return data[:, :-1], data[:, -1]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_npz(path: Path) -> dict:
    """Arrays ``X``, ``y`` and optionally ``X_test``, ``y_test`` of an .npz file."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(f"{path}: cannot read .npz data file: {exc}") from None
    for key in ("X", "y"):
        if key not in arrays:
            raise InputError(f"{path}: no array '{key}' (found: {', '.join(arrays) or 'none'}); "
                             "a data file needs X (examples x features) and y (labels)")
    if ("X_test" in arrays) != ("y_test" in arrays):
        raise InputError(f"{path}: X_test and y_test must be given together")
    return arrays


def _resolve(path_text: str, base_dir: Path, where: str, key: str) -> Path:
    path = Path(path_text).expanduser()
    if not path.is_absolute():
        path = Path(base_dir) / path
    if not path.is_file():
        raise InputError(f"{where}: {key} = '{path_text}': no such file ({path})")
    return path.resolve()


def _check_hash(path: Path, expected: str | None, where: str, key: str) -> str:
    digest = sha256_file(path)
    if expected is not None and expected.lower() != digest:
        raise InputError(f"{where}: {path} has SHA-256 {digest}, but {key} = '{expected}': "
                         "the data file has changed")
    return digest


def load_file_dataset(opts: FileOptions, base_dir: Path, where: str) -> Dataset:
    """Load and validate the user's data file(s); see the module docstring."""
    if opts.path is None:
        raise InputError(f"{where}: kind = 'file' needs path = 'data.npz' or 'data.csv'")
    path = _resolve(opts.path, base_dir, where, "path")
    digest = _check_hash(path, opts.sha256, where, "sha256")
    test_path = test_digest = None
    suffix = path.suffix.lower()
    if suffix == ".npz":
        if opts.test_path is not None:
            raise InputError(f"{where}: test_path is for CSV files; put X_test and y_test "
                             f"into {path.name}")
        arrays = read_npz(path)
        x_raw, y_raw = arrays["X"], arrays["y"]
        xt_raw, yt_raw = arrays.get("X_test"), arrays.get("y_test")
        names = ("X", "y", "X_test", "y_test")
    elif suffix in (".csv", ".txt"):
        x_raw, y_raw = read_csv(path)
        xt_raw = yt_raw = None
        if opts.test_path is not None:
            test_path = _resolve(opts.test_path, base_dir, where, "test_path")
            test_digest = _check_hash(test_path, opts.test_sha256, where, "test_sha256")
            xt_raw, yt_raw = read_csv(test_path)
        names = ("features", "labels (last column)", "test features", "test labels")
    else:
        raise InputError(f"{where}: path = '{opts.path}': unknown data format '{suffix}' "
                         "(use .npz or .csv)")

    x = check_features(x_raw, names[0], str(path))
    if x.shape[0] == 0:
        raise InputError(f"{path}: no training examples")
    y = check_labels(y_raw, x.shape[0], names[1], str(path))
    tpath = str(test_path or path)
    if xt_raw is not None:
        xt = check_features(xt_raw, names[2], tpath)
        if xt.shape[1] != x.shape[1]:
            raise InputError(f"{tpath}: {names[2]} have {xt.shape[1]} features, the training "
                             f"set has {x.shape[1]}")
        yt = check_labels(yt_raw, xt.shape[0], names[3], tpath)
    else:
        xt = np.zeros((0, x.shape[1]))
        yt = np.zeros(0, dtype=np.int64)
    largest = int(max(y.max(), yt.max() if len(yt) else 0))
    n_classes = opts.n_classes if opts.n_classes is not None else largest + 1
    check_label_range(y, n_classes, names[1], str(path))
    check_label_range(yt, n_classes, names[3], tpath)
    if n_classes < 2:
        raise InputError(f"{path}: a classification data set needs at least 2 classes, "
                         f"found n_classes = {n_classes}")

    config = {"kind": "file", "path": str(path), "n_classes": int(n_classes),
              "sha256": digest}
    if test_path is not None:
        config["test_path"] = str(test_path)
        config["test_sha256"] = test_digest
    info = {"source": str(path), "sha256": digest}
    return assemble(x, y, xt, yt, n_classes=n_classes, name=f"file {path.name}",
                    config=config, info=info)
