"""Rates by graph transformation against a direct linear-algebra solution; harmonic TST."""
import json
import math
import time

import numpy as np
import pytest

from mlcore.database import Database
from mlcore.errors import InputError
from mlpathsample.rates import (
    equilibrium_log_populations,
    linear_algebra_rates,
    ngt_rates,
    run_rates,
    tst_rates,
)

SCALARS = ("k_AB_NSS", "k_AB_SS", "k_AB_KMC", "k_BA_NSS", "k_BA_SS", "k_BA_KMC",
           "mfpt_AB", "mfpt_BA", "p_A", "p_B")
ARRAYS = ("committor_A", "mfpt_to_A", "mfpt_to_B", "log_p_eq")


def random_network(rng, n, extra_edges, *, dead_end_chain=3, island=0, duplicates=2,
                   self_ts=1):
    """A connected random network of ``n`` minima (a random tree plus extra edges), a
    dead-end chain hanging off it, TSs repeated between the same pair, TSs joining a
    minimum to itself, and optionally an island of ``island`` minima not connected to it."""
    edges = [(int(rng.integers(0, i)), i) for i in range(1, n)]
    for _ in range(extra_edges):
        a, b = rng.choice(n, 2, replace=False)
        edges.append((int(a), int(b)))
    total = n
    prev = int(rng.integers(0, n))
    for _ in range(dead_end_chain):
        edges.append((prev, total))
        prev = total
        total += 1
    for k in range(island):
        if k:
            edges.append((total + k - 1, total + k))
    total += island
    for _ in range(duplicates):
        edges.append(edges[int(rng.integers(0, n - 1))])
    for _ in range(self_ts):
        m = int(rng.integers(0, n))
        edges.append((m, m))
    me = rng.uniform(0.0, 1.0, total)
    ts_e = np.array([max(me[a], me[b]) + rng.uniform(0.05, 1.0) for a, b in edges])
    return {"min_energy": me, "min_log_product": rng.normal(0.0, 1.0, total),
            "min_order": rng.integers(1, 4, total),
            "ts_energy": ts_e, "ts_log_product": rng.normal(0.0, 1.0, len(edges)),
            "ts_order": rng.integers(1, 3, len(edges)),
            "min1": np.array([a + 1 for a, _ in edges]),
            "min2": np.array([b + 1 for _, b in edges])}


def assert_close(r1, r2, rtol=1e-8):
    for name in SCALARS:
        a, b = getattr(r1, name), getattr(r2, name)
        assert math.isclose(a, b, rel_tol=rtol), (name, a, b)
    for name in ARRAYS:
        a, b = getattr(r1, name), getattr(r2, name)
        assert np.array_equal(np.isnan(a), np.isnan(b)), name
        ok = ~np.isnan(a)
        np.testing.assert_allclose(a[ok], b[ok], rtol=rtol, atol=0, err_msg=name)


# ------------------------------------------------------------------ NGT vs linear algebra
CASES = [  # seed, n, extra edges, |A|, |B|
    (0, 6, 0, 1, 1),        # a tree: every path a chain of dead ends
    (1, 10, 4, 2, 3),
    (2, 15, 10, 3, 2),
    (3, 25, 15, 1, 4),
    (4, 40, 40, 4, 4),
    (5, 8, 20, 2, 2),       # dense: many parallel paths
]


@pytest.mark.parametrize("temperature", [0.15, 0.5, 2.0])
@pytest.mark.parametrize("case", CASES)
def test_ngt_matches_linear_algebra(case, temperature):
    seed, n, extra, na, nb = case
    rng = np.random.default_rng(seed)
    net = random_network(rng, n, extra, island=2 if seed % 2 else 0)
    ids = rng.permutation(n) + 1
    A, B = ids[:na].tolist(), ids[na:na + nb].tolist()
    ngt = ngt_rates(net, A, B, temperature)
    ref = linear_algebra_rates(net, A, B, temperature)
    assert ngt.method == "NGT" and ref.method == "linear algebra"
    assert_close(ngt, ref)
    # boundary values
    assert np.all(ngt.committor_A[np.array(A) - 1] == 1.0)
    assert np.all(ngt.committor_A[np.array(B) - 1] == 0.0)
    assert np.all(ngt.mfpt_to_A[np.array(A) - 1] == 0.0)
    q = ngt.committor_A[~np.isnan(ngt.committor_A)]
    assert np.all((q >= 0) & (q <= 1))
    # detailed balance of the steady-state rates: k_AB p_B = k_BA p_A
    assert math.isclose(ngt.k_AB_SS * ngt.p_B, ngt.k_BA_SS * ngt.p_A, rel_tol=1e-10)


