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


def run_main(command, prog_name, argv=None, resume_hint: str = "run the command again"):
    """Run a click ``command``; map errors to exit statuses (2 bad input, 1 failed run,
    130 Ctrl-C, 143 SIGTERM).

    ``--debug`` anywhere on the command line shows the traceback instead of the one-line
    message.  SIGTERM is handled like Ctrl-C (:mod:`mlcore.termination`); after either,
    one line says that finished work is saved and how to continue (``resume_hint``).
    """
    from mlcore.termination import exit_status, handle_sigterm

    handle_sigterm()
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
        # what click's main() does, less its handling of Ctrl-C (an empty line, then
        # Abort, which would hide whether it was SIGINT or SIGTERM)
        with command.make_context(prog_name, args) as ctx:
            command.invoke(ctx)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError" and exc.ctx is not None:
            click.echo(exc.ctx.get_help())      # a bare group name: its help
            sys.exit(2)
        # one line, as for every other bad input: which command, what is wrong, where help is
        where = exc.ctx.command_path if exc.ctx is not None else prog_name
        message = exc.format_message().rstrip(".")
        click.echo(f"{where}: error: {message}; see '{where} --help'", err=True)
        sys.exit(2)
    except click.ClickException as exc:
        click.echo(f"{prog_name}: error: {exc.format_message()}", err=True)
        sys.exit(2)
    except (KeyboardInterrupt, click.exceptions.Abort) as exc:
        if debug and isinstance(exc, KeyboardInterrupt):
            raise
        status, name = exit_status(exc if isinstance(exc, KeyboardInterrupt)
                                   else KeyboardInterrupt())
        click.echo(f"{prog_name}: interrupted by {name}; finished work is saved "
                   f"({resume_hint} to continue)", err=True)
        sys.exit(status)
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
