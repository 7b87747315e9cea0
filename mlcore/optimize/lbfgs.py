"""L-BFGS local minimisation (quench) as GMIN and pele use it.

Two implementations of one algorithm:

- a compiled path (:func:`kernels.lbfgs.lbfgs_quench`) that runs a whole quench of a
  :class:`kernels.base.CompiledLandscape` with the GIL released and no Python per
  iteration; used when the system is such a kernel or has one as ``system.kernel``;
- a pure-Python path (:func:`lbfgs_python`) for anything with ``ndim`` and
  ``energy_gradient(coords) -> (energy, gradient)``, optionally ``project_tangent(coords,
  vec)`` and ``retract(coords)`` (user landscapes, the band of a nudged elastic band).

The two paths perform the same floating-point operations in the same order (dot products
are summed sequentially in both, see :func:`_dot`), so on the same landscape they produce
the same iterates, bit for bit on the machines tested.

Algorithm
---------
Limited-memory BFGS with the two-loop recursion (Nocedal & Wright, *Numerical
Optimization*, 2nd ed., Algorithm 7.4) and the step control of GMIN and pele, which take
no Wolfe line search but cap the step length and bound the energy rise.  At ``x`` with
gradient ``g``, each iteration

1. transports the memory to ``x`` (manifolds, see below);
2. computes ``d = -H g``: ``H`` is the L-BFGS inverse Hessian built from the last ``M``
   pairs ``s = x_{k+1} - x_k``, ``y = g_{k+1} - g_k`` on top of the initial ``H0 I``, where
   ``H0 = s.y / y.y`` of the newest pair (the user's ``H0`` before any pair is stored and
   after a reset);
3. resets the memory and takes ``d = -H0 g`` (``H0`` the user's value) if ``d`` is not a
   descent direction (``d.g >= 0``);
4. scales ``d`` down to length ``max_step`` if it is longer;
5. tries ``x_t = retract(x + d)``; if ``E(x_t) - E(x) > max_rise`` (or is not finite) the
   step is halved and retried, at most ``MAX_HALVINGS = 10`` times.  If every trial fails
   the memory is reset and the next iteration tries steepest descent; if a
   steepest-descent step from an empty memory fails too, the quench stops
   (``status = 2``, ``success = False``);
6. stores ``(s, y)`` of the accepted step if ``s.y > 0`` (the curvature condition, which
   keeps ``H`` positive definite; pairs violating it are skipped, the rest of the memory
   is kept);
7. stops when the RMS gradient ``|g| / sqrt(ndim) <= tol`` (``success = True``), or after
   ``max_iter`` iterations (``success = False``).

Manifolds (pspin: the sphere)
-----------------------------
The landscape returns the tangent (Riemannian) gradient.  The start is retracted onto the
manifold, every trial point is retracted (``retract``, renormalisation on the sphere), so
the step ``s`` actually taken is the chord between two points of the manifold.  The
memory lives in the tangent space: an accepted pair is projected onto the tangent space
at the new point, and at every iteration all stored pairs are projected again onto the
tangent space at the current point (vector transport by projection) and their
``rho = 1 / s.y`` and the scale ``H0`` recomputed; if a transported pair has ``s.y <= 0``
the memory is reset.  The direction ``d`` is projected too, so the step is tangent.
Steps are short compared with the radius (``max_step`` against ``sqrt(N)`` for pspin),
so the projection changes stored pairs only slightly and the memory stays meaningful.
On a flat landscape these projections are the identity and change nothing.

Defaults (GMIN / pele practice)
-------------------------------
``M = 4``
    The memory of GMIN (``MUPDATE``) and of pele's ``LBFGS``; more pairs rarely pay off
    for quenches that are restarted from many points.
``max_step = 0.1``
    pele's default maximum step.  In the reduced units of the Lennard-Jones cluster (pair
    minimum at 1.12) it is under a tenth of a bond, so a step cannot make atoms overlap,
    and for the ML landscapes (weights and parameters of order one) it is a small change
    of the model; it also keeps the saved paths of the ``triatomic`` data set finely
    resolved.  Programs may raise it (GMIN-like 0.4) for smoother landscapes.
``max_rise = 1e-4``
    pele's ``max_f_rise``: an absolute energy rise tolerated between accepted steps,
    small enough that quenches are effectively downhill.
``tol = 1e-6``
    RMS-gradient convergence of the ``triatomic`` data set (SPEC section 3), tight
    enough that minima are told apart by energy at ``energy_tol = 1e-6``.
``max_iter = 10000``
    Generous: a converging quench of the study's landscapes takes hundreds of steps.
``H0 = 0.1``
    The initial inverse-Hessian guess of GMIN (``DGUESS``) and pele; it only sets the
    first step (and the step after a reset) before ``s.y / y.y`` takes over.
"""
from __future__ import annotations

