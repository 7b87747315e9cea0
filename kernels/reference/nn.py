"""NumPy reference of the single-hidden-layer network landscape (the oracle of ``kernels.nn``).

Model (SPEC 2.2), for one data item ``x`` of dimension ``n_in``::

    a_j = b^h_j + sum_k W2_jk x_k              hidden pre-activation, j < n_hidden
    z_j = act(a_j)                             act = tanh (default) or linear
    y_i = b^o_i + sum_j W1_ij z_j              output, i < n_out

Cost, with ``N = n_data``::

    loss = "xent":  E = -(1/N) sum_d ln softmax(y^d)_{c(d)}     + lam * sum_{w in R} w^2
    loss = "mse":   E =  (1/N) sum_d sum_i (y^d_i - t^d_i)^2     + lam * sum_{w in R} w^2

The squared error is summed over the outputs and averaged over the data items (not over
outputs).  ``R`` is every weight (``reg_biases=True``) or every weight except the biases
``b^h`` and ``b^o`` (``reg_biases=False``).

Flat parameter layout (``ndim = n_hidden*n_in + n_hidden + n_out*n_hidden + n_out``)::

    [ W2 (n_hidden, n_in) row-major | b^h (n_hidden) | W1 (n_out, n_hidden) row-major | b^o (n_out) ]

Everything here is written for clarity (whole-array NumPy), not speed.
"""
from __future__ import annotations

import numpy as np


def n_params(n_in: int, n_hidden: int, n_out: int) -> int:
    """Length of the flat parameter vector."""
    return n_hidden * n_in + n_hidden + n_out * n_hidden + n_out


def unpack(coords, n_in: int, n_hidden: int, n_out: int):
    """Views ``(W2, bh, W1, bo)`` of the flat vector, shapes ``(H, I), (H,), (O, H), (O,)``."""
    w = np.asarray(coords, dtype=np.float64)
    i0 = n_hidden * n_in
    i1 = i0 + n_hidden
    i2 = i1 + n_out * n_hidden
    return (w[:i0].reshape(n_hidden, n_in), w[i0:i1], w[i1:i2].reshape(n_out, n_hidden),
            w[i2:i2 + n_out])


def pack(w2, bh, w1, bo) -> np.ndarray:
    """Inverse of :func:`unpack`."""
    return np.concatenate([np.ravel(w2), np.ravel(bh), np.ravel(w1), np.ravel(bo)])


def reg_mask(n_in: int, n_hidden: int, n_out: int, reg_biases: bool = True) -> np.ndarray:
    """1.0 for weights in the L2 term, 0.0 for the others; shape ``(ndim,)``."""
    mask = np.ones(n_params(n_in, n_hidden, n_out))
    if not reg_biases:
        _, bh, _, bo = unpack(mask, n_in, n_hidden, n_out)
        bh[:] = 0.0
        bo[:] = 0.0
    return mask


def _act(a, activation):
    """Activation, its first and second derivative at ``a``."""
    if activation == "tanh":
        z = np.tanh(a)
        d1 = 1.0 - z * z
        return z, d1, -2.0 * z * d1
    if activation == "linear":
        return a.copy(), np.ones_like(a), np.zeros_like(a)
    raise ValueError(f"unknown activation {activation!r}")


