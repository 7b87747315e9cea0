"""mlpathsample grow: the 'untrap' and 'shortcut' strategies, and growth on Dask clusters.

Hand-made networks (minima and transition states written directly into a file) check that
each strategy picks the pairs it should and never repeats a pair already tried; the
regression landscape checks whole growth runs, serial and on Dask (an in-process cluster,
and a scheduler plus a worker started as separate processes through a scheduler file),
which must find the same stationary points.
"""
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from mlcore.config import apply_overrides, parse_input
from mlcore.database import Database, DatabaseReader
from mlcore.landscape import System
from mlpathsample.grow import (
    _Components,
    _edge_graph,
    barriers_to_global_minimum,
    best_path,
    pairs_shortcut,
    pairs_unconnected,
    pairs_untrap,
    shortcut_segments,
    untrap_ranking,
)

BINDIR = Path(sys.executable).parent
MLPATHSAMPLE = str(BINDIR / "mlpathsample")


class Plane(System):
    """Two flat coordinates, no symmetry: the aligned distance is the Euclidean one."""

    ndim = 2

    def energy_gradient(self, coords):  # pragma: no cover - never evaluated here
        return 0.0, np.zeros(2)


def _network(path, minima, ts, tried=()):
    """Write a file: ``minima`` [(energy, (x, y))], ``ts`` [(energy, min1, min2)] (1-based),
    ``tried`` [(min1, min2, outcome)]; returns the open writer."""
    db = Database.create(path, {"kind": "python", "target": "plane:Plane"}, ndim=2)
    for e, xy in minima:
        db.add_minimum(e, xy)
    for k, (e, a, b) in enumerate(ts):
        db.add_ts(e, [100.0 + k, 0.0], a, b)
    for a, b, outcome in tried:
        db.add_tried_pair(a, b, outcome)
    db.commit()
    return db


# ---------------------------------------------------------------------------- unconnected
UNCONNECTED_MINIMA = [(0.0, (0.0, 0.0)), (1.0, (1.0, 0.0)), (2.0, (5.0, 0.0)),
                      (1.5, (5.5, 0.0)), (3.0, (-2.0, 0.0)), (0.5, (0.5, 0.0))]
UNCONNECTED_TS = [(5.0, 3, 4), (4.0, 1, 6)]     # components {1, 6} {3, 4} {2} {5}


def _unconnected_pairs(tmp_path, count, busy=(), tried=()):
    import uuid

    db = _network(tmp_path / f"{uuid.uuid4().hex}.h5", UNCONNECTED_MINIMA, UNCONNECTED_TS,
                  tried)
    try:
        ts = db.ts()
        comps = _Components(db.n_minima, ts.min1, ts.min2)
        return pairs_unconnected(db, Plane(), comps, count, set(busy), 3)
    finally:
        db.close()


def test_unconnected_pairs_lowest_outside_minimum_with_nearest_inside(tmp_path):
    """One pair per outside component first (lowest minimum of it first), then the rest;
    partners inside the global minimum's component may repeat."""
    assert _unconnected_pairs(tmp_path, 2) == [(2, 6), (4, 6)]
    assert _unconnected_pairs(tmp_path, 4) == [(2, 6), (4, 6), (5, 1), (3, 6)]
    assert _unconnected_pairs(tmp_path, 9) == [(2, 6), (4, 6), (5, 1), (3, 6)]


def test_unconnected_pairs_skip_busy_and_exhausted_pairs(tmp_path):
    assert _unconnected_pairs(tmp_path, 2, busy={2}) == [(4, 6), (5, 1)]
    # (2, 6) tried max_tries times: the next-nearest inside minimum; (4, 6) once: again
    tried = [(2, 6, 1)] * 3 + [(4, 6, 1)]
    assert _unconnected_pairs(tmp_path, 2, tried=tried) == [(2, 1), (4, 6)]


