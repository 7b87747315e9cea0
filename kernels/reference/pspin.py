"""NumPy reference of the ``pspin`` landscape (test oracle of ``kernels/pspin.pyx``).

    H(w) = N^{-(p-1)/2} sum_{i1..ip} x_{i1..ip} w_i1 ... w_ip

Works on the raw, unsymmetrised couplings ``x`` (shape ``(N,) * p``): the Euclidean
gradient is the sum over the ``p`` index slots of ``x`` contracted with ``w`` everywhere
except that slot, and the Euclidean Hessian the sum over ordered pairs of distinct slots.
The Riemannian forms use explicit ``N x N`` projector matrices ``P = I - w w^T / |w|^2``::

    grad_R = P g,        hess_R = P (Hess - (w . g / |w|^2) I) P
"""
from __future__ import annotations

import itertools

import numpy as np


def _scale(x: np.ndarray) -> float:
    n, p = x.shape[0], x.ndim
    return float(n) ** (-(p - 1) / 2.0)


def _contract_all_but(x: np.ndarray, w: np.ndarray, keep: tuple[int, ...]) -> np.ndarray:
    """Contract every index of ``x`` not in ``keep`` with ``w``; the kept ones stay in order."""
    t = np.moveaxis(x, keep, tuple(range(len(keep))))
    for _ in range(x.ndim - len(keep)):
        t = t @ w
    return t


def energy(x: np.ndarray, w: np.ndarray) -> float:
    """``H(w)`` for couplings ``x`` of shape ``(N,) * p``."""
    return _scale(x) * float(_contract_all_but(x, w, ()))


def euclidean_gradient(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``dH/dw`` in R^N (no projection), shape ``(N,)``."""
    return _scale(x) * sum(_contract_all_but(x, w, (s,)) for s in range(x.ndim))


def euclidean_hessian(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``d2H/dw dw`` in R^N, shape ``(N, N)``."""
    pairs = itertools.permutations(range(x.ndim), 2)
    return _scale(x) * sum(_contract_all_but(x, w, pair) for pair in pairs)


def projector(w: np.ndarray) -> np.ndarray:
    """Tangent projector ``I - w w^T / |w|^2``, shape ``(N, N)``."""
    return np.eye(w.size) - np.outer(w, w) / (w @ w)


def riemannian_gradient(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``P g``, shape ``(N,)``."""
    return projector(w) @ euclidean_gradient(x, w)


def energy_gradient(x: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray]:
    """``(H, P g)``, what the compiled kernel returns."""
    return energy(x, w), riemannian_gradient(x, w)


def riemannian_hessian(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``P (Hess - (w . g / |w|^2) I) P``, shape ``(N, N)``."""
    proj = projector(w)
    wg = w @ euclidean_gradient(x, w)
    return proj @ (euclidean_hessian(x, w) - (wg / (w @ w)) * np.eye(w.size)) @ proj


def hessian_vector(x: np.ndarray, w: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``riemannian_hessian(x, w) @ v``, shape ``(N,)``."""
    return riemannian_hessian(x, w) @ v


def symmetric_energy_gradient(sym: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray]:
    """Fast NumPy ``(H, P g)`` from an already symmetrised tensor (a speed baseline).

    Uses ``g = p c J[w, .., w, .]`` by repeated matrix-vector products.
    """
    n, p = sym.shape[0], sym.ndim
    c = _scale(sym)
    t = sym.reshape(-1, n) @ w
    for _ in range(p - 2):
        t = t.reshape(-1, n) @ w
    e = c * float(w @ t)
    g = p * c * t
    return e, g - (w @ g) / (w @ w) * w
