"""The p-spin study: complexity of the theory, and minima from random starts."""
import math

import numpy as np
import pytest
from scipy.integrate import quad

from mlanalyse.pspin_study import quench_minima, study, write_study
from mlanalyse.pspin_theory import complexity, i1, threshold, zero_crossing
from mlcore.errors import InputError


@pytest.mark.parametrize("p", [3, 4])
def test_i1_is_the_integral_of_the_semicircle_edge(p):
    """I_1(u) = (2 / E^2) int_u^{-E} sqrt(z^2 - E^2) dz (its derivative and I_1(-E) = 0)."""
    e = threshold(p)
    for u in (-e - 1e-3, -e - 0.05, -e - 0.4):
        ref = 2.0 / e ** 2 * quad(lambda z: math.sqrt(z * z - e * e), u, -e,
                                   epsabs=1e-16, epsrel=1e-13)[0]
        assert float(i1(u, p)) == pytest.approx(ref, rel=1e-9, abs=1e-14)
    assert float(i1(-e, p)) == pytest.approx(0.0, abs=1e-15)
    assert float(i1(-e + 0.1, p)) == 0.0


def test_zero_crossings_of_the_three_spin_model():
    """E_0 = -1.65700 (the ground-state bound quoted in SPEC 2.4 as about -1.657), then
    E_0 < E_1 < E_2 < E_50 < -E_inf = -2 sqrt(2/3)."""
    assert threshold(3) == pytest.approx(2.0 * math.sqrt(2.0 / 3.0), rel=1e-15)
    zeros = [zero_crossing(k, 3) for k in (0, 1, 2, 50)]
    assert zeros[0] == pytest.approx(-1.65700, abs=5e-5)
    assert zeros == sorted(zeros) and zeros[-1] < -threshold(3)
    for k, z in zip((0, 1, 2, 50), zeros):
        assert float(complexity(z, k, 3)) == pytest.approx(0.0, abs=1e-12)
    # continuous at the threshold, flat above it, the same for every index there
    e = threshold(3)
    flat = 0.5 * math.log(2.0) - 1.0 / 3.0
    for k in (0, 7):
        assert float(complexity(-e, k, 3)) == pytest.approx(flat, abs=1e-12)
        assert float(complexity(-e + 0.2, k, 3)) == pytest.approx(flat, abs=1e-15)
    with pytest.raises(InputError):
        complexity(-1.7, -1, 3)
    with pytest.raises(InputError):
        threshold(2)


def test_quenches_end_at_checked_minima_above_the_bound(tmp_path):
    res = quench_minima(30, 25, seed=4)
    e = res["energies"]
    assert len(e) + res["n_unconverged"] + res["n_not_minima"] == 25
    assert len(e) >= 20
    # finite N: per-spin energies of minima lie above the asymptotic bound, well below zero
    assert np.all(e > -1.75) and np.all(e < -1.0)
    from mlcore.systems import build_system

    system = build_system({"kind": "pspin", "n": 30, "p": 3, "seed": 4})
    assert min(e) * 30 >= -1.75 * 30 and system.ndim == 30
    result = study([20, 40], 15, seed=4)
    assert [r["n"] for r in result["rows"]] == [20, 40]
    write_study(result, tmp_path / "out")
    lines = (tmp_path / "out" / "minima.csv").read_text().splitlines()
    assert lines[0].startswith("n,n_starts,n_minima") and len(lines) == 3
    n_energies = len((tmp_path / "out" / "energies.csv").read_text().splitlines()) - 1
    assert n_energies == sum(r["n_minima"] for r in result["rows"])
    assert (tmp_path / "out" / "complexity.png").read_bytes()[:4] == b"\x89PNG"
