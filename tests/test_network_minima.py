"""The minima mlgmin stores for small triatomic networks, against a reference built here.

The reference is independent of the product's characterisation and identity:

* starts: uniform random parameters from the test's own generator; scipy's L-BFGS-B, then
  Newton steps with the NumPy reference Hessian (``kernels.reference.nn``, least squares
  that ignore curvatures below ``1e-7``) until the gradient norm is at most ``GTOL``; a
  start that does not get there is left out (and counted: most must);
* classification: dense ``numpy.linalg.eigvalsh`` of the NumPy Hessian; ``|lambda| <=
  ZERO`` is zero; a minimum has no negative eigenvalue and exactly the zero modes the test
  itself expects (one for the output-bias shift when the biases are outside the L2 term,
  one per dead hidden node's free bias); anything else is left out;
* identity: the test's own comparison form (output biases of zero mean, dead nodes' biases
  zero) and the exact distance over all ``3! 2^3`` hidden-node permutations and sign flips.

mlgmin (the study's settings, ``configs/triatomic-nn-3.toml``) must then store no two copies
of one minimum, nothing that is not a reference minimum (each stored point polished by the
reference goes to a reference minimum of the same kind within ``SAME``), and every minimum
the random starts found.  The 291-copies case of the independent check (5000 sequences,
biases excluded) is the slow regression test at the end.
"""
from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import scipy.optimize

from kernels.reference.nn import NNReference

ROOT = Path(__file__).resolve().parents[1]
GTOL = 1e-10          # gradient norm of a reference minimum
ZERO = 1e-8           # |eigenvalue| of a zero mode (curvatures here are >= 2 lambda = 2e-5)
DEAD = 1e-6           # weights of a dead hidden node
SAME = 1e-3           # distance of two copies of one minimum (after the test's alignment)
E_SAME = 1e-7


def _system(n_train: int, lam: float, all_weights: bool):
    from mlcore.systems import build_system

    table = {"kind": "nn", "hidden": 3, "lam": lam, "reg_biases": all_weights,
             "data": {"kind": "triatomic", "features": "initial", "n_sequences": 2 * n_train,
                      "n_train": n_train, "n_test": n_train, "seed": 0}}
    return table, build_system(table, ROOT)


def _reference(system) -> NNReference:
    return NNReference(system.n_in, system.n_hidden, system.n_out, system.x_train,
                       labels=system.y_train, lam=system.lam, reg_biases=system.reg_biases)


class _Form:
    """The test's own view of a network: layout, dead nodes, comparison form, distance."""

    def __init__(self, system):
        self.i, self.h, self.o = system.n_in, system.n_hidden, system.n_out
        self.free_biases = not system.reg_biases
        self.maps = [(p, s) for p in itertools.permutations(range(self.h))
                     for s in itertools.product((1.0, -1.0), repeat=self.h)]

    def split(self, w):
        i, h, o = self.i, self.h, self.o
        return (w[:h * i].reshape(h, i).copy(), w[h * i:h * i + h].copy(),
                w[h * i + h:h * i + h + o * h].reshape(o, h).copy(), w[h * i + h + o * h:].copy())

    def dead(self, w):
        w2, _, w1, _ = self.split(w)
        return [j for j in range(self.h)
                if max(np.abs(w2[j]).max(), np.abs(w1[:, j]).max()) <= DEAD]

    def comparison(self, w):
        w2, bh, w1, bo = self.split(w)
        if self.free_biases:
            bo = bo - bo.mean()
            for j in self.dead(w):
                bh[j] = 0.0
        return w2, bh, w1, bo

    def distance(self, a, b):
        a2, ah, a1, ao = self.comparison(a)
        b2, bh, b1, bo = self.comparison(b)
        best = np.inf
        for perm, signs in self.maps:
            p = list(perm)
            s = np.asarray(signs)
            d2 = (np.sum((a2 - s[:, None] * b2[p]) ** 2) + np.sum((ah - s * bh[p]) ** 2)
                  + np.sum((a1 - b1[:, p] * s[None, :]) ** 2) + np.sum((ao - bo) ** 2))
            best = min(best, float(d2))
        return float(np.sqrt(best))


