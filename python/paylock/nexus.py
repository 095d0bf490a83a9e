"""Angaza Nexus keycodes with the class names of ``nexus-keycode`` 1.5.1, and a device to check them.

Change the import and nothing else::

    from paylock.nexus import AddCreditSmallMessage, FullMessage

    key = b"\\xde\\xad\\xbe\\xef" * 4
    FullMessage.add_credit(id_=42, hours=24 * 7, secret_key=key).to_keycode()
    # '*599 791 493 194 43#'
    AddCreditSmallMessage(id_=42, days=7, secret_key=key).to_keycode()
    # '135 242 422 455 244'

Every keycode is the one ``nexus-keycode`` 1.5.1 produces, except where ``docs/nexus.md`` decided
otherwise (listed in the package README): OQC codes use the ``5 000 MM`` form firmware accepts
(1.5.1's form is :meth:`FactoryFullMessage.oqc_test_legacy`), message IDs above 65534 are refused
unless ``allow_ids_above_65534=True``, demo codes (which add credit each time they are entered)
unless ``allow_demo_codes=True``, the un-obscured digits are never shown as a keycode, and
inputs upstream turns into an ``AssertionError`` or a wrong code raise a typed error.

Keys are 16 raw bytes, as upstream takes them, or 32 hex characters.

:class:`Device` is a simulated device (nexus-embedded 2.0.1's keycode engine with 32-bit message
IDs, on a product with a credit counter in seconds) for checking codes before they are sent.
"""

from __future__ import annotations

import enum
from typing import Any, Dict, Optional, Union

from ._errors import IdCollision, IdReserved, InvalidArgument, OutOfRange, UnsupportedCommand
from ._paylock import nexus as _native

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

Key = Union[bytes, str]

#: The highest message ID issued by default: nexus-embedded 2.0.1 keeps IDs in 16 bits and lets
#: codes from 65535 up be replayed. ``allow_ids_above_65534=True`` lifts it for other firmware.
MAX_ISSUED_ID: int = _native.MAX_ISSUED_ID

Device = _native.Device
Entry = _native.Entry

# Looked up once: the constructors below are on the hot path of CRMs issuing codes.
_new = object.__new__
_full_activation = _native.full_activation
_small_credit = _native.small_credit

#: 1.5.1's name for a 1-day small SET_CREDIT at an ID ending in 63 (a ``ValueError`` there too).
PossibleMessageCollisionError = IdReserved
#: 1.5.1's name for an extended small code whose ID collides; carries ``next_valid_id`` here.
ExtendedSmallMessageIdInvalidError = IdCollision


def _grouped(text: str, separator: str, group_len: int) -> str:
    if not isinstance(separator, str):
        raise InvalidArgument("separator must be a str", field="separator")
    if not isinstance(group_len, int) or group_len < 1:
        raise OutOfRange(
            "group_len must be an integer >= 1",
            field="group_len",
            found=group_len,
            min=1,
        )
    return separator.join(text[i : i + group_len] for i in range(0, len(text), group_len))


# --- full protocol ------------------------------------------------------------------------


@enum.unique
class FullMessageWipeFlags(enum.Enum):
    """What a WIPE_STATE code clears."""

    TARGET_FLAGS_0 = 0  #: credit only
    TARGET_FLAGS_1 = 1  #: credit, the used-ID window and the QC counters
    WIPE_IDS_ALL = 2  #: the used-ID window and the QC counters (factory only: old codes work again)
    WIPE_RESTRICTED_FLAG = 3  #: the product's "restricted" flag


@enum.unique
class FullMessageType(enum.Enum):
    """Full-protocol message types (the first digit of the de-obscured frame)."""

    ADD_CREDIT = 0
    SET_CREDIT = 1
    WIPE_STATE = 2
    RESERVED_TYPE_ID_3 = 3  #: DEMO codes (reusable minutes); see FullMessage.demo
    FACTORY_ALLOW_TEST = 4
    FACTORY_OQC_TEST = 5
    FACTORY_DISPLAY_PAYG_ID = 6
    RESERVED_TYPE_ID_7 = 7  #: the device-ID confirmation; see FactoryFullMessage.device_id_confirmation
    PASSTHROUGH_COMMAND = 8


_ADD_CREDIT = FullMessageType.ADD_CREDIT
_SET_CREDIT = FullMessageType.SET_CREDIT


