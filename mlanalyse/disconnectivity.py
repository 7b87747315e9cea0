"""Disconnectivity graphs: superbasin analysis at regular energy thresholds, and a drawing.

Superbasins
-----------
At an energy threshold ``L`` the minima below ``L`` split into *superbasins*: two minima are
in the same superbasin when a path of transition states, all below ``L``, joins them.  A
transition state joins its minima only when it and both minima lie below the threshold (for
consistent data the transition state is the highest of the three; inconsistent data cannot
create a superbasin that the minima could not be in).  The analysis runs at ``K`` thresholds
``L_0 < ... < L_{K-1}`` with one union-find pass over the transition states sorted by energy:
``O(m log m)`` for the sort, near-linear union-find, and ``O(n)`` vectorised work per level,
so ``O((n + m) log(n + m) + K n)`` in all.

The tree
--------
Every superbasin at level ``k`` is a node that splits, at the next lower threshold, into the
superbasins of level ``k - 1`` it contains, plus one leaf for each of its minima that lies
between ``L_{k-1}`` and ``L_k`` (minima that appear at level ``k``).  A node with a single
child is the same set of minima as that child and is merged into it, so every internal node
of :class:`Tree` is a real branching point.  Superbasins of the lowest level are not resolved
further (as in disconnectionDPS): each is a leaf that ends at the energy of its lowest
minimum and stands for all its minima (``Tree.size``).  Minima at or above the top threshold
are not in the tree.

The drawing
-----------
In the style of disconnectionDPS: the vertical axis is the energy; every node is a point at
its threshold energy, joined to each child by a slanted line down one level spacing and a
vertical line to the child's own point; leaves end at their minimum's energy.  The global
minimum's branch is straight and in the horizontal centre; at every node the main child
(the one holding the global minimum, else the largest basin or the lowest one) goes in the
middle and the others, biggest first, each to the side with fewer leaves so far (counted
over the whole trunk for the global minimum's ancestors), so big basins sit near the trunk
and the two halves of the graph are balanced.  Branches can be coloured by any per-minimum quantity: a leaf's
branch (from its parent's node to its end) takes the value at its lowest minimum; shared
branches stay dark grey, since they stand for many minima.

Minimum indices here are 0-based positions in the arrays given to :func:`superbasin_tree`;
:func:`run_dgraph` maps them to the 1-based ids of the file.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mlanalyse.quantities import DERIVED, per_minimum_quantity
from mlcore.errors import InputError

__all__ = [
    "Tree",
    "connected_components",
    "draw_dgraph",
    "energy_levels",
    "layout",
    "run_dgraph",
    "superbasin_tree",
]


# ---------------------------------------------------------------------------- union-find
def _roots(parent: np.ndarray) -> np.ndarray:
    """Root of every element of a union-find forest by vectorised pointer jumping.

    ``parent`` is compressed in place (every entry then points at its root).
    """
    r = parent
    while True:
        r2 = r[r]
        if np.array_equal(r2, r):
            break
        r = r2
    parent[:] = r
    return r


def _find(parent: np.ndarray, i: int) -> int:
    """Root of ``i`` with path halving (scalar union-find step)."""
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def connected_components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Component label (0 .. c-1, in order of first appearance) of each of ``n`` nodes.

    Parameters
    ----------
    n : int
        Number of nodes.
    a, b : ndarray of int, shape (m,)
        0-based end points of the edges.
    """
    parent = np.arange(n, dtype=np.int64)
    for i, j in zip(a.tolist(), b.tolist()):
        ri, rj = _find(parent, i), _find(parent, j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    roots = _roots(parent)
    _, labels = np.unique(roots, return_inverse=True)
    return labels.astype(np.int64)


# ---------------------------------------------------------------------------- the tree
@dataclass
class Tree:
    """A disconnectivity tree (see the module docstring).

    Nodes are numbered ``0 .. n_nodes - 1``; minima are 0-based positions in the energy
    array given to :func:`superbasin_tree`.

    Attributes
    ----------
    levels : ndarray, shape (K,)
        The thresholds, ascending.
    energies : ndarray, shape (n,)
        Energies of all minima given (also those not in the tree).
    parent : ndarray of int, shape (n_nodes,)
        Parent node, -1 for a root (a superbasin of the top level).
    level : ndarray of int, shape (n_nodes,)
        For an internal node the index of the threshold at which it is a superbasin (it
        splits at the next lower threshold); -1 for a leaf.
    energy : ndarray, shape (n_nodes,)
        Energy of the node's point: ``levels[level]`` for an internal node, the energy of
        its lowest minimum for a leaf.
    lowest : ndarray of int, shape (n_nodes,)
        Its lowest minimum.
    size : ndarray of int, shape (n_nodes,)
        Number of minima in it.
    basin_labels : ndarray of int, shape (K, n)
        ``basin_labels[k, i]``: superbasin (0 .. c_k - 1) of minimum ``i`` at threshold
        ``levels[k]``, or -1 if the minimum lies at or above it.
    node_basin : ndarray of int, shape (n_nodes, 2)
        ``(k, label)`` of the superbasin the node stands for; ``(-1, i)`` for a leaf that
        is the single minimum ``i`` appearing above the lowest threshold.
    """

    levels: np.ndarray
    energies: np.ndarray
    parent: np.ndarray
    level: np.ndarray
    energy: np.ndarray
    lowest: np.ndarray
    size: np.ndarray
    basin_labels: np.ndarray
    node_basin: np.ndarray
    _children: list = field(default=None, repr=False)

    @property
    def n_nodes(self) -> int:
        return len(self.parent)

    @property
    def is_leaf(self) -> np.ndarray:
        """Boolean mask of the leaves, shape (n_nodes,)."""
        return self.level < 0

    @property
    def roots(self) -> np.ndarray:
        """The root nodes (superbasins at the top threshold), lowest energy first."""
        r = np.flatnonzero(self.parent < 0)
        return r[np.argsort(self.energies[self.lowest[r]], kind="stable")]

    @property
    def n_in_tree(self) -> int:
        """Number of minima in the tree (below the top threshold)."""
        return int(self.size[self.parent < 0].sum())

    def children(self, node: int) -> np.ndarray:
        """Children of ``node`` (node ids, in id order)."""
        if self._children is None:
            order = np.argsort(self.parent, kind="stable")
            p = self.parent[order]
            starts = np.searchsorted(p, np.arange(self.n_nodes))
            ends = np.searchsorted(p, np.arange(self.n_nodes), side="right")
            self._children = [order[s:e] for s, e in zip(starts, ends)]
        return self._children[node]

    def members(self, node: int) -> np.ndarray:
        """The minima in ``node``, ascending."""
        k, lab = self.node_basin[node]
        if k < 0:
            return np.array([lab], dtype=np.int64)
        return np.flatnonzero(self.basin_labels[k] == lab)

    def superbasins(self, k: int) -> list[frozenset]:
        """The superbasins at threshold ``levels[k]`` as sets of minima."""
        lab = self.basin_labels[k]
        present = np.flatnonzero(lab >= 0)
        order = np.argsort(lab[present], kind="stable")
        groups = np.split(present[order], np.flatnonzero(np.diff(lab[present][order])) + 1)
        return [frozenset(g.tolist()) for g in groups if len(g)]


def energy_levels(e_low: float, e_top: float, n_levels: int) -> np.ndarray:
    """``n_levels`` evenly spaced thresholds ``e_low + (k + 1) (e_top - e_low) / n_levels``.

    The top one is ``e_top`` exactly; the lowest lies one spacing above ``e_low``.
    """
    n_levels = int(n_levels)
    if n_levels < 1:
        raise InputError(f"the number of levels must be at least 1 (got {n_levels})")
    if not e_top > e_low:
        raise InputError(f"the top energy {e_top:g} must lie above the lowest minimum "
                         f"({e_low:g})")
    step = (e_top - e_low) / n_levels
    levels = e_low + step * np.arange(1, n_levels + 1)
    levels[-1] = e_top
    return levels


def superbasin_tree(energies_min, ts_min1, ts_min2, ts_energies, levels) -> Tree:
    """Superbasins of a network of minima at the given thresholds, as a :class:`Tree`.

    Parameters
    ----------
    energies_min : array_like, shape (n,)
        Energies of the minima.
    ts_min1, ts_min2 : array_like of int, shape (m,)
        **0-based** indices of the two minima each transition state connects.  Transition
        states joining a minimum to itself are ignored.
    ts_energies : array_like, shape (m,)
        Energies of the transition states.
    levels : array_like, shape (K,)
        The energy thresholds (sorted here); a minimum takes part at a threshold when its
        energy is strictly below it, a transition state joins its minima when it and both
        minima are strictly below it.

    Returns
    -------
    Tree

    Raises
    ------
    InputError
        Mismatched lengths, indices out of range, no finite threshold.
    """
    e = np.asarray(energies_min, dtype=np.float64).reshape(-1)
    a = np.asarray(ts_min1, dtype=np.int64).reshape(-1)
    b = np.asarray(ts_min2, dtype=np.int64).reshape(-1)
    te = np.asarray(ts_energies, dtype=np.float64).reshape(-1)
    lv = np.sort(np.asarray(levels, dtype=np.float64).reshape(-1))
    n = len(e)
    if not (len(a) == len(b) == len(te)):
        raise InputError(f"transition-state arrays differ in length: {len(a)}, {len(b)}, "
                         f"{len(te)}")
    if len(lv) == 0 or not np.all(np.isfinite(lv)):
        raise InputError("the thresholds must be a non-empty array of finite energies")
    if len(a) and (min(a.min(), b.min()) < 0 or max(a.max(), b.max()) >= n):
        raise InputError(f"a transition state refers to a minimum outside 0..{n - 1}")

    # Edges: effective energy = highest of the TS and its two minima; sorted by it.
    keep = a != b
    a, b, te = a[keep], b[keep], te[keep]
    edge_e = np.maximum(te, np.maximum(e[a], e[b])) if len(a) else te
    finite = np.isfinite(edge_e)
    a, b, edge_e = a[finite], b[finite], edge_e[finite]
    eorder = np.argsort(edge_e, kind="stable")
    a, b, edge_e = a[eorder].tolist(), b[eorder].tolist(), edge_e[eorder]
    morder = np.argsort(e, kind="stable")        # minima by energy; NaN energies last
    e_sorted = e[morder]

    K = len(lv)
    parent_uf = np.arange(n, dtype=np.int64)
    labels = np.full((K, n), -1, dtype=np.int64)

    node_level, node_energy, node_lowest, node_size, node_basin = [], [], [], [], []
    n_nodes = 0
    prev_first = prev_count = 0
    prev_lowest = None
    parents = []                          # list of (child ids array, parent ids array)
    i_edge = 0
    n_prev_present = 0

    for k in range(K):
        L = lv[k]
        i_stop = int(np.searchsorted(edge_e, L, side="left"))   # edges strictly below L
        for t in range(i_edge, i_stop):
            ri, rj = _find(parent_uf, a[t]), _find(parent_uf, b[t])
            if ri != rj:
                parent_uf[max(ri, rj)] = min(ri, rj)
        i_edge = max(i_edge, i_stop)
        n_present = int(np.searchsorted(e_sorted, L, side="left"))  # minima strictly below
        present = morder[:n_present]                                # energy order
        roots = _roots(parent_uf)[present]
        uniq, first, inv, counts = np.unique(roots, return_index=True, return_inverse=True,
                                             return_counts=True)
        labels[k, present] = inv
        c = len(uniq)
        first_id = n_nodes
        node_level.append(np.full(c, k, dtype=np.int64))
        node_lowest.append(present[first])          # first in energy order = lowest
        node_energy.append(np.full(c, L) if k > 0 else e[present[first]])
        node_size.append(counts.astype(np.int64))
        node_basin.append(np.stack([np.full(c, k), np.arange(c)], axis=1))
        n_nodes += c
        if k == 0:
            node_level[-1][:] = -1                    # lowest level: collapsed leaves
        else:
            # Superbasins of level k-1 hang under the level-k basin of their lowest minimum.
            parents.append((np.arange(prev_first, prev_first + prev_count),
                            first_id + labels[k, prev_lowest]))
            # Minima appearing at level k are leaves of their level-k basin.
            new = morder[n_prev_present:n_present]
            if len(new):
                node_level.append(np.full(len(new), -1, dtype=np.int64))
                node_lowest.append(new)
                node_energy.append(e[new])
                node_size.append(np.ones(len(new), dtype=np.int64))
                node_basin.append(np.stack([np.full(len(new), -1), new], axis=1))
                parents.append((np.arange(n_nodes, n_nodes + len(new)),
                                first_id + labels[k, new]))
                n_nodes += len(new)
        prev_first, prev_count, prev_lowest = first_id, c, present[first]
        n_prev_present = n_present

    parent = np.full(n_nodes, -1, dtype=np.int64)
    for child, par in parents:
        parent[child] = par
    level = np.concatenate(node_level) if node_level else np.zeros(0, np.int64)
    energy = np.concatenate(node_energy) if node_energy else np.zeros(0)
    lowest = np.concatenate(node_lowest).astype(np.int64) if node_lowest else np.zeros(0, np.int64)
    size = np.concatenate(node_size) if node_size else np.zeros(0, np.int64)
    basin = (np.concatenate(node_basin).astype(np.int64) if node_basin
             else np.zeros((0, 2), np.int64))

    # Merge nodes with a single child into that child.
    n_children = np.bincount(parent[parent >= 0], minlength=n_nodes)
    removed = (n_children == 1) & (level >= 0)
    if removed.any():
        eff = parent.copy()
        while True:
            hit = eff >= 0
            hit[hit] = removed[eff[hit]]
            if not hit.any():
                break
            eff[hit] = parent[eff[hit]]
        keep_nodes = np.flatnonzero(~removed)
        new_id = np.full(n_nodes, -1, dtype=np.int64)
        new_id[keep_nodes] = np.arange(len(keep_nodes))
        p = eff[keep_nodes]
        parent = np.where(p >= 0, new_id[np.maximum(p, 0)], -1)
        level, energy, lowest, size, basin = (level[keep_nodes], energy[keep_nodes],
                                              lowest[keep_nodes], size[keep_nodes],
                                              basin[keep_nodes])
    return Tree(levels=lv, energies=e, parent=parent, level=level, energy=energy,
                lowest=lowest, size=size, basin_labels=labels, node_basin=basin)


# ---------------------------------------------------------------------------- layout
def layout(tree: Tree, order: str = "size", centre: int | None = None) -> np.ndarray:
    """Horizontal positions of the nodes, shape (n_nodes,), the centre leaf at x = 0.

    Parameters
    ----------
    tree : Tree
    order : {"size", "energy"}
        Which child of a node is its main one (placed in the middle, its x is the node's
        x) and how the others follow outwards, each to the side with fewer leaves so far:
        largest basin first (ties: lower energy), or lowest minimum first.  The children
        on the centre minimum's path are always the main ones.
    centre : int, optional
        A minimum (0-based) whose branch is straight and centred; default the lowest
        minimum in the tree.  Leaves are one unit apart.
    """
    if order not in ("size", "energy"):
        raise InputError(f"order must be 'size' or 'energy', not {order!r}")
    nn = tree.n_nodes
    x = np.zeros(nn)
    if nn == 0:
        return x
    e_low = tree.energies[tree.lowest]
    if centre is None:
        roots = tree.roots
        centre = int(tree.lowest[roots[0]]) if len(roots) else 0
    # Nodes on the path from the centre minimum to its root.
    on_path = np.zeros(nn, dtype=bool)
    cand = np.flatnonzero(tree.level < 0)
    hit = cand[tree.lowest[cand] == centre]
    if len(hit) == 0:
        # The centre minimum lies inside a collapsed leaf without being its lowest.
        for lf in cand:
            k, lab = tree.node_basin[lf]
            if k >= 0 and tree.basin_labels[k, centre] == lab:
                hit = np.array([lf])
                break
    node = int(hit[0]) if len(hit) else -1
    while node >= 0:
        on_path[node] = True
        node = int(tree.parent[node])

    def key(c):
        if order == "size":
            return (not on_path[c], -int(tree.size[c]), float(e_low[c]), int(c))
        return (not on_path[c], float(e_low[c]), -int(tree.size[c]), int(c))

    kids = [[] for _ in range(nn)]
    for c in np.flatnonzero(tree.parent >= 0).tolist():
        kids[int(tree.parent[c])].append(c)
    # Leaves under each node (children before parents: leaves, then levels ascending).
    n_leaves = (tree.level < 0).astype(np.int64)
    internal = np.flatnonzero(tree.level >= 0)
    internal = internal[np.argsort(tree.level[internal], kind="stable")]
    for nd in internal.tolist():
        n_leaves[nd] = sum(int(n_leaves[c]) for c in kids[nd])

    balance = [0, 0]        # leaves placed left / right of the centre branch so far

    def arrange(items: list, on_centre: bool) -> list:
        """Main item in the middle, the others (in key order) each to the lighter side."""
        items = sorted(items, key=key)
        sides = balance if on_centre else [0, 0]
        left, right = [], []
        for c in items[1:]:
            side = 0 if sides[0] <= sides[1] else 1
            (left, right)[side].append(c)
            sides[side] += int(n_leaves[c])
        return left[::-1] + items[:1] + right

    roots = arrange(np.flatnonzero(tree.parent < 0).tolist(), True)
    arranged = [[] for _ in range(nn)]
    main = [-1] * nn
    # Top-down along the centre path first, so the running balance is global.
    path_nodes = np.flatnonzero(on_path)
    for nd in path_nodes[np.argsort(-tree.level[path_nodes], kind="stable")].tolist():
        if kids[nd]:
            arranged[nd] = arrange(kids[nd], True)
    for nd in range(nn):
        if kids[nd]:
            if not on_path[nd]:
                arranged[nd] = arrange(kids[nd], False)
            main[nd] = min(kids[nd], key=key)

    # Leaves left to right by an explicit-stack depth-first walk.
    counter = 0
    stack = list(reversed(roots))
    while stack:
        nd = stack.pop()
        if not arranged[nd]:
            x[nd] = counter
            counter += 1
        else:
            stack.extend(reversed(arranged[nd]))
    # Internal nodes take their main child's x, deepest first.
    for nd in internal.tolist():
        x[nd] = x[main[nd]]
    centre_node = int(hit[0]) if len(hit) else int(roots[len(roots) // 2])
    return x - x[centre_node]


# ---------------------------------------------------------------------------- drawing
def _segments(tree: Tree, x: np.ndarray):
    """Line segments ``(s, 2, 2)`` of the drawing and, per segment, the node it leads to."""
    lv = tree.levels
    spacing = float(np.min(np.diff(lv))) if len(lv) > 1 else max(
        float(lv[0] - np.nanmin(tree.energy)), 1e-12)
    child = np.flatnonzero(tree.parent >= 0)
    p = tree.parent[child]
    e_p = tree.energy[p]
    # Slant from the parent's point down to the next lower threshold (or the child's end).
    next_lower = np.where(tree.level[p] > 0, lv[np.maximum(tree.level[p] - 1, 0)],
                          e_p - spacing)
    e_mid = np.maximum(next_lower, tree.energy[child])
    slant = np.stack([np.stack([x[p], e_p], 1), np.stack([x[child], e_mid], 1)], 1)
    vert = np.stack([np.stack([x[child], e_mid], 1),
                     np.stack([x[child], tree.energy[child]], 1)], 1)
    roots = np.flatnonzero(tree.parent < 0)
    top = lv[-1] + 0.5 * spacing
    stub = np.stack([np.stack([x[roots], np.full(len(roots), top)], 1),
                     np.stack([x[roots], tree.energy[roots]], 1)], 1)
    segs = np.concatenate([slant, vert, stub])
    owner = np.concatenate([child, child, roots])
    return segs, owner


def draw_dgraph(tree: Tree, out_path, colour_values=None, colour_label=None,
                energy_label: str = "energy", title: str | None = None,
                order: str = "size", cmap: str = "viridis") -> dict:
    """Draw ``tree`` as a disconnectivity graph into ``out_path`` (PNG, SVG or PDF).

    Parameters
    ----------
    tree : Tree
    out_path : path
        The figure; the format follows the suffix.  Written atomically.
    colour_values : array_like, shape (n,), optional
        A value per minimum (0-based, as in the tree); each leaf's branch is coloured by
        the value at its lowest minimum (NaN: light grey), with a colour bar.  None: black.
    colour_label : str, optional
        Label of the colour bar.
    energy_label : str
        Label of the vertical axis.
    title : str, optional
    order : {"size", "energy"}
        Order of branches (see :func:`layout`).
    cmap : str
        Matplotlib colour map.

    Returns
    -------
    dict
        ``n_leaves``, ``n_nodes``, ``n_segments``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    from mlcore.database import atomic_path

    if tree.n_nodes == 0:
        raise InputError("nothing to draw: no minimum lies below the top threshold")
    x = layout(tree, order=order)
    segs, owner = _segments(tree, x)
    n_leaves = int(np.count_nonzero(tree.level < 0))
    lw = float(np.clip(300.0 / max(n_leaves, 1), 0.15, 1.2))    # leaf branches
    # Shared branches widen with the log of their basin size, up to 0.8 pt for the trunk.
    sizes = tree.size[owner].astype(np.float64)
    grow = np.log(sizes) / max(np.log(float(sizes.max())), 1.0)
    widths = lw + (max(lw, 0.8) - lw) * grow
    leaf_branch = tree.level[owner] < 0

    fig, ax = plt.subplots(figsize=(9.0, 6.5))
    if colour_values is None:
        widths[leaf_branch] = lw
        ax.add_collection(LineCollection(segs, colors="black", linewidths=widths,
                                         capstyle="round"))
    else:
        vals = np.asarray(colour_values, dtype=np.float64).reshape(-1)
        if len(vals) != len(tree.energies):
            raise InputError(f"colour values: {len(vals)} given for {len(tree.energies)} "
                             "minima")
        ax.add_collection(LineCollection(segs[~leaf_branch], colors="0.2",
                                         linewidths=widths[~leaf_branch], zorder=3,
                                         capstyle="round"))
        v = vals[tree.lowest[owner[leaf_branch]]]
        ok = np.isfinite(v)
        if (~ok).any():
            ax.add_collection(LineCollection(segs[leaf_branch][~ok], colors="0.8",
                                             linewidths=lw))
        if ok.any():
            lc = LineCollection(segs[leaf_branch][ok], cmap=cmap, linewidths=max(lw, 0.3),
                                capstyle="round")
            lc.set_array(v[ok])
            vmin, vmax = float(v[ok].min()), float(v[ok].max())
            if vmin == vmax:
                vmin, vmax = vmin - 0.5, vmax + 0.5
            lc.set_clim(vmin, vmax)
            ax.add_collection(lc)
            cb = fig.colorbar(lc, ax=ax, pad=0.02, fraction=0.04)
            cb.set_label(colour_label or "")

    half = max(float(np.abs(x).max()), 1.0) + 1.0
    ax.set_xlim(-half, half)
    lo = float(np.min(tree.energy))
    hi = float(segs[:, :, 1].max())
    pad = 0.03 * (hi - lo if hi > lo else 1.0)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_ylabel(energy_label)
    ax.set_xticks([])
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    out_path = Path(out_path)
    with atomic_path(out_path) as tmp:
        fig.savefig(tmp, dpi=150)
    plt.close(fig)
    return {"n_leaves": n_leaves, "n_nodes": tree.n_nodes, "n_segments": len(segs)}


# ---------------------------------------------------------------------------- driver
def _display(system, energies: np.ndarray) -> np.ndarray:
    if system is None:
        return energies
    return np.array([system.display_energy(float(v)) for v in energies], dtype=np.float64)


def _merge_energy(n: int, a: np.ndarray, b: np.ndarray, edge_e: np.ndarray) -> float:
    """Highest energy needed to join each connected component (Kruskal's last union)."""
    parent = np.arange(n, dtype=np.int64)
    top = -np.inf
    for t in np.argsort(edge_e, kind="stable").tolist():
        ri, rj = _find(parent, int(a[t])), _find(parent, int(b[t]))
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
            top = float(edge_e[t])
    return top


def run_dgraph(path, out_path, levels: int = 20, emax: float | None = None,
               lowest: int | None = None, colour_by=None, component="global",
               colour_label: str | None = None, order: str = "size",
               title: str | None = None) -> dict:
    """Disconnectivity graph of a stationary-point file, drawn into ``out_path``.

    Parameters
    ----------
    path : path
        The stationary-point file (HDF5).
    out_path : path
        The figure (``.png``, ``.svg`` or ``.pdf``), written atomically.
    levels : int
        Number of energy thresholds.  They are evenly spaced, the lowest one spacing above
        the global minimum; the top one is ``emax``.
    emax : float, optional
        Top threshold, in displayed energy units (per spin for pspin).  Default: one
        spacing above the energy at which all drawn minima are joined, so the top level
        is the first where they form one superbasin.  Minima at or above it are left out.
    lowest : int, optional
        Use only the ``lowest`` lowest minima and the transition states between them.
    colour_by : str or array_like, optional
        Colour leaves by a column of ``/minima`` (``"energy"``, ``"log_product"``,
        ``"n_zero"``, ``"n_negative"``, ``"symmetry_order"``, ...; -1 in ``n_zero`` and
        ``n_negative`` means unknown), by a derived quantity of
        :mod:`mlanalyse.quantities` (``"misclassification"`` for networks) or by an array of one value per minimum of the file
        (row ``i`` = minimum id ``i + 1``).  None: black lines.
    component : "global", "all", None or int
        ``"global"``: only the connected component of the global minimum (of the selected
        minima); ``"all"`` or None: every component (drawn side by side); an int: the
        component of that (1-based) minimum.
    colour_label : str, optional
        Colour-bar label (default: the column name, or "value").
    order : {"size", "energy"}
        Branch order (see :func:`layout`).
    title : str, optional
        Default: the file name with the counts drawn.

    Returns
    -------
    dict
        ``out_path``, ``n_minima`` and ``n_ts`` (in the file), ``n_drawn`` (minima in the
        tree), ``n_leaves``, ``levels`` (list of thresholds), ``emax``, ``n_components``
        (of the selected network), ``left_out_components``, ``left_out_minima`` (in other
        components), ``above_emax`` (minima of the drawn component at or above emax),
        ``energy_label``, ``notes`` (list of sentences to show the user).

    Raises
    ------
    InputError
        A file without minima or transition states, bad options.
    """
    from mlcore.database import DatabaseReader

    path = Path(path)
    reader = DatabaseReader(path)
    mins, tss = reader.minima(), reader.ts()
    n_file, m_file = len(mins), len(tss)
    if n_file == 0:
        raise InputError(f"{path}: no minima: nothing to draw (run mlgmin first)")
    if m_file == 0:
        raise InputError(f"{path}: no transition states: a disconnectivity graph needs them "
                         "(run mloptim connect or mlpathsample first)")
    notes: list[str] = []
    system = None
    energy_label = "energy"
    try:
        from mlcore.session import load_system

        _, system = load_system(path)
        energy_label = getattr(system, "display_energy_label", "energy")
    except Exception as exc:  # noqa: BLE001  (drawing must not depend on the landscape)
        notes.append(f"energies shown as stored (the landscape could not be rebuilt: {exc})")
    e_all = _display(system, np.asarray(mins.energy, dtype=np.float64))
    te_all = _display(system, np.asarray(tss.energy, dtype=np.float64))
    a_all = np.asarray(tss.min1, dtype=np.int64) - 1
    b_all = np.asarray(tss.min2, dtype=np.int64) - 1
    bad = (a_all < 0) | (a_all >= n_file) | (b_all < 0) | (b_all >= n_file)
    if bad.any():
        raise InputError(f"{path}: {int(bad.sum())} transition states refer to minima that "
                         f"do not exist (ids 1..{n_file})")

    # Colour values before any selection (indexed by file row).
    values = None
    if colour_by is not None:
        if isinstance(colour_by, str) and colour_by in DERIVED and colour_by not in mins.columns:
            if system is None:
                raise InputError(f"--colour-by {colour_by}: the landscape of {path} could not "
                                 f"be rebuilt ({notes[-1] if notes else 'unknown reason'})")
            values, label = per_minimum_quantity(system, mins.coords, colour_by)
            colour_label = colour_label or label
        elif isinstance(colour_by, str):
            if colour_by not in mins.columns or colour_by == "coords":
                numeric = [c for c in mins.columns
                           if c != "coords" and np.asarray(mins[c]).dtype.kind in "fiu"]
                raise InputError(f"--colour-by {colour_by!r}: not a column of /minima "
                                 f"(choose from {', '.join(numeric)}) nor a derived "
                                 f"quantity ({', '.join(DERIVED)})")
            col = np.asarray(mins[colour_by])
            if col.dtype.kind not in "fiu":
                raise InputError(f"--colour-by {colour_by!r}: not a numeric column")
            values = col.astype(np.float64)
            if colour_by in ("n_zero", "n_negative"):
                values[col < 0] = np.nan
            if colour_by == "energy":
                values = e_all.copy()
                colour_label = colour_label or energy_label
            colour_label = colour_label or colour_by
        else:
            values = np.asarray(colour_by, dtype=np.float64).reshape(-1)
            if len(values) != n_file:
                raise InputError(f"colour values: {len(values)} given, the file has "
                                 f"{n_file} minima")
            colour_label = colour_label or "value"

    # Selection: the lowest minima, then a connected component.
    sel = np.arange(n_file)
    if lowest is not None:
        lowest = int(lowest)
        if lowest < 1:
            raise InputError(f"--lowest must be at least 1 (got {lowest})")
        sel = np.sort(np.argsort(e_all, kind="stable")[:lowest])
    in_sel = np.zeros(n_file, dtype=bool)
    in_sel[sel] = True
    tkeep = in_sel[a_all] & in_sel[b_all]
    pos = np.full(n_file, -1, dtype=np.int64)
    pos[sel] = np.arange(len(sel))
    a, b, te = pos[a_all[tkeep]], pos[b_all[tkeep]], te_all[tkeep]
    e = e_all[sel]
    comp = connected_components(len(sel), a, b)
    n_comp = int(comp.max()) + 1 if len(comp) else 0
    left_comp = left_min = 0
    if component not in (None, "all"):
        if component == "global":
            anchor = int(np.argmin(e))
            what = "the global minimum"
        else:
            try:
                cid = int(component)
            except (TypeError, ValueError):
                raise InputError(f"component must be 'global', 'all' or a minimum id, not "
                                 f"{component!r}") from None
            if not 1 <= cid <= n_file or pos[cid - 1] < 0:
                raise InputError(f"component: minimum {cid} is not among the minima used "
                                 f"(ids 1..{n_file}" + (f", lowest {lowest}" if lowest else "")
                                 + ")")
            anchor = int(pos[cid - 1])
            what = f"minimum {cid}"
        keep_m = comp == comp[anchor]
        left_comp = n_comp - 1
        left_min = int(len(sel) - keep_m.sum())
        if left_comp:
            notes.append(f"the network has {n_comp} connected components: drawing the one of "
                         f"{what} ({int(keep_m.sum())} minima); left out {left_comp} other "
                         f"components with {left_min} minima")
        sub = np.flatnonzero(keep_m)
        pos2 = np.full(len(sel), -1, dtype=np.int64)
        pos2[sub] = np.arange(len(sub))
        tk = keep_m[a] & keep_m[b]
        a, b, te = pos2[a[tk]], pos2[b[tk]], te[tk]
        sel, e = sel[sub], e[sub]
    if len(a) == 0:
        hint = ("; try component='all' (--component all)" if n_comp > 1 else "")
        raise InputError(f"{path}: no transition state joins the {len(sel)} minima selected"
                         + (" (the component drawn is a single minimum)" if len(sel) == 1
                            else "") + hint)

    edge_e = np.maximum(te, np.maximum(e[a], e[b]))
    e_low = float(np.min(e))
    n_levels = int(levels)
    if n_levels < 1:
        raise InputError(f"--levels must be at least 1 (got {levels})")
    if emax is None:
        e_join = _merge_energy(len(e), a, b, edge_e)
        span = e_join - e_low
        if not span > 0:
            span = max(abs(e_low), 1.0) * 1e-6
        step = span / max(n_levels - 1, 1)
        top = e_low + span + step if n_levels > 1 else e_low + span * (1 + 1e-9) + 1e-300
        lv = energy_levels(e_low, top, n_levels)
    else:
        emax = float(emax)
        if not emax > e_low:
            raise InputError(f"--emax {emax:g} must lie above the lowest drawn minimum "
                             f"({e_low:g})")
        lv = energy_levels(e_low, emax, n_levels)
    above = int(np.count_nonzero(e >= lv[-1]))
    if above:
        notes.append(f"{above} {'minimum lies' if above == 1 else 'minima lie'} at or above "
                     f"the top level {lv[-1]:g} and {'is' if above == 1 else 'are'} not drawn")

    tree = superbasin_tree(e, a, b, te, lv)
    if title is None:
        title = f"{path.name}: {tree.n_in_tree} minima, {len(a)} transition states"
    drawn = draw_dgraph(tree, out_path, colour_values=None if values is None else values[sel],
                        colour_label=colour_label, energy_label=energy_label, title=title,
                        order=order)
    return {"out_path": str(out_path), "n_minima": n_file, "n_ts": m_file,
            "n_drawn": tree.n_in_tree, "n_leaves": drawn["n_leaves"],
            "levels": lv.tolist(), "emax": float(lv[-1]), "n_components": n_comp,
            "left_out_components": left_comp, "left_out_minima": left_min,
            "above_emax": above, "energy_label": energy_label, "notes": notes}
