"""The network of minima: the graph, its statistics against random graphs, a drawing.

The graph is unweighted and undirected: one node per minimum (its 1-based id), one edge
per pair of distinct minima joined by at least one transition state.  Statistics are
computed on compressed sparse rows with vectorised kernels so that networks of tens of
thousands of minima take seconds:

* shortest paths by *bit-parallel* breadth-first search: 64 sources share one machine
  word per node, a level is one gather and one ``bitwise_or.reduceat`` over the edge list;
* triangles (clustering) by sparse products over the degree-ordered orientation of the
  graph, which bounds the work by ``O(m sqrt(m))`` even with hubs;
* the diameter, when not every source is searched, by eccentricity bounds
  (``max(e(s) - d(s, v), d(s, v)) <= e(v) <= e(s) + d(s, v)``), refined with batches of
  sources until the bounds meet.

Random reference graphs are Erdos-Renyi ``G(n, m)``: ``m`` distinct pairs drawn uniformly
from the ``n (n - 1) / 2`` possible ones.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from mlcore.errors import InputError

__all__ = [
    "EXACT_NODE_LIMIT",
    "RANDOM_EXACT_NODE_LIMIT",
    "SAMPLE_SOURCES",
    "draw_network",
    "gnm_edges",
    "minima_graph",
    "network_statistics",
    "spring_layout",
]

#: Mean shortest path and diameter are exact (a search from every node) when the largest
#: component has at most this many nodes; above it the mean is estimated from a sample
#: (about 1.5 s for 10,000 nodes and 17,000 edges exact; cost grows as n^2).
EXACT_NODE_LIMIT = 10_000

#: The same limit for the random reference graphs (there are ``n_random`` of them).
RANDOM_EXACT_NODE_LIMIT = 3_000

#: Number of sampled sources for the estimated mean shortest path.
SAMPLE_SOURCES = 512

#: Batches of sources for the diameter bounds and the maximum number of such batches.
_DIAMETER_BATCH = 64
_DIAMETER_MAX_BATCHES = 40

_FIGURE_SUFFIXES = {".png": "png", ".svg": "svg", ".pdf": "pdf"}


# ---------------------------------------------------------------------------- the graph
def minima_graph(reader) -> nx.Graph:
    """The graph of minima joined by transition states.

    Parameters
    ----------
    reader : mlcore.database.DatabaseReader
        An open stationary-point file (or a writer: anything with ``minima()``/``ts()``).

    Returns
    -------
    networkx.Graph
        Nodes ``1 .. n_minima`` (every minimum, also those without transition states),
        node attribute ``energy`` (cost-function units).  One edge per pair of distinct
        minima joined by at least one transition state, with attributes ``n_ts`` (how
        many join them) and ``ts_energy`` (the lowest of their energies).  Transition
        states with ``min1 == min2`` and those whose minima are unknown (ids outside
        ``1 .. n_minima``) give no edge.

    Raises
    ------
    InputError
        The file has no minima.
    """
    n = int(reader.n_minima)
    if n == 0:
        raise InputError(f"{getattr(reader, 'path', 'file')}: the file has no minima, "
                         "so there is no network of minima to analyse")
    energy = np.asarray(reader.minima().energy, dtype=np.float64)
    graph = nx.Graph()
    graph.add_nodes_from((i + 1, {"energy": float(energy[i])}) for i in range(n))
    ts = reader.ts()
    if len(ts):
        a = np.asarray(ts.min1, dtype=np.int64)
        b = np.asarray(ts.min2, dtype=np.int64)
        e = np.asarray(ts.energy, dtype=np.float64)
        ok = (a != b) & (a >= 1) & (a <= n) & (b >= 1) & (b <= n)
        lo, hi, e = np.minimum(a, b)[ok], np.maximum(a, b)[ok], e[ok]
        if len(lo):
            key = lo * (n + 1) + hi
            order = np.lexsort((e, key))            # by pair, lowest energy first
            key, lo, hi, e = key[order], lo[order], hi[order], e[order]
            first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
            counts = np.diff(np.r_[first, len(key)])
            graph.add_edges_from(
                (int(u), int(v), {"n_ts": int(c), "ts_energy": float(x)})
                for u, v, c, x in zip(lo[first], hi[first], counts, e[first]))
    return graph


def _edges_of(graph: nx.Graph) -> tuple[int, np.ndarray, np.ndarray, list]:
    """``(n, u, v, nodes)``: node count, 0-based edge ends (self-loops dropped), node order."""
    nodes = list(graph.nodes)
    index = {node: i for i, node in enumerate(nodes)}
    m = graph.number_of_edges()
    u = np.fromiter((index[a] for a, _ in graph.edges), dtype=np.int64, count=m)
    v = np.fromiter((index[b] for _, b in graph.edges), dtype=np.int64, count=m)
    keep = u != v
    return len(nodes), u[keep], v[keep], nodes


def _adjacency(n: int, u: np.ndarray, v: np.ndarray) -> sp.csr_array:
    """Symmetric 0/1 adjacency (int32, CSR, sorted indices) of ``n`` nodes."""
    rows = np.concatenate([u, v])
    cols = np.concatenate([v, u])
    a = sp.csr_array((np.ones(len(rows), dtype=np.int32), (rows, cols)), shape=(n, n))
    a.sum_duplicates()
    a.data[:] = 1
    return a


# ---------------------------------------------------------------------------- random graphs
def gnm_edges(n: int, m: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A uniform random simple graph with ``n`` nodes and ``m`` edges (Erdos-Renyi G(n, m)).

    Returns
    -------
    (u, v) : ndarray of int64, shape (m,) each
        0-based ends, ``u < v``, all pairs distinct.
    """
    n_pairs = n * (n - 1) // 2
    if m > n_pairs:
        raise ValueError(f"G(n, m): {m} edges do not fit in {n} nodes")
    if m == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    k = np.asarray(rng.choice(n_pairs, size=m, replace=False), dtype=np.int64)
    # pair index k = j (j - 1) / 2 + i with 0 <= i < j
    j = ((1.0 + np.sqrt(1.0 + 8.0 * k.astype(np.float64))) / 2.0).astype(np.int64)
    j -= (j * (j - 1) // 2 > k)
    j += ((j + 1) * j // 2 <= k)
    i = k - j * (j - 1) // 2
    return i, j


# ---------------------------------------------------------------------------- kernels
def _bfs_batch(indptr: np.ndarray, indices: np.ndarray, sources: np.ndarray,
               want_distances: bool = False):
    """Breadth-first search from several sources at once (bit-parallel).

    Parameters
    ----------
    indptr, indices : ndarray
        CSR structure of a connected undirected graph with ``n >= 2`` nodes.
    sources : ndarray of int, shape (k,)
        Distinct 0-based source nodes.
    want_distances : bool
        Also return the full distance matrix.

    Returns
    -------
    dist_sum : ndarray of float64, shape (k,)
        Sum of the distances from each source to every node.
    ecc : ndarray of int64, shape (k,)
        Eccentricity of each source.
    dist : ndarray of int32, shape (n, k), or None
        ``dist[v, s]``: hops from ``sources[s]`` to ``v`` (only if ``want_distances``).
    far : ndarray of int64
        The nodes reached at the last level (farthest from some source).
    """
    n = len(indptr) - 1
    k = len(sources)
    words = (k + 63) // 64
    bits = np.zeros((k, words), dtype=np.uint64)
    bits[np.arange(k), np.arange(k) // 64] = np.left_shift(
        np.uint64(1), (np.arange(k) % 64).astype(np.uint64))
    visited = np.zeros((n, words), dtype=np.uint64)
    visited[sources] = bits
    frontier = visited.copy()
    starts = indptr[:-1]
    dist_sum = np.zeros(k, dtype=np.float64)
    ecc = np.zeros(k, dtype=np.int64)
    dist = np.zeros((n, k), dtype=np.int32) if want_distances else None
    level = 0
    far = np.asarray(sources, dtype=np.int64)
    while True:
        level += 1
        reached = np.bitwise_or.reduceat(frontier[indices], starts, axis=0)
        reached &= ~visited
        rows = np.flatnonzero(reached.any(axis=1))
        if len(rows) == 0:
            break
        visited[rows] |= reached[rows]
        new = np.unpackbits(np.ascontiguousarray(reached[rows]).view(np.uint8), axis=1,
                            bitorder="little")[:, :k]
        counts = new.sum(axis=0, dtype=np.int64)
        dist_sum += level * counts
        ecc[counts > 0] = level
        if dist is not None:
            dist[rows] += level * new
        frontier = reached
        far = rows
    return dist_sum, ecc, dist, far


def _triangles(n: int, u: np.ndarray, v: np.ndarray, degree: np.ndarray) -> np.ndarray:
    """Number of triangles through each node, shape (n,), int64.

    Edges are oriented from the lower to the higher (degree, index) rank, so that
    every out-degree is ``O(sqrt(m))``; ``T = (D D) * D`` counts each triangle at its
    lowest (row) and highest (column) vertex, ``(D^T D) * D`` at its middle one.
    """
    if len(u) == 0:
        return np.zeros(n, dtype=np.int64)
    rank = np.empty(n, dtype=np.int64)
    rank[np.lexsort((np.arange(n), degree))] = np.arange(n)
    lo = np.where(rank[u] < rank[v], u, v)
    hi = np.where(rank[u] < rank[v], v, u)
    d = sp.csr_array((np.ones(len(lo), dtype=np.int64), (lo, hi)), shape=(n, n))
    t_ends = (d @ d).multiply(d)
    t_mid = (d.T @ d).multiply(d)
    t = (np.asarray(t_ends.sum(axis=1)).ravel() + np.asarray(t_ends.sum(axis=0)).ravel()
         + np.asarray(t_mid.sum(axis=1)).ravel())
    return t.astype(np.int64)


def _diameter_by_bounds(indptr, indices, rng, known_sources, known_ecc):
    """Diameter of a connected graph by eccentricity bounds; ``(value, exact, n_bfs)``.

    ``known_*``: sources already searched (their eccentricities give a lower bound).
    If the bounds have not met after ``_DIAMETER_MAX_BATCHES`` batches the best lower
    bound is returned with ``exact = False``.
    """
    n = len(indptr) - 1
    lower = np.zeros(n, dtype=np.int64)
    upper = np.full(n, np.iinfo(np.int64).max // 4, dtype=np.int64)
    best = int(known_ecc.max()) if len(known_ecc) else 0
    done = np.zeros(n, dtype=bool)
    degree = np.diff(indptr)
    # first batch: the highest-degree node (central, tight upper bounds) and nodes of
    # degree 1 (peripheral, likely ends of a longest path), then alternate by bounds
    first = [int(np.argmax(degree))]
    leaves = np.flatnonzero(degree == 1)
    if len(leaves):
        first += list(rng.choice(leaves, size=min(len(leaves), _DIAMETER_BATCH - 1),
                                 replace=False))
    batch = np.unique(np.asarray(first, dtype=np.int64))
    n_bfs = 0
    for _ in range(_DIAMETER_MAX_BATCHES):
        _, ecc, dist, _ = _bfs_batch(indptr, indices, batch, want_distances=True)
        n_bfs += len(batch)
        done[batch] = True
        lower = np.maximum(lower, np.maximum(ecc[None, :] - dist, dist).max(axis=1))
        upper = np.minimum(upper, (ecc[None, :] + dist).min(axis=1))
        lower[batch] = ecc
        upper[batch] = ecc
        best = max(best, int(ecc.max()), int(lower.max()))
        open_ = np.flatnonzero(~done & (upper > best))
        if len(open_) == 0:
            return best, True, n_bfs
        half = _DIAMETER_BATCH // 2
        by_upper = open_[np.argsort(-upper[open_], kind="stable")[:half]]
        rest = np.setdiff1d(open_, by_upper)
        by_lower = rest[np.argsort(lower[rest], kind="stable")[:_DIAMETER_BATCH - len(by_upper)]]
        batch = np.unique(np.concatenate([by_upper, by_lower]))
    return best, False, n_bfs


def _graph_statistics(n: int, u: np.ndarray, v: np.ndarray, rng: np.random.Generator,
                      exact_limit: int, n_samples: int, exact_diameter: bool = True) -> dict:
    """All statistics of the simple graph with 0-based edges ``(u, v)``; see
    :func:`network_statistics`."""
    m = len(u)
    adj = _adjacency(n, u, v)
    degree = np.diff(adj.indptr).astype(np.int64)
    n_comp, label = connected_components(adj, directed=False)
    sizes = np.bincount(label)
    giant = int(np.argmax(sizes))
    members = np.flatnonzero(label == giant)
    lcc = adj[members][:, members].tocsr()
    lcc.sort_indices()
    n_l = len(members)
    m_l = int(lcc.nnz // 2)

    tri = _triangles(n, u, v, degree)
    pairs = degree * (degree - 1)
    local = np.zeros(n, dtype=np.float64)
    has = degree > 1
    local[has] = 2.0 * tri[has] / pairs[has]
    out = {
        "nodes": int(n), "edges": int(m),
        "mean_degree": float(2.0 * m / n),
        "degree_std": float(degree.std()),
        "max_degree": int(degree.max()),
        "degree_histogram": [int(c) for c in np.bincount(degree)],
        "n_components": int(n_comp),
        "n_isolated": int(np.count_nonzero(degree == 0)),
        "largest_component_nodes": n_l,
        "largest_component_edges": m_l,
        "average_clustering": float(local.mean()),
        "transitivity": float(2.0 * tri.sum() / pairs.sum()) if tri.sum() else 0.0,
        "n_triangles": int(tri.sum() // 3),
    }
    out.update(_path_statistics(lcc, rng, exact_limit, n_samples, exact_diameter))
    return out


def _path_statistics(lcc: sp.csr_array, rng, exact_limit: int, n_samples: int,
                     exact_diameter: bool) -> dict:
    """Mean shortest path and diameter of a connected graph (CSR).

    Above ``exact_limit`` nodes the mean is estimated from ``n_samples`` sources and the
    diameter found by eccentricity bounds (``exact_diameter``) or bounded from below by
    the sampled searches and two sweeps from the farthest nodes they reached.
    """
    n = lcc.shape[0]
    if n < 2:
        return {"mean_shortest_path": None, "mean_shortest_path_stderr": None,
                "shortest_path_method": "undefined (largest component has one node)",
                "diameter": 0, "diameter_method": "exact"}
    indptr = lcc.indptr.astype(np.int64)
    indices = lcc.indices.astype(np.int64)
    if n <= exact_limit:
        total, diameter = 0.0, 0
        for start in range(0, n, 512):
            s, ecc, _, _ = _bfs_batch(indptr, indices,
                                        np.arange(start, min(n, start + 512)))
            total += s.sum()
            diameter = max(diameter, int(ecc.max()))
        return {"mean_shortest_path": float(total / (n * (n - 1))),
                "mean_shortest_path_stderr": 0.0, "shortest_path_method": "exact",
                "diameter": diameter, "diameter_method": "exact"}
    k = min(n_samples, n)
    sources = np.sort(rng.choice(n, size=k, replace=False))
    s, ecc, _, far = _bfs_batch(indptr, indices, sources)
    per_source = s / (n - 1)
    stderr = (float(per_source.std(ddof=1) / np.sqrt(k) * np.sqrt((n - k) / (n - 1)))
              if k > 1 else None)
    if exact_diameter:
        diameter, exact, n_bfs = _diameter_by_bounds(indptr, indices, rng, sources, ecc)
        diameter_method = (f"exact (eccentricity bounds, {n_bfs} searches)" if exact
                           else f"lower bound (eccentricity bounds, {n_bfs} searches)")
    else:
        diameter, n_bfs = int(ecc.max()), k
        for _sweep in range(2):                # sweeps from the farthest nodes found
            start = rng.choice(far, size=min(len(far), _DIAMETER_BATCH), replace=False)
            _, ecc2, _, far = _bfs_batch(indptr, indices, np.sort(start))
            diameter, n_bfs = max(diameter, int(ecc2.max())), n_bfs + len(start)
        diameter_method = f"lower bound (sampled sources and sweeps, {n_bfs} searches)"
    return {"mean_shortest_path": float(per_source.mean()),
            "mean_shortest_path_stderr": stderr,
            "shortest_path_method": f"sampled ({k} sources)",
            "diameter": int(diameter), "diameter_method": diameter_method}


# ---------------------------------------------------------------------------- public
_RANDOM_KEYS = ("mean_shortest_path", "diameter", "average_clustering", "transitivity",
                "n_components", "largest_component_nodes", "max_degree")


def network_statistics(graph: nx.Graph, n_random: int = 10,
                       rng: np.random.Generator | None = None, *,
                       exact_limit: int = EXACT_NODE_LIMIT,
                       n_samples: int = SAMPLE_SOURCES) -> dict:
    """Statistics of an unweighted undirected graph and of random graphs of its size.

    Parameters
    ----------
    graph : networkx.Graph
        Typically :func:`minima_graph`.  Self-loops are ignored.
    n_random : int
        Number of random graphs G(n, m) with the same numbers of nodes and edges.
    rng : numpy.random.Generator, optional
        Source of the random graphs and sampled sources; ``None`` means
        ``numpy.random.default_rng(0)`` (reproducible output).
    exact_limit : int
        Path statistics are exact (a search from every node) when the largest component
        has at most this many nodes, else sampled; for the random graphs the limit is
        ``min(exact_limit, RANDOM_EXACT_NODE_LIMIT)``.  Above the limit the diameter of
        the graph is still exact (eccentricity bounds; a lower bound, said so in
        ``diameter_method``, if they have not met after 40 batches of 64 searches), that
        of the random graphs a lower bound from the sampled searches and two sweeps
        from the farthest nodes reached (exact in practice for G(n, m)).
    n_samples : int
        Sources sampled (without replacement, uniformly in the largest component) for the
        estimated mean shortest path.

    Returns
    -------
    dict (JSON-serialisable: numbers, strings, lists, None)
        ``nodes``, ``edges``, ``mean_degree`` (2m/n), ``degree_std``, ``max_degree``,
        ``degree_histogram`` (``[i]`` = number of nodes of degree i), ``n_components``,
        ``n_isolated``, ``largest_component_nodes``/``_edges``, ``average_clustering``
        (mean over all nodes of the local clustering coefficient, 0 for degree < 2, as
        :func:`networkx.average_clustering`), ``transitivity``, ``n_triangles``;
        ``path_statistics_on`` = "largest connected component" and on it
        ``mean_shortest_path`` (hops, mean over ordered pairs of distinct nodes),
        ``mean_shortest_path_stderr`` (0 when exact), ``shortest_path_method``
        ("exact" or "sampled (k sources)"), ``diameter``, ``diameter_method``;
        ``random_graphs``: ``model``, ``n_graphs``, ``mean`` and ``std`` of the
        statistics of the random graphs; ``small_world``: ``clustering_ratio`` C/C_r,
        ``path_length_ratio`` L/L_r and ``sigma`` = (C/C_r)/(L/L_r) (None where a
        denominator is 0 or a value is undefined; sigma well above 1 = small world).

    Raises
    ------
    InputError
        The graph has no nodes.
    """
    if rng is None:
        rng = np.random.default_rng(0)
    n, u, v, _nodes = _edges_of(graph)
    if n == 0:
        raise InputError("the network has no nodes (no minima): nothing to analyse")
    stats = _graph_statistics(n, u, v, rng, exact_limit, n_samples)
    stats["path_statistics_on"] = "largest connected component"

    samples = {key: [] for key in _RANDOM_KEYS}
    methods, diameter_methods = set(), set()
    for _ in range(int(n_random)):
        ru, rv = gnm_edges(n, len(u), rng)
        r = _graph_statistics(n, ru, rv, rng, min(exact_limit, RANDOM_EXACT_NODE_LIMIT),
                              n_samples, exact_diameter=False)
        methods.add(r["shortest_path_method"])
        diameter_methods.add(r["diameter_method"].split(" (")[0])
        for key in _RANDOM_KEYS:
            samples[key].append(r[key])

    def _mean_std(values):
        vals = [x for x in values if x is not None]
        if not vals:
            return None, None
        return float(np.mean(vals)), float(np.std(vals))

    means, stds = {}, {}
    for key, values in samples.items():
        means[key], stds[key] = _mean_std(values)
    stats["random_graphs"] = {
        "model": "G(n, m): uniform random simple graphs with the same nodes and edges",
        "n_graphs": int(n_random), "mean": means, "std": stds,
        "shortest_path_method": sorted(methods),
        "diameter_method": sorted(diameter_methods)}

    c, c_r = stats["average_clustering"], means.get("average_clustering")
    l, l_r = stats["mean_shortest_path"], means.get("mean_shortest_path")
    c_ratio = c / c_r if c_r else None
    l_ratio = l / l_r if (l is not None and l_r) else None
    sigma = c_ratio / l_ratio if (c_ratio is not None and l_ratio) else None
    stats["small_world"] = {
        "clustering_ratio": c_ratio, "path_length_ratio": l_ratio, "sigma": sigma,
        "definition": "sigma = (C / C_r) / (L / L_r), C average clustering, L mean "
                      "shortest path on the largest component, _r: mean over the random "
                      "graphs; sigma > 1 with L / L_r close to 1 indicates a small world"}
    return stats


def spring_layout(n: int, u: np.ndarray, v: np.ndarray, rng: np.random.Generator,
                  iterations: int | None = None, max_repulsors: int = 1000,
                  gravity: float = 1.0) -> np.ndarray:
    """Force-directed (Fruchterman-Reingold) positions, vectorised; shape (n, 2).

    Edges ``(u, v)`` (0-based) pull with ``d^2 / k``, all nodes repel with ``k^2 / d``
    (``k = 2 / sqrt(n)``, the ideal spacing in a square of side 2), a weak pull of
    strength ``gravity`` towards the origin keeps components and isolated nodes in view;
    moves are capped by a temperature that cools linearly.  With more than
    ``max_repulsors`` nodes each step uses repulsion from a fresh random sample of that
    many nodes, scaled up (cost ``O(n * max_repulsors)`` per step), so a few thousand
    nodes take seconds.
    """
    pos = rng.uniform(-1.0, 1.0, size=(n, 2))
    if n < 2:
        return np.zeros((n, 2))
    k = 2.0 / np.sqrt(n)
    steps = iterations if iterations is not None else (150 if n <= 1000 else 80)
    temp = 0.25
    cool = temp / (steps + 1)
    chunk = max(1, 1_000_000 // min(n, max_repulsors))
    for _ in range(steps):
        if n > max_repulsors:
            rep = rng.choice(n, size=max_repulsors, replace=False)
            scale = n / max_repulsors
        else:
            rep, scale = slice(None), 1.0
        px = pos[:, 0].astype(np.float32)
        py = pos[:, 1].astype(np.float32)
        ox, oy = px[rep], py[rep]
        disp = np.zeros((n, 2))
        for start in range(0, n, chunk):
            dx = px[start:start + chunk, None] - ox[None, :]
            dy = py[start:start + chunk, None] - oy[None, :]
            inv = dx * dx
            inv += dy * dy
            np.maximum(inv, np.float32(1e-9 * k * k), out=inv)
            np.reciprocal(inv, out=inv)
            disp[start:start + chunk, 0] = (dx * inv).sum(axis=1, dtype=np.float64)
            disp[start:start + chunk, 1] = (dy * inv).sum(axis=1, dtype=np.float64)
        disp *= scale * k * k
        if len(u):
            d = pos[u] - pos[v]
            f = d * (np.sqrt(np.einsum("ij,ij->i", d, d)) / k)[:, None]
            for c in range(2):
                disp[:, c] += (np.bincount(v, f[:, c], minlength=n)
                               - np.bincount(u, f[:, c], minlength=n))
        disp -= gravity * pos
        length = np.sqrt(np.einsum("ij,ij->i", disp, disp))
        length[length == 0] = 1.0
        pos += disp * (np.minimum(length, temp) / length)[:, None]
        temp -= cool
    return pos


def draw_network(graph: nx.Graph, out_path, *, seed: int = 0,
                 display_energy: Callable[[float], float] | None = None,
                 energy_label: str = "energy", title: str | None = None) -> Path:
    """Draw the network: node area proportional to degree, colour by energy.

    Parameters
    ----------
    graph : networkx.Graph
        Nodes with attribute ``energy`` (as from :func:`minima_graph`); without it
        nodes are coloured by degree.
    out_path : path-like
        ``.png``, ``.svg`` or ``.pdf`` (the format follows the suffix); written atomically.
    seed : int
        Seed of the spring layout (:func:`spring_layout`; same seed, same drawing).
    display_energy : callable, optional
        Maps a stored energy to the displayed one (e.g. per spin for pspin).
    energy_label : str
        Label of the colour bar.
    title : str, optional
        Figure title; default names the numbers of minima and edges.

    Returns
    -------
    pathlib.Path
        ``out_path``.

    Notes
    -----
    Isolated minima (degree 0) are drawn as small grey-edged dots.  Node ids are written
    next to the nodes for graphs of at most 60 nodes; the global minimum is ringed.
    """
    out_path = Path(out_path)
    fmt = _FIGURE_SUFFIXES.get(out_path.suffix.lower())
    if fmt is None:
        raise InputError(f"{out_path}: the drawing must be .png, .svg or .pdf")
    n = graph.number_of_nodes()
    if n == 0:
        raise InputError(f"{out_path}: the network has no nodes (no minima) to draw")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    from mlcore.database import atomic_path

    _n, eu, ev, nodes = _edges_of(graph)
    xy = spring_layout(n, eu, ev, np.random.default_rng(seed))
    degree = np.array([graph.degree(node) for node in nodes], dtype=np.float64)
    energies = [graph.nodes[node].get("energy") for node in nodes]
    if all(e is not None for e in energies):
        colour = np.array([display_energy(e) if display_energy else e for e in energies],
                          dtype=np.float64)
        colour_label = energy_label
    else:
        colour, colour_label = degree, "degree"
    base = float(np.clip(3000.0 / n, 3.0, 150.0))
    mean_deg = degree.mean() if degree.mean() > 0 else 1.0
    size = np.where(degree > 0, base * degree / mean_deg, base * 0.3)

    fig, ax = plt.subplots(figsize=(9, 8))
    index = {node: i for i, node in enumerate(nodes)}
    segments = [(xy[index[a]], xy[index[b]]) for a, b in graph.edges if a != b]
    if segments:
        ax.add_collection(LineCollection(segments, colors="0.5",
                                         linewidths=0.8 if n <= 500 else 0.25,
                                         alpha=0.6 if n <= 500 else 0.3, zorder=1))
    order = np.argsort(-colour)                   # low energies drawn on top
    sc = ax.scatter(xy[order, 0], xy[order, 1], s=size[order], c=colour[order],
                    cmap="viridis", edgecolors="0.2", linewidths=0.2 if n > 500 else 0.5,
                    zorder=2)
    fig.colorbar(sc, ax=ax, label=colour_label, shrink=0.8)
    if colour_label != "degree":
        g = int(np.argmin(colour))
        ax.scatter([xy[g, 0]], [xy[g, 1]], s=size[g] * 2.5 + 40, facecolors="none",
                   edgecolors="tab:red", linewidths=1.5, zorder=3,
                   label=f"global minimum ({nodes[g]})")
        ax.legend(loc="upper right", fontsize=8)
    if n <= 60:
        for i, node in enumerate(nodes):
            ax.annotate(str(node), xy[i], fontsize=7, xytext=(3, 3),
                        textcoords="offset points", zorder=4)
    ax.set_title(title or f"Network of minima: {n} minima, {graph.number_of_edges()} "
                          "pairs joined by transition states\n(node area proportional "
                          "to degree)", fontsize=10)
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.set_axis_off()
    fig.tight_layout()
    with atomic_path(out_path) as tmp:
        fig.savefig(tmp, format=fmt, dpi=150)
    plt.close(fig)
    return out_path
