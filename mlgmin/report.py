"""What ``mlgmin`` shows a person: progress (a line on a terminal, log lines in a batch job)
and the closing table."""
from __future__ import annotations


def progress_text(total_steps: int):
    """The text of ``mlgmin``'s progress line for a :class:`mlgmin.run.RunReport` (whose
    ``runs`` holds the runs started so far)."""
    total = max(1, int(total_steps))

    def describe(report) -> str:
        done = sum(s.step for s in report.runs)
        best = report.display_energy(min((s.best_energy for s in report.runs),
                                         default=float("nan")))
        rate = report.quenches / report.seconds if report.seconds > 0 else 0.0
        return (f"mlgmin: step {done}/{total} ({100.0 * done / total:5.1f}%)  "
                f"lowest {best:.8g}  minima {report.n_minima}  {rate:.0f} quenches/s")

    return describe


def format_report(report, inp=None) -> str:
    """The end-of-run text: where the file is, counts, rates and the lowest minima."""
    lines = []
    state = "stopped at the time limit (continue with --resume)" if report.interrupted \
        else "finished"
    steps = sum(s.step for s in report.runs)
    failed = sum(s.n_failed_quenches for s in report.runs)
    rejected = sum(s.n_rejected for s in report.runs)
    lines.append(f"mlgmin {state}: {len(report.runs)} run(s), {steps} steps, "
                 f"{report.quenches} quenches in {report.seconds:.1f} s "
                 f"({report.quenches_per_second:.0f}/s), seed {report.seed}")
    lines.append(f"minima in {report.output}: {report.n_minima} ({report.new_minima} new), "
                 f"{report.n_degenerate} of them degenerate (zero curvatures beyond the "
                 f"symmetries: one entry per valley); transition states from push-offs: "
                 f"{report.n_ts}")
    lines.append(f"quenches not converged: {failed}; rejected (higher-index saddles, "
                 f"invalid): {rejected}")
    if report.runs:
        lines.append("")
        lines.append(f"{'run':>4} {'steps':>7} {'lowest ' + report.energy_label:>22} "
                     f"{'accepted':>9}  stopped because")
        for s in report.runs:
            reason = report.stop_reasons.get(s.run, "")
            lines.append(f"{s.run + 1:>4} {s.step:>7} {report.display_energy(s.best_energy):>22.10f} "
                         f"{s.n_accepted:>9}  {reason}")
    if report.lowest:
        lines.append("")
        label = report.energy_label
        lines.append(f"{'id':>6} {label:>18} {'zero':>5} {'extra':>5} {'neg':>4} {'run':>4} "
                     f"{'step':>7}")
        for m in report.lowest:
            extra = m.get("n_extra_zero", -1)
            flag = ("  <- not a minimum" if m["n_negative"] > 0
                    else "  degenerate" if extra > 0 else "")
            lines.append(f"{m['id']:>6} {m['shown']:>18.10f} {m['n_zero']:>5} {extra:>5} "
                         f"{m['n_negative']:>4} {m['task']:>4} {m['step']:>7}{flag}")
    return "\n".join(lines)
