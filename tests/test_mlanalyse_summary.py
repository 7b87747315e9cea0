"""mlanalyse summary and list: values of a small file made directly with the writer."""
import csv
import io
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from mlanalyse.listing import MINIMA_COLUMNS, TS_COLUMNS, write_minima_csv, write_ts_csv
from mlanalyse.summary import count_components, summary
from mlcore.database import Database, DatabaseReader
from mlcore.errors import InputError

PSPIN = {"kind": "pspin", "n": 20, "p": 3, "seed": 2}
NDIM = 20
# awkward floats on purpose: repr must round-trip them bit for bit
MIN_ENERGIES = [0.1 + 0.2, -1.0 / 3.0, -7.123456789012345e-3, 2.5e-300]


def _coords(i):
    return np.random.default_rng(i).standard_normal(NDIM)


def make_file(path, *, kill_run=False):
    """Four minima (one flagged), three transition states (one self-connected, one
    pair joined twice), minimum 4 isolated; one finished mlgmin run and one mloptim run."""
    with Database.create(path, PSPIN, {}, ndim=NDIM, program="test") as db:
        db.begin_run("mlgmin", ["mlgmin", "x.toml"], seed=3)
        for i, e in enumerate(MIN_ENERGIES):
            db.add_minimum(e, _coords(i), log_product=(math.pi * (i + 1) if i != 2 else math.nan),
                           n_zero=1, n_negative=(1 if i == 3 else 0), step=10 * i)
        db.end_run()
        db.begin_run("mloptim", ["mloptim", "connect"])
        db.add_ts(1.0 / 7.0, _coords(10), 1, 2, neg_eigenvalue=-0.25, log_product=1.5,
                  n_zero=1, n_negative=1, step=1)
        db.add_ts(2.0 / 7.0, _coords(11), 2, 3, neg_eigenvalue=-1e-17, n_negative=2, step=2)
        db.add_ts(3.0 / 7.0, _coords(12), 3, 3, neg_eigenvalue=math.nan, step=3)
        db.end_run(status="failed", message="boom")
    return path


@pytest.fixture
def small_file(tmp_path):
    return make_file(tmp_path / "small.h5")


def test_summary_of_small_file(small_file):
    s = summary(small_file)
    json.dumps(s, allow_nan=False)                     # strictly JSON
    assert s["n_minima"] == 4 and s["n_ts"] == 3 and s["n_runs"] == 2
    assert s["format_version"] == 1 and s["ndim"] == NDIM
    g = s["global_minimum"]
    assert g["id"] == 2 and g["energy"] == -1.0 / 3.0
    assert g["display_energy"] == (-1.0 / 3.0) / 20 and g["display_energy_label"] == \
        "energy per spin"
    assert s["display_energy_label"] == "energy per spin"
    assert s["system"] == PSPIN
    assert [r["program"] for r in s["runs"]] == ["mlgmin", "mloptim"]
    assert [r["status"] for r in s["runs"]] == ["finished", "failed"]
    assert s["runs"][1]["message"] == "boom"
    for r in s["runs"]:
        assert r["start_time"] <= r["end_time"]
        assert r["start"].endswith("+00:00")
    # components: {1, 2, 3} and {4}; flagged: minimum 4; ts 2 has n_negative = 2
    assert s["n_connected_components"] == 2
    assert s["n_minima_flagged"] == 1
    assert s["n_ts_flagged"] == 1
    assert s["n_ts_self_connected"] == 1
    assert s["writer"] is None and s["writer_alive"] is False


def test_summary_of_empty_file(tmp_path):
    path = tmp_path / "empty.h5"
    with Database.create(path, PSPIN, {}, ndim=NDIM):
        pass
    s = summary(path)
    json.dumps(s, allow_nan=False)
    assert (s["n_minima"], s["n_ts"], s["n_runs"]) == (0, 0, 0)
    assert s["global_minimum"] is None
    assert s["n_connected_components"] == 0
    assert s["n_minima_flagged"] == 0 and s["runs"] == []