@enum.unique
class PassthroughApplicationId(enum.Enum):
    """The subtype digit of a passthrough keycode."""

    TO_PAYG_UART_PASSTHROUGH = 0
    CHANNEL_ORIGIN_COMMAND = 1


@enum.unique
class ChannelOriginAction(enum.Enum):
    """Nexus Channel origin commands carried by :meth:`FactoryFullMessage.passthrough_channel_origin_command`."""

    UNLINK_ALL_ACCESSORIES = "UNLINK_ALL_ACCESSORIES"
    UNLINK_ACCESSORY = "UNLINK_ACCESSORY"
    LINK_ACCESSORY_MODE_3 = "LINK_ACCESSORY_MODE_3"
    #: Not in 1.5.1's public enum; firmware 2.0.1 parses it but does not act on it.
    UNLOCK_ACCESSORY = "UNLOCK_ACCESSORY"


class BaseFullMessage:
    """A full-protocol keycode (keys ``0-9``, ``*``, ``#``); immutable.

    ``full_id`` is the message ID (0 for factory codes), ``message_type`` a
    :class:`FullMessageType`, ``is_factory`` true for the universal, unobscured codes.
    """

    __slots__ = ("full_id", "message_type", "_keycode")

    full_id: int
    message_type: FullMessageType
    _keycode: str
    #: True for the universal codes, which are never obscured.
    is_factory = False

    @classmethod
    def _of(cls, full_id: int, message_type: FullMessageType, keycode: str) -> Any:
        message = _new(cls)
        message.full_id = full_id
        message.message_type = message_type
        message._keycode = keycode
        return message

    def to_keycode(
        self,
        prefix: str = "*",
        suffix: str = "#",
        separator: str = " ",
        group_len: int = 3,
        obscured: Optional[bool] = None,
    ) -> str:
        """The keycode to give the customer, e.g. ``*599 791 493 194 43#``.

        ``obscured=False`` (upstream's un-obscured digits, which firmware rejects) and
        ``obscured=True`` on a factory code (never obscured) raise :class:`UnsupportedCommand`.
        """
        if obscured is not None and obscured == self.is_factory:
            raise UnsupportedCommand(
                "obscured=False would show the un-obscured digits, which no device accepts"
                if not obscured
                else "obscured=True: factory codes are never obscured, leave obscured=None",
                field="obscured",
            )
        if prefix == "*" and suffix == "#" and separator == " " and group_len == 3:
            return self._keycode
        digits = self._keycode.replace(" ", "")[1:-1]
        return prefix + _grouped(digits, separator, group_len) + suffix

    def __str__(self) -> str:
        return self._keycode

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(full_id={self.full_id!r}, "
            f"message_type={self.message_type}, keycode={self._keycode!r})"
        )

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._keycode == self._keycode  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self._keycode))


