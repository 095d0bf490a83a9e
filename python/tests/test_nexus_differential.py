"""paylock.nexus against the reference ``nexus-keycode`` 1.5.1: the same facade code, run on both.

Each random case is one function of a module namespace: it runs once on the reference's classes
and once on paylock's, and the keycodes must be identical, or both must refuse (paylock with the
typed error that stands for the reference's exception). The differences ``docs/nexus.md``
decided are asserted at the end.
"""

from __future__ import annotations

import re
import types
from importlib.metadata import version

import bitstring
import pytest
from nexus_keycode.protocols import channel_origin_commands as rchannel
from nexus_keycode.protocols import full as rfull
from nexus_keycode.protocols import small as rsmall

import paylock
from paylock import nexus

CASES = 5_000
MAX_ISSUED_ID = 65534
REF = types.SimpleNamespace(**{**vars(rfull), **vars(rsmall), **vars(rchannel)})


def test_reference_versions():
    assert version("nexus-keycode") == "1.5.1"
    assert int(version("bitstring").split(".")[0]) < 5


class MasterOqcTest(rfull.FactoryFullMessage):
    """Upstream master's ``oqc_test(num_min)`` (nexus-python PR #19, never released): 1.5.1's
    factory message with the body ``000MM`` and the minutes under the MAC."""

    def __init__(self, minutes):
        self.body_int = minutes
        super().__init__(rfull.FullMessageType.FACTORY_OQC_TEST, f"{minutes:05d}")


# --- random cases: each is `build(ns, high)`, `high` the keywords paylock needs for big IDs ---


def random_key(rng):
    return rng.choice([b"\x00" * 16, b"\xff" * 16]) if rng.random() < 0.03 else rng.randbytes(16)


def random_id(rng, high_ok=True):
    pick = rng.random()
    if pick < 0.05:
        return rng.choice([0, 1, 62, 63, 64, 65, 127, 128, 65_533, MAX_ISSUED_ID])
    if pick < 0.06 and high_ok:
        return rng.choice([65_535, 65_536, rng.randint(65_535, 2**32 - 1), 2**32 - 1])
    if pick < 0.70:
        return rng.randint(0, 200)
    if pick < 0.85:
        return rng.randint(0, 4_000)
    return rng.randint(0, MAX_ISSUED_ID)


def random_body(rng, top):
    pick = rng.random()
    if pick < 0.08:
        return rng.choice([0, 1, top - 1, top])
    return rng.randint(0, 200) if pick < 0.5 else rng.randint(0, top)


def high_ids(mid):
    return {"allow_ids_above_65534": True} if mid > MAX_ISSUED_ID else {}


def full_activation(rng):
    key, mid = random_key(rng), random_id(rng)
    kind = rng.choice(["ADD"] * 5 + ["SET"] * 3 + ["UNLOCK", "WIPE", "WIPE", "DEMO", "GENERIC"])
    if kind == "ADD":
        hours = 100_000 if rng.random() < 0.01 else random_body(rng, 99_999)
        return lambda ns, x: ns.FullMessage.add_credit(mid, hours, key, **x).to_keycode()
    if kind == "SET":
        hours = random_body(rng, 99_999)  # 99999 is the unlock code on both sides
        return lambda ns, x: ns.FullMessage.set_credit(mid, hours, key, **x).to_keycode()
    if kind == "UNLOCK":
        return lambda ns, x: ns.FullMessage.unlock(mid, key, **x).to_keycode()
    if kind == "WIPE":
        name = rng.choice(list(rfull.FullMessageWipeFlags)).name
        return lambda ns, x: ns.FullMessage.wipe_state(mid, ns.FullMessageWipeFlags[name], key, **x).to_keycode()
    # DEMO (type 3) and ADD through upstream's generic constructor; paylock issues demo codes
    # only on request (decision 7)
    kind_name = "RESERVED_TYPE_ID_3" if kind == "DEMO" else rng.choice(["ADD_CREDIT", "SET_CREDIT"])
    body = f"{random_body(rng, 99_999):05d}"
    demo = {"allow_demo_codes": True} if kind == "DEMO" else {}
    return lambda ns, x: ns.FullMessage(
        mid, ns.FullMessageType[kind_name], body, key, **x, **({} if ns is REF else demo)
    ).to_keycode()


