"""Exceptions that the command-line shells turn into exit statuses.

``InputError`` (exit 2) is bad input: a malformed input file, an unknown key, a missing
or damaged file, an unknown minimum id.  ``RunError`` (exit 1) is a run that failed.
Messages are one line and say what is wrong and where.
"""


class InputError(ValueError):
    """Bad input from the user; the programs exit with status 2."""


class RunError(RuntimeError):
    """A run that failed; the programs exit with status 1."""
