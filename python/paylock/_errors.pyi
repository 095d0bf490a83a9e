from typing import Any, Optional

class Error(Exception):
    """Base class of every exception paylock raises."""

class InvalidArgument(Error, ValueError):
    """An argument paylock refuses; ``field`` names it."""

    field: str
    def __init__(self, message: str, *, field: str) -> None: ...

class InvalidKey(InvalidArgument):
    """A key that is not 16 bytes."""

class OutOfRange(InvalidArgument):
    """A number outside what the token or keycode can carry."""

    found: Any
    min: Optional[int]
    max: Optional[int]
    def __init__(
        self, message: str, *, field: str, found: Any, min: Optional[int] = ..., max: Optional[int] = ...
    ) -> None: ...

class CounterExhausted(OutOfRange):
    """A device counter that cannot advance: no token follows it."""

class MalformedToken(InvalidArgument):
    """Text that is not a token of the expected form; ``position`` is the first bad character."""

    position: Optional[int]
    def __init__(self, message: str, *, field: str, position: Optional[int] = ...) -> None: ...

class UnsupportedCommand(InvalidArgument):
    """A token type, message type or option paylock does not issue."""

class IdCollision(InvalidArgument):
    """A Nexus message ID the keycode cannot use; ``next_valid_id`` is the next that works."""

    next_valid_id: Optional[int]
    def __init__(self, message: str, *, field: str, next_valid_id: Optional[int]) -> None: ...

class IdReserved(IdCollision):
    """A 1-day small SET_CREDIT at an ID whose low 6 bits are 63."""