def full_factory(rng):
    pick = rng.choice(["ALLOW", "DISPLAY", "OQC_LEGACY", "OQC"])
    if pick == "ALLOW":
        return lambda ns, x: ns.FactoryFullMessage.allow_test().to_keycode()
    if pick == "DISPLAY":
        return lambda ns, x: ns.FactoryFullMessage.display_payg_id().to_keycode()
    if pick == "OQC_LEGACY":  # 1.5.1's oqc_test() is paylock's named legacy form
        return lambda ns, x: (
            ns.FactoryFullMessage.oqc_test() if ns is REF else ns.FactoryFullMessage.oqc_test_legacy()
        ).to_keycode()
    minutes = rng.randint(1, 99)  # the 5 000 MM form (paylock decision 1)
    return lambda ns, x: (MasterOqcTest(minutes) if ns is REF else ns.FactoryFullMessage.oqc_test(minutes)).to_keycode()


def full_passthrough(rng):
    if rng.random() < 0.5:
        key = random_key(rng)
        return lambda ns, x: ns.FactoryFullMessage.passthrough_uart_keycode_numeric_body_and_mac(key).to_keycode()
    app = rng.choice(list(rfull.PassthroughApplicationId)).name
    length = 12 if rng.random() < 0.05 else rng.randint(1, 28)  # 12 digits: refused
    digits = "".join(rng.choice("0123456789") for _ in range(length))
    return lambda ns, x: ns.FactoryFullMessage.passthrough_command(
        ns.PassthroughApplicationId[app], digits
    ).to_keycode()


def channel_origin(rng):
    controller = random_key(rng)
    kwargs = {
        "controller_command_count": rng.choice([rng.randint(0, 100), rng.randint(0, 2**32 - 1)]),
        "controller_sym_key": controller,
    }
    pick = rng.random()
    if pick < 0.5:
        action = "LINK_ACCESSORY_MODE_3"
        kwargs.update(
            accessory_command_count=rng.choice([rng.randint(0, 100), rng.randint(0, 2**32 - 1)]),
            accessory_sym_key=random_key(rng),
        )
    elif pick < 0.8:
        action = "UNLINK_ALL_ACCESSORIES"
    else:
        action = "UNLINK_ACCESSORY"
        kwargs["accessory_nexus_id"] = rng.randint(0, 2**48 - 1)
    return lambda ns, x: ns.FactoryFullMessage.passthrough_channel_origin_command(
        ns.ChannelOriginAction[action], **kwargs
    ).to_keycode()


ADD_EDGES = [0, 1, 2, 179, 180, 181, 182, 183, 404, 405, 406]  # 0 and 406: refused
SET_EDGES = [0, 1, 2, 89, 90, 91, 92, 179, 180, 181, 359, 360, 361, 719, 720, 721, 959, 960, 961]  # 961: refused
ALT_KEYS = [
    ("*", {0: "1", 1: "2", 2: "3", 3: "4"}),
    ("A", {0: "a", 1: "b", 2: "c", 3: "d"}),
    ("##", {0: "w", 1: "x", 2: "yy", 3: "z"}),
]


def random_days(rng, low, top, edges):
    pick = rng.random()
    if pick < 0.15:
        return rng.choice(edges)
    return rng.randint(low, min(top, 180)) if pick < 0.55 else rng.randint(low, top)


def small_credit(rng):
    key, mid = random_key(rng), random_id(rng)
    kind = rng.choice(["ADD"] * 5 + ["SET"] * 4 + ["UNLOCK", "ADD_UNLOCK", "SET_UNLOCK", "CUSTOM"])
    if kind == "ADD":
        days = random_days(rng, 1, 405, ADD_EDGES)
        make = lambda ns, x: ns.AddCreditSmallMessage(mid, days, key, **x)  # noqa: E731
    elif kind == "SET":
        if rng.random() < 0.03:  # 1 day at an ID ending in 63: refused
            mid = (mid & ~0x3F) | 63
            days = 1
        else:
            days = random_days(rng, 0, 960, SET_EDGES)
        make = lambda ns, x: ns.SetCreditSmallMessage(mid, days, key, **x)  # noqa: E731
    elif kind == "UNLOCK":
        make = lambda ns, x: ns.UnlockSmallMessage(mid, key, **x)  # noqa: E731
    elif kind == "ADD_UNLOCK":
        make = lambda ns, x: ns.AddCreditSmallMessage(mid, ns.SmallMessage.UNLOCK_FLAG, key, **x)  # noqa: E731
    elif kind == "SET_UNLOCK":
        make = lambda ns, x: ns.SetCreditSmallMessage(mid, ns.SmallMessage.UNLOCK_FLAG, key, **x)  # noqa: E731
    else:
        make = lambda ns, x: ns.CustomCommandSmallMessage(  # noqa: E731
            mid, ns.CustomCommandSmallMessageType.WIPE_RESTRICTED_FLAG, key, **x
        )
    if rng.random() < 0.05:
        prefix, key_dict = rng.choice(ALT_KEYS)
        group = rng.choice([3, 4, 5])
        build = lambda ns, x: make(ns, x).to_keycode(prefix=prefix, separator="-", group_len=group, key_dict=key_dict)  # noqa: E731
    else:
        build = lambda ns, x: make(ns, x).to_keycode()  # noqa: E731
    build.message_id = mid  # the refusal of an ID ending in 63 depends on it
    return build


