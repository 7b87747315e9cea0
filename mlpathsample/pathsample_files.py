"""PATHSAMPLE's database files: export from and import into the HDF5 stationary-point file.

The files (one directory; ids 1-based, line ``k`` of a ``.data`` file is entry ``k``)
----------------------------------------------------------------------------------
``min.data``
    One line per minimum: ``E  lnprod  order  Ix  Iy  Iz`` (energy; ln of the product of
    the non-zero Hessian eigenvalues; order of the point group; principal moments of
    inertia).  PATHSAMPLE and disconnectionDPS read it list-directed, six values a line.
``ts.data``
    One line per transition state: ``E  lnprod  order  min1  min2  Ix  Iy  Iz`` (lnprod:
    ln of the product of the *positive* eigenvalues; ``min1``/``min2`` the minima it joins).
``points.min``, ``points.ts``
    Coordinates: one record of ``ndim`` float64 values per entry, back to back, no record
    markers (PATHSAMPLE's Fortran direct-access unformatted files, record length
    ``8 * ndim`` bytes).  Those are written in the machine's native byte order, which is
    little-endian on the x86-64 and ARM machines PATHSAMPLE runs on; we always write and
    read little-endian (``<f8``), so files move between the two suites unchanged there.
    PATHSAMPLE expects ``ndim = 3 * NATOMS``; for a landscape whose dimension is not a
    multiple of three, set NATOMS in its ``pathdata`` to cover ``ndim`` (the records are
    still ``ndim`` values each).
``min.A``, ``min.B``
    First line the number of minima in the set, then their ids, one a line.

Numbers are written with Python's shortest round-trip representation (``repr`` of a
float: at most 17 significant digits, exponent form such as ``1.5e-07`` where shorter),
which Fortran list-directed input reads; reading them back gives the identical float64.
Unknown log products (NaN in the HDF5 file) are written as ``NaN`` (PATHSAMPLE cannot use
such entries; compute the Hessians first).  Every file is written atomically (a temporary
file renamed into place), so an interrupted export leaves no half-written file.

The moments of inertia are computed for ``cluster`` landscapes (unit masses, about the
centre of mass, ascending) and are zero for other landscapes; the HDF5 file does not store
them, so an import ignores them.
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

from mlcore.database import Database, DatabaseReader, atomic_output
from mlcore.errors import InputError

__all__ = [
    "export_pathsample",
    "import_pathsample",
    "principal_moments",
    "read_data_file",
    "read_id_set",
    "read_points",
]

#: Files written by :func:`export_pathsample`.
FILES = ("min.data", "ts.data", "points.min", "points.ts", "min.A", "min.B")


def _num(x: float) -> str:
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return repr(x)


def principal_moments(coords: np.ndarray) -> np.ndarray:
    """Principal moments of inertia of unit-mass atoms, ascending.

    Parameters
    ----------
    coords : ndarray, shape (3 N,)
        Atom positions ``x1, y1, z1, x2, ...``.

    Returns
    -------
    ndarray, shape (3,)
        Eigenvalues of ``sum_a (|r_a|^2 I - r_a r_a^T)`` about the centre of mass.
    """
    xyz = np.asarray(coords, dtype=np.float64).reshape(-1, 3)
    r = xyz - xyz.mean(axis=0)
    tensor = np.eye(3) * np.sum(r * r) - r.T @ r
    return np.linalg.eigvalsh(tensor)


def _moments(coords: np.ndarray, is_cluster: bool) -> np.ndarray:
    """(n, 3) moments of inertia of each row (zeros unless a cluster)."""
    out = np.zeros((coords.shape[0], 3))
    if is_cluster and coords.shape[1] % 3 == 0:
        for k in range(coords.shape[0]):
            out[k] = principal_moments(coords[k])
    return out


def _write_points(path: Path, coords: np.ndarray) -> None:
    with atomic_output(path, "wb") as fh:
        fh.write(np.ascontiguousarray(coords, dtype="<f8").tobytes())


def _write_ids(path: Path, ids) -> None:
    ids = [int(i) for i in ids]
    with atomic_output(path, "w") as fh:
        fh.write(f"{len(ids)}\n")
        for i in ids:
            fh.write(f"{i}\n")


def _check_set(ids, n: int, name: str) -> list[int]:
    if isinstance(ids, (int, np.integer)):
        ids = [ids]
    out = [int(i) for i in ids]
    for i in out:
        if not 1 <= i <= n:
            raise InputError(f"set {name}: minimum {i} does not exist (the file has minima 1..{n})")
    return out


def export_pathsample(path: str | Path, out_dir: str | Path, A=None, B=None) -> dict:
    """Write the minima and transition states of HDF5 file ``path`` as PATHSAMPLE files.

    Parameters
    ----------
    path : path-like
        The stationary-point file.
    out_dir : path-like
        Directory for the files (created if missing; existing files are replaced).
    A, B : iterable of int, optional
        1-based ids for ``min.A`` and ``min.B``.  Defaults: A = the global minimum,
        B = the next-lowest minimum (placeholders to edit; empty if there is none).

    Returns
    -------
    dict
        ``{"directory", "n_minima", "n_ts", "ndim", "files", "A", "B"}`` (JSON-safe).
    """
    reader = DatabaseReader(path)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    mins, ts = reader.minima(), reader.ts()
    n = reader.n_minima
    is_cluster = reader.system_config().get("kind") == "cluster"
    m_coords = np.asarray(mins["coords"], dtype=np.float64).reshape(n, reader.ndim)
    t_coords = np.asarray(ts["coords"], dtype=np.float64).reshape(reader.n_ts, reader.ndim)
    order = np.argsort(np.asarray(mins["energy"]), kind="stable") + 1
    A = [int(order[0])] if A is None and n else _check_set(A if A is not None else [], n, "A")
    B = [int(order[1])] if B is None and n > 1 else _check_set(B if B is not None else [], n, "B")

    inertia = _moments(m_coords, is_cluster)
    with atomic_output(out / "min.data", "w") as fh:
        for k in range(n):
            ix, iy, iz = inertia[k]
            fh.write(f"{_num(mins['energy'][k])} {_num(mins['log_product'][k])} "
                     f"{int(mins['symmetry_order'][k])} {_num(ix)} {_num(iy)} {_num(iz)}\n")
    inertia = _moments(t_coords, is_cluster)
    with atomic_output(out / "ts.data", "w") as fh:
        for k in range(reader.n_ts):
            ix, iy, iz = inertia[k]
            fh.write(f"{_num(ts['energy'][k])} {_num(ts['log_product'][k])} "
                     f"{int(ts['symmetry_order'][k])} {int(ts['min1'][k])} "
                     f"{int(ts['min2'][k])} {_num(ix)} {_num(iy)} {_num(iz)}\n")
    _write_points(out / "points.min", m_coords)
    _write_points(out / "points.ts", t_coords)
    _write_ids(out / "min.A", A)
    _write_ids(out / "min.B", B)
    return {"directory": str(out), "n_minima": int(n), "n_ts": int(reader.n_ts),
            "ndim": int(reader.ndim), "files": list(FILES), "A": A, "B": B}


# ============================================================================ reading
def read_data_file(path: str | Path, n_columns: int) -> list[list[str]]:
    """The first ``n_columns`` fields of every non-blank line of ``min.data``/``ts.data``.

    Files from PATHSAMPLE may lack the inertia columns; at least the leading columns that
    carry data (3 for ``min.data``, 5 for ``ts.data``) must be there.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    rows = []
    for lineno, line in enumerate(text.splitlines(), 1):
        fields = line.replace(",", " ").split()
        if not fields:
            continue
        if len(fields) < n_columns:
            raise InputError(f"{path}:{lineno}: expected at least {n_columns} columns, "
                             f"found {len(fields)}")
        rows.append(fields[:n_columns])
    return rows