def test_sparse_network_of_two_thousand_minima():
    """A sparse network (a tree plus 10% extra edges): NGT agrees with the dense solution
    and needs no n x n arrays."""
    rng = np.random.default_rng(11)
    net = random_network(rng, 2000, 200, dead_end_chain=20, island=5)
    A, B = [1, 2, 3], [1000, 1500]
    t0 = time.perf_counter()
    ngt = ngt_rates(net, A, B, 0.7)
    elapsed = time.perf_counter() - t0
    ref = linear_algebra_rates(net, A, B, 0.7)
    assert_close(ngt, ref)
    assert ngt.excluded.tolist() == list(range(2021, 2026))
    assert elapsed < 20.0


# ------------------------------------------------------------------ hand-computed cases
def two_state(E1=0.0, E2=0.5, Et=1.2, L1=2.0, L2=3.0, Lt=1.0, o1=2, o2=1, ot=1):
    return {"min_energy": [E1, E2], "min_log_product": [L1, L2], "min_order": [o1, o2],
            "ts_energy": [Et], "ts_log_product": [Lt], "ts_order": [ot], "min1": [1], "min2": [2]}


def test_tst_formula_by_hand():
    T = 0.4
    r = tst_rates(two_state(), T)
    # k = (o_min / o_ts) (prod nu_min / prod' nu_ts) exp(-(E_ts - E_min)/T),
    # nu = sqrt(eigenvalue) / (2 pi): the minimum has one frequency more than the TS
    k12 = (2 / 1) * math.exp(2.0 / 2) / math.exp(1.0 / 2) / (2 * math.pi) * math.exp(-1.2 / T)
    k21 = (1 / 1) * math.exp(3.0 / 2) / math.exp(1.0 / 2) / (2 * math.pi) * math.exp(-0.7 / T)
    assert math.isclose(r.k12[0], k12, rel_tol=1e-14)
    assert math.isclose(r.k21[0], k21, rel_tol=1e-14)
    # one-dimensional check with explicit frequencies: a minimum of curvature 4 (omega 2)
    # and a TS with no positive mode: k = omega / (2 pi) exp(-dE/T)
    one_d = {"min_energy": [0.0, 0.0], "min_log_product": [math.log(4.0)] * 2,
             "ts_energy": [1.0], "ts_log_product": [0.0], "min1": [1], "min2": [2]}
    assert math.isclose(tst_rates(one_d, 0.5).k12[0], 2.0 / (2 * math.pi) * math.exp(-2.0),
                        rel_tol=1e-14)
    # equilibrium populations satisfy detailed balance with these rates
    lp = equilibrium_log_populations(two_state(), T)
    assert math.isclose(math.exp(lp[0]) * k12, math.exp(lp[1]) * k21, rel_tol=1e-12)
    assert math.isclose(np.exp(lp).sum(), 1.0, rel_tol=1e-14)


def test_two_state_rates_are_the_tst_rates():
    T = 0.4
    k = tst_rates(two_state(), T)
    for fn in (ngt_rates, linear_algebra_rates):
        r = fn(two_state(), [1], [2], T)
        for name in ("k_AB_NSS", "k_AB_SS", "k_AB_KMC"):
            assert math.isclose(getattr(r, name), k.k21[0], rel_tol=1e-13)
        for name in ("k_BA_NSS", "k_BA_SS", "k_BA_KMC"):
            assert math.isclose(getattr(r, name), k.k12[0], rel_tol=1e-13)
        assert math.isclose(r.mfpt_AB, 1 / k.k21[0], rel_tol=1e-13)


def test_three_state_chain_committor_and_mfpt_by_hand():
    """1 - 2 - 3, A = {1}, B = {3}: q_2 = k21 / (k21 + k23); T_A(3) = 1/k32 + T_A(2),
    T_A(2) = (1 + k23 T_A(3)) / (k21 + k23)."""
    net = {"min_energy": [0.0, 0.3, 0.1], "min_log_product": [1.0, 0.5, 1.5],
           "ts_energy": [0.9, 0.8], "ts_log_product": [0.2, 0.4], "min1": [1, 2], "min2": [2, 3]}
    T = 0.3
    k = tst_rates(net, T)
    _k12, k21, k23, k32 = k.k12[0], k.k21[0], k.k12[1], k.k21[1]
    r = ngt_rates(net, [1], [3], T)
    assert math.isclose(r.committor_A[1], k21 / (k21 + k23), rel_tol=1e-13)
    # solve the two equations for T_A(2), T_A(3)
    t2 = (1 + k23 / k32) / k21
    t3 = 1 / k32 + t2
    assert math.isclose(r.mfpt_to_A[1], t2, rel_tol=1e-12)
    assert math.isclose(r.mfpt_to_A[2], t3, rel_tol=1e-12)
    assert math.isclose(r.k_AB_NSS, 1 / t3, rel_tol=1e-12)
    # SS: leaving 3 (waiting 1/k32) it reaches A before returning with probability q_2
    assert math.isclose(r.k_AB_SS, k32 * k21 / (k21 + k23), rel_tol=1e-12)


