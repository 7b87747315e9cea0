"""The heat-capacity analogue of a landscape in the harmonic superposition approximation.

Model
-----
Units: ``k_B = 1`` and ``h = 1`` (the convention of PATHSAMPLE and pele), temperatures in
the energy units of the file (the cost as stored; for pspin that is H, not H / N).  Each
minimum ``a`` is a harmonic well with energy ``E_a``, ``kappa_a`` non-zero Hessian
eigenvalues ``lambda_i`` and symmetry order ``o_a``.  With unit masses the normal-mode
frequencies are ``nu_i = sqrt(lambda_i) / (2 pi)``; their geometric mean ``nu_a`` gives

    ln prod_i lambda_i = 2 kappa_a ln(2 pi) + 2 kappa_a ln nu_a,

so ``kappa_a ln nu_a = log_product_a / 2 - kappa_a ln(2 pi)``.  The classical harmonic
partition function of the well, summed over the wells, is

    Z(T) = sum_a exp(-E_a / T) / [o_a (h nu_a / T)^kappa_a],

    ln Z_a = -beta E_a - kappa_a ln beta - ln o_a - log_product_a / 2 + kappa_a ln(2 pi)

with ``beta = 1 / T``.  (The ``2 pi`` and ``h`` conventions cancel from ``C_V`` when every
minimum has the same ``kappa``; when ``kappa`` differs they set the relative weights, and
the convention above is the physical one for unit masses.)

Heat capacity
-------------
With occupation probabilities ``p_a = Z_a / Z`` and ``U_a = -d ln Z_a / d beta = E_a +
kappa_a T`` (the mean energy of well ``a``),

    d ln Z / d beta     = -<U>,
    d^2 ln Z / d beta^2 = Var_p(U) + <kappa> / beta^2,

so, in units of ``k_B``,

    C_V = beta^2 d^2 ln Z / d beta^2 = <kappa>_p + beta^2 Var_p(E_a + kappa_a T),

which for equal ``kappa`` is the familiar ``kappa + beta^2 Var_p(E)``.  The ``p_a`` come
from a log-sum-exp (shifted by the largest ``ln Z_a`` at each temperature) and the variance
is taken about the mean, so there is no overflow or cancellation at any temperature.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from mlcore.errors import InputError

__all__ = [
    "heat_capacity",
    "log_weights",
    "plot_cv",
    "run_cv",
    "temperature_grid",
    "write_cv_csv",
]

LOG_2PI = float(np.log(2.0 * np.pi))


def log_weights(energies, log_products, kappas, orders, temperatures) -> np.ndarray:
    """``ln Z_a(T)`` of every well at every temperature, shape ``(n_T, n)``.

    See the module docstring for the convention (``h = k_B = 1``, unit masses).
    """
    e, lp, kap, o, T = _as_arrays(energies, log_products, kappas, orders, temperatures)
    beta = 1.0 / T[:, None]
    return (-beta * e[None, :] + kap[None, :] * np.log(T)[:, None]
            + (-np.log(o) - 0.5 * lp + kap * LOG_2PI)[None, :])


def _as_arrays(energies, log_products, kappas, orders, temperatures):
    e = np.asarray(energies, dtype=np.float64).reshape(-1)
    lp = np.asarray(log_products, dtype=np.float64).reshape(-1)
    kap = np.broadcast_to(np.asarray(kappas, dtype=np.float64), e.shape).astype(np.float64)
    o = np.broadcast_to(np.asarray(orders, dtype=np.float64), e.shape).astype(np.float64)
    T = np.asarray(temperatures, dtype=np.float64).reshape(-1)
    if len(lp) != len(e):
        raise InputError(f"{len(lp)} log products for {len(e)} energies")
    if len(e) == 0:
        raise InputError("the heat capacity needs at least one minimum")
    if not np.all(np.isfinite(e)) or not np.all(np.isfinite(lp)):
        raise InputError("energies and log products must be finite (unknown log products: "
                         "run the Hessian check)")
    if np.any(kap < 0) or np.any(o <= 0):
        raise InputError("kappa must be >= 0 and symmetry orders > 0")
    if len(T) == 0 or not np.all(T > 0) or not np.all(np.isfinite(T)):
        raise InputError("temperatures must be finite and positive")
    return e, lp, kap, o, T


def heat_capacity(energies, log_products, kappas, orders, temperatures,
                  chunk: int = 1 << 22) -> np.ndarray:
    """``C_V(T) / k_B`` in the harmonic superposition approximation.

    Parameters
    ----------
    energies : array_like, shape (n,)
        Energies of the minima.
    log_products : array_like, shape (n,)
        ``ln`` of the product of the non-zero Hessian eigenvalues of each minimum.
    kappas : int or array_like, shape (n,)
        Number of non-zero eigenvalues (vibrational degrees of freedom) of each minimum.
    orders : int or array_like, shape (n,)
        Symmetry orders (1 if none).
    temperatures : array_like, shape (n_T,)
        Temperatures (``k_B = 1``, energy units), positive.
    chunk : int
        Work in blocks of about this many ``(T, minimum)`` pairs (memory bound).

    Returns
    -------
    ndarray, shape (n_T,)
        ``<kappa>_p + beta^2 Var_p(E_a + kappa_a T)`` (module docstring).
    """
    e, lp, kap, o, T = _as_arrays(energies, log_products, kappas, orders, temperatures)
    const = -np.log(o) - 0.5 * lp + kap * LOG_2PI
    e_ref = float(e.min())
    de = e - e_ref                                   # shift: Var and p do not change
    out = np.empty(len(T))
    step = max(1, chunk // len(e))
    for s in range(0, len(T), step):
        t = T[s:s + step, None]
        lw = -de[None, :] / t + kap[None, :] * np.log(t) + const[None, :]
        lw -= lw.max(axis=1, keepdims=True)
        p = np.exp(lw)
        p /= p.sum(axis=1, keepdims=True)
        u = de[None, :] + kap[None, :] * t           # U_a - e_ref
        mean_u = (p * u).sum(axis=1, keepdims=True)
        var_u = (p * (u - mean_u) ** 2).sum(axis=1)
        out[s:s + step] = (p * kap[None, :]).sum(axis=1) + var_u / t[:, 0] ** 2
    return out


def temperature_grid(tmin: float, tmax: float, npoints: int = 200) -> np.ndarray:
    """``npoints`` evenly spaced temperatures from ``tmin`` to ``tmax``, both exactly."""
    tmin, tmax, npoints = float(tmin), float(tmax), int(npoints)
    if not (np.isfinite(tmin) and np.isfinite(tmax)) or tmin <= 0:
        raise InputError(f"--tmin must be a positive temperature (got {tmin:g})")
    if not tmax > tmin:
        raise InputError(f"--tmax ({tmax:g}) must be above --tmin ({tmin:g})")
    if npoints < 2:
        raise InputError(f"the temperature grid needs at least 2 points (got {npoints})")
    T = np.linspace(tmin, tmax, npoints)
    T[0], T[-1] = tmin, tmax
    return T


def _column_name(k) -> str:
    return "Cv_all" if k is None else f"Cv_lowest_{k}"


def write_cv_csv(out_path, T: np.ndarray, curves: dict) -> None:
    """CSV with columns ``T``, ``Cv`` (the first curve) and one ``Cv_all`` /
    ``Cv_lowest_K`` column per curve (the first repeated under its own name), atomically."""
    from mlcore.database import atomic_output

    keys = list(curves)
    names = ["T", "Cv"] + [_column_name(k) for k in keys]
    cols = [T, curves[keys[0]]] + [curves[k] for k in keys]
    with atomic_output(out_path) as fh:
        fh.write(",".join(names) + "\n")
        for row in np.column_stack(cols):
            fh.write(",".join(repr(float(v)) for v in row) + "\n")


def plot_cv(out_path, T: np.ndarray, curves: dict, n_minima: int,
            title: str | None = None) -> None:
    """One curve per entry of ``curves`` (``{K or None: C_V}``), labelled; atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mlcore.database import atomic_path

    fig, ax = plt.subplots(figsize=(7.0, 4.8))
    for k, cv in curves.items():
        label = (f"all {n_minima} minima" if k is None or k >= n_minima
                 else f"lowest {k} minima")
        ax.plot(T, cv, lw=1.6, label=label)
    ax.set_xlabel("temperature (energy units, k_B = 1)")
    ax.set_ylabel("C_V / k_B")
    ax.set_xlim(T[0], T[-1])
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    with atomic_path(out_path) as tmp:
        fig.savefig(tmp, dpi=150)
    plt.close(fig)


