"""Small validation helpers shared by every input-file table and system factory.

Each raises :class:`mlcore.errors.InputError` with a one-line message that names the key,
the table it sits in and, for unknown keys, the nearest valid key.
"""
from __future__ import annotations

from difflib import get_close_matches
from typing import Iterable

from mlcore.errors import InputError


def check_keys(table: dict, allowed: Iterable[str], where: str) -> None:
    """Refuse keys of ``table`` not in ``allowed``; ``where`` names the table (e.g. ``[system]``)."""
    allowed = list(allowed)
    for key in table:
        if key not in allowed:
            near = get_close_matches(str(key), allowed, n=1, cutoff=0.5)
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            raise InputError(f"{where}: unknown key '{key}'{hint}; valid keys: {', '.join(allowed)}")


def require(table: dict, key: str, where: str):
    """The value of a required key, or an error naming it."""
    if key not in table:
        raise InputError(f"{where}: missing required key '{key}'")
    return table[key]


def as_int(value, key: str, where: str, minimum: int | None = None,
           maximum: int | None = None) -> int:
    """``value`` as an int within bounds, or an error naming ``key``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{where}: '{key}' must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise InputError(f"{where}: '{key}' = {value} must be >= {minimum}")
    if maximum is not None and value > maximum:
        raise InputError(f"{where}: '{key}' = {value} must be <= {maximum}")
    return int(value)


def as_float(value, key: str, where: str, minimum: float | None = None,
             maximum: float | None = None, strict_min: bool = False) -> float:
    """``value`` as a finite float within bounds, or an error naming ``key``."""
    import math

    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{where}: '{key}' must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise InputError(f"{where}: '{key}' must be finite, got {value!r}")
    if minimum is not None and (value <= minimum if strict_min else value < minimum):
        raise InputError(f"{where}: '{key}' = {value} must be {'>' if strict_min else '>='} {minimum}")
    if maximum is not None and value > maximum:
        raise InputError(f"{where}: '{key}' = {value} must be <= {maximum}")
    return value


def as_choice(value, key: str, where: str, choices: Iterable[str]) -> str:
    """``value`` as one of ``choices``, or an error naming ``key`` and the choices."""
    choices = list(choices)
    if value not in choices:
        near = get_close_matches(str(value), choices, n=1)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        raise InputError(f"{where}: '{key}' = {value!r} is not one of {', '.join(choices)}{hint}")
    return value
