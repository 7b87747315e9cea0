"""mlanalyse reads [mlanalyse.cv] from --input (or the stored input); options override."""
import subprocess
import sys
from pathlib import Path

import numpy as np

from mlcore.database import Database
from mlcore.systems import build_system
from mlcore.systems.storage import system_storage

MLANALYSE = str(Path(sys.executable).parent / "mlanalyse")


def _file(path):
    system = build_system({"kind": "cluster", "natoms": 3}, path.parent)
    config, arrays = system_storage(system)
    rng = np.random.default_rng(0)
    with Database.create(path, config, arrays, ndim=system.ndim,
                         identity=lambda *a: False, energy_tol=1e-9) as db:
        for e in (-3.0, -2.0):
            db.add_minimum(e, system.random_coords(rng), log_product=1.0)
    return path


def _cv(tmp_path, *args):
    res = subprocess.run([MLANALYSE, "cv", str(tmp_path / "f.h5"), *args], cwd=tmp_path,
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return [line.split(",") for line in res.stdout.strip().splitlines()]


def test_cv_takes_its_section_and_options_override(tmp_path):
    _file(tmp_path / "f.h5")
    (tmp_path / "in.toml").write_text("[mlanalyse.cv]\ntmin = 0.2\ntmax = 0.4\nnpoints = 3\n"
                                      "lowest = 1\n")
    rows = _cv(tmp_path, "--input", "in.toml")
    assert rows[0] == ["T", "Cv", "Cv_lowest_1"]
    assert np.allclose([float(r[0]) for r in rows[1:]], [0.2, 0.3, 0.4])
    rows = _cv(tmp_path, "--input", "in.toml", "--tmax", "1.0", "--npoints", "2")
    assert np.allclose([float(r[0]) for r in rows[1:]], [0.2, 1.0])
    rows = _cv(tmp_path)                     # no input anywhere: the documented defaults
    assert len(rows) == 201 and float(rows[1][0]) == 0.01 and float(rows[-1][0]) == 1.0
