"""Command-line shell of ``mlgmin``: parse, load, call ``run``; no algorithms here."""
import click

from mlcore.cli_support import run_main, version_option


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@version_option("mlgmin")
def cli():
    """Basin-hopping global optimisation that fills the stationary-point file (the GMIN of the suite).

    Add --debug to any command to see a traceback instead of a one-line error.
    """


def main(argv=None):
    """Entry point of the ``mlgmin`` console script."""
    run_main(cli, "mlgmin", argv)


if __name__ == "__main__":
    main()
