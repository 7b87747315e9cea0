"""Progress lines: rewritten in place, throttled, silent off a terminal."""
import io

from mlcore.progress import ProgressLine, terminal_progress


def test_progress_line_rewrites_one_line_and_pads_shorter_text():
    out = io.StringIO()
    line = ProgressLine(lambda n: "x" * n, stream=out, min_interval=0.0)
    line(5)
    line(2)
    line.close()
    assert out.getvalue() == "\rxxxxx" + "\rxx   " + "\n"


def test_progress_line_is_throttled_unless_forced():
    out = io.StringIO()
    line = ProgressLine(str, stream=out, min_interval=3600.0)
    line(1)
    line(2)
    line(3, force=True)
    assert out.getvalue() == "\r1\r3"
    line(4)                       # throttled, but the last call: drawn when closing
    line.close()
    assert out.getvalue() == "\r1\r3\r4\n"


def test_nothing_shown_nothing_closed():
    out = io.StringIO()
    ProgressLine(str, stream=out).close()
    assert out.getvalue() == ""


def test_no_progress_line_off_a_terminal(monkeypatch):
    import sys

    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert terminal_progress(str) is None
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert isinstance(terminal_progress(str), ProgressLine)
    assert terminal_progress(str, quiet=True) is None