def test_parallel_transition_states_add():
    net = two_state()
    doubled = dict(net, ts_energy=[1.2, 1.2], ts_log_product=[1.0, 1.0], ts_order=[1, 1],
                   min1=[1, 2], min2=[2, 1])
    r1, r2 = ngt_rates(net, [1], [2], 0.5), ngt_rates(doubled, [1], [2], 0.5)
    assert math.isclose(r2.k_AB, 2 * r1.k_AB, rel_tol=1e-13)
    assert math.isclose(r2.mfpt_BA, r1.mfpt_BA / 2, rel_tol=1e-13)


def test_unconnected_minima_are_excluded_and_change_nothing():
    rng = np.random.default_rng(7)
    base = random_network(rng, 12, 5, island=0, self_ts=0, duplicates=0)
    n = len(base["min_energy"])
    # add an island of two minima (one with unknown log product: not needed, no error)
    with_island = {k: np.asarray(v).tolist() for k, v in base.items()}
    with_island["min_energy"] += [-5.0, -4.0]
    with_island["min_log_product"] += [math.nan, 0.0]
    with_island["min_order"] += [1, 1]
    with_island["ts_energy"] += [-3.0]
    with_island["ts_log_product"] += [0.0]
    with_island["ts_order"] += [1]
    with_island["min1"] += [n + 1]
    with_island["min2"] += [n + 2]
    r1 = ngt_rates(base, [1, 2], [5], 0.4)
    r2 = ngt_rates(with_island, [1, 2], [5], 0.4)
    assert r2.excluded.tolist() == [n + 1, n + 2]
    assert np.isnan(r2.committor_A[n:]).all()
    for name in SCALARS:
        assert math.isclose(getattr(r1, name), getattr(r2, name), rel_tol=1e-13), name
    np.testing.assert_allclose(r2.committor_A[:n], r1.committor_A, rtol=1e-13)


# ------------------------------------------------------------------ validation
def test_bad_sets_and_inputs_are_input_errors():
    rng = np.random.default_rng(3)
    net = random_network(rng, 8, 2, island=2, dead_end_chain=0)
    n = len(net["min_energy"])
    with pytest.raises(InputError, match="empty"):
        ngt_rates(net, [], [2], 1.0)
    with pytest.raises(InputError, match="disjoint"):
        ngt_rates(net, [1, 2], [2, 3], 1.0)
    with pytest.raises(InputError, match="does not exist"):
        ngt_rates(net, [1], [n + 1], 1.0)
    with pytest.raises(InputError, match="does not exist"):
        ngt_rates(net, [0], [2], 1.0)
    with pytest.raises(InputError, match="not connected"):
        ngt_rates(net, [1], [n], 1.0)            # n is on the island
    with pytest.raises(InputError, match="temperature"):
        ngt_rates(net, [1], [2], 0.0)
    with pytest.raises(InputError, match="temperature"):
        tst_rates(net, -1.0)
    unknown = dict(net, min_log_product=np.where(np.arange(n) == 3, np.nan,
                                                 net["min_log_product"]))
    with pytest.raises(InputError, match="minimum 4 has no log_product"):
        ngt_rates(unknown, [1], [2], 1.0)
    unknown_ts = dict(net, ts_log_product=np.full(len(net["ts_energy"]), np.nan))
    with pytest.raises(InputError, match="no log_product"):
        linear_algebra_rates(unknown_ts, [1], [2], 1.0)


# ------------------------------------------------------------------ the file
def _write_network(path, net, rng):
    """A stationary-point file holding the network ``net`` (random coordinates)."""
    with Database.create(path, {"kind": "regression", "seed": 0}, ndim=2,
                         identity=lambda *a: False, energy_tol=0.0) as db:
        for k in range(len(net["min_energy"])):
            db.add_minimum(net["min_energy"][k], rng.normal(size=2),
                           log_product=net["min_log_product"][k],
                           symmetry_order=int(net["min_order"][k]))
        for k in range(len(net["ts_energy"])):
            db.add_ts(net["ts_energy"][k], rng.normal(size=2), int(net["min1"][k]),
                      int(net["min2"][k]), log_product=net["ts_log_product"][k],
                      symmetry_order=int(net["ts_order"][k]))