import math

import numpy as np

from mlcore.landscape import System, as_coords
from mlcore.optimize.result import QuenchResult

#: Maximum number of halvings of a step whose energy rise exceeds ``max_rise``.
MAX_HALVINGS = 10

STATUS_CONVERGED = 0
STATUS_MAX_ITER = 1
STATUS_LINESEARCH_FAILED = 2
STATUS_NONFINITE_START = 3
STATUS_OUT_OF_MEMORY = 4

_DEFAULTS = {"tol": 1e-6, "M": 4, "max_step": 0.1, "max_rise": 1e-4, "max_iter": 10000, "H0": 0.1}


def _dot_accumulate(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.add.accumulate(a * b)[-1]) if len(a) else 0.0


try:  # the compiled left-to-right loop of the quench itself
    from kernels.lbfgs import sequential_dot as _sequential_dot
except ImportError:  # kernels not built: the same sums from NumPy, slower
    _sequential_dot = _dot_accumulate


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """Dot product summed left to right, exactly as the compiled loop sums it.

    ``np.dot`` goes to BLAS, whose blocked and fused-multiply-add summation differs from
    the compiled quench in the last bits, and with more than one BLAS thread depends on
    the thread count; in L-BFGS such differences can flip a discrete decision (a skipped
    pair, a halving) and runs would part ways.  A sequential sum rounds the same on every
    machine (the running sum of ``np.add.accumulate`` is the NumPy twin of the loop).
    """
    return _sequential_dot(np.ascontiguousarray(a, dtype=np.float64),
                           np.ascontiguousarray(b, dtype=np.float64))


def _message(status: int, rms: float, tol: float, max_iter: int) -> str:
    if status == STATUS_CONVERGED:
        return f"converged: RMS gradient {rms:.3g} <= tol {tol:.3g}"
    if status == STATUS_MAX_ITER:
        return (f"maximum number of iterations ({max_iter}) reached with RMS gradient "
                f"{rms:.3g} > tol {tol:.3g}")
    if status == STATUS_LINESEARCH_FAILED:
        return (f"line search failed: the energy rose by more than max_rise even along steepest "
                f"descent with the step halved {MAX_HALVINGS} times (RMS gradient {rms:.3g})")
    if status == STATUS_NONFINITE_START:
        return "energy or gradient not finite at the starting point"
    if status == STATUS_OUT_OF_MEMORY:
        return "out of memory while storing the path"
    return f"unknown status {status}"


def compiled_kernel(system):
    """The :class:`kernels.base.CompiledLandscape` behind ``system``, or None.

    ``system`` itself if it is a compiled landscape, else ``system.kernel`` if that is one.
    """
    try:
        from kernels.base import CompiledLandscape
    except ImportError:  # kernels not built: only the Python path is available
        return None
    if isinstance(system, CompiledLandscape):
        return system
    kernel = getattr(system, "kernel", None)
    return kernel if isinstance(kernel, CompiledLandscape) else None


def _manifold_hooks(system):
    """``(project, retract)`` callables of ``system``, or None where it is flat.

    A method inherited unchanged from :class:`mlcore.landscape.System` is the identity
    and is treated as absent, to save the calls.
    """
    cls = type(system)
    project = getattr(system, "project_tangent", None)
    if project is not None and getattr(cls, "project_tangent", None) is System.project_tangent:
        project = None
    retract = getattr(system, "retract", None)
    if retract is not None and getattr(cls, "retract", None) is System.retract:
        retract = None
    return project, retract