EXTENDED_MAX_COMPARABLE_ID = 65_535 - 40
BELOW, ABOVE = 23, 40


def colliding_ids(key, days, first, count):
    """IDs in first..first+count that the reference refuses (another ID in the window with the
    same 2 sent bits has the same auth), found with the reference's own auth function."""
    ext = rsmall.ExtendedSmallMessageType.SET_CREDIT_WIPE_RESTRICTED_FLAG
    bodies = [rsmall.ExtendedSmallMessage.generate_set_credit_wipe_restricted_flag_body(r, days) for r in range(4)]
    low = max(0, first - BELOW)
    auths = {
        i: rsmall.ExtendedSmallMessage._compute_auth(i, ext, bodies[i & 3], key)
        for i in range(low, first + count + ABOVE + 1)
    }
    return [
        i
        for i in range(first, first + count)
        if any(
            auths[j] == auths[i]
            for j in range(max(0, i - BELOW), min(i + ABOVE, 65_535) + 1)
            if j != i and (i - j) % 4 == 0
        )
    ]


def small_extended(rng):
    """IDs up to 65495: above, paylock's collision search also covers the IDs past 65535 that
    1.5.1 skips (a device with 32-bit IDs accepts them), so it may refuse where 1.5.1 issues."""
    key = random_key(rng)
    unlock = rng.random() < 0.05
    days = None if unlock else random_days(rng, 0, 960, SET_EDGES)
    mid = min(random_id(rng, high_ok=False), EXTENDED_MAX_COMPARABLE_ID)
    if rng.random() < 0.03 and days is not None and days <= 960:
        first = rng.randint(0, EXTENDED_MAX_COMPARABLE_ID - 2_040)
        found = colliding_ids(key, days, first, 2_000)
        mid = rng.choice(found) if found else mid
    return lambda ns, x: ns.ExtendedSmallMessage(
        ns.ExtendedSmallMessageType.SET_CREDIT_WIPE_RESTRICTED_FLAG,
        id_=mid,
        days=ns.SmallMessage.UNLOCK_FLAG if unlock else days,
        secret_key=key,
    ).to_keycode()


def small_other(rng):
    pick = rng.random()
    if pick < 0.4:
        key, name = random_key(rng), rng.choice(list(rsmall.MaintenanceSmallMessageType)).name
        return lambda ns, x: ns.MaintenanceSmallMessage(ns.MaintenanceSmallMessageType[name], key).to_keycode()
    if pick < 0.55:
        name = rng.choice(list(rsmall.TestSmallMessageType)).name
        return lambda ns, x: ns.TestSmallMessage(ns.TestSmallMessageType[name]).to_keycode()
    bits = bitstring.Bits(bin="".join(rng.choice("01") for _ in range(26)))
    return lambda ns, x: ns.PassthroughSmallMessage(bits).to_keycode()


BUILDERS = [
    (full_activation, 36),
    (full_factory, 3),
    (full_passthrough, 5),
    (channel_origin, 4),
    (small_credit, 36),
    (small_extended, 10),
    (small_other, 6),
]


