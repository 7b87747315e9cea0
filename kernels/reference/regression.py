"""NumPy reference of the ``regression`` landscape (test oracle of ``kernels/regression.pyx``).

    y(x; q) = exp(-q1 x) sin(q2 x + q3) sin(q4 x + q5)
    E(q)    = sum_i [ t_i - y(x_i; q) ]^2

Written entry by entry, deliberately unlike the compiled kernel, so that the two are
independent: the Jacobian ``J[i, k] = dy(x_i)/dq_k`` and the second derivatives
``Y[i, k, l] = d2y(x_i)/dq_k dq_l`` are spelled out term by term.
"""
from __future__ import annotations

import numpy as np


def model(q: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Model values ``y(x; q)``, shape of ``x``."""
    q1, q2, q3, q4, q5 = np.asarray(q, dtype=np.float64)
    return np.exp(-q1 * x) * np.sin(q2 * x + q3) * np.sin(q4 * x + q5)


def jacobian(q: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``dy(x_i)/dq_k``, shape ``(len(x), 5)``."""
    q1, q2, q3, q4, q5 = np.asarray(q, dtype=np.float64)
    d = np.exp(-q1 * x)
    sa, ca = np.sin(q2 * x + q3), np.cos(q2 * x + q3)
    sb, cb = np.sin(q4 * x + q5), np.cos(q4 * x + q5)
    return np.stack([
        -x * d * sa * sb,
        x * d * ca * sb,
        d * ca * sb,
        x * d * sa * cb,
        d * sa * cb,
    ], axis=1)


def second_derivatives(q: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``d2y(x_i)/dq_k dq_l``, shape ``(len(x), 5, 5)``."""
    q1, q2, q3, q4, q5 = np.asarray(q, dtype=np.float64)
    d = np.exp(-q1 * x)
    sa, ca = np.sin(q2 * x + q3), np.cos(q2 * x + q3)
    sb, cb = np.sin(q4 * x + q5), np.cos(q4 * x + q5)
    y = d * sa * sb
    Y = np.empty((x.size, 5, 5))
    Y[:, 0, 0] = x * x * y
    Y[:, 0, 1] = -x * x * d * ca * sb
    Y[:, 0, 2] = -x * d * ca * sb
    Y[:, 0, 3] = -x * x * d * sa * cb
    Y[:, 0, 4] = -x * d * sa * cb
    Y[:, 1, 1] = -x * x * y
    Y[:, 1, 2] = -x * y
    Y[:, 1, 3] = x * x * d * ca * cb
    Y[:, 1, 4] = x * d * ca * cb
    Y[:, 2, 2] = -y
    Y[:, 2, 3] = x * d * ca * cb
    Y[:, 2, 4] = d * ca * cb
    Y[:, 3, 3] = -x * x * y
    Y[:, 3, 4] = -x * y
    Y[:, 4, 4] = -y
    for k in range(5):
        for m in range(k):
            Y[:, k, m] = Y[:, m, k]
    return Y


def energy(q: np.ndarray, x: np.ndarray, t: np.ndarray) -> float:
    """Sum of squared residuals ``E(q)``."""
    r = t - model(q, x)
    return float(r @ r)


def energy_gradient(q: np.ndarray, x: np.ndarray, t: np.ndarray) -> tuple[float, np.ndarray]:
    """``(E, dE/dq)``, the gradient of shape ``(5,)``."""
    r = t - model(q, x)
    return float(r @ r), -2.0 * jacobian(q, x).T @ r


def hessian(q: np.ndarray, x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``d2E/dq dq``, shape ``(5, 5)``: ``2 (J^T J - sum_i r_i Y_i)``."""
    r = t - model(q, x)
    jac = jacobian(q, x)
    return 2.0 * (jac.T @ jac - np.einsum("i,ikl->kl", r, second_derivatives(q, x)))


def hessian_vector(q: np.ndarray, x: np.ndarray, t: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``hessian(q) @ v``, shape ``(5,)``."""
    return hessian(q, x, t) @ np.asarray(v, dtype=np.float64)