# ---------------------------------------------------------------------------- superbasins
def _minimax_brute_force(energies, ts_e, a, b):
    """Lowest threshold (a TS energy) at which each minimum is joined to the global minimum,
    from the connected components of the graph at every threshold."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(energies)
    gm = int(np.argmin(energies))
    out = np.full(n, np.inf)
    out[gm] = -np.inf
    for level in np.sort(ts_e):
        use = ts_e <= level
        g = coo_matrix((np.ones(use.sum()), (a[use] - 1, b[use] - 1)), shape=(n, n))
        _, labels = connected_components(g, directed=False)
        newly = (labels == labels[gm]) & np.isinf(out) & (out > 0)
        out[newly] = level
    return out


@pytest.mark.parametrize("seed", range(5))
def test_barriers_are_the_minimax_energies(seed):
    rng = np.random.default_rng(seed)
    n, m = 30, 45
    energies = rng.uniform(-5.0, 0.0, n)
    a = rng.integers(1, n + 1, m)
    b = rng.integers(1, n + 1, m)
    ts_e = np.maximum(energies[a - 1], energies[b - 1]) + rng.exponential(1.0, m)
    barrier, gm = barriers_to_global_minimum(energies, ts_e, a, b)
    assert gm == int(np.argmin(energies))
    np.testing.assert_array_equal(barrier, _minimax_brute_force(energies, ts_e, a, b))
    assert np.isinf(barrier).sum() > 1        # some minima are not connected: +inf


def test_untrap_ratios_of_a_small_network():
    # GM 1 (E 0); 2 joins at 2.0, 3 at 3.0, 5 at 3.5, and the trap 4 only at 6.0
    energies = np.array([0.0, 1.0, 2.0, 0.5, 3.0])
    ts_e = np.array([2.0, 3.0, 3.5, 6.0, 7.0])
    a, b = np.array([1, 2, 3, 4, 1]), np.array([2, 3, 5, 5, 4])
    barrier, gm = barriers_to_global_minimum(energies, ts_e, a, b)
    np.testing.assert_array_equal(barrier, [-np.inf, 2.0, 3.0, 6.0, 3.5])
    order, ratio = untrap_ranking(energies, barrier, gm)
    np.testing.assert_allclose(ratio[1:], [1.0, 0.5, 11.0, 0.5 / 3.0], rtol=1e-14)
    assert np.isnan(ratio[0])
    assert order.tolist() == [3, 1, 2, 4]


# ---------------------------------------------------------------------------- untrap
def _untrap_network(tmp_path, tried=()):
    # GM 1 at (0,0); 2 (E 0.2) at (5,0) and 3 (E 0.3) at (1,0) join it at 1.0; the trap 4
    # (E 0.4, at (6,0)) joins only through 3, at 5.0; 5 is not connected at all
    minima = [(0.0, (0.0, 0.0)), (0.2, (5.0, 0.0)), (0.3, (1.0, 0.0)), (0.4, (6.0, 0.0)),
              (0.5, (9.0, 9.0))]
    ts = [(1.0, 1, 2), (1.0, 1, 3), (5.0, 3, 4)]
    return _network(tmp_path / "untrap.h5", minima, ts, tried)


def test_untrap_pairs_trap_with_nearest_lower_funnel_minimum(tmp_path):
    with _untrap_network(tmp_path) as db:
        busy = set()
        # ratios: 4 -> 11.5, 2 -> 4, 3 -> 2.33; 4's funnel below E 0.4: {1, 2, 3}, nearest 2;
        # 2 is then busy, and 3 pairs with the only minimum below it, 1
        pairs = pairs_untrap(db, Plane(), 4, busy, max_tries=3)
        assert pairs == [(4, 2), (3, 1)]
        assert busy == {1, 2, 3, 4}
        assert pairs_untrap(db, Plane(), 1, set(), max_tries=3) == [(4, 2)]
        # a pool of one partner: the lowest open funnel minimum, not the nearest
        assert pairs_untrap(db, Plane(), 1, set(), max_tries=3, pool=1) == [(4, 1)]


def test_untrap_does_not_repeat_tried_pairs(tmp_path):
    # 4-2 already joined by an earlier job: never again; 4 goes to the next nearest, 3
    with _untrap_network(tmp_path, tried=[(2, 4, 0)]) as db:
        assert pairs_untrap(db, Plane(), 4, set(), max_tries=3) == [(4, 3), (2, 1)]
        # pairs added during the run count as soon as they are recorded
        db.add_tried_pair(4, 3, 0)
        db.add_tried_pair(1, 2, 0)
        # 4: only 1 is left; 2: its only partner 1 is done; 3: its only partner 1 is busy
        assert pairs_untrap(db, Plane(), 4, set(), max_tries=3) == [(4, 1)]


def test_untrap_retries_failed_pairs_up_to_max_tries(tmp_path):
    with _untrap_network(tmp_path, tried=[(4, 2, 1)]) as db:     # failed once
        assert pairs_untrap(db, Plane(), 1, set(), max_tries=2) == [(4, 2)]
        db.add_tried_pair(4, 2, 1)                                 # failed twice
        assert pairs_untrap(db, Plane(), 1, set(), max_tries=2) == [(4, 3)]
        assert pairs_untrap(db, Plane(), 1, set(), max_tries=3) == [(4, 2)]


def test_untrap_pairs_a_minimum_degenerate_with_the_global_one(tmp_path):
    # 2 has the global minimum's energy but sits behind a barrier of 3: an infinite ratio
    minima = [(0.0, (0.0, 0.0)), (0.0, (4.0, 0.0)), (1.0, (1.0, 0.0)), (0.5, (3.0, 0.0))]
    ts = [(3.0, 1, 2), (1.5, 1, 3), (2.0, 1, 4)]
    with _network(tmp_path / "degenerate.h5", minima, ts) as db:
        barrier, gm = barriers_to_global_minimum(db.minima().energy, *(
            db.ts()[k] for k in ("energy", "min1", "min2")))
        order, ratio = untrap_ranking(db.minima().energy, barrier, gm)
        assert gm == 0 and np.isinf(ratio[1]) and order[0] == 1
        # 2's funnel: joined below 3.0 (1, 3, 4) and not higher than 0.0: only 1
        assert pairs_untrap(db, Plane(), 1, set(), max_tries=3) == [(2, 1)]


# ---------------------------------------------------------------------------- shortcut
def _chain_network(tmp_path, tried=()):
    # a chain 1-2-3-4-5-6 from the GM 1 to the trap 6 (E 0.3); the highest step is 2-3 (4.0);
    # a direct 1-6 transition state at 10.0 is shorter but not the minimax path
    energies = [0.0, 1.0, 0.8, 1.2, 0.9, 0.3]
    minima = [(e, (float(i), 0.0)) for i, e in enumerate(energies)]
    ts = [(2.0, 1, 2), (4.0, 2, 3), (2.5, 3, 4), (3.0, 4, 5), (3.5, 5, 6), (10.0, 1, 6)]
    return _network(tmp_path / "chain.h5", minima, ts, tried)


def test_shortcut_segments_span_the_highest_steps_first():
    segs = shortcut_segments([2.0, 4.0, 2.5, 3.0, 3.5], steps=3)
    assert segs[:2] == [(0, 3), (1, 4)]            # over the 4.0 step, three apart
    assert segs[2:4] == [(0, 2), (1, 3)]           # over it, two apart
    assert segs[4:] == [(2, 5), (3, 5), (2, 4)]    # then over 3.5, then 3.0
    assert shortcut_segments([1.0], steps=3) == []


def test_best_path_is_minimax_then_fewest_steps():
    # 0-1-2-3 (highest 2.0) versus 0-3 directly at 5.0 and 0-4-3 (highest also 2.0)
    lo, hi = np.array([0, 1, 2, 0, 0, 3]), np.array([1, 2, 3, 3, 4, 4])
    e = np.array([1.0, 2.0, 1.5, 5.0, 2.0, 1.0])
    edges = _edge_graph(5, e, lo + 1, hi + 1)
    path, steps = best_path(5, edges, 0, 3, 2.0)
    assert path == [0, 4, 3] and steps == [2.0, 1.0]
    path, steps = best_path(5, edges, 0, 3, 1.9)
    assert path == []
    # of several transition states between two minima the lowest is the step's energy
    edges = _edge_graph(2, np.array([3.0, 1.0, 2.0]), np.array([1, 2, 1]), np.array([2, 1, 2]))
    assert best_path(2, edges, 0, 1, 1.0) == ([0, 1], [1.0])


def test_shortcut_pairs_cut_the_best_path_short(tmp_path):
    with _chain_network(tmp_path) as db:
        busy = set()
        pairs = pairs_shortcut(db, Plane(), 4, busy, max_tries=3)
        # the trap 6 (ratio 3.7 / 0.3) first; its path 1-2-3-4-5-6 (not 1-6 at 10.0):
        # positions (0,3), (1,4) over the 4.0 step, then (2,5); the rest meet busy minima
        assert pairs == [(1, 4), (2, 5), (3, 6)]
        assert busy == {1, 2, 3, 4, 5, 6}


def test_shortcut_does_not_repeat_tried_pairs(tmp_path):
    with _chain_network(tmp_path, tried=[(4, 1, 0)]) as db:
        pairs = pairs_shortcut(db, Plane(), 4, set(), max_tries=3)
        assert pairs == [(2, 5), (1, 3), (4, 6)]
        for a, b in pairs:
            db.add_tried_pair(a, b, 0)
        again = pairs_shortcut(db, Plane(), 4, set(), max_tries=3)
        assert not {frozenset(p) for p in again} & {frozenset(p) for p in pairs + [(1, 4)]}
        assert again == [(2, 4), (3, 6)]


def test_strategies_on_a_network_without_traps(tmp_path):
    with _network(tmp_path / "flat.h5", [(0.0, (0.0, 0.0)), (1.0, (1.0, 0.0))],
                  [(1.0, 1, 2)]) as db:       # barrier = own energy: ratio 0, no trap
        assert pairs_untrap(db, Plane(), 4, set()) == []
        assert pairs_shortcut(db, Plane(), 4, set()) == []


# ---------------------------------------------------------------------------- whole runs
REGRESSION = ('[system]\nkind = "regression"\nnpoints = 20\n'
              '[mlgmin]\nsteps = 100\nruns = 2\nseed = 5\n')


@pytest.fixture(scope="module")
def connected_file(tmp_path_factory):
    """Regression landscape (20 data points): basin-hopping, then 'unconnected' growth
    until every minimum is joined to the global minimum."""
    from mlgmin.run import run

    tmp = tmp_path_factory.mktemp("reg")
    inp_path = tmp / "reg.toml"
    inp_path.write_text(REGRESSION)
    inp = parse_input(REGRESSION, path=inp_path)
    run(inp, apply_overrides(inp.mlgmin, "mlgmin", {"executor": "serial"}), tmp / "reg.h5")
    _grow(tmp / "reg.h5", "unconnected", 20, "serial")
    return tmp / "reg.h5"


def _grow(path, strategy, cycles, executor):
    res = subprocess.run([MLPATHSAMPLE, "grow", str(path), "--strategy", strategy,
                          "--cycles", str(cycles), "--executor", executor, "--seed", "3"],
                         capture_output=True, text=True, timeout=300, check=False)
    assert res.returncode == 0, res.stderr
    return res.stdout


def _energies(path):
    reader = DatabaseReader(path)
    return np.sort(reader.minima().energy), np.sort(reader.ts().energy)


def _first_cycle_pairs(path, choose):
    """The pairs ``choose(db, system, busy)`` picks on the file as it is now."""
    from mlcore.session import load_system

    _, system = load_system(path)
    with Database.open_writer(path, identity=system) as db:
        return choose(db, system, set())


def _pairs_of_last_run(path):
    reader = DatabaseReader(path)
    tried = reader.pairs_tried()
    last = tried.run == reader.n_runs
    return list(zip(tried.min1[last].tolist(), tried.min2[last].tolist()))


def _no_pair_repeated_after_success(path, max_tries=3):
    tried = DatabaseReader(path).pairs_tried()
    done, count = set(), {}
    for a, b, outcome in zip(tried.min1.tolist(), tried.min2.tolist(), tried.outcome.tolist()):
        key = frozenset((a, b))
        assert key not in done
        count[key] = count.get(key, 0) + 1
        assert count[key] <= max_tries
        if outcome == 0:
            done.add(key)


@pytest.fixture(scope="module")
def untrap_serial(connected_file, tmp_path_factory):
    path = tmp_path_factory.mktemp("serial") / "reg.h5"
    shutil.copy(connected_file, path)
    expected = _first_cycle_pairs(path, lambda db, s, busy: pairs_untrap(db, s, 4, busy, 3))
    before = DatabaseReader(path).n_ts
    out = _grow(path, "untrap", 2, "serial")
    return path, expected, before, out


def test_grow_untrap_on_the_regression_landscape(untrap_serial):
    path, expected, before, out = untrap_serial
    assert len(expected) >= 2
    pairs = _pairs_of_last_run(path)
    assert pairs[:len(expected)] == expected     # cycle 1: the chosen pairs, in order
    _no_pair_repeated_after_success(path)
    reader = DatabaseReader(path)
    assert reader.n_ts > before, out


def test_grow_shortcut_on_the_regression_landscape(connected_file, tmp_path):
    path = tmp_path / "reg.h5"
    shutil.copy(connected_file, path)
    expected = _first_cycle_pairs(path, lambda db, s, busy: pairs_shortcut(db, s, 4, busy, 3))
    before = DatabaseReader(path).n_ts
    out = _grow(path, "shortcut", 2, "serial")
    assert expected and _pairs_of_last_run(path)[:len(expected)] == expected
    _no_pair_repeated_after_success(path)
    assert DatabaseReader(path).n_ts > before, out


def _same_points(path_a, path_b):
    for ea, eb in zip(_energies(path_a), _energies(path_b)):
        assert len(ea) == len(eb)
        np.testing.assert_allclose(ea, eb, rtol=0, atol=1e-8)


def test_grow_on_an_in_process_dask_cluster_matches_serial(untrap_serial, connected_file,
                                                           tmp_path):
    pytest.importorskip("distributed")
    path = tmp_path / "reg.h5"
    shutil.copy(connected_file, path)
    _grow(path, "untrap", 2, "dask")
    _same_points(path, untrap_serial[0])


def test_grow_through_a_scheduler_file_matches_serial(untrap_serial, connected_file, tmp_path):
    """A scheduler and a worker as separate processes on loopback, found through the
    scheduler file, as on a cluster (docs/cluster.md)."""
    pytest.importorskip("distributed")
    path = tmp_path / "reg.h5"
    shutil.copy(connected_file, path)
    sched_file = tmp_path / "scheduler.json"
    dask = str(BINDIR / "dask")
    procs = []
    try:
        procs.append(subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", "0",
                                       "--scheduler-file", str(sched_file), "--no-dashboard"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        deadline = time.time() + 60
        while not sched_file.exists() and time.time() < deadline:
            time.sleep(0.1)
        assert sched_file.exists()
        procs.append(subprocess.Popen([dask, "worker", "--scheduler-file", str(sched_file),
                                       "--nworkers", "2", "--nthreads", "1", "--no-dashboard"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      env={**os.environ, "OMP_NUM_THREADS": "1"}))
        _grow(path, "untrap", 2, f"dask:{sched_file}")
    finally:
        for proc in reversed(procs):
            proc.terminate()
            proc.wait(timeout=30)
    _same_points(path, untrap_serial[0])