class NNReference:
    """Energy, gradient, Hessian and Hessian-vector product of the network cost (NumPy).

    Parameters
    ----------
    n_in, n_hidden, n_out : int
        Layer sizes.
    x : ndarray, shape (n_data, n_in)
        Inputs.
    labels : ndarray of int, shape (n_data,), optional
        Class labels in ``[0, n_out)``; required for ``loss="xent"``.
    targets : ndarray, shape (n_data, n_out), optional
        Real targets; required for ``loss="mse"``.
    lam : float
        L2 coefficient ``lambda``.
    reg_biases : bool
        Whether the biases are in the L2 term.
    activation : {"tanh", "linear"}
    loss : {"xent", "mse"}
    """

    def __init__(self, n_in, n_hidden, n_out, x, labels=None, targets=None, lam=0.0,
                 reg_biases=True, activation="tanh", loss="xent"):
        self.n_in, self.n_hidden, self.n_out = int(n_in), int(n_hidden), int(n_out)
        self.x = np.array(x, dtype=np.float64).reshape(-1, self.n_in)
        self.n_data = self.x.shape[0]
        self.loss = loss
        self.activation = activation
        if loss == "xent":
            self.labels = np.asarray(labels, dtype=np.int64)
            self.onehot = np.zeros((self.n_data, self.n_out))
            self.onehot[np.arange(self.n_data), self.labels] = 1.0
        elif loss == "mse":
            self.targets = np.array(targets, dtype=np.float64).reshape(self.n_data, self.n_out)
        else:
            raise ValueError(f"unknown loss {loss!r}")
        self.lam = float(lam)
        self.mask = reg_mask(self.n_in, self.n_hidden, self.n_out, reg_biases)
        self.ndim = n_params(self.n_in, self.n_hidden, self.n_out)

    # ------------------------------------------------------------------ pieces
    def _forward(self, coords):
        w2, bh, w1, bo = unpack(coords, self.n_in, self.n_hidden, self.n_out)
        a = self.x @ w2.T + bh
        z, d1, d2 = _act(a, self.activation)
        y = z @ w1.T + bo
        return (w2, bh, w1, bo), z, d1, d2, y

    def _loss_terms(self, y):
        """Data term of E, dE/dy (shape (N, O)) and, for xent, the softmax probabilities."""
        n = self.n_data
        if self.loss == "xent":
            m = y.max(axis=1, keepdims=True)
            lse = m[:, 0] + np.log(np.exp(y - m).sum(axis=1))
            p = np.exp(y - lse[:, None])
            e_data = (lse - y[np.arange(n), self.labels]).sum() / n
            return e_data, (p - self.onehot) / n, p
        r = y - self.targets
        return (r * r).sum() / n, 2.0 * r / n, None

    def predictions(self, coords, x=None):
        """Network outputs ``y`` for inputs ``x`` (default the stored data), shape (n, O)."""
        w2, bh, w1, bo = unpack(coords, self.n_in, self.n_hidden, self.n_out)
        xx = self.x if x is None else np.asarray(x, dtype=np.float64)
        z, _, _ = _act(xx @ w2.T + bh, self.activation)
        return z @ w1.T + bo

    # ------------------------------------------------------------------ API
    def energy(self, coords) -> float:
        """Cost E at ``coords``."""
        return self.energy_gradient(coords)[0]

    def energy_gradient(self, coords):
        """``(E, grad)`` at ``coords``; grad has shape ``(ndim,)``."""
        w = np.asarray(coords, dtype=np.float64)
        (_, _, w1, _), z, d1, _, y = self._forward(w)
        e_data, e, _ = self._loss_terms(y)
        s = e @ w1                       # (N, H)
        delta = d1 * s
        grad = pack(delta.T @ self.x, delta.sum(axis=0), e.T @ z, e.sum(axis=0))
        wm = w * self.mask
        return e_data + self.lam * float(wm @ wm), grad + 2.0 * self.lam * wm

    def hessian_vector(self, coords, vec):
        """``H(coords) @ vec`` by the R-operator (Pearlmutter 1994); shape ``(ndim,)``."""
        w = np.asarray(coords, dtype=np.float64)
        v = np.asarray(vec, dtype=np.float64)
        (_, _, w1, _), z, d1, d2, y = self._forward(w)
        _, e, p = self._loss_terms(y)
        v2, vbh, v1, vbo = unpack(v, self.n_in, self.n_hidden, self.n_out)
        ra = self.x @ v2.T + vbh                  # R{a}
        rz = d1 * ra                              # R{z}
        ry = vbo + z @ v1.T + rz @ w1.T           # R{y}
        if self.loss == "xent":
            re = p * (ry - (p * ry).sum(axis=1, keepdims=True)) / self.n_data
        else:
            re = 2.0 * ry / self.n_data
        s = e @ w1
        rdelta = d2 * ra * s + d1 * (e @ v1 + re @ w1)
        hv = pack(rdelta.T @ self.x, rdelta.sum(axis=0), re.T @ z + e.T @ rz, re.sum(axis=0))
        return hv + 2.0 * self.lam * self.mask * v

    def hessian(self, coords):
        """Dense Hessian, shape ``(ndim, ndim)``: ``J^T C J + sum_i e_i d2y_i`` summed over data.

        Built from explicit per-item blocks with ``einsum``; memory ``O(N ndim^2)`` in the
        worst intermediate, so meant for small networks.
        """
        w = np.asarray(coords, dtype=np.float64)
        ni, nh, no, n = self.n_in, self.n_hidden, self.n_out, self.n_data
        (_, _, w1, _), z, d1, d2, y = self._forward(w)
        _, e, p = self._loss_terms(y)
        if self.loss == "xent":
            c = (np.einsum("di,ij->dij", p, np.eye(no)) - np.einsum("di,dj->dij", p, p)) / n
        else:
            c = np.broadcast_to(2.0 * np.eye(no) / n, (n, no, no))
        # Jacobian of y with respect to every parameter, per item: (N, O, ndim)
        xt = np.hstack([self.x, np.ones((n, 1))])           # x with a 1 for the bias
        zt = np.hstack([z, np.ones((n, 1))])
        g = w1[None, :, :] * d1[:, None, :]                  # dy_i/da_j, (N, O, H)
        jh = np.einsum("dij,dk->dijk", g, xt)                # (N, O, H, I+1)
        jo = np.einsum("il,dj->dilj", np.eye(no), zt)        # (N, O, O, H+1)
        jac = np.concatenate([
            jh[..., :ni].reshape(n, no, nh * ni), jh[..., ni],
            jo[..., :nh].reshape(n, no, no * nh), jo[..., nh]], axis=2)
        hess = np.einsum("dia,dij,djb->ab", jac, c, jac)
        # second derivatives of y, contracted with e = dE/dy
        s = e @ w1                                           # (N, H)
        hh = np.einsum("dj,dk,dl->jkl", s * d2, xt, xt)      # same hidden node, (H, I+1, I+1)
        oh = np.einsum("di,dj,dk->ijk", e, d1, xt)           # (O, H, I+1): W1_ij with node j
        idx_h = np.empty((nh, ni + 1), dtype=np.int64)
        idx_h[:, :ni] = np.arange(nh * ni).reshape(nh, ni)
        idx_h[:, ni] = nh * ni + np.arange(nh)
        off = nh * ni + nh
        for j in range(nh):
            hess[np.ix_(idx_h[j], idx_h[j])] += hh[j]
            for i in range(no):
                col = off + i * nh + j
                hess[col, idx_h[j]] += oh[i, j]
                hess[idx_h[j], col] += oh[i, j]
        hess[np.diag_indices(self.ndim)] += 2.0 * self.lam * self.mask
        return hess
