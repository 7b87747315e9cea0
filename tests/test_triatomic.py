"""The triatomic data set (SPEC 3): classes, features, determinism, splits, cache."""
from __future__ import annotations

import time

import numpy as np
import pytest

from mlcore.datasets import load_dataset, restore_dataset
from mlcore.datasets import triatomic as tri
from mlcore.errors import InputError

#: Side of the gamma = 2 equilateral-triangle minimum (reduced units).
TRIANGLE_SIDE = 1.168752
N_SMALL = 600


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("MLLANDSCAPE_CACHE", str(tmp_path_factory.getbasetemp() / "tri-cache"))


@pytest.fixture(scope="module")
def db():
    """A small database, generated without the cache."""
    return tri.generate_database(N_SMALL, seed=11)


def _distances(coords):
    c = np.asarray(coords).reshape(3, 3)
    return np.array([np.linalg.norm(c[0] - c[1]), np.linalg.norm(c[0] - c[2]),
                     np.linalg.norm(c[1] - c[2])])


def test_starts_are_uniform_in_the_cube(db):
    starts = db.start_coords
    assert starts.shape == (N_SMALL, 9)
    assert starts.min() >= -0.5 * 2 ** (1 / 3) and starts.max() <= 0.5 * 2 ** (1 / 3)
    np.testing.assert_array_equal(starts, tri.start_coordinates(N_SMALL, 11))
    # roughly uniform: each coordinate's mean near 0, variance near side^2 / 12
    assert abs(starts.mean()) < 0.02
    assert abs(starts.var() - 2 ** (2 / 3) / 12) < 0.01


def test_classes_match_the_final_geometries(db):
    counts = np.bincount(db.labels[db.labels >= 0], minlength=4)
    assert counts.sum() + np.sum(db.labels < 0) == N_SMALL
    assert np.all(counts > 0)                               # all four minima are reached
    linear_energy = []
    for i in range(N_SMALL):
        label = db.labels[i]
        r = _distances(db.final_coords[i])                 # independent of the stored distances
        np.testing.assert_allclose(db.sequence(i)[-1], r, rtol=1e-12)
        if label == 0:
            np.testing.assert_allclose(r, TRIANGLE_SIDE, atol=2e-6)
            np.testing.assert_allclose(db.energies[i], -2.1850988, atol=1e-6)
        elif label in (1, 2, 3):
            # distances to the middle atom equal, the outer one their sum
            middle = label - 1
            pairs = {(0, 1): r[0], (0, 2): r[1], (1, 2): r[2]}
            bonds = [d for (a, b), d in pairs.items() if middle in (a, b)]
            outer = next(d for (a, b), d in pairs.items() if middle not in (a, b))
            np.testing.assert_allclose(bonds[0], bonds[1], rtol=1e-5)
            np.testing.assert_allclose(outer, bonds[0] + bonds[1], rtol=1e-5)
            assert 1.0 < bonds[0] < 1.2
            linear_energy.append(db.energies[i])
        else:
            pytest.fail(f"sequence {i} ended neither in a triangle nor a chain: {r}")
    # the linear chains are lower than the triangle (SPEC 2.1), all at the same energy
    assert np.ptp(linear_energy) < 1e-6 and max(linear_energy) < -2.1850988 - 0.03


def test_classify_geometries():
    s = TRIANGLE_SIDE
    assert tri.classify([s, s, s]) == tri.TRIANGLE
    d = 1.1087629
    # (r12, r13, r23): the longest pair excludes the middle atom
    assert tri.classify([d, d, 2 * d]) == 1                # r23 longest: atom 1 in the middle
    assert tri.classify([d, 2 * d, d]) == 2                # r13 longest: atom 2
    assert tri.classify([2 * d, d, d]) == 3                # r12 longest: atom 3
    assert tri.classify([1.12, 9.0, 9.5]) == tri.DISSOCIATED   # an atom flew off
    assert tri.classify([1.1, 1.3, 2.0]) == tri.DISSOCIATED    # bent: no minimum
    assert tri.classify([s, s, s * 1.001]) == tri.DISSOCIATED  # not equilateral


def test_features_follow_the_definitions(db):
    initial = db.features("initial")
    assert initial.shape == (N_SMALL, 3)
    for i in (0, 5, 17):
        np.testing.assert_allclose(initial[i], _distances(db.start_coords[i]), rtol=1e-12)
    lengths = db.lengths
    assert lengths.min() >= 2 and lengths.mean() > 10
    np.testing.assert_array_equal(db.features("steps_from_end", 0),
                                  db.distances[db.offsets[1:] - 1, :2])
    for s in (1, 7, 40, 10_000):
        feats = db.features("steps_from_end", s)
        assert feats.shape == (N_SMALL, 2)
        for i in range(0, N_SMALL, 37):
            seq = db.sequence(i)
            expected = seq[len(seq) - 1 - s, :2] if s < len(seq) else seq[0, :2]
            np.testing.assert_array_equal(feats[i], expected)
    # a sequence shorter than s gives its initial configuration
    short = np.flatnonzero(lengths <= 40)
    assert short.size
    np.testing.assert_array_equal(db.features("steps_from_end", 40)[short], initial[short, :2])


