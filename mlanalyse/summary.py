"""A summary of a stationary-point file as a JSON-safe dict (``mlanalyse summary --json``)."""
from __future__ import annotations

import math
import os
import socket
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from mlcore.errors import InputError

__all__ = ["count_components", "summary"]


def _finite_or_none(x) -> float | None:
    """``float(x)``, or ``None`` for NaN/inf (JSON has no NaN)."""
    x = float(x)
    return x if math.isfinite(x) else None


def _iso(t) -> str | None:
    """Unix time in seconds as ISO 8601 UTC text, ``None`` if unknown."""
    t = _finite_or_none(t)
    if t is None:
        return None
    return datetime.fromtimestamp(t, tz=UTC).isoformat(timespec="seconds")


def count_components(n_minima: int, min1, min2) -> int:
    """Connected components of the graph of minima (isolated minima count as one each).

    Parameters
    ----------
    n_minima : int
        Number of minima (nodes ``1 .. n_minima``).
    min1, min2 : array_like of int, shape (n_ts,)
        1-based minima joined by each transition state; entries outside
        ``1 .. n_minima`` (unknown) are ignored.
    """
    if n_minima == 0:
        return 0
    a = np.asarray(min1, dtype=np.int64)
    b = np.asarray(min2, dtype=np.int64)
    ok = (a >= 1) & (a <= n_minima) & (b >= 1) & (b <= n_minima)
    adj = coo_array((np.ones(int(ok.sum()), dtype=np.int8), (a[ok] - 1, b[ok] - 1)),
                    shape=(n_minima, n_minima))
    n_comp, _ = connected_components(adj.tocsr(), directed=False)
    return int(n_comp)


def _display(config: dict, arrays: dict, path: Path):
    """``(display_energy, label)`` of the stored system.

    The landscape is rebuilt only if its class changes how energies are shown (pspin:
    per spin); otherwise, and for a system that cannot be resolved, energies are shown
    unchanged.
    """
    from mlcore.landscape import System
    from mlcore.systems import system_class

    try:
        cls = system_class(config.get("kind"))
    except InputError:
        return (lambda e: e), "energy"
    if getattr(cls, "display_energy", None) is System.display_energy:
        return (lambda e: e), getattr(cls, "display_energy_label", "energy")
    from mlcore.systems.storage import system_from_storage

    system = system_from_storage(config, arrays, base_dir=path.resolve().parent)
    return system.display_energy, system.display_energy_label


def _writer_alive(writer: dict | None) -> bool:
    """Whether the lock ``writer`` belongs to a live process (a lock on another host is
    assumed live; one on this host whose pid no longer exists is stale)."""
    if not writer:
        return False
    if writer.get("host") != socket.gethostname():
        return True
    try:
        os.kill(int(writer.get("pid", -1)), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def summary(path) -> dict:
    """Summary of a stationary-point file.

    Parameters
    ----------
    path : path-like
        The ``.h5`` file (its journal is read too).

    Returns
    -------
    dict (JSON-serialisable; unknown floats are ``None``)
        ``file``; ``format_version``; ``ndim``; ``n_minima``, ``n_ts``,
        ``n_pairs_tried``, ``n_runs``; ``global_minimum``: ``{"id"`` (1-based),
        ``"energy"`` (cost-function units), ``"display_energy"``,
        ``"display_energy_label"}`` or ``None`` if there are no minima;
        ``display_energy_label``; ``system``: the stored ``[system]`` table;
        ``system_arrays``: ``{name: {"dtype", "shape"}}``; ``runs``: one dict per run
        (``id``, ``program``, ``version``, ``status``, ``start_time``/``end_time``
        (Unix seconds) and ``start``/``end`` (ISO 8601 UTC), ``message``);
        ``writer``: who holds the writer lock (``host``, ``pid``, ``program``, ``time``)
        or ``None``; ``writer_alive``; ``n_connected_components``: components of the graph of minima
        joined by transition states (an isolated minimum is one); ``n_minima_flagged``:
        minima with ``n_negative > 0`` (not true minima); ``n_minima_degenerate``: minima
        with zero Hessian eigenvalues beyond the symmetries (``n_extra_zero > 0``: one
        entry per valley, left out of harmonic estimates); ``n_minima_isolated``: minima
        known to have none; ``n_ts_flagged``: transition
        states whose ``n_negative`` is known and not 1; ``n_ts_self_connected``:
        transition states with ``min1 == min2``.

    Notes
    -----
    A run recorded as ``running`` with no end time while no live writer holds the file
    (no lock, or a stale lock of a dead process on this host) was killed; its ``status``
    is reported as ``killed`` (``stored_status`` keeps the stored text).

    Raises
    ------
    InputError
        Missing, damaged or foreign file.
    """
    from mlcore.database import DatabaseReader

    path = Path(path)
    reader = DatabaseReader(path)
    config = reader.system_config()
    arrays = reader.system_arrays()
    show, label = _display(config, arrays, path)

    gmin = reader.global_minimum()
    global_minimum = None
    if gmin is not None:
        gid, genergy = gmin
        global_minimum = {"id": int(gid), "energy": _finite_or_none(genergy),
                          "display_energy": _finite_or_none(show(genergy)),
                          "display_energy_label": label}

    writer = reader.writer
    alive = _writer_alive(writer)
    runs = reader.runs()
    run_list = []
    for r in range(len(runs)):
        stored = str(runs.status[r])
        end = _finite_or_none(runs.end_time[r])
        status = "killed" if (stored == "running" and end is None and not alive) \
            else stored
        run_list.append({
            "id": r + 1, "program": str(runs.program[r]), "version": str(runs.version[r]),
            "status": status, "stored_status": stored,
            "start_time": _finite_or_none(runs.start_time[r]), "end_time": end,
            "start": _iso(runs.start_time[r]), "end": _iso(runs.end_time[r]),
            "host": str(runs.host[r]), "pid": int(runs.pid[r]),
            "message": str(runs.message[r])})

    minima, ts = reader.minima(), reader.ts()
    n_neg_min = np.asarray(minima.n_negative)
    n_neg_ts = np.asarray(ts.n_negative)
    return {
        "file": str(path),
        "format_version": int(reader.format_version),
        "ndim": int(reader.ndim),
        "n_minima": int(reader.n_minima),
        "n_ts": int(reader.n_ts),
        "n_pairs_tried": int(reader.n_pairs_tried),
        "n_runs": int(reader.n_runs),
        "global_minimum": global_minimum,
        "display_energy_label": label,
        "system": config,
        "system_arrays": {k: {"dtype": str(v.dtype), "shape": [int(s) for s in v.shape]}
                          for k, v in arrays.items()},
        "runs": run_list,
        "writer": ({k: v for k, v in writer.items() if k != "token"}
                   if writer else None),
        "writer_alive": alive,
        "n_connected_components": count_components(reader.n_minima, ts.min1, ts.min2),
        "n_minima_flagged": int(np.count_nonzero(n_neg_min > 0)),
        "n_minima_degenerate": int(np.count_nonzero(np.asarray(minima.n_extra_zero) > 0)),
        "n_minima_isolated": int(np.count_nonzero((np.asarray(minima.n_extra_zero) == 0)
                                                  & (n_neg_min == 0))),
        "n_ts_flagged": int(np.count_nonzero((n_neg_ts >= 0) & (n_neg_ts != 1))),
        "n_ts_self_connected": int(np.count_nonzero(np.asarray(ts.min1)
                                                    == np.asarray(ts.min2))),
    }
