"""AST v1, paylock's own open token scheme (``docs/access.md``).

A token is 20 decimal digits (profile L, the default), 15 (M) or 20 digits 1-4 (S), carrying
one credit, unlock, counter-sync, parameter or TEST message under a MAC bound to the device::

    from paylock import access

    secret = access.Secret.derive(
        "2b7e151628aed2a6abf7158809cf4f3c",  # the batch key, at the factory
        suite=access.Suite.AES_CMAC, profile="L", device_id=123456789,
    )
    token = access.generate(secret, 1, "ADD_CREDIT", 72)
    assert token.text == "3359 3381 3865 7142 9876"

    device = access.Device(secret)  # the device side: persist device.state after each entry
    verdict = device.verify(token.text, now=1000)
    assert (verdict.status, device.state.credit) == ("APPLIED", 72)
"""

from __future__ import annotations

from typing import Optional

from ._paylock import access as _native

__all__ = [
    "Device",
    "Secret",
    "State",
    "Suite",
    "Token",
    "TokenType",
    "Verdict",
    "derive_key",
    "generate",
    "test_code",
    "verify",
]

Secret = _native.Secret
State = _native.State
Token = _native.Token
Verdict = _native.Verdict
derive_key = _native.derive_key
generate = _native.generate
test_code = _native.test_code
verify = _native.verify


class Suite:
    """The PRF a device is provisioned with (spec §3)."""

    AES_CMAC = 0
    HMAC_SHA256 = 1
    SIPHASH24 = 2


class TokenType:
    """The token types :func:`generate` issues (spec §6)."""

    ADD_CREDIT = "ADD_CREDIT"
    SET_CREDIT = "SET_CREDIT"
    UNLOCK_PERMANENT = "UNLOCK_PERMANENT"
    COUNTER_SYNC = "COUNTER_SYNC"
    SET_PARAM = "SET_PARAM"
    TEST = "TEST"


class Device:
    """A device: its secret and the state it persisted. :meth:`verify` updates :attr:`state`,
    which the firmware (or its simulation) saves before acting on the verdict."""

    __slots__ = ("secret", "state")

    def __init__(self, secret: Secret, state: Optional[State] = None) -> None:
        self.secret = secret
        self.state = state if state is not None else State()

    def verify(self, input: str, now: int) -> Verdict:
        """Checks ``input`` (the digits, spaces and dashes allowed) entered at monotonic time
        ``now`` in seconds."""
        verdict, self.state = _native.verify(self.secret, self.state, input, now)
        return verdict

    def __repr__(self) -> str:
        return f"Device({self.secret!r}, {self.state!r})"
