"""Small analytic test landscapes with stationary points known in closed form.

:class:`FourWellSurface` (2D)::

    E(x, y) = (x^2 - 1)^2 + b (y^2 - 1)^2 + c x y (x^2 - 1)(y^2 - 1)

The coupling term and its gradient vanish wherever ``x`` and ``y`` are each in
``{-1, 0, 1}``, so the nine stationary points of the separable part stay stationary with
the same energies; only their Hessians are coupled (the eigenvectors are tilted away from
the axes, so the transition modes are not coordinate directions).  With ``b = 2`` and
``c = 1.5``:

* minima ``(+-1, +-1)``, energy 0 (Hessian ``[[8, 4c], [4c, 16]]``, positive definite);
* transition states ``(0, +-1)``, energy 1 (Hessian ``[[-4, -2c], [-2c, 16]]``), each
  joining ``(-1, +-1)`` and ``(1, +-1)``;
* transition states ``(+-1, 0)``, energy ``b`` (Hessian ``[[8, -2c], [-2c, -8]]``), each
  joining ``(+-1, -1)`` and ``(+-1, 1)``;
* an index-2 saddle (a maximum) at ``(0, 0)``, energy ``1 + b`` (Hessian
  ``[[-4, c], [c, -4 b]]``, both eigenvalues negative for ``c^2 < 16 b``).

:class:`SphereQuadratic`: ``E(x) = sum_i d_i x_i^2`` on the sphere ``|x|^2 = n`` (the
compiled :class:`kernels.testsurfaces.SphereQuadraticKernel`, Riemannian gradient and
Hessian).  With distinct ``d_0 < d_1 < ...`` the stationary points are ``+-sqrt(n) e_k``,
energy ``n d_k``, of index ``k``; the transition states are ``+-sqrt(n) e_1`` with lowest
Riemannian Hessian eigenvalue ``2 (d_0 - d_1)``.
"""
from __future__ import annotations

import numpy as np

from mlcore.landscape import CompiledSystem, System


class Quadratic(System):
    """``E = 1/2 x^T H x`` with ``H = Q diag(eigenvalues) Q^T``, ``Q`` random orthogonal.

    The columns of ``Q`` for the eigenvalues listed in ``zero_indices`` are returned as
    analytic zero modes when ``analytic_zero`` is True.  ``n_zero_modes`` (default: as many
    as ``zero_indices``) declares zero modes without giving their vectors.  Counts the
    Hessian-vector products in ``n_hvp``.
    """

    kind = "python"

    def __init__(self, eigenvalues, rng, zero_indices=(), analytic_zero=True,
                 n_zero_modes=None):
        lam = np.asarray(eigenvalues, dtype=np.float64)
        self.ndim = lam.size
        self.q, _ = np.linalg.qr(rng.standard_normal((self.ndim, self.ndim)))
        self.hess = (self.q * lam) @ self.q.T
        self.zero_indices = list(zero_indices)
        self.n_zero_modes = len(self.zero_indices) if n_zero_modes is None else n_zero_modes
        self.analytic_zero = analytic_zero
        self.n_hvp = 0

    def energy_gradient(self, coords):
        return 0.5 * coords @ self.hess @ coords, self.hess @ coords

    def hessian(self, coords):
        return self.hess.copy()

    def hessian_vector(self, coords, vec):
        self.n_hvp += 1
        return self.hess @ vec

    def zero_mode_vectors(self, coords):
        if not self.analytic_zero or not self.zero_indices:
            return None
        return self.q[:, self.zero_indices].T.copy()


class FourWellSurface(System):
    """The coupled double-double well above (``ndim = 2``, no zero modes)."""

    kind = "python"
    ndim = 2
    n_zero_modes = 0

    def __init__(self, b: float = 2.0, c: float = 1.5):
        self.b = float(b)
        self.c = float(c)

    @property
    def minima(self) -> np.ndarray:
        """The four minima, shape (4, 2); energy 0."""
        return np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])

    def transition_states(self) -> list[tuple[np.ndarray, float, np.ndarray, np.ndarray]]:
        """``(ts, energy, minimum_a, minimum_b)`` for the four transition states."""
        out = []
        for y in (-1.0, 1.0):
            out.append((np.array([0.0, y]), 1.0, np.array([-1.0, y]), np.array([1.0, y])))
        for x in (-1.0, 1.0):
            out.append((np.array([x, 0.0]), self.b, np.array([x, -1.0]), np.array([x, 1.0])))
        return out

    @property
    def index2_saddle(self) -> tuple[np.ndarray, float]:
        """``((0, 0), 1 + b)``: the maximum between the wells."""
        return np.zeros(2), 1.0 + self.b

    def energy(self, coords) -> float:
        x, y = np.asarray(coords, dtype=np.float64)
        return float((x * x - 1) ** 2 + self.b * (y * y - 1) ** 2
                     + self.c * x * y * (x * x - 1) * (y * y - 1))

    def energy_gradient(self, coords):
        x, y = np.asarray(coords, dtype=np.float64)
        b, c = self.b, self.c
        gx = 4 * x * (x * x - 1) + c * y * (y * y - 1) * (3 * x * x - 1)
        gy = 4 * b * y * (y * y - 1) + c * x * (x * x - 1) * (3 * y * y - 1)
        return self.energy(coords), np.array([gx, gy])

    def hessian(self, coords):
        x, y = np.asarray(coords, dtype=np.float64)
        b, c = self.b, self.c
        hxx = 12 * x * x - 4 + 6 * c * x * y * (y * y - 1)
        hyy = b * (12 * y * y - 4) + 6 * c * x * y * (x * x - 1)
        hxy = c * (3 * x * x - 1) * (3 * y * y - 1)
        return np.array([[hxx, hxy], [hxy, hyy]])

    def hessian_vector(self, coords, vec):
        return self.hessian(coords) @ np.asarray(vec, dtype=np.float64)

    def config(self):
        return {"kind": "python", "b": self.b, "c": self.c}


class SphereQuadratic(CompiledSystem):
    """``sum_i d_i x_i^2`` on the sphere ``|x|^2 = n``; one zero mode (radial).

    ``zero_mode_vectors`` is left to the base class (None), so searches must recognise the
    normal direction through ``project_tangent`` alone.
    """

    kind = "python"
    n_zero_modes = 1
    flat = False   # a landscape on the sphere (the System protocol's manifold flag)

    def __init__(self, diag):
        from kernels.testsurfaces import SphereQuadraticKernel

        self.diag = np.asarray(diag, dtype=np.float64)
        super().__init__(SphereQuadraticKernel(self.diag))

    def stationary_point(self, k: int, sign: float = 1.0) -> np.ndarray:
        """``sign sqrt(n) e_k``: the stationary point of index ``k``."""
        x = np.zeros(self.ndim)
        x[k] = sign * np.sqrt(self.ndim)
        return x

    def config(self):
        return {"kind": "python", "diag": self.diag.tolist()}