def degenerate_minima(reader) -> np.ndarray:
    """Boolean mask of the degenerate minima of a file (``n_extra_zero > 0``): zero
    curvatures beyond the symmetries, where the harmonic approximation fails."""
    return np.asarray(reader.minima().n_extra_zero) > 0


def run_cv(path, tmin: float, tmax: float, npoints: int = 200, lowest=(None,),
           out_path=None, include_degenerate: bool = False) -> tuple[np.ndarray, dict]:
    """Heat-capacity analogue of a stationary-point file, optionally written out.

    Parameters
    ----------
    path : path
        The stationary-point file.
    tmin, tmax : float
        Temperature range (energy units as stored, ``k_B = 1``); both end points are in
        the grid exactly.
    npoints : int
        Number of temperatures (evenly spaced).
    lowest : sequence of (int or None)
        One curve per entry: the sum over the ``K`` lowest minima (None: all).  A ``K``
        above the number of minima uses all of them.
    out_path : path, optional
        ``.csv``: columns ``T``, ``Cv`` (the first curve), then ``Cv_all`` or
        ``Cv_lowest_K`` for each entry of ``lowest`` in order; ``.png``/``.svg``/``.pdf``:
        a plot with one labelled curve per entry.  Written atomically.
    include_degenerate : bool
        Sum the degenerate minima too (their flat directions counted as zero modes, which
        the harmonic approximation does not justify); by default they are left out before
        the ``K`` lowest are chosen.

    Returns
    -------
    (ndarray, dict)
        The temperatures, shape (npoints,), and ``{K: C_V}`` (``C_V / k_B`` arrays) with
        the keys of ``lowest``.

    Raises
    ------
    InputError
        No minima; minima used without a log product (named by count; they need the
        Hessian check); a bad temperature range or K; an unknown output suffix.
    """
    from mlcore.database import DatabaseReader

    path = Path(path)
    lowest = list(lowest) if lowest is not None else [None]
    if not lowest:
        lowest = [None]
    for k in lowest:
        if k is not None and int(k) < 1:
            raise InputError(f"--lowest must be at least 1 (got {k})")
    lowest = [None if k is None else int(k) for k in lowest]
    suffix = None
    if out_path is not None:
        suffix = Path(out_path).suffix.lower()
        if suffix not in (".csv", ".png", ".svg", ".pdf"):
            raise InputError(f"{out_path}: the output must end in .csv, .png, .svg or .pdf")
    T = temperature_grid(tmin, tmax, npoints)

    reader = DatabaseReader(path)
    mins = reader.minima()
    keep = np.ones(len(mins), dtype=bool) if include_degenerate else ~degenerate_minima(reader)
    n = int(keep.sum())
    if n == 0:
        raise InputError(f"{path}: no minima: nothing to sum (run mlgmin first)" if not len(mins)
                         else f"{path}: every minimum is degenerate; add --include-degenerate")
    e = np.asarray(mins.energy, dtype=np.float64)[keep]
    lp = np.asarray(mins.log_product, dtype=np.float64)[keep]
    nz = np.asarray(mins.n_zero, dtype=np.int64)[keep]
    orders = np.asarray(mins.symmetry_order, dtype=np.float64)[keep]
    orders = np.where(orders >= 1, orders, 1.0)
    by_energy = np.argsort(e, kind="stable")
    k_max = max(n if k is None else min(k, n) for k in lowest)
    used = by_energy[:k_max]
    missing = int(np.count_nonzero(~np.isfinite(lp[used])))
    if missing:
        raise InputError(f"{path}: {missing} of the {k_max} minima used have no Hessian "
                         "information (log_product unknown); they need the Hessian check "
                         "before the heat capacity can be computed")
    ndim = reader.ndim
    if np.any(nz[used] < 0):
        from mlcore.session import load_system

        _, system = load_system(path)
        default_zero = int(system.n_zero_modes)
    else:
        default_zero = 0
    kappa = (ndim - np.where(nz >= 0, nz, default_zero)).astype(np.float64)
    if np.any(kappa[used] < 0):
        raise InputError(f"{path}: a minimum has more zero eigenvalues than coordinates")

    curves = {}
    for k in lowest:
        idx = by_energy[:n if k is None else min(k, n)]
        curves[k] = heat_capacity(e[idx], lp[idx], kappa[idx], orders[idx], T)
    if suffix == ".csv":
        write_cv_csv(out_path, T, curves)
    elif suffix is not None:
        plot_cv(out_path, T, curves, n, title=f"{path.name}: harmonic superposition")
    return T, curves
