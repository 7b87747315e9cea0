"""NumPy reference of the ``cluster`` landscape (SPEC 2.1): the test oracle of ``kernels.cluster``.

N atoms in three dimensions, reduced units (epsilon = sigma = 1)::

    V = sum_{i<j} 4 [ r_ij^-12 - r_ij^-6 ]
      + gamma * sum_{i<j<k} (1 + 3 cos t1 cos t2 cos t3) / (r_ij r_ik r_jk)^3

Coordinates are flat, ``(x1, y1, z1, x2, ...)``, shape ``(3 N,)``.

Both terms are written as functions of squared distances only.  A pair term is
``e(s)`` with ``s = r^2``; a triplet term is ``f(a, b, c)`` with ``a = r_ij^2``,
``b = r_ik^2``, ``c = r_jk^2``, because the product of the cosines of a triangle is
``(a+b-c)(a-b+c)(-a+b+c) / (8 a b c)``::

    f(a, b, c) = gamma [ q^(-3/2) + (3/8) M q^(-5/2) ],   q = a b c,
                 M = (a+b-c)(a-b+c)(-a+b+c).

Gradient and Hessian follow by the chain rule from ``grad(d) = +-2 (x_p - x_q)`` and the
constant Hessian of a squared distance, ``2 [[I, -I], [-I, I]]``::

    H = sum_{p,q} f_pq grad(d_p) grad(d_q)^T + sum_p f_p hess(d_p).

Everything is vectorised over all pairs and all triplets: clear rather than fast.
"""
from __future__ import annotations

from itertools import combinations

import numpy as np


def _positions(coords) -> np.ndarray:
    x = np.asarray(coords, dtype=np.float64).reshape(-1, 3)
    return x


def pair_indices(natoms: int) -> tuple[np.ndarray, np.ndarray]:
    """Atom indices ``(i, j)`` of every pair ``i < j``, two int arrays of length N(N-1)/2."""
    i, j = np.triu_indices(natoms, k=1)
    return i, j


def triplet_indices(natoms: int) -> np.ndarray:
    """Atom indices of every triplet ``i < j < k``, int array of shape ``(T, 3)``."""
    trip = np.array(list(combinations(range(natoms), 3)), dtype=np.intp)
    return trip.reshape(-1, 3)


# ---------------------------------------------------------------------- scalar functions
def lj_pair_terms(s: np.ndarray):
    """Lennard-Jones energy of a pair and its first two derivatives in ``s = r^2``.

    Returns ``(e, e_s, e_ss)``, arrays of the shape of ``s``.
    """
    inv = 1.0 / s
    inv3 = inv ** 3
    inv6 = inv3 ** 2
    e = 4.0 * (inv6 - inv3)
    e_s = 4.0 * (-6.0 * inv6 + 3.0 * inv3) * inv
    e_ss = 4.0 * (42.0 * inv6 - 12.0 * inv3) * inv * inv
    return e, e_s, e_ss


