"""What ``mlgmin`` shows a person: a progress line on a terminal and the closing table."""
from __future__ import annotations


def progress_text(total_steps: int):
    """The text of ``mlgmin``'s progress line for a :class:`mlgmin.run.RunReport`."""
    total = max(1, int(total_steps))

    def describe(report) -> str:
        done = sum(s.step for s in report.runs)
        best = min((s.best_energy for s in report.runs), default=float("nan"))
        rate = report.quenches / report.seconds if report.seconds > 0 else 0.0
        return (f"mlgmin: step {done}/{total} ({100.0 * done / total:5.1f}%)  "
                f"lowest {best:.8g}  minima {report.n_minima}  {rate:.0f} quenches/s")

    return describe


def format_report(report, inp=None) -> str:
    """The end-of-run text: where the file is, counts, rates and the lowest minima."""
    lines = []
    state = "stopped early (resume with --resume)" if report.interrupted else "finished"
    steps = sum(s.step for s in report.runs)
    failed = sum(s.n_failed_quenches for s in report.runs)
    rejected = sum(s.n_rejected for s in report.runs)
    lines.append(f"mlgmin {state}: {len(report.runs)} run(s), {steps} steps, "
                 f"{report.quenches} quenches in {report.seconds:.1f} s "
                 f"({report.quenches_per_second:.0f}/s), seed {report.seed}")
    lines.append(f"minima in {report.output}: {report.n_minima} ({report.new_minima} new); "
                 f"quenches not converged: {failed}; rejected as not minima: {rejected}")
    if report.lowest:
        lines.append("")
        label = report.energy_label
        lines.append(f"{'id':>6} {label:>18} {'zero':>5} {'neg':>4} {'run':>4} {'step':>7}")
        for m in report.lowest:
            flag = "  <- not a minimum" if m["n_negative"] > 0 else ""
            lines.append(f"{m['id']:>6} {m['shown']:>18.10f} {m['n_zero']:>5} "
                         f"{m['n_negative']:>4} {m['task']:>4} {m['step']:>7}{flag}")
    return "\n".join(lines)
