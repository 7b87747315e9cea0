"""mloptim: connect, single-ended search and path profiles through the file and the CLI."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mlcore.config import apply_overrides, parse_input
from mlcore.database import DatabaseReader
from mlcore.session import load_system
from mloptim.connect import dijkstra_path
from mloptim.ts_search import verify_transition_state

MLOPTIM = str(Path(sys.executable).parent / "mloptim")


def _gmin(tmp_path, text, name):
    from mlgmin.run import run

    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    inp = parse_input(text, path=path)
    settings = apply_overrides(inp.mlgmin, "mlgmin", {"executor": "serial"})
    run(inp, settings, tmp_path / f"{name}.h5")
    return tmp_path / f"{name}.h5"


def _check_all_ts(path):
    reader, system = load_system(path)
    ts = reader.ts()
    assert len(ts) > 0
    for k in range(len(ts)):
        ok, info = verify_transition_state(system, ts.coords[k])
        assert ok and info.n_negative == 1
        assert ts.n_negative[k] == 1 and ts.neg_eigenvalue[k] < 0
        assert ts.energy[k] > max(reader.minimum(int(ts.min1[k]))["energy"],
                                  reader.minimum(int(ts.min2[k]))["energy"]) - 1e-9


def test_dijkstra_prefers_known_links():
    inf = float("inf")
    w = {(0, 2): 0.0, (2, 1): 4.0, (0, 1): 9.0, (0, 3): 1.0, (3, 1): inf}

    def weight(i, j):
        return w.get((i, j), w.get((j, i), inf))

    assert dijkstra_path(4, weight, 0, 1) == [0, 2, 1]
    assert dijkstra_path(2, lambda i, j: inf, 0, 1) is None


def test_lj7_connect_global_minimum_with_second_lowest(tmp_path):
    path = _gmin(tmp_path, '[system]\nkind = "cluster"\nnatoms = 7\n'
                           '[mlgmin]\nsteps = 150\nruns = 2\nseed = 3\n', "lj7")
    reader = DatabaseReader(path)
    order = np.argsort(reader.minima().energy) + 1
    res = subprocess.run([MLOPTIM, "connect", str(path), str(order[0]), str(order[1]),
                          "--executor", "serial"], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "connected" in res.stdout
    _check_all_ts(path)
    reader = DatabaseReader(path)
    assert reader.n_pairs_tried >= 1 and reader.runs().program.tolist()[-1] == "mloptim"


def test_regression_global_minimum_connected_to_local_minima(tmp_path):
    path = _gmin(tmp_path, '[system]\nkind = "regression"\nseed = 0\n'
                           '[mlgmin]\nsteps = 100\nruns = 2\nseed = 5\n', "reg")
    reader = DatabaseReader(path)
    order = np.argsort(reader.minima().energy) + 1
    from mloptim.run import connect

    settings = parse_input("").mloptim
    n_ok = 0
    for other in order[1:4]:
        report = connect(path, int(order[0]), int(other), settings, "serial")
        n_ok += report.connected
    assert n_ok >= 2
    _check_all_ts(path)


def test_ts_and_path_commands(tmp_path):
    path = _gmin(tmp_path, '[system]\nkind = "cluster"\nnatoms = 7\n'
                           '[mlgmin]\nsteps = 100\nruns = 1\nseed = 4\n', "lj7b")
    reader, system = load_system(path)
    order = np.argsort(reader.minima().energy)
    start = reader.minima().coords[order[0]] + 0.15 * np.random.default_rng(0).standard_normal(21)
    np.save(tmp_path / "start.npy", start)
    res = subprocess.run([MLOPTIM, "ts", str(path), "--start", str(tmp_path / "start.npy")],
                         capture_output=True, text=True)
    if res.returncode == 0:
        assert "transition state" in res.stdout
    res = subprocess.run([MLOPTIM, "connect", str(path), str(order[0] + 1), str(order[1] + 1),
                          "--executor", "serial"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    out = tmp_path / "profile.csv"
    res = subprocess.run([MLOPTIM, "path", str(path), "1", "-o", str(out)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    data = np.loadtxt(out, delimiter=",", skiprows=1)
    s, e = data[:, 0], data[:, 1]
    assert np.all(np.diff(s) > 0)
    ts = DatabaseReader(path).transition_state(1)
    i_ts = int(np.argmax(e))
    assert e[i_ts] == pytest.approx(ts["energy"], abs=1e-8) and abs(s[i_ts]) < 1e-12
    ends = sorted([e[0], e[-1]])
    mins = sorted([DatabaseReader(path).minimum(int(ts["min1"]))["energy"],
                   DatabaseReader(path).minimum(int(ts["min2"]))["energy"]])
    assert np.allclose(ends, mins, atol=1e-5)
    assert out.with_suffix(".png").stat().st_size > 1000


def test_bad_ids_exit_2(tmp_path):
    path = _gmin(tmp_path, '[system]\nkind = "cluster"\nnatoms = 5\n[mlgmin]\nsteps = 5\n', "c5")
    for args in (["connect", str(path), "1", "99"], ["path", str(path), "7"],
                 ["connect", str(tmp_path / "missing.h5"), "1", "2"]):
        res = subprocess.run([MLOPTIM, *args], capture_output=True, text=True)
        assert res.returncode == 2, (args, res.stderr)
        assert "Traceback" not in res.stderr and res.stderr.count("\n") == 1


def test_triatomic_network_pairs_connected(tmp_path):
    # the study's landscape (5000 training sequences); with a few hundred the 3-node
    # network has a single minimum
    text = (Path(__file__).resolve().parents[1] / "configs" / "triatomic-nn-3.toml").read_text()
    text = text.replace("steps = 10000", "steps = 20")
    path = _gmin(tmp_path, text, "nn3")
    reader = DatabaseReader(path)
    assert reader.n_minima >= 2
    order = np.argsort(reader.minima().energy) + 1
    from mloptim.run import connect

    settings = parse_input("").mloptim
    results = [connect(path, int(order[0]), int(other), settings, "serial")
               for other in order[1:3]]
    assert sum(r.connected for r in results) >= 1
    _check_all_ts(path)


def test_lazy_distances_give_the_exact_cheapest_path():
    from mlcore.config import parse_input
    from mlcore.optimize import minimize
    from mlcore.systems.cluster import ClusterSystem
    from mloptim.connect import ConnectDriver

    system = ClusterSystem(6)
    rng = np.random.default_rng(4)
    coords = [minimize(system, system.random_coords(rng)).coords + 0.3 * rng.standard_normal(18)
              for _ in range(7)]

    class FakeDB:
        def minimum(self, i):
            return {"coords": coords[i - 1]}

        def ts_between(self, a, b):
            return [1] if {a, b} == {3, 4} else []

    driver = ConnectDriver(FakeDB(), system, parse_input("").mloptim, executor=None)
    nodes = list(range(1, 8))
    lazy = driver._cheapest_path(nodes)
    aligned = len(driver._dist)
    exact = dijkstra_path(7, driver._weight(nodes, exact=True), 0, 1)
    assert lazy == exact
    assert aligned < 20                # the lazy search aligned only some of the 20 pairs
