"""The ``nn`` landscape: a single-hidden-layer network classifier or regressor (SPEC 2.2).

    [system]
    kind = "nn"
    hidden = 3                 # number of hidden nodes (required)
    activation = "tanh"        # or "linear"
    loss = "xent"              # softmax cross-entropy against labels, or "mse" against targets
    lam = 1e-4                 # L2 coefficient lambda
    reg_biases = true          # include the biases in the L2 term
    standardise = false        # standardise the inputs with the training mean / std
    [system.data]              # passed to mlcore.datasets.load_dataset
    kind = "triatomic"
    ...

Storage: :meth:`NNSystem.config` gives this table and :meth:`NNSystem.storage_arrays` the data
arrays; :meth:`NNSystem.from_storage` rebuilds a bit-identical landscape from the two (the HDF5
file alone).  A network built directly from arrays stores ``data = {kind = "arrays"}``.

Helpers for the ML analyses: :meth:`NNSystem.predictions` (outputs), ``probabilities``
(softmax), ``predicted_labels``, ``misclassified`` (boolean mask per input); they take raw
inputs and apply the stored standardisation.  :meth:`NNSystem.align` removes the hidden-node
permutations and sign flips (:mod:`mlcore.align.network`).

The cost, its normalisation and the flat parameter layout are those of :mod:`kernels.nn`::

    xent: E = -(1/N) sum_d ln softmax(y^d)_{c(d)}   + lam * sum_R w^2
    mse:  E =  (1/N) sum_d sum_i (y^d_i - t^d_i)^2   + lam * sum_R w^2
    coords = [ W2 (H, I) row-major | b^h (H) | W1 (O, H) row-major | b^o (O) ]

Zero modes (:attr:`NNSystem.n_zero_modes`), for a generic minimum.  The biases count as
"unregularised" when ``reg_biases`` is false or ``lam == 0``.

* tanh: one (the common shift of the output biases, which softmax ignores) for xent with
  unregularised biases; none otherwise.
* linear: ``y = W1 (W2 x + b^h) + b^o`` is unchanged by ``W2 -> M W2, b^h -> M b^h,
  W1 -> W1 M^-1`` for any invertible ``H x H`` matrix ``M``; the L2 term keeps only the
  orthogonal ``M``: ``H (H - 1) / 2`` zero modes when ``lam > 0``, ``H^2`` when ``lam = 0``.
  With unregularised biases the hidden biases can also be shifted (``b^h -> b^h + delta``,
  ``b^o -> b^o - W1 delta``): ``H`` more, and for xent the output-bias shift: one more.
  The count assumes every hidden direction is used (``W2`` and ``W1`` of full rank ``H``,
  which needs ``H <= min(n_in, n_out)``); a linear network whose minimum switches off hidden
  directions has further (non-quadratic) flat directions.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from mlcore.errors import InputError
from mlcore.landscape import CompiledSystem, as_coords
from mlcore.validate import as_choice, as_float, as_int, check_keys, require

__all__ = ["NNSystem"]

_ALLOWED_KEYS = ("hidden", "activation", "loss", "lam", "reg_biases", "standardise", "data",
                 "energy_tol", "distance_tol")
_WHERE = "[system] (kind = 'nn')"


def _softmax(y: np.ndarray) -> np.ndarray:
    m = y.max(axis=1, keepdims=True)
    p = np.exp(y - m)
    return p / p.sum(axis=1, keepdims=True)


class NNSystem(CompiledSystem):
    """A one-hidden-layer network cost function over a fixed training set.

    Parameters
    ----------
    x_train : array_like, shape (n_train, n_in)
        Training inputs (raw, before the optional standardisation).
    y_train : array_like
        Class labels, int, shape ``(n_train,)`` (``loss="xent"``), or real targets, shape
        ``(n_train, n_out)`` or ``(n_train,)`` for one output (``loss="mse"``).
    n_hidden : int
        Number of hidden nodes H.
    lam : float
        L2 coefficient lambda (default 0).
    reg_biases : bool
        Whether the biases are in the L2 term (default True).
    activation : {"tanh", "linear"}
    loss : {"xent", "mse"}
    n_out : int, optional
        Number of outputs; default ``max(label) + 1`` over train and test labels (xent) or the
        number of target columns (mse).
    x_test, y_test : array_like, optional
        A test set in the same form (stored, standardised like the training set).
    standardise : bool
        Subtract the training mean and divide by the training standard deviation, per input
        feature (a feature with zero spread is divided by 1).  The same transformation is
        applied to the test set and to the inputs given to :meth:`predictions` and friends.
        (A data table may standardise too; standardising twice changes nothing but rounding,
        so use one of the two.)
    data_config : dict, optional
        The data table that rebuilds the data (stored by :meth:`config`).
    path : {"auto", "fused", "blas"}
        Kernel code path (see :mod:`kernels.nn`).
    energy_tol, distance_tol : float, optional
        Tolerances of the identity test of minima (defaults: 1e-6 and
        :attr:`distance_tol`).

    Attributes
    ----------
    n_in, n_hidden, n_out : int
    x_train, x_test : ndarray
        The (standardised) inputs the cost function sees.
    y_train, y_test : ndarray or None
    input_mean, input_std : ndarray, shape (n_in,), or None
        The standardisation (None when ``standardise`` is false).
    """

    kind = "nn"
    #: Distance (after hidden-node alignment) within which two minima of equal energy are
    #: the same.  Network landscapes have directions held only by the L2 term (curvature
    #: 2 lambda, e.g. 2e-4); a quench to RMS gradient g stops up to about
    #: g sqrt(ndim) / (2 lambda) from the exact minimum along them (0.02-0.05 for the
    #: triatomic networks at g = 1e-6), so re-finds of one minimum lie that far apart, while
    #: distinct minima with energies equal to 1e-6 lie much further apart.
    distance_tol = 0.1
    #: A hidden node whose weights in and out are all at most this in size is dead
    #: (:meth:`dead_nodes`): its bias is free when biases are not regularised.  Used on
    #: polished stationary points (the Hessian check).
    dead_node_tol = 1e-6
    #: The same test when two minima are compared (:meth:`align`), loose enough for
    #: quenches that stopped at an RMS gradient of 1e-6.
    dead_node_compare_tol = 1e-2
    #: The same test while Newton steps polish a quench (``free_mode_vectors(loose=True)``):
    #: a node whose weights are still decaying to zero (0.01-0.05 after a quench to an RMS
    #: gradient of 1e-6) has a nearly flat bias that a Newton step would follow far away.
    dead_node_polish_tol = 0.1

    def __init__(self, x_train, y_train, n_hidden: int, lam: float = 0.0, reg_biases: bool = True,
                 activation: str = "tanh", loss: str = "xent", n_out: int | None = None,
                 x_test=None, y_test=None, standardise: bool = False,
                 data_config: dict | None = None, path: str = "auto",
                 energy_tol: float | None = None, distance_tol: float | None = None):
        from kernels.nn import NNKernel

        if (x_test is None) != (y_test is None):
            raise ValueError("give both x_test and y_test, or neither")
        self._stored_arrays = None
        self._raw_arrays = {"x_train": np.array(x_train), "y_train": np.array(y_train)}
        if x_test is not None:
            self._raw_arrays["x_test"] = np.array(x_test)
        if y_test is not None:
            self._raw_arrays["y_test"] = np.array(y_test)
        x_train = np.array(x_train, dtype=np.float64)
        if x_train.ndim == 1:
            x_train = x_train[:, None]
        if x_train.ndim != 2 or x_train.shape[0] == 0:
            raise ValueError(f"x_train must have shape (n_train >= 1, n_in), got {x_train.shape}")
        self.n_in = int(x_train.shape[1])
        self.n_hidden = int(n_hidden)
        self.activation = activation
        self.loss = loss
        self.lam = float(lam)
        self.reg_biases = bool(reg_biases)
        self.standardise = bool(standardise)
        self.data_config = None if data_config is None else dict(data_config)
        if self.standardise:
            mean = x_train.mean(axis=0)
            std = x_train.std(axis=0)
            self.input_mean = mean
            self.input_std = np.where(std > 0.0, std, 1.0)
        else:
            self.input_mean = self.input_std = None
        self.x_train = self.transform_inputs(x_train)
        self.x_test = None if x_test is None else self.transform_inputs(x_test)
        if loss == "xent":
            self.y_train = self._as_labels(y_train, self.x_train.shape[0], "y_train")
            self.y_test = (None if y_test is None
                           else self._as_labels(y_test, self.x_test.shape[0], "y_test"))
            if n_out is None:
                top = self.y_train.max()
                if self.y_test is not None and self.y_test.size:
                    top = max(top, self.y_test.max())
                n_out = int(top) + 1
            kern = NNKernel(self.n_in, self.n_hidden, int(n_out), self.x_train,
                            labels=self.y_train, lam=self.lam, reg_biases=self.reg_biases,
                            activation=activation, loss=loss, path=path)
        elif loss == "mse":
            self.y_train = self._as_targets(y_train, self.x_train.shape[0], "y_train")
            self.y_test = (None if y_test is None
                           else self._as_targets(y_test, self.x_test.shape[0], "y_test"))
            if n_out is None:
                n_out = self.y_train.shape[1]
            kern = NNKernel(self.n_in, self.n_hidden, int(n_out), self.x_train,
                            targets=self.y_train, lam=self.lam, reg_biases=self.reg_biases,
                            activation=activation, loss=loss, path=path)
        else:
            raise ValueError(f"loss must be 'xent' or 'mse', got {loss!r}")
        self.n_out = int(n_out)
        super().__init__(kern)
        if energy_tol is not None:
            self.energy_tol = float(energy_tol)
        if distance_tol is not None:
            self.distance_tol = float(distance_tol)
        self.n_zero_modes = self._count_zero_modes()

    # ------------------------------------------------------------------ construction helpers
    @staticmethod
    def _as_labels(y, n, name):
        y = np.asarray(y)
        if y.ndim != 1 or y.shape[0] != n:
            raise ValueError(f"{name} must be labels of shape ({n},), got {y.shape}")
        if y.size and (y.dtype.kind == "f" and not np.all(y == np.round(y))):
            raise ValueError(f"{name} must hold integer class labels")
        y = y.astype(np.int64)
        if y.size and y.min() < 0:
            raise ValueError(f"{name} has negative labels")
        return y

    @staticmethod
    def _as_targets(y, n, name):
        y = np.array(y, dtype=np.float64)
        if y.ndim == 1:
            y = y[:, None]
        if y.ndim != 2 or y.shape[0] != n:
            raise ValueError(f"{name} must be targets of shape ({n}, n_out), got {y.shape}")
        return y

    def _count_zero_modes(self) -> int:
        h = self.n_hidden
        free_biases = (not self.reg_biases) or self.lam == 0.0
        count = 1 if (self.loss == "xent" and free_biases) else 0
        if self.activation == "linear":
            count += h * (h - 1) // 2 if self.lam > 0.0 else h * h
            if free_biases:
                count += h
        return count

    def _free_biases(self) -> bool:
        """True when the biases are outside the L2 term (``reg_biases`` false or no L2)."""
        return (not self.reg_biases) or self.lam == 0.0

    def zero_mode_vectors(self, coords) -> np.ndarray:
        """Orthonormal basis of the continuous symmetries at ``coords``, shape ``(k, ndim)``.

        * cross-entropy with unregularised biases: the common shift of the output biases;
        * linear activation: the mixings of the hidden nodes, ``W2 -> (I + e G) W2``,
          ``b^h -> (I + e G) b^h``, ``W1 -> W1 (I - e G)`` for antisymmetric ``G`` (``lam > 0``)
          or any ``G`` (``lam = 0``), and with unregularised biases the hidden-bias shifts
          ``b^h -> b^h + e_k``, ``b^o -> b^o - W1 e_k``.

        The basis comes from a rank-revealing SVD of these generators, so a linear network
        that switches hidden directions off gets fewer vectors (and its further flat
        directions show as extra zero eigenvalues).  Tanh networks with regularised biases
        (or a squared-error loss) have none: shape ``(0, ndim)``.
        """
        x = as_coords(coords, self.ndim)
        gens = []
        free = self._free_biases()
        if self.loss == "xent" and free:
            v = np.zeros(self.ndim)
            v[self.ndim - self.n_out:] = 1.0
            gens.append(v)
        if self.activation == "linear":
            w2, bh, w1, _ = self.unpack(x)
            h = self.n_hidden
            pairs = ([(a, b) for a in range(h) for b in range(h)] if self.lam == 0.0
                     else [(a, b) for a in range(h) for b in range(a + 1, h)])
            for a, b in pairs:
                g = np.zeros((h, h))
                g[a, b] = 1.0
                if self.lam > 0.0:
                    g[b, a] = -1.0
                gens.append(self._pack(g @ w2, g @ bh, -w1 @ g, np.zeros(self.n_out)))
            if free:
                for k in range(h):
                    e = np.zeros(h)
                    e[k] = 1.0
                    gens.append(self._pack(np.zeros_like(w2), e, np.zeros_like(w1), -w1[:, k]))
        if not gens:
            return np.zeros((0, self.ndim))
        u, sing, _ = np.linalg.svd(np.array(gens).T, full_matrices=False)
        rank = int(np.sum(sing > 1e-8 * sing[0])) if sing.size and sing[0] > 0 else 0
        return np.ascontiguousarray(u[:, :rank].T)

    def dead_nodes(self, coords, tol: float | None = None) -> np.ndarray:
        """Hidden nodes whose incoming and outgoing weights are all at most ``tol`` in size
        (default :attr:`dead_node_tol`), as an int array of node indices."""
        w2, _, w1, _ = self.unpack(coords)
        tol = self.dead_node_tol if tol is None else float(tol)
        size = np.maximum(np.abs(w2).max(axis=1, initial=0.0),
                          np.abs(w1).max(axis=0, initial=0.0))
        return np.flatnonzero(size <= tol)

    def free_mode_vectors(self, coords, loose: bool = False) -> np.ndarray:
        """Directions of exact degeneracy that no symmetry names, shape ``(f, ndim)``: the
        bias of each dead hidden node (:meth:`dead_nodes`) of a tanh network with
        unregularised biases, along which the cost is constant (a valley of minima).

        ``loose``: nodes dead to :attr:`dead_node_polish_tol` (used while Newton steps
        polish a quench, so that they do not wander along a bias that is about to be free).
        """
        if self.activation != "tanh" or not self._free_biases():
            return np.zeros((0, self.ndim))
        h, i = self.n_hidden, self.n_in
        rows = []
        for j in self.dead_nodes(coords, self.dead_node_polish_tol if loose else None):
            v = np.zeros(self.ndim)
            v[h * i + j] = 1.0
            rows.append(v)
        return np.array(rows).reshape(-1, self.ndim)

    def _pack(self, w2, bh, w1, bo) -> np.ndarray:
        return np.concatenate([np.ravel(w2), np.ravel(bh), np.ravel(w1), np.ravel(bo)])

    def canonical(self, coords) -> np.ndarray:
        """The canonical representative of ``coords`` modulo the continuous symmetries (a
        new array; the function and the cost are unchanged).

        * cross-entropy with unregularised biases: output biases shifted to zero mean;
        * linear with unregularised biases: hidden biases moved into the output biases
          (``b^o <- b^o + W1 b^h``, ``b^h <- 0``); then the hidden-node mixing fixed:
          ``lam > 0``: the rows of ``[W2 | W1^T]`` rotated onto their singular vectors
          (ordered by singular value, each with its largest entry positive); ``lam = 0``:
          ``W2`` reduced to orthonormal rows (LQ factorisation, positive diagonal).

        The free bias of a dead node is *not* moved: along it the cost is constant but the
        curvature is not (with ``tanh'(b)`` large the node's weights couple and the point
        becomes a saddle), so only the point a quench reached is sure to be a minimum.
        Comparisons ignore that bias instead (:meth:`comparison_form`).  The discrete
        symmetries (hidden-node permutations and sign flips) are left to :meth:`align`.
        """
        x = as_coords(coords, self.ndim).copy()
        w2, bh, w1, bo = self.unpack(x)           # views into x
        free = self._free_biases()
        if self.activation == "linear":
            if free:
                bo += w1 @ bh
                bh[:] = 0.0
            self._canonical_mixing(w2, bh, w1)
        if self.loss == "xent" and free:
            bo -= bo.mean()
        return x

    def comparison_form(self, coords, dead_tol: float | None = None) -> np.ndarray:
        """:meth:`canonical` with the free bias of every dead node (weights in and out at
        most ``dead_tol``, default :attr:`dead_node_compare_tol`) set to zero: two points of
        one valley of degenerate minima have the same comparison form."""
        x = self.canonical(coords)
        if self.activation == "tanh" and self._free_biases():
            tol = self.dead_node_compare_tol if dead_tol is None else dead_tol
            _, bh, _, _ = self.unpack(x)
            bh[self.dead_nodes(x, tol)] = 0.0
        return x

    def _canonical_mixing(self, w2, bh, w1) -> None:
        """Fix the hidden-node mixing of a linear network in place (see :meth:`canonical`)."""
        if self.lam > 0.0:
            stack = np.hstack([w2, bh[:, None], w1.T])
            u, _, vt = np.linalg.svd(stack, full_matrices=False)
            big = np.argmax(np.abs(vt), axis=1)
            signs = np.where(vt[np.arange(vt.shape[0]), big] < 0.0, -1.0, 1.0)
            rot = (u * signs).T                    # orthogonal: rot @ stack = signs * S V^T
            w2[:] = rot @ w2
            bh[:] = rot @ bh
            w1[:] = w1 @ rot.T
        elif self.n_hidden <= self.n_in:
            q, r = np.linalg.qr(w2.T)              # w2 = r^T q^T: LQ with L = r^T
            d = np.where(np.diag(r) < 0.0, -1.0, 1.0)
            low = (r * d[:, None]).T               # positive diagonal
            if np.all(np.abs(np.diag(low)) > 1e-300):
                w2[:] = (q * d).T
                bh[:] = np.linalg.solve(low, bh)
                w1[:] = w1 @ low

    # ------------------------------------------------------------------ inputs and outputs
    def transform_inputs(self, x) -> np.ndarray:
        """Raw inputs -> what the network sees (standardised if asked), shape (n, n_in)."""
        x = np.array(x, dtype=np.float64)
        if x.ndim == 1:
            x = x.reshape(-1, self.n_in) if self.n_in > 1 else x[:, None]
        if x.shape[1] != self.n_in:
            raise ValueError(f"inputs must have {self.n_in} features, got {x.shape[1]}")
        if self.standardise:
            x = (x - self.input_mean) / self.input_std
        return np.ascontiguousarray(x)

    def unpack(self, coords):
        """Views ``(W2 (H, I), b^h (H,), W1 (O, H), b^o (O,))`` of ``coords``."""
        w = as_coords(coords, self.ndim)
        i, h, o = self.n_in, self.n_hidden, self.n_out
        return (w[:h * i].reshape(h, i), w[h * i:h * i + h],
                w[h * i + h:h * i + h + o * h].reshape(o, h), w[h * i + h + o * h:])

    def predictions(self, coords, x=None) -> np.ndarray:
        """Network outputs ``y`` (before softmax), shape ``(n, n_out)``.

        ``x`` are raw inputs (standardised here like the training set); default the
        training inputs.
        """
        return self._forward(coords, self.x_train if x is None else self.transform_inputs(x))

    def _forward(self, coords, x_net) -> np.ndarray:
        """Outputs for inputs already transformed like the training set."""
        w2, bh, w1, bo = self.unpack(coords)
        a = x_net @ w2.T + bh
        z = np.tanh(a) if self.activation == "tanh" else a
        return z @ w1.T + bo

    def test_probabilities(self, coords) -> np.ndarray:
        """Softmax class probabilities on the test inputs, shape ``(n_test, n_out)``.

        Raises
        ------
        ValueError
            A network without a test set.
        """
        if self.x_test is None:
            raise ValueError("this network has no test set")
        return _softmax(self._forward(coords, self.x_test))

    def probabilities(self, coords, x=None) -> np.ndarray:
        """Softmax class probabilities, shape ``(n, n_out)`` (rows sum to 1)."""
        return _softmax(self.predictions(coords, x))

    def predicted_labels(self, coords, x=None) -> np.ndarray:
        """The class of largest output for each input, int64, shape ``(n,)``."""
        return np.argmax(self.predictions(coords, x), axis=1).astype(np.int64)

    def misclassified(self, coords, x=None, y=None) -> np.ndarray:
        """Boolean mask, shape ``(n,)``: True where the predicted class is not the true one.

        ``y`` are labels (shape ``(n,)``) or, for targets of shape ``(n, n_out)``, the class
        of the largest target.  Default ``x, y``: the training set.
        """
        if x is None:
            x_net = self.x_train
            y = self.y_train if y is None else y
        else:
            x_net = self.transform_inputs(x)
            if y is None:
                raise ValueError("misclassified(coords, x, y) needs y when x is given")
        return self._misclassified(coords, x_net, y)

    def _misclassified(self, coords, x_net, y) -> np.ndarray:
        """Misclassification mask for inputs already transformed like the training set."""
        y = np.asarray(y)
        if y.ndim == 2:
            y = np.argmax(y, axis=1)
        return np.argmax(self._forward(coords, x_net), axis=1) != y.astype(np.int64)

    def misclassified_on(self, coords, subset: str = "test") -> np.ndarray:
        """Boolean mask over the ``"test"`` (or ``"train"``) inputs: misclassified at
        ``coords``.

        Raises
        ------
        ValueError
            ``subset="test"`` on a network built without a test set, or an unknown subset.
        """
        if subset == "train":
            x_net, y = self.x_train, self.y_train
        elif subset == "test":
            if self.x_test is None or self.y_test is None:
                raise ValueError("this network has no test set")
            x_net, y = self.x_test, self.y_test
        else:
            raise ValueError(f"subset must be 'test' or 'train', got {subset!r}")
        return self._misclassified(coords, x_net, y)

    def error_rate(self, coords, subset: str = "test") -> float:
        """Fraction of the ``"test"`` (or ``"train"``) inputs misclassified at ``coords``:
        the misclassification index of a minimum (NaN for an empty set); see
        :meth:`misclassified_on`."""
        mask = self.misclassified_on(coords, subset)
        return float(np.mean(mask)) if len(mask) else float("nan")

    # ------------------------------------------------------------------ sampling and identity
    def random_coords(self, rng: np.random.Generator) -> np.ndarray:
        """Random parameters drawn from ``rng``.

        Every parameter is uniform in ``[-1, 1]``, except the input-to-hidden weights ``W2``,
        which are uniform in ``[-a, a]`` with ``a = min(1, 3 / sqrt(n_in))`` so that wide
        inputs (MNIST) do not start with saturated tanh nodes; for ``n_in <= 9`` everything is
        uniform in ``[-1, 1]``.
        """
        coords = rng.uniform(-1.0, 1.0, self.ndim)
        a = min(1.0, 3.0 / np.sqrt(self.n_in))
        coords[:self.n_hidden * self.n_in] *= a
        return coords

    def align(self, coords_ref, coords) -> tuple[float, np.ndarray]:
        """Align ``coords`` onto ``coords_ref`` modulo every symmetry of the network.

        Both are first put in :meth:`comparison_form` (canonical, dead nodes recognised with
        the looser :attr:`dead_node_compare_tol` since loosely converged quenches leave a
        dead node's weights up to ``g / (2 lambda)`` from zero, and their free biases
        ignored), then aligned by hidden-node permutations and sign flips
        (:func:`mlcore.align.network.best_node_map`; both activations are odd).  For linear
        networks with ``lam > 0`` the best orthogonal mixing of the hidden nodes
        (orthogonal Procrustes) replaces the permutations.

        Returns ``(distance, aligned)``: the distance of the comparison forms (modulo the
        symmetries and the free directions) and, for tanh, the copy of ``coords`` under the
        same node map, moved by the symmetry shift that takes ``coords_ref``'s canonical
        form back to ``coords_ref`` (so that a band between the two starts at
        ``coords_ref``).  For linear networks ``aligned`` is in canonical form.
        """
        from mlcore.align.network import apply_node_map, best_node_map

        given = as_coords(coords_ref, self.ndim)
        if self.activation == "linear":
            ref, x = self.canonical(given), self.canonical(coords)
            if self.lam > 0.0:
                return self._procrustes(ref, x)
            return float(np.linalg.norm(x - ref)), x
        ref = self.comparison_form(given)
        x = self.comparison_form(coords)
        dims = (self.n_in, self.n_hidden, self.n_out)
        perm, signs = best_node_map(ref, x, *dims, allow_sign_flip=True)
        dist = float(np.linalg.norm(apply_node_map(x, perm, signs, *dims) - ref))
        aligned = apply_node_map(self.canonical(coords), perm, signs, *dims)
        return dist, aligned + (given - self.canonical(given))

    def _procrustes(self, ref, x) -> tuple[float, np.ndarray]:
        """Best orthogonal mixing ``R`` of the hidden nodes of ``x`` onto ``ref``."""
        def stack(c):
            w2, bh, w1, _ = self.unpack(c)
            return np.hstack([w2, bh[:, None], w1.T])

        u, _, vt = np.linalg.svd(stack(ref) @ stack(x).T)
        rot = u @ vt
        aligned = x.copy()
        w2, bh, w1, _ = self.unpack(aligned)
        w2[:] = rot @ w2
        bh[:] = rot @ bh
        w1[:] = w1 @ rot.T
        return float(np.linalg.norm(aligned - ref)), aligned

    # ------------------------------------------------------------------ storage
    def config(self) -> dict[str, Any]:
        """The ``[system]`` table that rebuilds this landscape.

        A network built from arrays (no ``data_config``) gets ``data = {kind = "arrays"}``:
        its data then live only in :meth:`storage_arrays`, and :meth:`from_storage` (the
        HDF5 file) rebuilds it, :meth:`from_config` cannot.
        """
        data = dict(self.data_config) if self.data_config is not None else {"kind": "arrays"}
        table = {"kind": "nn", "hidden": self.n_hidden, "activation": self.activation,
                 "loss": self.loss, "lam": self.lam, "reg_biases": self.reg_biases,
                 "standardise": self.standardise, "data": data}
        if self.energy_tol != type(self).energy_tol:
            table["energy_tol"] = self.energy_tol
        if self.distance_tol != type(self).distance_tol:
            table["distance_tol"] = self.distance_tol
        return table

    def storage_arrays(self) -> dict[str, np.ndarray]:
        """The arrays the HDF5 file keeps so that :meth:`from_storage` rebuilds this landscape
        bit for bit: the data set's own arrays (:attr:`mlcore.datasets.Dataset.arrays`) when
        it came from a data table, else the raw ``x_train``, ``y_train`` (and ``x_test``,
        ``y_test``) given to the constructor."""
        if self._stored_arrays is not None:
            return dict(self._stored_arrays)
        return dict(self._raw_arrays)

    @classmethod
    def from_storage(cls, table: dict, arrays: dict, base_dir: str | Path | None = None
                     ) -> NNSystem:
        """Rebuild from the stored ``[system]`` table (without ``kind``) and
        :meth:`storage_arrays`, without the original data source."""
        opts = cls._parse_table(table)
        data_table = opts.pop("data")
        if data_table.get("kind") == "arrays":
            try:
                return cls(arrays["x_train"], arrays["y_train"], x_test=arrays.get("x_test"),
                           y_test=arrays.get("y_test"), **opts)
            except (KeyError, ValueError) as exc:
                raise InputError(f"{_WHERE}: stored data arrays are unusable: {exc}") from exc
        from mlcore.datasets import restore_dataset

        data = restore_dataset(data_table, arrays)
        return cls._from_dataset(opts, data, stored_arrays=arrays)

    @staticmethod
    def _parse_table(table: dict) -> dict[str, Any]:
        """Validate the ``[system]`` keys; constructor keywords plus the raw ``data`` table."""
        check_keys(table, _ALLOWED_KEYS, _WHERE)
        opts: dict[str, Any] = {
            "n_hidden": as_int(require(table, "hidden", _WHERE), "hidden", _WHERE, minimum=1),
            "activation": as_choice(table.get("activation", "tanh"), "activation", _WHERE,
                                    ("tanh", "linear")),
            "loss": as_choice(table.get("loss", "xent"), "loss", _WHERE, ("xent", "mse")),
            "lam": as_float(table.get("lam", 0.0), "lam", _WHERE, minimum=0.0),
        }
        for key, default in (("reg_biases", True), ("standardise", False)):
            value = table.get(key, default)
            if not isinstance(value, bool):
                raise InputError(f"{_WHERE}: '{key}' must be true or false, got {value!r}")
            opts[key] = value
        for key in ("energy_tol", "distance_tol"):
            if key in table:
                opts[key] = as_float(table[key], key, _WHERE, minimum=0.0)
        data_table = require(table, "data", _WHERE)
        if not isinstance(data_table, dict):
            raise InputError(f"{_WHERE}: 'data' must be a table, got {data_table!r}")
        opts["data"] = data_table
        return opts

    @classmethod
    def _from_dataset(cls, opts: dict, data, stored_arrays: dict | None = None) -> NNSystem:
        """Build from parsed options and a :class:`mlcore.datasets.Dataset`."""
        y_train = np.asarray(data.y_train)
        y_test = None if data.y_test is None else np.asarray(data.y_test)
        n_out = None
        if opts["loss"] == "mse" and y_train.dtype.kind in "iu":
            # class labels with a squared-error loss: one-hot targets over n_classes outputs
            n_out = int(getattr(data, "n_classes", 0) or int(y_train.max()) + 1)
            y_train = np.eye(n_out)[y_train]
            if y_test is not None:
                y_test = np.eye(n_out)[y_test.astype(np.int64)]
        if opts["loss"] == "xent":
            if y_train.dtype.kind == "f" and y_train.ndim != 1:
                raise InputError(f"{_WHERE}: loss = 'xent' needs class labels, the data set has "
                                 "real-valued targets (use loss = 'mse')")
            n_out = getattr(data, "n_classes", None)
        try:
            system = cls(data.x_train, y_train, n_out=n_out, x_test=data.x_test, y_test=y_test,
                         data_config=dict(data.config), **opts)
        except ValueError as exc:
            raise InputError(f"{_WHERE}: {exc}") from exc
        arrays = getattr(data, "arrays", None) if stored_arrays is None else stored_arrays
        system._stored_arrays = None if arrays is None else dict(arrays)
        return system

    @classmethod
    def from_config(cls, table: dict, base_dir: str | Path | None = None) -> NNSystem:
        """Build from the ``[system]`` table (without ``kind``); see the module docstring.

        The ``data`` sub-table goes to :func:`mlcore.datasets.load_dataset`.  With
        ``loss = "mse"`` and integer class labels the targets are one-hot vectors over
        ``n_classes`` outputs.
        """
        opts = cls._parse_table(table)
        data_table = opts.pop("data")
        if data_table.get("kind") == "arrays":
            raise InputError(f"{_WHERE}: data kind 'arrays' (a network built from arrays) is "
                             "rebuilt from its HDF5 file, not from an input file")
        from mlcore.datasets import load_dataset

        data = load_dataset(data_table, Path(base_dir) if base_dir is not None else Path.cwd())
        return cls._from_dataset(opts, data)
