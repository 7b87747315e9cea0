"""Command-line shell of ``mloptim``: parse, load, call ``mloptim.run``; no algorithms here."""
import sys

import click

from mlcore.cli_support import run_main, version_option

_INPUT_HELP = ("Input file whose [mloptim] section sets the searches (default: the input "
               "stored with the file's first run, else the defaults).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@version_option("mloptim")
def cli():
    """Transition states, pathways and double-ended connect (the OPTIM of the suite).

    Add --debug to any command to see a traceback instead of a one-line error.
    """


def _settings(file, input_file, overrides=None):
    from mlcore.config import apply_overrides
    from mlcore.session import load_system, program_settings

    reader, _ = load_system(file)
    settings, text = program_settings("mloptim", reader, file, input_file)
    if overrides:
        settings = apply_overrides(settings, "mloptim", overrides)
    return settings, text


@cli.command()
@click.argument("file", metavar="FILE.h5", type=click.Path(dir_okay=False))
@click.argument("min1")
@click.argument("min2")
@click.option("--executor", metavar="SPEC",
              help="serial, processes[:N] (default), dask or dask:ADDRESS_OR_SCHEDULER_FILE.")
@click.option("--input", "input_file", type=click.Path(dir_okay=False), help=_INPUT_HELP)
@click.option("--max-attempts", type=int, help="Connect cycles before giving up.")
@click.option("--log-interval", type=float, metavar="SECONDS",
              help="Seconds between progress log lines when standard error is not a terminal "
                   "(default: [mloptim] log_interval, 60).")
@click.option("--quiet", "-q", is_flag=True, help="No progress (line or log).")
def connect(file, min1, min2, executor, input_file, max_attempts, log_interval, quiet):
    """Join minima MIN1 and MIN2 (1-based ids, or gm for the global minimum) by a chain of
    transition states."""
    from mlcore.database import DatabaseReader
    from mlcore.progress import progress_display
    from mlcore.session import minimum_id
    from mloptim.connect import progress_text
    from mloptim.run import connect as run_connect

    reader = DatabaseReader(file)
    min1, min2 = minimum_id(reader, min1, "MIN1"), minimum_id(reader, min2, "MIN2")

    settings, text = _settings(file, input_file,
                               {"executor": executor, "connect.max_attempts": max_attempts,
                                "log_interval": log_interval})
    line = progress_display(progress_text, quiet, settings.log_interval)
    try:
        report = run_connect(file, min1, min2, settings, settings.executor, sys.argv, text,
                             progress=line)
    finally:
        if line is not None:
            line.close()
    click.echo(f"mloptim connect {min1} {min2}: {report.message}; "
               f"{report.new_minima} new minima, {report.new_ts} new transition states, "
               f"{report.rejected} candidates rejected")
    if report.connected:
        click.echo("path (minima): " + " - ".join(str(m) for m in report.path_minima))
        click.echo("path (transition states): " + " ".join(str(t) for t in report.path_ts))
    else:
        sys.exit(1)


@cli.command()
@click.argument("file", metavar="FILE.h5", type=click.Path(dir_okay=False))
@click.option("--start", "start", required=True, type=click.Path(dir_okay=False),
              help="Starting coordinates: a .npy file (or text, one number per line).")
@click.option("--input", "input_file", type=click.Path(dir_okay=False), help=_INPUT_HELP)
def ts(file, start, input_file):
    """Single-ended transition-state search (hybrid eigenvector-following) from a point."""
    import numpy as np

    from mlcore.errors import InputError
    from mloptim.run import single_ended

    try:
        coords = np.load(start) if start.endswith(".npy") else np.loadtxt(start)
    except (OSError, ValueError) as exc:
        raise InputError(f"--start {start}: cannot read coordinates ({exc})") from None
    settings, text = _settings(file, input_file)
    report = single_ended(file, coords, settings, sys.argv, text)
    if report.success:
        a, b = report.minima
        click.echo(f"transition state {report.ts_id}: energy {report.energy:.10g}, "
                   f"eigenvalue {report.eigenvalue:.6g}, connects minima {a} and {b}")
    else:
        click.echo(f"mloptim ts: no transition state: {report.message}", err=True)
        sys.exit(1)


@cli.command()
@click.argument("file", metavar="FILE.h5", type=click.Path(dir_okay=False))
@click.argument("ts_id", metavar="TS", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Profile CSV (s, energy, side); a PNG plot is written beside it.")
@click.option("--input", "input_file", type=click.Path(dir_okay=False), help=_INPUT_HELP)
def path(file, ts_id, output, input_file):
    """Energy along the steepest-descent paths from transition state TS to its minima."""
    from pathlib import Path

    from mlcore.outputs import prepare_output
    from mloptim.profile_output import write_profile
    from mloptim.run import path_profile

    out = Path(output) if output else Path(f"ts{ts_id}-path.csv")
    prepare_output(out, what="-o")
    prepare_output(out.with_suffix(".png"), what="-o")
    settings, _ = _settings(file, input_file)
    profile, e_ts, ok = path_profile(file, ts_id, settings)
    write_profile(out, profile, ts_id)
    click.echo(f"path of transition state {ts_id} (energy {e_ts:.10g}): {len(profile)} points, "
               f"length {profile[-1, 0] - profile[0, 0]:.6g}; written to {out} and "
               f"{out.with_suffix('.png')}")


def main(argv=None):
    """Entry point of the ``mloptim`` console script."""
    run_main(cli, "mloptim", argv)


if __name__ == "__main__":
    main()
