"""Double-ended connect: time and success joining pairs of LJ13 and LJ38 minima, ours vs pele.

Minima.  For each cluster size a short basin-hopping run of our own quenches
(:func:`mlcore.optimize.lbfgs.minimize` on ``ClusterSystem(N)``, every coordinate displaced
by U(-0.4, 0.4), Metropolis at T = 1, from ``numpy.random.default_rng(seed)``) collects
distinct minima; each is re-quenched to RMS gradient 1e-8 so that both codes start from the
same well-converged coordinates.  The pairs are the lowest minimum found (the global
minimum for LJ13, the icosahedral funnel bottom or near it for LJ38) joined to low minima
chosen at evenly spaced ranks of their aligned distance from it (nearest to farthest among
the ``low`` lowest), plus one pair of two other low minima: different difficulties.

Methods (the same coordinates are given to both):

``ours``
    The Python API as ``mloptim connect`` runs it: ``Database.create(path, system.config(),
    {}, ndim=..., identity=system)``, the two minima added, then
    ``mloptim.run.connect(path, 1, 2, MLOptimSettings(), "serial")`` with the default
    settings.  Timed: creating the file, adding the minima and the connect call.
``pele``
    pele 0.1.2's ``DoubleEndedConnect`` with its LJ defaults
    (``LJCluster(N).get_double_ended_connect``), one subprocess per pair
    (``benchmarks/pele_connect_side.py``; see its docstring).  Timed: building pele's
    database, adding the minima and ``connect()``.  A pair still running after the time cap
    is killed and counts as a failure at the cap.

Success.  Ours: the report says connected and every transition state stored in the file
has exactly one negative Hessian eigenvalue beyond the six zero modes
(:func:`mloptim.ts_search.verify_transition_state`).  pele: ``success()`` and every
transition state on its returned path passes the same check (pele's own test is only that
the lowest eigenvalue is negative); the fraction of all the transition states pele stored
that pass is shown too.

Reported per pair: the minima (energy rank), their aligned distance, and per method
success, transition states on the path and CPU / wall seconds.  Per system: successes,
median CPU and wall time over all pairs, total CPU time and the ratios pele / ours (> 1:
ours is faster).  Both sides are single-threaded; CPU time is the steadier figure on a
shared machine.

``--split`` adds a second, untimed pass of ours with CPU counters around its phases (elastic
band, transition-state search, push-off, Hessians of the minima, the Dijkstra search with
its alignments), which says where ours spends its time.

Run ``python benchmarks/bench_connect.py [--quick] [--pairs 8] [--cap 300] [--split] [-v]
[--json PATH]``; ``--quick`` (or ``MLBENCH_QUICK=1``) is a smoke run of a few tens of
seconds (two LJ13 pairs and one LJ38 pair).
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: F401  (first: pins the BLAS threads before NumPy loads)
import numpy as np
from common import BENCH_DIR, format_table, quick_mode, ratio, thread_note

#: global minima (Cambridge Cluster Database), reduced units
GLOBAL_MINIMA = {13: -44.326801, 38: -173.928427}


# ---------------------------------------------------------------------- minima and pairs
def collect_minima(system, n_steps: int, rng: np.random.Generator, step: float = 0.4,
                   temperature: float = 1.0) -> list[tuple[float, np.ndarray]]:
    """Distinct minima visited by a short basin-hopping run of our quenches.

    Parameters
    ----------
    system : mlcore.systems.cluster.ClusterSystem
    n_steps : int
        Basin-hopping steps (one quench each).
    rng : numpy.random.Generator
        Source of the start and of the displacements.
    step : float
        Half-width of the uniform displacement of every coordinate (sigma units).
    temperature : float
        Metropolis temperature (energy units).

    Returns
    -------
    list of (energy, coords)
        Distinct minima (energies more than ``system.energy_tol`` apart), lowest first,
        each re-quenched to RMS gradient 1e-8; coords has shape ``(ndim,)``.
    """
    from mlcore.optimize.lbfgs import minimize

    x = minimize(system, system.random_coords(rng), tol=1e-6)
    cur_e, cur_x = float(x.energy), np.array(x.coords)
    seen: dict[float, np.ndarray] = {}
    for _ in range(n_steps):
        trial = cur_x + rng.uniform(-step, step, cur_x.shape)
        res = minimize(system, trial, tol=1e-6)
        if not res.success:
            continue
        e = float(res.energy)
        key = round(e / (10 * system.energy_tol))
        if key not in seen:
            seen[key] = np.array(res.coords)
        if e <= cur_e or rng.random() < np.exp(-(e - cur_e) / temperature):
            cur_e, cur_x = e, np.array(res.coords)
    minima = []
    for coords in seen.values():
        tight = minimize(system, coords, tol=1e-8)
        minima.append((float(tight.energy), np.array(tight.coords)))
    minima.sort(key=lambda m: m[0])
    out: list[tuple[float, np.ndarray]] = []
    for e, c in minima:                      # drop duplicates after the tight quench
        if not out or e - out[-1][0] > system.energy_tol:
            out.append((e, c))
    return out


def choose_pairs(system, minima, n_pairs: int, low: int) -> list[tuple[int, int, float]]:
    """Pairs ``(rank_a, rank_b, distance)`` of energy ranks (0 = lowest) to connect.

    ``n_pairs - 1`` pairs join the lowest minimum to minima at evenly spaced ranks of the
    aligned distance from it, among the ``low`` lowest; the last joins the second lowest
    minimum to the farthest of them from it (if ``n_pairs`` >= 2).
    """
    cand = list(range(1, min(low, len(minima))))
    dist0 = {k: float(system.align(minima[0][1], minima[k][1])[0]) for k in cand}
    by_dist = sorted(cand, key=dist0.get)
    n_gm = max(1, n_pairs - 1) if n_pairs > 1 else 1
    picks = sorted({by_dist[round(i * (len(by_dist) - 1) / max(1, n_gm - 1))]
                    for i in range(n_gm)}, key=dist0.get)
    pairs = [(0, k, dist0[k]) for k in picks]
    if n_pairs >= 2 and len(cand) >= 3:
        others = [k for k in cand if k != 1]
        d1 = {k: float(system.align(minima[1][1], minima[k][1])[0]) for k in others}
        far = max(others, key=d1.get)
        pairs.append((1, far, d1[far]))
    return pairs[:n_pairs]


# ---------------------------------------------------------------------- ours
def ours_connect(system, x1, x2, settings=None) -> dict:
    """One ``mloptim.run.connect`` between two minima, in a fresh temporary file.

    Returns
    -------
    dict
        ``connected`` (report), ``verified`` (every stored TS has one negative eigenvalue),
        ``success`` (both), ``n_path_ts``, ``n_ts``, ``n_minima``, ``cycles``, ``seconds``,
        ``cpu_seconds``.
    """
    from mlcore.config.settings import MLOptimSettings
    from mlcore.database import Database, DatabaseReader
    from mloptim.run import connect
    from mloptim.ts_search import verify_transition_state

    settings = settings or MLOptimSettings()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "connect.h5"
        t0, c0 = time.perf_counter(), time.process_time()
        with Database.create(path, system.config(), {}, ndim=system.ndim,
                             identity=system) as db:
            db.add_minimum(system.energy(x1), x1)
            db.add_minimum(system.energy(x2), x2)
        rep = connect(path, 1, 2, settings, "serial")
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        reader = DatabaseReader(path)
        n_ts, n_min = reader.n_ts, reader.n_minima
        ok = [verify_transition_state(system, reader.transition_state(t)["coords"])[0]
              for t in range(1, n_ts + 1)]
    verified = all(ok)
    return {"connected": bool(rep.connected), "verified": verified,
            "success": bool(rep.connected) and verified, "n_path_ts": len(rep.path_ts),
            "n_ts": n_ts, "n_ts_ok": int(sum(ok)), "n_minima": n_min,
            "cycles": rep.cycles, "seconds": seconds, "cpu_seconds": cpu}


# ---------------------------------------------------------------------- pele
def pele_python() -> str | None:
    """The interpreter of the pele side (as in ``bench_quench``)."""
    from bench_quench import pele_python as find

    return find()


def pele_connect(system, x1, x2, cap: float, seed: int = 1) -> dict:
    """pele's default ``DoubleEndedConnect`` in a subprocess; path TS verified here."""
    from mloptim.ts_search import verify_transition_state

    python = pele_python()
    if python is None:
        return {"missing": "pele not installed (pip install pele==0.1.2, or set PELE_PYTHON)"}
    with tempfile.TemporaryDirectory() as tmp:
        pair, out = Path(tmp) / "pair.npz", Path(tmp) / "out.npz"
        np.savez(pair, x1=x1, x2=x2)
        cmd = [python, str(BENCH_DIR / "pele_connect_side.py"), str(pair), str(out),
               "--natoms", str(system.natoms), "--seed", str(seed)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False,
                                  timeout=cap + 15.0)
        except subprocess.TimeoutExpired:
            return {"connected": False, "verified": False, "success": False,
                    "timeout": True, "seconds": cap, "cpu_seconds": cap,
                    "n_path_ts": 0, "n_ts": 0, "n_ts_ok": 0}
        if proc.returncode != 0:
            tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
            return {"missing": f"pele side failed: {tail}"}
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        data = np.load(out)
        path_ok = [verify_transition_state(system, c)[0] for c in data["path_ts"]]
        all_ok = [verify_transition_state(system, c)[0] for c in data["all_ts"]]
    res["verified"] = bool(res["connected"]) and all(path_ok)
    res["success"] = res["verified"]
    res["n_ts_ok"] = int(sum(all_ok))
    return res