def test_run_rates_on_a_file_is_json_safe(tmp_path):
    rng = np.random.default_rng(5)
    net = random_network(rng, 9, 4, island=2)
    path = tmp_path / "net.h5"
    _write_network(path, net, rng)
    out = run_rates(path, [1, 2], [4], 0.6)
    text = json.dumps(out, allow_nan=False)
    back = json.loads(text)
    ref = ngt_rates(net, [1, 2], [4], 0.6)
    assert back["k_AB"] == ref.k_AB_NSS and back["k_BA"] == ref.k_BA_NSS
    assert back["k_AB_SS"] == ref.k_AB_SS and back["mfpt_BA"] == ref.mfpt_BA
    n_min = len(net["min_energy"])
    assert back["excluded_minima"] == list(range(n_min - 1, n_min + 1))
    assert back["committor_A"][n_min - 1] is None and back["committor_A"][0] == 1.0
    assert back["n_ts"] == len(net["ts_energy"])
    assert back["n_ts_used"] == len(net["ts_energy"]) - 1 - 1   # one self-TS, one on the island
    assert back["A"] == [1, 2] and back["B"] == [4]
    assert math.isclose(back["detailed_balance_SS"], 1.0, rel_tol=1e-10)


def test_rates_command_takes_the_temperature_from_the_input(tmp_path, capsys):
    """``mlpathsample rates`` without --temperature uses [mlpathsample] temperature of
    --input (else the default 1.0); --temperature wins over both."""
    from mlpathsample.cli import main

    rng = np.random.default_rng(8)
    net = random_network(rng, 7, 3, dead_end_chain=0, duplicates=0, self_ts=0)
    path = tmp_path / "net.h5"
    _write_network(path, net, rng)
    inp = tmp_path / "in.toml"
    inp.write_text('[system]\nkind = "regression"\n[mlpathsample]\ntemperature = 0.3\n')

    def k_ab(*extra):
        with pytest.raises(SystemExit) as exc:
            main(["rates", str(path), "--A", "1", "--B", "3", "--json", *extra])
        assert exc.value.code in (0, None)
        return json.loads(capsys.readouterr().out)["k_AB"]

    assert k_ab("--input", str(inp)) == ngt_rates(net, [1], [3], 0.3).k_AB_NSS
    assert k_ab() == ngt_rates(net, [1], [3], 1.0).k_AB_NSS
    assert k_ab("--input", str(inp), "--temperature", "0.7") == \
        ngt_rates(net, [1], [3], 0.7).k_AB_NSS
    assert ngt_rates(net, [1], [3], 0.3).k_AB_NSS != ngt_rates(net, [1], [3], 1.0).k_AB_NSS


@pytest.mark.parametrize("dense_degree, dense_max", [(1, 4000), (3, 4000), (1, 6), (10**9, 0)])
def test_dense_core_switch_gives_the_same_rates(monkeypatch, dense_degree, dense_max):
    """The dense elimination of a filled-in core (from the start, part-way, refused for
    lack of room, never) gives the sparse answer."""
    import mlpathsample.rates as rates_module

    monkeypatch.setattr(rates_module, "DENSE_DEGREE", dense_degree)
    monkeypatch.setattr(rates_module, "DENSE_MAX", dense_max)
    rng = np.random.default_rng(21)
    net = random_network(rng, 60, 90, island=3)
    A, B = [1, 7, 9], [30, 31, 45, 2]
    assert_close(ngt_rates(net, A, B, 0.3), linear_algebra_rates(net, A, B, 0.3))


def test_degenerate_minima_and_their_transition_states_are_left_out():
    """1 - 2 - 3 with 3 degenerate and a TS 1 - 3: the rates between 1 and 2 are those of
    the network without minimum 3; A or B holding it is refused unless asked for."""
    full = {"min_energy": [0.0, 0.3, 0.1], "min_log_product": [1.0, 0.5, 1.5],
            "ts_energy": [0.9, 0.8, 0.7], "ts_log_product": [0.2, 0.4, 0.3],
            "min1": [1, 2, 1], "min2": [2, 3, 3], "min_degenerate": [False, False, True]}
    two = {"min_energy": [0.0, 0.3], "min_log_product": [1.0, 0.5], "ts_energy": [0.9],
           "ts_log_product": [0.2], "min1": [1], "min2": [2]}
    left_out, reference = ngt_rates(full, [1], [2], 0.4), ngt_rates(two, [1], [2], 0.4)
    assert math.isclose(left_out.k_AB, reference.k_AB, rel_tol=1e-13)
    assert math.isclose(left_out.k_BA, reference.k_BA, rel_tol=1e-13)
    assert list(left_out.excluded) == [3]
    kept = ngt_rates(full, [1], [2], 0.4, include_degenerate=True)
    assert not math.isclose(kept.k_AB, reference.k_AB, rel_tol=1e-3)
    with pytest.raises(InputError, match="degenerate"):
        ngt_rates(full, [1], [3], 0.4)
