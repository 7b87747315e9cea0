"""Command-line shell of ``mloptim``: parse, load, call ``run``; no algorithms here."""
import click

from mlcore.cli_support import run_main, version_option


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@version_option("mloptim")
def cli():
    """Transition states, pathways and double-ended connect (the OPTIM of the suite).

    Add --debug to any command to see a traceback instead of a one-line error.
    """


def main(argv=None):
    """Entry point of the ``mloptim`` console script."""
    run_main(cli, "mloptim", argv)


if __name__ == "__main__":
    main()
