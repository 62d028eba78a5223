"""The exceptions that reach the user, by what the user has to do about them.

Domain code says *which input* is wrong (`InvalidInput.field`), never how a front end spells
it: the CLI words the field as its flag (`--by`) and exits 2, the web layer answers 422 and
names the body or query key. `NotFound` (404) and `Conflict` (409: understood, but the state
forbids it) let the web answer what a client can act on. Anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations


class GatewatchError(Exception):
    """A problem with the user's input or surroundings (file, disk, key) that the message fully explains."""


class InvalidInput(GatewatchError):
    """One named input (a flag, a form field, a query parameter) has a value that cannot be used."""

    def __init__(self, field: str, problem: str, value: object = None) -> None:
        self.field, self.problem, self.value = field, problem, value
        super().__init__(self.worded(field))

    def worded(self, name: str) -> str:
        """The message with the field called `name`, as the front end the user typed into calls it."""
        shown = f" {self.value!r}" if self.value is not None else ""
        return f"{name}{shown}: {self.problem}"


class NotFound(GatewatchError):
    """What the user asked for (an event, a registration, a user, a camera) does not exist."""


class Conflict(GatewatchError):
    """The request is valid, but the current state refuses it (a final event, a user who exists)."""
