"""Output paths of every writing command: missing folders are created, unwritable paths
are refused with exit 2 and one line, and nothing is left behind."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlcore.errors import InputError
from mlcore.outputs import check_output, prepare_output
from tests.stored_files import minima_file

BIN = Path(sys.executable).parent
LJ3 = {"kind": "cluster", "natoms": 3}


@pytest.fixture(scope="module")
def lj(tmp_path_factory):
    d = tmp_path_factory.mktemp("out")
    minima_file(d / "lj.h5", LJ3, n_random=3, seed=1, energies=[-3.0, -2.0, -1.0],
                ts=[(-0.5, 1, 2), (-0.2, 2, 3)])
    (d / "lj.toml").write_text('[system]\nkind = "cluster"\nnatoms = 3\n')
    (d / "plain").write_text("x")
    return d


def run(args, cwd):
    return subprocess.run([str(BIN / args[0]), *map(str, args[1:])], cwd=cwd,
                          capture_output=True, text=True)


# command templates; {out} is the output path
COMMANDS = [
    ("mlanalyse", "dgraph", "lj.h5", "-o", "{out}/g.png"),
    ("mlanalyse", "network", "lj.h5", "-o", "{out}/n.png"),
    ("mlanalyse", "compare", "lj.h5", "-o", "{out}/t.csv"),
    ("mlanalyse", "compare", "lj.h5", "--plot", "{out}/t.png"),
    ("mlpathsample", "export", "lj.h5", "{out}/ps"),
    ("mlanalyse", "pspin", "--n", "4", "--starts", "2", "-o", "{out}/ps"),
]


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_missing_folder_is_created(lj, cmd):
    out = lj / f"new-{abs(hash(cmd))}" / "deeper"
    res = run([a.replace("{out}", str(out)) for a in cmd], lj)
    assert res.returncode == 0, res.stderr
    written = [p for p in out.rglob("*") if p.is_file()]
    assert written and all(p.stat().st_size > 0 for p in written)


BAD_COMMANDS = COMMANDS + [
    ("mlanalyse", "cv", "lj.h5", "--tmin", "0.1", "--tmax", "1", "-o", "{out}/cv.csv"),
    ("mlanalyse", "fits", "lj.h5", "-o", "{out}/f.png"),
    ("mlanalyse", "misclassification", "lj.h5", "-o", "{out}/m"),
    ("mlanalyse", "auc-scan", "lj.toml", "-o", "{out}/scan"),
    ("mlpathsample", "import", "ps", "{out}/back.h5", "--input", "lj.toml"),
    ("mloptim", "path", "lj.h5", "1", "-o", "{out}/p.csv"),
    ("mlgmin", "lj.toml", "-o", "{out}/run.h5"),
]


@pytest.mark.parametrize("cmd", BAD_COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_path_under_a_regular_file_is_refused(lj, cmd):
    before = sorted(p.name for p in lj.iterdir())
    res = run([a.replace("{out}", str(lj / "plain" / "sub")) for a in cmd], lj)
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr and res.stderr.count("\n") == 1, res.stderr
    assert "is a file, not a folder" in res.stderr and "plain" in res.stderr
    assert sorted(p.name for p in lj.iterdir()) == before
    assert (lj / "plain").read_text() == "x"


def test_existing_folder_as_file_output_is_refused(lj):
    res = run(["mlanalyse", "cv", "lj.h5", "--tmin", "0.1", "--tmax", "1", "-o", lj], lj)
    assert res.returncode == 2 and res.stderr.count("\n") == 1
    assert "is a folder, not a file" in res.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders; the "
                    "unwritable-folder refusal is tested with os.access patched below")
def test_read_only_folder_is_refused(lj, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        res = run(["mlanalyse", "dgraph", "lj.h5", "-o", ro / "a" / "g.png"], lj)
        assert res.returncode == 2 and res.stderr.count("\n") == 1
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o755)


def test_unwritable_folder_refused_without_creating_anything(tmp_path, monkeypatch):
    import mlcore.outputs as outputs

    real = os.access
    monkeypatch.setattr(outputs.os, "access",
                        lambda p, mode: False if Path(p) == tmp_path else real(p, mode))
    with pytest.raises(InputError, match="cannot write in folder"):
        prepare_output(tmp_path / "a" / "b.png", what="-o")
    assert list(tmp_path.iterdir()) == []


def test_prepare_creates_parents_and_directories(tmp_path):
    assert prepare_output(tmp_path / "a" / "b" / "c.csv") == tmp_path / "a" / "b" / "c.csv"
    assert (tmp_path / "a" / "b").is_dir() and not (tmp_path / "a" / "b" / "c.csv").exists()
    prepare_output(tmp_path / "d" / "e", directory=True)
    assert (tmp_path / "d" / "e").is_dir()
    (tmp_path / "f").write_text("")
    with pytest.raises(InputError, match="exists and is not a folder"):
        check_output(tmp_path / "f", directory=True)
    with pytest.raises(InputError, match="empty"):
        check_output("")