class FullMessage(BaseFullMessage):
    """Activation keycodes: credit, unlock, wipe and demo, keyed per device and replay-protected
    by message ID.

    Constructed like upstream, ``FullMessage(full_id, message_type, body, secret_key)``, for the
    activation types (``body`` the 5 digits), or with the class methods.
    """

    __slots__ = ()

    #: SET_CREDIT with this many hours is the UNLOCK code.
    UNLOCK_FLAG_IN_HOURS = 99999

    def __init__(
        self,
        full_id: int,
        message_type: FullMessageType,
        body: str,
        secret_key: Key,
        is_factory: bool = False,
        *,
        allow_ids_above_65534: bool = False,
        allow_demo_codes: bool = False,
    ) -> None:
        kinds = {
            FullMessageType.ADD_CREDIT: "ADD_CREDIT",
            FullMessageType.SET_CREDIT: "SET_CREDIT",
            FullMessageType.WIPE_STATE: "WIPE_STATE",
            FullMessageType.RESERVED_TYPE_ID_3: "DEMO",
        }
        if is_factory or message_type not in kinds:
            raise UnsupportedCommand(
                "message_type must be an activation message (ADD_CREDIT, SET_CREDIT, WIPE_STATE, "
                "RESERVED_TYPE_ID_3): use FactoryFullMessage for factory and passthrough codes",
                field="message_type",
            )
        if not (isinstance(body, str) and len(body) == 5 and body.isdigit() and body.isascii()):
            raise InvalidArgument("body must be 5 digits", field="body")
        amount = int(body)
        kind = kinds[message_type]
        if kind == "SET_CREDIT" and amount == self.UNLOCK_FLAG_IN_HOURS:
            kind = "UNLOCK"
        self.full_id = full_id
        self.message_type = message_type
        self._keycode = _full_activation(
            kind, secret_key, full_id, amount, allow_ids_above_65534, allow_demo_codes
        )

    @classmethod
    def add_credit(cls, id_: int, hours: int, secret_key: Key, *, allow_ids_above_65534: bool = False) -> FullMessage:
        """Adds ``hours`` (0-99,999) of credit."""
        message = _new(cls)
        message._keycode = _full_activation("ADD_CREDIT", secret_key, id_, hours, allow_ids_above_65534)
        message.full_id = id_
        message.message_type = _ADD_CREDIT
        return message

    @classmethod
    def set_credit(cls, id_: int, hours: int, secret_key: Key, *, allow_ids_above_65534: bool = False) -> FullMessage:
        """Sets the credit to ``hours`` (0-99,998; 99,999 is the UNLOCK code, as upstream)."""
        kind = "UNLOCK" if hours == 99999 else "SET_CREDIT"
        message = _new(cls)
        message._keycode = _full_activation(kind, secret_key, id_, hours, allow_ids_above_65534)
        message.full_id = id_
        message.message_type = _SET_CREDIT
        return message

    @classmethod
    def unlock(cls, id_: int, secret_key: Key, *, allow_ids_above_65534: bool = False) -> FullMessage:
        """Ends PAYG on the device for good."""
        return cls._of(id_, _SET_CREDIT, _full_activation("UNLOCK", secret_key, id_, 0, allow_ids_above_65534))

    @classmethod
    def wipe_state(
        cls,
        id_: int,
        flags: FullMessageWipeFlags,
        secret_key: Key,
        *,
        allow_ids_above_65534: bool = False,
    ) -> FullMessage:
        """Clears what ``flags`` names. ``WIPE_IDS_ALL`` is for the factory: afterwards every old
        code with an ID 0-63 works again."""
        if not isinstance(flags, FullMessageWipeFlags):
            raise InvalidArgument("flags must be a FullMessageWipeFlags", field="flags")
        code = _full_activation("WIPE_STATE", secret_key, id_, flags.value, allow_ids_above_65534)
        return cls._of(id_, FullMessageType.WIPE_STATE, code)

    @classmethod
    def demo(
        cls,
        id_: int,
        minutes: int,
        secret_key: Key,
        *,
        allow_ids_above_65534: bool = False,
        allow_demo_codes: bool = False,
    ) -> FullMessage:
        """A demo code adding ``minutes`` (0-99,999) every time it is entered (type 3; 1.5.1
        has no constructor for it). The device records no ID for it, so anyone holding one can
        re-enter it for credit: it is refused with ``UnsupportedCommand`` unless
        ``allow_demo_codes=True`` (showroom and test devices)."""
        code = _full_activation("DEMO", secret_key, id_, minutes, allow_ids_above_65534, allow_demo_codes)
        return cls._of(id_, FullMessageType.RESERVED_TYPE_ID_3, code)

    @classmethod
    def reserved(cls, id_: int, minutes: int, secret_key: Key) -> FullMessage:
        """As upstream: the reserved type has no constructor here; use :meth:`demo`."""
        raise UnsupportedCommand(
            "message_type RESERVED_TYPE_ID_3 has no reserved() constructor: use FullMessage.demo",
            field="message_type",
        )


