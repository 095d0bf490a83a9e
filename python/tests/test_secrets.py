"""No refusal repeats a secret: a key and a starting code are put into every argument of every
entry point (and every field of the batch requests), and no exception text (str, repr, args, the
chained exceptions) nor anything printed contains them, in hex, decimal or raw form. A successful
answer may hand a value back only where that is its job (the state it returns, a code that
carries a number in clear), listed per entry point."""

from __future__ import annotations

import json

import pytest

import paylock
from paylock import access, device, nexus, openpaygo

KEY = "a29ab82edc5fbbc41ec9530f6dac86b1"
NKEY = b"\xde\xad\xbe\xef" * 4
BATCH = "2b7e151628aed2a6abf7158809cf4f3c"
TOKEN = "662486790"

#: The planted secrets: a key and a starting code no baseline call uses.
SECRET = "5f3c9a1e7b2d4c6081a9e3f5b7d9c1e3"
CODE = 918273645
PLANTED = [
    SECRET,
    SECRET.upper(),
    SECRET.encode(),
    bytes.fromhex(SECRET),
    int(SECRET, 16),
    str(int(SECRET, 16)),
    CODE,
    str(CODE),
    f"{CODE:x}",
    [SECRET],
    {"k": SECRET},
]
FORMS = [SECRET, SECRET.upper(), str(int(SECRET, 16)), repr(bytes.fromhex(SECRET))[2:-1], str(CODE), f"{CODE:x}"]


def leaks(text):
    return [form for form in FORMS if form in text]


def exception_texts(error):
    """What logging an exception can print: its str, repr and args, and those of its chain."""
    texts, seen = [], set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        texts += [str(error), repr(error), repr(error.args), " ".join(getattr(error, "__notes__", []))]
        error = error.__cause__ or error.__context__
    return "\n".join(texts)


def outcome(call):
    """(printed text of the result or the exception, whether the call succeeded)."""
    try:
        result = call()
    except (paylock.Error, TypeError, ValueError, OverflowError) as error:
        return exception_texts(error), False
    return repr(result) + str(result) + _attributes(result), True


def _attributes(result):
    """The fields of a result object (a Token, a Verdict, a State, a Device row)."""
    names = [n for n in dir(result) if not n.startswith("_")]
    values = []
    for name in names:
        try:
            value = getattr(result, name)
        except Exception:  # noqa: BLE001 - a property may refuse; it prints nothing then
            continue
        if not callable(value):
            values.append(repr(value))
    return " ".join(values)


def state():
    return access.State()


def secret():
    return access.Secret.derive(BATCH, suite=0, profile="L", device_id=123456789)


OPG_DEVICE = {"key": KEY, "starting_code": 123456789, "restricted_digit_set": False, "extended_token": False}

