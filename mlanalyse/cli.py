"""Command-line shell of ``mlanalyse``: parse, load, call ``run``; no algorithms here."""
import click

from mlcore.cli_support import run_main, version_option


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@version_option("mlanalyse")
def cli():
    """Disconnectivity graphs, heat capacity, network statistics and reports.

    Add --debug to any command to see a traceback instead of a one-line error.
    """


def main(argv=None):
    """Entry point of the ``mlanalyse`` console script."""
    run_main(cli, "mlanalyse", argv)


if __name__ == "__main__":
    main()
