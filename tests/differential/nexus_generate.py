#!/usr/bin/env python3
"""Differential test: Nexus keycode generation, paylock against the reference `nexus-keycode` 1.5.1.

Builds random messages from a seed across the message types of both protocols and Channel origin
commands, computes each keycode with the reference package, sends every request through ONE
`paylock batch` process and compares the keycode (display form and keys) byte for byte. Inputs the
reference refuses (a SET_CREDIT of 1 day at an ID ending in 63, extended small codes whose ID
collides, a 13-digit passthrough body, out-of-range hours and days) must come back as `ok:false`
with the matching kind, and for collisions the `next_valid_id` the reference names, except at
ID 4294967295, where the reference names 2^32 and paylock answers `counter_exhausted` (its IDs
are u32 and never wrap). Every run also checks fixed cases at the last IDs of 16 and 32 bits.
DEMO codes are compared with `"allow_demo_codes":true`; one in ten DEMO requests leaves it out
and must be refused with `unsupported_command` (paylock decision 7).

    python3 tests/differential/nexus_generate.py --paylock target/release/paylock [--cases N] [--seed S]

Exit code 0 when everything matches, 1 otherwise. The last line is `N passed, M failed`.
"""

import argparse
import json
import random
import re
import sys
import time

from common import run_batch, to_line

REFERENCE_VERSION = "1.5.1"
MAX_SHOWN_MISMATCHES = 20
MAX_ISSUED_ID = 65_534


def import_reference():
    """Imports `nexus_keycode`, refusing any version other than the one paylock is checked against."""
    hint = f"python3 -m venv .venv && .venv/bin/pip install nexus-keycode=={REFERENCE_VERSION} 'bitstring<5'"
    try:
        import bitstring
        import nexus_keycode  # noqa: F401
    except ImportError:
        sys.exit(f"the reference package is missing: {hint}")
    from importlib.metadata import version

    found = version("nexus-keycode")
    if found != REFERENCE_VERSION:
        sys.exit(f"nexus-keycode {found} is installed; these checks need {hint}")
    if int(version("bitstring").split(".")[0]) >= 5:
        sys.exit(f"bitstring {version('bitstring')} breaks nexus-keycode 1.5.1: {hint}")
    return bitstring


bitstring = import_reference()
from nexus_keycode.protocols import full as rfull  # noqa: E402
from nexus_keycode.protocols import small as rsmall  # noqa: E402
from nexus_keycode.protocols.channel_origin_commands import ChannelOriginAction  # noqa: E402


class Case:
    """One message: the paylock request, and the reference call that makes its keycode."""

    __slots__ = ("protocol", "request", "reference")

    def __init__(self, protocol, request, reference):
        self.protocol = protocol  # "full" or "small": the speed comparison splits on it
        self.request = request
        self.reference = reference


def request(protocol, message_type, params, key=None, message_id=None, **top):
    r = {"scheme": "nexus", "op": "generate", "protocol": protocol, "message_type": message_type}
    if key is not None:
        r["secret_key_hex"] = key.hex()
    if message_id is not None:
        r["message_id"] = message_id
        if message_id > MAX_ISSUED_ID:
            r["allow_ids_above_65534"] = True
    r.update(top)
    r["params"] = params
    return r


# --- random inputs -------------------------------------------------------------------------


def random_key(rng):
    if rng.random() < 0.03:
        return rng.choice([b"\x00" * 16, b"\xff" * 16])
    return rng.randbytes(16)


def random_id(rng, high_ok=True):
    """Mostly small IDs, some up to 65534, the 6-bit edges, and now and then one above 65534."""
    pick = rng.random()
    if pick < 0.05:
        return rng.choice([0, 1, 62, 63, 64, 65, 127, 128, 65_533, MAX_ISSUED_ID])
    if pick < 0.06 and high_ok:  # paylock needs allow_ids_above_65534 there
        return rng.choice([65_535, 65_536, rng.randint(65_535, 2**32 - 1), 2**32 - 1])
    if pick < 0.70:
        return rng.randint(0, 200)
    if pick < 0.85:
        return rng.randint(0, 4_000)
    return rng.randint(0, MAX_ISSUED_ID)


