"""ROC AUC of network minima, and the AUC scan over steps from convergence."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mlanalyse.auc_scan import auc_scan, parse_s_values
from mlanalyse.classification import file_auc, macro_auc, minima_auc, roc_auc
from mlcore.errors import InputError

MLANALYSE = str(Path(sys.executable).parent / "mlanalyse")


def _auc_by_pairs(scores, positive):
    pos, neg = scores[positive], scores[~positive]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return wins / (len(pos) * len(neg))


@pytest.mark.parametrize("seed", range(4))
def test_auc_is_the_fraction_of_correctly_ordered_pairs(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 60))
    scores = np.round(rng.normal(size=n), 1)           # rounded: ties happen
    positive = rng.random(n) < 0.4
    positive[0], positive[1] = True, False
    assert roc_auc(scores, positive) == pytest.approx(_auc_by_pairs(scores, positive),
                                                      abs=1e-12)


def test_auc_limits_and_macro_average():
    assert roc_auc([0.1, 0.2, 0.9, 0.8], [False, False, True, True]) == 1.0
    assert roc_auc([0.9, 0.8, 0.1, 0.2], [False, False, True, True]) == 0.0
    assert np.isnan(roc_auc([0.1, 0.2], [True, True]))
    probs = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.3, 0.3, 0.4], [0.6, 0.3, 0.1]])
    labels = np.array([0, 1, 1, 0])                        # class 2 absent
    mean, per = macro_auc(probs, labels)
    assert per[0] == 1.0 and per[1] == 0.875 and np.isnan(per[2])  # 0.3 vs 0.3: a tie
    assert mean == pytest.approx((1.0 + 0.875) / 2)


TEMPLATE = '''[system]
kind = "nn"
hidden = 2
lam = 1e-4
[system.data]
kind = "triatomic"
n_sequences = 600
n_train = 150
n_test = 150
[mlgmin]
steps = 15
runs = 1
seed = 3
temperature = 1e-4
step_size = 0.5
'''


def test_scan_rows_match_the_files_and_a_rerun_reuses_them(tmp_path):
    (tmp_path / "t.toml").write_text(TEMPLATE)
    rows = auc_scan(tmp_path / "t.toml", [1, 30], tmp_path / "scan", executor="serial")
    assert [r["s"] for r in rows] == [1, 30]
    for r in rows:
        res = file_auc(tmp_path / "scan" / f"s{r['s']:03d}.h5")
        assert r["auc_global_minimum"] == res["global_minimum"]["auc"]
        assert r["n_minima"] == len(res["ids"])
        assert 0.5 < r["auc_global_minimum"] <= 1.0
    # the features really are (r12, r13) s steps from the end: nearly converged ones
    # separate the classes better than early ones
    assert rows[0]["auc_global_minimum"] > rows[1]["auc_global_minimum"]
    from mlcore.session import load_system

    _, system = load_system(tmp_path / "scan" / "s030.h5")
    assert system.x_train.shape[1] == 2
    assert system.storage_arrays()  # stored with the file
    mtime = (tmp_path / "scan" / "s001.h5").stat().st_mtime_ns
    again = auc_scan(tmp_path / "t.toml", [1, 30], tmp_path / "scan", executor="serial")
    assert again == rows
    assert (tmp_path / "scan" / "s001.h5").stat().st_mtime_ns >= mtime


def test_scan_command_and_its_errors(tmp_path):
    (tmp_path / "t.toml").write_text(TEMPLATE)
    res = subprocess.run([MLANALYSE, "auc-scan", str(tmp_path / "t.toml"), "--s", "2",
                          "-o", str(tmp_path / "out"), "--executor", "serial"],
                         capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    lines = (tmp_path / "out" / "auc.csv").read_text().splitlines()
    assert lines[0].startswith("s,n_minima") and lines[1].startswith("2,")
    assert (tmp_path / "out" / "auc.png").read_bytes()[:4] == b"\x89PNG"
    listing = subprocess.run([MLANALYSE, "auc", str(tmp_path / "out" / "s002.h5")],
                             capture_output=True, text=True, check=False)
    assert listing.returncode == 0 and listing.stdout.startswith("id,energy,auc")
    (tmp_path / "reg.toml").write_text('[system]\nkind = "regression"\n')
    bad = subprocess.run([MLANALYSE, "auc-scan", str(tmp_path / "reg.toml"), "--s", "1",
                          "-o", str(tmp_path / "x")], capture_output=True, text=True,
                         check=False)
    assert bad.returncode == 2 and "kind = 'triatomic'" in bad.stderr
    assert parse_s_values("1:9:4") == [1, 5, 9] and parse_s_values("3,1") == [3, 1]
    with pytest.raises(InputError, match="FIRST:LAST"):
        parse_s_values("a:b")


def test_auc_needs_a_classifier(tmp_path):
    from mlcore.systems import build_system

    system = build_system({"kind": "regression", "seed": 0})
    with pytest.raises(InputError, match="classifying network"):
        minima_auc(system, [np.zeros(system.ndim)])


def test_ensemble_weights_are_harmonic_boltzmann_factors():
    from mlanalyse.classification import ensemble_weights

    e = np.array([0.0, 0.1, 0.1])
    lp = np.array([2.0, 0.0, np.nan])          # the third is not characterised
    w = ensemble_weights(e, lp, 0.1)
    # w_i ~ exp(-E_i / T - lp_i / 2); the unknown log product is the mean of the others (1)
    ref = np.exp(-e / 0.1 - 0.5 * np.array([2.0, 0.0, 1.0]))
    np.testing.assert_allclose(w, ref / ref.sum(), rtol=1e-12)
    assert ensemble_weights(e, lp, 1e-6)[0] == pytest.approx(1.0)
    with pytest.raises(InputError, match="positive"):
        ensemble_weights(e, lp, 0.0)


def test_ensemble_prediction_of_a_scan_file(tmp_path):
    from mlanalyse.classification import ensemble_prediction

    (tmp_path / "t.toml").write_text(TEMPLATE)
    auc_scan(tmp_path / "t.toml", [20], tmp_path / "scan", executor="serial")
    path = tmp_path / "scan" / "s020.h5"
    cold, hot = ensemble_prediction(path, [1e-9, 10.0])
    # at a vanishing temperature the ensemble is the global minimum
    assert cold["ensemble_error"] == cold["global_minimum_error"]
    assert cold["ensemble_auc"] == pytest.approx(cold["global_minimum_auc"], abs=1e-12)
    assert cold["effective_minima"] == pytest.approx(1.0, abs=1e-6)
    assert hot["n_minima"] == file_auc(path)["ids"][-1]
    res = subprocess.run([MLANALYSE, "ensemble", str(path), "--temperature", "0.01"],
                         capture_output=True, text=True, check=False)
    assert res.returncode == 0 and res.stdout.startswith("temperature,effective_minima")
