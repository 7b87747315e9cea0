"""How well the minima of a classifier's landscape classify: ROC AUC on the test set.

The area under the ROC curve of one class (one against the rest) is the Mann-Whitney
statistic: the probability that a random input of the class gets a higher score (the
network's softmax probability of that class) than a random input of another class, ties
counting one half.  :func:`macro_auc` averages it over the classes present in the test
set with and without members: the number the triatomic study plots against the step s
from convergence (SPEC section 6, item 1), for the global minimum and for the best local
minimum.
"""
from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from mlcore.errors import InputError


def roc_auc(scores, positive) -> float:
    """Area under the ROC curve of ``scores`` for the boolean labels ``positive``.

    NaN when one of the two groups is empty.
    """
    scores = np.asarray(scores, dtype=np.float64)
    positive = np.asarray(positive, dtype=bool)
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(scores)                    # average ranks for ties
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def macro_auc(probabilities, labels) -> tuple[float, list[float]]:
    """One-against-the-rest AUC of every class and their mean over the defined ones.

    Parameters
    ----------
    probabilities : array_like, shape (n, n_classes)
    labels : array_like of int, shape (n,)

    Returns
    -------
    mean : float
    per_class : list of float (NaN for a class absent from, or alone in, ``labels``)
    """
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(labels)
    per_class = [roc_auc(p[:, c], y == c) for c in range(p.shape[1])]
    defined = [a for a in per_class if np.isfinite(a)]
    return (float(np.mean(defined)) if defined else float("nan")), per_class


def test_labels(system, what: str) -> np.ndarray:
    """The class labels of a classifying network's test set, or an :class:`InputError`
    saying that ``what`` needs one (another landscape, no test set, real-valued targets)."""
    if not hasattr(system, "test_probabilities") or getattr(system, "x_test", None) is None:
        raise InputError(f"{what} needs a classifying network (kind = 'nn') with a test set")
    y = np.asarray(system.y_test)
    if y.ndim != 1:
        raise InputError(f"{what} needs class labels; this network fits real-valued targets")
    return y


def minima_auc(system, coords) -> np.ndarray:
    """Test-set macro AUC of the network at each row of ``coords``.

    Raises
    ------
    InputError
        A landscape that does not classify, or one without a labelled test set.
    """
    y = test_labels(system, "ROC AUC")
    return np.array([macro_auc(system.test_probabilities(c), y)[0]
                     for c in np.asarray(coords)])


def file_auc(path) -> dict:
    """AUC of every minimum of a file: ``{"ids", "energies", "auc", "global_minimum",
    "best_local"}`` (the last two: ``{"id", "energy", "auc"}`` or None)."""
    from mlcore.session import load_system

    reader, system = load_system(path)
    mins = reader.minima()
    if len(mins) == 0:
        raise InputError(f"{path}: no minima")
    auc = minima_auc(system, mins.coords)
    energies = np.asarray(mins.energy, dtype=np.float64)
    gm = int(np.argmin(energies))
    others = [i for i in range(len(energies)) if i != gm and np.isfinite(auc[i])]
    best = max(others, key=lambda i: auc[i]) if others else None

    def entry(i):
        return None if i is None else {"id": i + 1, "energy": float(energies[i]),
                                       "auc": float(auc[i])}

    return {"ids": list(range(1, len(energies) + 1)), "energies": energies.tolist(),
            "auc": auc.tolist(), "global_minimum": entry(gm), "best_local": entry(best)}


def ensemble_weights(energies, log_products, temperature: float) -> np.ndarray:
    """Boltzmann weights of minima at a fictitious temperature ``T``, in the harmonic
    superposition approximation: ``w_i ~ exp(-E_i / T) / sqrt(prod of the Hessian's
    non-zero eigenvalues)``, i.e. ``exp(-E_i / T - log_product_i / 2)``.  Minima without a
    log product (not characterised) get the plain ``exp(-E_i / T)`` factor and the
    log product of the others' mean."""
    if not temperature > 0:
        raise InputError(f"temperature {temperature}: must be positive")
    e = np.asarray(energies, dtype=np.float64)
    lp = np.asarray(log_products, dtype=np.float64)
    known = np.isfinite(lp)
    lp = np.where(known, lp, np.mean(lp[known]) if known.any() else 0.0)
    log_w = -(e - e.min()) / temperature - 0.5 * lp
    log_w -= log_w.max()
    w = np.exp(log_w)
    return w / w.sum()


def ensemble_prediction(path, temperatures) -> list[dict]:
    """Test-set error and AUC of the Boltzmann-weighted ensemble of a file's minima (mean
    of their softmax outputs) at each temperature, beside the global minimum alone."""
    from mlcore.session import load_system

    reader, system = load_system(path)
    mins = reader.minima()
    if len(mins) == 0:
        raise InputError(f"{path}: no minima")
    y = test_labels(system, "ensemble predictions")
    probs = np.array([system.test_probabilities(c) for c in mins.coords])
    energies = np.asarray(mins.energy, dtype=np.float64)
    gm = int(np.argmin(energies))
    single_error = float(np.mean(np.argmax(probs[gm], axis=1) != y))
    single_auc = macro_auc(probs[gm], y)[0]
    rows = []
    for t in temperatures:
        w = ensemble_weights(energies, mins.log_product, float(t))
        p = np.tensordot(w, probs, axes=1)
        rows.append({"temperature": float(t), "n_minima": len(w),
                     "effective_minima": float(np.exp(-np.sum(w * np.log(w + 1e-300)))),
                     "ensemble_error": float(np.mean(np.argmax(p, axis=1) != y)),
                     "ensemble_auc": macro_auc(p, y)[0],
                     "global_minimum_error": single_error, "global_minimum_auc": single_auc})
    return rows
