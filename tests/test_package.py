"""The package, its console scripts and the 'kernels' name are ours and answer fast."""
import subprocess
import sys
from pathlib import Path

import pytest

import kernels
import mlcore

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = ["mlgmin", "mloptim", "mlpathsample", "mlanalyse"]


def test_kernels_package_is_ours():
    # another registry package also installs a top-level 'kernels'
    assert getattr(kernels, "MLLANDSCAPE_KERNELS", False) is True
    assert Path(kernels.__file__).resolve().parent == ROOT / "kernels"
    from kernels import base

    assert base.KERNELS_PACKAGE_MARKER == "mllandscape"


@pytest.mark.parametrize("prog", PROGRAMS)
def test_console_script_version_and_help(prog):
    exe = Path(sys.executable).parent / prog
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"{prog} {mlcore.__version__}"
    out = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=True)
    assert "Usage:" in out.stdout


@pytest.mark.parametrize("prog", PROGRAMS)
def test_help_does_not_import_heavy_modules(prog):
    code = (f"import sys; from {prog} import cli; "
            "heavy = [m for m in ('numpy', 'scipy', 'h5py', 'matplotlib', 'dask') if m in sys.modules]; "
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_bad_usage_exits_2():
    exe = Path(sys.executable).parent / "mlanalyse"
    out = subprocess.run([str(exe), "no-such-command"], capture_output=True, text=True)
    assert out.returncode == 2
    assert "no-such-command" in out.stderr
