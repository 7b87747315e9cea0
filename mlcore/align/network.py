"""Distance between two single-hidden-layer networks modulo the hidden-node symmetries.

A network with parameters in the layout of :mod:`kernels.nn`::

    [ W2 (H, I) row-major | b^h (H) | W1 (O, H) row-major | b^o (O) ]

computes the same function after

* any permutation of its hidden nodes (node ``j`` carries its incoming weights ``W2[j, :]``,
  its bias ``b^h_j`` and its outgoing weights ``W1[:, j]`` along), and
* for an odd activation (tanh, linear), flipping the sign of every weight into and out of
  one hidden node: ``(W2[j, :], b^h_j, W1[:, j]) -> -(W2[j, :], b^h_j, W1[:, j])``.

The output biases are untouched by both.  The aligned distance is

    d(ref, w)^2 = min over P, s of  sum_j || u^ref_j - s_j u^w_{P(j)} ||^2  + || b^o,ref - b^o,w ||^2

where ``u_j`` is the vector of node ``j``'s weights (``I + 1 + O`` numbers) and ``s_j`` is +1
or -1.  The cost of matching node ``a`` of the reference with node ``b`` of ``w`` is independent
of the other matches, so the minimum is exact: the best sign per pair is chosen first (the
smaller of ``||u_a - u_b||^2`` and ``||u_a + u_b||^2``), then the permutation by
``scipy.optimize.linear_sum_assignment`` on those costs.

For linear activation the network also has a continuous symmetry (an orthogonal, or with no
L2 term any invertible, mixing of the hidden nodes) that this discrete alignment does not
remove; two minima related by it have a positive distance here.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = ["align_networks", "apply_node_map", "best_node_map", "node_vectors"]


def _split(coords, n_in, n_hidden, n_out):
    w = np.asarray(coords, dtype=np.float64).reshape(-1)
    ndim = n_hidden * n_in + n_hidden + n_out * n_hidden + n_out
    if w.shape[0] != ndim:
        raise ValueError(f"coords has length {w.shape[0]}, a {n_in}-{n_hidden}-{n_out} "
                         f"network has {ndim} parameters")
    i0 = n_hidden * n_in
    i1 = i0 + n_hidden
    i2 = i1 + n_out * n_hidden
    return (w[:i0].reshape(n_hidden, n_in), w[i0:i1], w[i1:i2].reshape(n_out, n_hidden), w[i2:])


def node_vectors(coords, n_in: int, n_hidden: int, n_out: int) -> np.ndarray:
    """Per-hidden-node weight vectors ``[W2[j, :], b^h_j, W1[:, j]]``, shape ``(H, I + 1 + O)``."""
    w2, bh, w1, _ = _split(coords, n_in, n_hidden, n_out)
    return np.hstack([w2, bh[:, None], w1.T])


def apply_node_map(coords, perm, signs, n_in: int, n_hidden: int, n_out: int) -> np.ndarray:
    """The network whose hidden node ``j`` is node ``perm[j]`` of ``coords`` times ``signs[j]``.

    Parameters
    ----------
    coords : ndarray, shape (ndim,)
    perm : sequence of int, length H
        A permutation of ``range(H)``.
    signs : sequence of {+1, -1}, length H

    Returns
    -------
    ndarray, shape (ndim,)
        A new parameter vector computing the same function (for an odd activation).
    """
    w2, bh, w1, bo = _split(coords, n_in, n_hidden, n_out)
    perm = np.asarray(perm, dtype=np.int64)
    s = np.asarray(signs, dtype=np.float64)
    if sorted(perm.tolist()) != list(range(n_hidden)):
        raise ValueError("perm must be a permutation of range(n_hidden)")
    return np.concatenate([(s[:, None] * w2[perm]).ravel(), s * bh[perm],
                           (w1[:, perm] * s[None, :]).ravel(), bo])


def align_networks(coords_ref, coords, n_in: int, n_hidden: int, n_out: int,
                   allow_sign_flip: bool = True) -> tuple[float, np.ndarray]:
    """Align ``coords`` onto ``coords_ref`` by hidden-node permutation and sign flips.

    Parameters
    ----------
    coords_ref, coords : array_like, shape (ndim,)
        Two parameter vectors of an ``n_in``-``n_hidden``-``n_out`` network.
    n_in, n_hidden, n_out : int
        Layer sizes.
    allow_sign_flip : bool
        Allow flipping every weight into and out of a hidden node (valid for odd
        activations such as tanh and linear).

    Returns
    -------
    distance : float
        Euclidean distance between ``coords_ref`` and the aligned copy (the minimum over the
        symmetry operations, exact).
    aligned : ndarray, shape (ndim,)
        The transformed copy of ``coords`` (same function, closest to ``coords_ref``).
    """
    perm, signs = best_node_map(coords_ref, coords, n_in, n_hidden, n_out, allow_sign_flip)
    aligned = apply_node_map(coords, perm, signs, n_in, n_hidden, n_out)
    ref = np.asarray(coords_ref, dtype=np.float64).reshape(-1)
    return float(np.linalg.norm(aligned - ref)), aligned


def best_node_map(coords_ref, coords, n_in: int, n_hidden: int, n_out: int,
                  allow_sign_flip: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``(perm, signs)`` of :func:`apply_node_map` that bring ``coords`` closest to
    ``coords_ref`` (exact; see :func:`align_networks`)."""
    u_ref = node_vectors(coords_ref, n_in, n_hidden, n_out)
    u = node_vectors(coords, n_in, n_hidden, n_out)
    # ||a - s b||^2 = |a|^2 + |b|^2 - 2 s a.b ; best s = sign(a.b) when flips are allowed
    dots = u_ref @ u.T
    sq = (u_ref * u_ref).sum(axis=1)[:, None] + (u * u).sum(axis=1)[None, :]
    if allow_sign_flip:
        cost = sq - 2.0 * np.abs(dots)
        sign_ab = np.where(dots >= 0.0, 1.0, -1.0)
    else:
        cost = sq - 2.0 * dots
        sign_ab = np.ones_like(dots)
    rows, cols = linear_sum_assignment(cost)
    perm = np.empty(n_hidden, dtype=np.int64)
    perm[rows] = cols
    signs = sign_ab[rows, cols][np.argsort(rows)]
    return perm, signs
