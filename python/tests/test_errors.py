"""Every refusal: its class, its field, its attributes. Never a panic, never a nameless ValueError."""

from __future__ import annotations

import pickle

import pytest

import paylock
from paylock import access, nexus
from paylock.openpaygo import TokenType, decode_token, generate_token, token_at

KEY = "a29ab82edc5fbbc41ec9530f6dac86b1"
NKEY = b"\xde\xad\xbe\xef" * 4
OK = dict(secret_key=KEY, count=0, value=1, starting_code=123456789)


def refused(cls, field, call, **attributes):
    with pytest.raises(cls) as caught:
        call()
    error = caught.value
    assert isinstance(error, paylock.Error) and isinstance(error, ValueError)
    assert error.field == field
    assert field in str(error), str(error)
    for name, value in attributes.items():
        assert getattr(error, name) == value, (name, getattr(error, name))
    return error


def test_hierarchy():
    for cls in (
        paylock.InvalidKey,
        paylock.OutOfRange,
        paylock.MalformedToken,
        paylock.UnsupportedCommand,
        paylock.IdCollision,
        paylock.IdReserved,
        paylock.CounterExhausted,
    ):
        assert issubclass(cls, paylock.InvalidArgument)
    assert issubclass(paylock.CounterExhausted, paylock.OutOfRange)
    assert issubclass(paylock.InvalidArgument, paylock.Error) and issubclass(paylock.InvalidArgument, ValueError)
    assert issubclass(paylock.IdReserved, paylock.IdCollision)
    assert nexus.PossibleMessageCollisionError is paylock.IdReserved
    assert nexus.ExtendedSmallMessageIdInvalidError is paylock.IdCollision


def test_errors_pickle_with_their_attributes():
    error = refused(paylock.OutOfRange, "value", lambda: generate_token(**dict(OK, value=996)))
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), copy.args, copy.field, copy.found, copy.max) == (
        paylock.OutOfRange,
        error.args,
        "value",
        996,
        995,
    )


# --- openpaygo ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "cls", "field", "attributes"),
    [
        ({"secret_key": "abc"}, paylock.InvalidKey, "secret_key", {}),
        ({"secret_key": "z" * 32}, paylock.InvalidKey, "secret_key", {}),
        ({"secret_key": bytes(16)}, paylock.InvalidKey, "secret_key", {}),
        ({"value": -1}, paylock.OutOfRange, "value", {"found": -1, "min": 0, "max": 995}),
        ({"value": -0.5}, paylock.OutOfRange, "value", {"min": 0}),
        ({"value": float("nan")}, paylock.OutOfRange, "value", {}),
        ({"value": 996}, paylock.OutOfRange, "value", {"found": 996, "max": 995}),
        ({"value": 1_000_000, "extended_token": True}, paylock.OutOfRange, "value", {"max": 999_999}),
        ({"value": 10**30}, paylock.OutOfRange, "value", {}),
        ({"value": 300, "value_divider": 4}, paylock.OutOfRange, "value", {"max": 995}),
        ({"value_divider": 0}, paylock.OutOfRange, "value_divider", {"min": 1, "max": 255}),
        ({"value_divider": 256}, paylock.OutOfRange, "value_divider", {}),
        ({"starting_code": 1_000_000_000}, paylock.OutOfRange, "starting_code", {"max": 999_999_999}),
        ({"starting_code": -1}, paylock.OutOfRange, "starting_code", {"found": -1}),
        ({"count": -1}, paylock.OutOfRange, "count", {"found": -1}),
        ({"count": 2**40}, paylock.OutOfRange, "count", {}),
        ({"count": 131_071, "token_type": TokenType.SET_TIME}, paylock.CounterExhausted, "count", {"max": 131_070}),
        ({"count": 131_072}, paylock.CounterExhausted, "count", {"found": 131_072, "max": 131_071}),
        ({"count": 131_073}, paylock.OutOfRange, "count", {"max": 131_071}),
        ({"token_type": 5}, paylock.UnsupportedCommand, "token_type", {}),
        ({"token_type": TokenType.DISABLE_PAYG, "value": 5}, paylock.UnsupportedCommand, "value", {}),
        ({"value": None}, paylock.InvalidArgument, "value", {}),
    ],
)
def test_generate_refusals(change, cls, field, attributes):
    refused(cls, field, lambda: generate_token(**dict(OK, **change)), **attributes)