def random_body(rng, top):
    """Hours or minutes in 0..top: biased to small values and the edges."""
    pick = rng.random()
    if pick < 0.08:
        return rng.choice([0, 1, top - 1, top])
    if pick < 0.50:
        return rng.randint(0, 200)
    return rng.randint(0, top)


def random_days(rng, low, top, edges):
    pick = rng.random()
    if pick < 0.15:
        return rng.choice(edges)
    if pick < 0.55:
        return rng.randint(low, min(top, 180))
    return rng.randint(low, top)


def random_count(rng):
    return rng.choice([rng.randint(0, 100), rng.randint(0, 2**32 - 1)])


# --- full protocol -------------------------------------------------------------------------


def full_activation(rng):
    key, mid = random_key(rng), random_id(rng)
    kind = rng.choice(["ADD_CREDIT"] * 5 + ["SET_CREDIT"] * 3 + ["UNLOCK", "WIPE_STATE", "WIPE_STATE", "DEMO"])
    if kind == "ADD_CREDIT":
        hours = 100_000 if rng.random() < 0.01 else random_body(rng, 99_999)  # 100000: refused
        ref = lambda: rfull.FullMessage.add_credit(mid, hours, key).to_keycode()  # noqa: E731
        return request("full", kind, {"hours": hours}, key, mid), ref
    if kind == "SET_CREDIT":
        hours = random_body(rng, 99_998)
        ref = lambda: rfull.FullMessage.set_credit(mid, hours, key).to_keycode()  # noqa: E731
        return request("full", kind, {"hours": hours}, key, mid), ref
    if kind == "UNLOCK":
        ref = lambda: rfull.FullMessage.unlock(mid, key).to_keycode()  # noqa: E731
        return request("full", kind, {}, key, mid), ref
    if kind == "WIPE_STATE":
        flags = rng.choice(list(rfull.FullMessageWipeFlags))
        params = rng.choice([{"flags": flags.name}, {"target": flags.value}, {"flags": flags.name, "target": flags.value}])
        ref = lambda: rfull.FullMessage.wipe_state(mid, flags, key).to_keycode()  # noqa: E731
        return request("full", kind, params, key, mid), ref
    minutes = random_body(rng, 99_999)
    demo = rfull.FullMessageType.RESERVED_TYPE_ID_3  # 1.5.1 has no constructor: the base class
    ref = lambda: rfull.FullMessage(mid, demo, f"{minutes:05d}", key).to_keycode()  # noqa: E731
    if rng.random() < 0.1:  # paylock decision 7: refused unless the request opts in
        return request("full", "DEMO", {"minutes": minutes}, key, mid), demo_not_requested
    return request("full", "DEMO", {"minutes": minutes}, key, mid, allow_demo_codes=True), ref


class DemoNotRequested(Exception):
    """The expected answer is `unsupported_command`."""


def demo_not_requested():
    """A DEMO request without `allow_demo_codes`: the device adds a demo code's minutes on every
    entry, so paylock issues one only on request (decision 7); nexus-keycode always issues it."""
    raise DemoNotRequested


class MasterOqcTest(rfull.FactoryFullMessage):
    """The OQC code of upstream master (`oqc_test(num_min)`, nexus-python PR #19, never released):
    1.5.1's factory message with the body `000MM` and the minutes under the MAC. 1.5.1 itself only
    sets the MAC's body value for an empty body."""

    def __init__(self, minutes):
        self.body_int = minutes
        super().__init__(rfull.FullMessageType.FACTORY_OQC_TEST, f"{minutes:05d}")