# ---------------------------------------------------------------------- phase split
#: (module, attribute, label) of the phases that ``--split`` times
PHASES = (("mloptim.neb", "run_neb", "NEB"),
          ("mloptim.ts_search", "find_transition_state", "TS search"),
          ("mloptim.push_off", "push_off", "push-off"),
          ("mloptim.jobs", "minimum_info", "minima Hessians"),
          ("mloptim.connect", "dijkstra_path", "Dijkstra (with its alignments)"),
          ("mlcore.systems.cluster", "ClusterSystem.align", "alignments (all)"))


def phase_split(system, pairs) -> dict:
    """CPU seconds of ours per phase, summed over ``pairs`` (a second, untimed pass).

    Each phase function is wrapped by a process-time counter for the duration of the pass
    (the wrappers add microseconds per call) and restored afterwards.  The phases nest
    (the Dijkstra search computes alignments), so they do not add up to the total.

    Parameters
    ----------
    system : ClusterSystem
    pairs : list of (coords_a, coords_b)

    Returns
    -------
    dict
        ``total`` (CPU seconds of the connect calls) and ``{label: (seconds, calls)}``.
    """
    import importlib

    spent: dict[str, list] = {}
    restore = []
    for module_name, attr, label in PHASES:
        owner = importlib.import_module(module_name)
        *path, name = attr.split(".")
        for part in path:
            owner = getattr(owner, part)
        original = getattr(owner, name)
        spent[label] = [0.0, 0]

        def timed(*args, _f=original, _acc=spent[label], **kwargs):
            t0 = time.process_time()
            try:
                return _f(*args, **kwargs)
            finally:
                _acc[0] += time.process_time() - t0
                _acc[1] += 1

        setattr(owner, name, timed)
        restore.append((owner, name, original))
    total = 0.0
    try:
        for x1, x2 in pairs:
            total += ours_connect(system, x1, x2)["cpu_seconds"]
    finally:
        for owner, name, original in restore:
            setattr(owner, name, original)
    return {"total": total, **{k: tuple(v) for k, v in spent.items()}}


