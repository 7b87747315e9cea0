"""Analytic two-dimensional surfaces for the elastic-band tests.

The Mueller-Brown potential (K. Mueller and L. D. Brown, Theor. Chim. Acta 53, 75 (1979))::

    V(x, y) = sum_k A_k exp( a_k (x - x0_k)^2 + b_k (x - x0_k)(y - y0_k) + c_k (y - y0_k)^2 )

with three minima and two saddles; the minimum-energy path from the deepest minimum A to B
goes A -> S1 -> C -> S2 -> B.  Stationary points are located here by Newton's method from
the published approximate positions, so the tests compare against values exact to rounding.
"""
from __future__ import annotations

import numpy as np

from mlcore.landscape import System

A = np.array([-200.0, -100.0, -170.0, 15.0])
a = np.array([-1.0, -1.0, -6.5, 0.7])
b = np.array([0.0, 0.0, 11.0, 0.6])
c = np.array([-10.0, -10.0, -6.5, 0.7])
X0 = np.array([1.0, 0.0, -0.5, -1.0])
Y0 = np.array([0.0, 0.5, 1.5, 1.0])

#: Approximate stationary points (literature values), refined by :func:`newton_stationary`.
APPROX = {
    "A": (-0.558, 1.442),   # global minimum, E = -146.70
    "B": (0.623, 0.028),    # E = -108.17
    "C": (-0.050, 0.467),   # E = -80.77
    "S1": (-0.822, 0.624),  # saddle between A and C, E = -40.66
    "S2": (0.212, 0.293),   # saddle between C and B, E = -72.25
}


class MullerBrown(System):
    """The Mueller-Brown surface as a flat two-dimensional landscape (analytic derivatives)."""

    kind = "python"
    ndim = 2
    n_zero_modes = 0

    def _terms(self, coords):
        x, y = np.asarray(coords, dtype=np.float64).reshape(2)
        dx, dy = x - X0, y - Y0
        ex = A * np.exp(a * dx * dx + b * dx * dy + c * dy * dy)
        px = 2.0 * a * dx + b * dy      # d(exponent)/dx
        py = b * dx + 2.0 * c * dy      # d(exponent)/dy
        return ex, px, py

    def energy_gradient(self, coords):
        ex, px, py = self._terms(coords)
        return float(ex.sum()), np.array([np.sum(ex * px), np.sum(ex * py)])

    def hessian(self, coords):
        ex, px, py = self._terms(coords)
        hxx = np.sum(ex * (px * px + 2.0 * a))
        hxy = np.sum(ex * (px * py + b))
        hyy = np.sum(ex * (py * py + 2.0 * c))
        return np.array([[hxx, hxy], [hxy, hyy]])

    def config(self):
        return {"kind": "python", "class": "tests.neb_surfaces:MullerBrown"}


def newton_stationary(system, start, iterations: int = 50) -> np.ndarray:
    """Stationary point near ``start`` by Newton's method on the gradient (2D surfaces)."""
    x = np.array(start, dtype=np.float64)
    for _ in range(iterations):
        g = system.energy_gradient(x)[1]
        x = x - np.linalg.solve(system.hessian(x), g)
        if np.linalg.norm(g) < 1e-12:
            break
    return x


def stationary_points(system=None) -> dict:
    """The five stationary points of Mueller-Brown, refined: name -> ndarray (2,)."""
    system = MullerBrown() if system is None else system
    return {name: newton_stationary(system, xy) for name, xy in APPROX.items()}
