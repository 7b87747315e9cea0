"""The regression study's figure: the data with the global-minimum fit and local-minimum fits."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from mlcore.errors import InputError


def plot_regression_fits(path, out_path, count: int = 4) -> dict:
    """Plot the data of a ``regression`` landscape with the fits of its lowest minima.

    Parameters
    ----------
    path : path-like
        The stationary-point file.
    out_path : path-like
        Figure (.png, .svg or .pdf), written atomically.
    count : int
        Local-minimum fits drawn besides the global minimum's (the next lowest ones).

    Returns
    -------
    dict
        ``{"global_minimum": {"id", "energy", "params"}, "local_minima": [...]}``.
    """
    from mlcore.database import atomic_path
    from mlcore.session import load_system

    reader, system = load_system(path)
    if system.kind != "regression":
        raise InputError(f"{path}: fits are drawn for regression landscapes, this one is "
                         f"'{system.kind}'")
    if reader.n_minima == 0:
        raise InputError(f"{path}: the file has no minima")
    minima = reader.minima()
    order = np.argsort(minima.energy, kind="stable")[: count + 1]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x_fine = np.linspace(float(system.x.min()), float(system.x.max()), 600)
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    ax.plot(system.x, system.t, "o", ms=3.5, color="black", label="data", zorder=3)
    colours = plt.cm.viridis(np.linspace(0.25, 0.9, max(1, len(order) - 1)))
    info = {"global_minimum": None, "local_minima": []}
    for rank, row in enumerate(order):
        q = system.canonical(minima.coords[row])
        entry = {"id": int(row) + 1, "energy": float(minima.energy[row]),
                 "params": [float(v) for v in q]}
        if rank == 0:
            ax.plot(x_fine, system.model(q, x_fine), color="tab:red", lw=2.2, zorder=4,
                    label=f"global minimum {row + 1}, cost {minima.energy[row]:.4g}")
            info["global_minimum"] = entry
        else:
            ax.plot(x_fine, system.model(q, x_fine), color=colours[rank - 1], lw=1.2,
                    ls="--", label=f"local minimum {row + 1}, cost {minima.energy[row]:.4g}")
            info["local_minima"].append(entry)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(r"$y = e^{-q_1 x}\,\sin(q_2 x + q_3)\,\sin(q_4 x + q_5)$: data and fits")
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    with atomic_path(Path(out_path)) as tmp:
        fig.savefig(tmp, dpi=130)
    plt.close(fig)
    return info