# ---------------------------------------------------------------------- driver
def run_system(natoms: int, n_pairs: int, n_steps: int, low: int, cap: float,
               seed: int, verbose: bool = False, split: bool = False) -> dict:
    """Collect minima, choose pairs and connect each with both methods."""
    from mlcore.systems.cluster import ClusterSystem

    system = ClusterSystem(natoms)
    t0 = time.perf_counter()
    minima = collect_minima(system, n_steps, np.random.default_rng(seed))
    pairs = choose_pairs(system, minima, n_pairs, low)
    if verbose:
        print(f"LJ{natoms}: {len(minima)} minima in {time.perf_counter() - t0:.1f} s, "
              f"lowest {minima[0][0]:.6f}", file=sys.stderr, flush=True)
    rows = []
    for a, b, dist in pairs:
        x1, x2 = minima[a][1], minima[b][1]
        ours = ours_connect(system, x1, x2)
        pele = pele_connect(system, x1, x2, cap)
        row = {"system": f"LJ{natoms}", "pair": f"{a + 1}-{b + 1}",
               "e1": minima[a][0], "e2": minima[b][0], "distance": dist,
               "ours": ours, "pele": pele}
        rows.append(row)
        if verbose:
            print(f"  {row['pair']:>7} d={dist:.3f}  ours {ours['success']} "
                  f"{ours['cpu_seconds']:.2f}s  pele {pele.get('success')} "
                  f"{pele.get('cpu_seconds', float('nan')):.2f}s", file=sys.stderr, flush=True)
    out = {"natoms": natoms, "n_minima": len(minima), "lowest": minima[0][0],
           "global_minimum": GLOBAL_MINIMA.get(natoms), "rows": rows}
    if split:
        out["split"] = phase_split(system, [(minima[a][1], minima[b][1]) for a, b, _ in pairs])
    return out


