"""PATHSAMPLE files: formats, and export then import changes nothing."""
import math

import numpy as np
import pytest

from mlcore.database import Database, DatabaseReader
from mlcore.errors import InputError
from mlcore.systems import build_system
from mlcore.systems.storage import system_storage
from mlpathsample.pathsample_files import (
    export_pathsample,
    import_pathsample,
    principal_moments,
    read_data_file,
    read_id_set,
)
from mlpathsample.rates import run_rates

REGRESSION = {"kind": "regression", "seed": 0}
INPUT = '[system]\nkind = "regression"\nseed = 0\n'
FILES = ("min.data", "ts.data", "points.min", "points.ts", "min.A", "min.B")


def make_file(path, rng, table=REGRESSION, n_min=7):
    """A file whose values exercise the text format: thirds, tiny and huge numbers, a
    negative zero, an unknown log product, orders above one, a TS joining a minimum to
    itself and two TSs between the same pair."""
    system = build_system(table)
    config, arrays = system_storage(system)
    nd = system.ndim
    energies = [1 / 3, -2.0e-300, 1e300, -0.0, 5.123456789012345, -7.25, 0.1][:n_min]
    lps = [math.log(7), math.nan, -1e-17, 12.5, 3.0, 1 / 7, -4.0][:n_min]
    edges = [(1, 2), (2, 3), (3, 4), (1, 5), (5, 6), (6, 7), (4, 4), (1, 2)]
    with Database.create(path, config, arrays, ndim=nd, identity=lambda *a: False,
                         energy_tol=0.0) as db:
        db.begin_run("test")
        for k in range(n_min):
            db.add_minimum(energies[k], rng.normal(size=nd) * 10.0 ** rng.integers(-5, 5),
                           log_product=lps[k], symmetry_order=1 + k % 3)
        for k, (a, b) in enumerate(edges):
            db.add_ts(max(energies[a - 1], energies[b - 1]) + 0.5 + k / 3, rng.normal(size=nd),
                      a, b, log_product=rng.normal(), symmetry_order=1 + k % 2)
    return DatabaseReader(path)


def same_bits(a, b):
    a, b = np.ascontiguousarray(a, dtype=np.float64), np.ascontiguousarray(b, dtype=np.float64)
    return a.shape == b.shape and a.tobytes() == b.tobytes()


def test_export_formats(tmp_path):
    rng = np.random.default_rng(0)
    reader = make_file(tmp_path / "a.h5", rng)
    out = export_pathsample(tmp_path / "a.h5", tmp_path / "ps", A=[2, 1], B=[5])
    assert out["n_minima"] == 7 and out["n_ts"] == 8 and out["ndim"] == 5
    d = tmp_path / "ps"
    assert sorted(p.name for p in d.iterdir()) == sorted(FILES)   # no temporary files left
    mins, ts = reader.minima(), reader.ts()
    lines = (d / "min.data").read_text().splitlines()
    assert len(lines) == 7
    for k, line in enumerate(lines):
        f = line.split()
        assert len(f) == 6                                        # E lnprod order Ix Iy Iz
        assert same_bits(float(f[0]), mins.energy[k])
        assert same_bits(float(f[1]), mins.log_product[k])        # NaN as NaN, bitwise
        assert int(f[2]) == mins.symmetry_order[k]
        assert [float(x) for x in f[3:]] == [0.0, 0.0, 0.0]       # not a cluster
    assert lines[1].split()[1] == "NaN" and lines[3].split()[0] == "-0.0"
    tlines = (d / "ts.data").read_text().splitlines()
    assert len(tlines) == 8
    for k, line in enumerate(tlines):
        f = line.split()
        assert len(f) == 8                                        # E lnprod order m1 m2 I I I
        assert same_bits(float(f[0]), ts.energy[k]) and same_bits(float(f[1]), ts.log_product[k])
        assert (int(f[2]), int(f[3]), int(f[4])) == (ts.symmetry_order[k], ts.min1[k],
                                                      ts.min2[k])
    # raw little-endian float64 records of ndim values, no record markers
    raw = (d / "points.min").read_bytes()
    assert len(raw) == 7 * 5 * 8
    assert raw == np.asarray(mins.coords, dtype="<f8").tobytes()
    assert (d / "points.ts").read_bytes() == np.asarray(ts.coords, dtype="<f8").tobytes()
    assert (d / "min.A").read_text() == "2\n2\n1\n"
    assert (d / "min.B").read_text() == "1\n5\n"
    assert read_id_set(d / "min.A") == [2, 1]