def at_triplet_terms(d: np.ndarray, gamma: float):
    """Axilrod-Teller energy of triplets and its derivatives in the squared distances.

    Parameters
    ----------
    d : ndarray, shape (T, 3)
        Squared distances ``(a, b, c) = (r_ij^2, r_ik^2, r_jk^2)`` of each triplet.
    gamma : float
        Strength of the three-body term.

    Returns
    -------
    f : ndarray, shape (T,)
        Energy of each triplet.
    f_d : ndarray, shape (T, 3)
        First derivatives ``df/dd_p``.
    f_dd : ndarray, shape (T, 3, 3)
        Second derivatives ``d2f/dd_p dd_q``.
    """
    a, b, c = d[:, 0], d[:, 1], d[:, 2]
    u, v, w = a + b - c, a - b + c, -a + b + c
    m = u * v * w
    # dM/dd_p and d2M/dd_p dd_q from the expanded polynomial
    m_d = np.stack([-3 * a * a + 2 * a * (b + c) + (b - c) ** 2,
                    -3 * b * b + 2 * b * (a + c) + (a - c) ** 2,
                    -3 * c * c + 2 * c * (a + b) + (a - b) ** 2], axis=1)
    m_dd = np.empty((d.shape[0], 3, 3))
    m_dd[:, 0, 0] = -6 * a + 2 * (b + c)
    m_dd[:, 1, 1] = -6 * b + 2 * (a + c)
    m_dd[:, 2, 2] = -6 * c + 2 * (a + b)
    m_dd[:, 0, 1] = m_dd[:, 1, 0] = 2 * u
    m_dd[:, 0, 2] = m_dd[:, 2, 0] = 2 * v
    m_dd[:, 1, 2] = m_dd[:, 2, 1] = 2 * w

    q = a * b * c

    def power_terms(p):
        # T = q^-p: T_d = -p T / d_p, T_dd = (p^2 + p delta_pq) T / (d_p d_q)
        t = q ** (-p)
        inv_d = 1.0 / d
        t_d = -p * t[:, None] * inv_d
        t_dd = (p * p + p * np.eye(3))[None] * t[:, None, None] * inv_d[:, :, None] * inv_d[:, None, :]
        return t, t_d, t_dd

    A, A_d, A_dd = power_terms(1.5)
    B, B_d, B_dd = power_terms(2.5)
    k = 3.0 / 8.0
    f = A + k * m * B
    f_d = A_d + k * (m_d * B[:, None] + m[:, None] * B_d)
    f_dd = A_dd + k * (m_dd * B[:, None, None]
                       + m_d[:, :, None] * B_d[:, None, :]
                       + B_d[:, :, None] * m_d[:, None, :]
                       + m[:, None, None] * B_dd)
    return gamma * f, gamma * f_d, gamma * f_dd


# ---------------------------------------------------------------------- landscape
def _triplet_geometry(x: np.ndarray):
    """Triplets, their three difference vectors and squared distances.

    The three 'edges' of a triplet (i, j, k) are (i, j), (i, k), (j, k); edge p joins
    local atoms ``EDGE_ENDS[p]``.  Returns ``(trip, vec (T,3,3), d (T,3))``.
    """
    trip = triplet_indices(x.shape[0])
    ends = np.array(EDGE_ENDS)
    vec = x[trip[:, ends[:, 0]]] - x[trip[:, ends[:, 1]]]   # (T, 3 edges, 3 xyz)
    d = np.einsum("tpx,tpx->tp", vec, vec)
    return trip, vec, d


#: local atom indices (0 = i, 1 = j, 2 = k) joined by the edges a, b, c of a triplet
EDGE_ENDS = ((0, 1), (0, 2), (1, 2))


def _edge_signs() -> np.ndarray:
    """``S[m, p]`` = +1 if local atom m is the first end of edge p, -1 if the second, else 0."""
    s = np.zeros((3, 3))
    for p, (m0, m1) in enumerate(EDGE_ENDS):
        s[m0, p] = 1.0
        s[m1, p] = -1.0
    return s


def energy(coords, gamma: float = 0.0) -> float:
    """Energy of the cluster at ``coords`` (shape ``(3N,)``)."""
    x = _positions(coords)
    i, j = pair_indices(x.shape[0])
    s = np.sum((x[i] - x[j]) ** 2, axis=1)
    e = float(np.sum(lj_pair_terms(s)[0]))
    if gamma != 0.0 and x.shape[0] >= 3:
        _, _, d = _triplet_geometry(x)
        e += float(np.sum(at_triplet_terms(d, gamma)[0]))
    return e