def test_generate_wrong_types_name_the_argument():
    for change, field in (
        ({"count": "3"}, "count"),
        ({"value": "1"}, "value"),
        ({"secret_key": 5}, "secret_key"),
        ({"starting_code": 1.5}, "starting_code"),
        ({"token_type": "ADD"}, "token_type"),
    ):
        with pytest.raises(TypeError, match=field):
            generate_token(**dict(OK, **change))


@pytest.mark.parametrize(
    ("token", "kwargs", "position"),
    [
        ("12345678", {}, None),
        ("123456789012345", {}, None),
        ("12345a789", {}, 5),
        ("1234567890a1", {}, 10),
        ("123412341234125", {"restricted_digit_set": True}, 14),
        ("", {}, None),
    ],
)
def test_decode_malformed(token, kwargs, position):
    refused(
        paylock.MalformedToken,
        "token",
        lambda: decode_token(token=token, secret_key=KEY, count=0, starting_code=1, **kwargs),
        position=position,
    )


def test_decode_other_refusals():
    refused(paylock.InvalidKey, "secret_key", lambda: decode_token(token="123456789", secret_key="00", count=0))
    refused(paylock.OutOfRange, "count", lambda: decode_token(token="123456789", secret_key=KEY, count=-2))
    refused(
        paylock.OutOfRange,
        "used_counts",
        lambda: decode_token(token="123456789", secret_key=KEY, count=0, used_counts=[2**33]),
    )
    refused(
        paylock.OutOfRange,
        "value_divider",
        lambda: decode_token(token="123456789", secret_key=KEY, count=0, value_divider=0),
    )
    with pytest.raises(TypeError, match="used_counts"):
        decode_token(token="123456789", secret_key=KEY, count=0, used_counts=["a"])
    with pytest.raises(TypeError, match="token"):
        decode_token(token=123456789, secret_key=KEY, count=0)


def test_token_at_refusals():
    refused(paylock.OutOfRange, "value", lambda: token_at(KEY, 1, 1, 1000))
    refused(paylock.OutOfRange, "count", lambda: token_at(KEY, 1, 2**17 + 1, 1))
    refused(paylock.OutOfRange, "starting_code", lambda: token_at(KEY, 10**9, 1, 1))


# --- nexus ---------------------------------------------------------------------------------