def _polish(ref, x, max_steps=60):
    """Least-squares Newton steps on the NumPy reference; None if |g| stays above GTOL."""
    x = np.array(x, dtype=float)
    for _ in range(max_steps):
        g = ref.energy_gradient(x)[1]
        if np.linalg.norm(g) <= GTOL:
            return x
        step = np.linalg.lstsq(ref.hessian(x), -g, rcond=1e-7)[0]
        if np.linalg.norm(step) > 0.5:
            step *= 0.5 / np.linalg.norm(step)
        x = x + step
    return x if np.linalg.norm(ref.energy_gradient(x)[1]) <= GTOL else None


def _classify(ref, form, x):
    """``"isolated"``, ``"degenerate"`` or None (not a minimum the test can certify)."""
    lam = np.linalg.eigvalsh(ref.hessian(x))
    if lam.min() < -ZERO:
        return None
    dead = len(form.dead(x)) if form.free_biases else 0
    expected = (1 if form.free_biases else 0) + dead
    if int(np.sum(np.abs(lam) <= ZERO)) != expected:
        return None
    return "degenerate" if dead else "isolated"


def reference_minima(system, n_starts: int, seed: int):
    """``(minima, n_converged)``: one ``(energy, coords, kind, count)`` per distinct minimum."""
    ref, form = _reference(system), _Form(system)
    rng = np.random.default_rng(seed)
    found, converged = [], 0
    for _ in range(n_starts):
        start = rng.uniform(-1.0, 1.0, system.ndim)
        res = scipy.optimize.minimize(system.energy_gradient, start, jac=True,
                                      method="L-BFGS-B",
                                      options={"maxiter": 50_000, "gtol": 1e-9, "ftol": 0.0})
        x = _polish(ref, res.x)
        if x is None:
            continue
        converged += 1
        kind = _classify(ref, form, x)
        if kind is None:
            continue
        energy = ref.energy(x)
        for entry in found:
            if abs(entry[0] - energy) <= E_SAME and form.distance(entry[1], x) <= SAME:
                entry[3] += 1
                break
        else:
            found.append([energy, x, kind, 1])
    return found, converged


def run_mlgmin(tmp_path, table, steps: int, runs: int = 2, seed: int = 1):
    """mlgmin with the study's [mlgmin] settings on ``table``; the stored minima."""
    from mlcore.config import load_input, parse_input
    from mlcore.config.input_file import apply_overrides
    from mlcore.database import DatabaseReader
    from mlgmin.run import run

    study = load_input(ROOT / "configs" / "triatomic-nn-3.toml")
    inp = parse_input(study.text, path=str(tmp_path / "t.toml"), base_dir=ROOT)
    inp.system.clear()
    inp.system.update(table)
    settings = apply_overrides(inp.settings("mlgmin"), "mlgmin",
                               {"steps": steps, "runs": runs, "seed": seed,
                                "executor": "serial"})
    out = tmp_path / "net.h5"
    run(inp, settings, out)
    minima = DatabaseReader(out).minima()
    return [(float(minima.energy[r]), np.array(minima.coords[r]), int(minima.n_extra_zero[r]),
             int(minima.n_negative[r])) for r in range(len(minima))]


