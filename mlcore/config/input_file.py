"""Loading a TOML input file into validated, typed settings.

An input file holds the ``[system]`` table (the landscape, validated by the system
registry :func:`mlcore.systems.build_system` when the system is built) and one optional
section per program: ``[mlgmin]``, ``[mloptim]``, ``[mlpathsample]``, ``[mlanalyse]``.
A missing section means all defaults.  Every message names the file, the section and the
key; an unknown key also names the nearest valid one.
"""
from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlcore.config.schema import apply_settings_overrides, build_settings, settings_to_dict
from mlcore.config.settings import (
    PROGRAM_SECTIONS,
    MLAnalyseSettings,
    MLGminSettings,
    MLOptimSettings,
    MLPathsampleSettings,
)
from mlcore.errors import InputError
from mlcore.validate import check_keys

#: Top-level tables an input file may hold.
TOP_LEVEL_TABLES = ("system", *PROGRAM_SECTIONS)


@dataclass(frozen=True)
class InputFile:
    """A loaded input file.

    Attributes
    ----------
    path : Path
        The file, absolute (``Path("<string>")`` for text parsed with :func:`parse_input`).
    base_dir : Path
        Directory against which relative paths in the file are resolved.
    text : str
        The raw text of the file, stored with every run for provenance.
    system : dict
        The ``[system]`` table as written (``kind`` plus its parameters); an empty dict if
        the file has none.
    mlgmin, mloptim, mlpathsample, mlanalyse : settings dataclasses
        The typed settings of each program (defaults where the file is silent).
    sections : tuple of str
        The top-level tables present in the file, in file order.
    """

    path: Path
    base_dir: Path
    text: str
    system: dict = field(default_factory=dict)
    mlgmin: MLGminSettings = field(default_factory=MLGminSettings)
    mloptim: MLOptimSettings = field(default_factory=MLOptimSettings)
    mlpathsample: MLPathsampleSettings = field(default_factory=MLPathsampleSettings)
    mlanalyse: MLAnalyseSettings = field(default_factory=MLAnalyseSettings)
    sections: tuple = ()

    def resolve(self, path: str | Path) -> Path:
        """``path`` resolved against :attr:`base_dir` if relative."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else (self.base_dir / p)

    def settings(self, program: str):
        """The settings of ``program`` (``"mlgmin"``, ...)."""
        if program not in PROGRAM_SECTIONS:
            raise KeyError(program)
        return getattr(self, program)

    def default_output(self) -> Path:
        """The HDF5 file of this input: ``[mlgmin] output``, else the input name with ``.h5``."""
        if self.mlgmin.output:
            return self.resolve(self.mlgmin.output)
        return self.path.with_suffix(".h5")

    def as_dict(self) -> dict[str, Any]:
        """Every section with every value (defaults filled in), as plain TOML types."""
        out: dict[str, Any] = {"system": dict(self.system)}
        for name in PROGRAM_SECTIONS:
            out[name] = settings_to_dict(getattr(self, name))
        return out


_LINE_RE = re.compile(r"\(at line (\d+), column (\d+)\)")


def _syntax_error(exc: tomllib.TOMLDecodeError, label: str) -> InputError:
    """One-line error ``file:line: TOML syntax error: ...``."""
    msg = str(exc).splitlines()[0] if str(exc) else "invalid TOML"
    match = _LINE_RE.search(msg)
    line = getattr(exc, "lineno", None)
    if match:
        line = int(match.group(1))
        msg = _LINE_RE.sub("", msg).strip()
        msg = f"{msg} (column {match.group(2)})"
    where = f"{label}:{line}" if line else label
    return InputError(f"{where}: TOML syntax error: {msg}")


def parse_input(text: str, path: str | Path = "<string>",
                base_dir: str | Path | None = None) -> InputFile:
    """Parse and validate input-file ``text``; :func:`load_input` for files.

    Parameters
    ----------
    text : str
        TOML text.
    path : str or Path
        Name used in messages and stored as :attr:`InputFile.path`.
    base_dir : path, optional
        Directory for relative paths; default: the directory of ``path`` (or the current
        directory for ``"<string>"``).
    """
    path = Path(path)
    label = str(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(exc, label) from None
    check_keys(data, TOP_LEVEL_TABLES, f"{label}: top level")
    system = data.get("system", {})
    if not isinstance(system, dict):
        raise InputError(f"{label}: 'system' must be a table ([system])")
    if system and not isinstance(system.get("kind"), str):
        raise InputError(f"{label}: [system] needs kind = \"...\" (cluster, nn, regression, "
                         "pspin or python)")
    values: dict[str, Any] = {}
    for name, cls in PROGRAM_SECTIONS.items():
        table = data.get(name, {})
        if not isinstance(table, dict):
            raise InputError(f"{label}: '{name}' must be a table ([{name}])")
        values[name] = build_settings(cls, table, f"{label}: [{name}]")
    if base_dir is None:
        base_dir = Path.cwd() if label == "<string>" else path.parent
    return InputFile(path=path, base_dir=Path(base_dir), text=text, system=system,
                     sections=tuple(data), **values)


def load_input(path: str | Path) -> InputFile:
    """Load, parse and validate the TOML input file at ``path``.

    Raises
    ------
    InputError
        One line naming the file (and line, for syntax errors; section and key otherwise).
    """
    path = Path(path).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: input file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read input file: {exc}") from None
    return parse_input(text, path.resolve(), path.resolve().parent)


def apply_overrides(settings, section: str, overrides: dict):
    """Apply command-line options on top of the settings from the file.

    Parameters
    ----------
    settings : InputFile or settings dataclass
        An :class:`InputFile` (then ``section`` picks the program whose settings change and a
        new ``InputFile`` is returned) or one program's settings object (then ``section``
        only names it in messages and a new settings object is returned).
    section : str
        The program section, ``"mlgmin"``, ``"mloptim"``, ``"mlpathsample"`` or ``"mlanalyse"``.
    overrides : dict
        ``{key: value}``; keys of sub-tables are dotted (``"quench.tol"``) or given as a dict
        (``{"quench": {"tol": 1e-6}}``); dashes count as underscores (``"step-size"``).
        ``None`` values are ignored (an option not given on the command line), and strings
        are converted for numeric and boolean keys (``"--set steps=100"``).

    Returns
    -------
    The updated copy; the input is unchanged (settings are frozen).
    """
    where = f"command line: [{section}]"
    if isinstance(settings, InputFile):
        if section not in PROGRAM_SECTIONS:
            check_keys({section: None}, PROGRAM_SECTIONS, "command line")
        new = apply_settings_overrides(getattr(settings, section), overrides, where)
        return dataclasses.replace(settings, **{section: new})
    return apply_settings_overrides(settings, overrides, where)
