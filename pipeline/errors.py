"""The exceptions that reach the user, by what the user has to do about them.

Domain code says *which input* is wrong (`InvalidInput.field`), never how a front end spells
it: the CLI words the field as its flag (`--by`) and exits 2, the web layer answers 422 and
names the body or query key. `NotFound` (404), `Conflict` (409: understood, but the state
forbids it) and `Forbidden` (403: not this user's to change) let the web answer what a client
can act on. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from pipeline.wording import Message


class GatewatchError(Exception):
    """A problem with the user's input or surroundings (file, disk, key) that the message fully explains.

    Raised with a `Message`, it is also said in the reader's language: the web answers its code
    and values beside the English `detail`, and the console words it (a guard reads Chinese)."""

    def __init__(self, what: str | Message) -> None:
        self.message = what if isinstance(what, Message) else None
        super().__init__(what.text() if isinstance(what, Message) else what)


class InvalidInput(GatewatchError):
    """One named input (a flag, a form field, a query parameter) has a value that cannot be used."""

    def __init__(self, field: str, problem: str, value: object = None, message: Message | None = None) -> None:
        self.field, self.problem, self.value = field, problem, value
        super().__init__(self.worded(field))
        self.message = message

    def worded(self, name: str) -> str:
        """The message with the field called `name`, as the front end the user typed into calls it."""
        shown = f" {self.value!r}" if self.value is not None else ""
        return f"{name}{shown}: {self.problem}"


class NotFound(GatewatchError):
    """What the user asked for (an event, a registration, a user, a camera) does not exist."""


class Conflict(GatewatchError):
    """The request is valid, but the current state refuses it (a final event, a user who exists)."""


class Forbidden(GatewatchError):
    """The request is valid, but this user may not make it (another guard's alarm)."""


class BadValue(ValueError):
    """A value that parsing refuses, said in both languages. A ValueError, because that is what
    pydantic validators and the CSV reader catch and report with the row or key."""

    def __init__(self, message: Message) -> None:
        self.message = message
        super().__init__(message.text())
