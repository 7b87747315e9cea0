"""The lowest Hessian eigenvector of a landscape, with the zero modes projected out.

    from mloptim.rayleigh_ritz import ConstrainedSpace, lowest_eigenpair
    space = ConstrainedSpace.at(system, coords)             # zero modes + tangent space
    pair = lowest_eigenpair(system, coords, space, v0=previous_vector)
    pair.value, pair.vector                                  # lambda_min, unit vector

Two methods, chosen by the dimension (``method="auto"``):

* **dense** (``ndim <= DENSE_LIMIT = 300``): the Hessian ``system.hessian(coords)`` is
  formed, restricted to the orthonormal complement ``Q`` of the constraints
  (``Q^T H Q``) and diagonalised with ``numpy.linalg.eigh``.  Every eigenvalue of the
  constrained Hessian is then known, so the index of a stationary point comes for free.
  300 is where one ``eigh`` (``~ 9 ndim^3`` flops, 0.02 s at 300) stops being cheaper
  than the tens of Hessian-vector products of the iterative method, and where forming the
  Hessian of a compiled kernel still costs little memory (0.7 MB).
* **hvp** (larger landscapes, e.g. the 7960 weights of a 784-10-10 network): the Rayleigh
  quotient ``R(v) = v.Av / v.v`` of the constrained operator ``A = P H P`` is minimised
  by the locally optimal conjugate-gradient method (LOBPCG with one vector and no
  preconditioner, Knyazev 2001).  Each iteration costs one Hessian-vector product
  ``A r`` of the residual ``r = A v - R(v) v`` (the Rayleigh-quotient gradient is
  ``2 r / |v|^2``); the images of ``v`` and of the previous direction ``p`` are kept
  and updated by linearity.  The next ``v`` minimises ``R`` *exactly* over
  ``span{v, r, p}``: the basis is orthonormalised (Gram-Schmidt, dropping directions
  that have become linearly dependent) and the 3x3 Rayleigh-Ritz problem is solved.  This
  is conjugate-gradient minimisation of the Rayleigh quotient with an exact line search
  in a 2D plane, which is why it needs no step length or trust radius.  The image ``A v``
  is recomputed from scratch every ``REFRESH_EVERY`` iterations to stop rounding drift.
  Converged when the RMS of the Rayleigh-quotient gradient, ``2 |r| / sqrt(ndim)`` (unit
  ``v``), is at most ``tol`` (``TSSearchSettings.eig_tol``).  A warm start from the
  previous eigenvector (``v0``) makes the solve take a few products per search step.

Constraints (what is projected out)
-----------------------------------
:class:`ConstrainedSpace` holds the directions excluded from the eigenvector and from the
tangent-space minimisation of the transition-state search: the analytic zero modes
``system.zero_mode_vectors(coords)`` (translations and rotations of clusters, the common
shift of the output biases of cross-entropy networks, the radial direction of pspin), and
on a manifold the normal space (by ``system.project_tangent``).  The projector is
``P v = Z_perp(T v)``: first onto the tangent space ``T``, then the zero-mode rows ``Z``
removed.

Zero modes the landscape does not know analytically (``zero_mode_vectors`` returns
``None`` but ``n_zero_modes > 0``) are recognised numerically: the eigenvalues with
``|lambda| <= zero_tol * scale`` (``scale`` the largest ``|lambda|``), nearest zero first,
are skipped, at most as many as are expected and not already excluded.  On the dense path
``scale`` is exact; on the hvp path it is estimated by a few power iterations and each
skipped mode is deflated and the solve repeated.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlcore.landscape import System, as_coords

__all__ = [
    "DENSE_LIMIT",
    "ConstrainedSpace",
    "EigenPair",
    "lowest_eigenpair",
    "rayleigh_ritz_lowest",
    "spectrum_scale",
]

#: ``method="auto"`` uses the dense Hessian up to this many coordinates.
DENSE_LIMIT = 300

#: The hvp path recomputes ``A v`` from a fresh product every this many iterations.
REFRESH_EVERY = 10

#: Relative rounding floor of the Rayleigh-quotient residual (units of |A v|).
NOISE_FLOOR = 1e-13

#: Power iterations that estimate the spectrum scale on the hvp path.
POWER_STEPS = 12

#: A Gram-Schmidt direction shorter than this (relative to its length before
#: orthogonalisation) is dropped as linearly dependent.
_DROP = 1e-10


def is_flat(system) -> bool:
    """True if ``system`` is flat: its ``flat`` attribute (:class:`mlcore.landscape.System`),
    else (plain objects) whether it inherits the identity ``project_tangent``."""
    if hasattr(system, "flat"):
        return bool(system.flat)
    method = getattr(type(system), "project_tangent", None)
    return method is None or method is System.project_tangent


def _orthonormal_rows(rows: np.ndarray | None, ndim: int) -> np.ndarray:
    """Orthonormal basis (rows) of the span of ``rows``; shape ``(k, ndim)``, k may be 0."""
    if rows is None:
        return np.empty((0, ndim))
    mat = np.asarray(rows, dtype=np.float64).reshape(-1, ndim)
    if mat.shape[0] == 0:
        return np.empty((0, ndim))
    u, sing, _ = np.linalg.svd(mat.T, full_matrices=False)
    if sing.size == 0 or sing[0] == 0.0:
        return np.empty((0, ndim))
    rank = int(np.sum(sing > 1e-10 * sing[0]))
    return np.ascontiguousarray(u[:, :rank].T)


class ConstrainedSpace:
    """The space the search moves in at ``coords``: tangent to the manifold, orthogonal to
    the zero modes (and, optionally, to further directions such as the eigenvector).

    Parameters
    ----------
    system : object
        The landscape (``ndim``; optional ``project_tangent``).
    coords : ndarray, shape (ndim,)
        The point whose tangent space is used.
    rows : ndarray, shape (k, ndim), optional
        Directions to project out (need not be orthonormal; they are orthonormalised).

    Attributes
    ----------
    rows : ndarray, shape (k, ndim)
        Orthonormal excluded directions.
    flat : bool
        True when the landscape has no manifold projection.
    """

    def __init__(self, system, coords, rows=None):
        self.system = system
        self.ndim = int(system.ndim)
        self.coords = as_coords(coords, self.ndim)
        self.flat = is_flat(system)
        self.rows = _orthonormal_rows(rows, self.ndim)
        self._basis = None

    @classmethod
    def at(cls, system, coords) -> ConstrainedSpace:
        """The space orthogonal to the analytic zero modes of ``system`` at ``coords``."""
        getter = getattr(system, "zero_mode_vectors", None)
        rows = getter(as_coords(coords, system.ndim)) if getter is not None else None
        return cls(system, coords, rows)

    def with_rows(self, extra) -> ConstrainedSpace:
        """A copy that also excludes the directions ``extra`` (shape ``(m, ndim)``)."""
        extra = np.asarray(extra, dtype=np.float64).reshape(-1, self.ndim)
        return ConstrainedSpace(self.system, self.coords, np.vstack([self.rows, extra]))

    def project(self, vec, at=None) -> np.ndarray:
        """``P vec`` (a new array): tangent projection at ``at`` (default: ``coords``),
        then the excluded rows removed."""
        w = np.array(vec, dtype=np.float64).reshape(-1)
        if not self.flat:
            pt = self.coords if at is None else as_coords(at, self.ndim)
            out = self.system.project_tangent(pt, w)
            w = w if out is None else np.array(out, dtype=np.float64).reshape(-1)
        if self.rows.shape[0]:
            w -= self.rows.T @ (self.rows @ w)
        return w

    def complement_basis(self) -> np.ndarray:
        """Orthonormal basis of the range of ``P``, shape ``(ndim, m)`` (dense path; cached)."""
        if self._basis is None:
            self._basis = self._complement_basis()
        return self._basis

    def _complement_basis(self) -> np.ndarray:
        n = self.ndim
        k = self.rows.shape[0]
        if self.flat:
            if k == 0:
                return np.eye(n)
            # the rows are orthonormal: the last n - k right singular vectors span the rest
            return np.ascontiguousarray(np.linalg.svd(self.rows, full_matrices=True)[2][k:].T)
        pmat = np.empty((n, n))
        eye = np.eye(n)
        for i in range(n):
            pmat[:, i] = self.project(eye[i])
        pmat = 0.5 * (pmat + pmat.T)
        vals, vecs = np.linalg.eigh(pmat)
        return np.ascontiguousarray(vecs[:, vals > 0.5])


@dataclass
class EigenPair:
    """The lowest eigenpair of the constrained Hessian.

    Attributes
    ----------
    value : float
        The lowest eigenvalue (zero modes excluded).
    vector : ndarray, shape (ndim,)
        Its unit eigenvector, in the constrained space.
    rms : float
        RMS of the Rayleigh-quotient gradient ``2 |A v - value v| / sqrt(ndim)``.
    converged : bool
        Dense path: always True; hvp path: ``rms <= tol``.
    n_hvp : int
        Hessian-vector products used (0 on the dense path).
    n_hessian : int
        Dense Hessians formed (0 on the hvp path).
    method : str
        ``"dense"`` or ``"hvp"``.
    scale : float
        Spectrum scale ``max |lambda|`` (exact on the dense path, a lower bound by power
        iteration on the hvp path).
    zero_threshold : float
        ``zero_tol * scale``: eigenvalues of smaller magnitude count as zero.
    spectrum : ndarray or None
        Dense path: every eigenvalue of the constrained Hessian, ascending, numerically
        recognised zero modes removed; None on the hvp path.
    vectors : ndarray or None
        Dense path: the eigenvectors matching ``spectrum`` as columns, shape
        ``(ndim, len(spectrum))``.
    zero_vectors : ndarray
        Numerically recognised (not analytic) zero modes as rows, shape ``(k, ndim)``.
    """

    value: float
    vector: np.ndarray
    rms: float
    converged: bool
    n_hvp: int
    n_hessian: int
    method: str
    scale: float
    zero_threshold: float
    spectrum: np.ndarray | None = None
    vectors: np.ndarray | None = None
    zero_vectors: np.ndarray | None = None

    @property
    def n_negative(self) -> int | None:
        """Number of negative eigenvalues beyond the zero threshold (dense path only)."""
        if self.spectrum is None:
            return None
        return int(np.sum(self.spectrum < -self.zero_threshold))


def _hvp_function(system, coords, space):
    x = as_coords(coords, system.ndim)
    count = [0]

    def apply(vec):
        count[0] += 1
        pv = space.project(vec)
        hv = np.array(system.hessian_vector(x, np.ascontiguousarray(pv)), dtype=np.float64)
        return space.project(hv.reshape(-1))

    return apply, count


def _start_vector(space, v0, rng):
    n = space.ndim
    v = None
    if v0 is not None:
        v = space.project(as_coords(v0, n, "v0"))
        if not np.linalg.norm(v) > 1e-12 * max(1.0, np.linalg.norm(v0)):
            v = None
    if v is None:
        v = space.project(rng.standard_normal(n))
    norm = np.linalg.norm(v)
    if not norm > 0.0:
        raise ValueError("the constrained space is empty: every direction is excluded")
    return v / norm


def rayleigh_ritz_lowest(apply, v0, *, max_iter=100, tol=1e-4, ndim=None, project=None):
    """Minimise the Rayleigh quotient of the symmetric operator ``apply`` (LOBPCG, 1 vector).

    Parameters
    ----------
    apply : callable
        ``v -> A v`` for a symmetric ``A`` (already restricted to the constrained space).
    v0 : ndarray, shape (n,)
        Unit start vector in the range of ``A``.
    max_iter : int
        Iterations (one product each).
    tol : float
        Convergence on the RMS of the Rayleigh-quotient gradient ``2 |A v - R v| / sqrt(n)``.
    ndim : int, optional
        The ``n`` of the RMS (default ``len(v0)``).
    project : callable, optional
        ``v -> P v``, the projector onto the constrained space, applied to the new
        direction of every iteration: ``A = P H P`` is zero on the excluded directions,
        which lie *below* a positive spectrum, so rounding components along them would
        otherwise grow until the quotient slid into them.

    Returns
    -------
    value, vector, rms, converged, n_products
    """
    n = v0.size if ndim is None else int(ndim)
    sqrt_n = np.sqrt(n)
    v = v0 / np.linalg.norm(v0)
    av = apply(v)
    nprod = 1
    lam = float(v @ av)
    p = ap = None
    rms = np.inf
    for it in range(max_iter + 1):
        if it and it % REFRESH_EVERY == 0:
            av = apply(v)
            nprod += 1
            lam = float(v @ av)
        r = av - lam * v
        if project is not None:
            r = project(r)
        rms = 2.0 * float(np.linalg.norm(r)) / sqrt_n
        if rms <= tol or it == max_iter:
            break
        # rounding floor: the residual of an exact eigenvector is ~ eps |A|; below a few
        # hundred eps the directions r are noise, so stop (rms > tol is reported as is)
        if rms <= NOISE_FLOOR * max(float(np.linalg.norm(av)), abs(lam)) / sqrt_n:
            break
        ar = apply(r)
        nprod += 1
        # orthonormal basis of span{v, r, p} with images, by Gram-Schmidt
        basis, images = [v], [av]
        for w, aw in ((r, ar), (p, ap)):
            if w is None:
                continue
            w, aw = w.copy(), aw.copy()
            norm0 = float(np.linalg.norm(w))
            if not norm0 > 0.0:
                continue
            for _ in range(2):   # twice is enough (Kahan)
                for b, ab in zip(basis, images):
                    c = float(b @ w)
                    w -= c * b
                    aw -= c * ab
            norm = float(np.linalg.norm(w))
            if norm <= _DROP * norm0:
                continue
            basis.append(w / norm)
            images.append(aw / norm)
        bmat = np.array(basis)
        amat = np.array(images)
        small = bmat @ amat.T
        small = 0.5 * (small + small.T)
        _, vecs = np.linalg.eigh(small)
        c = vecs[:, 0]
        new_v = c @ bmat
        new_av = c @ amat
        # the new direction from the non-v part of the basis (no cancellation)
        p = c[1:] @ bmat[1:]
        ap = c[1:] @ amat[1:]
        if project is not None:
            new_v = project(new_v)
        norm = float(np.linalg.norm(new_v))
        v, av = new_v / norm, new_av / norm
        lam = float(v @ av)
    return lam, v, rms, bool(rms <= tol), nprod


def _dense(system, coords, space, zero_tol, n_extra_zero):
    x = as_coords(coords, system.ndim)
    hess = np.array(system.hessian(x), dtype=np.float64).reshape(system.ndim, system.ndim)
    hess = 0.5 * (hess + hess.T)
    q = space.complement_basis()
    if q.shape[1] == 0:
        raise ValueError("the constrained space is empty: every direction is excluded")
    hc = q.T @ hess @ q
    vals, y = np.linalg.eigh(0.5 * (hc + hc.T))
    vecs = q @ y
    scale = float(np.abs(vals).max()) if vals.size else 0.0
    thr = zero_tol * scale
    keep = np.ones(vals.size, dtype=bool)
    if n_extra_zero > 0:
        order = np.argsort(np.abs(vals), kind="stable")[:n_extra_zero]
        keep[order[np.abs(vals[order]) <= thr]] = False
    zero_vectors = np.ascontiguousarray(vecs[:, ~keep].T)
    spec, svecs = vals[keep], vecs[:, keep]
    if spec.size == 0:
        raise ValueError("every eigenvalue of the constrained Hessian is a zero mode")
    v = svecs[:, 0].copy()
    res = hess @ v
    res = space.project(res) - spec[0] * v
    rms = 2.0 * float(np.linalg.norm(res)) / np.sqrt(system.ndim)
    return EigenPair(value=float(spec[0]), vector=v, rms=rms, converged=True, n_hvp=0,
                     n_hessian=1, method="dense", scale=scale, zero_threshold=thr,
                     spectrum=spec, vectors=svecs, zero_vectors=zero_vectors)


def _power_scale(apply, v, steps=POWER_STEPS):
    """Lower bound of ``max |lambda|`` by a few power iterations from ``v``."""
    w = v / np.linalg.norm(v)
    est = 0.0
    for _ in range(steps):
        aw = apply(w)
        est = max(est, float(np.linalg.norm(aw)))
        norm = np.linalg.norm(aw)
        if not norm > 0.0:
            break
        w = aw / norm
    return est


def spectrum_scale(system, coords, space: ConstrainedSpace | None = None,
                   rng: np.random.Generator | None = None) -> tuple[float, int]:
    """Estimate ``max |lambda|`` of the constrained Hessian by power iteration.

    Returns ``(scale, n_hvp)``: a lower bound of the spectrum scale (good to a few per cent
    after ``POWER_STEPS`` products on the spectra met here) and the products used.
    """
    x = as_coords(coords, system.ndim)
    if space is None:
        space = ConstrainedSpace.at(system, x)
    if rng is None:
        rng = np.random.default_rng(0)
    apply, count = _hvp_function(system, x, space)
    scale = _power_scale(apply, space.project(rng.standard_normal(system.ndim)))
    return scale, count[0]


def _hvp(system, coords, space, v0, rng, max_iter, tol, zero_tol, n_extra_zero, scale):
    total = 0
    zero_rows = []
    sub = space
    scale_est = scale
    while True:
        apply, count = _hvp_function(system, coords, sub)
        start = _start_vector(sub, v0, rng)
        if scale_est is None:
            scale_est = _power_scale(apply, sub.project(rng.standard_normal(space.ndim)))
        lam, v, rms, ok, _ = rayleigh_ritz_lowest(apply, start, max_iter=max_iter, tol=tol,
                                                  ndim=space.ndim, project=sub.project)
        total += count[0]
        thr = zero_tol * scale_est
        if len(zero_rows) < n_extra_zero and abs(lam) <= thr:
            zero_rows.append(v)            # a numerically recognised zero mode: deflate it
            sub = sub.with_rows(v[None, :])
            v0 = None
            continue
        break
    zero_vectors = np.array(zero_rows).reshape(-1, space.ndim)
    return EigenPair(value=lam, vector=v, rms=rms, converged=ok, n_hvp=total, n_hessian=0,
                     method="hvp", scale=scale_est, zero_threshold=thr,
                     zero_vectors=zero_vectors)


def lowest_eigenpair(system, coords, space: ConstrainedSpace | None = None, *, v0=None,
                     method: str = "auto", dense_limit: int = DENSE_LIMIT,
                     max_iter: int = 100, tol: float = 1e-4, zero_tol: float = 1e-6,
                     scale: float | None = None,
                     rng: np.random.Generator | None = None) -> EigenPair:
    """Lowest eigenvalue and unit eigenvector of the Hessian in the constrained space.

    Parameters
    ----------
    system : mlcore.landscape.System
        ``hessian`` (dense path) or ``hessian_vector`` (hvp path); ``n_zero_modes``.
    coords : array_like, shape (ndim,)
        Where the Hessian is taken.
    space : ConstrainedSpace, optional
        Excluded directions; default ``ConstrainedSpace.at(system, coords)`` (the analytic
        zero modes and the manifold normal).
    v0 : array_like, shape (ndim,), optional
        Warm start of the hvp path (e.g. the previous eigenvector); random if omitted.
    method : {"auto", "dense", "hvp"}
        ``auto``: dense when ``ndim <= dense_limit``.
    dense_limit : int
        See ``method``.
    max_iter, tol : int, float
        Iterations and RMS Rayleigh-gradient tolerance of the hvp path.
    zero_tol : float
        Relative threshold of numerically recognised zero modes (module docstring).
    scale : float, optional
        Spectrum scale for the hvp path's zero threshold (estimated by power iteration if
        omitted and needed).
    rng : numpy.random.Generator, optional
        Random start vectors; default ``numpy.random.default_rng(0)``.

    Returns
    -------
    EigenPair
    """
    x = as_coords(coords, system.ndim)
    if space is None:
        space = ConstrainedSpace.at(system, x)
    if rng is None:
        rng = np.random.default_rng(0)
    if method == "auto":
        method = "dense" if system.ndim <= dense_limit else "hvp"
    expected = int(getattr(system, "n_zero_modes", 0))
    if method == "dense":
        known = system.ndim - space.complement_basis().shape[1]
        return _dense(system, x, space, zero_tol, max(0, expected - known))
    if method != "hvp":
        raise ValueError(f"method = {method!r}: choose 'auto', 'dense' or 'hvp'")
    known = space.rows.shape[0]
    if known == 0 and not space.flat:
        known = 1   # a manifold without analytic zero modes: its normal (sphere) is excluded
    n_extra = max(0, expected - known)
    if n_extra == 0:
        scale = 0.0 if scale is None else scale   # no numeric zero test needed
    return _hvp(system, x, space, v0, rng, max_iter, tol, zero_tol, n_extra, scale)