def summarise(result: dict) -> dict:
    """Successes, median CPU / wall seconds and totals per method, and ratios pele / ours."""
    out = {"system": f"LJ{result['natoms']}", "pairs": len(result["rows"])}
    for m in ("ours", "pele"):
        runs = [r[m] for r in result["rows"] if "missing" not in r[m]]
        out[f"{m}_ok"] = f"{sum(r['success'] for r in runs)}/{len(runs)}" if runs else "-"
        out[f"{m}_cpu"] = statistics.median(r["cpu_seconds"] for r in runs) if runs else None
        out[f"{m}_wall"] = statistics.median(r["seconds"] for r in runs) if runs else None
        out[f"{m}_total"] = sum(r["cpu_seconds"] for r in runs) if runs else None
    out["r_cpu"] = ratio(out["pele_cpu"], out["ours_cpu"])
    out["r_wall"] = ratio(out["pele_wall"], out["ours_wall"])
    out["r_total"] = ratio(out["pele_total"], out["ours_total"])
    return out


def _warm_up() -> None:
    """One untimed LJ13 connect, so that no timed run pays for first imports (h5py, the
    alignment's scipy.optimize, ...); pele's side imports pele before its clock starts."""
    from mlcore.systems.cluster import ClusterSystem

    system = ClusterSystem(13)
    minima = collect_minima(system, 20, np.random.default_rng(0))
    if len(minima) >= 2:
        ours_connect(system, minima[0][1], minima[-1][1])


def run(quick: bool = False, n_pairs: int | None = None, cap: float | None = None,
        seed: int = 20261126, verbose: bool = False, split: bool = False) -> dict:
    """The whole benchmark; returns a JSON-friendly dict."""
    if quick:
        plan = [(13, n_pairs or 2, 150, 10), (38, 1, 150, 10)]
        cap = cap or 60.0
    else:
        plan = [(13, n_pairs or 8, 400, 20), (38, n_pairs or 8, 1500, 30)]
        cap = cap or 300.0
    t0 = time.perf_counter()
    _warm_up()
    systems = [run_system(n, p, steps, low, cap, seed + n, verbose, split) for n, p, steps, low in plan]
    return {"quick": quick, "cap": cap, "seed": seed, "systems": systems,
            "seconds": time.perf_counter() - t0}


def _method_cells(res: dict) -> dict:
    if "missing" in res:
        return {"ok": res["missing"]}
    ok = "yes" if res["success"] else ("timeout" if res.get("timeout") else
                                       "not verified" if res["connected"] else "no")
    return {"ok": ok, "nts": res["n_path_ts"], "ts_ok": f"{res['n_ts_ok']}/{res['n_ts']}",
            "cpu": res["cpu_seconds"], "wall": res["seconds"]}


