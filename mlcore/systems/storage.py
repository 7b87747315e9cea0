"""Storing a landscape in the HDF5 file and rebuilding it from there alone.

:func:`system_storage` gives the ``[system]`` table and the data arrays that the file keeps;
:func:`system_from_storage` rebuilds the identical landscape (bit-identical energies) from
them, without the input file or the original data source.  A system class may provide
``storage_arrays()`` and a classmethod ``from_storage(table, arrays, base_dir)``; without
them the table alone rebuilds it (``from_config``).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from mlcore.systems import system_class


def system_storage(system) -> tuple[dict, dict[str, np.ndarray]]:
    """The ``(config, arrays)`` pair that rebuilds ``system`` (see the module docstring)."""
    config = dict(system.config())
    arrays = dict(system.storage_arrays()) if hasattr(system, "storage_arrays") else {}
    return config, arrays


def system_from_storage(config: dict, arrays: dict | None = None,
                        base_dir: str | Path | None = None):
    """Rebuild the landscape from a stored ``[system]`` table and its arrays."""
    cls = system_class(config["kind"])
    table = {k: v for k, v in config.items() if k != "kind"}
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    if hasattr(cls, "from_storage"):
        return cls.from_storage(table, dict(arrays or {}), base)
    return cls.from_config(table, base)
