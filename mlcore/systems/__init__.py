"""The system registry: build a landscape from the ``[system]`` table of an input file.

Each kind maps to a factory ``from_config(table, base_dir)`` in its own module, imported
lazily so that loading one kind does not import the others.
"""
from __future__ import annotations

import importlib
from pathlib import Path

from mlcore.errors import InputError

#: kind -> "module:Class"; each class has ``from_config(table, base_dir)``.
SYSTEM_KINDS = {
    "cluster": "mlcore.systems.cluster:ClusterSystem",
    "nn": "mlcore.systems.nn:NNSystem",
    "regression": "mlcore.systems.regression:RegressionSystem",
    "pspin": "mlcore.systems.pspin:PSpinSystem",
    "python": "mlcore.systems.python_class:PythonSystem",
}


def system_class(kind: str):
    """The class that implements ``kind``; an :class:`InputError` names unknown kinds."""
    if kind not in SYSTEM_KINDS:
        from difflib import get_close_matches

        near = get_close_matches(str(kind), SYSTEM_KINDS, n=1)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        raise InputError(f"[system] kind = '{kind}' is unknown{hint}; "
                         f"valid kinds: {', '.join(SYSTEM_KINDS)}")
    module_name, cls_name = SYSTEM_KINDS[kind].split(":")
    return getattr(importlib.import_module(module_name), cls_name)


def build_system(table: dict, base_dir: str | Path | None = None):
    """Build the landscape that the ``[system]`` table describes.

    Parameters
    ----------
    table : dict
        The ``[system]`` table; ``kind`` selects the landscape, the other keys are its
        parameters.
    base_dir : path, optional
        Directory against which relative paths in the table are resolved (the input
        file's directory).
    """
    if "kind" not in table:
        raise InputError("[system] needs a 'kind' (one of: " + ", ".join(SYSTEM_KINDS) + ")")
    cls = system_class(table["kind"])
    params = {k: v for k, v in table.items() if k != "kind"}
    return cls.from_config(params, Path(base_dir) if base_dir is not None else Path.cwd())
