"""The four programs chained from the shell on one small landscape (LJ7)."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BIN = Path(sys.executable).parent


def sh(*args, cwd, ok=True):
    res = subprocess.run([str(BIN / args[0]), *map(str, args[1:])], cwd=cwd,
                         capture_output=True, text=True)
    if ok:
        assert res.returncode == 0, f"{args}: {res.stderr}"
    return res


@pytest.fixture(scope="module")
def lj7(tmp_path_factory):
    d = tmp_path_factory.mktemp("pipe")
    (d / "lj7.toml").write_text('[system]\nkind = "cluster"\nnatoms = 7\n'
                                '[mlgmin]\nsteps = 150\nruns = 2\nseed = 3\nexecutor = "serial"\n'
                                '[mlpathsample]\nexecutor = "serial"\ncycles = 10\n'
                                '[mloptim]\nexecutor = "serial"\n')
    sh("mlgmin", "lj7.toml", "-q", cwd=d)
    sh("mlpathsample", "grow", "lj7.h5", "--strategy", "unconnected", cwd=d)
    return d


def test_summary_list_and_rates(lj7):
    info = json.loads(sh("mlanalyse", "summary", "lj7.h5", "--json", cwd=lj7).stdout)
    assert info["n_minima"] == 4 and info["n_ts"] >= 3
    assert info["global_minimum"]["energy"] == pytest.approx(-16.505384, abs=1e-6)
    assert info["system"]["kind"] == "cluster"
    rows = sh("mlanalyse", "list", "minima", "lj7.h5", cwd=lj7).stdout.strip().splitlines()
    assert rows[0].startswith("id,energy") and len(rows) == 5
    ts_rows = sh("mlanalyse", "list", "ts", "lj7.h5", cwd=lj7).stdout.strip().splitlines()
    assert ts_rows[0].startswith("id,energy,min1,min2") and len(ts_rows) >= 4
    energies = [float(r.split(",")[1]) for r in rows[1:]]
    gm = 1 + int(np.argmin(energies))
    other = 1 + int(np.argsort(energies)[1])
    rates = json.loads(sh("mlpathsample", "rates", "lj7.h5", "--A", gm, "--B", other,
                          "--temperature", 0.3, "--json", cwd=lj7).stdout)
    assert rates["k_AB"] > 0 and rates["k_BA"] > 0
    # the same sets named by gm and lowest:K give the same rates
    named = json.loads(sh("mlpathsample", "rates", "lj7.h5", "--A", "lowest:1", "--B",
                          f"{other}-{other}", "--temperature", 0.3, "--json", cwd=lj7).stdout)
    assert named["k_AB"] == pytest.approx(rates["k_AB"], rel=1e-12)
    assert named["k_BA"] == pytest.approx(rates["k_BA"], rel=1e-12)
    # lowest:2 includes gm: A and B overlap, refused in one line
    overlap = sh("mlpathsample", "rates", "lj7.h5", "--A", "gm", "--B", "lowest:2",
                 "--temperature", 0.3, cwd=lj7, ok=False)
    assert overlap.returncode == 2 and len(overlap.stderr.strip().splitlines()) == 1


def test_figures_and_network(lj7):
    sh("mlanalyse", "dgraph", "lj7.h5", "-o", "dg.png", cwd=lj7)
    assert (lj7 / "dg.png").stat().st_size > 2000
    out = sh("mlanalyse", "cv", "lj7.h5", "--tmin", 0.05, "--tmax", 1.0, "-o", "cv.csv", cwd=lj7)
    data = np.loadtxt(lj7 / "cv.csv", delimiter=",", skiprows=1)
    assert data[0, 0] == pytest.approx(0.05) and data[-1, 0] == pytest.approx(1.0)
    assert data[0, 1] == pytest.approx(15.0, abs=0.2)   # one minimum dominates: kappa = 21 - 6
    stats = json.loads(sh("mlanalyse", "network", "lj7.h5", "--json", "-o", "net.png",
                          cwd=lj7).stdout)
    assert stats["nodes"] == 4
    assert (lj7 / "net.png").exists()


def test_export_import_round_trip(lj7):
    sh("mlpathsample", "export", "lj7.h5", "ps", cwd=lj7)
    assert (lj7 / "ps" / "min.data").exists() and (lj7 / "ps" / "points.ts").exists()
    sh("mlpathsample", "import", "ps", "back.h5", "--input", "lj7.toml", cwd=lj7)
    a = sh("mlanalyse", "list", "ts", "lj7.h5", cwd=lj7).stdout.splitlines()
    b = sh("mlanalyse", "list", "ts", "back.h5", cwd=lj7).stdout.splitlines()
    key = [line.split(",")[:4] for line in a]
    assert key == [line.split(",")[:4] for line in b]


def test_bad_input_exit_2(lj7):
    for args in (("mlanalyse", "dgraph", "lj7.h5", "-o", "x.txt"),
                 ("mlanalyse", "summary", "nope.h5"),
                 ("mlpathsample", "rates", "lj7.h5", "--A", "1", "--B", "1", "--temperature", 1),
                 ("mlanalyse", "cv", "lj7.h5", "--tmin", 2, "--tmax", 1)):
        res = sh(*args, cwd=lj7, ok=False)
        assert res.returncode == 2, (args, res.stderr)
        assert "Traceback" not in res.stderr


@pytest.mark.parametrize("content", [b"", b"not an hdf5 file at all" * 10, "truncated"])
def test_garbage_or_truncated_files_exit_2_everywhere(lj7, tmp_path, content):
    bad = tmp_path / "bad.h5"
    if content == "truncated":
        data = (lj7 / "lj7.h5").read_bytes()
        bad.write_bytes(data[: len(data) // 2])
    else:
        bad.write_bytes(content)
    (tmp_path / "lj7.toml").write_text((lj7 / "lj7.toml").read_text())
    before = bad.read_bytes()
    for args in (("mlanalyse", "summary", bad), ("mlanalyse", "list", "minima", bad),
                 ("mloptim", "connect", bad, 1, 2), ("mlpathsample", "grow", bad),
                 ("mlpathsample", "rates", bad, "--A", 1, "--B", 2, "--temperature", 1),
                 ("mlgmin", "lj7.toml", "-o", bad, "--resume")):
        res = sh(*args, cwd=tmp_path, ok=False)
        assert res.returncode == 2, (args, res.stderr)
        assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr, res.stderr
    assert bad.read_bytes() == before
