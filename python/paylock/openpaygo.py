"""OpenPAYGO Token, a drop-in for ``openpaygo`` 0.6.3.

Change the import and nothing else::

    from paylock.openpaygo import TokenType, decode_token, generate_token

    new_count, token = generate_token(
        secret_key="a29ab82edc5fbbc41ec9530f6dac86b1",
        count=0,
        value=1,
        token_type=TokenType.ADD_TIME,
        starting_code=123456789,
    )
    assert (new_count, token) == (2, "662486790")

``generate_token`` takes the same arguments with the same defaults and returns the same
``(new_count, token)`` for every input ``openpaygo`` accepts. Inputs for which ``openpaygo`` returns
a garbage token (a negative value, a starting code above 999,999,999, a key that is not 16 bytes)
raise a :class:`paylock.InvalidArgument` instead, which is a ``ValueError``.

``decode_token`` takes the same arguments and returns the same ``(value, token_type, count,
used_counts)``; its verdicts are those of paylock's device model, which fixes upstream's replay
bugs. The differences are listed in the package README ("Decoding: differences from openpaygo
0.6.3") with the spec sections (``docs/openpaygo.md``) that decided them.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Tuple, Union

from ._metrics import AuthMethod, MetricsRequestHandler, MetricsResponseHandler
from ._paylock import openpaygo as _native

__all__ = [
    "AuthMethod",
    "COUNT_CEILING",
    "MetricsRequestHandler",
    "MetricsResponseHandler",
    "OpenPAYGOTokenDecoder",
    "OpenPAYGOTokenEncoder",
    "TokenType",
    "decode_token",
    "generate_token",
    "starting_code_from_key",
    "token_at",
]

#: The highest count paylock issues or accepts (2**17): it bounds the work per token.
COUNT_CEILING: int = _native.COUNT_CEILING


class TokenType:
    """Token types, with ``openpaygo``'s numbers."""

    ADD_TIME = 1
    SET_TIME = 2
    DISABLE_PAYG = 3
    COUNTER_SYNC = 4
    INVALID = 10
    ALREADY_USED = 11


generate_token = _native.generate_token
decode_token = _native.decode_token
starting_code_from_key = _native.starting_code_from_key
token_at = _native.token_at


class OpenPAYGOTokenEncoder:
    """``openpaygo.OpenPAYGOTokenEncoder``: the encoder as a class, for code that imports it."""

    @classmethod
    def generate_token(
        cls,
        secret_key: Union[str, bytes],
        count: int,
        value: Optional[float] = None,
        token_type: int = TokenType.ADD_TIME,
        starting_code: Optional[int] = None,
        value_divider: int = 1,
        restricted_digit_set: bool = False,
        extended_token: bool = False,
    ) -> Tuple[int, str]:
        """Same as :func:`generate_token`."""
        return _native.generate_token(
            secret_key,
            count,
            value,
            token_type,
            starting_code,
            value_divider,
            restricted_digit_set,
            extended_token,
        )


class OpenPAYGOTokenDecoder:
    """``openpaygo.OpenPAYGOTokenDecoder``: the decoder as a class, with upstream's window
    constants (paylock's device model uses the same values)."""

    MAX_TOKEN_JUMP = 64
    MAX_TOKEN_JUMP_COUNTER_SYNC = 100
    MAX_UNUSED_OLDER_TOKENS = 16

    @classmethod
    def decode_token(
        cls,
        token: str,
        secret_key: Union[str, bytes],
        count: int,
        used_counts: Optional[Sequence[int]] = None,
        starting_code: Optional[int] = None,
        value_divider: int = 1,
        restricted_digit_set: bool = False,
        *,
        allow_sync_replays: bool = False,
    ) -> Tuple[Any, int, Optional[int], Optional[list]]:
        """Same as :func:`decode_token`."""
        return _native.decode_token(
            token,
            secret_key,
            count,
            used_counts,
            starting_code,
            value_divider,
            restricted_digit_set,
            allow_sync_replays=allow_sync_replays,
        )