class FactoryFullMessage(FullMessage):
    """Universal codes (the same on every device, never obscured) and passthrough codes.

    Constructed like upstream, ``FactoryFullMessage(message_type, body)``, or with the class
    methods.
    """

    __slots__ = ()

    def __init__(self, message_type: FullMessageType, body: str) -> None:  # noqa: D107
        if message_type == FullMessageType.PASSTHROUGH_COMMAND:
            if not (isinstance(body, str) and body[:1].isdigit()):
                raise InvalidArgument(
                    "body must be a passthrough body: the application ID digit, then the data",
                    field="body",
                )
            code = _native.passthrough_command(int(body[0]), body[1:])
        else:
            kinds = {
                (FullMessageType.FACTORY_ALLOW_TEST, ""): ("ALLOW_TEST", None),
                (FullMessageType.FACTORY_DISPLAY_PAYG_ID, ""): ("DISPLAY_PAYG_ID", None),
                (FullMessageType.FACTORY_OQC_TEST, ""): ("OQC_TEST_LEGACY", None),
            }
            minutes: Optional[int]
            if message_type == FullMessageType.FACTORY_OQC_TEST and len(body) == 5 and body.startswith("000"):
                kind, minutes = "OQC_TEST", int(body)
            elif (message_type, body) in kinds:
                kind, minutes = kinds[(message_type, body)]
            else:
                raise UnsupportedCommand(
                    "message_type and body must make a factory code (FACTORY_ALLOW_TEST, "
                    "FACTORY_DISPLAY_PAYG_ID or FACTORY_OQC_TEST with an empty body, or "
                    "FACTORY_OQC_TEST with 000MM)",
                    field="message_type",
                )
            code = _native.factory(kind, minutes)
        self.full_id = 0
        self.message_type = message_type
        self._keycode = code

    is_factory = True

    @classmethod
    def _factory(cls, message_type: FullMessageType, code: str) -> FactoryFullMessage:
        return cls._of(0, message_type, code)

    @classmethod
    def allow_test(cls) -> FactoryFullMessage:
        """+127 s while the device is PAYG-disabled, unlimited: ``*406 498 3#``."""
        return cls._factory(FullMessageType.FACTORY_ALLOW_TEST, _native.factory("ALLOW_TEST"))

    @classmethod
    def oqc_test(cls, num_min: int = 60) -> FactoryFullMessage:
        """The OQC test code adding ``num_min`` minutes (1-99), in the ``5 000 MM`` form firmware
        2.0.1 accepts: ``*500 060 694 509#`` for 60 minutes.

        1.5.1's ``oqc_test()`` returns the 7-digit ``*577 043 3#``, which firmware rejects; it is
        :meth:`oqc_test_legacy`.
        """
        return cls._factory(FullMessageType.FACTORY_OQC_TEST, _native.factory("OQC_TEST", num_min))

    @classmethod
    def oqc_test_legacy(cls) -> FactoryFullMessage:
        """1.5.1's OQC code ``*577 043 3#``; firmware 2.0.1 rejects it."""
        return cls._factory(FullMessageType.FACTORY_OQC_TEST, _native.factory("OQC_TEST_LEGACY"))

    @classmethod
    def display_payg_id(cls) -> FactoryFullMessage:
        """Asks the product to show its PAYG ID: ``*634 776 5#``."""
        return cls._factory(FullMessageType.FACTORY_DISPLAY_PAYG_ID, _native.factory("DISPLAY_PAYG_ID"))

    @classmethod
    def device_id_confirmation(cls, user_facing_id: int) -> FactoryFullMessage:
        """The type-7 code confirming the device's printed ID (no MAC; 1.5.1 has none)."""
        return cls._factory(FullMessageType.RESERVED_TYPE_ID_7, _native.device_id_confirmation(user_facing_id))

    @classmethod
    def passthrough_command(
        cls, application_id: Union[PassthroughApplicationId, int], passthrough_digits: str
    ) -> FactoryFullMessage:
        """``*8``, the application ID, the digits (1-28), ``#``: data for the product, not
        authenticated by the keycode layer."""
        app = application_id.value if isinstance(application_id, PassthroughApplicationId) else application_id
        return cls._factory(FullMessageType.PASSTHROUGH_COMMAND, _native.passthrough_command(app, passthrough_digits))

    @classmethod
    def passthrough_channel_origin_command(
        cls, channel_action: ChannelOriginAction, **kwargs: Any
    ) -> FactoryFullMessage:
        """A Nexus Channel origin command. The keyword arguments are upstream's:
        ``controller_command_count`` and ``controller_sym_key`` always; ``accessory_command_count``
        and ``accessory_sym_key`` for LINK_ACCESSORY_MODE_3; ``accessory_nexus_id`` (48 bits) for
        UNLINK_ACCESSORY and UNLOCK_ACCESSORY."""
        if not isinstance(channel_action, ChannelOriginAction):
            raise UnsupportedCommand(
                "channel_action must be a ChannelOriginAction", field="channel_action"
            )
        return cls._factory(FullMessageType.PASSTHROUGH_COMMAND, _origin_command(channel_action, **kwargs))

    @classmethod
    def passthrough_uart_keycode_numeric_body_and_mac(cls, secret_key: Key) -> FactoryFullMessage:
        """The UART key passthrough code (``*800`` and a 6-digit check) for the device's key."""
        return cls._factory(FullMessageType.PASSTHROUGH_COMMAND, _native.uart_key_passthrough(secret_key))