def report(result: dict) -> str:
    """The per-pair and summary tables."""
    title = (f"Double-ended connect, ours (mloptim.run.connect, default settings, serial) vs "
             f"pele 0.1.2 DoubleEndedConnect (LJCluster defaults); cap {result['cap']:.0f} s "
             f"per pele run; {thread_note(with_clock=False)}")
    lines = [title]
    pair_rows = []
    for s in result["systems"]:
        gm = s["global_minimum"]
        lines.append(f"LJ{s['natoms']}: {s['n_minima']} distinct minima collected, lowest "
                     f"{s['lowest']:.6f}" + (f" (global minimum {gm})" if gm else ""))
        for r in s["rows"]:
            o, p = _method_cells(r["ours"]), _method_cells(r["pele"])
            pair_rows.append({"system": r["system"], "pair": r["pair"], "e1": r["e1"],
                              "e2": r["e2"], "d": r["distance"],
                              **{f"o_{k}": v for k, v in o.items()},
                              **{f"p_{k}": v for k, v in p.items()},
                              "r": ratio(p.get("cpu"), o.get("cpu"))})
    lines.append("")
    lines.append(format_table(pair_rows, [
        ("system", "system"), ("pair", "ranks"), ("e1", "E1"), ("e2", "E2"), ("d", "dist"),
        ("o_ok", "ours ok"), ("o_nts", "path TS"), ("o_ts_ok", "TS 1 neg"),
        ("o_cpu", "CPU s"), ("o_wall", "wall s"),
        ("p_ok", "pele ok"), ("p_nts", "path TS"), ("p_ts_ok", "TS 1 neg"),
        ("p_cpu", "CPU s"), ("p_wall", "wall s"), ("r", "pele/ours CPU")]))
    lines.append("")
    lines.append(format_table([summarise(s) for s in result["systems"]], [
        ("system", "system"), ("pairs", "pairs"),
        ("ours_ok", "ours ok"), ("pele_ok", "pele ok"),
        ("ours_cpu", "ours med CPU s"), ("pele_cpu", "pele med CPU s"),
        ("r_cpu", "ratio CPU"),
        ("ours_wall", "ours med wall s"), ("pele_wall", "pele med wall s"),
        ("r_wall", "ratio wall"),
        ("ours_total", "ours total CPU s"), ("pele_total", "pele total CPU s"),
        ("r_total", "ratio total")]))
    lines.append("ratios are pele / ours: > 1 means ours is faster.  ranks: energy ranks of "
                 "the two minima among those collected (1 = lowest); dist: aligned distance "
                 "(sigma); TS 1 neg: stored transition states with one negative eigenvalue.")
    for s in result["systems"]:
        if "split" in s:
            sp = s["split"]
            parts = ", ".join(f"{k} {v[0]:.2f} s ({100 * v[0] / max(sp['total'], 1e-12):.0f} %, "
                              f"{v[1]} calls)" for k, v in sp.items() if k != "total")
            lines.append(f"ours LJ{s['natoms']} CPU by phase (second pass, total "
                         f"{sp['total']:.2f} s): {parts}")
    lines.append(f"benchmark time {result['seconds']:.0f} s")
    return "\n".join(lines)


def _jsonable(obj):
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run (a few tens of s)")
    parser.add_argument("--pairs", type=int, default=None, help="pairs per system")
    parser.add_argument("--cap", type=float, default=None, help="seconds per pele run")
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--split", action="store_true",
                        help="also time ours' phases (NEB, TS search, alignment) in a 2nd pass")
    parser.add_argument("-v", "--verbose", action="store_true", help="progress on stderr")
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args(argv)
    result = run(quick_mode(args.quick), args.pairs, args.cap, args.seed, args.verbose,
                 args.split)
    print(report(result))
    if args.json:
        Path(args.json).write_text(json.dumps(_jsonable(result), indent=1))


if __name__ == "__main__":
    main()