#: (name, function, baseline keyword arguments, arguments a successful call may hand back).
ENTRY_POINTS = [
    ("generate_token", openpaygo.generate_token,
     dict(secret_key=KEY, count=0, value=1, token_type=1, starting_code=123456789, value_divider=1,
          restricted_digit_set=False, extended_token=False), ()),
    ("decode_token", openpaygo.decode_token,
     dict(token=TOKEN, secret_key=KEY, count=0, used_counts=[0], starting_code=123456789, value_divider=1,
          restricted_digit_set=False), ("count", "used_counts")),
    ("starting_code_from_key", openpaygo.starting_code_from_key, dict(secret_key=KEY), ()),
    ("token_at", openpaygo.token_at,
     dict(secret_key=KEY, starting_code=123456789, count=1, value=1, restricted_digit_set=False,
          extended_token=False), ()),
    ("FullMessage.add_credit", nexus.FullMessage.add_credit, dict(id_=42, hours=168, secret_key=NKEY), ("id_",)),
    ("FullMessage.set_credit", nexus.FullMessage.set_credit, dict(id_=42, hours=168, secret_key=NKEY), ("id_",)),
    ("FullMessage.unlock", nexus.FullMessage.unlock, dict(id_=42, secret_key=NKEY), ("id_",)),
    ("FullMessage.wipe_state", nexus.FullMessage.wipe_state,
     dict(id_=42, flags=nexus.FullMessageWipeFlags.TARGET_FLAGS_0, secret_key=NKEY), ("id_",)),
    ("FullMessage.demo", nexus.FullMessage.demo, dict(id_=42, minutes=10, secret_key=NKEY, allow_demo_codes=True), ("id_",)),
    ("FullMessage", nexus.FullMessage,
     dict(full_id=42, message_type=nexus.FullMessageType.ADD_CREDIT, body="00168", secret_key=NKEY), ("full_id",)),
    ("FactoryFullMessage", nexus.FactoryFullMessage,
     dict(message_type=nexus.FullMessageType.FACTORY_OQC_TEST, body="00010"), ()),
    ("FactoryFullMessage.oqc_test", nexus.FactoryFullMessage.oqc_test, dict(num_min=10), ()),
    ("FactoryFullMessage.device_id_confirmation", nexus.FactoryFullMessage.device_id_confirmation,
     dict(user_facing_id=12345), ("user_facing_id",)),
    ("FactoryFullMessage.passthrough_command", nexus.FactoryFullMessage.passthrough_command,
     dict(application_id=0, passthrough_digits="1234"), ("passthrough_digits",)),
    ("FactoryFullMessage.passthrough_channel_origin_command",
     nexus.FactoryFullMessage.passthrough_channel_origin_command,
     dict(channel_action=nexus.ChannelOriginAction.LINK_ACCESSORY_MODE_3, controller_command_count=1,
          controller_sym_key=NKEY, accessory_command_count=1, accessory_sym_key=NKEY), ()),
    ("FactoryFullMessage.passthrough_uart_keycode_numeric_body_and_mac",
     nexus.FactoryFullMessage.passthrough_uart_keycode_numeric_body_and_mac, dict(secret_key=NKEY), ()),
    ("AddCreditSmallMessage", nexus.AddCreditSmallMessage, dict(id_=42, days=7, secret_key=NKEY), ("id_",)),
    ("UnlockSmallMessage", nexus.UnlockSmallMessage, dict(id_=42, secret_key=NKEY), ("id_",)),
    ("SetCreditSmallMessage", nexus.SetCreditSmallMessage, dict(id_=42, days=7, secret_key=NKEY), ("id_",)),
    ("CustomCommandSmallMessage", nexus.CustomCommandSmallMessage,
     dict(id_=42, type_=nexus.CustomCommandSmallMessageType.WIPE_RESTRICTED_FLAG, secret_key=NKEY), ("id_",)),
    ("MaintenanceSmallMessage", nexus.MaintenanceSmallMessage,
     dict(type_=nexus.MaintenanceSmallMessageType.WIPE_IDS_ALL, secret_key=NKEY), ()),
    ("TestSmallMessage", nexus.TestSmallMessage, dict(type_=nexus.TestSmallMessageType.OQC_TEST), ()),
    ("PassthroughSmallMessage", nexus.PassthroughSmallMessage, dict(bits="10101010101010101010101010"), ()),
    ("ExtendedSmallMessage", nexus.ExtendedSmallMessage,
     dict(type_=nexus.ExtendedSmallMessageType.SET_CREDIT_WIPE_RESTRICTED_FLAG, id_=42, days=7, secret_key=NKEY),
     ("id_",)),
    ("ExtendedSmallMessage.next_valid_id", nexus.ExtendedSmallMessage.next_valid_id,
     dict(id_=42, days=7, secret_key=NKEY), ("id_",)),
    ("FullMessage.to_keycode", nexus.FullMessage.add_credit(42, 168, NKEY).to_keycode,
     dict(prefix="*", suffix="#", separator=" ", group_len=3, obscured=None), ("prefix", "suffix", "separator")),
    ("SmallMessage.to_keycode", nexus.AddCreditSmallMessage(42, 7, NKEY).to_keycode,
     dict(prefix="1", separator=" ", group_len=3, key_dict={0: "2", 1: "3", 2: "4", 3: "5"}, obscured=True),
     ("prefix", "separator", "key_dict")),
    ("nexus.Device", nexus.Device,
     dict(secret_key=NKEY, protocol="full", user_facing_id=7, credit_seconds=0, unlocked=False, pd_index=23,
          received_flags=0, qc_short_count=0, qc_long_count=0, restricted_flag=False, qc_short_max=5,
          qc_long_max=5, rate_limited=False, extended_small_codes=True),
     ("user_facing_id", "credit_seconds", "pd_index", "received_flags")),
    ("nexus.Device.enter", nexus.Device(NKEY, "full").enter, dict(keycode="*599 791 493 194 43#", now=0), ()),
    ("nexus.Device.press_key", nexus.Device(NKEY, "full").press_key, dict(key="*", now=0), ()),
    ("access.Secret", access.Secret,
     dict(device_key="fe1f7d36faeb962c0f941cedc93646f5", suite=0, profile="L", device_id=123456789, key_rev=0,
          unit="hours"), ("device_id", "device_key")),
    ("access.Secret.derive", access.Secret.derive,
     dict(batch_key=BATCH, suite=0, profile="L", device_id=123456789, key_rev=0, unit="hours"), ("device_id",)),
    ("access.derive_key", access.derive_key, dict(batch_key=BATCH, suite=0, device_id=123456789, key_rev=0), ()),
    ("access.generate", access.generate,
     dict(secret=secret(), counter=1, token_type="ADD_CREDIT", value=72), ("counter", "value")),
    ("access.generate SET_PARAM", access.generate,
     dict(secret=secret(), counter=1, token_type="SET_PARAM", param_id=1, param_value=5), ("counter",)),
    ("access.test_code", access.test_code, dict(suite=0, profile="S", test_id=0), ()),
    ("access.State", access.State,
     dict(max_counter=0, used=0, mode="PAYG", credit=0, params={1: 5}, fails=0, lock_until=0, test_window_start=0,
          test_count=0), ("max_counter", "used", "credit", "lock_until", "test_window_start", "params")),
    ("access.verify", access.verify,
     dict(secret=secret(), state=state(), input="3359 3381 3865 7142 9876", now=0), ("now",)),
    ("device.simulate", device.simulate,
     dict(scheme="openpaygo", device=OPG_DEVICE, events=[{"at": 1, "enter": TOKEN}]), ("events",)),
    ("device.Device", device.Device, dict(scheme="openpaygo", device=OPG_DEVICE), ()),
    ("device.Device.enter", device.Device("openpaygo", OPG_DEVICE).enter,
     dict(token=TOKEN, at=1, cut_power_after_bytes=3), ("at", "cut_power_after_bytes")),
    ("device.Device.step", device.Device("openpaygo", OPG_DEVICE).step, dict(event={"at": 1, "status": True}),
     ("event",)),
]


