"""Central finite differences: the fallback derivatives and the tests' oracle."""
from __future__ import annotations

import numpy as np


def fd_gradient(energy, coords: np.ndarray, step: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of the scalar function ``energy`` at ``coords``."""
    x = np.array(coords, dtype=np.float64)
    grad = np.empty_like(x)
    for i in range(x.size):
        xi = x[i]
        x[i] = xi + step
        ep = energy(x)
        x[i] = xi - step
        em = energy(x)
        x[i] = xi
        grad[i] = (ep - em) / (2.0 * step)
    return grad


def fd_hessian(energy_gradient, coords: np.ndarray, step: float = 1e-5) -> np.ndarray:
    """Central-difference Hessian from a function returning ``(energy, gradient)``.

    The result is symmetrised.  Shape ``(n, n)``.
    """
    x = np.array(coords, dtype=np.float64)
    n = x.size
    hess = np.empty((n, n))
    for i in range(n):
        xi = x[i]
        x[i] = xi + step
        gp = np.array(energy_gradient(x)[1], dtype=np.float64)
        x[i] = xi - step
        gm = np.array(energy_gradient(x)[1], dtype=np.float64)
        x[i] = xi
        hess[i] = (gp - gm) / (2.0 * step)
    return 0.5 * (hess + hess.T)


def fd_hessian_vector(energy_gradient, coords: np.ndarray, vec: np.ndarray,
                      step: float = 1e-5) -> np.ndarray:
    """Directional central difference of the gradient: approximately ``H(coords) @ vec``."""
    x = np.asarray(coords, dtype=np.float64)
    v = np.asarray(vec, dtype=np.float64)
    norm = np.linalg.norm(v)
    if norm == 0.0:
        return np.zeros_like(x)
    h = step / norm
    gp = np.asarray(energy_gradient(x + h * v)[1], dtype=np.float64)
    gm = np.asarray(energy_gradient(x - h * v)[1], dtype=np.float64)
    return (gp - gm) / (2.0 * h)
