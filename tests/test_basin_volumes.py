"""Basin volumes: MBAR on exact samples, confined walks on landscapes with known basins."""
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mlanalyse.basin_volumes import (
    basin_volume,
    contained_spring,
    file_basin_volumes,
    mbar_free_energies,
    spring_ladder,
    summarise_volumes,
)
from mlcore.database import Database
from mlcore.errors import InputError
from mlcore.optimize import minimize

MLANALYSE = str(Path(sys.executable).parent / "mlanalyse")

EGG = '''
import numpy as np


class Egg:
    """E = sum_i cos(2 pi x_i): minima at half-integers, each basin a unit cube."""

    def __init__(self, ndim=1):
        self.ndim = ndim

    def energy_gradient(self, x):
        x = np.asarray(x)
        return float(np.sum(np.cos(2 * np.pi * x))), -2 * np.pi * np.sin(2 * np.pi * x)

    def random_coords(self, rng):
        return rng.uniform(-1, 1, self.ndim)
'''


def test_mbar_on_exact_gaussian_samples():
    """States k_i r^2 / 2 in 3 dimensions: f_i - f_0 = (d / 2) log(k_i / k_0); the
    unsampled flat state of a box-confined Gaussian has log Z = log(box volume)."""
    rng = np.random.default_rng(0)
    ks = np.array([50.0, 10.0, 2.0])
    r2 = np.concatenate([np.sum(rng.normal(0, 1 / math.sqrt(k), (3000, 3)) ** 2, axis=1)
                         for k in ks])
    f = mbar_free_energies(0.5 * ks[:, None] * r2[None, :], [3000] * 3)
    np.testing.assert_allclose(f[1:] - f[0], 1.5 * np.log(ks[1:] / ks[0]), atol=0.05)


class _Egg1:
    ndim = 1

    def energy_gradient(self, x):
        return float(np.cos(2 * np.pi * x[0])), -2 * np.pi * np.sin(2 * np.pi * np.asarray(x))


def test_walk_recovers_a_unit_basin():
    system, x0 = _Egg1(), np.array([0.5])

    def quench_to(x):
        res = minimize(system, x, tol=1e-6, max_step=0.05)
        return res.success and abs(res.coords[0] - 0.5) < 1e-3

    bv = basin_volume(quench_to, x0, (-1.0, 1.0), spring_ladder(1e4, 1.0 / 64.0, 10), 1500,
                      np.random.default_rng(3))
    assert abs(bv.log_volume) < max(4 * bv.log_volume_error, 0.05)
    assert abs(bv.log_volume) < 0.15                       # V = 1 within 15 %
    assert bv.left_basin[0] == 0.0 and bv.left_basin[-1] > 0.1
    with pytest.raises(InputError, match="decreasing"):
        basin_volume(quench_to, x0, (-1.0, 1.0), [1.0, 2.0], 100, np.random.default_rng(0))
    with pytest.raises(InputError, match="inside"):
        basin_volume(quench_to, np.array([3.0]), (-1.0, 1.0), [2.0, 1.0], 100,
                     np.random.default_rng(0))


def test_a_minimum_on_the_edge_of_the_box():
    """The basin [0, 1] of x = 0.5 cut by the box at 0.48: the stiffest spring is raised
    until its Gaussian fits, and the volume is the part inside, 0.52."""
    system, x0 = _Egg1(), np.array([0.5])

    def quench_to(x):
        res = minimize(system, x, tol=1e-6, max_step=0.05)
        return res.success and abs(res.coords[0] - 0.5) < 1e-3

    rng = np.random.default_rng(4)
    box = (0.48, 1.0)
    k_max = contained_spring(quench_to, x0, box, 1e3, rng)
    assert k_max >= 1.6e4                    # 1e3 reaches past the edge at 0.02 (> 3 sigma)
    springs = spring_ladder(k_max, 1.0 / 16.0, 8)
    assert np.all(springs[:-1] / springs[1:] <= 4.0 + 1e-9) and springs[0] == k_max
    bv = basin_volume(quench_to, x0, box, springs, 1500, rng)
    assert math.exp(bv.log_volume) == pytest.approx(0.52, rel=0.15)
    with pytest.raises(InputError, match="edge of the box"):
        contained_spring(quench_to, np.array([0.48]), box, 1e3, rng, max_tries=2)


def test_counts_and_entropies():
    res = summarise_volumes([{"log_volume": 0.0}, {"log_volume": math.log(3.0)}],
                            math.log(8.0), 3)
    assert res["fraction_of_box_covered"] == pytest.approx(0.5)
    assert res["number_of_minima"] == pytest.approx(4.0)
    p = np.array([0.25, 0.75])
    assert res["boltzmann_entropy"] == pytest.approx(float(-np.sum(p * np.log(p))))
    assert res["gibbs_entropy"] == pytest.approx(math.log(4.0))


def test_file_basins_of_a_two_dimensional_egg_box(tmp_path):
    (tmp_path / "egg.py").write_text(EGG)
    config = {"kind": "python", "target": "egg.py:Egg", "params": {"ndim": 2}}
    path = tmp_path / "egg.h5"
    with Database.create(path, config, ndim=2, identity=lambda *a: False,
                         energy_tol=1e-9) as db:
        for x in ((0.5, 0.5), (-0.5, 0.5), (0.5, -0.5), (-0.5, -0.5), (1.5, 0.5)):
            db.add_minimum(-2.0, np.array(x))
    with pytest.raises(InputError, match="--box"):
        file_basin_volumes(path, None)
    res = file_basin_volumes(path, 1.0, n_samples=300, lowest=2, n_springs=10, seed=1,
                             n_direct=200)
    assert [r["id"] for r in res["minima"]] == [1, 2]           # (1.5, 0.5) is outside
    for r in res["minima"]:
        assert abs(r["log_volume"]) < 0.35                       # unit squares
        # the plain check: about a quarter of the random starts reach each minimum
        assert r["direct_fraction"] == pytest.approx(0.25, abs=4 * r["direct_fraction_error"])
        assert r["volume_fraction"] == pytest.approx(math.exp(r["log_volume"]) / 4.0)
    assert res["number_of_minima"] == pytest.approx(4.0, rel=0.35)
    assert res["boltzmann_entropy"] == pytest.approx(math.log(2.0), abs=0.1)
    cli = subprocess.run([MLANALYSE, "basins", str(path), "--box", "1", "--lowest", "1",
                          "--samples", "60", "--springs", "6"], capture_output=True,
                         text=True, check=False)
    assert cli.returncode == 0, cli.stderr
    assert cli.stdout.startswith("id,energy,log_volume") and "number of minima" in cli.stdout
