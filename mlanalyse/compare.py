"""Several stationary-point files side by side: one row per file (``mlanalyse compare``).

For a study that runs one landscape per setting (students of several sizes, networks with
3-6 hidden nodes) the table gives, per file: its label, the landscape, its number of
parameters, minima and transition states, the lowest minimum (id and energy), and for
classifying networks the fraction of test inputs the global minimum misclassifies.  Written
as CSV or JSON; optionally a bar chart of the lowest energies.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from mlcore.errors import InputError

COLUMNS = ("label", "file", "landscape", "ndim", "n_minima", "n_ts", "global_minimum_id",
           "lowest_energy", "test_misclassification")


def describe_landscape(config: dict) -> str:
    """A short name of a stored ``[system]`` table (``nn 3 hidden on teacher``)."""
    kind = config.get("kind", "?")
    if kind == "nn":
        data = config.get("data", {}) or {}
        return f"nn {config.get('hidden')} hidden on {data.get('kind', 'arrays')}"
    if kind == "cluster":
        return f"cluster of {config.get('natoms')} atoms"
    if kind == "pspin":
        return f"{config.get('p')}-spin, N = {config.get('n')}"
    return str(kind)


def compare_row(path, label: str | None = None) -> dict:
    """The row of one file (see :data:`COLUMNS`)."""
    from mlcore.database import DatabaseReader

    path = Path(path)
    reader = DatabaseReader(path)
    config = reader.system_config()
    gm = reader.global_minimum()
    row = {"label": label or path.stem, "file": str(path),
           "landscape": describe_landscape(config), "ndim": int(reader.ndim),
           "n_minima": int(reader.n_minima), "n_ts": int(reader.n_ts),
           "global_minimum_id": None if gm is None else int(gm[0]),
           "lowest_energy": None if gm is None else float(gm[1]),
           "test_misclassification": None}
    if gm is not None and config.get("kind") == "nn" \
            and (config.get("data", {}) or {}).get("kind") != "teacher":
        from mlcore.session import load_system

        _, system = load_system(path)
        if getattr(system, "x_test", None) is not None and len(system.x_test):
            row["test_misclassification"] = system.error_rate(reader.minimum(gm[0])["coords"])
    return row


def compare(paths, labels=None) -> list[dict]:
    """Rows of :func:`compare_row` for every file, in the order given."""
    paths = list(paths)
    if not paths:
        raise InputError("compare: give at least one file")
    if labels is not None and len(labels) != len(paths):
        raise InputError(f"compare: {len(labels)} --label given for {len(paths)} files")
    return [compare_row(p, None if labels is None else labels[k]) for k, p in enumerate(paths)]


def write_csv(rows: list[dict], stream) -> None:
    """The rows as CSV (empty cells for undefined values) on an open text stream."""
    import csv

    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(["" if row[c] is None else repr(row[c]) if isinstance(row[c], float)
                         else row[c] for c in COLUMNS])


def write_table(rows: list[dict], out_path) -> None:
    """CSV (``.csv``) or JSON (``.json``), written atomically."""
    from mlcore.database import atomic_output

    suffix = Path(out_path).suffix.lower()
    if suffix not in (".csv", ".json"):
        raise InputError(f"-o {out_path}: the table must end in .csv or .json")
    with atomic_output(out_path) as fh:
        if suffix == ".json":
            json.dump(rows, fh, indent=2)
            fh.write("\n")
        else:
            write_csv(rows, fh)


def plot_lowest(rows: list[dict], out_path, title: str | None = None) -> None:
    """Bar chart of the lowest energy of each file (log scale when they span decades)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mlcore.database import atomic_path

    values = np.array([np.nan if r["lowest_energy"] is None else r["lowest_energy"]
                       for r in rows])
    fig, ax = plt.subplots(figsize=(max(4.0, 1.2 * len(rows) + 2.0), 4.0))
    positions = np.arange(len(rows))
    ax.bar(positions, np.nan_to_num(values, nan=0.0), color="tab:blue")
    ax.set_xticks(positions, [r["label"] for r in rows], rotation=20, ha="right")
    ax.set_ylabel("lowest energy found (cost)")
    finite = values[np.isfinite(values)]
    if len(finite) and finite.min() > 0 and finite.max() / finite.min() > 100:
        ax.set_yscale("log")
    for x, v in zip(positions, values):
        if math.isfinite(v):
            ax.annotate(f"{v:.3g}", (x, v), ha="center", va="bottom", fontsize=8)
    ax.set_title(title or "lowest minimum of each landscape")
    fig.tight_layout()
    with atomic_path(out_path) as tmp:
        fig.savefig(tmp, format=Path(out_path).suffix.lstrip(".").lower(), dpi=150)
    plt.close(fig)