def full_factory(rng):
    """Universal codes. OQC (paylock decision 1): paylock's FACTORY_OQC_TEST is the `5 000 MM` form
    firmware 2.0.1 accepts (compared with `MasterOqcTest`); 1.5.1's own `oqc_test()` is paylock's
    FACTORY_OQC_TEST_LEGACY."""
    factory = rfull.FactoryFullMessage
    kind = rng.choice(["FACTORY_ALLOW_TEST", "FACTORY_DISPLAY_PAYG_ID", "FACTORY_OQC_TEST_LEGACY", "FACTORY_OQC_TEST"])
    if kind == "FACTORY_OQC_TEST":
        minutes = rng.randint(1, 99)
        return request("full", kind, {"minutes": minutes}), lambda: MasterOqcTest(minutes).to_keycode()
    build = {"FACTORY_ALLOW_TEST": factory.allow_test, "FACTORY_DISPLAY_PAYG_ID": factory.display_payg_id,
             "FACTORY_OQC_TEST_LEGACY": factory.oqc_test}[kind]
    return request("full", kind, {}), lambda: build().to_keycode()


def full_passthrough(rng):
    if rng.random() < 0.5:
        key = random_key(rng)
        ref = lambda: rfull.FactoryFullMessage.passthrough_uart_keycode_numeric_body_and_mac(key).to_keycode()  # noqa: E731
        return request("full", "PASSTHROUGH_UART_KEY", {"application_id": 0}, key), ref
    app = rng.choice(list(rfull.PassthroughApplicationId))
    length = 12 if rng.random() < 0.05 else rng.randint(1, 28)  # 12 digits: refused
    digits = "".join(rng.choice("0123456789") for _ in range(length))
    params = {"application_id": app.value, "passthrough_digits": digits}
    ref = lambda: rfull.FactoryFullMessage.passthrough_command(app, digits).to_keycode()  # noqa: E731
    return request("full", "PASSTHROUGH_COMMAND", params), ref


def channel_origin(rng):
    controller, count = random_key(rng), random_count(rng)
    build = rfull.FactoryFullMessage.passthrough_channel_origin_command
    params = {"controller_command_count": count}
    top = {"controller_key_hex": controller.hex()}
    pick = rng.random()
    if pick < 0.5:
        accessory, accessory_count = random_key(rng), rng.choice([rng.randint(0, 100), rng.randint(0, 2**32 - 1)])
        params["accessory_command_count"] = accessory_count
        top["accessory_key_hex"] = accessory.hex()
        ref = lambda: build(  # noqa: E731
            ChannelOriginAction.LINK_ACCESSORY_MODE_3, controller_command_count=count,
            accessory_command_count=accessory_count, accessory_sym_key=accessory, controller_sym_key=controller,
        ).to_keycode()
        kind = "CHANNEL_ORIGIN_LINK_ACCESSORY_MODE_3"
    elif pick < 0.8:
        ref = lambda: build(  # noqa: E731
            ChannelOriginAction.UNLINK_ALL_ACCESSORIES, controller_command_count=count, controller_sym_key=controller,
        ).to_keycode()
        kind = "CHANNEL_ORIGIN_UNLINK_ALL_ACCESSORIES"
    else:
        nexus_id = rng.randint(0, 2**48 - 1)
        params["accessory_nexus_id"] = f"{nexus_id:012x}"
        ref = lambda: build(  # noqa: E731
            ChannelOriginAction.UNLINK_ACCESSORY, accessory_nexus_id=nexus_id, controller_command_count=count,
            controller_sym_key=controller,
        ).to_keycode()
        kind = "CHANNEL_ORIGIN_UNLINK_ACCESSORY"
    return request("full/channel_origin", kind, params, **top), ref


# --- small protocol ------------------------------------------------------------------------

