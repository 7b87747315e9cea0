"""The p-spin study (SPEC section 6, item 4): minima from random starts against the theory.

For each size N a spherical p-spin landscape (couplings from ``seed``) is quenched by the
compiled L-BFGS from ``starts`` points uniform on the sphere; every end point is checked by
its Riemannian Hessian (no negative eigenvalue, only the radial zero mode) and the energies
per spin of the minima are kept.  As N grows they concentrate (the spread shrinks) near the
threshold ``-E_inf`` and none lie below the zero ``E_0`` of the minima's complexity
(:mod:`mlanalyse.pspin_theory`).
"""
from __future__ import annotations

import numpy as np

from mlcore.errors import InputError

#: quench settings: RMS Riemannian gradient, memory, step (the pspin config's defaults)
QUENCH = {"tol": 1e-6, "M": 10, "max_step": 1.0, "max_iter": 20000}


def quench_minima(n: int, starts: int, p: int = 3, seed: int = 0,
                  rng: np.random.Generator | None = None) -> dict:
    """Energies per spin of the minima reached from ``starts`` random points.

    Returns
    -------
    dict
        ``n``, ``energies`` (ndarray of the minima, per spin), ``n_starts``,
        ``n_unconverged``, ``n_not_minima`` (converged points with a negative or an extra
        zero Hessian eigenvalue: saddles the quench stopped at).
    """
    from mlcore.optimize import minimize
    from mlcore.stationary import characterise
    from mlcore.systems import build_system

    if n < 2 or starts < 1:
        raise InputError(f"N = {n}, starts = {starts}: need N >= 2 and at least one start")
    system = build_system({"kind": "pspin", "n": int(n), "p": int(p), "seed": int(seed)})
    rng = np.random.default_rng([int(seed), int(n)]) if rng is None else rng
    energies, unconverged, not_minima = [], 0, 0
    for _ in range(starts):
        res = minimize(system, system.random_coords(rng), **QUENCH)
        if not res.success:
            unconverged += 1
            continue
        info = characterise(system, res.coords, log_product=False)
        if info.n_negative > 0 or info.n_zero > system.n_zero_modes:
            not_minima += 1
            continue
        energies.append(float(res.energy) / n)
    return {"n": int(n), "energies": np.array(energies), "n_starts": int(starts),
            "n_unconverged": unconverged, "n_not_minima": not_minima}


def study(sizes, starts: int, p: int = 3, seed: int = 0, progress=None) -> dict:
    """Quenches for every N in ``sizes`` and the theory: ``{"sizes": [...rows],
    "theory": complexity_table(...)}``; each row has the statistics of the energies."""
    from mlanalyse.pspin_theory import complexity_table

    theory = complexity_table(p=p)
    rows = []
    for n in sizes:
        res = quench_minima(int(n), starts, p, seed)
        e = res["energies"]
        res.update({"mean": float(np.mean(e)) if len(e) else float("nan"),
                    "std": float(np.std(e)) if len(e) else float("nan"),
                    "lowest": float(np.min(e)) if len(e) else float("nan"),
                    "n_minima": len(e)})
        rows.append(res)
        if progress is not None:
            progress(res)
    return {"p": int(p), "rows": rows, "theory": theory}


def write_study(result: dict, out_dir) -> None:
    """``minima.csv`` (one row per N), ``energies.csv`` (every minimum), ``theory.json``
    (zero crossings, threshold) and ``complexity.png`` in ``out_dir``."""
    import json
    from pathlib import Path

    from mlanalyse.pspin_theory import plot_complexity
    from mlcore.database import atomic_output

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cols = ("n", "n_starts", "n_minima", "n_not_minima", "n_unconverged", "mean", "std",
            "lowest")
    with atomic_output(out / "minima.csv") as fh:
        fh.write(",".join(cols) + "\n")
        for r in result["rows"]:
            fh.write(",".join(repr(r[c]) if isinstance(r[c], float) else str(r[c])
                              for c in cols) + "\n")
    with atomic_output(out / "energies.csv") as fh:
        fh.write("n,energy_per_spin\n")
        for r in result["rows"]:
            for e in r["energies"]:
                fh.write(f"{r['n']},{e!r}\n")
    theory = result["theory"]
    with atomic_output(out / "theory.json") as fh:
        json.dump({"p": theory["p"], "threshold": theory["threshold"],
                   "zero_crossings": {str(k): v for k, v in theory["zeros"].items()}},
                  fh, indent=2)
        fh.write("\n")
    plot_complexity(theory, out / "complexity.png",
                    {r["n"]: r["energies"] for r in result["rows"] if len(r["energies"])})