def lbfgs_python(system, coords, *, tol: float = 1e-6, M: int = 4, max_step: float = 0.1,
                 max_rise: float = 1e-4, max_iter: int = 10000, H0: float = 0.1,
                 keep_path: bool = False) -> QuenchResult:
    """Pure-Python L-BFGS quench of ``system`` from ``coords`` (see the module docstring).

    Parameters
    ----------
    system : object
        Has ``ndim`` and ``energy_gradient(coords) -> (energy, gradient)``; optionally
        ``project_tangent(coords, vec) -> vec`` and ``retract(coords) -> coords`` (either
        may work in place and return None).
    coords : array_like, shape (ndim,)
        Starting coordinates (not modified).
    tol, M, max_step, max_rise, max_iter, H0, keep_path
        As in :func:`minimize`.

    Returns
    -------
    QuenchResult
    """
    n = int(system.ndim)
    project, retract = _manifold_hooks(system)

    def proj(at, vec):
        if project is None:
            return vec
        out = project(at, vec)
        return vec if out is None else np.asarray(out, dtype=np.float64)

    def retr(pt):
        if retract is None:
            return pt
        out = retract(pt)
        return pt if out is None else np.asarray(out, dtype=np.float64)

    def eg(pt):
        e, grad = system.energy_gradient(pt)
        return float(e), np.array(grad, dtype=np.float64).reshape(-1)

    x = retr(np.array(as_coords(coords, n), dtype=np.float64))
    e, g = eg(x)
    nfev, nit = 1, 0
    sqrt_n = math.sqrt(n)
    gg = _dot(g, g)
    rms = math.sqrt(gg) / sqrt_n
    path = [x.copy()] if keep_path else None
    S: list[np.ndarray] = []     # oldest first
    Y: list[np.ndarray] = []
    rho: list[float] = []
    h0 = H0
    status = STATUS_MAX_ITER
    if not (math.isfinite(e) and math.isfinite(gg)):
        status = STATUS_NONFINITE_START
    else:
        while True:
            if rms <= tol:
                status = STATUS_CONVERGED
                break
            if nit >= max_iter:
                status = STATUS_MAX_ITER
                break
            nit += 1

            # 1. transport the memory to the tangent space at x
            if project is not None and S:
                reset = False
                for j in range(len(S)):
                    S[j] = proj(x, S[j])
                    Y[j] = proj(x, Y[j])
                    ys = _dot(S[j], Y[j])
                    if not ys > 0.0:
                        reset = True
                        break
                    rho[j] = 1.0 / ys
                    if j == len(S) - 1:
                        h0 = ys / _dot(Y[j], Y[j])
                if reset:
                    S, Y, rho = [], [], []
                    h0 = H0

            # 2. two-loop recursion
            d = g.copy()
            alpha = [0.0] * len(S)
            for j in range(len(S) - 1, -1, -1):
                alpha[j] = rho[j] * _dot(S[j], d)
                d -= alpha[j] * Y[j]
            d *= h0
            for j in range(len(S)):
                beta = rho[j] * _dot(Y[j], d)
                d += S[j] * (alpha[j] - beta)
            d = -d
            d = proj(x, d)

            # 3. not a descent direction: reset, steepest descent
            if not _dot(g, d) < 0.0:
                S, Y, rho = [], [], []
                h0 = H0
                d = -h0 * g

            # 4. cap the step length
            dnorm = math.sqrt(_dot(d, d))
            if dnorm > max_step:
                d *= max_step / dnorm

            # 5. backtracking on the energy rise
            accepted = False
            for _ in range(MAX_HALVINGS + 1):
                xt = retr(x + d)
                et, gt = eg(xt)
                nfev += 1
                if et - e <= max_rise:
                    accepted = True
                    break
                d *= 0.5
            if not accepted:
                if not S:
                    status = STATUS_LINESEARCH_FAILED
                    break
                S, Y, rho = [], [], []
                h0 = H0
                continue

            # 6. memory update with the projected pair
            s = proj(xt, xt - x)
            y = proj(xt, gt - g)
            ys = _dot(s, y)
            if ys > 0.0:
                S.append(s)
                Y.append(y)
                rho.append(1.0 / ys)
                h0 = ys / _dot(y, y)
                if len(S) > M:
                    del S[0], Y[0], rho[0]

            x, e, g = xt, et, gt
            rms = math.sqrt(_dot(g, g)) / sqrt_n
            if keep_path:
                path.append(x.copy())

    return QuenchResult(
        coords=x, energy=e, grad=g, rms=rms, nfev=nfev, nit=nit,
        success=status == STATUS_CONVERGED, message=_message(status, rms, tol, max_iter),
        path=np.array(path).reshape(-1, n) if keep_path else None, status=status)


