"""Pieces shared by the four command-line shells: version option, error handling.

Kept free of heavy imports so that ``--help`` and ``--version`` answer fast.
"""
import sys

import click

from mlcore._version import __version__
from mlcore.errors import InputError, RunError


def version_option(prog_name):
    """The ``--version`` option of a program."""
    return click.version_option(__version__, "--version", prog_name=prog_name,
                                message="%(prog)s %(version)s")


def run_main(command, prog_name, argv=None):
    """Run a click ``command``; map errors to exit statuses (2 bad input, 1 failed run).

    ``--debug`` anywhere on the command line shows the traceback instead of the one-line
    message.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    if not debug:
        import warnings

        # notices (a stale lock cleared, a torn journal record dropped) as one line each
        warnings.formatwarning = (lambda message, category, *_a, **_k:
                                  f"{prog_name}: warning: {message}\n")
    if debug:
        args.remove("--debug")
    try:
        command.main(args=args, prog_name=prog_name, standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo(f"{prog_name}: interrupted", err=True)
        sys.exit(130)
    except InputError as exc:
        if debug:
            raise
        click.echo(f"{prog_name}: error: {exc}", err=True)
        sys.exit(2)
    except RunError as exc:
        if debug:
            raise
        click.echo(f"{prog_name}: failed: {exc}", err=True)
        sys.exit(1)
    sys.exit(0)
