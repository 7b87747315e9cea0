"""mlanalyse compare: one row per file."""
import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlanalyse.compare import compare, write_table
from mlcore.errors import InputError
from tests.stored_files import minima_file

MLANALYSE = str(Path(sys.executable).parent / "mlanalyse")


def _file(path, table, energies, n_ts=0):
    """Minima at random points with the given energies; ``n_ts`` TSs between 1 and 2."""
    path, system, _ = minima_file(path, table, n_random=len(energies), energies=energies,
                                  ts=[(max(energies) + 1.0 + k, 1, 2) for k in range(n_ts)])
    return path, system


def test_rows_count_and_lowest_minimum(tmp_path):
    reg, _ = _file(tmp_path / "reg.h5", {"kind": "regression", "seed": 0}, [3.0, 1.0, 2.0], 2)
    nn, system = _file(tmp_path / "nn.h5", {"kind": "nn", "hidden": 2, "data": {
        "kind": "triatomic", "n_sequences": 300, "n_train": 100, "n_test": 100}}, [0.5, 0.25])
    rows = compare([reg, nn], ["regression", "network"])
    assert [r["label"] for r in rows] == ["regression", "network"]
    assert (rows[0]["n_minima"], rows[0]["n_ts"], rows[0]["global_minimum_id"],
            rows[0]["lowest_energy"]) == (3, 2, 2, 1.0)
    assert rows[0]["test_misclassification"] is None and rows[0]["landscape"] == "regression"
    assert rows[1]["landscape"] == "nn 2 hidden on triatomic" and rows[1]["ndim"] == system.ndim
    from mlcore.database import DatabaseReader

    gm_coords = DatabaseReader(nn).minimum(2)["coords"]
    assert rows[1]["test_misclassification"] == system.error_rate(gm_coords)
    write_table(rows, tmp_path / "t.csv")
    with open(tmp_path / "t.csv") as fh:
        back = list(csv.DictReader(fh))
    assert back[0]["lowest_energy"] == "1.0" and back[1]["label"] == "network"
    assert back[0]["test_misclassification"] == ""
    write_table(rows, tmp_path / "t.json")
    assert json.loads((tmp_path / "t.json").read_text())[1]["n_minima"] == 2
    with pytest.raises(InputError, match="1 --label given for 2 files"):
        compare([reg, nn], ["one"])
    with pytest.raises(InputError, match=r"\.csv or \.json"):
        write_table(rows, tmp_path / "t.txt")


def test_compare_command_writes_table_and_figure(tmp_path):
    reg, _ = _file(tmp_path / "reg.h5", {"kind": "regression", "seed": 0}, [3.0, 1e-12], 1)
    res = subprocess.run([MLANALYSE, "compare", str(reg), str(reg), "--plot",
                          str(tmp_path / "c.png")], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].startswith("label,file,landscape") and lines[1].startswith("reg,")
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
    bad = subprocess.run([MLANALYSE, "compare", str(tmp_path / "missing.h5")],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and "missing.h5" in bad.stderr


def test_labels_with_commas_and_quotes_survive_the_csv(tmp_path):
    reg, _ = _file(tmp_path / "reg.h5", {"kind": "regression", "seed": 0}, [3.0, 1.0])
    label = 'a "b", c'
    write_table(compare([reg], [label]), tmp_path / "t.csv")
    with open(tmp_path / "t.csv") as fh:
        back = list(csv.DictReader(fh))
    assert back[0]["label"] == label and back[0]["n_minima"] == "2"
