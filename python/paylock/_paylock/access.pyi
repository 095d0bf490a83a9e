"""``paylock._paylock.access``: AST v1, re-exported by :mod:`paylock.access`."""

from typing import Dict, Optional, Tuple, Union, final

__all__ = [
    "Secret",
    "State",
    "Verdict",
    "Token",
    "derive_key",
    "generate",
    "test_code",
    "verify",
]

_Key = Union[str, bytes]

@final
class Secret:
    """A device key with its provisioned configuration; repr() never shows the key."""

    def __new__(
        cls,
        device_key: _Key,
        *,
        suite: int,
        profile: str,
        device_id: int,
        key_rev: int = 0,
        unit: str = "hours",
    ) -> Secret: ...
    @staticmethod
    def derive(
        batch_key: _Key,
        *,
        suite: int,
        profile: str,
        device_id: int,
        key_rev: int = 0,
        unit: str = "hours",
    ) -> Secret: ...
    @property
    def suite(self) -> int: ...
    @property
    def profile(self) -> str: ...
    @property
    def device_id(self) -> int: ...
    @property
    def key_rev(self) -> int: ...
    @property
    def unit(self) -> str: ...
    @property
    def device_key(self) -> str: ...

@final
class Token:
    """An issued AST token."""

    @property
    def text(self) -> str: ...
    @property
    def digits(self) -> str: ...
    @property
    def counter(self) -> int: ...
    @property
    def value(self) -> int: ...

@final
class State:
    """What a device persists (spec §9.1)."""

    max_counter: int
    used: int
    mode: str
    credit: int
    params: Dict[int, int]
    fails: int
    lock_until: int
    test_window_start: int
    test_count: int
    def __new__(
        cls,
        *,
        max_counter: int = 0,
        used: int = 0,
        mode: str = "PAYG",
        credit: int = 0,
        params: Optional[Dict[int, int]] = None,
        fails: int = 0,
        lock_until: int = 0,
        test_window_start: int = 0,
        test_count: int = 0,
    ) -> State: ...

@final
class Verdict:
    """The device's answer to one entry (spec §9.6)."""

    @property
    def status(self) -> str: ...
    @property
    def reason(self) -> Optional[str]: ...
    @property
    def token_type(self) -> Optional[str]: ...
    @property
    def counter(self) -> Optional[int]: ...
    @property
    def value(self) -> Optional[int]: ...
    @property
    def param_id(self) -> Optional[int]: ...
    @property
    def param_value(self) -> Optional[int]: ...
    @property
    def test_id(self) -> Optional[int]: ...
    @property
    def retry_at(self) -> Optional[int]: ...
    @property
    def lock_seconds(self) -> Optional[int]: ...
    @property
    def detail(self) -> Optional[dict]: ...
    @property
    def diag(self) -> Optional[dict]: ...

def derive_key(batch_key: _Key, *, suite: int, device_id: int, key_rev: int = 0) -> str:
    """The factory's KDF: the device key, as 32 hex characters."""

def generate(
    secret: Secret,
    counter: int,
    token_type: str,
    value: Optional[int] = None,
    *,
    param_id: Optional[int] = None,
    param_value: Optional[int] = None,
) -> Token:
    """Issues the token for ``counter``."""

def test_code(*, suite: int, profile: str, test_id: int) -> Token:
    """The universal TEST code of a suite and profile."""

def verify(secret: Secret, state: State, input: str, now: int) -> Tuple[Verdict, State]:
    """Checks ``input`` at monotonic time ``now``; returns the verdict and the state to persist."""
