"""User-supplied landscapes: a Python class named in the ``[system]`` table (SPEC 2.5).

    [system]
    kind = "python"
    target = "path/to/file.py:ClassName"      # or "package.module:ClassName"
    params = { width = 2.0 }

The class provides ``ndim``, ``energy(x)`` and ``energy_gradient(x)`` returning
``(energy, gradient)``; optionally ``hessian(x)``, ``hessian_vector(x, v)``,
``random_coords(rng)``, ``n_zero_modes``, ``align(x_ref, x)`` and ``distance(x1, x2)``.
What is missing is derived numerically (central differences) or takes the flat default.
Importing user code is the only way an input file runs code, and it is explicit.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

import numpy as np

from mlcore.errors import InputError
from mlcore.landscape import System, as_coords
from mlcore.validate import check_keys

_ALLOWED_KEYS = ("target", "params", "energy_tol", "distance_tol")


def load_target(target: str, base_dir: Path):
    """Import ``path/to/file.py:Class`` or ``package.module:Class`` and return the class."""
    if not isinstance(target, str) or ":" not in target:
        raise InputError(f"[system] target = {target!r} must look like 'file.py:Class' "
                         "or 'package.module:Class'")
    module_part, cls_name = target.rsplit(":", 1)
    if module_part.endswith(".py") or "/" in module_part or "\\" in module_part:
        path = Path(module_part)
        if not path.is_absolute():
            path = (base_dir / path).resolve()
        if not path.is_file():
            raise InputError(f"[system] target file '{path}' does not exist")
        mod_name = f"mlcore_user_{abs(hash(str(path)))}"
        if mod_name in sys.modules:
            module = sys.modules[mod_name]
        else:
            spec = importlib.util.spec_from_file_location(mod_name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[mod_name] = module
            try:
                spec.loader.exec_module(module)
            except Exception as exc:  # user code: report, do not hide
                del sys.modules[mod_name]
                raise InputError(f"[system] importing '{path}' failed: "
                                 f"{type(exc).__name__}: {exc}") from exc
    else:
        try:
            module = importlib.import_module(module_part)
        except ImportError as exc:
            raise InputError(f"[system] cannot import module '{module_part}': {exc}") from exc
    if not hasattr(module, cls_name):
        raise InputError(f"[system] '{module_part}' has no class '{cls_name}'")
    return getattr(module, cls_name)


def _absolute_target(target: str, base_dir: Path) -> str:
    """``target`` with a relative file path made absolute, so the stored table rebuilds the
    landscape from anywhere."""
    module_part, cls_name = target.rsplit(":", 1)
    if module_part.endswith(".py") or "/" in module_part or "\\" in module_part:
        path = Path(module_part)
        if not path.is_absolute():
            path = (base_dir / path).resolve()
        return f"{path}:{cls_name}"
    return target


class PythonSystem(System):
    """Wrap a user's landscape object so that every program can use it.

    Parameters
    ----------
    obj : object
        An instance with ``ndim`` and ``energy_gradient(x)``.
    target : str, optional
        The import target, stored so that the landscape can be rebuilt.
    params : dict, optional
        The constructor parameters, stored likewise.
    """

    kind = "python"

    def __init__(self, obj, target: str | None = None, params: dict | None = None,
                 energy_tol: float | None = None, distance_tol: float | None = None):
        for name in ("ndim", "energy_gradient"):
            if not hasattr(obj, name):
                raise InputError(f"user landscape {type(obj).__name__} has no '{name}'")
        self.obj = obj
        self.ndim = int(obj.ndim)
        self.target = target
        self.params = dict(params or {})
        self.n_zero_modes = int(getattr(obj, "n_zero_modes", 0))
        if energy_tol is not None:
            self.energy_tol = float(energy_tol)
        if distance_tol is not None:
            self.distance_tol = float(distance_tol)

    @classmethod
    def from_config(cls, table: dict, base_dir: Path):
        """Build from the ``[system]`` table (without ``kind``)."""
        check_keys(table, _ALLOWED_KEYS, "[system] (kind = 'python')")
        if "target" not in table:
            raise InputError("[system] kind = 'python' needs target = 'file.py:Class'")
        params = table.get("params", {})
        if not isinstance(params, dict):
            raise InputError("[system] params must be a table")
        user_cls = load_target(table["target"], base_dir)
        try:
            obj = user_cls(**params)
        except TypeError as exc:
            raise InputError(f"[system] {table['target']}: bad params: {exc}") from exc
        target = _absolute_target(table["target"], base_dir)
        return cls(obj, target=target, params=params,
                   energy_tol=table.get("energy_tol"), distance_tol=table.get("distance_tol"))

    def energy(self, coords) -> float:
        x = as_coords(coords, self.ndim)
        if hasattr(self.obj, "energy"):
            return float(self.obj.energy(x))
        return float(self.obj.energy_gradient(x)[0])

    def energy_gradient(self, coords, out=None):
        x = as_coords(coords, self.ndim)
        e, g = self.obj.energy_gradient(x)
        g = np.asarray(g, dtype=np.float64).reshape(-1)
        if out is not None:
            out[:] = g
            g = out
        return float(e), g

    def hessian(self, coords, out=None):
        if hasattr(self.obj, "hessian"):
            h = np.asarray(self.obj.hessian(as_coords(coords, self.ndim)), dtype=np.float64)
        else:
            h = super().hessian(coords)
        if out is not None:
            out[:] = h
            return out
        return h

    def hessian_vector(self, coords, vec, out=None):
        if hasattr(self.obj, "hessian_vector"):
            hv = np.asarray(self.obj.hessian_vector(as_coords(coords, self.ndim),
                                                    as_coords(vec, self.ndim)), dtype=np.float64)
        elif hasattr(self.obj, "hessian"):
            hv = self.hessian(coords) @ as_coords(vec, self.ndim)
        else:
            hv = super().hessian_vector(coords, vec)
        if out is not None:
            out[:] = hv
            return out
        return hv

    def random_coords(self, rng):
        if hasattr(self.obj, "random_coords"):
            return as_coords(self.obj.random_coords(rng), self.ndim)
        return super().random_coords(rng)

    def align(self, coords_ref, coords):
        if hasattr(self.obj, "align"):
            d, x = self.obj.align(as_coords(coords_ref, self.ndim), as_coords(coords, self.ndim))
            return float(d), as_coords(x, self.ndim)
        if hasattr(self.obj, "distance"):
            x = as_coords(coords, self.ndim).copy()
            return float(self.obj.distance(as_coords(coords_ref, self.ndim), x)), x
        return super().align(coords_ref, coords)

    def config(self):
        if self.target is None:
            raise ValueError("this user landscape was not built from a target and cannot be stored")
        table = {"kind": "python", "target": self.target, "params": dict(self.params)}
        return table
