"""energy_gradient_rows: one compiled call for many points equals the point-by-point calls."""
import numpy as np
import pytest

from mlcore.landscape import System
from mlcore.systems import build_system

TABLES = {
    "cluster": {"kind": "cluster", "natoms": 7, "gamma": 0.5},
    "regression": {"kind": "regression", "seed": 0},
    "pspin": {"kind": "pspin", "n": 12, "p": 3, "seed": 1},
    "nn": {"kind": "nn", "hidden": 3,
           "data": {"kind": "triatomic", "n_sequences": 200, "n_train": 100, "n_test": 100}},
}


@pytest.mark.parametrize("name", sorted(TABLES))
def test_rows_equal_single_calls(name, tmp_path):
    system = build_system(TABLES[name], tmp_path)
    rng = np.random.default_rng(3)
    rows = np.array([system.random_coords(rng) for _ in range(5)])
    energies, grads = system.energy_gradient_rows(rows)
    assert energies.shape == (5,) and grads.shape == (5, system.ndim)
    for k in range(5):
        e, g = system.energy_gradient(rows[k])
        assert energies[k] == e                  # the same kernel call: bit for bit
        np.testing.assert_array_equal(grads[k], g)
    # the generic loop of System gives the same
    e2, g2 = System.energy_gradient_rows(system, rows)
    np.testing.assert_array_equal(e2, energies)
    np.testing.assert_array_equal(g2, grads)
    empty_e, empty_g = system.energy_gradient_rows(np.empty((0, system.ndim)))
    assert empty_e.shape == (0,) and empty_g.shape == (0, system.ndim)


def test_rows_of_the_wrong_width_are_refused():
    system = build_system(TABLES["cluster"])
    with pytest.raises(ValueError, match="ndim"):
        system.kernel.energy_gradient_rows(np.zeros((2, system.ndim + 1)))