def test_default_sets_are_the_two_lowest_minima(tmp_path):
    make_file(tmp_path / "a.h5", np.random.default_rng(1))
    out = export_pathsample(tmp_path / "a.h5", tmp_path / "ps")
    assert out["A"] == [6] and out["B"] == [2]        # -7.25, then -2e-300
    assert read_id_set(tmp_path / "ps" / "min.A") == [6]
    assert read_id_set(tmp_path / "ps" / "min.B") == [2]
    with pytest.raises(InputError, match="does not exist"):
        export_pathsample(tmp_path / "a.h5", tmp_path / "ps2", A=[8])


def test_round_trip_changes_nothing(tmp_path):
    rng = np.random.default_rng(2)
    original = make_file(tmp_path / "a.h5", rng)
    export_pathsample(tmp_path / "a.h5", tmp_path / "ps", A=[1], B=[7])
    (tmp_path / "in.toml").write_text(INPUT)
    n_min, n_ts = import_pathsample(tmp_path / "ps", tmp_path / "b.h5", tmp_path / "in.toml")
    assert (n_min, n_ts) == (7, 8)
    back = DatabaseReader(tmp_path / "b.h5")
    assert back.ndim == original.ndim and back.system_config() == original.system_config()
    for table in ("minima", "ts"):
        a, b = getattr(original, table)(), getattr(back, table)()
        assert len(a) == len(b)
        for col in ("energy", "coords", "log_product"):
            assert same_bits(a[col], b[col]), (table, col)
        assert np.array_equal(a["symmetry_order"], b["symmetry_order"])
    assert np.array_equal(original.ts().min1, back.ts().min1)
    assert np.array_equal(original.ts().min2, back.ts().min2)
    assert back.runs()["program"][0] == "mlpathsample"
    assert back.runs()["input_text"][0] == INPUT
    # exporting the imported file gives the same bytes
    export_pathsample(tmp_path / "b.h5", tmp_path / "ps2", A=[1], B=[7])
    for name in FILES:
        assert (tmp_path / "ps" / name).read_bytes() == (tmp_path / "ps2" / name).read_bytes()


def test_rates_survive_the_round_trip(tmp_path):
    rng = np.random.default_rng(3)
    system = build_system(REGRESSION)
    config, arrays = system_storage(system)
    with Database.create(tmp_path / "a.h5", config, arrays, ndim=system.ndim) as db:
        for k in range(5):
            db.add_minimum(0.1 * k, rng.normal(size=5), log_product=rng.normal(),
                           symmetry_order=1 + k % 2)
        for a, b in [(1, 2), (2, 3), (3, 4), (4, 5), (1, 3), (2, 5)]:
            db.add_ts(1.0 + 0.1 * a, rng.normal(size=5), a, b, log_product=rng.normal())
    export_pathsample(tmp_path / "a.h5", tmp_path / "ps")
    (tmp_path / "in.toml").write_text(INPUT)
    import_pathsample(tmp_path / "ps", tmp_path / "b.h5", tmp_path / "in.toml")
    r1 = run_rates(tmp_path / "a.h5", [1], [4, 5], 0.5)
    r2 = run_rates(tmp_path / "b.h5", [1], [4, 5], 0.5)
    for key in ("k_AB", "k_BA", "k_AB_SS", "k_BA_KMC", "mfpt_AB", "committor_A"):
        assert r1[key] == r2[key]


