"""``paylock._paylock.openpaygo``: OpenPAYGO Token, re-exported by :mod:`paylock.openpaygo`."""

from typing import List, Optional, Sequence, Tuple, Union

__all__ = [
    "generate_token",
    "decode_token",
    "starting_code_from_key",
    "token_at",
    "COUNT_CEILING",
]

COUNT_CEILING: int

_Key = Union[str, bytes]
_Decoded = Tuple[Optional[Union[int, float]], int, Optional[int], Optional[List[int]]]

def generate_token(
    secret_key: _Key,
    count: int,
    value: Optional[float] = None,
    token_type: int = 1,
    starting_code: Optional[int] = None,
    value_divider: int = 1,
    restricted_digit_set: bool = False,
    extended_token: bool = False,
) -> Tuple[int, str]:
    """Returns ``(new_count, token)``, as ``openpaygo`` 0.6.3 does."""

def decode_token(
    token: str,
    secret_key: _Key,
    count: int,
    used_counts: Optional[Sequence[int]] = None,
    starting_code: Optional[int] = None,
    value_divider: int = 1,
    restricted_digit_set: bool = False,
    *,
    allow_sync_replays: bool = False,
) -> _Decoded:
    """Returns ``(value, token_type, count, used_counts)``, as ``openpaygo`` 0.6.3 does."""

def starting_code_from_key(secret_key: _Key) -> int:
    """The starting code ``openpaygo`` derives from the key when none is given."""

def token_at(
    secret_key: _Key,
    starting_code: int,
    count: int,
    value: int,
    restricted_digit_set: bool = False,
    extended_token: bool = False,
) -> str:
    """The token at exactly ``count`` chain steps for a raw ``value`` (QA tools, vectors)."""