def expected_error(error, build):
    """The paylock exception class (and next valid ID) that stands for a reference refusal."""
    if isinstance(error, rsmall.ExtendedSmallMessageIdInvalidError):
        return paylock.IdCollision, int(re.search(r"next valid ID is (\d+)", str(error))[1])
    if isinstance(error, rsmall.PossibleMessageCollisionError):
        # the reference's advice is the next ID; after 2^32 - 1 there is none (decision 8)
        next_id = build.message_id + 1
        return (paylock.CounterExhausted, None) if next_id >= 2**32 else (paylock.IdReserved, next_id)
    if "13 total digits" in str(error):
        return paylock.InvalidArgument, None
    if isinstance(error, (ValueError, AssertionError)):
        return paylock.OutOfRange, None
    raise error


def test_facade_matches_the_reference(rng):
    builders, weights = zip(*BUILDERS)
    failures, kinds = [], {}
    for _ in range(CASES):
        builder = rng.choices(builders, weights)[0]
        build = builder(rng)
        kinds[builder.__name__] = kinds.get(builder.__name__, 0) + 1
        try:
            expected, ref_error = build(REF, {}), None
        except Exception as e:  # noqa: BLE001 - the reference's refusals are compared below
            expected, ref_error = None, e
        # the IDs paylock refuses by default (firmware 2.0.1 replays them) are allowed here
        try:
            got = build(nexus, {"allow_ids_above_65534": True})
        except paylock.Error as e:
            got = e
        if ref_error is None:
            if got != expected:
                failures.append((builder.__name__, expected, got))
            continue
        cls, next_id = expected_error(ref_error, build)
        if not isinstance(got, cls) or (next_id is not None and got.next_valid_id != next_id):
            failures.append((builder.__name__, repr(ref_error), repr(got)))
    assert not failures, failures[:5]
    print("cases by builder:", kinds)


# --- the documented differences -------------------------------------------------------------

KEY = b"\xde\xad\xbe\xef" * 4


def test_difference_oqc_uses_the_firmware_form():
    # paylock decision 1: 1.5.1's oqc_test() is the 7-digit form firmware 2.0.1 rejects
    assert rfull.FactoryFullMessage.oqc_test().to_keycode() == "*577 043 3#"
    assert nexus.FactoryFullMessage.oqc_test().to_keycode() == "*500 060 694 509#"
    assert nexus.FactoryFullMessage.oqc_test_legacy().to_keycode() == "*577 043 3#"


def test_difference_ids_above_65534_need_a_flag():
    # paylock decision 3: nexus-embedded 2.0.1 lets codes with such IDs be replayed
    expected = rfull.FullMessage.add_credit(70_000, 5, KEY).to_keycode()
    with pytest.raises(paylock.OutOfRange) as caught:
        nexus.FullMessage.add_credit(70_000, 5, KEY)
    assert (caught.value.field, caught.value.found, caught.value.max) == ("id_", 70_000, MAX_ISSUED_ID)
    assert nexus.FullMessage.add_credit(70_000, 5, KEY, allow_ids_above_65534=True).to_keycode() == expected
    with pytest.raises(paylock.OutOfRange):
        nexus.AddCreditSmallMessage(65_535, 5, KEY)


def test_difference_demo_codes_need_a_flag():
    # paylock decision 7: the device adds a demo code's minutes every time it is entered
    reference = rfull.FullMessage(5, rfull.FullMessageType.RESERVED_TYPE_ID_3, "00030", KEY).to_keycode()
    for build in (
        lambda **x: nexus.FullMessage.demo(5, 30, KEY, **x),
        lambda **x: nexus.FullMessage(5, nexus.FullMessageType.RESERVED_TYPE_ID_3, "00030", KEY, **x),
    ):
        with pytest.raises(paylock.UnsupportedCommand) as caught:
            build()
        assert caught.value.field == "message_type" and "allow_demo_codes=True" in str(caught.value)
        assert build(allow_demo_codes=True).to_keycode() == reference


def test_difference_the_last_id_is_counter_exhausted():
    # paylock decision 8: the reference's next ID after 2^32 - 1 is 2^32, which no device holds
    with pytest.raises(rsmall.PossibleMessageCollisionError):
        rsmall.SetCreditSmallMessage(2**32 - 1, 1, KEY).to_keycode()
    with pytest.raises(paylock.CounterExhausted) as caught:
        nexus.SetCreditSmallMessage(2**32 - 1, 1, KEY, allow_ids_above_65534=True)
    assert (caught.value.field, caught.value.found) == ("id_", 2**32 - 1)
    assert isinstance(caught.value, paylock.OutOfRange) and isinstance(caught.value, ValueError)
    with pytest.raises(paylock.IdReserved) as caught:
        nexus.SetCreditSmallMessage(2**32 - 65, 1, KEY, allow_ids_above_65534=True)
    assert caught.value.next_valid_id == 2**32 - 64


