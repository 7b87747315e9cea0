"""Network of minima: graph from the file, statistics against networkx, drawing."""
import json
import math

import networkx as nx
import numpy as np
import pytest

from mlanalyse.network import (
    draw_network,
    gnm_edges,
    minima_graph,
    network_statistics,
    spring_layout,
)
from mlcore.database import Database, DatabaseReader
from mlcore.errors import InputError


def _lcc(graph):
    return graph.subgraph(max(nx.connected_components(graph), key=len))


def _check_against_networkx(graph, stats):
    lcc = _lcc(graph)
    assert stats["nodes"] == graph.number_of_nodes()
    assert stats["edges"] == graph.number_of_edges()
    assert stats["mean_degree"] == pytest.approx(
        2 * graph.number_of_edges() / graph.number_of_nodes(), rel=1e-15)
    assert stats["degree_histogram"] == nx.degree_histogram(graph)
    assert stats["max_degree"] == max(d for _, d in graph.degree)
    assert stats["n_components"] == nx.number_connected_components(graph)
    assert stats["largest_component_nodes"] == lcc.number_of_nodes()
    assert stats["largest_component_edges"] == lcc.number_of_edges()
    assert stats["average_clustering"] == pytest.approx(nx.average_clustering(graph),
                                                        rel=1e-12, abs=1e-15)
    assert stats["transitivity"] == pytest.approx(nx.transitivity(graph), rel=1e-12,
                                                  abs=1e-15)
    assert stats["n_triangles"] == sum(nx.triangles(graph).values()) // 3
    assert stats["path_statistics_on"] == "largest connected component"


GRAPHS = {
    "gnm sparse, disconnected": lambda: nx.gnm_random_graph(300, 330, seed=1),
    "gnm dense": lambda: nx.gnm_random_graph(120, 1500, seed=2),
    "clustered with hubs": lambda: nx.powerlaw_cluster_graph(400, 3, 0.6, seed=3),
    "small world": lambda: nx.connected_watts_strogatz_graph(200, 6, 0.1, seed=4),
    "star plus clique": lambda: nx.union(nx.star_graph(60), nx.complete_graph(range(61, 75))),
    "path": lambda: nx.path_graph(40),
}


@pytest.mark.parametrize("name", list(GRAPHS))
def test_exact_statistics_equal_networkx(name):
    graph = GRAPHS[name]()
    stats = network_statistics(graph, n_random=2, rng=np.random.default_rng(5))
    _check_against_networkx(graph, stats)
    lcc = _lcc(graph)
    assert stats["shortest_path_method"] == "exact"
    assert stats["mean_shortest_path_stderr"] == 0.0
    assert stats["mean_shortest_path"] == pytest.approx(nx.average_shortest_path_length(lcc),
                                                        rel=1e-13)
    assert stats["diameter"] == nx.diameter(lcc)
    assert stats["diameter_method"] == "exact"
    json.dumps(stats, allow_nan=False)


@pytest.mark.parametrize("name", ["gnm sparse, disconnected", "clustered with hubs",
                                  "path", "small world"])
def test_sampled_paths_and_bounded_diameter(name):
    graph = GRAPHS[name]()
    lcc = _lcc(graph)
    k = 25
    stats = network_statistics(graph, n_random=1, rng=np.random.default_rng(6),
                               exact_limit=10, n_samples=k)
    _check_against_networkx(graph, stats)
    assert stats["shortest_path_method"] == f"sampled ({k} sources)"
    exact = nx.average_shortest_path_length(lcc)
    err = stats["mean_shortest_path_stderr"]
    assert 0 < err < 0.2 * exact
    assert abs(stats["mean_shortest_path"] - exact) < 5 * err
    # the diameter by eccentricity bounds is still exact
    assert stats["diameter"] == nx.diameter(lcc)
    assert stats["diameter_method"].startswith("exact (eccentricity bounds")


def test_sample_of_all_sources_is_exact_mean():
    graph = nx.gnm_random_graph(80, 160, seed=7)
    lcc = _lcc(graph)
    stats = network_statistics(graph, n_random=0, rng=np.random.default_rng(1),
                               exact_limit=1, n_samples=10_000)
    assert stats["mean_shortest_path"] == pytest.approx(nx.average_shortest_path_length(lcc),
                                                        rel=1e-13)
    assert stats["mean_shortest_path_stderr"] == 0.0


