"""Errors a user can act on: the CLI prints them as one line, no traceback."""


class UserError(Exception):
    """str() is the whole message, already naming its component."""
