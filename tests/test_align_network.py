"""align_networks: exact distance modulo hidden-node permutations and sign flips."""
from itertools import permutations, product

import numpy as np
import pytest

from mlcore.align.network import align_networks, apply_node_map, node_vectors


def n_params(n_in, n_hidden, n_out):
    return n_hidden * n_in + n_hidden + n_out * n_hidden + n_out


def test_align_networks_is_exact_minimum_over_the_group():
    # brute force over all 3! * 2^3 node maps of a 2-3-2 network
    rng = np.random.default_rng(51)
    n_in, n_hidden, n_out = 2, 3, 2
    for _ in range(5):
        a = rng.normal(size=n_params(n_in, n_hidden, n_out))
        b = rng.normal(size=a.size)
        best = min(np.linalg.norm(apply_node_map(b, p, s, n_in, n_hidden, n_out) - a)
                   for p in permutations(range(n_hidden)) for s in product((1, -1), repeat=3))
        d, _ = align_networks(a, b, n_in, n_hidden, n_out)
        assert d == pytest.approx(best, rel=1e-12)
        best_np = min(np.linalg.norm(apply_node_map(b, p, (1, 1, 1), n_in, n_hidden, n_out) - a)
                      for p in permutations(range(n_hidden)))
        assert align_networks(a, b, n_in, n_hidden, n_out, allow_sign_flip=False)[0] == \
            pytest.approx(best_np, rel=1e-12)
    flipped = apply_node_map(a, [0, 1, 2], [1, -1, 1], n_in, n_hidden, n_out)
    assert align_networks(a, flipped, n_in, n_hidden, n_out)[0] < 1e-14
    assert align_networks(a, flipped, n_in, n_hidden, n_out, allow_sign_flip=False)[0] > 0.1
    with pytest.raises(ValueError):
        align_networks(a, b[:-1], n_in, n_hidden, n_out)


def test_node_vectors_and_node_map_layout():
    # 2-2-1 network with recognisable numbers
    w = np.array([1., 2., 3., 4., 5., 6., 7., 8., 9.])   # W2 rows (1,2) (3,4); bh 5,6; W1 7,8; bo 9
    u = node_vectors(w, 2, 2, 1)
    assert np.array_equal(u, [[1, 2, 5, 7], [3, 4, 6, 8]])
    swapped = apply_node_map(w, [1, 0], [1, -1], 2, 2, 1)
    assert np.array_equal(swapped, [3, 4, -1, -2, 6, -5, 8, -7, 9])
    d, aligned = align_networks(w, swapped, 2, 2, 1)
    assert d == 0.0 and np.array_equal(aligned, w)
    with pytest.raises(ValueError):
        apply_node_map(w, [0, 0], [1, 1], 2, 2, 1)


def test_output_biases_are_not_aligned():
    rng = np.random.default_rng(3)
    a = rng.normal(size=n_params(3, 4, 2))
    b = a.copy()
    b[-2:] += [0.3, -0.4]
    assert align_networks(a, b, 3, 4, 2)[0] == pytest.approx(0.5, rel=1e-12)
