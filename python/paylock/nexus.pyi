import enum
from typing import Any, Dict, List, Optional, Union, final

from ._errors import IdCollision, IdReserved

__all__ = [
    "MAX_ISSUED_ID",
    "AddCreditSmallMessage",
    "BaseFullMessage",
    "ChannelOriginAction",
    "CustomCommandSmallMessage",
    "CustomCommandSmallMessageType",
    "Device",
    "Entry",
    "ExtendedSmallMessage",
    "ExtendedSmallMessageIdInvalidError",
    "ExtendedSmallMessageType",
    "FactoryFullMessage",
    "FullMessage",
    "FullMessageType",
    "FullMessageWipeFlags",
    "MaintenanceSmallMessage",
    "MaintenanceSmallMessageType",
    "PassthroughApplicationId",
    "PassthroughSmallMessage",
    "PossibleMessageCollisionError",
    "SetCreditSmallMessage",
    "SmallMessage",
    "SmallMessageType",
    "TestSmallMessage",
    "TestSmallMessageType",
    "UnlockSmallMessage",
]

_Key = Union[bytes, str]

MAX_ISSUED_ID: int
PossibleMessageCollisionError = IdReserved
ExtendedSmallMessageIdInvalidError = IdCollision

class FullMessageWipeFlags(enum.Enum):
    TARGET_FLAGS_0 = 0
    TARGET_FLAGS_1 = 1
    WIPE_IDS_ALL = 2
    WIPE_RESTRICTED_FLAG = 3

class FullMessageType(enum.Enum):
    ADD_CREDIT = 0
    SET_CREDIT = 1
    WIPE_STATE = 2
    RESERVED_TYPE_ID_3 = 3
    FACTORY_ALLOW_TEST = 4
    FACTORY_OQC_TEST = 5
    FACTORY_DISPLAY_PAYG_ID = 6
    RESERVED_TYPE_ID_7 = 7
    PASSTHROUGH_COMMAND = 8

class PassthroughApplicationId(enum.Enum):
    TO_PAYG_UART_PASSTHROUGH = 0
    CHANNEL_ORIGIN_COMMAND = 1

class ChannelOriginAction(enum.Enum):
    UNLINK_ALL_ACCESSORIES = "UNLINK_ALL_ACCESSORIES"
    UNLINK_ACCESSORY = "UNLINK_ACCESSORY"
    LINK_ACCESSORY_MODE_3 = "LINK_ACCESSORY_MODE_3"
    UNLOCK_ACCESSORY = "UNLOCK_ACCESSORY"

class BaseFullMessage:
    """A full-protocol keycode; immutable."""

    full_id: int
    message_type: FullMessageType
    is_factory: bool
    def to_keycode(
        self,
        prefix: str = "*",
        suffix: str = "#",
        separator: str = " ",
        group_len: int = 3,
        obscured: Optional[bool] = None,
    ) -> str: ...

class FullMessage(BaseFullMessage):
    UNLOCK_FLAG_IN_HOURS: int
    def __init__(
        self,
        full_id: int,
        message_type: FullMessageType,
        body: str,
        secret_key: _Key,
        is_factory: bool = False,
        *,
        allow_ids_above_65534: bool = False,
        allow_demo_codes: bool = False,
    ) -> None: ...
    @classmethod
    def add_credit(
        cls, id_: int, hours: int, secret_key: _Key, *, allow_ids_above_65534: bool = False
    ) -> FullMessage: ...
    @classmethod
    def set_credit(
        cls, id_: int, hours: int, secret_key: _Key, *, allow_ids_above_65534: bool = False
    ) -> FullMessage: ...
    @classmethod
    def unlock(cls, id_: int, secret_key: _Key, *, allow_ids_above_65534: bool = False) -> FullMessage: ...
    @classmethod
    def wipe_state(
        cls, id_: int, flags: FullMessageWipeFlags, secret_key: _Key, *, allow_ids_above_65534: bool = False
    ) -> FullMessage: ...
    @classmethod
    def demo(
        cls,
        id_: int,
        minutes: int,
        secret_key: _Key,
        *,
        allow_ids_above_65534: bool = False,
        allow_demo_codes: bool = False,
    ) -> FullMessage: ...
    @classmethod
    def reserved(cls, id_: int, minutes: int, secret_key: _Key) -> FullMessage: ...

