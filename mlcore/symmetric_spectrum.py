"""The Hessian spectrum of a stationary point modulo the symmetries its landscape declares.

A landscape names its continuous symmetries by ``zero_mode_vectors(coords)`` (translations
and rotations of clusters, the radial direction of p-spin, the output-bias shift and hidden
mixings of networks) and, optionally, directions of exact degeneracy that no symmetry
explains by ``free_mode_vectors(coords)`` (the bias of a dead hidden node).  Their span ``Z``
is removed from the Hessian:

    H' = P H P + c Z Z^T,   P = I - Z^T Z,   c = 2 ||H||_F + 1,

so that the ``k = dim Z`` eigenvalues of ``H'`` equal to ``c`` (the largest) belong to ``Z``
and the other ``n - k`` are those of ``H`` restricted to the orthogonal complement of ``Z``
(``O(n^2 k)`` work to form, one symmetric eigendecomposition).

The remaining eigenvalues ``mu`` are classified by sign with an error bound ``delta``, not by a
threshold relative to the largest eigenvalue (which calls the curvature ``2 lambda`` of an L2
term zero whenever other curvatures are a million times larger):

* rounding: ``64 n eps c`` plus the asymmetry ``||H - H^T||_2`` of the computed Hessian (a
  measure of its accuracy);
* the residual gradient: the point is not exactly stationary.  A Newton step ``d`` in the
  complement (``d = -sum (v_i . g) / mu_i v_i`` over ``|mu_i|`` above the rounding term)
  estimates where the stationary point is; by Weyl's inequality the eigenvalues there differ
  from ``mu`` by at most ``||P (H(x + d) - H(x)) P||_2``, which is computed (one more
  Hessian) and counted twice.

``mu > delta`` is positive, ``mu < -delta`` negative, ``|mu| <= delta`` zero: a zero that no
declared direction explains.  Together with the free directions these are the *extra* zero
modes of a degenerate stationary point.  A well converged minimum (residual gradient 1e-12)
has ``delta`` near the rounding term, so a curvature of 1e-5 next to one of 60 is positive.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlcore.landscape import as_coords

__all__ = ["POLISH_LIMIT", "DeclaredModes", "SymmetricSpectrum", "declared_modes", "refine_stationary",
           "symmetric_spectrum"]

_EPS = np.finfo(np.float64).eps

#: Largest landscape whose stationary points are polished by dense Newton steps before
#: they are characterised (each step: one Hessian and one eigendecomposition).
POLISH_LIMIT = 1000


@dataclass
class DeclaredModes:
    """Orthonormal rows of the declared directions at a point.

    Attributes
    ----------
    rows : ndarray, shape (k, ndim)
        Symmetry directions first, then the free directions (jointly orthonormal).
    n_symmetry : int
        How many of ``rows`` come from ``zero_mode_vectors``.
    n_free : int
        How many come from ``free_mode_vectors``.
    """

    rows: np.ndarray
    n_symmetry: int
    n_free: int


def _orthonormal(rows: np.ndarray, ndim: int) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float64).reshape(-1, ndim)
    if rows.shape[0] == 0:
        return rows
    u, sing, _ = np.linalg.svd(rows.T, full_matrices=False)
    rank = int(np.sum(sing > 1e-10 * sing[0])) if sing[0] > 0 else 0
    return np.ascontiguousarray(u[:, :rank].T)


def declared_modes(system, coords, loose: bool = False) -> DeclaredModes | None:
    """The directions ``system`` declares flat at ``coords``; None if it declares zero
    modes (``n_zero_modes > 0``) without naming them (then only a threshold can find them).
    ``loose`` is passed to ``free_mode_vectors`` (directions about to become free, for
    polishing)."""
    x = as_coords(coords, system.ndim)
    getter = getattr(system, "zero_mode_vectors", None)
    sym = getter(x) if getter is not None else None
    if sym is None:
        if int(getattr(system, "n_zero_modes", 0)) > 0:
            return None
        sym = np.zeros((0, system.ndim))
    sym = _orthonormal(sym, system.ndim)
    free_getter = getattr(system, "free_mode_vectors", None)
    free = None
    if free_getter is not None:
        free = free_getter(x, loose=True) if loose else free_getter(x)
    free = np.zeros((0, system.ndim)) if free is None else np.asarray(free, dtype=np.float64)
    if free.size:
        free = free.reshape(-1, system.ndim)
        if sym.shape[0]:
            free = free - (free @ sym.T) @ sym
        free = _orthonormal(free, system.ndim)
    else:
        free = np.zeros((0, system.ndim))
    return DeclaredModes(np.vstack([sym, free]), sym.shape[0], free.shape[0])


@dataclass
class SymmetricSpectrum:
    """The spectrum of the Hessian on the complement of the declared directions.

    Attributes
    ----------
    mu : ndarray, ascending, shape (ndim - k,)
        Eigenvalues on the complement.
    vectors : ndarray, shape (ndim, ndim - k)
        Their eigenvectors (orthogonal to the declared rows).
    declared : DeclaredModes
    rayleigh : ndarray, shape (k,)
        ``z^T H z`` of the declared rows (zero at an exact stationary point).
    bound : float
        The error bound ``delta`` of ``mu``.
    rounding : float
        Its rounding part.
    zero : ndarray of bool, shape (ndim - k,)
        ``|mu| <= bound``: zero eigenvalues no declared direction explains.
    gradient_norm : float
        Norm of the gradient on the complement.
    """

    mu: np.ndarray
    vectors: np.ndarray
    declared: DeclaredModes
    rayleigh: np.ndarray
    bound: float
    rounding: float
    zero: np.ndarray
    gradient_norm: float

    @property
    def n_negative(self) -> int:
        return int(np.sum(self.mu < -self.bound))

    @property
    def n_undeclared_zero(self) -> int:
        return int(self.zero.sum())

    @property
    def n_extra_zero(self) -> int:
        """Zero modes beyond the symmetries: free directions plus undeclared zeros."""
        return self.declared.n_free + self.n_undeclared_zero


def _hessian(system, x) -> np.ndarray:
    return np.array(system.hessian(x), dtype=np.float64).reshape(system.ndim, system.ndim)


def _projected(mat: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``P M P`` with ``P = I - Z^T Z`` for orthonormal ``rows`` ``Z``, in ``O(n^2 k)``."""
    if rows.shape[0] == 0:
        return mat
    mz = mat @ rows.T                       # (n, k)
    out = mat - mz @ rows - rows.T @ (rows @ mat) + rows.T @ (rows @ mz) @ rows
    out += out.T
    out *= 0.5
    return out


