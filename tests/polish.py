"""Stationary points for tests, located to a tolerance the tests themselves guarantee.

A third-party optimiser promises no final gradient (scipy's ``gtol`` is a stopping test, and
an unlucky line search ends it early), so a test that needs a tightly converged minimum
quenches with the project's L-BFGS and then takes Newton steps with the analytic Hessian
until the gradient is below the tolerance the test needs, or fails saying so.  Newton steps
use the least-squares solution, so exact zero modes (symmetries) do not spoil them.
"""
from __future__ import annotations

import numpy as np

from mlcore.optimize import minimize


def newton_polish(system, coords, *, gtol: float = 1e-12, max_steps: int = 30) -> np.ndarray:
    """Newton steps ``H dx = -g`` (least squares) from ``coords`` until ``|g| <= gtol``.

    Parameters
    ----------
    system : object
        Anything with ``energy_gradient(x)`` and ``hessian(x)``.
    coords : ndarray, shape (ndim,)
        A point in the quadratic basin of a stationary point.
    gtol : float
        Required Euclidean norm of the gradient.
    max_steps : int
        Newton steps at most.

    Returns
    -------
    ndarray, shape (ndim,)

    Raises
    ------
    AssertionError
        If the gradient norm did not reach ``gtol`` (the test fails, saying why).
    """
    x = np.array(coords, dtype=float)
    norm = np.inf
    for _ in range(max_steps):
        grad = system.energy_gradient(x)[1]
        norm = float(np.linalg.norm(grad))
        if norm <= gtol:
            return x
        step = np.linalg.lstsq(system.hessian(x), -grad, rcond=1e-12)[0]
        x = x + step
    norm = float(np.linalg.norm(system.energy_gradient(x)[1]))
    assert norm <= gtol, f"Newton polish stopped at |g| = {norm:.3g} > {gtol:.3g}"
    return x


def local_minimum(system, start, *, gtol: float = 1e-12, quench_tol: float = 1e-7,
                  max_iter: int = 100_000) -> np.ndarray:
    """The project's L-BFGS from ``start`` to an RMS gradient ``quench_tol``, then Newton.

    Returns
    -------
    ndarray, shape (ndim,)
        A point whose gradient norm is at most ``gtol``.
    """
    res = minimize(system, np.asarray(start, dtype=float), tol=quench_tol, max_iter=max_iter)
    assert res.success, f"L-BFGS did not converge: {res.message}"
    return newton_polish(system, res.coords, gtol=gtol)