def test_random_reference_and_small_world_ratio():
    ws = nx.connected_watts_strogatz_graph(600, 8, 0.05, seed=8)
    stats = network_statistics(ws, n_random=5, rng=np.random.default_rng(2))
    rnd = stats["random_graphs"]
    assert rnd["n_graphs"] == 5
    # G(n, m) with n = 600, m = 2400: C_r ~ p = 2m / n^2, L_r ~ ln n / ln <k>
    assert rnd["mean"]["average_clustering"] == pytest.approx(2 * 2400 / 600 ** 2, rel=0.5)
    assert rnd["mean"]["mean_shortest_path"] == pytest.approx(math.log(600) / math.log(8),
                                                              rel=0.15)
    sw = stats["small_world"]
    assert sw["clustering_ratio"] == pytest.approx(
        stats["average_clustering"] / rnd["mean"]["average_clustering"], rel=1e-15)
    assert sw["path_length_ratio"] == pytest.approx(
        stats["mean_shortest_path"] / rnd["mean"]["mean_shortest_path"], rel=1e-15)
    assert sw["sigma"] == pytest.approx(sw["clustering_ratio"] / sw["path_length_ratio"],
                                        rel=1e-15)
    assert sw["sigma"] > 10          # a small world
    # a random graph compared with random graphs: sigma near 1
    gnm = nx.gnm_random_graph(600, 6000, seed=9)
    s2 = network_statistics(gnm, n_random=5, rng=np.random.default_rng(3))
    assert s2["small_world"]["sigma"] == pytest.approx(1.0, abs=0.2)
    assert s2["random_graphs"]["std"]["average_clustering"] > 0


def test_reproducible_with_same_generator():
    graph = nx.gnm_random_graph(200, 300, seed=10)
    a = network_statistics(graph, n_random=3, rng=np.random.default_rng(4), exact_limit=50)
    b = network_statistics(graph, n_random=3, rng=np.random.default_rng(4), exact_limit=50)
    assert a == b


def test_degenerate_graphs_are_json_safe():
    graph = nx.empty_graph(5)                      # no edges
    stats = network_statistics(graph, n_random=3, rng=np.random.default_rng(0))
    json.dumps(stats, allow_nan=False)
    assert stats["mean_shortest_path"] is None and stats["diameter"] == 0
    assert stats["average_clustering"] == 0.0 and stats["degree_histogram"] == [5]
    assert stats["small_world"]["sigma"] is None
    with pytest.raises(InputError, match="no nodes"):
        network_statistics(nx.Graph(), rng=np.random.default_rng(0))


def test_self_loops_are_ignored():
    graph = nx.path_graph(5)
    graph.add_edge(2, 2)
    stats = network_statistics(graph, n_random=0, rng=np.random.default_rng(0))
    assert stats["edges"] == 4 and stats["degree_histogram"] == [0, 2, 3]


def test_gnm_edges_are_uniform_distinct_pairs():
    rng = np.random.default_rng(11)
    for n, m in [(2, 1), (10, 45), (1000, 3000), (50_000, 70_000)]:
        u, v = gnm_edges(n, m, rng)
        assert len(u) == m and np.all(u < v) and u.min() >= 0 and v.max() < n
        assert len(np.unique(u * n + v)) == m
    counts = np.zeros((4, 4))
    for _ in range(3000):
        u, v = gnm_edges(4, 2, rng)
        counts[u, v] += 1
    pairs = counts[np.triu_indices(4, 1)]
    assert np.allclose(pairs / 3000, 2 / 6, atol=0.035)    # each pair with p = m / 6
    with pytest.raises(ValueError):
        gnm_edges(4, 7, rng)


# ---------------------------------------------------------------------------- from a file
NDIM = 3


def _file(path, minima, ts):
    with Database.create(path, {"kind": "python", "target": "x.py:X"}, ndim=NDIM) as db:
        for i, e in enumerate(minima):
            db.add_minimum(e, np.full(NDIM, float(i)))
        for j, (e, a, b) in enumerate(ts):
            db.add_ts(e, np.full(NDIM, 100.0 + j), a, b)
    return DatabaseReader(path)


