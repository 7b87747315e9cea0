"""Command-line shell of ``mlpathsample``: parse, load, call ``run``; no algorithms here."""
import click

from mlcore.cli_support import run_main, version_option


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@version_option("mlpathsample")
def cli():
    """Grow the network of minima and transition states; rate constants (the PATHSAMPLE of the suite).

    Add --debug to any command to see a traceback instead of a one-line error.
    """


def main(argv=None):
    """Entry point of the ``mlpathsample`` console script."""
    run_main(cli, "mlpathsample", argv)


if __name__ == "__main__":
    main()