def test_nexus_refusals():
    F, S = nexus.FullMessage, nexus
    refused(paylock.InvalidKey, "secret_key", lambda: F.add_credit(1, 1, b"short"))
    refused(paylock.InvalidKey, "secret_key", lambda: F.add_credit(1, 1, "nothex" * 5))
    refused(paylock.OutOfRange, "id_", lambda: F.add_credit(65_535, 1, NKEY), found=65_535, max=65_534)
    refused(paylock.OutOfRange, "id_", lambda: F.add_credit(-1, 1, NKEY))
    refused(paylock.OutOfRange, "id_", lambda: F.add_credit(2**32, 1, NKEY, allow_ids_above_65534=True))
    refused(paylock.OutOfRange, "hours", lambda: F.add_credit(1, 100_000, NKEY), max=99_999)
    refused(paylock.OutOfRange, "hours", lambda: F.set_credit(1, 100_000, NKEY))
    refused(paylock.OutOfRange, "minutes", lambda: F.demo(1, 100_000, NKEY, allow_demo_codes=True))
    refused(paylock.UnsupportedCommand, "message_type", lambda: F.demo(1, 30, NKEY))
    refused(paylock.InvalidArgument, "flags", lambda: F.wipe_state(1, 2, NKEY))
    refused(paylock.UnsupportedCommand, "message_type", lambda: F.reserved(1, 1, NKEY))
    refused(
        paylock.UnsupportedCommand,
        "message_type",
        lambda: F(1, nexus.FullMessageType.FACTORY_ALLOW_TEST, "00000", NKEY),
    )
    refused(paylock.InvalidArgument, "body", lambda: F(1, nexus.FullMessageType.ADD_CREDIT, "12", NKEY))
    refused(paylock.OutOfRange, "num_min", lambda: nexus.FactoryFullMessage.oqc_test(0), min=1, max=99)
    refused(paylock.OutOfRange, "num_min", lambda: nexus.FactoryFullMessage.oqc_test(100))
    refused(
        paylock.UnsupportedCommand,
        "message_type",
        lambda: nexus.FactoryFullMessage(nexus.FullMessageType.FACTORY_ALLOW_TEST, "1"),
    )
    pt = nexus.FactoryFullMessage.passthrough_command
    refused(paylock.InvalidArgument, "passthrough_digits", lambda: pt(0, "0" * 12))
    refused(paylock.OutOfRange, "passthrough_digits", lambda: pt(0, "0" * 29), max=28)
    refused(paylock.OutOfRange, "passthrough_digits", lambda: pt(0, ""), min=1)
    refused(paylock.MalformedToken, "passthrough_digits", lambda: pt(0, "12a4"), position=2)
    refused(paylock.OutOfRange, "application_id", lambda: pt(10, "1"))
    origin = nexus.FactoryFullMessage.passthrough_channel_origin_command
    refused(
        paylock.UnsupportedCommand,
        "channel_action",
        lambda: origin("LINK", controller_command_count=1, controller_sym_key=NKEY),
    )
    refused(
        paylock.InvalidArgument,
        "accessory_sym_key",
        lambda: origin(
            nexus.ChannelOriginAction.LINK_ACCESSORY_MODE_3,
            controller_command_count=1,
            controller_sym_key=NKEY,
            accessory_command_count=1,
        ),
    )
    refused(
        paylock.OutOfRange,
        "accessory_nexus_id",
        lambda: origin(
            nexus.ChannelOriginAction.UNLINK_ACCESSORY,
            controller_command_count=1,
            controller_sym_key=NKEY,
            accessory_nexus_id=2**48,
        ),
    )
    refused(
        paylock.InvalidKey,
        "controller_sym_key",
        lambda: origin(
            nexus.ChannelOriginAction.UNLINK_ALL_ACCESSORIES, controller_command_count=1, controller_sym_key=b"x"
        ),
    )
    with pytest.raises(TypeError):
        origin(
            nexus.ChannelOriginAction.UNLINK_ALL_ACCESSORIES,
            controller_command_count=1,
            controller_sym_key=NKEY,
            unknown=1,
        )
    refused(paylock.OutOfRange, "days", lambda: S.AddCreditSmallMessage(1, 0, NKEY), min=1, max=405)
    refused(paylock.OutOfRange, "days", lambda: S.AddCreditSmallMessage(1, 406, NKEY))
    refused(paylock.InvalidArgument, "days", lambda: S.AddCreditSmallMessage(1, 1.5, NKEY))
    refused(paylock.OutOfRange, "days", lambda: S.SetCreditSmallMessage(1, 961, NKEY), max=960)
    refused(paylock.IdReserved, "id_", lambda: S.SetCreditSmallMessage(127, 1, NKEY), next_valid_id=128)
    refused(paylock.UnsupportedCommand, "type_", lambda: S.CustomCommandSmallMessage(1, 253, NKEY))
    refused(paylock.UnsupportedCommand, "type_", lambda: S.MaintenanceSmallMessage(2, NKEY))
    refused(paylock.UnsupportedCommand, "type_", lambda: S.TestSmallMessage(0))
    refused(paylock.OutOfRange, "bits", lambda: S.PassthroughSmallMessage(1 << 26))
    refused(paylock.InvalidArgument, "bits", lambda: S.PassthroughSmallMessage("0102"))
    refused(paylock.UnsupportedCommand, "message_type", lambda: S.SmallMessage(1, 0, 1, NKEY))
    ext = S.ExtendedSmallMessageType.SET_CREDIT_WIPE_RESTRICTED_FLAG
    refused(
        paylock.IdCollision,
        "id_",
        lambda: S.ExtendedSmallMessage(ext, id_=50, days=84, secret_key=NKEY),
        next_valid_id=51,
    )
    refused(paylock.InvalidArgument, "secret_key", lambda: S.ExtendedSmallMessage(ext, id_=50, days=84))
    refused(paylock.UnsupportedCommand, "type_", lambda: S.ExtendedSmallMessage(0, id_=1, days=1, secret_key=NKEY))
    refused(paylock.OutOfRange, "days", lambda: S.ExtendedSmallMessage(ext, id_=1, days=961, secret_key=NKEY))


