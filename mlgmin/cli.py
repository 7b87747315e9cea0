"""Command-line shell of ``mlgmin``: parse, load the input file, call ``mlgmin.run.run``."""
import sys

import click

from mlcore.cli_support import run_main, version_option


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("input_file", metavar="INPUT.toml", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Output HDF5 file (default: the input file's name with .h5).")
@click.option("--steps", type=int, help="Basin-hopping steps per run (overrides [mlgmin] steps).")
@click.option("--runs", type=int, help="Independent runs (overrides [mlgmin] runs).")
@click.option("--seed", type=int, help="Random seed (overrides [mlgmin] seed).")
@click.option("--executor", metavar="SPEC",
              help="serial, processes[:N] (default), dask or dask:ADDRESS_OR_SCHEDULER_FILE.")
@click.option("--temperature", type=float, help="Metropolis temperature (energy units).")
@click.option("--target-energy", type=float, help="Stop a run at or below this energy.")
@click.option("--time-limit", type=float, help="Stop after this many seconds (resumable).")
@click.option("--resume", is_flag=True, help="Continue the job stored in the output file.")
@click.option("--log-interval", type=click.FloatRange(0, None, min_open=True),
              help="Seconds between progress log lines when standard error is not a terminal "
                   "(default: [mlgmin] log_interval, 60).")
@click.option("--quiet", "-q", is_flag=True, help="No progress (line or log), no table.")
@version_option("mlgmin")
def cli(input_file, output, steps, runs, seed, executor, temperature, target_energy,
        time_limit, resume, log_interval, quiet):
    """Basin-hopping global optimisation (the GMIN of the suite).

    Every distinct minimum found goes into the HDF5 file; the lowest (SAVE) are
    re-converged tightly and checked by their Hessian.  A job killed at any moment
    continues with --resume.  Add --debug for a traceback instead of a one-line error.
    """
    from pathlib import Path

    from mlcore.config import apply_overrides, load_input
    from mlcore.progress import progress_display
    from mlgmin.report import format_report, progress_text
    from mlgmin.run import run

    inp = load_input(input_file)
    settings = apply_overrides(inp.mlgmin, "mlgmin", {
        "steps": steps, "runs": runs, "seed": seed, "executor": executor,
        "temperature": temperature, "target_energy": target_energy, "time_limit": time_limit,
        "log_interval": log_interval})
    from mlcore.outputs import prepare_output

    out = prepare_output(Path(output) if output else inp.default_output(), what="-o")
    line = progress_display(progress_text(settings.steps * settings.runs), quiet,
                            settings.log_interval)
    try:
        report = run(inp, settings, out, resume=resume, argv=sys.argv, progress=line)
    finally:
        if line is not None:
            line.close()
    if not quiet:
        click.echo(format_report(report, inp))


def main(argv=None):
    """Entry point of the ``mlgmin`` console script."""
    run_main(cli, "mlgmin", argv, resume_hint="add --resume")


if __name__ == "__main__":
    main()