def test_minima_graph_from_file(tmp_path):
    reader = _file(tmp_path / "g.h5", [-1.0, -2.0, -0.5, -3.0, 0.25],
                   [(0.5, 1, 2), (0.2, 2, 1), (0.7, 2, 3), (0.9, 3, 3), (0.1, 3, 4)])
    graph = minima_graph(reader)
    assert sorted(graph.nodes) == [1, 2, 3, 4, 5]                # minimum 5 isolated
    assert sorted(tuple(sorted(e)) for e in graph.edges) == [(1, 2), (2, 3), (3, 4)]
    assert graph.nodes[4]["energy"] == -3.0
    assert graph.edges[1, 2]["n_ts"] == 2 and graph.edges[1, 2]["ts_energy"] == 0.2
    assert graph.edges[3, 4]["n_ts"] == 1 and graph.edges[3, 4]["ts_energy"] == 0.1
    stats = network_statistics(graph, n_random=2, rng=np.random.default_rng(0))
    assert stats["n_components"] == 2 and stats["n_isolated"] == 1
    assert stats["mean_shortest_path"] == pytest.approx(20 / 12, rel=1e-15)   # path P4
    assert stats["diameter"] == 3


def test_empty_file_gives_input_error(tmp_path):
    reader = _file(tmp_path / "empty.h5", [], [])
    with pytest.raises(InputError, match="no minima"):
        minima_graph(reader)


# ---------------------------------------------------------------------------- drawing
@pytest.mark.parametrize("suffix,magic", [(".png", b"\x89PNG"), (".svg", b"<?xml"),
                                          (".pdf", b"%PDF")])
def test_draw_network_writes_the_format_of_the_suffix(tmp_path, suffix, magic):
    reader = _file(tmp_path / "g.h5", [-1.0, -2.0, -0.5, -3.0],
                   [(0.5, 1, 2), (0.7, 2, 3), (0.1, 3, 4), (0.3, 1, 3)])
    out = tmp_path / f"net{suffix}"
    assert draw_network(minima_graph(reader), out, energy_label="energy per spin",
                        display_energy=lambda e: e / 4) == out
    assert out.read_bytes().startswith(magic)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_draw_network_rejects_unknown_suffix(tmp_path):
    with pytest.raises(InputError, match="png"):
        draw_network(nx.path_graph(3), tmp_path / "net.jpg")
    assert not (tmp_path / "net.jpg").exists()


def test_draw_network_without_energies_colours_by_degree(tmp_path):
    out = draw_network(nx.gnm_random_graph(400, 700, seed=1), tmp_path / "big.png")
    assert out.stat().st_size > 10_000


def test_spring_layout_is_seeded_and_pulls_neighbours_together():
    rng_edges = np.random.default_rng(12)
    u, v = gnm_edges(800, 1300, rng_edges)
    # sampled repulsion (300 of 800 nodes per step), as for large graphs
    a = spring_layout(800, u, v, np.random.default_rng(3), iterations=60, max_repulsors=300)
    b = spring_layout(800, u, v, np.random.default_rng(3), iterations=60, max_repulsors=300)
    assert a.shape == (800, 2) and np.all(np.isfinite(a))
    assert np.array_equal(a, b)
    joined = np.linalg.norm(a[u] - a[v], axis=1).mean()
    rand = np.random.default_rng(0).integers(0, 800, (2, 5000))
    apart = np.linalg.norm(a[rand[0]] - a[rand[1]], axis=1).mean()
    assert joined < 0.5 * apart
    assert spring_layout(1, u[:0], v[:0], np.random.default_rng(0)).shape == (1, 2)


def test_benchmark_runs_small(capsys):
    import importlib
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    try:
        bench = importlib.import_module("bench_network")
    finally:
        sys.path.pop(0)
    result = bench.main(["--minima", "400", "--ts", "700", "--random", "2", "--repeat", "1"])
    assert result["stats"]["nodes"] == 400
    assert 0 < result["stats"]["edges"] <= 700
    assert result["stats"]["shortest_path_method"] == "exact"
    assert "network_statistics: best" in capsys.readouterr().out


def test_single_sampled_source_has_no_stderr():
    graph = nx.path_graph(30)
    stats = network_statistics(graph, n_random=1, rng=np.random.default_rng(0),
                               exact_limit=5, n_samples=1)
    json.dumps(stats, allow_nan=False)
    assert stats["mean_shortest_path_stderr"] is None
    assert stats["shortest_path_method"] == "sampled (1 sources)"
    assert stats["diameter"] == 29