def _origin_command(
    channel_action: ChannelOriginAction,
    *,
    controller_command_count: int,
    controller_sym_key: Key,
    accessory_command_count: Optional[int] = None,
    accessory_sym_key: Optional[Key] = None,
    accessory_nexus_id: Optional[int] = None,
) -> str:
    return _native.channel_origin_command(
        channel_action.value,
        controller_sym_key,
        controller_command_count,
        accessory_sym_key,
        accessory_command_count,
        accessory_nexus_id,
    )


# --- small protocol -----------------------------------------------------------------------


@enum.unique
class SmallMessageType(enum.Enum):
    """Small-protocol message types (frame bits 6-7)."""

    ADD_CREDIT = 0
    PASSTHROUGH = 1
    SET_CREDIT = 2
    MAINTENANCE_TEST = 3


class _UnlockFlag:
    __slots__ = ()

    def __repr__(self) -> str:
        return "SmallMessage.UNLOCK_FLAG"


class SmallMessage:
    """A small-protocol keycode (keys ``1-5``); immutable. Built through its subclasses.

    ``id_`` is the message ID (0 for codes without one), ``message_type`` a
    :class:`SmallMessageType`.
    """

    __slots__ = ("id_", "message_type", "_keycode")

    #: Pass as ``days`` to unlock (SET_CREDIT, ADD_CREDIT, extended codes).
    UNLOCK_FLAG: Any = _UnlockFlag()

    id_: int
    message_type: SmallMessageType

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise UnsupportedCommand(
            "message_type: SmallMessage is built through its subclasses (AddCreditSmallMessage, "
            "SetCreditSmallMessage, ...)",
            field="message_type",
        )

    def _set(self, id_: int, message_type: SmallMessageType, keycode: str) -> None:
        self.id_ = id_
        self.message_type = message_type
        self._keycode = keycode

    def to_keycode(
        self,
        prefix: str = "1",
        separator: str = " ",
        group_len: int = 3,
        key_dict: Optional[Dict[int, str]] = None,
        obscured: bool = True,
    ) -> str:
        """The keycode to give the customer, e.g. ``135 242 422 455 244``.

        ``prefix`` and ``key_dict`` (the keys for the symbol values 0-3) show it on a keypad
        labelled differently; firmware reads the standard ``1`` and ``2345``. ``obscured=False``
        (upstream's un-obscured bits, which firmware rejects) raises :class:`UnsupportedCommand`.
        """
        if not obscured:
            raise UnsupportedCommand(
                "obscured=False would show the un-obscured bits, which no device accepts",
                field="obscured",
            )
        if prefix == "1" and separator == " " and group_len == 3 and key_dict is None:
            return self._keycode
        if not isinstance(prefix, str) or not prefix:
            raise InvalidArgument("prefix must be a non-empty str (the start key)", field="prefix")
        keys = key_dict if key_dict is not None else {0: "2", 1: "3", 2: "4", 3: "5"}
        try:
            symbols = [str(keys[value]) for value in range(4)]
        except (KeyError, TypeError, IndexError):
            raise InvalidArgument("key_dict must map each of 0, 1, 2, 3 to a key", field="key_dict") from None
        standard = self._keycode.replace(" ", "")[1:]
        return _grouped(prefix + "".join(symbols[int(s) - 2] for s in standard), separator, group_len)

    def __str__(self) -> str:
        return self._keycode

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id_={self.id_!r}, keycode={self._keycode!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._keycode == self._keycode  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self._keycode))


_UNLOCK = SmallMessage.UNLOCK_FLAG
_SMALL_ADD_CREDIT = SmallMessageType.ADD_CREDIT
_SMALL_SET_CREDIT = SmallMessageType.SET_CREDIT


