"""Heat-capacity analogue (harmonic superposition): exact limits, closed forms, file I/O."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq, minimize_scalar

from mlanalyse.heat_capacity import LOG_2PI, heat_capacity, log_weights, run_cv, temperature_grid
from mlcore.database import Database
from mlcore.errors import InputError


def test_single_minimum_gives_kappa_at_every_temperature():
    T = np.geomspace(1e-4, 1e4, 60)
    for kappa in (1, 3, 21):
        cv = heat_capacity([-7.5], [12.3], kappa, 2, T)
        np.testing.assert_allclose(cv, kappa, rtol=0, atol=1e-12)


def _two_state(T, dE, kappa, lp0, lp1, o0=1, o1=1):
    """Independent closed form: C = kappa + x^2 r e^x / (1 + r e^x)^2, x = dE / T,
    r = (o1 nu1^kappa) / (o0 nu0^kappa) = o1 / o0 * exp((lp1 - lp0) / 2)."""
    x = dE / T
    r = (o1 / o0) * math.exp(0.5 * (lp1 - lp0))
    q = r * np.exp(x)
    return kappa + x ** 2 * q / (1.0 + q) ** 2


def test_two_minima_match_the_two_state_formula_and_its_peak():
    kappa, dE, lp0, lp1 = 9, 1.3, 4.0, -2.0      # the upper minimum is much softer
    T = temperature_grid(0.01, 3.0, 300)
    cv = heat_capacity([0.5, 0.5 + dE], [lp0, lp1], kappa, [1, 1], T)
    np.testing.assert_allclose(cv, _two_state(T, dE, kappa, lp0, lp1), rtol=1e-12)
    # Peak: d/dx [x^2 q/(1+q)^2] = 0  <=>  tanh((x + ln r) / 2) = 2 / x.
    ln_r = 0.5 * (lp1 - lp0)
    x_star = brentq(lambda x: np.tanh(0.5 * (x + ln_r)) - 2.0 / x, 0.5, 50.0)
    t_peak = dE / x_star
    res = minimize_scalar(lambda t: -heat_capacity([0.5, 0.5 + dE], [lp0, lp1], kappa, 1,
                                                   [t])[0],
                          bounds=(0.02, 3.0), method="bounded",
                          options={"xatol": 1e-10})
    assert res.x == pytest.approx(t_peak, rel=1e-6)
    peak_height = _two_state(np.array([t_peak]), dE, kappa, lp0, lp1)[0]
    assert -res.fun == pytest.approx(peak_height, rel=1e-10)
    assert peak_height > kappa + 0.4              # a real Schottky-like bump


def test_symmetry_orders_enter_as_the_two_state_ratio():
    T = np.linspace(0.05, 2.0, 50)
    cv = heat_capacity([0.0, 1.0], [1.0, 1.0], 3, [1, 6], T)
    np.testing.assert_allclose(cv, _two_state(T, 1.0, 3, 1.0, 1.0, 1, 6), rtol=1e-12)
    # ln Z_a = -E/T + kappa ln T - ln o - lp / 2 + kappa ln(2 pi)
    lw = log_weights([0.0, 1.0], [1.0, 3.0], [3, 5], [1, 6], [0.5])
    assert lw[0, 0] == pytest.approx(3 * math.log(0.5) - 0.5 + 3 * LOG_2PI)
    assert lw[0, 1] == pytest.approx(-2.0 + 5 * math.log(0.5) - math.log(6) - 1.5
                                     + 5 * LOG_2PI)


def _direct_cv(e, lp, kap, o, T):
    """beta^2 (Z''/Z - (Z'/Z)^2) with Z(beta) = sum c_a beta^-kappa_a exp(-beta E_a),
    summed directly (no log-sum-exp, no variance formula)."""
    e, lp, kap, o = map(np.asarray, (e, lp, kap, o))
    out = []
    for t in T:
        b = 1.0 / t
        c = np.exp(-np.log(o) - 0.5 * lp + kap * LOG_2PI)
        w = c * b ** (-kap) * np.exp(-b * e)
        g = -e - kap / b
        z, z1, z2 = w.sum(), (w * g).sum(), (w * (g ** 2 + kap / b ** 2)).sum()
        out.append(b * b * (z2 / z - (z1 / z) ** 2))
    return np.array(out)


def _fd_cv(e, lp, kap, o, T):
    """beta^2 d^2 ln Z / d beta^2 by a five-point central difference in beta."""
    out = []
    for t in T:
        b = 1.0 / t
        h = 1e-3 * b
        f = [np.logaddexp.reduce(log_weights(e, lp, kap, o, [1.0 / (b + s * h)])[0])
             for s in (-2, -1, 0, 1, 2)]
        d2 = (-f[0] + 16 * f[1] - 30 * f[2] + 16 * f[3] - f[4]) / (12 * h * h)
        out.append(b * b * d2)
    return np.array(out)


def test_minima_with_different_kappa_follow_the_general_formula():
    rng = np.random.default_rng(3)
    e = np.array([0.0, 0.4, 0.9, 1.5])
    lp = rng.normal(0, 2, 4)
    kap = np.array([6, 7, 6, 4])
    o = np.array([1, 2, 1, 3])
    T = np.linspace(0.05, 3.0, 40)
    cv = heat_capacity(e, lp, kap, o, T)
    np.testing.assert_allclose(cv, _direct_cv(e, lp, kap, o, T), rtol=1e-10)
    np.testing.assert_allclose(cv, _fd_cv(e, lp, kap, o, T), rtol=1e-6)
    # Limits: the lowest minimum alone at low T, <kappa> drifts at high T.
    assert heat_capacity(e, lp, kap, o, [0.004])[0] == pytest.approx(6.0, abs=1e-6)
    assert not np.allclose(cv, 6.0, atol=1e-3)


def test_stable_for_huge_energy_ratios():
    T = np.array([1e-3, 1e-1, 10.0, 1e3])
    cv = heat_capacity([0.0, 1e4, 2e4, -5e5], [0.0, 50.0, -50.0, 1.0], 3, 1, T)
    assert np.all(np.isfinite(cv))
    np.testing.assert_allclose(cv[:2], 3.0, atol=1e-9)   # only the lowest minimum counts


def test_temperature_grid_has_exact_end_points_and_rejects_bad_ranges():
    T = temperature_grid(0.1, 0.7, 7)
    assert T[0] == 0.1 and T[-1] == 0.7 and len(T) == 7
    assert np.all(np.diff(T) > 0)
    for args in ((0.0, 1.0), (-1.0, 1.0), (2.0, 1.0), (1.0, 1.0)):
        with pytest.raises(InputError):
            temperature_grid(*args)
    with pytest.raises(InputError):
        temperature_grid(0.1, 1.0, 1)


# ---------------------------------------------------------------------------- files
NATOMS = 3                       # cluster: ndim 9, six zero modes, kappa = 3


def _file(path, minima):
    """minima: list of (energy, log_product, n_zero, symmetry_order)."""
    with Database.create(path, {"kind": "cluster", "natoms": NATOMS}, ndim=3 * NATOMS,
                         identity=lambda *a: False, energy_tol=1e-9) as db:
        for k, (e, lp, nz, o) in enumerate(minima):
            db.add_minimum(e, np.full(3 * NATOMS, float(k)), log_product=lp, n_zero=nz,
                           symmetry_order=o)
    return path


def test_run_cv_writes_csv_with_partial_sums(tmp_path):
    mins = [(0.0, 2.0, 6, 1), (0.8, 1.0, 6, 2), (1.5, -1.0, 6, 1), (-0.2, 3.0, 6, 1)]
    path = _file(tmp_path / "c.h5", mins)
    out = tmp_path / "cv.csv"
    T, curves = run_cv(path, 0.05, 2.0, npoints=50, lowest=[None, 2], out_path=out)
    assert T[0] == 0.05 and T[-1] == 2.0 and len(T) == 50
    assert list(curves) == [None, 2]
    e = np.array([m[0] for m in mins])
    lp = np.array([m[1] for m in mins])
    o = np.array([m[3] for m in mins])
    np.testing.assert_allclose(curves[None], heat_capacity(e, lp, 3, o, T), rtol=1e-12)
    # the two lowest: energies -0.2 and 0.0
    np.testing.assert_allclose(curves[2], _two_state(T, 0.2, 3, 3.0, 2.0), rtol=1e-12)
    lines = out.read_text().splitlines()
    assert lines[0] == "T,Cv,Cv_all,Cv_lowest_2"
    data = np.loadtxt(out, delimiter=",", skiprows=1)
    assert data.shape == (50, 4)
    np.testing.assert_array_equal(data[:, 0], T)
    np.testing.assert_array_equal(data[:, 1], curves[None])
    np.testing.assert_array_equal(data[:, 3], curves[2])


def test_run_cv_plot_and_unknown_zero_modes_from_the_landscape(tmp_path):
    # n_zero unknown (-1): kappa = ndim - n_zero_modes of the cluster = 9 - 6 = 3
    path = _file(tmp_path / "c.h5", [(0.0, 1.0, -1, 1)])
    _, curves = run_cv(path, 0.1, 1.0, npoints=10)
    np.testing.assert_allclose(curves[None], 3.0, atol=1e-12)
    png = tmp_path / "cv.png"
    run_cv(path, 0.1, 1.0, npoints=10, lowest=[None, 1], out_path=png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_run_cv_refuses_minima_without_log_product(tmp_path):
    path = _file(tmp_path / "c.h5", [(0.0, 1.0, 6, 1), (1.0, math.nan, 6, 1),
                                     (2.0, math.nan, 6, 1)])
    with pytest.raises(InputError, match="2 of the 3 minima used have no Hessian"):
        run_cv(path, 0.1, 1.0)
    _, curves = run_cv(path, 0.1, 1.0, npoints=5, lowest=[1])     # only the lowest: fine
    np.testing.assert_allclose(curves[1], 3.0, atol=1e-12)
    with pytest.raises(InputError, match="no minima"):
        run_cv(_file(tmp_path / "empty.h5", []), 0.1, 1.0)
    with pytest.raises(InputError, match=r"\.csv"):
        run_cv(path, 0.1, 1.0, out_path=tmp_path / "x.txt")


def test_degenerate_minima_are_left_out_unless_asked(tmp_path):
    """A degenerate minimum (n_extra_zero > 0) has no harmonic partition function: the sum
    leaves it out by default, exactly as if it were not in the file."""
    path = tmp_path / "d.h5"
    with Database.create(path, {"kind": "cluster", "natoms": NATOMS}, ndim=3 * NATOMS,
                         identity=lambda *a: False, energy_tol=1e-9) as db:
        db.add_minimum(0.0, np.zeros(9), log_product=2.0, n_zero=6, n_extra_zero=0)
        db.add_minimum(0.3, np.ones(9), log_product=1.0, n_zero=6, n_extra_zero=0)
        db.add_minimum(-0.5, np.full(9, 2.0), log_product=0.0, n_zero=7, n_extra_zero=1)
    alone = _file(tmp_path / "a.h5", [(0.0, 2.0, 6, 1), (0.3, 1.0, 6, 1)])
    _, with_flag = run_cv(path, 0.05, 1.0, npoints=20, lowest=[None, 1])
    _, plain = run_cv(alone, 0.05, 1.0, npoints=20, lowest=[None, 1])
    np.testing.assert_array_equal(with_flag[None], plain[None])
    np.testing.assert_array_equal(with_flag[1], 3.0 + 0 * with_flag[1])  # lowest isolated one
    _, everything = run_cv(path, 0.05, 1.0, npoints=20, include_degenerate=True)
    e, lp, kap = np.array([0.0, 0.3, -0.5]), np.array([2.0, 1.0, 0.0]), np.array([3, 3, 2])
    T = np.linspace(0.05, 1.0, 20)
    np.testing.assert_allclose(everything[None], heat_capacity(e, lp, kap, np.ones(3), T),
                               rtol=1e-12)
