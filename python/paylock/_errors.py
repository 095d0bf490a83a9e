"""The exceptions paylock raises: one base class, one subclass per kind of refusal.

Every refusal of an argument is an :class:`InvalidArgument`, which is also a :class:`ValueError`,
so code written for ``openpaygo`` or ``nexus-keycode`` that catches ``ValueError`` keeps working.
Each one names the argument in its ``field`` attribute and in its message.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple, Type


def _rebuild(cls: Type[BaseException], args: Tuple[Any, ...], attributes: Dict[str, Any]) -> BaseException:
    """Unpickles an error: the constructor's keyword arguments live in ``__dict__``."""
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(attributes)
    return error


class Error(Exception):
    """Base class of every exception paylock raises."""

    def __reduce__(self) -> Any:
        return (_rebuild, (type(self), self.args, self.__dict__))


class InvalidArgument(Error, ValueError):
    """An argument paylock refuses; ``field`` names it (for example ``"value"`` or ``"id_"``)."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class InvalidKey(InvalidArgument):
    """A key that is not 16 bytes: 32 hex characters, or 16 raw bytes where the API takes bytes."""


class OutOfRange(InvalidArgument):
    """A number outside what the token or keycode can carry.

    ``found`` is the value given (after unit conversion where the message says so), ``min`` and
    ``max`` the bounds; either bound is ``None`` when only the other one was passed.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str,
        found: Any,
        min: Optional[int] = None,
        max: Optional[int] = None,
    ) -> None:
        super().__init__(message, field=field)
        self.found = found
        self.min = min
        self.max = max


class CounterExhausted(OutOfRange):
    """A device counter that cannot advance: no token follows it (a Nexus message ID with no
    later ID left, an OpenPAYGO count whose next token would pass the count ceiling). The
    counter never wraps back to one the device has used; such a device needs new provisioning.
    ``found`` is the counter given, ``max`` the last one that can still be issued from when
    known."""


class MalformedToken(InvalidArgument):
    """Text that is not a token of the expected form.

    ``position`` is the 0-based index of the first bad character, or ``None`` when the text is
    only too short or too long.
    """

    def __init__(self, message: str, *, field: str, position: Optional[int] = None) -> None:
        super().__init__(message, field=field)
        self.position = position


class UnsupportedCommand(InvalidArgument):
    """A token type, message type or option paylock does not issue (for example the un-obscured
    form of a keycode, or a value given with a token type that carries none)."""


class IdCollision(InvalidArgument):
    """A Nexus message ID the keycode cannot use; ``next_valid_id`` is the next one that works
    (``None`` if none was found in the search window)."""

    def __init__(self, message: str, *, field: str, next_valid_id: Optional[int]) -> None:
        super().__init__(message, field=field)
        self.next_valid_id = next_valid_id


class IdReserved(IdCollision):
    """A small SET_CREDIT of 1 day at a message ID whose low 6 bits are 63: it would read as an
    old test code. Use ``next_valid_id``."""
