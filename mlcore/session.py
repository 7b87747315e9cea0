"""Opening a stationary-point file with the landscape it was made for.

Programs after ``mlgmin`` get everything from the file: the landscape is rebuilt from the
stored ``[system]`` table and data, and their settings come from ``--input FILE.toml`` if
given, else from the input file stored with the file's first run, else the defaults.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

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


def _minimum_energies(reader) -> np.ndarray:
    return np.asarray(reader.minima()["energy"], dtype=float)


def minimum_id(reader, token, what: str = "minimum") -> int:
    """The 1-based id named by ``token``: an integer or ``gm`` (the global minimum).

    Raises
    ------
    InputError
        The token is neither, or names no stored minimum (one line naming ``what``).
    """
    text = str(token).strip().lower()
    if text == "gm":
        energies = _minimum_energies(reader)
        if not len(energies):
            raise InputError(f"{what} gm does not exist: the file has no minima")
        return int(np.argmin(energies)) + 1
    try:
        value = int(text)
    except ValueError:
        raise InputError(f"{what} {token!r}: give a minimum id (1, 2, ...) or gm") from None
    return check_minimum_id(reader, value, what)


def minimum_ids(reader, text: str, what: str = "--A") -> list[int]:
    """The 1-based ids of a set of minima written as ``text``.

    ``text`` is a list separated by commas or spaces of: ids (``5``), ``gm``, ranges
    (``3-7``, both ends included) and ``lowest:K`` (the K lowest minima by energy).  Ids are
    returned sorted, each once.

    Raises
    ------
    InputError
        An item that is none of these, an id or range outside the file, or an empty list.
    """
    items = str(text).replace(",", " ").split()
    if not items:
        raise InputError(f"{what} is empty: give minimum ids like 1,2,5, 3-7, gm or lowest:4")
    n = reader.n_minima
    ids: set[int] = set()
    for item in items:
        low = item.lower()
        if low.startswith("lowest:"):
            count = low.split(":", 1)[1]
            if not count.isdigit() or int(count) < 1:
                raise InputError(f"{what} {item!r}: lowest:K needs a whole number K >= 1")
            if int(count) > n:
                raise InputError(f"{what} {item!r}: the file has only {n} minima")
            order = np.argsort(_minimum_energies(reader), kind="stable")
            ids.update(int(i) + 1 for i in order[:int(count)])
        elif "-" in low.strip("-"):
            first, _, last = low.partition("-")
            if not (first.isdigit() and last.isdigit()) or int(first) > int(last):
                raise InputError(f"{what} {item!r}: a range is FIRST-LAST with FIRST <= LAST")
            check_minimum_id(reader, int(first), f"{what} {item}:")
            check_minimum_id(reader, int(last), f"{what} {item}:")
            ids.update(range(int(first), int(last) + 1))
        else:
            try:
                ids.add(minimum_id(reader, item, what))
            except InputError as exc:
                if "give a minimum id" in str(exc):
                    raise InputError(f"{what} {item!r}: give minimum ids like 1,2,5, 3-7, gm "
                                     "or lowest:4") from None
                raise
    return sorted(ids)


def check_minimum_id(reader, min_id: int, what: str = "minimum") -> int:
    """``min_id`` if it is a stored minimum (1-based), else an InputError naming the range."""
    n = reader.n_minima
    if not 1 <= int(min_id) <= n:
        raise InputError(f"{what} {min_id} does not exist: the file has minima 1..{n}"
                         if n else f"{what} {min_id} does not exist: the file has no minima")
    return int(min_id)