def test_cluster_moments_of_inertia(tmp_path):
    # two unit masses at x = -1, +1: moments 0, 2, 2; an equilateral triangle of side 1:
    # I = (1/2, 1/2, 1) (in-plane moments are half the perpendicular one, which is 3 r^2)
    np.testing.assert_allclose(principal_moments([-1, 0, 0, 1, 0, 0]), [0, 2, 2], atol=1e-14)
    tri = np.array([[0, 0, 0], [1, 0, 0], [0.5, math.sqrt(3) / 2, 0]]) + 3.0
    np.testing.assert_allclose(principal_moments(tri.reshape(-1)), [0.5, 0.5, 1.0],
                               rtol=1e-13)
    table = {"kind": "cluster", "natoms": 3, "gamma": 0.0}
    system = build_system(table)
    config, arrays = system_storage(system)
    with Database.create(tmp_path / "c.h5", config, arrays, ndim=9) as db:
        db.add_minimum(-3.0, tri.reshape(-1), log_product=1.0, symmetry_order=6)
        db.add_minimum(-2.0, np.array([0, 0, 0, 1.1, 0, 0, 2.2, 0, 0.0]), log_product=1.0)
        db.add_ts(-1.0, tri.reshape(-1) * 1.05, 1, 2, log_product=0.5)
    export_pathsample(tmp_path / "c.h5", tmp_path / "ps")
    f = (tmp_path / "ps" / "min.data").read_text().splitlines()
    np.testing.assert_allclose([float(x) for x in f[0].split()[3:]], [0.5, 0.5, 1.0],
                               rtol=1e-13)
    # linear chain 0, 1.1, 2.2: about the middle atom, I = 0, 2 * 1.1^2, 2 * 1.1^2
    np.testing.assert_allclose([float(x) for x in f[1].split()[3:]], [0, 2.42, 2.42],
                               rtol=1e-13, atol=1e-14)
    t = (tmp_path / "ps" / "ts.data").read_text().split()
    np.testing.assert_allclose([float(x) for x in t[5:]], np.array([0.5, 0.5, 1.0]) * 1.05 ** 2,
                               rtol=1e-13)


def test_reads_fortran_written_files(tmp_path):
    """PATHSAMPLE's own files: fixed-width columns, D exponents, no inertia columns."""
    d = tmp_path / "ps"
    d.mkdir()
    (d / "min.data").write_text("  -0.1234567890D+01   0.5000000000D+01    2\n"
                                "  -0.5E+00   0.4E+01    1   0.0 0.0 0.0\n\n")
    (d / "ts.data").write_text("  0.25D0  3.0  1  1  2  0.0  0.0  0.0\n")
    coords = np.arange(15, dtype="<f8")
    (d / "points.min").write_bytes(coords[:10].tobytes())
    (d / "points.ts").write_bytes(coords[10:].tobytes())
    (tmp_path / "in.toml").write_text(INPUT)
    assert import_pathsample(d, tmp_path / "x.h5", tmp_path / "in.toml") == (2, 1)
    r = DatabaseReader(tmp_path / "x.h5")
    assert r.minima().energy.tolist() == [-1.23456789, -0.5]
    assert r.minima().log_product.tolist() == [5.0, 4.0]
    assert r.minima().symmetry_order.tolist() == [2, 1]
    assert r.ts().energy.tolist() == [0.25]
    assert np.array_equal(r.minima().coords, coords[:10].reshape(2, 5))
    assert read_data_file(d / "min.data", 3) == [["-0.1234567890D+01", "0.5000000000D+01", "2"],
                                                 ["-0.5E+00", "0.4E+01", "1"]]


def test_import_errors(tmp_path):
    rng = np.random.default_rng(4)
    make_file(tmp_path / "a.h5", rng)
    export_pathsample(tmp_path / "a.h5", tmp_path / "ps")
    (tmp_path / "in.toml").write_text(INPUT)
    d = tmp_path / "ps"
    # an existing output file is not replaced
    with pytest.raises(InputError, match="exists"):
        import_pathsample(d, tmp_path / "a.h5", tmp_path / "in.toml")
    # a landscape of another dimension: points.min has the wrong size
    (tmp_path / "lj.toml").write_text('[system]\nkind = "cluster"\nnatoms = 3\n')
    with pytest.raises(InputError, match="points.min: holds 280 bytes, expected 504"):
        import_pathsample(d, tmp_path / "c.h5", tmp_path / "lj.toml")
    # a TS that names a minimum beyond min.data
    text = (d / "ts.data").read_text().splitlines()
    f = text[0].split()
    f[4] = "99"
    (d / "ts.data").write_text("\n".join([" ".join(f), *text[1:]]) + "\n")
    with pytest.raises(InputError, match="ts.data:1: minimum 99 does not exist"):
        import_pathsample(d, tmp_path / "c.h5", tmp_path / "in.toml")
    (d / "min.data").write_text("1.0 2.0\n")
    with pytest.raises(InputError, match="min.data:1: expected at least 3 columns"):
        import_pathsample(d, tmp_path / "c.h5", tmp_path / "in.toml")
    (tmp_path / "nosys.toml").write_text("[mlpathsample]\ncycles = 2\n")
    with pytest.raises(InputError, match="needs a \\[system\\] table"):
        import_pathsample(d, tmp_path / "c.h5", tmp_path / "nosys.toml")
    assert not (tmp_path / "c.h5").exists()
