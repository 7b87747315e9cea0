"""The result of a local minimisation (a quench)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class QuenchResult:
    """Outcome of one local minimisation.

    Attributes
    ----------
    coords : ndarray, shape (ndim,)
        Final coordinates (on the manifold for manifold landscapes).
    energy : float
        Energy at ``coords``.
    grad : ndarray, shape (ndim,)
        Gradient at ``coords`` (the tangent-space gradient on a manifold).
    rms : float
        RMS gradient ``|grad| / sqrt(ndim)``, the quantity compared with ``tol``.
    nfev : int
        Number of energy-and-gradient evaluations, the start and rejected trials included.
    nit : int
        Number of iterations (each computes one search direction).
    success : bool
        True if the RMS gradient fell to ``tol`` or below.
    message : str
        What stopped the quench, in words.
    path : ndarray of shape (n_configs, ndim), or None
        With ``keep_path``: the starting configuration (after retraction) and every
        accepted configuration, in order; the last row equals ``coords``.  Else None.
    status : int
        Machine-readable reason: 0 converged, 1 maximum iterations, 2 line search failed,
        3 non-finite energy or gradient at the start, 4 out of memory (compiled path).
    """

    coords: np.ndarray
    energy: float
    grad: np.ndarray
    rms: float
    nfev: int
    nit: int
    success: bool
    message: str
    path: np.ndarray | None = None
    status: int = 0
