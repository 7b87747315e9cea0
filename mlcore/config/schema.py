"""The machinery behind the input-file sections: typed, documented, validated settings.

Every section of an input file (``[mlgmin]``, ``[mlgmin.quench]``, ...) is a frozen
dataclass whose fields are declared with :func:`option`.  A field carries its default, its
meaning (the text of ``docs/input-files.md``) and its bounds, so that adding a key to a
section is one line in :mod:`mlcore.config.settings` and nothing else.

Supported field types: ``int``, ``float``, ``bool``, ``str``, the same with ``| None``
(TOML has no null: ``None`` means "not set", and the key is simply left out of the file),
``list[int]`` / ``list[float]`` / ``list[str]``, and another settings dataclass, which
becomes a sub-table (``[mlgmin.quench]`` or ``quench = { tol = 1e-6 }``).
"""
from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Callable, Iterable
from typing import Any

from mlcore.errors import InputError
from mlcore.validate import as_choice, as_float, as_int, check_keys

_MISSING = dataclasses.MISSING


def option(default: Any, doc: str, *, minimum: float | None = None,
           maximum: float | None = None, strict_min: bool = False,
           choices: Iterable[str] | None = None,
           check: Callable[[Any, str, str], Any] | None = None):
    """Declare one input-file key of a settings dataclass.

    Parameters
    ----------
    default : object
        The default value (``None``: not set).  A settings dataclass given as ``default``
        becomes a sub-table whose default is that class with its own defaults.
    doc : str
        One sentence: what the key means, with units.
    minimum, maximum : float, optional
        Bounds of numeric keys (inclusive; ``strict_min`` makes the lower bound strict).
    choices : iterable of str, optional
        Allowed values of a string key.
    check : callable, optional
        ``check(value, key, where)`` returns the validated value or raises
        :class:`InputError`; for values with their own syntax (executor specs).
    """
    meta = {"doc": doc, "minimum": minimum, "maximum": maximum, "strict_min": strict_min,
            "choices": tuple(choices) if choices is not None else None, "check": check}
    if isinstance(default, type) and dataclasses.is_dataclass(default):
        return dataclasses.field(default_factory=default, metadata=meta)
    if isinstance(default, list):
        frozen = tuple(default)
        return dataclasses.field(default=frozen, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def is_settings(obj) -> bool:
    """True for a settings dataclass (class or instance)."""
    return dataclasses.is_dataclass(obj)


def field_types(cls) -> dict[str, Any]:
    """Resolved annotations of a settings dataclass."""
    return typing.get_type_hints(cls)


def _split_optional(tp):
    """``(base_type, optional)`` for ``X | None`` / ``Optional[X]`` annotations."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(tp)) == 2:
            return args[0], True
    return tp, False


def type_name(tp) -> str:
    """Human name of a field type for messages and the documentation."""
    base, _ = _split_optional(tp)
    if typing.get_origin(base) in (list, tuple):
        inner = typing.get_args(base)[0]
        name = f"list of {inner.__name__}"
    elif dataclasses.is_dataclass(base):
        name = "table"
    else:
        name = {int: "integer", float: "float", bool: "boolean", str: "string"}[base]
    return name


def _from_string(text: str, base, key: str, where: str):
    """Coerce a command-line string to ``base`` (int, float, bool)."""
    try:
        if base is bool:
            low = text.strip().lower()
            if low in ("true", "yes", "1", "on"):
                return True
            if low in ("false", "no", "0", "off"):
                return False
            raise ValueError(text)
        if base is int:
            return int(text)
        if base is float:
            return float(text)
    except ValueError:
        article = "an" if base is int else "a"
        raise InputError(f"{where}: '{key}' must be {article} {type_name(base)}, got {text!r}") from None
    return text


def convert_value(value, tp, meta: dict, key: str, where: str, from_strings: bool = False):
    """Validate one value against its field type and bounds; return the typed value.

    ``from_strings`` allows strings for numeric and boolean keys (command-line overrides).
    """
    base, optional = _split_optional(tp)
    if value is None:
        if optional:
            return None
        raise InputError(f"{where}: '{key}' must be set")
    if from_strings and isinstance(value, str) and base in (int, float, bool):
        value = _from_string(value, base, key, where)
    lo, hi, strict = meta.get("minimum"), meta.get("maximum"), meta.get("strict_min", False)
    if base is bool:
        if not isinstance(value, bool):
            raise InputError(f"{where}: '{key}' must be true or false, got {value!r}")
    elif base is int:
        value = as_int(value, key, where,
                       None if lo is None else math.floor(lo) + 1 if strict else math.ceil(lo),
                       None if hi is None else math.floor(hi))
    elif base is float:
        value = as_float(value, key, where, lo, hi, strict)
    elif base is str:
        if not isinstance(value, str):
            raise InputError(f"{where}: '{key}' must be a string, got {value!r}")
        if meta.get("choices"):
            value = as_choice(value, key, where, meta["choices"])
    elif typing.get_origin(base) in (list, tuple):
        inner = typing.get_args(base)[0]
        if isinstance(value, str) and from_strings:
            value = [v for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise InputError(f"{where}: '{key}' must be a list of {type_name(inner)}, got {value!r}")
        value = tuple(convert_value(v, inner, meta, key, where, from_strings) for v in value)
    elif dataclasses.is_dataclass(base):
        if not isinstance(value, dict):
            raise InputError(f"{where}: '{key}' must be a table, got {value!r}")
        value = build_settings(base, value, _sub_where(where, key), from_strings)
    else:  # pragma: no cover - a programming error in a settings class
        raise TypeError(f"unsupported settings type {tp!r} for {key}")
    check = meta.get("check")
    if check is not None:
        value = check(value, key, where)
    return value


def _sub_where(where: str, key: str) -> str:
    """``file: [mlgmin]`` + ``quench`` -> ``file: [mlgmin.quench]``."""
    if where.endswith("]") and "[" in where:
        return where[:-1] + "." + key + "]"
    return f"{where} [{key}]"


def build_settings(cls, table: dict, where: str, from_strings: bool = False):
    """Build an instance of the settings dataclass ``cls`` from a TOML table.

    Unknown keys are refused with the nearest valid key; every value is checked for type
    and range; missing keys take their defaults.  ``where`` prefixes every message
    (``"run.toml: [mlgmin]"``).
    """
    if not isinstance(table, dict):
        raise InputError(f"{where} must be a table, got {table!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    check_keys(table, fields, where)
    hints = field_types(cls)
    values = {name: convert_value(value, hints[name], fields[name].metadata, name, where,
                                  from_strings)
              for name, value in table.items()}
    return _checked(cls(**values), where)


def _checked(settings, where: str):
    """Run the cross-key checks of a settings object (its ``check(where)`` method), if any."""
    check = getattr(settings, "check", None)
    if callable(check):
        check(where)
    return settings


def settings_to_dict(settings) -> dict:
    """Plain TOML-compatible dict of a settings object (``None`` values left out)."""
    out = {}
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        if value is None:
            continue
        if dataclasses.is_dataclass(value):
            value = settings_to_dict(value)
        elif isinstance(value, tuple):
            value = list(value)
        out[f.name] = value
    return out


def apply_settings_overrides(settings, overrides: dict, where: str):
    """A copy of ``settings`` with ``overrides`` applied (see :func:`mlcore.config.apply_overrides`)."""
    fields = {f.name: f for f in dataclasses.fields(settings)}
    hints = field_types(type(settings))
    nested: dict[str, dict] = {}
    changes = {}
    for key, value in overrides.items():
        if value is None:
            continue
        key = str(key).replace("-", "_")
        head, dot, rest = key.partition(".")
        check_keys({head: None}, fields, where)
        base, _ = _split_optional(hints[head])
        if dot:
            if not dataclasses.is_dataclass(base):
                raise InputError(f"{where}: '{head}' is not a table, cannot set '{key}'")
            nested.setdefault(head, {})[rest] = value
        elif dataclasses.is_dataclass(base) and isinstance(value, dict):
            nested.setdefault(head, {}).update(value)
        else:
            changes[head] = convert_value(value, hints[head], fields[head].metadata, head, where,
                                          from_strings=True)
    for head, sub in nested.items():
        changes[head] = apply_settings_overrides(getattr(settings, head), sub,
                                                 _sub_where(where, head))
    return _checked(dataclasses.replace(settings, **changes), where)


def iter_keys(cls, prefix: str = ""):
    """Yield ``(dotted_key, type, default, doc, meta)`` for every leaf key of ``cls``."""
    hints = field_types(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        base, _ = _split_optional(tp)
        if dataclasses.is_dataclass(base):
            yield from iter_keys(base, prefix + f.name + ".")
            continue
        default = f.default if f.default is not _MISSING else f.default_factory()
        yield prefix + f.name, tp, default, f.metadata.get("doc", ""), f.metadata
