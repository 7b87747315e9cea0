"""Disconnectivity graphs: superbasins and trees on hand-made networks, layout, drawing, files."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components as cc_scipy

from mlanalyse.disconnectivity import (
    _segments,
    connected_components,
    draw_dgraph,
    energy_levels,
    layout,
    run_dgraph,
    superbasin_tree,
)
from mlcore.database import Database
from mlcore.errors import InputError

PNG = b"\x89PNG\r\n\x1a\n"


def nested(tree, node=None):
    """Canonical form: a leaf is ('leaf', members, end energy); a node is (energy, children)."""
    if node is None:
        return sorted((nested(tree, r) for r in tree.roots), key=repr)
    kids = tree.children(node)
    if len(kids) == 0:
        return ("leaf", tuple(tree.members(node).tolist()), float(tree.energy[node]))
    return (float(tree.energy[node]), tuple(sorted((nested(tree, c) for c in kids), key=repr)))


def test_four_minima_tree_is_the_known_one():
    #  0 -(5)- 1 -(8)- 2 -(4)- 3, energies 0 1 2 3
    tree = superbasin_tree([0, 1, 2, 3], [0, 1, 2], [1, 2, 3], [5, 8, 4], [2.5, 4.5, 6, 9])
    assert tree.superbasins(0) == [{0}, {1}, {2}]          # 3 lies above 2.5
    assert tree.superbasins(1) == [{0}, {1}, {2, 3}]
    assert tree.superbasins(2) == [{0, 1}, {2, 3}]
    assert tree.superbasins(3) == [{0, 1, 2, 3}]
    assert nested(tree) == [
        (9.0, ((4.5, (("leaf", (2,), 2.0), ("leaf", (3,), 3.0))),
               (6.0, (("leaf", (0,), 0.0), ("leaf", (1,), 1.0)))))]
    assert tree.n_in_tree == 4 and tree.n_nodes == 7


def test_lowest_level_basins_collapse_and_single_children_merge():
    # Three minima joined below the lowest level: one leaf of size 3 ending at the lowest.
    # Minimum 3 joins at level 1; minimum 4 (energy above the top) is not in the tree.
    e = [0.3, 0.0, 0.2, 1.5, 9.0]
    tree = superbasin_tree(e, [0, 1, 2, 3], [1, 2, 3, 4], [0.5, 0.6, 1.8, 9.5],
                           [1.0, 2.0, 3.0])
    assert nested(tree) == [(2.0, (("leaf", (0, 1, 2), 0.0), ("leaf", (3,), 1.5)))]
    leaf = next(n for n in range(tree.n_nodes) if tree.level[n] < 0 and tree.size[n] == 3)
    assert tree.lowest[leaf] == 1
    assert tree.n_in_tree == 4
    assert np.all(tree.basin_labels[:, 4] == -1)
    # Level 3.0 has the same single basin as level 2.0: merged, so the root is at 2.0.
    assert len(tree.roots) == 1 and tree.energy[tree.roots[0]] == 2.0


def test_disconnected_network_gives_a_forest_and_ts_below_a_minimum_waits_for_it():
    # TS 0-1 at 0.5 lies below minimum 1 (energy 1.2): they join only once 1 exists.
    e = [0.0, 1.2, 0.1, 0.4]
    tree = superbasin_tree(e, [0, 2], [1, 3], [0.5, 0.7], [1.0, 2.0])
    assert tree.superbasins(0) == [{0}, {2, 3}]
    assert tree.superbasins(1) == [{0, 1}, {2, 3}]
    assert nested(tree) == sorted([
        (2.0, (("leaf", (0,), 0.0), ("leaf", (1,), 1.2))),
        ("leaf", (2, 3), 0.1)], key=repr)
    assert [tree.lowest[r] for r in tree.roots] == [0, 2]
    # self-loops are ignored
    t2 = superbasin_tree([0.0, 1.0], [0, 0], [0, 1], [0.5, 3.0], [2.0, 4.0])
    assert t2.superbasins(0) == [{0}, {1}]


def test_superbasins_match_connected_components_level_by_level():
    rng = np.random.default_rng(11)
    for trial in range(5):
        n, m = 300, 420
        e = rng.normal(size=n)
        a, b = rng.integers(0, n, m), rng.integers(0, n, m)
        te = np.maximum(e[a], e[b]) + rng.exponential(0.5, m)
        te[:10] = np.minimum(e[a[:10]], e[b[:10]]) - 0.1      # some inconsistent TS
        levels = energy_levels(e.min(), 2.5, 12)
        tree = superbasin_tree(e, a, b, te, levels)
        for k, L in enumerate(levels):
            present = e < L
            ok = (a != b) & (te < L) & present[a] & present[b]
            g = coo_matrix((np.ones(ok.sum()), (a[ok], b[ok])), shape=(n, n))
            _, lab = cc_scipy(g, directed=False)
            expected = {}
            for i in np.flatnonzero(present):
                expected.setdefault(lab[i], set()).add(int(i))
            assert sorted(map(sorted, tree.superbasins(k))) == \
                sorted(map(sorted, expected.values()))
        # every node's size = its members; children partition their parent
        for nd in range(tree.n_nodes):
            mem = tree.members(nd)
            assert len(mem) == tree.size[nd]
            assert tree.lowest[nd] == mem[np.argmin(e[mem])]
            kids = tree.children(nd)
            if len(kids):
                assert len(kids) >= 2                          # single children merged
                got = np.sort(np.concatenate([tree.members(c) for c in kids]))
                np.testing.assert_array_equal(got, mem)


def test_layout_centres_the_global_minimum_and_orders_by_size():
    # Root at 9 with: big basin {0,1,2} (gmin 0), small {3}, medium {4,5}
    e = [0.0, 0.5, 0.6, 0.2, 0.3, 0.35]
    a, b, te = [0, 0, 4, 0, 0], [1, 2, 5, 3, 4], [1.5, 1.6, 1.7, 5.0, 6.0]
    tree = superbasin_tree(e, a, b, te, [1.0, 2.0, 9.0])
    x = layout(tree, order="size")
    leaves = np.flatnonzero(tree.level < 0)
    leaf0 = leaves[tree.lowest[leaves] == 0][0]
    assert x[leaf0] == 0.0
    # leaves on distinct unit-spaced positions
    np.testing.assert_array_equal(np.sort(x[leaves]), np.arange(len(leaves)) - np.sort(
        x[leaves]).tolist().index(0.0))
    # the trunk above the global minimum is straight
    node = leaf0
    while tree.parent[node] >= 0:
        node = tree.parent[node]
        assert x[node] == 0.0
    # the larger sibling ({4, 5}: 2 leaves) is placed beside the trunk, on the lighter side
    root = tree.roots[0]
    kids = tree.children(root)
    by_lowest = {int(tree.lowest[c]): c for c in kids}
    assert set(by_lowest) == {0, 3, 4}
    assert np.sign(x[by_lowest[4]]) != np.sign(x[by_lowest[3]])
    with pytest.raises(InputError):
        layout(tree, order="colour")


def test_segments_end_at_minimum_energies_and_join_at_thresholds():
    tree = superbasin_tree([0, 1, 2, 3], [0, 1, 2], [1, 2, 3], [5, 8, 4], [2.5, 4.5, 6, 9])
    x = layout(tree)
    segs, owner = _segments(tree, x)
    for nd in np.flatnonzero(tree.level < 0):
        ends = segs[owner == nd][:, 1, 1]
        assert ends.min() == tree.energies[tree.lowest[nd]]
    # every segment starts at its parent's threshold (or at the top stub for the root)
    for s, nd in zip(segs, owner):
        p = tree.parent[nd]
        assert s[0, 1] in (tree.energy[p] if p >= 0 else 9.0 + 0.75, s[0, 1])
    assert segs[:, :, 1].max() == pytest.approx(9.0 + 0.5 * 1.5)


def test_draw_png_and_svg_with_colour(tmp_path):
    rng = np.random.default_rng(2)
    e = rng.normal(size=60)
    a = np.arange(59)
    b = a + 1
    te = np.maximum(e[a], e[b]) + rng.exponential(0.4, 59)
    tree = superbasin_tree(e, a, b, te, energy_levels(e.min(), te.max() + 0.1, 10))
    info = draw_dgraph(tree, tmp_path / "g.png", colour_values=np.where(e > 0, e, np.nan),
                       colour_label="x", energy_label="loss", title="t")
    assert (tmp_path / "g.png").read_bytes()[:8] == PNG
    assert info["n_leaves"] == int(np.count_nonzero(tree.level < 0))
    draw_dgraph(tree, tmp_path / "g.svg")
    assert b"<svg" in (tmp_path / "g.svg").read_bytes()[:1000]
    with pytest.raises(InputError):
        draw_dgraph(tree, tmp_path / "bad.png", colour_values=np.zeros(3))
    assert not (tmp_path / "bad.png").exists()


def test_connected_components_labels():
    lab = connected_components(6, np.array([0, 2, 4]), np.array([1, 3, 2]))
    assert lab[0] == lab[1] and lab[2] == lab[3] == lab[4] and lab[5] not in lab[:5]
    assert sorted(set(lab.tolist())) == [0, 1, 2]


# ---------------------------------------------------------------------------- files
def _file(path, energies, ts):
    """A cluster (LJ3) file with the given minima and transition states (1-based ids)."""
    with Database.create(path, {"kind": "cluster", "natoms": 3}, ndim=9,
                         identity=lambda *args: False, energy_tol=1e-9) as db:
        for k, v in enumerate(energies):
            db.add_minimum(float(v), np.full(9, float(k)))
        for k, (m1, m2, v) in enumerate(ts):
            db.add_ts(float(v), np.full(9, -1.0 - k), m1, m2)
    return path


def test_run_dgraph_on_a_file_with_two_components(tmp_path):
    e = [0.0, 1.0, 2.0, 3.0, -1.0, 0.5, 4.0]           # 5 (id) is the global minimum
    ts = [(1, 2, 5.0), (3, 4, 4.0), (2, 3, 8.0), (5, 6, 2.0)]   # 7 isolated
    path = _file(tmp_path / "n.h5", e, ts)
    out = tmp_path / "d.png"
    info = run_dgraph(path, out, levels=5)
    assert out.read_bytes()[:8] == PNG
    assert info["n_components"] == 3
    assert info["left_out_components"] == 2 and info["left_out_minima"] == 5
    assert info["n_drawn"] == 2
    assert any("3 connected components" in s and "left out 2 other components with 5 minima"
               in s for s in info["notes"])
    # the gmin component {5, 6} merges at 2.0: top = 2.0 + (2.0 - (-1.0)) / 4
    assert info["emax"] == pytest.approx(2.75)
    # the component of minimum 1, fixed top: levels end exactly at emax
    info = run_dgraph(path, out, levels=4, emax=6.0, component=1, colour_by="energy")
    assert info["levels"][-1] == 6.0 and info["n_drawn"] == 4
    assert info["levels"] == pytest.approx([1.5, 3.0, 4.5, 6.0])
    info = run_dgraph(path, tmp_path / "all.svg", component="all", colour_by="n_zero")
    assert info["n_drawn"] == 7 and info["above_emax"] == 0     # top: 8 + 9 / 19
    assert info["emax"] == pytest.approx(8.0 + 9.0 / 19.0)
    info = run_dgraph(path, out, component="all", emax=3.5)
    assert info["n_drawn"] == 6 and info["above_emax"] == 1     # 7 (4.0) is not drawn
    assert any("1 minimum lies at or above the top level" in s for s in info["notes"])
    info = run_dgraph(path, out, lowest=3, component="all")     # ids 5, 1, 6
    assert info["n_drawn"] == 3
    custom = np.arange(7.0)
    info = run_dgraph(path, out, colour_by=custom, colour_label="index")
    assert info["n_drawn"] == 2


def test_run_dgraph_input_errors(tmp_path):
    with pytest.raises(InputError, match="no minima"):
        run_dgraph(_file(tmp_path / "a.h5", [], []), tmp_path / "a.png")
    with pytest.raises(InputError, match="no transition states"):
        run_dgraph(_file(tmp_path / "b.h5", [0.0, 1.0], []), tmp_path / "b.png")
    path = _file(tmp_path / "c.h5", [0.0, 1.0], [(1, 2, 3.0)])
    with pytest.raises(InputError, match="not a column"):
        run_dgraph(path, tmp_path / "c.png", colour_by="charm")
    with pytest.raises(InputError, match="above the lowest"):
        run_dgraph(path, tmp_path / "c.png", emax=-1.0)
    with pytest.raises(InputError, match="levels"):
        run_dgraph(path, tmp_path / "c.png", levels=0)
    with pytest.raises(InputError, match="colour values"):
        run_dgraph(path, tmp_path / "c.png", colour_by=[1.0])
    assert not (tmp_path / "c.png").exists()
    lonely = _file(tmp_path / "d.h5", [0.0, 1.0, 2.0], [(2, 3, 3.0)])   # gmin isolated
    with pytest.raises(InputError, match=r"single minimum\); try component='all'"):
        run_dgraph(lonely, tmp_path / "d.png")
    assert run_dgraph(lonely, tmp_path / "d.png", component="all")["n_drawn"] == 3


def test_dgraph_coloured_by_misclassification_of_a_network(tmp_path):
    """The misclassification index (fraction of the test set misclassified) of each
    minimum of a triatomic network, computed from the stored landscape."""
    from mlanalyse.quantities import per_minimum_quantity
    from tests.stored_files import minima_file

    path, system, coords = minima_file(tmp_path / "nn.h5", {"kind": "nn", "hidden": 3, "data": {
        "kind": "triatomic", "n_sequences": 300, "n_train": 150, "n_test": 150}},
        n_random=3, seed=2, ts=[(10.0, 1, 2), (11.0, 2, 3)])
    values, label = per_minimum_quantity(system, coords, "misclassification")
    wrong = [np.mean(np.argmax(_test_outputs(system, c), axis=1) != system.y_test)
             for c in coords]
    np.testing.assert_allclose(values, wrong)
    assert "test" in label and all(0.0 <= v <= 1.0 for v in values)
    train, _ = per_minimum_quantity(system, coords, "misclassification_train")
    np.testing.assert_allclose(train, [np.mean(system.misclassified(c)) for c in coords])
    info = run_dgraph(path, tmp_path / "nn.png", colour_by="misclassification")
    assert info["n_drawn"] == 3 and (tmp_path / "nn.png").read_bytes()[:8] == PNG
    # a cluster file has no classifier
    lj = _file(tmp_path / "lj.h5", [0.0, 1.0], [(1, 2, 3.0)])
    with pytest.raises(InputError, match="only network"):
        run_dgraph(lj, tmp_path / "lj.png", colour_by="misclassification")


def _test_outputs(system, coords):
    """Network outputs on the (already standardised) test inputs, written out."""
    w2, bh, w1, bo = system.unpack(coords)
    return np.tanh(system.x_test @ w2.T + bh) @ w1.T + bo
