"""From a transition state down to the two minima it connects (OPTIM PUSHOFF + quench).

    from mloptim.push_off import push_off
    minus, plus = push_off(system, ts.coords, ts.eigenvector, PushOffSettings(), QuenchSettings())

The transition state is displaced by ``-step`` and ``+step`` along the unit eigenvector of
its negative Hessian eigenvalue (on a manifold the eigenvector is first projected onto the
tangent space and the displaced points are retracted onto it), and each side is quenched
by the shared L-BFGS (:func:`mlcore.optimize.minimize`) with the quench settings.

On flat landscapes (a network whose transition mode has curvature ``|lambda| ~ 1e-4``) a
displacement of ``step = 0.01`` changes the gradient by ``|lambda| step ~ 1e-6``: below the
quench tolerance, so the quench would stop where it starts, at the transition state.  Given
``min_rms`` (:func:`push_off` passes ``GRADIENT_FACTOR`` times the quench tolerance), each
displacement is therefore doubled (at most ``MAX_GROW`` times) until the RMS gradient at
the displaced point is at least ``min_rms``.

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

#: Doublings of the displacement allowed to reach the RMS gradient ``min_rms``.
MAX_GROW = 12

#: :func:`push_off` asks for an RMS gradient of this many quench tolerances at the
#: displaced points.
GRADIENT_FACTOR = 10.0


def _retract(system, x):
    out = system.retract(x)
    return x if out is None else np.asarray(out, dtype=np.float64)


def _rms_gradient(system, x) -> float:
    g = np.asarray(system.energy_gradient(np.array(x, dtype=np.float64))[1], dtype=np.float64)
    out = system.project_tangent(np.array(x, dtype=np.float64), g.reshape(-1).copy())
    g = g.reshape(-1) if out is None else np.asarray(out, dtype=np.float64).reshape(-1)
    return float(np.linalg.norm(g)) / np.sqrt(g.size)


def displaced_points(system, ts_coords, eigenvector, settings: PushOffSettings | None = None,
                     *, min_rms: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
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
    min_rms : float
        Double the displacement (at most ``MAX_GROW`` times) until the RMS gradient there
        is at least this (0: never).

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
        if min_rms > 0.0:
            for _ in range(MAX_GROW):
                if _rms_gradient(system, x) >= min_rms:
                    break
                step *= 2.0
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
        The quenches from ``ts - step v`` and ``ts + step v`` (the step grown until the RMS
        gradient there is ``GRADIENT_FACTOR`` times the quench tolerance, see
        :func:`displaced_points`); check ``success``.
    """
    q = QuenchSettings() if quench_settings is None else quench_settings
    qtol = q.tol if tol is None else tol
    start_minus, start_plus = displaced_points(system, ts_coords, eigenvector, settings,
                                               min_rms=GRADIENT_FACTOR * qtol)
    kwargs = {"tol": qtol, "M": q.M, "max_step": q.max_step,
              "max_rise": q.max_rise, "max_iter": q.max_iter, "H0": q.H0}
    return minimize(system, start_minus, **kwargs), minimize(system, start_plus, **kwargs)