def _whole_days(days: Any) -> None:
    """Upstream refuses days that are neither an int nor UNLOCK_FLAG with a ValueError."""
    if not isinstance(days, int):
        raise InvalidArgument("days must be a whole number of days or SmallMessage.UNLOCK_FLAG", field="days")


class AddCreditSmallMessage(SmallMessage):
    """Adds ``days`` (1-405; above 180 the device adds the next multiple of 3 past 180), or
    unlocks with ``SmallMessage.UNLOCK_FLAG``."""

    __slots__ = ()

    MAX_ADD_CREDIT_DAYS = 405
    COARSE_DAYS_PER_INCREMENT_ID = 3

    def __init__(self, id_: int, days: Any, secret_key: Key, *, allow_ids_above_65534: bool = False) -> None:
        if days.__class__ is not int:
            if days is _UNLOCK:
                days = None
            else:
                _whole_days(days)
        self._keycode = _small_credit(
            "ADD_CREDIT" if days is not None else "UNLOCK", secret_key, id_, days, allow_ids_above_65534
        )
        self.id_ = id_
        self.message_type = _SMALL_ADD_CREDIT


class UnlockSmallMessage(AddCreditSmallMessage):
    """Ends PAYG on the device for good (an ADD code with the unlock increment, as upstream)."""

    __slots__ = ()

    def __init__(self, id_: int, secret_key: Key, *, allow_ids_above_65534: bool = False) -> None:
        self._set(
            id_, SmallMessageType.ADD_CREDIT, _small_credit("UNLOCK", secret_key, id_, None, allow_ids_above_65534)
        )


class SetCreditSmallMessage(SmallMessage):
    """Sets the credit to ``days`` (0 locks; 1-90 exact, then rounded up by the device, up to
    960), or unlocks with ``SmallMessage.UNLOCK_FLAG``. A 1-day code at an ID whose low 6 bits
    are 63 raises :class:`IdReserved` (``PossibleMessageCollisionError``)."""

    __slots__ = ()

    def __init__(self, id_: int, days: Any, secret_key: Key, *, allow_ids_above_65534: bool = False) -> None:
        if days.__class__ is not int:
            if days is _UNLOCK:
                days = None
            else:
                _whole_days(days)
        self._keycode = _small_credit("SET_CREDIT", secret_key, id_, days, allow_ids_above_65534)
        self.id_ = id_
        self.message_type = _SMALL_SET_CREDIT


@enum.unique
class CustomCommandSmallMessageType(enum.Enum):
    """Custom commands carried as SET_CREDIT increments 240-253."""

    WIPE_RESTRICTED_FLAG = 253


class CustomCommandSmallMessage(SmallMessage):
    """A custom command; the only one defined clears the restricted flag (credit unchanged)."""

    __slots__ = ()

    def __init__(
        self, id_: int, type_: CustomCommandSmallMessageType, secret_key: Key, *, allow_ids_above_65534: bool = False
    ) -> None:
        if not isinstance(type_, CustomCommandSmallMessageType):
            raise UnsupportedCommand("type_ must be a CustomCommandSmallMessageType", field="type_")
        code = _small_credit("WIPE_RESTRICTED_FLAG", secret_key, id_, None, allow_ids_above_65534)
        self._set(id_, SmallMessageType.SET_CREDIT, code)


@enum.unique
class MaintenanceSmallMessageType(enum.Enum):
    """Maintenance codes: no message ID, replayable; factory and support use only."""

    WIPE_STATE_0 = 0  #: credit to 0
    WIPE_STATE_1 = 1  #: used-ID window, QC counter and credit
    WIPE_IDS_ALL = 2  #: used-ID window and QC counter (old codes with IDs 0-63 work again)


class MaintenanceSmallMessage(SmallMessage):
    """A maintenance code for the device with ``secret_key``."""

    __slots__ = ()

    def __init__(self, type_: MaintenanceSmallMessageType, secret_key: Key) -> None:
        if not isinstance(type_, MaintenanceSmallMessageType):
            raise UnsupportedCommand("type_ must be a MaintenanceSmallMessageType", field="type_")
        self._set(0, SmallMessageType.MAINTENANCE_TEST, _native.small_maintenance(secret_key, type_.value))


