"""From a transition state down to the two minima it connects (OPTIM PUSHOFF + quench).

    from mloptim.push_off import push_off
    minus, plus = push_off(system, ts.coords, ts.eigenvector, PushOffSettings(), QuenchSettings())

The transition state is displaced by ``-step`` and ``+step`` along the unit eigenvector of
its negative Hessian eigenvalue (on a manifold the eigenvector is first projected onto the
tangent space and the displaced points are retracted onto it), and each side is quenched
by the shared L-BFGS (:func:`mlcore.optimize.minimize`) with the quench settings.

With ``max_energy_drop > 0`` each displacement is halved (at most ``MAX_SHRINK`` times)
until ``E(ts) - E(displaced) <= max_energy_drop``: a displacement so large that the energy
drops a lot may already have left the steepest-descent path of the saddle.
"""
from __future__ import annotations

import numpy as np

from mlcore.config.settings import PushOffSettings, QuenchSettings
from mlcore.landscape import as_coords
from mlcore.optimize import QuenchResult, minimize

__all__ = ["displaced_points", "push_off"]

#: Halvings of the displacement allowed by ``max_energy_drop``.
MAX_SHRINK = 30


def _retract(system, x):
    out = system.retract(x)
    return x if out is None else np.asarray(out, dtype=np.float64)


def displaced_points(system, ts_coords, eigenvector, settings: PushOffSettings | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The two starting points ``ts -+ step v`` (retracted), shape ``(ndim,)`` each.

    Parameters
    ----------
    system : mlcore.landscape.System
    ts_coords : array_like, shape (ndim,)
        The transition state.
    eigenvector : array_like, shape (ndim,)
        Direction of the negative-eigenvalue mode (normalised here; its sign decides which
        side is "minus" and which "plus").
    settings : PushOffSettings, optional
        ``step`` and ``max_energy_drop``.

    Returns
    -------
    minus, plus : ndarray
    """
    s = PushOffSettings() if settings is None else settings
    n = int(system.ndim)
    ts = np.array(as_coords(ts_coords, n), dtype=np.float64)
    v = np.array(as_coords(eigenvector, n, "eigenvector"), dtype=np.float64)
    out = system.project_tangent(ts.copy(), v.copy())
    v = v if out is None else np.array(out, dtype=np.float64).reshape(-1)
    norm = float(np.linalg.norm(v))
    if not norm > 0.0:
        raise ValueError("push_off: the eigenvector is zero (after projection onto the tangent "
                         "space)")
    v /= norm
    e_ts = float(system.energy_gradient(ts)[0]) if s.max_energy_drop > 0.0 else 0.0
    points = []
    for sign in (-1.0, 1.0):
        step = s.step
        x = _retract(system, ts + sign * step * v)
        if s.max_energy_drop > 0.0:
            for _ in range(MAX_SHRINK):
                if e_ts - float(system.energy_gradient(x)[0]) <= s.max_energy_drop:
                    break
                step *= 0.5
                x = _retract(system, ts + sign * step * v)
        points.append(x)
    return points[0], points[1]


def push_off(system, ts_coords, eigenvector, settings: PushOffSettings | None = None,
             quench_settings: QuenchSettings | None = None, *, tol: float | None = None
             ) -> tuple[QuenchResult, QuenchResult]:
    """Quench from both sides of a transition state.

    Parameters
    ----------
    system : mlcore.landscape.System
    ts_coords : array_like, shape (ndim,)
        The transition state.
    eigenvector : array_like, shape (ndim,)
        Its negative-eigenvalue eigenvector (e.g. ``TSResult.eigenvector``).
    settings : PushOffSettings, optional
        Displacement (default ``PushOffSettings()``).
    quench_settings : QuenchSettings, optional
        L-BFGS settings of the two quenches (default ``QuenchSettings()``); the
        convergence threshold is its ``tol``.
    tol : float, optional
        Override of the RMS-gradient threshold (e.g. ``quench_settings.tight_tol`` for
        minima to be stored).

    Returns
    -------
    minus, plus : QuenchResult
        The quenches from ``ts - step v`` and ``ts + step v``; check ``success``.
    """
    q = QuenchSettings() if quench_settings is None else quench_settings
    start_minus, start_plus = displaced_points(system, ts_coords, eigenvector, settings)
    kwargs = {"tol": q.tol if tol is None else tol, "M": q.M, "max_step": q.max_step,
              "max_rise": q.max_rise, "max_iter": q.max_iter, "H0": q.H0}
    return minimize(system, start_minus, **kwargs), minimize(system, start_plus, **kwargs)