def test_summary_unknown_kind_shows_energies_unchanged(tmp_path):
    path = tmp_path / "user.h5"
    with Database.create(path, {"kind": "python", "target": "nowhere.py:X"}, ndim=2) as db:
        db.add_minimum(-2.5, [0.0, 1.0])
    s = summary(path)
    assert s["global_minimum"] == {"id": 1, "energy": -2.5, "display_energy": -2.5,
                                   "display_energy_label": "energy"}


def test_killed_run_is_reported_as_killed(tmp_path):
    path = tmp_path / "killed.h5"
    script = (
        "import os, signal, numpy as np\n"
        "from mlcore.database import Database\n"
        f"db = Database.create({str(path)!r}, {PSPIN!r}, {{}}, ndim={NDIM})\n"
        "db.begin_run('mlgmin')\n"
        f"db.add_minimum(-1.0, np.ones({NDIM}))\n"
        "db.commit()\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n")
    proc = subprocess.run([sys.executable, "-c", script], check=False, cwd=os.getcwd())
    assert proc.returncode == -9
    s = summary(path)
    assert s["n_minima"] == 1
    assert s["runs"][0]["stored_status"] == "running"
    assert s["runs"][0]["status"] == "killed" and s["runs"][0]["end_time"] is None
    assert s["writer"] is not None and s["writer_alive"] is False


def test_summary_of_missing_file_is_input_error(tmp_path):
    with pytest.raises(InputError):
        summary(tmp_path / "nothing.h5")


def test_count_components_ignores_unknown_ids():
    assert count_components(5, [1, 2, -1, 4], [2, 3, 1, 9]) == 3   # {1,2,3} {4} {5}
    assert count_components(0, [], []) == 0


def _parse(text):
    return list(csv.DictReader(io.StringIO(text)))


def _same(text, value):
    """CSV text equals the stored value exactly (NaN as nan)."""
    if isinstance(value, float):
        x = float(text)
        return (math.isnan(x) and math.isnan(value)) or x == value
    if isinstance(value, (int, np.integer)):
        return int(text) == value
    return text == value


@pytest.mark.parametrize("which", ["minima", "ts"])
def test_csv_rows_parse_back_exactly(small_file, which):
    out = io.StringIO()
    write, columns = ((write_minima_csv, MINIMA_COLUMNS) if which == "minima"
                      else (write_ts_csv, TS_COLUMNS))
    n = write(small_file, out)
    text = out.getvalue()
    assert text.splitlines()[0] == ",".join(("id",) + columns)
    rows = _parse(text)
    reader = DatabaseReader(small_file)
    table = reader.minima() if which == "minima" else reader.ts()
    assert n == len(rows) == len(table)
    for r, row in enumerate(rows):
        assert int(row["id"]) == r + 1
        stored = table.row(r + 1)
        for col in columns:
            assert _same(row[col], stored[col]), (which, r + 1, col, row[col], stored[col])
    if which == "minima":
        assert [float(row["energy"]) for row in rows] == MIN_ENERGIES
        assert rows[0]["found_by_program"] == "mlgmin" and rows[3]["found_by_step"] == "30"
        assert rows[2]["log_product"] == "nan"
    else:
        assert [(row["min1"], row["min2"]) for row in rows] == [("1", "2"), ("2", "3"),
                                                                ("3", "3")]
        assert float(rows[1]["neg_eigenvalue"]) == -1e-17
        assert rows[0]["found_by_program"] == "mloptim" and rows[0]["found_by_run"] == "2"


def test_csv_of_empty_file_is_header_only(tmp_path):
    path = tmp_path / "empty.h5"
    with Database.create(path, PSPIN, {}, ndim=NDIM):
        pass
    out = io.StringIO()
    assert write_minima_csv(path, out) == 0
    assert out.getvalue() == ",".join(("id",) + MINIMA_COLUMNS) + "\n"
    out = io.StringIO()
    assert write_ts_csv(path, out) == 0
    assert out.getvalue() == ",".join(("id",) + TS_COLUMNS) + "\n"
