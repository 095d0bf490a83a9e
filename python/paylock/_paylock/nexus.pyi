"""``paylock._paylock.nexus``: Nexus keycodes and the simulated device, behind
:mod:`paylock.nexus` (which re-exports ``Device``, ``Entry`` and ``MAX_ISSUED_ID``)."""

from typing import Any, Dict, List, Optional, Union, final

__all__ = [
    "MAX_ISSUED_ID",
    "full_activation",
    "factory",
    "passthrough_command",
    "uart_key_passthrough",
    "device_id_confirmation",
    "channel_origin_command",
    "small_credit",
    "next_extended_id",
    "small_maintenance",
    "small_test",
    "small_passthrough",
    "Device",
    "Entry",
]

_Key = Union[bytes, str]

MAX_ISSUED_ID: int

def full_activation(
    kind: str,
    secret_key: _Key,
    id_: int,
    amount: Any,
    allow_ids_above_65534: bool = False,
    allow_demo_codes: bool = False,
) -> str:
    """A full-protocol credit, unlock, wipe or demo keycode."""

def factory(kind: str, minutes: Optional[int] = None) -> str:
    """A full-protocol factory keycode (``ALLOW_TEST``, ``OQC_TEST``, ``OQC_TEST_LEGACY``,
    ``DISPLAY_PAYG_ID``)."""

def passthrough_command(application_id: Any, passthrough_digits: Any) -> str:
    """A full-protocol passthrough keycode."""

def uart_key_passthrough(secret_key: _Key) -> str:
    """The passthrough keycode that carries a UART key."""

def device_id_confirmation(user_facing_id: Any) -> str:
    """The NOMAC device-ID confirmation keycode."""

def channel_origin_command(
    action: Any,
    controller_sym_key: _Key,
    controller_command_count: int,
    accessory_sym_key: Optional[_Key] = None,
    accessory_command_count: Optional[int] = None,
    accessory_nexus_id: Optional[Any] = None,
) -> str:
    """A Nexus Channel origin command keycode."""

def small_credit(
    kind: str,
    secret_key: _Key,
    id_: int,
    days: Optional[Any] = None,
    allow_ids_above_65534: bool = False,
) -> str:
    """A small-protocol credit, unlock or custom keycode."""

def next_extended_id(
    secret_key: _Key, id_: int, days: Optional[Any] = None, allow_ids_above_65534: bool = False
) -> int:
    """The first ID from ``id_`` whose extended code collides with no earlier one."""

def small_maintenance(secret_key: _Key, function: Any) -> str:
    """A small-protocol maintenance keycode."""

def small_test(function: Any) -> str:
    """A small-protocol test keycode."""

def small_passthrough(bits: Any) -> str:
    """A small-protocol passthrough keycode (26 bits)."""

@final
class Entry:
    """The outcome of one keycode on a Device."""

    @property
    def response(self) -> str: ...
    @property
    def feedback(self) -> List[str]: ...
    @property
    def platform_calls(self) -> List[str]: ...
    @property
    def message_id(self) -> Optional[int]: ...

@final
class Device:
    """A simulated Nexus device (nexus-embedded 2.0.1's keycode engine, 32-bit message IDs)."""

    def __new__(
        cls,
        secret_key: _Key,
        protocol: str,
        *,
        user_facing_id: int = 0,
        credit_seconds: int = 0,
        unlocked: bool = False,
        pd_index: int = 23,
        received_flags: int = 0,
        qc_short_count: int = 0,
        qc_long_count: int = 0,
        restricted_flag: bool = False,
        qc_short_max: int = 5,
        qc_long_max: int = 5,
        rate_limited: bool = False,
        extended_small_codes: bool = True,
    ) -> Device: ...
    def enter(self, keycode: str, now: int = 0) -> Entry: ...
    def press_key(self, key: str, now: int = 0) -> Optional[Entry]: ...
    def tick(self, now: int) -> None: ...
    @property
    def state(self) -> Dict[str, Any]: ...
    @property
    def persisted(self) -> Dict[str, Any]: ...
    @property
    def credit_seconds(self) -> int: ...
    @property
    def unlocked(self) -> bool: ...
    @property
    def payg_state(self) -> str: ...
    restricted_flag: bool
    @property
    def attempts_left(self) -> Optional[int]: ...