def energy_gradient(coords, gamma: float = 0.0) -> tuple[float, np.ndarray]:
    """Energy and gradient (shape ``(3N,)``) of the cluster at ``coords``."""
    x = _positions(coords)
    n = x.shape[0]
    i, j = pair_indices(n)
    diff = x[i] - x[j]
    s = np.sum(diff ** 2, axis=1)
    e_pair, e_s, _ = lj_pair_terms(s)
    grad = np.zeros((n, 3))
    fpair = 2.0 * e_s[:, None] * diff
    np.add.at(grad, i, fpair)
    np.add.at(grad, j, -fpair)
    e = float(np.sum(e_pair))
    if gamma != 0.0 and n >= 3:
        trip, vec, d = _triplet_geometry(x)
        f, f_d, _ = at_triplet_terms(d, gamma)
        e += float(np.sum(f))
        # grad(d_p) on local atom m is 2 S[m,p] vec_p
        local = 2.0 * np.einsum("mp,tp,tpx->tmx", _edge_signs(), f_d, vec)
        np.add.at(grad, trip, local)
    return e, grad.reshape(-1)


def hessian(coords, gamma: float = 0.0) -> np.ndarray:
    """Hessian of the cluster at ``coords``, shape ``(3N, 3N)``."""
    x = _positions(coords)
    n = x.shape[0]
    hess = np.zeros((n, 3, n, 3))
    eye = np.eye(3)
    i, j = pair_indices(n)
    diff = x[i] - x[j]
    s = np.sum(diff ** 2, axis=1)
    _, e_s, e_ss = lj_pair_terms(s)
    block = (4.0 * e_ss[:, None, None] * diff[:, :, None] * diff[:, None, :]
             + 2.0 * e_s[:, None, None] * eye[None])
    np.add.at(hess, (i, slice(None), i), block)
    np.add.at(hess, (j, slice(None), j), block)
    np.add.at(hess, (i, slice(None), j), -block)
    np.add.at(hess, (j, slice(None), i), -block)
    if gamma != 0.0 and n >= 3:
        trip, vec, d = _triplet_geometry(x)
        _, f_d, f_dd = at_triplet_terms(d, gamma)
        S = _edge_signs()
        # G[t, m, x, p]: gradient of d_p with respect to coordinate x of local atom m
        G = 2.0 * np.einsum("mp,tpx->tmxp", S, vec)
        local = np.einsum("tmxp,tpq,tnyq->tmxny", G, f_dd, G)
        # sum_p f_p hess(d_p): hess(d_p) = 2 S[m,p] S[n,p] I
        local += 2.0 * np.einsum("mp,np,tp,xy->tmxny", S, S, f_d, eye)
        for m in range(3):
            for mm in range(3):
                np.add.at(hess, (trip[:, m], slice(None), trip[:, mm]), local[:, m, :, mm, :])
    return hess.reshape(3 * n, 3 * n)


def hessian_vector(coords, vec, gamma: float = 0.0) -> np.ndarray:
    """Hessian-vector product ``H(coords) @ vec`` without forming ``H``, shape ``(3N,)``."""
    x = _positions(coords)
    v = np.asarray(vec, dtype=np.float64).reshape(-1, 3)
    n = x.shape[0]
    out = np.zeros((n, 3))
    i, j = pair_indices(n)
    diff = x[i] - x[j]
    dv = v[i] - v[j]
    s = np.sum(diff ** 2, axis=1)
    _, e_s, e_ss = lj_pair_terms(s)
    contrib = (4.0 * e_ss * np.sum(diff * dv, axis=1))[:, None] * diff + 2.0 * e_s[:, None] * dv
    np.add.at(out, i, contrib)
    np.add.at(out, j, -contrib)
    if gamma != 0.0 and n >= 3:
        trip, vecs, d = _triplet_geometry(x)
        _, f_d, f_dd = at_triplet_terms(d, gamma)
        S = _edge_signs()
        vloc = v[trip]                                          # (T, 3 atoms, 3 xyz)
        dvloc = np.einsum("mp,tmx->tpx", S, vloc)               # v_P0 - v_P1 per edge
        proj = 2.0 * np.einsum("tpx,tpx->tp", vecs, dvloc)      # grad(d_p) . v
        t = np.einsum("tpq,tq->tp", f_dd, proj)
        local = 2.0 * np.einsum("mp,tp,tpx->tmx", S, t, vecs)
        local += 2.0 * np.einsum("mp,tp,tpx->tmx", S, f_d, dvloc)
        np.add.at(out, trip, local)
    return out.reshape(-1)