class FactoryFullMessage(FullMessage):
    def __init__(self, message_type: FullMessageType, body: str) -> None: ...  # type: ignore[override]
    @classmethod
    def allow_test(cls) -> FactoryFullMessage: ...
    @classmethod
    def oqc_test(cls, num_min: int = 60) -> FactoryFullMessage: ...
    @classmethod
    def oqc_test_legacy(cls) -> FactoryFullMessage: ...
    @classmethod
    def display_payg_id(cls) -> FactoryFullMessage: ...
    @classmethod
    def device_id_confirmation(cls, user_facing_id: int) -> FactoryFullMessage: ...
    @classmethod
    def passthrough_command(
        cls, application_id: Union[PassthroughApplicationId, int], passthrough_digits: str
    ) -> FactoryFullMessage: ...
    @classmethod
    def passthrough_channel_origin_command(
        cls, channel_action: ChannelOriginAction, **kwargs: Any
    ) -> FactoryFullMessage: ...
    @classmethod
    def passthrough_uart_keycode_numeric_body_and_mac(cls, secret_key: _Key) -> FactoryFullMessage: ...

class SmallMessageType(enum.Enum):
    ADD_CREDIT = 0
    PASSTHROUGH = 1
    SET_CREDIT = 2
    MAINTENANCE_TEST = 3

class SmallMessage:
    """A small-protocol keycode; immutable. Built through its subclasses."""

    UNLOCK_FLAG: Any
    def __init__(self, *args: Any, **kwargs: Any) -> None: ...
    id_: int
    message_type: SmallMessageType
    def to_keycode(
        self,
        prefix: str = "1",
        separator: str = " ",
        group_len: int = 3,
        key_dict: Optional[Dict[int, str]] = None,
        obscured: bool = True,
    ) -> str: ...

class AddCreditSmallMessage(SmallMessage):
    MAX_ADD_CREDIT_DAYS: int
    COARSE_DAYS_PER_INCREMENT_ID: int
    def __init__(self, id_: int, days: Any, secret_key: _Key, *, allow_ids_above_65534: bool = False) -> None: ...

class UnlockSmallMessage(AddCreditSmallMessage):
    def __init__(self, id_: int, secret_key: _Key, *, allow_ids_above_65534: bool = False) -> None: ...  # type: ignore[override]

class SetCreditSmallMessage(SmallMessage):
    def __init__(self, id_: int, days: Any, secret_key: _Key, *, allow_ids_above_65534: bool = False) -> None: ...

class CustomCommandSmallMessageType(enum.Enum):
    WIPE_RESTRICTED_FLAG = 253

class CustomCommandSmallMessage(SmallMessage):
    def __init__(
        self, id_: int, type_: CustomCommandSmallMessageType, secret_key: _Key, *, allow_ids_above_65534: bool = False
    ) -> None: ...

class MaintenanceSmallMessageType(enum.Enum):
    WIPE_STATE_0 = 0
    WIPE_STATE_1 = 1
    WIPE_IDS_ALL = 2

class MaintenanceSmallMessage(SmallMessage):
    def __init__(self, type_: MaintenanceSmallMessageType, secret_key: _Key) -> None: ...

class TestSmallMessageType(enum.Enum):
    SHORT_TEST = 0
    OQC_TEST = 1

class TestSmallMessage(SmallMessage):
    __test__: bool
    def __init__(self, type_: TestSmallMessageType) -> None: ...

class PassthroughSmallMessage(SmallMessage):
    PASSTHROUGH_BITS_FIXED_LENGTH: int
    def __init__(self, bits: Any) -> None: ...

class ExtendedSmallMessageType(enum.Enum):
    SET_CREDIT_WIPE_RESTRICTED_FLAG = (0, 2)

class ExtendedSmallMessage(PassthroughSmallMessage):
    def __init__(  # type: ignore[override]
        self,
        type_: ExtendedSmallMessageType,
        *,
        id_: Optional[int] = None,
        days: Any = None,
        secret_key: Optional[_Key] = None,
        allow_ids_above_65534: bool = False,
    ) -> None: ...
    @property
    def final_message_id(self) -> int: ...
    @staticmethod
    def next_valid_id(id_: int, days: Any, secret_key: _Key, *, allow_ids_above_65534: bool = False) -> int: ...

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
