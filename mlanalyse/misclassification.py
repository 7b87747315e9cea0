"""Which test inputs the minima of a classifier get wrong (SPEC section 6, item 3).

For the minima of a network landscape (the lowest ``K``): the fraction of test inputs each
misclassifies; the misclassification distance between two minima, the fraction of test
inputs that exactly one of them misclassifies; the matrix of those distances ordered by
hierarchical clustering (average linkage), drawn as a heat map; and the joint density of
the misclassification distance and the parameter-space distance (after alignment under
the hidden-node permutations and sign flips) over all pairs.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from mlcore.errors import InputError


def misclassified_masks(system, coords) -> np.ndarray:
    """Boolean matrix ``(n_minima, n_test)``: test input ``j`` misclassified at minimum ``i``."""
    from mlanalyse.classification import test_labels

    test_labels(system, "misclassification")
    return np.array([system.misclassified_on(c, "test") for c in np.asarray(coords)])


def misclassification_distances(masks: np.ndarray) -> np.ndarray:
    """``D[i, j]``: fraction of test inputs misclassified by exactly one of ``i`` and ``j``."""
    m = np.asarray(masks, dtype=np.float64)
    both = m @ m.T
    counts = m.sum(axis=1)
    return (counts[:, None] + counts[None, :] - 2.0 * both) / m.shape[1]


def cluster_order(distances: np.ndarray) -> np.ndarray:
    """Leaf order of an average-linkage clustering of a distance matrix (optimal ordering)."""
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    n = len(distances)
    if n < 3:
        return np.arange(n)
    condensed = squareform(np.asarray(distances, dtype=np.float64), checks=False)
    return leaves_list(linkage(condensed, method="average", optimal_ordering=True))


def parameter_distances(system, coords) -> np.ndarray:
    """Aligned parameter-space distance of every pair (symmetric, zero diagonal)."""
    coords = np.asarray(coords)
    n = len(coords)
    out = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            out[i, j] = out[j, i] = float(system.align(coords[i], coords[j])[0])
    return out


def analyse(path, lowest: int | None = 100) -> dict:
    """Everything the figures need for the ``lowest`` lowest minima of the file."""
    from mlcore.session import load_system

    reader, system = load_system(path)
    mins = reader.minima()
    if len(mins) < 2:
        raise InputError(f"{path}: needs at least two minima")
    order = np.argsort(np.asarray(mins.energy), kind="stable")
    if lowest is not None:
        order = order[:int(lowest)]
    coords = mins.coords[order]
    masks = misclassified_masks(system, coords)
    dist = misclassification_distances(masks)
    return {"ids": (order + 1).tolist(), "energies": np.asarray(mins.energy)[order],
            "fraction": masks.mean(axis=1), "distances": dist,
            "order": cluster_order(dist), "parameter_distances": parameter_distances(system, coords),
            "n_test": int(masks.shape[1])}


def write_outputs(res: dict, out_dir) -> list[str]:
    """``per_minimum.csv``, ``distances.csv`` (in cluster order), ``per_minimum.png``,
    ``heatmap.png``, ``joint.png`` in ``out_dir``; returns the file names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mlcore.database import atomic_output, atomic_path

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ids, order = np.asarray(res["ids"]), np.asarray(res["order"])
    with atomic_output(out / "per_minimum.csv") as fh:
        fh.write("id,energy,fraction_misclassified\n")
        for i, e, f in zip(ids, res["energies"], res["fraction"]):
            fh.write(f"{i},{float(e)!r},{float(f)!r}\n")
    with atomic_output(out / "distances.csv") as fh:
        fh.write("id," + ",".join(str(i) for i in ids[order]) + "\n")
        for r in order:
            fh.write(f"{ids[r]}," + ",".join(repr(float(v)) for v in res["distances"][r, order])
                     + "\n")

    def save(fig, name):
        with atomic_path(out / name) as tmp:
            fig.savefig(tmp, format="png", dpi=150)
        plt.close(fig)

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot(res["energies"], res["fraction"], "o", ms=4)
    ax.set_xlabel("energy (cost) of the minimum")
    ax.set_ylabel("fraction of test inputs misclassified")
    ax.set_title(f"{len(ids)} lowest minima, {res['n_test']} test inputs")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    save(fig, "per_minimum.png")

    fig, ax = plt.subplots(figsize=(6.0, 5.2))
    im = ax.imshow(res["distances"][np.ix_(order, order)], cmap="viridis",
                   interpolation="nearest")
    ax.set_xlabel("minimum (ordered by clustering)")
    ax.set_ylabel("minimum (ordered by clustering)")
    if len(ids) <= 30:
        ax.set_xticks(range(len(ids)), ids[order], fontsize=6, rotation=90)
        ax.set_yticks(range(len(ids)), ids[order], fontsize=6)
    fig.colorbar(im, ax=ax, label="fraction of test inputs misclassified by exactly one")
    ax.set_title("misclassification distance between minima")
    fig.tight_layout()
    save(fig, "heatmap.png")

    iu = np.triu_indices(len(ids), 1)
    fig, ax = plt.subplots(figsize=(6.0, 4.6))
    hb = ax.hexbin(res["parameter_distances"][iu], res["distances"][iu], gridsize=30,
                   cmap="magma_r", mincnt=1)
    fig.colorbar(hb, ax=ax, label="pairs of minima")
    ax.set_xlabel("parameter-space distance (aligned)")
    ax.set_ylabel("misclassification distance")
    ax.set_title(f"joint density over {len(iu[0])} pairs")
    fig.tight_layout()
    save(fig, "joint.png")
    return ["per_minimum.csv", "distances.csv", "per_minimum.png", "heatmap.png", "joint.png"]
