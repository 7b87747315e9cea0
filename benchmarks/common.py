"""Shared helpers of the benchmark scripts: thread pinning, quick mode, timing, tables.

Import this module before NumPy in a benchmark script: it pins the BLAS libraries to one
thread (unless the caller set the variables) so that a compiled kernel and its NumPy
reference are compared on equal terms, and so that the numbers do not depend on what
else runs on the machine's cores.  Set ``OMP_NUM_THREADS`` (and friends) yourself to
measure threaded BLAS instead.
"""
from __future__ import annotations

import os
import sys

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ.setdefault(_var, "1")

import math
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
if str(ROOT) not in sys.path:          # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

#: environment variable that switches every benchmark to its quick (smoke) mode
QUICK_ENV = "MLBENCH_QUICK"


def quick_mode(flag: bool = False) -> bool:
    """True if ``flag`` is set or the environment variable ``MLBENCH_QUICK`` is non-empty/non-0."""
    return bool(flag) or os.environ.get(QUICK_ENV, "") not in ("", "0")


def single_threaded() -> bool:
    """True if the BLAS libraries are pinned to one thread."""
    return all(os.environ.get(v, "") == "1" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"))


def kernel_clock():
    """The clock of :func:`time_call`: CPU time when single-threaded, else wall time.

    On a shared machine the CPU time of a single-threaded process does not count the time
    it waits for a core, so it is the steadier measure; with threaded BLAS the CPU time
    would add up the threads, so wall time is used.
    """
    return time.process_time if single_threaded() else time.perf_counter


def thread_note(with_clock: bool = True) -> str:
    """One line naming the BLAS thread settings and (optionally) the clock of :func:`time_call`."""
    note = ("BLAS threads: OMP_NUM_THREADS=" + os.environ.get("OMP_NUM_THREADS", "?")
            + ", OPENBLAS_NUM_THREADS=" + os.environ.get("OPENBLAS_NUM_THREADS", "?"))
    if with_clock:
        note += "; timings use " + ("CPU time" if single_threaded() else "wall time")
    return note


def time_call(func, min_time: float = 0.2, repeats: int = 5, clock=None) -> float:
    """Seconds per call of ``func()``: the best of ``repeats`` timed loops.

    The loop length is grown until one loop takes at least ``min_time`` seconds, as
    :mod:`timeit` does; the minimum over the repeats is the least disturbed estimate.

    Parameters
    ----------
    func : callable
        Called with no arguments.
    min_time : float
        Target duration of one timed loop, in seconds.
    repeats : int
        Number of timed loops.
    clock : callable, optional
        Returns seconds; default :func:`kernel_clock`.

    Returns
    -------
    float
        Seconds per call.
    """
    clock = clock or kernel_clock()
    func()                                     # warm caches and lazy initialisation
    number = 1
    while True:
        t0 = clock()
        for _ in range(number):
            func()
        elapsed = clock() - t0
        if elapsed >= min_time or number >= 1 << 24:
            break
        number = max(number * 2, int(number * min_time / max(elapsed, 1e-9) * 1.2))
    best = elapsed / number
    for _ in range(repeats - 1):
        t0 = clock()
        for _ in range(number):
            func()
        best = min(best, (clock() - t0) / number)
    return best


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``, NaN when either is missing or the denominator is 0."""
    if numerator is None or denominator is None:
        return math.nan
    if not (math.isfinite(numerator) and math.isfinite(denominator)) or denominator == 0:
        return math.nan
    return numerator / denominator


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        if value == 0 or 1e-3 <= abs(value) < 1e6:
            return f"{value:.4g}" if abs(value) < 100 else f"{value:.1f}"
        return f"{value:.3e}"
    return str(value)


def format_table(rows: list[dict], columns: list[tuple[str, str]]) -> str:
    """A plain-text table.

    Parameters
    ----------
    rows : list of dict
        One dict per row.
    columns : list of (key, header)
        Which keys to show, in order, and their column headers.

    Returns
    -------
    str
        The table, one line per row plus a header and a rule.
    """
    cells = [[header for _, header in columns]]
    cells += [[_fmt(row.get(key)) for key, _ in columns] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    lines = []
    for k, r in enumerate(cells):
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(r, widths))))
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