class LBFGS:
    """L-BFGS quench with fixed settings, reusable on many systems and starts.

    Parameters
    ----------
    tol : float
        Convergence threshold on the RMS gradient ``|g| / sqrt(ndim)``.  Default 1e-6.
    M : int
        Number of stored correction pairs.  Default 4.
    max_step : float
        Maximum Euclidean length of one step (before retraction).  Default 0.1.
    max_rise : float
        Largest energy rise accepted from one configuration to the next (absolute, in
        energy units).  Default 1e-4.
    max_iter : int
        Maximum number of iterations.  Default 10000.
    H0 : float
        Initial inverse-Hessian scale, used for the first step and after a reset.
        Default 0.1.
    backend : {"auto", "compiled", "python"}
        ``auto`` uses the compiled quench when the system has a compiled kernel
        (:func:`compiled_kernel`), else the Python one; the others force a path.

    See the module docstring for the algorithm and the reasons behind the defaults.
    """

    def __init__(self, *, tol: float = _DEFAULTS["tol"], M: int = _DEFAULTS["M"],
                 max_step: float = _DEFAULTS["max_step"], max_rise: float = _DEFAULTS["max_rise"],
                 max_iter: int = _DEFAULTS["max_iter"], H0: float = _DEFAULTS["H0"],
                 backend: str = "auto"):
        if int(M) != M or M < 1:
            raise ValueError(f"M must be an integer >= 1, got {M!r}")
        if not (max_step > 0.0 and math.isfinite(max_step)):
            raise ValueError(f"max_step must be a finite number > 0, got {max_step!r}")
        if not max_rise >= 0.0:
            raise ValueError(f"max_rise must be >= 0, got {max_rise!r}")
        if not tol >= 0.0:
            raise ValueError(f"tol must be >= 0, got {tol!r}")
        if int(max_iter) != max_iter or max_iter < 0:
            raise ValueError(f"max_iter must be an integer >= 0, got {max_iter!r}")
        if not (H0 > 0.0 and math.isfinite(H0)):
            raise ValueError(f"H0 must be a finite number > 0, got {H0!r}")
        if backend not in ("auto", "compiled", "python"):
            raise ValueError(f"backend must be 'auto', 'compiled' or 'python', got {backend!r}")
        self.tol = float(tol)
        self.M = int(M)
        self.max_step = float(max_step)
        self.max_rise = float(max_rise)
        self.max_iter = int(max_iter)
        self.H0 = float(H0)
        self.backend = backend

    def settings(self) -> dict:
        """The options as a plain dict (for provenance records)."""
        return {"tol": self.tol, "M": self.M, "max_step": self.max_step, "max_rise": self.max_rise,
                    "max_iter": self.max_iter, "H0": self.H0}

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.settings().items())
        return f"LBFGS({opts}, backend={self.backend!r})"

    def run(self, system, coords, *, keep_path: bool = False) -> QuenchResult:
        """Minimise ``system`` from ``coords``; returns a :class:`QuenchResult`.

        Parameters
        ----------
        system : object
            A compiled landscape, a system with a compiled ``kernel``, or any object with
            ``ndim`` and ``energy_gradient`` (see :func:`lbfgs_python`).
        coords : array_like, shape (ndim,)
            Starting coordinates (not modified).
        keep_path : bool
            Also return the start and every accepted configuration as ``result.path``.
        """
        kernel = compiled_kernel(system) if self.backend != "python" else None
        if self.backend == "compiled" and kernel is None:
            raise TypeError(f"backend='compiled' needs a compiled landscape; "
                            f"{type(system).__name__} has none")
        if kernel is None:
            return lbfgs_python(system, coords, keep_path=keep_path, **self.settings())
        from kernels.lbfgs import lbfgs_quench

        x0 = as_coords(coords, int(kernel.ndim))
        x, e, g, nfev, nit, status, path = lbfgs_quench(
            kernel, x0, self.M, self.max_step, self.max_rise, self.tol, self.max_iter,
            self.H0, keep_path)
        rms = math.sqrt(_dot(g, g)) / math.sqrt(kernel.ndim)
        return QuenchResult(coords=x, energy=float(e), grad=g, rms=rms, nfev=int(nfev),
                            nit=int(nit), success=status == STATUS_CONVERGED,
                            message=_message(status, rms, self.tol, self.max_iter), path=path,
                            status=int(status))

    __call__ = run


def minimize(system, coords, *, tol: float = _DEFAULTS["tol"], M: int = _DEFAULTS["M"],
             max_step: float = _DEFAULTS["max_step"], max_rise: float = _DEFAULTS["max_rise"],
             max_iter: int = _DEFAULTS["max_iter"], H0: float = _DEFAULTS["H0"],
             keep_path: bool = False, backend: str = "auto") -> QuenchResult:
    """Quench ``system`` from ``coords`` by L-BFGS (GMIN / pele conventions).

    Uses the compiled quench (no Python per iteration, GIL released) when ``system`` is a
    :class:`kernels.base.CompiledLandscape` or ``system.kernel`` is one, else the
    pure-Python implementation of the same algorithm.

    Parameters
    ----------
    system : object
        The landscape: anything with ``ndim`` and ``energy_gradient(coords)``; optional
        ``project_tangent`` and ``retract`` for manifolds.
    coords : array_like, shape (ndim,)
        Starting coordinates (not modified).
    tol, M, max_step, max_rise, max_iter, H0, backend
        See :class:`LBFGS`.
    keep_path : bool
        Also return the start and every accepted configuration (``result.path``, shape
        ``(n_configs, ndim)``, last row = ``result.coords``).

    Returns
    -------
    QuenchResult
        ``success`` is False (with the reason in ``message``) if the RMS gradient did not
        reach ``tol``.
    """
    return LBFGS(tol=tol, M=M, max_step=max_step, max_rise=max_rise, max_iter=max_iter,
                 H0=H0, backend=backend).run(system, coords, keep_path=keep_path)
