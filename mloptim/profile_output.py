"""Writing a path profile: the CSV that scripts read and a plot a person looks at."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def write_profile(csv_path: Path, profile: np.ndarray, ts_id: int) -> None:
    """Write ``profile`` (columns s, energy, side) as CSV and a PNG beside it, atomically."""
    from mlcore.database import atomic_output, atomic_path

    with atomic_output(csv_path) as fh:
        fh.write("s,energy,side\n")
        for s, e, side in profile:
            fh.write(f"{s:.10g},{e:.12g},{int(side)}\n")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(profile[:, 0], profile[:, 1], color="tab:blue", lw=1.5)
    i_ts = int(np.argmin(np.abs(profile[:, 0])))
    ax.plot([profile[i_ts, 0]], [profile[i_ts, 1]], "o", color="tab:red",
            label=f"transition state {ts_id}")
    ax.plot([profile[0, 0], profile[-1, 0]], [profile[0, 1], profile[-1, 1]], "s",
            color="tab:green", label="minima")
    ax.set_xlabel("integrated path length s (coordinate units)")
    ax.set_ylabel("energy (cost-function units)")
    ax.set_title(f"Steepest-descent paths from transition state {ts_id}")
    ax.legend()
    fig.tight_layout()
    with atomic_path(Path(csv_path).with_suffix(".png")) as tmp:
        fig.savefig(tmp, dpi=120)
    plt.close(fig)
