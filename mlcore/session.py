"""Opening a stationary-point file with the landscape it was made for.

Programs after ``mlgmin`` get everything from the file: the landscape is rebuilt from the
stored ``[system]`` table and data, and their settings come from ``--input FILE.toml`` if
given, else from the input file stored with the file's first run, else the defaults.
"""
from __future__ import annotations

from pathlib import Path

from mlcore.errors import InputError


def load_system(path: str | Path):
    """``(reader, system)``: a reader of the file and the landscape rebuilt from it."""
    from mlcore.database import DatabaseReader
    from mlcore.systems.storage import system_from_storage

    reader = DatabaseReader(path)
    system = system_from_storage(reader.system_config(), reader.system_arrays(),
                                 base_dir=Path(path).resolve().parent)
    return reader, system


def stored_input(reader, path: str | Path):
    """The input file stored with the first run that has one, parsed; None if none."""
    from mlcore.config import parse_input

    runs = reader.runs()
    for row in range(len(runs)):
        text = runs["input_text"][row]
        if text:
            return parse_input(text, path=f"{path} (stored input of run {row + 1})",
                               base_dir=Path(path).resolve().parent)
    return None


def program_settings(program: str, reader, path, input_file: str | Path | None = None):
    """Settings of ``program``: from ``input_file``, else the stored input, else defaults."""
    from mlcore.config import load_input
    from mlcore.config.settings import PROGRAM_SECTIONS  # noqa: F401  (validates the name)

    if input_file is not None:
        return load_input(input_file).settings(program), Path(input_file).read_text()
    inp = stored_input(reader, path)
    if inp is not None:
        return inp.settings(program), inp.text
    from mlcore.config import parse_input

    return parse_input("").settings(program), ""


def check_minimum_id(reader, min_id: int, what: str = "minimum") -> int:
    """``min_id`` if it is a stored minimum (1-based), else an InputError naming the range."""
    n = reader.n_minima
    if not 1 <= int(min_id) <= n:
        raise InputError(f"{what} {min_id} does not exist: the file has minima 1..{n}"
                         if n else f"{what} {min_id} does not exist: the file has no minima")
    return int(min_id)