ADD_EDGES = [0, 1, 2, 179, 180, 181, 182, 183, 404, 405, 406]  # 0 and 406: refused
SET_EDGES = [0, 1, 2, 89, 90, 91, 92, 179, 180, 181, 359, 360, 361, 719, 720, 721, 959, 960, 961]  # 961: refused
ALT_KEYS = [("*", {0: "1", 1: "2", 2: "3", 3: "4"}), ("A", {0: "a", 1: "b", 2: "c", 3: "d"})]


def small_days(rng):
    """SET days (or UNLOCK), and the reference's value for them."""
    if rng.random() < 0.05:
        return "UNLOCK", rsmall.SmallMessage.UNLOCK_FLAG
    days = random_days(rng, 0, 960, SET_EDGES)
    return days, days


def small_credit(rng):
    key, mid = random_key(rng), random_id(rng)
    kind = rng.choice(["ADD_CREDIT"] * 5 + ["SET_CREDIT"] * 4 + ["UNLOCK", "SET_CREDIT_LOCK", "SET_CREDIT_UNLOCK", "CUSTOM_WIPE_RESTRICTED_FLAG"])
    if kind == "ADD_CREDIT":
        days = random_days(rng, 1, 405, ADD_EDGES)
        message = lambda: rsmall.AddCreditSmallMessage(mid, days, key)  # noqa: E731
        params = {"days": days}
    elif kind == "UNLOCK":
        message, params = (lambda: rsmall.UnlockSmallMessage(mid, key)), {}
    elif kind == "SET_CREDIT":
        if rng.random() < 0.03:  # 1 day at an ID ending in 63: refused
            mid = (mid & ~0x3F) | 63
            days = ref_days = 1
        else:
            days, ref_days = small_days(rng)
        message = lambda: rsmall.SetCreditSmallMessage(mid, ref_days, key)  # noqa: E731
        params = {"days": days}
    elif kind == "SET_CREDIT_LOCK":
        message, params = (lambda: rsmall.SetCreditSmallMessage(mid, 0, key)), {"days": 0}
    elif kind == "SET_CREDIT_UNLOCK":
        message = lambda: rsmall.SetCreditSmallMessage(mid, rsmall.SmallMessage.UNLOCK_FLAG, key)  # noqa: E731
        params = {"days": "UNLOCK"}
    else:
        wipe = rsmall.CustomCommandSmallMessageType.WIPE_RESTRICTED_FLAG
        message, params = (lambda: rsmall.CustomCommandSmallMessage(mid, wipe, key)), {"increment_id": 253}
    if rng.random() < 0.03:
        prefix, key_dict = rng.choice(ALT_KEYS)
        params.update(prefix=prefix, key_dict={str(k): v for k, v in key_dict.items()})
        return request("small", kind, params, key, mid), lambda: message().to_keycode(prefix=prefix, key_dict=key_dict)
    return request("small", kind, params, key, mid), lambda: message().to_keycode()


EXTENDED = rsmall.ExtendedSmallMessageType.SET_CREDIT_WIPE_RESTRICTED_FLAG
BELOW, ABOVE = 23, 40  # the device's window around an ID


def colliding_ids(key, ref_days, first, count):
    """IDs in first..first+count whose auth another ID in their window (with the same 2 sent bits)
    shares: the IDs the reference refuses. Found with the reference's own auth function."""
    last = first + count + ABOVE
    bodies = [rsmall.ExtendedSmallMessage.generate_set_credit_wipe_restricted_flag_body(r, ref_days) for r in range(4)]
    low = max(0, first - BELOW)
    auths = {i: rsmall.ExtendedSmallMessage._compute_auth(i, EXTENDED, bodies[i & 3], key) for i in range(low, last + 1)}
    return [
        i for i in range(first, first + count)
        if any(auths[j] == auths[i] for j in range(max(0, i - BELOW), min(i + ABOVE, 65_535) + 1, 1) if j != i and (i - j) % 4 == 0)
    ]


EXTENDED_MAX_COMPARABLE_ID = 65_535 - 40