def _deflated(hess: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, float]:
    """``(P H P + c Z Z^T, c)`` for the symmetrised ``hess`` and orthonormal ``rows``;
    ``c = 2 ||H||_F + 1`` lies above every eigenvalue of ``P H P``."""
    c = 2.0 * float(np.linalg.norm(hess)) + 1.0
    if rows.shape[0] == 0:
        return hess, c
    return _projected(hess, rows) + c * (rows.T @ rows), c


def _complement_eig(hess: np.ndarray, rows: np.ndarray):
    """Eigenpairs of ``hess`` on the complement of ``rows``: ``(mu, vectors, c)``."""
    mat, c = _deflated(hess, rows)
    lam, vecs = np.linalg.eigh(mat)
    k = rows.shape[0]
    if k:
        lam, vecs = lam[:-k], vecs[:, :-k]
    return lam, vecs, c


def _newton_step(mu, vecs, grad, cutoff) -> np.ndarray:
    coef = vecs.T @ grad
    use = np.abs(mu) > cutoff
    return -(vecs[:, use] @ (coef[use] / mu[use]))


def symmetric_spectrum(system, coords, hess: np.ndarray | None = None,
                       declared: DeclaredModes | None = None) -> SymmetricSpectrum | None:
    """Classify the Hessian spectrum at ``coords`` modulo the declared directions.

    Parameters
    ----------
    system : mlcore.landscape.System
    coords : array_like, shape (ndim,)
    hess : ndarray, optional
        The Hessian at ``coords`` if already computed.
    declared : DeclaredModes, optional
        Default :func:`declared_modes`.

    Returns
    -------
    SymmetricSpectrum, or None when the system declares zero modes it does not name.
    """
    x = as_coords(coords, system.ndim)
    if declared is None:
        declared = declared_modes(system, x)
        if declared is None:
            return None
    raw = _hessian(system, x) if hess is None else np.asarray(hess, dtype=np.float64)
    asym = 0.5 * float(np.linalg.norm(raw - raw.T, 2)) if raw.size else 0.0
    sym = 0.5 * (raw + raw.T)
    rows = declared.rows
    mu, vecs, c = _complement_eig(sym, rows)
    n = system.ndim
    rounding = 64.0 * n * _EPS * c + asym
    _, grad = system.energy_gradient(x)
    grad = np.asarray(grad, dtype=np.float64).reshape(-1)
    if rows.shape[0]:
        grad = grad - rows.T @ (rows @ grad)
    grad = np.asarray(system.project_tangent(x, grad), dtype=np.float64).reshape(-1)
    step = _newton_step(mu, vecs, grad, rounding)
    moved = 0.0
    if np.any(step):
        y = np.array(system.retract(x + step), dtype=np.float64).reshape(-1)
        other = _hessian(system, y)
        diff = _projected(0.5 * (other + other.T) - sym, rows)
        moved = float(np.abs(np.linalg.eigvalsh(diff)).max()) if diff.size else 0.0
    bound = rounding + 2.0 * moved
    rayleigh = np.einsum("ij,jk,ik->i", rows, sym, rows) if rows.shape[0] else np.zeros(0)
    return SymmetricSpectrum(mu=mu, vectors=vecs, declared=declared, rayleigh=rayleigh,
                             bound=bound, rounding=rounding, zero=np.abs(mu) <= bound,
                             gradient_norm=float(np.linalg.norm(grad)))


