"""paylock: pay-as-you-go unlock tokens, from Rust.

* :mod:`paylock.openpaygo`: a drop-in for ``openpaygo`` 0.6.3 (``generate_token``,
  ``decode_token``, ``TokenType``);
* :mod:`paylock.nexus`: Angaza Nexus keycodes with the class names of ``nexus-keycode`` 1.5.1,
  and a simulated device;
* :mod:`paylock.access`: AST v1, paylock's own scheme;
* :mod:`paylock.device`: the device-lock engine (credit clock, lockout, power-safe state) on
  simulated flash, for any scheme;
* :func:`issue_many` / :func:`verify_many`: the JSON batch protocol of ``paylock batch`` on every
  core, for nightly re-issuing across a fleet.

Every refusal is a :class:`paylock.Error`; argument refusals are :class:`InvalidArgument`, also a
``ValueError``, naming the argument in ``field``.
"""

from __future__ import annotations

from typing import Any, Iterable, List, Mapping, Optional, Union, overload

from . import access, device, nexus, openpaygo
from ._errors import (
    CounterExhausted,
    Error,
    IdCollision,
    IdReserved,
    InvalidArgument,
    InvalidKey,
    MalformedToken,
    OutOfRange,
    UnsupportedCommand,
)
from ._paylock import batch as _batch

__version__ = "0.1.0"

__all__ = [
    "CounterExhausted",
    "Error",
    "IdCollision",
    "IdReserved",
    "InvalidArgument",
    "InvalidKey",
    "MalformedToken",
    "OutOfRange",
    "UnsupportedCommand",
    "access",
    "device",
    "issue_many",
    "nexus",
    "openpaygo",
    "verify_many",
]

Request = Union[str, Mapping[str, Any]]


@overload
def issue_many(requests: str, *, threads: Optional[int] = ...) -> str: ...  # type: ignore[overload-overlap]
@overload
def issue_many(requests: Iterable[str], *, threads: Optional[int] = ...) -> List[str]: ...
@overload
def issue_many(requests: Iterable[Mapping[str, Any]], *, threads: Optional[int] = ...) -> List[dict]: ...
@overload
def issue_many(requests: Iterable[Request], *, threads: Optional[int] = ...) -> List[Union[str, dict]]: ...
def issue_many(requests: Union[str, Iterable[Request]], *, threads: Optional[int] = None) -> Any:
    """Answers batch ``generate`` / ``derive_key`` requests on every core, in order.

    Each request is one object of the JSON Lines batch protocol of ``paylock batch`` (see the
    README): a ``dict``, or a ``str`` holding its JSON text. Each answer has its request's form,
    a ``dict`` or a JSON ``str``: ``{"ok": true, "token": ..., "count": ...}`` and the like, or
    ``{"ok": false, "error": {"kind": ..., "message": ...}}`` for a refused request (the batch
    goes on). A request of another operation is refused with kind ``unknown_op``.

    A single ``str`` is JSON Lines text (one request per line, as ``paylock batch`` reads) and
    is answered with JSON Lines text, one answer line per request line.

    The GIL is released while the requests are answered; ``threads`` (default: every core)
    sets how many threads answer. JSON text is parsed by those threads, while dicts are
    converted on the calling thread: one JSON Lines ``str`` scales best, then ``str``
    requests, then dicts.
    """
    return _batch.handle_many(requests, "issue", threads)


@overload
def verify_many(requests: str, *, threads: Optional[int] = ...) -> str: ...  # type: ignore[overload-overlap]
@overload
def verify_many(requests: Iterable[str], *, threads: Optional[int] = ...) -> List[str]: ...
@overload
def verify_many(requests: Iterable[Mapping[str, Any]], *, threads: Optional[int] = ...) -> List[dict]: ...
@overload
def verify_many(requests: Iterable[Request], *, threads: Optional[int] = ...) -> List[Union[str, dict]]: ...
def verify_many(requests: Union[str, Iterable[Request]], *, threads: Optional[int] = None) -> Any:
    """Answers batch ``decode`` / ``enter`` / ``verify`` requests on every core, in order.

    Each request carries the device state it starts from and each answer the state to store,
    so the requests of different devices are independent. Same forms (JSON Lines text too) and
    threads as :func:`issue_many`; a request of another operation is refused with kind
    ``unknown_op``.
    """
    return _batch.handle_many(requests, "verify", threads)