def valid_set_days(ref_days):
    """False for the out-of-range days some cases send on purpose (a refusal to compare)."""
    try:
        rsmall.SetCreditSmallMessage.generate_body(ref_days)
    except ValueError:
        return False
    return True


def small_extended(rng):
    """Extended SET_CREDIT + wipe restricted flag. An ID is refused when another of the ~15 IDs in
    its window with the same 2 sent bits has the same 12-bit auth (about 1 in 270); the reference
    names the next valid ID and paylock must refuse with the same `next_valid_id`. So that
    collisions are common enough to test, 2 % of these cases hunt for one (a scan of 2,000 IDs
    with the reference's auth function). Only IDs up to 65495: from there on paylock's search
    also covers the IDs above 65535 that 1.5.1 skips (a device with u32 IDs accepts them), so it
    may refuse, naming the next valid ID, where 1.5.1 issues a code that could apply twice."""
    key = random_key(rng)
    days, ref_days = small_days(rng)
    mid = min(random_id(rng, high_ok=False), EXTENDED_MAX_COMPARABLE_ID)
    if rng.random() < 0.02 and valid_set_days(ref_days):
        first = rng.randint(0, EXTENDED_MAX_COMPARABLE_ID - 2_040)
        found = colliding_ids(key, ref_days, first, 2_000)
        mid = rng.choice(found) if found else mid
    ref = lambda: rsmall.ExtendedSmallMessage(EXTENDED, id_=mid, days=ref_days, secret_key=key).to_keycode()  # noqa: E731
    return request("small", "EXTENDED_SET_CREDIT_WIPE_RESTRICTED_FLAG", {"days": days}, key, mid), ref


def small_other(rng):
    pick = rng.random()
    if pick < 0.4:
        key, function = random_key(rng), rng.choice(list(rsmall.MaintenanceSmallMessageType))
        ref = lambda: rsmall.MaintenanceSmallMessage(function, key).to_keycode()  # noqa: E731
        return request("small", f"MAINTENANCE_{function.name}", {"function": function.value}, key), ref
    if pick < 0.55:
        function = rng.choice(list(rsmall.TestSmallMessageType))
        ref = lambda: rsmall.TestSmallMessage(function).to_keycode()  # noqa: E731
        return request("small", f"TEST_{function.name}", {"function": function.value}), ref
    bits = "".join(rng.choice("01") for _ in range(26))
    ref = lambda: rsmall.PassthroughSmallMessage(bitstring.Bits(bin=bits)).to_keycode()  # noqa: E731
    return request("small", "PASSTHROUGH", {"bits26": bits}), ref


# (builder, protocol, weight)
BUILDERS = [
    (full_activation, "full", 38),
    (full_factory, "full", 3),
    (full_passthrough, "full", 5),
    (channel_origin, "full", 4),
    (small_credit, "small", 34),
    (small_extended, "small", 10),
    (small_other, "small", 6),
]


def build_cases(rng, count):
    weights = [b[2] for b in BUILDERS]
    cases = []
    for _ in range(count):
        builder, protocol, _ = rng.choices(BUILDERS, weights)[0]
        r, ref = builder(rng)
        cases.append(Case(protocol, r, ref))
    return cases


def edge_cases():
    """Cases every run has: the last IDs of 16 and 32 bits, where an ID could wrap."""
    key = bytes(range(16))
    cases = []
    for mid in [63, 65_471, 65_599, 2**32 - 65, 2**32 - 1]:  # low 6 bits 63: SET of 1 day refused
        for days in [1, 2]:
            message = lambda mid=mid, days=days: rsmall.SetCreditSmallMessage(mid, days, key)  # noqa: E731
            r = request("small", "SET_CREDIT", {"days": days}, key, mid)
            cases.append(Case("small", r, lambda message=message: message().to_keycode()))
    for mid in [65_534, 65_535, 65_536, 2**32 - 2, 2**32 - 1]:
        add = lambda mid=mid: rsmall.AddCreditSmallMessage(mid, 7, key).to_keycode()  # noqa: E731
        cases.append(Case("small", request("small", "ADD_CREDIT", {"days": 7}, key, mid), add))
        unlock = lambda mid=mid: rfull.FullMessage.unlock(mid, key).to_keycode()  # noqa: E731
        cases.append(Case("full", request("full", "UNLOCK", {}, key, mid), unlock))
    return cases


