"""Command-line shell of ``mlpathsample``: parse, call the functions; no algorithms here."""
import sys

import click

from mlcore.cli_support import run_main, version_option


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@version_option("mlpathsample")
def cli():
    """Grow the network of minima and transition states; rate constants (the PATHSAMPLE
    of the suite).

    Add --debug to any command to see a traceback instead of a one-line error.
    """


def _ids(file, text, option):
    """Minimum ids of ``option`` (ids, ranges, gm, lowest:K) resolved against ``file``."""
    from mlcore.database import DatabaseReader
    from mlcore.session import minimum_ids

    return minimum_ids(DatabaseReader(file), text, option)


@cli.command()
@click.argument("file", metavar="FILE.h5", type=click.Path(dir_okay=False))
@click.option("--strategy", type=click.Choice(["unconnected", "untrap", "shortcut", "random"]),
              help="How pairs are chosen (default: [mlpathsample] strategy).")
@click.option("--cycles", type=click.IntRange(1, None), help="Cycles to run.")
@click.option("--pairs", "pairs_per_cycle", type=click.IntRange(1, None),
              help="Connect jobs per cycle.")
@click.option("--executor", metavar="SPEC",
              help="serial, processes[:N] (default), dask or dask:ADDRESS_OR_SCHEDULER_FILE.")
@click.option("--seed", type=int, help="Seed of the random pair choices (default: continue the "
              "file's last random growth, else a new seed, recorded).")
@click.option("--input", "input_file", type=click.Path(dir_okay=False),
              help="Input file with [mlpathsample] and [mloptim] sections (default: the input "
                   "stored with the file's first run).")
@click.option("--log-interval", type=click.FloatRange(0, None, min_open=True),
              help="Seconds between progress log lines when standard error is not a terminal "
                   "(default: [mlpathsample] log_interval, 60).")
@click.option("--quiet", "-q", is_flag=True, help="No progress (line or log).")
def grow(file, strategy, cycles, pairs_per_cycle, executor, seed, input_file, log_interval,
         quiet):
    """Grow the network: pick pairs, connect them in parallel, merge."""
    from mlcore.config import apply_overrides
    from mlcore.progress import progress_display
    from mlcore.session import load_system, program_settings
    from mlpathsample.grow import grow as run_grow
    from mlpathsample.grow import progress_text

    reader, _ = load_system(file)
    settings, text = program_settings("mlpathsample", reader, file, input_file)
    optim, _ = program_settings("mloptim", reader, file, input_file)
    settings = apply_overrides(settings, "mlpathsample", {
        "strategy": strategy, "cycles": cycles, "pairs_per_cycle": pairs_per_cycle,
        "executor": executor, "seed": seed, "log_interval": log_interval})
    line = progress_display(progress_text, quiet, settings.log_interval)
    try:
        report = run_grow(file, settings.strategy, settings.cycles, settings, optim,
                          settings.executor, settings.seed, sys.argv, text, line)
    finally:
        if line is not None:
            line.close()
    click.echo(f"mlpathsample grow: {report.cycles} cycle(s), {report.jobs} connect job(s) "
               f"({report.failed_jobs} failed); {report.new_minima} new minima, {report.new_ts} "
               f"new transition states; the file has {report.n_minima} minima, {report.n_ts} "
               f"transition states; {report.unconnected} minima not connected to the global "
               "minimum")


@cli.command()
@click.argument("file", metavar="FILE.h5", type=click.Path(dir_okay=False))
@click.option("--A", "a_ids", required=True, help="Minimum ids of state A: ids, ranges, gm, lowest:K; "
                   "e.g. gm, 1,3-7 or lowest:5.")
@click.option("--B", "b_ids", required=True, help="Minimum ids of state B (as --A).")
@click.option("--temperature", type=click.FloatRange(0, None, min_open=True),
              help="Temperature (energy units, k_B = 1; default: [mlpathsample] temperature).")
@click.option("--input", "input_file", type=click.Path(dir_okay=False),
              help="Input file whose [mlpathsample] temperature is used (default: the input "
                   "stored with the file's first run).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")
@click.option("--include-degenerate", is_flag=True,
              help="Keep degenerate minima (zero curvatures beyond the symmetries) and their "
                   "transition states; by default they are left out (their count is printed).")
def rates(file, a_ids, b_ids, temperature, input_file, as_json, include_degenerate):
    """Rate constants A<-B and B<-A by graph transformation (harmonic TST)."""
    import json

    from mlpathsample.rates import run_rates

    if temperature is None:
        from mlcore.database import DatabaseReader
        from mlcore.session import program_settings

        settings, _ = program_settings("mlpathsample", DatabaseReader(file), file, input_file)
        temperature = settings.temperature
    result = run_rates(file, _ids(file, a_ids, "--A"), _ids(file, b_ids, "--B"), temperature,
                       include_degenerate)
    if result["n_degenerate_left_out"]:
        click.echo(f"mlpathsample rates: {result['n_degenerate_left_out']} degenerate minima "
                   "left out (no harmonic rate; --include-degenerate keeps them)", err=True)
    if as_json:
        click.echo(json.dumps(result, indent=2, allow_nan=True))
    else:
        for key, value in result.items():
            if not isinstance(value, (list, dict)):
                click.echo(f"{key}: {value}")


@cli.command(name="export")
@click.argument("file", metavar="FILE.h5", type=click.Path(dir_okay=False))
@click.argument("directory", metavar="DIR", type=click.Path(file_okay=False))
@click.option("--A", "a_ids", help="Minimum ids written to min.A (ids, ranges, gm, lowest:K).")
@click.option("--B", "b_ids", help="Minimum ids written to min.B (as --A).")
def export_(file, directory, a_ids, b_ids):
    """Write PATHSAMPLE's min.data, ts.data, points.min, points.ts, min.A, min.B."""
    from mlcore.outputs import prepare_output
    from mlpathsample.pathsample_files import export_pathsample

    prepare_output(directory, what="DIR", directory=True)
    export_pathsample(file, directory, A=_ids(file, a_ids, "--A") if a_ids else None,
                      B=_ids(file, b_ids, "--B") if b_ids else None)
    click.echo(f"PATHSAMPLE files written to {directory}")


@cli.command(name="import")
@click.argument("directory", metavar="DIR", type=click.Path(file_okay=False))
@click.argument("file", metavar="FILE.h5", type=click.Path(dir_okay=False))
@click.option("--input", "input_file", required=True, type=click.Path(dir_okay=False),
              help="Input file whose [system] describes the landscape of the data.")
def import_(directory, file, input_file):
    """Read PATHSAMPLE files into a new stationary-point file."""
    from mlcore.outputs import prepare_output
    from mlpathsample.pathsample_files import import_pathsample

    prepare_output(file, what="FILE.h5")
    n_min, n_ts = import_pathsample(directory, file, input_file, argv=sys.argv)
    click.echo(f"{file}: {n_min} minima and {n_ts} transition states imported from {directory}")


def main(argv=None):
    """Entry point of the ``mlpathsample`` console script."""
    run_main(cli, "mlpathsample", argv, resume_hint="run grow again")


if __name__ == "__main__":
    main()