@pytest.mark.parametrize(("name", "function", "baseline", "echoed"), ENTRY_POINTS, ids=[e[0] for e in ENTRY_POINTS])
def test_no_entry_point_repeats_a_secret_given_in_any_argument(name, function, baseline, echoed, capfd):
    text, ok = outcome(lambda: function(**baseline))
    assert ok, (name, text)
    failures = []
    for argument in baseline:
        for value in PLANTED:
            text, ok = outcome(lambda: function(**dict(baseline, **{argument: value})))
            printed = capfd.readouterr()
            text += printed.out + printed.err
            found = leaks(text)
            if found and not (ok and argument in echoed):
                failures.append(f"{name}({argument}={value!r}): {found} in {text[:300]}")
    assert not failures, "\n".join(failures)


BATCH_REQUESTS = [
    dict(scheme="openpaygo", op="generate", **OPG_DEVICE, count=0, token_type="ADD_TIME", value=1),
    dict(scheme="openpaygo", op="decode", **OPG_DEVICE, token=TOKEN, state={"max_count": 0, "used_counts_bitmask": 0}),
    dict(scheme="nexus", op="generate", protocol="small", message_type="ADD_CREDIT", secret_key_hex=NKEY.hex(),
         message_id=42, params={"days": 7}),
    dict(scheme="access", op="derive_key", suite=0, batch_key_hex=BATCH, device_id=123456789, key_rev=0),
    dict(op="simulate", scheme="openpaygo", device=OPG_DEVICE, events=[{"at": 1, "enter": TOKEN}]),
]
#: Fields a successful answer hands back: the state to store, the timeline's times.
BATCH_ECHOED = {"state", "events"}


def test_no_batch_answer_repeats_a_secret_given_in_any_field():
    requests, where = [], []
    for request in BATCH_REQUESTS:
        for field in request:
            for value in PLANTED:
                requests.append(dict(request, **{field: value}))
                where.append(field)
        requests.append(dict(request, **{SECRET: 1, "params": {SECRET: CODE}}))
        where.append("<key>")
    for many in (paylock.issue_many, paylock.verify_many):
        as_dicts = many(requests)
        as_text = many([json.dumps(r, default=repr) for r in requests]).copy()
        failures = []
        for field, answer in zip(where * 2, as_dicts + as_text):
            text = answer if isinstance(answer, str) else json.dumps(answer)
            ok = json.loads(text)["ok"]
            found = leaks(text)
            if found and not (ok and field in BATCH_ECHOED):
                failures.append(f"{field}: {found} in {text[:300]}")
        assert not failures, "\n".join(failures)