def expected_of(case):
    """The answer paylock must give, from the reference: the keycode, or the refusal it stands for."""
    try:
        keycode = case.reference()
    except DemoNotRequested:
        return {"ok": False, "kind": "unsupported_command"}
    except rsmall.ExtendedSmallMessageIdInvalidError as e:
        return {"ok": False, "kind": "id_collision", "next_valid_id": int(re.search(r"next valid ID is (\d+)", str(e))[1])}
    except rsmall.PossibleMessageCollisionError:
        next_id = case.request["message_id"] + 1
        if next_id > 2**32 - 1:
            # The reference names 2^32, an ID no u32 device holds: paylock's ID space is
            # exhausted there (it never wraps to ID 0, which the device has used).
            return {"ok": False, "kind": "counter_exhausted"}
        return {"ok": False, "kind": "id_reserved", "next_valid_id": next_id}
    except (ValueError, AssertionError) as e:
        kind = "invalid_length" if "13 total digits" in str(e) else "out_of_range"
        return {"ok": False, "kind": kind}
    return {"ok": True, "keycode": keycode, "keycode_keys": keycode.replace(" ", "")}


def compare(expected, answer):
    """None if paylock's answer matches, else what differs."""
    if expected["ok"]:
        got = {k: answer.get(k) for k in ("ok", "keycode", "keycode_keys")}
        return None if got == expected else "keycode differs"
    error = answer.get("error") or {}
    if answer.get("ok") is not False or error.get("kind") != expected["kind"]:
        return f"expected a refusal of kind {expected['kind']}"
    if error.get("next_valid_id") != expected.get("next_valid_id"):
        return "next_valid_id differs"
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--paylock", default="target/release/paylock", help="the paylock binary")
    parser.add_argument("--cases", type=int, default=10_000, help="random messages")
    parser.add_argument("--seed", type=int, default=None, help="replay a run (default: random)")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    print(f"seed {seed}  (replay: --seed {seed} --cases {args.cases})")
    cases = build_cases(random.Random(seed), args.cases) + edge_cases()

    start = time.perf_counter()
    expected = [expected_of(c) for c in cases]
    print(f"reference nexus-keycode {REFERENCE_VERSION}: {time.perf_counter() - start:.2f} s for {len(cases)} messages")
    lines = [to_line(c.request) for c in cases]
    answers, seconds = run_batch(args.paylock, lines)
    print(f"paylock batch: {seconds:.3f} s for {len(answers)} lines in one process")

    failed = 0
    by_type = {}
    for case, line, want, answer_line in zip(cases, lines, expected, answers):
        kind = f"{case.request['protocol']} {case.request['message_type']}" + ("" if want["ok"] else f" -> {want['kind']}")
        by_type[kind] = by_type.get(kind, 0) + 1
        problem = compare(want, json.loads(answer_line))
        if problem is None:
            continue
        failed += 1
        if failed <= MAX_SHOWN_MISMATCHES:
            print(f"MISMATCH ({problem})")
            print(f"  request:   {line}")
            print(f"  reference: {json.dumps(want)}")
            print(f"  paylock:   {answer_line}")
    if failed > MAX_SHOWN_MISMATCHES:
        print(f"... {failed - MAX_SHOWN_MISMATCHES} more mismatches not shown")
    print("messages by type:")
    for kind in sorted(by_type):
        print(f"  {by_type[kind]:6d}  {kind}")
    print(f"{len(cases) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
