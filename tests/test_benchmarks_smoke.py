"""Smoke tests of benchmarks/: the modules import and tiny runs give finite, consistent numbers.

No timing is asserted (the machine is shared); only that the harness measures something and
that the compared quenches really solve the same problem.
"""
from __future__ import annotations

import importlib
import math
import os
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))
# The benchmark modules pin BLAS threads through the environment (setdefault); keep that
# from leaking into the subprocesses of other tests.
_saved_env = dict(os.environ)
bench_kernels = importlib.import_module("bench_kernels")
bench_quench = importlib.import_module("bench_quench")
common = importlib.import_module("common")
pele_side = importlib.import_module("pele_side")      # imports pele only when called
os.environ.clear()
os.environ.update(_saved_env)


def test_format_table_and_ratio():
    text = common.format_table([{"a": "x", "b": 2.0}, {"a": "yy", "b": math.nan}],
                               [("a", "A"), ("b", "B")])
    lines = text.splitlines()
    assert lines[0].split() == ["A", "B"]
    assert lines[2].split() == ["x", "2"]
    assert lines[3].split() == ["yy", "n/a"]
    assert common.ratio(6.0, 3.0) == 2.0
    assert math.isnan(common.ratio(1.0, 0.0))


def test_kernel_rows_are_finite():
    pytest.importorskip("kernels.cluster")
    rng = np.random.default_rng(0)
    cases = [bench_kernels.lj_case(rng, natoms=5), *bench_kernels.nn_small_case(rng, 50),
             *bench_kernels.pspin_case(rng, n_spins=6)]
    assert len(cases) >= 3
    for case in cases:
        row = bench_kernels.measure(case, min_time=1e-3)
        assert row["us_ref"] > 0 and math.isfinite(row["us_ref"])
        if case["kernel"] is not None:
            assert row["us_kernel"] > 0 and math.isfinite(row["us_kernel"])
            assert row["speedup"] == pytest.approx(row["us_ref"] / row["us_kernel"])
            assert row["rel_de"] < 1e-10          # kernel and reference agree


def test_random_starts_are_seeded_and_sized():
    a = bench_quench.random_starts(4, natoms=38, density=1.0, rng=np.random.default_rng(3))
    b = bench_quench.random_starts(4, natoms=38, density=1.0, rng=np.random.default_rng(3))
    assert a.shape == (4, 114)
    np.testing.assert_array_equal(a, b)
    half_side = 0.5 * 38 ** (1 / 3)
    assert np.all(np.abs(a) <= half_side)


def test_tiny_quench_run_reaches_tolerance():
    pytest.importorskip("kernels.lbfgs")
    pytest.importorskip("mlcore.systems.cluster")
    # (scipy is left out: importing scipy.optimize alone takes about a second)
    result = bench_quench.run(n_starts=3, methods=("ours", "ours-raw"), repeats=1)
    assert not result["missing"]
    rows = {r["method"]: r for r in result["rows"]}
    ours = rows["ours"]
    assert ours["rate"] > 0 and math.isfinite(ours["rate"])
    assert ours["converged"] == 1.0            # checked with the NumPy reference gradient
    assert ours["mean_energy"] < -100.0        # LJ38 minima lie near -170
    # the wrapper and the raw compiled quench are the same algorithm
    assert rows["ours-raw"]["same_as_ours"] == 1.0
    assert result["agree_all"] == 1.0


def test_pele_side_uses_the_same_lennard_jones():
    pytest.importorskip("pele")
    from kernels.reference import cluster as ref

    starts = bench_quench.random_starts(2, rng=np.random.default_rng(1))
    res = pele_side.quench_all(starts, tol=1e-6, memory=4, maxstep=0.1, maxiter=10000)
    for x, e in zip(res["coords"], res["energy"]):
        e_ref, g_ref = ref.energy_gradient(x)
        assert e == pytest.approx(e_ref, rel=1e-12)
        assert np.sqrt(np.mean(g_ref ** 2)) <= 1e-6
    assert res["seconds"] > 0