def _float(text: str, where: str) -> float:
    try:
        return float(text.replace("D", "E").replace("d", "e"))   # Fortran double exponents
    except ValueError:
        raise InputError(f"{where}: not a number: {text!r}") from None


def _int(text: str, where: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InputError(f"{where}: not an integer: {text!r}") from None


def read_points(path: str | Path, count: int, ndim: int) -> np.ndarray:
    """``count`` records of ``ndim`` little-endian float64 values from ``points.min/.ts``."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    expected = count * ndim * 8
    if len(raw) != expected:
        raise InputError(f"{path}: holds {len(raw)} bytes, expected {expected} "
                         f"({count} records of {ndim} float64 values)")
    return np.frombuffer(raw, dtype="<f8").reshape(count, ndim).astype(np.float64)


def read_id_set(path: str | Path) -> list[int]:
    """Ids of ``min.A`` / ``min.B`` (first line the count)."""
    path = Path(path)
    fields = path.read_text().split()
    if not fields:
        return []
    count = _int(fields[0], f"{path}:1")
    ids = [_int(f, str(path)) for f in fields[1:1 + count]]
    if len(ids) != count:
        raise InputError(f"{path}: says {count} ids but holds {len(ids)}")
    return ids


def import_pathsample(directory: str | Path, out_path: str | Path, input_file: str | Path,
                      *, overwrite: bool = False, argv: list[str] | None = None
                      ) -> tuple[int, int]:
    """Build a new HDF5 file from PATHSAMPLE files (the inverse of :func:`export_pathsample`).

    Parameters
    ----------
    directory : path-like
        Holds ``min.data``, ``ts.data``, ``points.min``, ``points.ts``.
    out_path : path-like
        The new ``.h5`` file (an existing one is an InputError unless ``overwrite``).
    input_file : path-like
        TOML input file whose ``[system]`` table defines the landscape (and its ``ndim``).
    argv : list of str, optional
        Command line recorded with the import run.

    Returns
    -------
    (int, int)
        Numbers of minima and transition states imported.  Ids are kept 1:1 (no merging
        of identical entries); log products, orders, ``min1``/``min2`` and the coordinates
        (bitwise) are as in the files; Hessian counts are unknown (-1) and TS negative
        eigenvalues NaN.
    """
    from mlcore.config import load_input
    from mlcore.systems import build_system
    from mlcore.systems.storage import system_storage

    directory = Path(directory)
    inp = load_input(input_file)
    if not inp.system:
        raise InputError(f"{input_file}: needs a [system] table (the landscape of the files)")
    system = build_system(inp.system, inp.base_dir)
    ndim = int(system.ndim)
    mrows = read_data_file(directory / "min.data", 3)
    trows = read_data_file(directory / "ts.data", 5)
    n_min, n_ts = len(mrows), len(trows)
    m_coords = read_points(directory / "points.min", n_min, ndim)
    t_coords = read_points(directory / "points.ts", n_ts, ndim)
    minima = []
    for k, row in enumerate(mrows):
        where = f"{directory / 'min.data'}:{k + 1}"
        minima.append((_float(row[0], where), _float(row[1], where), _int(row[2], where)))
    tss = []
    for k, row in enumerate(trows):
        where = f"{directory / 'ts.data'}:{k + 1}"
        m1, m2 = _int(row[3], where), _int(row[4], where)
        for m in (m1, m2):
            if not 1 <= m <= n_min:
                raise InputError(f"{where}: minimum {m} does not exist (min.data has "
                                 f"{n_min} minima)")
        tss.append((_float(row[0], where), _float(row[1], where), _int(row[2], where), m1, m2))

    config, arrays = system_storage(system)
    with Database.create(out_path, config, arrays, ndim=ndim, overwrite=overwrite,
                         identity=_never_same, energy_tol=0.0,
                         program="mlpathsample") as db:
        db.begin_run("mlpathsample", argv if argv is not None else list(sys.argv),
                     input_text=inp.text)
        for k, (e, lp, order) in enumerate(minima):
            got, new = db.add_minimum(e, m_coords[k], log_product=lp, symmetry_order=order,
                                      step=-1)
            if got != k + 1 or not new:          # cannot happen with _never_same
                raise RuntimeError(f"minimum {k + 1} was stored as {got}")
        for k, (e, lp, order, m1, m2) in enumerate(tss):
            got, new = db.add_ts(e, t_coords[k], m1, m2, log_product=lp,
                                 symmetry_order=order)
            if got != k + 1 or not new:
                raise RuntimeError(f"transition state {k + 1} was stored as {got}")
        db.end_run(message=f"imported {n_min} minima and {n_ts} transition states "
                           f"from {directory}")
    return n_min, n_ts


def _never_same(e1, c1, e2, c2) -> bool:
    """Identity test of an import: every entry is new (ids stay 1:1 with the files)."""
    return False
