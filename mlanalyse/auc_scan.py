"""ROC AUC against the step s from convergence (SPEC section 6, item 1).

For each s the triatomic network of a template input file is built on the two-distance
features ``steps_from_end = s`` (r12, r13 of the configuration s steps before convergence),
basin-hopping finds its minima (one file per s, ``DIR/s{s:03d}.h5``), and the test-set
macro AUC (:mod:`mlanalyse.classification`) of the global minimum and of the best local
minimum is recorded.  A file already there is resumed (or, finished, reused), so an
interrupted scan continues where it stopped.
"""
from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import numpy as np

from mlcore.errors import InputError

COLUMNS = ("s", "n_minima", "global_minimum_energy", "auc_global_minimum",
           "best_local_id", "auc_best_local")


def parse_s_values(text: str) -> list[int]:
    """``"1:80"`` (inclusive), ``"1:80:5"`` or ``"1,5,10"`` as a list of positive ints."""
    try:
        if ":" in text:
            parts = [int(p) for p in text.split(":")]
            if len(parts) not in (2, 3):
                raise ValueError
            step = parts[2] if len(parts) == 3 else 1
            values = list(range(parts[0], parts[1] + 1, step))
        else:
            values = [int(p) for p in text.replace(" ", "").split(",") if p]
    except ValueError:
        raise InputError(f"--s {text!r}: give FIRST:LAST[:STEP] or a list like 1,5,10") from None
    if not values or min(values) < 0:
        raise InputError(f"--s {text!r}: needs at least one value, none negative")
    return values


def scan_input(inp, s: int):
    """The input file ``inp`` with its triatomic data on ``steps_from_end = s``."""
    data = inp.system.get("data") if inp.system else None
    if inp.system.get("kind") != "nn" or not isinstance(data, dict) \
            or data.get("kind") != "triatomic":
        raise InputError(f"{inp.path}: the AUC scan needs [system] kind = 'nn' on "
                         "[system.data] kind = 'triatomic'")
    system = copy.deepcopy(inp.system)
    system["data"] = {**data, "features": "steps_from_end", "steps": int(s)}
    return dataclasses.replace(inp, system=system)


def auc_scan(template, s_values, out_dir, *, steps: int | None = None,
             runs: int | None = None, executor: str | None = None,
             progress=None) -> list[dict]:
    """Run the scan (see the module docstring); returns one row per s (:data:`COLUMNS`).

    ``progress(s, row)`` is called after each s.
    """
    from mlanalyse.classification import file_auc
    from mlcore.config import apply_overrides, load_input
    from mlgmin.run import run

    inp = load_input(template)
    scan_input(inp, s_values[0] if len(s_values) else 0)     # a usable template, or an error
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    settings = apply_overrides(inp.mlgmin, "mlgmin",
                               {"steps": steps, "runs": runs, "executor": executor})
    rows = []
    for s in s_values:
        inp_s = scan_input(inp, s)
        path = out_dir / f"s{int(s):03d}.h5"
        run(inp_s, settings, path, resume=path.exists())
        res = file_auc(path)
        gm, best = res["global_minimum"], res["best_local"]
        row = {"s": int(s), "n_minima": len(res["ids"]), "global_minimum_energy": gm["energy"],
               "auc_global_minimum": gm["auc"],
               "best_local_id": None if best is None else best["id"],
               "auc_best_local": None if best is None else best["auc"]}
        rows.append(row)
        if progress is not None:
            progress(s, row)
    return rows


def write_scan_csv(rows: list[dict], out_path) -> None:
    """The rows as CSV (empty cells for undefined values), written atomically."""
    from mlcore.database import atomic_output

    with atomic_output(out_path) as fh:
        fh.write(",".join(COLUMNS) + "\n")
        for row in rows:
            fh.write(",".join("" if row[c] is None else repr(row[c]) if isinstance(row[c], float)
                              else str(row[c]) for c in COLUMNS) + "\n")


def plot_scan(rows: list[dict], out_path, title: str | None = None) -> None:
    """AUC of the global minimum and of the best local minimum against s."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mlcore.database import atomic_path

    s = np.array([r["s"] for r in rows])
    gm = np.array([r["auc_global_minimum"] for r in rows], dtype=float)
    best = np.array([np.nan if r["auc_best_local"] is None else r["auc_best_local"]
                     for r in rows], dtype=float)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot(s, gm, "o-", color="tab:blue", ms=3, label="global minimum")
    ax.plot(s, best, "s--", color="tab:orange", ms=3, label="best local minimum")
    ax.set_xlabel("s (steps before convergence of the features)")
    ax.set_ylabel("test-set ROC AUC (mean over classes)")
    ax.set_ylim(min(0.5, np.nanmin(np.r_[gm, best]) - 0.02) if len(s) else 0.5, 1.0)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left")
    ax.set_title(title or "triatomic classification from (r12, r13) s steps before the end")
    fig.tight_layout()
    with atomic_path(out_path) as tmp:
        fig.savefig(tmp, format=Path(out_path).suffix.lstrip(".").lower(), dpi=150)
    plt.close(fig)
