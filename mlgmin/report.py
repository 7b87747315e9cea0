"""What ``mlgmin`` shows a person: a progress line on a terminal and the closing table."""
from __future__ import annotations

import sys
import time


class ProgressLine:
    """A one-line progress display on standard error, rewritten in place (terminals only).

    Called with a :class:`mlgmin.run.RunReport` after every stored chunk.
    """

    def __init__(self, total_steps: int, stream=None, min_interval: float = 0.2):
        self.total = max(1, int(total_steps))
        self.stream = stream or sys.stderr
        self.min_interval = min_interval
        self._last = 0.0
        self._shown = False

    def __call__(self, report) -> None:
        now = time.monotonic()
        if now - self._last < self.min_interval:
            return
        self._last = now
        done = sum(s.step for s in report.runs)
        best = min((s.best_energy for s in report.runs), default=float("nan"))
        rate = report.quenches / report.seconds if report.seconds > 0 else 0.0
        text = (f"\rmlgmin: step {done}/{self.total} ({100.0 * done / self.total:5.1f}%)  "
                f"lowest {best:.8g}  minima {report.n_minima}  {rate:.0f} quenches/s ")
        self.stream.write(text)
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()


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