def test_difference_no_unobscured_keycode():
    # paylock decision 2: upstream's str() of a full message is the un-obscured form
    ref = rfull.FullMessage.add_credit(42, 168, KEY)
    mine = nexus.FullMessage.add_credit(42, 168, KEY)
    assert str(ref) != ref.to_keycode()
    assert str(mine) == mine.to_keycode() == ref.to_keycode()
    for message in (mine, nexus.AddCreditSmallMessage(42, 7, KEY)):
        with pytest.raises(paylock.UnsupportedCommand) as caught:
            message.to_keycode(obscured=False)
        assert caught.value.field == "obscured"


def test_difference_keys_are_16_bytes():
    # upstream silently uses the first 16 bytes of a longer key (a hex text passed as bytes...)
    long_key = b"deadbeefdeadbeefdeadbeefdeadbeef"
    assert rfull.FullMessage.add_credit(1, 1, long_key).to_keycode()
    with pytest.raises(paylock.InvalidKey) as caught:
        nexus.FullMessage.add_credit(1, 1, long_key)
    assert caught.value.field == "secret_key"
    # a hex str is read as the 16 bytes it spells
    assert nexus.FullMessage.add_credit(42, 168, KEY.hex()).to_keycode() == "*599 791 493 194 43#"


def test_difference_out_of_range_hours_are_typed():
    # upstream: AssertionError in to_keycode() for 100000 hours, bitstring's error for -1
    for hours in (100_000, -1):
        with pytest.raises(paylock.OutOfRange) as caught:
            nexus.FullMessage.add_credit(1, hours, KEY)
        assert caught.value.field == "hours"


def test_extended_collision_names_the_next_id_like_upstream():
    ext = rsmall.ExtendedSmallMessageType.SET_CREDIT_WIPE_RESTRICTED_FLAG
    with pytest.raises(rsmall.ExtendedSmallMessageIdInvalidError, match="next valid ID is 51"):
        rsmall.ExtendedSmallMessage(ext, id_=50, days=84, secret_key=KEY)
    with pytest.raises(nexus.ExtendedSmallMessageIdInvalidError) as caught:
        nexus.ExtendedSmallMessage(
            nexus.ExtendedSmallMessageType.SET_CREDIT_WIPE_RESTRICTED_FLAG, id_=50, days=84, secret_key=KEY
        )
    assert caught.value.next_valid_id == 51 == nexus.ExtendedSmallMessage.next_valid_id(50, 84, KEY)
    message = nexus.ExtendedSmallMessage(
        nexus.ExtendedSmallMessageType.SET_CREDIT_WIPE_RESTRICTED_FLAG, id_=51, days=84, secret_key=KEY
    )
    assert message.final_message_id == 51
    assert message.to_keycode() == rsmall.ExtendedSmallMessage(ext, id_=51, days=84, secret_key=KEY).to_keycode()


def test_device_accepts_what_the_facade_issues():
    device = nexus.Device(KEY, "small")
    entry = device.enter(nexus.AddCreditSmallMessage(42, 7, KEY).to_keycode())
    assert (entry.response, entry.platform_calls, entry.message_id) == ("VALID_APPLIED", ["add:604800"], 42)
    assert device.enter(nexus.AddCreditSmallMessage(42, 7, KEY).to_keycode()).response == "VALID_DUPLICATE"
    assert device.credit_seconds == 7 * 86400 and device.payg_state == "ENABLED"
    full = nexus.Device(KEY, "full", user_facing_id=123456789)
    keycode = nexus.FullMessage.add_credit(3, 2, KEY).to_keycode().replace(" ", "")
    outcomes = [full.press_key(k, now=i) for i, k in enumerate(keycode)]
    assert outcomes[:-1] == [None] * (len(keycode) - 1)
    assert outcomes[-1].response == "VALID_APPLIED"
    assert (
        full.enter(nexus.FactoryFullMessage.device_id_confirmation(123456789).to_keycode()).response == "VALID_APPLIED"
    )