def test_nexus_less_common_refusals():
    factory = nexus.FactoryFullMessage
    refused(paylock.InvalidArgument, "body", lambda: factory(nexus.FullMessageType.PASSTHROUGH_COMMAND, "x1"))
    refused(
        paylock.MalformedToken,
        "passthrough_digits",
        lambda: factory(nexus.FullMessageType.PASSTHROUGH_COMMAND, "01x"),
        position=1,
    )
    refused(
        paylock.UnsupportedCommand, "message_type", lambda: factory(nexus.FullMessageType.FACTORY_OQC_TEST, "12345")
    )
    refused(paylock.OutOfRange, "num_min", lambda: factory(nexus.FullMessageType.FACTORY_OQC_TEST, "00000"))
    refused(
        paylock.InvalidArgument,
        "accessory_command_count",
        lambda: factory.passthrough_channel_origin_command(
            nexus.ChannelOriginAction.LINK_ACCESSORY_MODE_3,
            controller_command_count=1,
            controller_sym_key=NKEY,
            accessory_sym_key=NKEY,
        ),
    )
    refused(
        paylock.InvalidArgument,
        "accessory_nexus_id",
        lambda: factory.passthrough_channel_origin_command(
            nexus.ChannelOriginAction.UNLOCK_ACCESSORY, controller_command_count=1, controller_sym_key=NKEY
        ),
    )
    refused(
        paylock.OutOfRange,
        "controller_command_count",
        lambda: factory.passthrough_channel_origin_command(
            nexus.ChannelOriginAction.UNLINK_ALL_ACCESSORIES, controller_command_count=2**32, controller_sym_key=NKEY
        ),
    )
    refused(paylock.OutOfRange, "user_facing_id", lambda: factory.device_id_confirmation(-1))
    refused(paylock.OutOfRange, "days", lambda: nexus.ExtendedSmallMessage.next_valid_id(1, 961, NKEY))
    refused(paylock.OutOfRange, "id_", lambda: nexus.ExtendedSmallMessage.next_valid_id(65_535, 5, NKEY))
    refused(paylock.OutOfRange, "bits", lambda: nexus.PassthroughSmallMessage(-1))
    with pytest.raises(TypeError, match="secret_key"):
        nexus.FullMessage.add_credit(1, 1, 1234)
    with pytest.raises(TypeError, match="hours"):
        nexus.FullMessage.add_credit(1, "1", NKEY)


def test_nexus_rendering_refusals():
    full = nexus.FullMessage.add_credit(1, 1, NKEY)
    small = nexus.AddCreditSmallMessage(1, 1, NKEY)
    refused(paylock.UnsupportedCommand, "obscured", lambda: full.to_keycode(obscured=False))
    refused(
        paylock.UnsupportedCommand, "obscured", lambda: nexus.FactoryFullMessage.allow_test().to_keycode(obscured=True)
    )
    refused(paylock.UnsupportedCommand, "obscured", lambda: small.to_keycode(obscured=False))
    refused(paylock.OutOfRange, "group_len", lambda: full.to_keycode(group_len=0))
    refused(paylock.InvalidArgument, "prefix", lambda: small.to_keycode(prefix=""))
    refused(paylock.InvalidArgument, "key_dict", lambda: small.to_keycode(key_dict={0: "a"}))
    assert full.to_keycode(obscured=True) == full.to_keycode()
    assert nexus.FactoryFullMessage.allow_test().to_keycode(obscured=False) == "*406 498 3#"


def test_nexus_device_refusals():
    refused(paylock.UnsupportedCommand, "protocol", lambda: nexus.Device(NKEY, "tiny"))
    refused(paylock.InvalidKey, "secret_key", lambda: nexus.Device(b"", "full"))
    refused(paylock.OutOfRange, "qc_short_max", lambda: nexus.Device(NKEY, "full", qc_short_max=16))
    refused(paylock.OutOfRange, "received_flags", lambda: nexus.Device(NKEY, "full", received_flags=1 << 24))
    refused(paylock.InvalidArgument, "key", lambda: nexus.Device(NKEY, "full").press_key("12"))
    device = nexus.Device(NKEY, "full")
    assert device.enter("not a keycode").response == "INVALID"  # the device answers, never raises


# --- access --------------------------------------------------------------------------------

BATCH = "2b7e151628aed2a6abf7158809cf4f3c"


def secret(**change):
    return access.Secret.derive(**dict(dict(batch_key=BATCH, suite=0, profile="L", device_id=123456789), **change))


