"""Misclassification per minimum, distances between minima, clustering, joint density."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mlanalyse.misclassification import (
    analyse,
    cluster_order,
    misclassification_distances,
    write_outputs,
)
from tests.stored_files import minima_file

MLANALYSE = str(Path(sys.executable).parent / "mlanalyse")


def test_distance_is_the_fraction_misclassified_by_exactly_one():
    rng = np.random.default_rng(0)
    masks = rng.random((7, 50)) < 0.3
    d = misclassification_distances(masks)
    for i in range(7):
        for j in range(7):
            assert d[i, j] == pytest.approx(np.mean(masks[i] ^ masks[j]), abs=1e-15)


def test_clustering_puts_blocks_together():
    # two groups of minima that misclassify different inputs
    base = np.zeros((6, 40), dtype=bool)
    base[[0, 2, 4], :10] = True
    base[[1, 3, 5], 20:30] = True
    base[4, 35] = True
    order = cluster_order(misclassification_distances(base)).tolist()
    assert sorted(order) == list(range(6))
    assert sorted([sorted(order[:3]), sorted(order[3:])]) == [[0, 2, 4], [1, 3, 5]]


def test_analyse_a_network_file_and_the_command(tmp_path):
    path, system, coords = minima_file(tmp_path / "nn.h5", {"kind": "nn", "hidden": 2, "data": {
        "kind": "triatomic", "n_sequences": 300, "n_train": 100, "n_test": 120}},
        n_random=5, seed=3)
    res = analyse(path, lowest=4)
    energies = [system.energy(c) for c in coords]
    lowest4 = np.argsort(energies)[:4]
    assert res["ids"] == (lowest4 + 1).tolist()
    np.testing.assert_allclose(res["fraction"], [system.error_rate(coords[i]) for i in lowest4])
    i, j = 0, 2
    assert res["parameter_distances"][i, j] == pytest.approx(
        system.align(coords[lowest4[i]], coords[lowest4[j]])[0])
    assert np.allclose(res["distances"], res["distances"].T)
    names = write_outputs(res, tmp_path / "out")
    assert all((tmp_path / "out" / n).exists() for n in names)
    rows = (tmp_path / "out" / "per_minimum.csv").read_text().splitlines()
    assert len(rows) == 5 and rows[0] == "id,energy,fraction_misclassified"
    cli = subprocess.run([MLANALYSE, "misclassification", str(path), "-o",
                          str(tmp_path / "cli")], capture_output=True, text=True, check=False)
    assert cli.returncode == 0, cli.stderr
    assert (tmp_path / "cli" / "heatmap.png").read_bytes()[:4] == b"\x89PNG"
    reg, _, _ = minima_file(tmp_path / "reg.h5", {"kind": "regression", "seed": 0},
                            n_random=2)
    bad = subprocess.run([MLANALYSE, "misclassification", str(reg), "-o", str(tmp_path / "x")],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and "classifying network" in bad.stderr