def _damped_step(mu, vecs, grad, damping) -> np.ndarray:
    """Levenberg-Marquardt step ``-sum v_i (v_i . g) mu_i / (mu_i^2 + damping^2)``: Newton
    along curvatures well above ``damping``, almost nothing along flatter ones."""
    coef = vecs.T @ grad
    return -(vecs @ (coef * mu / (mu * mu + damping * damping)))


def refine_stationary(system, coords, max_steps: int = 20,
                      max_move: float = 0.1) -> np.ndarray:
    """Newton steps towards the stationary point nearest ``coords``, on the complement of the
    declared directions (dense Hessian; for landscapes small enough for one).

    The steps are damped Newton steps (:func:`_damped_step`, damping ``1e-8`` times the
    largest curvature), so directions that are nearly flat (the bias of a hidden node whose
    weights are decaying to zero) are not followed while the others converge.
    A step is kept only while the gradient on the complement shrinks and the point stays
    within ``max_move`` of ``coords`` (a polish, not a search: a quench to an RMS gradient of
    1e-6 stops a few 0.01 from its minimum along the soft directions of an L2 term);
    directions of curvature below the rounding level, and those about to become free
    (``loose`` declared modes), are left alone, so a valley stays where it is.
    Returns the refined coordinates (a new array; ``coords`` if no step helped).
    """
    start = np.array(as_coords(coords, system.ndim), dtype=np.float64)
    x = start.copy()
    declared = declared_modes(system, x, loose=True)
    if declared is None:
        return x

    def projected_gradient(point, rows):
        _, g = system.energy_gradient(point)
        g = np.asarray(g, dtype=np.float64).reshape(-1)
        if rows.shape[0]:
            g = g - rows.T @ (rows @ g)
        return np.asarray(system.project_tangent(point, g), dtype=np.float64).reshape(-1)

    rows = declared.rows
    g = projected_gradient(x, rows)
    for _ in range(max_steps):
        gnorm = float(np.linalg.norm(g))
        if gnorm == 0.0:
            break
        raw = _hessian(system, x)
        mu, vecs, c = _complement_eig(0.5 * (raw + raw.T), rows)
        damping = max(1e-8 * float(np.abs(mu).max(initial=0.0)), 64.0 * system.ndim * _EPS * c)
        step = _damped_step(mu, vecs, g, damping)
        if not np.any(step):
            break
        y = np.array(system.retract(x + step), dtype=np.float64).reshape(-1)
        if float(np.linalg.norm(y - start)) > max_move:
            break
        new_declared = declared_modes(system, y, loose=True)
        new_rows = rows if new_declared is None else new_declared.rows
        g_new = projected_gradient(y, new_rows)
        new_norm = float(np.linalg.norm(g_new))
        if not new_norm < gnorm:
            break
        x, g, rows = y, g_new, new_rows
        if new_norm > 0.25 * gnorm and new_norm < 1e-10:
            break        # at the rounding floor: no further step pays
    return x