@enum.unique
class TestSmallMessageType(enum.Enum):
    """Universal small test codes."""

    SHORT_TEST = 0  #: +127 s while disabled, unlimited
    OQC_TEST = 1  #: +1 h unless unlocked, counted against the lifetime QC limit


class TestSmallMessage(SmallMessage):
    """A universal test code (the same on every device)."""

    __slots__ = ()
    __test__ = False  # not a pytest test class

    def __init__(self, type_: TestSmallMessageType) -> None:
        if not isinstance(type_, TestSmallMessageType):
            raise UnsupportedCommand("type_ must be a TestSmallMessageType", field="type_")
        self._set(0, SmallMessageType.MAINTENANCE_TEST, _native.small_test(type_.value))


def _bits26(bits: Any) -> int:
    """26 passthrough bits given as a ``bitstring.Bits``, a str of ``0``/``1`` or an int."""
    if isinstance(bits, str):
        if len(bits) != 26 or set(bits) - {"0", "1"}:
            raise InvalidArgument("bits must be 26 binary digits", field="bits")
        return int(bits, 2)
    if isinstance(bits, int):
        return bits
    if hasattr(bits, "uint") and hasattr(bits, "__len__"):
        if len(bits) != 26:
            raise OutOfRange(
                f"bits has {len(bits)} bits: a passthrough carries exactly 26",
                field="bits",
                found=len(bits),
                min=26,
                max=26,
            )
        return int(bits.uint)
    raise InvalidArgument("bits must be 26 bits (bitstring.Bits, a str of 0/1, or an int)", field="bits")


class PassthroughSmallMessage(SmallMessage):
    """26 raw bits for the product (no MAC at this layer). Firmware 2.0.1 only reads extended
    codes (bit 25 set)."""

    __slots__ = ()

    PASSTHROUGH_BITS_FIXED_LENGTH = 26

    def __init__(self, bits: Any) -> None:
        self._set(0, SmallMessageType.PASSTHROUGH, _native.small_passthrough(_bits26(bits)))


class ExtendedSmallMessageType(enum.Enum):
    """Extended small message types: (type ID, bits of the message ID carried)."""

    SET_CREDIT_WIPE_RESTRICTED_FLAG = (0, 2)


class ExtendedSmallMessage(PassthroughSmallMessage):
    """SET_CREDIT plus clearing the restricted flag, carried in a passthrough frame.

    Only 2 bits of the ID travel, so an ID whose 12-bit authentication another ID in the
    device's window shares is refused with :class:`IdCollision` naming ``next_valid_id``
    (upstream's ``ExtendedSmallMessageIdInvalidError``); :meth:`next_valid_id` finds it up front.
    These codes are the weakest of the protocol family (about 1 in 256 guesses succeeds).
    """

    __slots__ = ()

    def __init__(
        self,
        type_: ExtendedSmallMessageType,
        *,
        id_: Optional[int] = None,
        days: Any = None,
        secret_key: Optional[Key] = None,
        allow_ids_above_65534: bool = False,
    ) -> None:
        if not isinstance(type_, ExtendedSmallMessageType):
            raise UnsupportedCommand("type_ must be an ExtendedSmallMessageType", field="type_")
        for name, value in (("id_", id_), ("days", days), ("secret_key", secret_key)):
            if value is None:
                raise InvalidArgument(f"{name} is required (id_, days and secret_key)", field=name)
        if days is SmallMessage.UNLOCK_FLAG:
            days = None
        else:
            _whole_days(days)
        code = _small_credit(
            "EXTENDED_SET_CREDIT_WIPE_RESTRICTED_FLAG",
            secret_key,  # type: ignore[arg-type]
            id_,  # type: ignore[arg-type]
            days,
            allow_ids_above_65534,
        )
        self._set(id_, SmallMessageType.PASSTHROUGH, code)  # type: ignore[arg-type]

    @property
    def final_message_id(self) -> int:
        """The message ID the code carries (upstream's name)."""
        return self.id_

    @staticmethod
    def next_valid_id(id_: int, days: Any, secret_key: Key, *, allow_ids_above_65534: bool = False) -> int:
        """The first ID at or after ``id_`` an extended code for ``days`` can use."""
        if days is SmallMessage.UNLOCK_FLAG:
            days = None
        else:
            _whole_days(days)
        return _native.next_extended_id(secret_key, id_, days, allow_ids_above_65534)