def test_generation_is_deterministic_for_a_seed(db):
    again = tri.generate_database(N_SMALL, seed=11)
    for name in ("start_coords", "final_coords", "distances", "offsets", "labels", "energies"):
        np.testing.assert_array_equal(getattr(again, name), getattr(db, name))
    other = tri.generate_database(50, seed=12)
    assert not np.array_equal(other.start_coords, db.start_coords[:50])
    # the first sequences do not depend on how many are generated
    np.testing.assert_array_equal(tri.generate_database(50, seed=11).distances,
                                  db.distances[:db.offsets[50]])


def test_splits_are_disjoint_random_and_skip_unclassified():
    labels = np.array([0, 1, -1, 2, 3, 0, -2, 0, 1, 2, 0, 3] * 10)
    train, test = tri.split_indices(labels, 60, 40, split_seed=4)
    assert len(train) == 60 and len(test) == 40
    assert len(set(train) | set(test)) == 100
    assert np.all(labels[train] >= 0) and np.all(labels[test] >= 0)
    again = tri.split_indices(labels, 60, 40, split_seed=4)
    np.testing.assert_array_equal(again[0], train)
    assert not np.array_equal(tri.split_indices(labels, 60, 40, split_seed=5)[0], train)
    with pytest.raises(InputError, match=r"n_train \+ n_test = 101 exceeds the 100 classified"):
        tri.split_indices(labels, 61, 40, split_seed=4)


def test_load_dataset_triatomic_and_cache():
    table = {"kind": "triatomic", "n_sequences": 400, "seed": 3, "n_train": 150, "n_test": 100}
    data = load_dataset(table)
    assert data.info["from_cache"] is False
    assert data.x_train.shape == (150, 3) and data.x_test.shape == (100, 3)
    assert data.n_classes == 4 and set(np.unique(data.y_train)) <= {0, 1, 2, 3}
    train, test = data.arrays["train_index"], data.arrays["test_index"]
    assert not set(train) & set(test)
    counts = data.info["class_counts"]
    assert sum(counts.values()) == 400 == data.info["n_sequences"]
    assert data.info["n_dissociated"] == counts["dissociated"]
    assert data.config == {"kind": "triatomic", "n_sequences": 400, "seed": 3,
                           "features": "initial", "steps": 0, "n_train": 150, "n_test": 100,
                           "split_seed": 3}
    db = tri.generate_database(400, seed=3)
    np.testing.assert_array_equal(data.x_train, db.features("initial")[train])
    np.testing.assert_array_equal(data.y_test, db.labels[test])

    t0 = time.perf_counter()
    cached = load_dataset({**table, "features": "steps_from_end", "steps": 5})
    assert cached.info["from_cache"] is True and time.perf_counter() - t0 < 1.0
    # same split for another feature set; features from the same database
    np.testing.assert_array_equal(cached.arrays["train_index"], train)
    np.testing.assert_array_equal(cached.x_train, db.features("steps_from_end", 5)[train])
    back = restore_dataset(cached.config, cached.arrays)
    np.testing.assert_array_equal(back.x_test, cached.x_test)


def test_triatomic_table_errors():
    with pytest.raises(InputError, match=r"'steps' = 3 is only used with features = "
                                         r"'steps_from_end'"):
        load_dataset({"kind": "triatomic", "n_sequences": 20, "steps": 3, "n_train": 5})
    with pytest.raises(InputError, match=r"'features' = 'final' is not one of initial, "
                                         r"steps_from_end"):
        load_dataset({"kind": "triatomic", "features": "final"})
    with pytest.raises(InputError, match=r"exceeds the 20 classified sequences; raise "
                                         r"n_sequences"):
        load_dataset({"kind": "triatomic", "n_sequences": 20, "n_train": 15, "n_test": 10})


@pytest.mark.slow
def test_paper_sized_database_builds_in_under_a_minute():
    t0 = time.perf_counter()
    db = tri.generate_database(10_000, seed=0)
    assert time.perf_counter() - t0 < 60
    assert db.n_sequences == 10_000 and np.all(db.labels >= 0)
    data = load_dataset({"kind": "triatomic", "n_train": 5000, "n_test": 5000})
    assert len(set(data.arrays["train_index"]) | set(data.arrays["test_index"])) == 10_000


def test_input_file_with_triatomic_network(tmp_path):
    """An input file's [system] (nn) with a [system.data] triatomic table builds the landscape."""
    from mlcore.config import load_input
    from mlcore.systems import build_system

    path = tmp_path / "tri.toml"
    path.write_text("""
[system]
kind = "nn"
hidden = 3
lam = 1e-4

[system.data]
kind = "triatomic"
n_sequences = 300
seed = 5
features = "steps_from_end"
steps = 4
n_train = 100
n_test = 50

[mlgmin]
steps = 20
""")
    inp = load_input(path)
    assert inp.system["data"]["kind"] == "triatomic" and inp.mlgmin.steps == 20
    system = build_system(inp.system, inp.base_dir)
    data = load_dataset(inp.system["data"], inp.base_dir)
    assert system.ndim == 3 * (2 + 1) + 4 * (3 + 1)       # 2 inputs, 3 hidden, 4 outputs
    assert system.config()["data"] == data.config
    energy = system.energy(np.zeros(system.ndim))
    np.testing.assert_allclose(energy, np.log(4.0), rtol=1e-12)   # uniform softmax over 4
