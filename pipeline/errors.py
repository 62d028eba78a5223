"""The one exception type that reaches the user.

Every stage raises `GatewatchError` for bad input it can explain; the CLI prints its message
on one line and exits with code 2. Anything else is a bug and keeps its traceback.
"""


class GatewatchError(Exception):
    """A problem with the user's input (file, key, row) that the message fully explains."""