def check_against_reference(system, stored, reference, converged, n_starts, min_count=1):
    """No copies among ``stored``, each a reference minimum of the same kind, and every
    reference minimum reached by at least ``min_count`` starts among them."""
    ref, form = _reference(system), _Form(system)
    assert converged >= 0.8 * n_starts, f"only {converged}/{n_starts} reference starts converged"
    assert reference, "the reference found no minimum"
    # no copies
    for (e1, x1, *_), (e2, x2, *_) in itertools.combinations(stored, 2):
        assert not (abs(e1 - e2) <= E_SAME and form.distance(x1, x2) <= SAME), \
            f"one minimum stored twice (energy {e1:.10f})"
    # nothing spurious: every stored point is a reference minimum of the same kind
    matched = set()
    for energy, coords, extra, negative in stored:
        assert negative == 0 and extra >= 0
        x = _polish(ref, coords)
        assert x is not None, f"stored minimum at {energy:.10f} is not stationary"
        assert form.distance(x, coords) <= SAME
        kind = _classify(ref, form, x)
        assert kind == ("degenerate" if extra > 0 else "isolated"), \
            f"stored minimum at {energy:.10f} flagged {extra} extra zeros, reference: {kind}"
        for k, (e_ref, x_ref, _, _) in enumerate(reference):
            if abs(e_ref - energy) <= E_SAME and form.distance(x_ref, x) <= SAME:
                matched.add(k)
    # none missing
    missing = [(round(e, 10), kind, count) for k, (e, _, kind, count) in enumerate(reference)
               if k not in matched and count >= min_count]
    assert missing == [], f"reference minima mlgmin did not store: {missing}"


def test_biases_excluded_no_copies_none_missing(tmp_path):
    """lambda 1e-4, biases outside L2: one isolated minimum and valleys where a hidden node
    is dead (its bias free), each stored once and flagged."""
    table, system = _system(500, 1e-4, all_weights=False)
    reference, converged = reference_minima(system, 40, seed=3)
    stored = run_mlgmin(tmp_path, table, steps=600)
    check_against_reference(system, stored, reference, converged, 40)
    kinds = {kind for *_, kind, _ in reference}
    assert kinds == {"isolated", "degenerate"}      # the case has both
    n_degenerate = sum(extra > 0 for _, _, extra, _ in stored)
    assert n_degenerate >= 1
    # shown by mlanalyse summary and list
    import io

    from mlanalyse.listing import write_minima_csv
    from mlanalyse.summary import summary

    info = summary(tmp_path / "net.h5")
    assert info["n_minima_degenerate"] == n_degenerate
    assert info["n_minima_isolated"] == len(stored) - n_degenerate
    text = io.StringIO()
    write_minima_csv(tmp_path / "net.h5", text)
    rows = text.getvalue().splitlines()
    assert rows[0].endswith(",lowest_nonzero,n_extra_zero")
    assert sum(int(r.rsplit(",", 1)[1]) > 0 for r in rows[1:]) == n_degenerate


@pytest.mark.slow
@pytest.mark.parametrize("lam, all_weights", [(1e-4, True), (1e-4, False), (1e-5, True)])
def test_small_network_minima_match_exhaustive_random_starts(tmp_path, lam, all_weights):
    """300 random starts.  Basin-hopping at the study's temperature (1e-4) explores from
    the low minima down; a high minimum that one start in 300 reaches (a basin of 0.3% of
    the box) it need not visit, so "none missing" is asserted for the minima that two or
    more starts reach.  (Measured: in each setting one single-start minimum, well above
    the global minimum, was not visited; every other reference minimum was stored.)"""
    table, system = _system(500, lam, all_weights)
    reference, converged = reference_minima(system, 300, seed=5)
    stored = run_mlgmin(tmp_path, table, steps=1500)
    check_against_reference(system, stored, reference, converged, 300, min_count=2)


@pytest.mark.slow
def test_the_291_copies_case_is_one_minimum(tmp_path):
    """5000 sequences, lambda 1e-4, biases excluded, 500 steps x 2 runs: the independent
    check found 291 stored "minima" of one cost (0.1240934855) that differ only by a common
    shift of the output biases."""
    table, system = _system(5000, 1e-4, all_weights=False)
    stored = run_mlgmin(tmp_path, table, steps=500)
    form = _Form(system)
    at_that_cost = [x for e, x, _, _ in stored if abs(e - 0.1240934855) <= 1e-6]
    assert len(at_that_cost) == 1
    for (e1, x1, *_), (e2, x2, *_) in itertools.combinations(stored, 2):
        assert not (abs(e1 - e2) <= E_SAME and form.distance(x1, x2) <= SAME)
