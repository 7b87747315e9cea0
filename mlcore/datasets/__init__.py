"""Data sets of the ML landscapes (SPEC section 3): triatomic, MNIST, the user's files, and
inputs of any of them labelled by a teacher network.

>>> from mlcore.datasets import load_dataset
>>> data = load_dataset({"kind": "triatomic", "n_train": 500, "n_test": 500}, ".")  # doctest: +SKIP
>>> data.x_train.shape, data.y_train[:5], data.info["class_counts"]                # doctest: +SKIP

Every :class:`Dataset` carries the table that rebuilds it (``config``) and the arrays the
HDF5 file stores (``arrays``), from which :func:`restore_dataset` rebuilds it without the
original source.  The keys of each kind live in :mod:`mlcore.datasets.options`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from mlcore.config.schema import build_settings
from mlcore.datasets.base import Dataset, assemble
from mlcore.datasets.cache import cache_dir
from mlcore.datasets.options import (
    DATASET_OPTIONS,
    FileOptions,
    MnistOptions,
    TeacherOptions,
    TriatomicOptions,
)
from mlcore.errors import InputError
from mlcore.validate import as_choice

#: Every kind a data table may name.
DATASET_KINDS = ("triatomic", "mnist", "file", "teacher")

__all__ = [
    "DATASET_KINDS",
    "DATASET_OPTIONS",
    "Dataset",
    "FileOptions",
    "MnistOptions",
    "TeacherOptions",
    "TriatomicOptions",
    "cache_dir",
    "load_dataset",
    "restore_dataset",
]


def load_dataset(table: dict, base_dir: str | Path | None = None, *,
                 where: str = "[data]") -> Dataset:
    """Build the data set a data table describes.

    Parameters
    ----------
    table : dict
        ``kind`` (``"triatomic"``, ``"mnist"``, ``"file"``, ``"teacher"``) and that kind's
        keys (:mod:`mlcore.datasets.options`, ``docs/input-files.md``).
    base_dir : path, optional
        Directory against which relative paths are resolved (the input file's); default
        the current directory.
    where : str
        Names the table in error messages (e.g. ``"run.toml: [system.data]"``).

    Returns
    -------
    Dataset

    Raises
    ------
    InputError
        Unknown kind or key (with the nearest valid one), bad values, unreadable or
        invalid data files, a ``teacher`` without a usable ``source`` table.
    """
    if not isinstance(table, dict):
        raise InputError(f"{where} must be a table with a 'kind', got {table!r}")
    if "kind" not in table:
        raise InputError(f"{where} needs kind = one of {', '.join(DATASET_KINDS)}")
    kind = as_choice(table["kind"], "kind", where, DATASET_KINDS)
    where_kind = f"{where} (kind = '{kind}')"
    params = {k: v for k, v in table.items() if k != "kind"}
    base_dir = Path.cwd() if base_dir is None else Path(base_dir)
    source = params.pop("source", None) if kind == "teacher" else None
    opts = build_settings(DATASET_OPTIONS[kind], params, where_kind)
    if kind == "teacher":
        from mlcore.datasets.teacher import load_teacher_dataset

        return load_teacher_dataset(opts, source, base_dir, where_kind)
    if kind == "triatomic":
        from mlcore.datasets.triatomic import load_triatomic_dataset

        return load_triatomic_dataset(opts, base_dir, where_kind)
    if kind == "mnist":
        from mlcore.datasets.mnist import load_mnist_dataset

        return load_mnist_dataset(opts, base_dir, where_kind)
    from mlcore.datasets.file_data import load_file_dataset

    return load_file_dataset(opts, base_dir, where_kind)


def restore_dataset(config: dict, arrays: dict, name: str | None = None,
                    info: dict | None = None) -> Dataset:
    """Rebuild a data set from its stored ``config`` and ``arrays`` (no source needed).

    The inputs are scaled by the same code as :func:`load_dataset`, so
    the result is bit-identical to the data set that was stored.
    """
    kind = config.get("kind")
    targets = kind == "teacher"            # real-valued target vectors, not labels
    n_classes = {"triatomic": 4, "mnist": 10}.get(kind, config.get("n_classes"))
    if targets:
        n_classes = int(np.shape(arrays["y_train"])[1])
    elif n_classes is None:
        n_classes = int(max(np.max(arrays["y_train"], initial=0),
                            np.max(arrays["y_test"], initial=0))) + 1
    extra = {k: v for k, v in arrays.items()
             if k not in ("x_train", "y_train", "x_test", "y_test", "x_divisor")}
    return assemble(arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"],
                    n_classes=int(n_classes), name=name or f"{kind} (restored)", config=dict(config),
                    divisor=float(arrays.get("x_divisor", 1.0)),
                    extra_arrays=extra,
                    info=info, targets=targets)
