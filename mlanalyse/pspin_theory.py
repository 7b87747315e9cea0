"""Complexity of the spherical p-spin glass: the theory the p-spin study compares with.

For ``H(w) = N^{-(p-1)/2} sum x_{i1..ip} w_i1 ... w_ip`` on the sphere ``|w|^2 = N`` (the
landscape of :mod:`mlcore.systems.pspin`), the mean number of critical points of index
``k`` with energy per spin below ``u`` grows as ``exp(N Theta_k(u))`` (A. Auffinger,
G. Ben Arous and J. Cerny, Commun. Pure Appl. Math. 66 (2013) 165).  With the threshold
``E_inf = 2 sqrt((p - 1) / p)``::

    Theta_k(u) = 1/2 log(p - 1) - (p - 2) / (4 (p - 1)) u^2 - (k + 1) I_1(u),   u <= -E_inf
    Theta_k(u) = 1/2 log(p - 1) - (p - 2) / p,                                  u >= -E_inf

    I_1(u) = -u / E_inf^2 sqrt(u^2 - E_inf^2) - log(-u + sqrt(u^2 - E_inf^2)) + log E_inf

``Theta_k`` increases with ``u`` up to the threshold; its zero ``E_k`` (below ``-E_inf``) is
the energy per spin under which critical points of index ``k`` become exponentially rare:
``E_0`` (about -1.6572 for p = 3) bounds the minima, and ``E_0 < E_1 < E_2 < ... < -E_inf``.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq

from mlcore.errors import InputError


def threshold(p: int) -> float:
    """``E_inf = 2 sqrt((p - 1) / p)``: minima concentrate near ``-E_inf`` per spin."""
    _check_p(p)
    return 2.0 * math.sqrt((p - 1.0) / p)


def _check_p(p) -> None:
    if int(p) != p or p < 3:
        raise InputError(f"p = {p}: the complexity formulas need an integer p >= 3")


def i1(u, p: int) -> np.ndarray:
    """``I_1(u)`` for ``u <= -E_inf`` (0 above the threshold)."""
    e = threshold(p)
    u = np.asarray(u, dtype=np.float64)
    below = np.minimum(u, -e)
    root = np.sqrt(np.maximum(below * below - e * e, 0.0))
    val = -below / (e * e) * root - np.log(-below + root) + math.log(e)
    return np.where(u <= -e, val, 0.0)


def complexity(u, k: int, p: int = 3) -> np.ndarray:
    """``Theta_k(u)``: log of the mean number of index-``k`` critical points below energy
    per spin ``u``, divided by N (see the module docstring)."""
    if int(k) != k or k < 0:
        raise InputError(f"index k = {k}: must be an integer >= 0")
    e = threshold(p)
    u = np.asarray(u, dtype=np.float64)
    base = 0.5 * math.log(p - 1.0)
    below = base - (p - 2.0) / (4.0 * (p - 1.0)) * u * u - (k + 1) * i1(u, p)
    above = base - (p - 2.0) / p
    return np.where(u <= -e, below, above)


def zero_crossing(k: int, p: int = 3) -> float:
    """``E_k``: the energy per spin where ``Theta_k`` crosses zero (below ``-E_inf``)."""
    e = threshold(p)
    f = lambda u: float(complexity(u, k, p))
    lo = -e - 1.0
    while f(lo) > 0.0:
        lo -= 1.0
    return float(brentq(f, lo, -e, xtol=1e-14, rtol=1e-14))


def complexity_table(indices=(0, 1, 2, 50), p: int = 3, npoints: int = 400,
                     umin: float | None = None) -> dict:
    """Curves and zero crossings for the figure: ``{"u", "curves": {k: Theta_k},
    "zeros": {k: E_k}, "threshold"}``."""
    zeros = {int(k): zero_crossing(k, p) for k in indices}
    e = threshold(p)
    lo = umin if umin is not None else min(zeros.values()) - 0.01
    u = np.linspace(lo, -e + 0.04, npoints)
    return {"p": int(p), "u": u, "threshold": -e, "zeros": zeros,
            "curves": {int(k): complexity(u, k, p) for k in indices}}


def plot_complexity(table: dict, out_path, energies: dict | None = None) -> None:
    """The complexity curves with their zero crossings marked; with ``energies``
    (``{N: array of minima energies per spin}``) a second panel shows their histograms
    against the threshold and ``E_0``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mlcore.database import atomic_path

    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    panels = 2 if energies else 1
    fig, axes = plt.subplots(1, panels, figsize=(6.4 * panels, 4.6), squeeze=False)
    ax = axes[0, 0]
    for n, (k, curve) in enumerate(table["curves"].items()):
        c = colours[n % len(colours)]
        ax.plot(table["u"], curve, color=c, label=f"index {k}: zero at {table['zeros'][k]:.4f}")
        ax.axvline(table["zeros"][k], color=c, lw=0.6, ls=":")
    ax.axhline(0.0, color="k", lw=0.6)
    ax.axvline(table["threshold"], color="grey", lw=0.8, ls="--",
               label=f"threshold -E_inf = {table['threshold']:.4f}")
    ax.set_xlabel("energy per spin u")
    ax.set_ylabel("complexity Theta_k(u)")
    ax.set_ylim(max(min(float(np.min(c)) for c in table["curves"].values()), -0.02), None)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title(f"spherical {table['p']}-spin: complexity by Hessian index")
    if energies:
        ax = axes[0, 1]
        found = np.concatenate([np.asarray(e, dtype=float) for e in energies.values()])
        lo = min(float(found.min()), table["zeros"][min(table["zeros"])]) - 0.01
        hi = max(float(found.max()), table["threshold"]) + 0.01
        for n, (size, e) in enumerate(sorted(energies.items())):
            ax.hist(e, bins=40, range=(lo, hi), density=True, histtype="step", lw=1.4,
                    color=colours[n % len(colours)], label=f"N = {size} ({len(e)} minima)")
        ax.axvline(table["threshold"], color="grey", lw=0.8, ls="--", label="threshold -E_inf")
        e0 = table["zeros"].get(0)
        if e0 is not None:
            ax.axvline(e0, color="k", lw=0.8, ls=":", label="E_0 (no minima below)")
        ax.set_xlabel("energy per spin of the minimum")
        ax.set_ylabel("density")
        ax.legend(fontsize=8)
        ax.set_title("minima from random starts (L-BFGS)")
    fig.tight_layout()
    with atomic_path(out_path) as tmp:
        fig.savefig(tmp, format=str(out_path).rsplit(".", 1)[-1].lower(), dpi=150)
    plt.close(fig)