def test_access_refusals():
    refused(paylock.InvalidKey, "batch_key", lambda: secret(batch_key="00"))
    refused(paylock.OutOfRange, "suite", lambda: secret(suite=3))
    refused(paylock.UnsupportedCommand, "profile", lambda: secret(profile="X"))
    refused(paylock.UnsupportedCommand, "unit", lambda: secret(unit="weeks"))
    refused(paylock.OutOfRange, "device_id", lambda: secret(device_id=0xFFFFFFFF))
    refused(paylock.OutOfRange, "key_rev", lambda: secret(key_rev=256))
    refused(paylock.InvalidKey, "device_key", lambda: access.Secret("00", suite=0, profile="L", device_id=1))
    refused(paylock.OutOfRange, "device_id", lambda: access.derive_key(BATCH, suite=0, device_id=-1))
    s = secret()
    refused(paylock.OutOfRange, "counter", lambda: access.generate(s, 0, "ADD_CREDIT", 1), min=1)
    refused(paylock.OutOfRange, "value", lambda: access.generate(s, 1, "ADD_CREDIT", 1 << 16), max=65535)
    refused(paylock.InvalidArgument, "value", lambda: access.generate(s, 1, "SET_CREDIT"))
    refused(paylock.UnsupportedCommand, "value", lambda: access.generate(s, 1, "UNLOCK_PERMANENT", 5))
    refused(paylock.UnsupportedCommand, "param_id", lambda: access.generate(s, 1, "ADD_CREDIT", 1, param_id=1))
    refused(paylock.OutOfRange, "param_id", lambda: access.generate(s, 1, "SET_PARAM", param_id=16, param_value=1))
    refused(paylock.OutOfRange, "param_value", lambda: access.generate(s, 1, "SET_PARAM", param_id=1, param_value=4096))
    refused(paylock.UnsupportedCommand, "token_type", lambda: access.generate(s, 1, "KEY_CHANGE", 1))
    refused(paylock.OutOfRange, "test_id", lambda: access.test_code(suite=0, profile="S", test_id=256))
    refused(paylock.UnsupportedCommand, "mode", lambda: access.State(mode="OFF"))
    refused(paylock.OutOfRange, "fails", lambda: access.State(fails=256))
    refused(paylock.OutOfRange, "params", lambda: access.State(params={16: 1}))
    refused(paylock.OutOfRange, "used", lambda: access.State(used=2**64))
    refused(paylock.OutOfRange, "params", lambda: access.State(params={1: 2**16}))
    state = access.State()
    with pytest.raises(paylock.OutOfRange) as caught:
        state.max_counter = -1
    assert caught.value.field == "max_counter"
    with pytest.raises(TypeError, match="credit"):
        state.credit = "5"
    verdict, _ = access.verify(s, access.State(), "12ab", 0)  # malformed input is a verdict, not an error
    assert (verdict.status, verdict.reason, verdict.detail) == ("MALFORMED", "BAD_CHAR", {"position": 2, "char": "a"})


# --- batch -----------------------------------------------------------------------------------


def test_batch_refusals():
    refused(paylock.OutOfRange, "threads", lambda: paylock.issue_many([], threads=0))
    with pytest.raises(TypeError, match="requests"):
        paylock.issue_many(5)
    refused(paylock.UnsupportedCommand, "ops", lambda: paylock._batch.handle_many([], "all"))
    # A request that has no JSON form is answered with an error of its own (test_hostile_input).
    answers = paylock.issue_many(["{}", 5, {"value": float("inf")}, {"params": {1: 2}}])
    kinds = [a["error"]["kind"] if isinstance(a, dict) else a for a in answers]
    assert kinds == [
        '{"ok":false,"error":{"kind":"missing_field","message":"field \\"scheme\\" is required","field":"scheme"}}',
        "invalid_request",
        "out_of_range",
        "wrong_type",
    ]
    assert answers[2]["error"]["message"] == 'field "value" is NaN or infinite: JSON has no such number'
    assert answers[3]["error"]["message"] == 'field "params" has a key that is not a str'


# --- no input makes the extension panic ---------------------------------------------------


def test_random_garbage_never_panics(rng):
    junk = [
        None,
        -1,
        0,
        1,
        2**31,
        2**64,
        -(2**70),
        1.5,
        float("nan"),
        "",
        "x",
        "1" * 40,
        b"",
        b"\x00" * 16,
        [],
        {},
        object(),
        True,
    ]
    calls = [
        lambda a, b: generate_token(secret_key=a, count=b, value=a, starting_code=b),
        lambda a, b: decode_token(token=a, secret_key=KEY, count=b, used_counts=a),
        lambda a, b: nexus.FullMessage.add_credit(a, b, NKEY),
        lambda a, b: nexus.SetCreditSmallMessage(a, b, NKEY),
        lambda a, b: nexus.FactoryFullMessage.passthrough_command(a, b),
        lambda a, b: nexus.Device(a, b),
        lambda a, b: access.generate(secret(), a, "ADD_CREDIT", b),
        lambda a, b: access.State(max_counter=a, used=b),
        lambda a, b: paylock.issue_many([a, b]),
    ]
    for _ in range(3_000):
        call, a, b = rng.choice(calls), rng.choice(junk), rng.choice(junk)
        try:
            call(a, b)
        except (paylock.Error, TypeError):
            pass
        except ValueError as e:  # only the batch's JSON conversion: it names the request
            assert "requests[" in str(e), repr(e)
