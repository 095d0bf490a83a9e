#!/usr/bin/env python3
"""Writes the seed corpora fuzz/seeds/<target>/ from the OpenPAYGO, Nexus and AST v1 vectors.

Run from anywhere: python3 fuzz/seeds.py. Each target's folder is emptied and rewritten; a seed
is named by the SHA-1 of its bytes, as libFuzzer names corpus files. The byte layouts mirror the
`Input` structs of the targets (fields in order, integers little-endian).
"""

import hashlib
import json
import struct
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
VECTORS = FUZZ.parent / "test-vectors" / "openpaygo" / "openpaygo_generated_vectors.json"
NEXUS_VECTORS = FUZZ.parent / "test-vectors" / "nexus" / "nexus_keycode_vectors.json"
ACCESS = FUZZ.parent / "test-vectors" / "access"
MESSAGES = {"ADD_TIME": 0, "SET_TIME": 1, "DISABLE_PAYG": 2, "COUNTER_SYNC": 3}
# Seeds kept per target, spread evenly over the vectors: enough to start every branch.
PER_TARGET = 64


def form(restricted, extended):
    """The targets' form selector: standard, standard restricted, extended, extended restricted."""
    return 2 * bool(extended) + bool(restricted)


def mask(max_count, used):
    """The C bitmask of a Python used-count list: bit i <=> count max_count - 1 - i is used."""
    bits = (max_count - 1 - c for c in used if c < max_count)
    return sum(1 << i for i in bits if 0 <= i < 16)


SYNC_REPLAYS = 0x80  # form bit 7: the decoder takes a sync again, as the vectors' model does


def sync_replay(model, max_count):
    """Whether the vectors' model takes a counter sync at or below the count again."""
    return model["status"] == "VALID" and model.get("meaning") == "COUNTER_SYNC" and model["count"] <= max_count


def header(v, max_count, used_counts, replays=False):
    """Everything before the token; the last byte (0) picks the reference window."""
    f = form(v["restricted_digit_set"], v.get("extended_token")) | SYNC_REPLAYS * replays
    key = bytes.fromhex(v["key"])
    return struct.pack("<B16sIIHB", f, key, v["starting_code"], max_count, used_counts, 0)


def decode_seeds(d):
    for v in d["decode"]:
        s = v["state_before"]
        replays = sync_replay(v["recommended_model"], s["count"])
        yield header(v, s["count"], s["used_counts_bitmask"], replays) + v["token"].encode()
    for v in d["decode_extended"]:
        s = v["state_before"]
        yield header(v, s["count"], mask(s["count"], s["used_counts"])) + v["token"].encode()
    for sc in d["decode_scenarios"]:
        for step in sc["steps"]:
            s = step["recommended_state_before"]
            v = dict(sc, extended_token=False)
            replays = sync_replay(step["recommended_model"], s["max_count"])
            yield header(v, s["max_count"], s["used_counts_bitmask"], replays) + step["token"].encode()


def roundtrip_seeds(d):
    for v in d["encode"]:
        f = form(v["restricted_digit_set"], v["extended_token"])
        key = bytes.fromhex(v["key"])
        value = v["value_raw"] or 0
        kind = MESSAGES[v["token_type"]]
        code = v["starting_code_effective"]
        # Every older count used: the device has seen all the issuer's tokens.
        yield struct.pack("<B16sIIHBI", f, key, code, v["count"], 0xFFFF, kind, value)


def digits_seeds(d):
    tokens = {v["expected_token"] for v in d["encode"]}
    tokens |= {v["token"] for v in d["decode"] + d["decode_extended"]}
    tokens |= {r["digits"] for r in d["lowlevel"]["restricted_digits"]}
    # A few per length are enough: the target tries every width on both keypads.
    by_len = {}
    for t in sorted(tokens):
        by_len.setdefault(len(t), []).append(t)
    for same in by_len.values():
        yield from (t.encode() for t in same[:8])
    yield from (b"", b"12a45", b"3242441344411235")


# Nexus. Keypads as the parse targets read them: a key is `byte % len(keypad)`, and
# `byte // len(keypad) % 16 == 14` pauses 17 s before it (past the entry timeout: whole codes
# are split there).
KEYPADS = {"full": "0123456789*#", "small": "12345"}
PAUSE = 14
ZERO_KEY = "00" * 16
USER_FACING_ID = 123456789
# Parse flags: 1 unlocked, 2 passthrough accepted, 4 rate limiting off, 16 whole codes.
UNLOCKED, PASSTHROUGH_OK, NO_RATE_LIMIT, WHOLE = 1, 2, 4, 16
# Round-trip selectors (`message % 13` full, `% 10` small) and how the value is read.
FULL_MESSAGES = {
    "ADD_CREDIT": (0, lambda p: p["hours"]),
    "SET_CREDIT": (1, lambda p: p["hours"]),
    "UNLOCK": (2, lambda p: 0),
    "WIPE_STATE": (3, lambda p: p["target"]),
    "DEMO": (4, lambda p: p["minutes"]),
    "FACTORY_ALLOW_TEST": (5, lambda p: 0),
    "FACTORY_OQC_TEST": (6, lambda p: p["minutes"]),
    "FACTORY_OQC_TEST_LEGACY": (7, lambda p: 0),
    "FACTORY_DISPLAY_PAYG_ID": (8, lambda p: 0),
    "PASSTHROUGH_UART_KEY": (11, lambda p: 0),
}
UNLOCK_BIT = 1 << 31
SMALL_MESSAGES = {
    "ADD_CREDIT": (0, lambda p: p["days"]),
    "SET_CREDIT": (1, lambda p: p["days"]),
    "SET_CREDIT_LOCK": (1, lambda p: 0),
    "SET_CREDIT_UNLOCK": (1, lambda p: UNLOCK_BIT),
    "UNLOCK": (2, lambda p: 0),
    "CUSTOM_WIPE_RESTRICTED_FLAG": (3, lambda p: 0),
    "MAINTENANCE_WIPE_STATE_0": (4, lambda p: 0),
    "MAINTENANCE_WIPE_STATE_1": (4, lambda p: 1),
    "MAINTENANCE_WIPE_IDS_ALL": (4, lambda p: 2),
    "TEST_SHORT_TEST": (5, lambda p: 0),
    "TEST_OQC_TEST": (6, lambda p: 0),
    "EXTENDED_SET_CREDIT_WIPE_RESTRICTED_FLAG": (
        7,
        lambda p: UNLOCK_BIT if p["days"] == "UNLOCK" else p["days"],
    ),
    "PASSTHROUGH": (8, lambda p: int(p["bits26"], 2)),
}
# Inputs that once failed, kept as they were found (hex).
REGRESSIONS = {
    # An extended code at ID 65519 with Pd 65535 applied again under ID 65559: the default
    # issuer checks collisions only up to 65535 (fuzz/README.md, findings).
    "nexus_roundtrip": [
        "0affffffffffc9ffffffb3b3b3b3b3b3ffff000000ffffff2f2f2f2f2f2f2f2f"
        "2f3b2f2f2f2f2f2f2f2f020000000000ff",
    ],
}


def nexus_keys(protocol, codes):
    """Parse-target bytes for `codes`, each after a pause that ends the one before."""
    pad = KEYPADS[protocol]
    out = bytearray()
    for i, code in enumerate(codes):
        for j, k in enumerate(code):
            pause = PAUSE if i > 0 and j == 0 else 0
            out.append(pause * len(pad) + pad.index(k))
    return bytes(out)


def nexus_state(st, restricted=False, grace=6):
    """pd_index, received, QC counters, restricted flag, grace: the persisted state."""
    received = int(st.get("received_flags", "0"), 16)
    qc = (st.get("qc_short_count", 0), st.get("qc_long_count", 0))
    flag = st.get("restricted_flag", restricted)
    return struct.pack("<IIBBBB", st["pd_index"], received, *qc, flag, grace)


def parse_seed(key_hex, st, flags, codes, protocol, restricted=False):
    flags |= UNLOCKED * bool(st.get("unlocked"))
    head = bytes.fromhex(key_hex or ZERO_KEY) + nexus_state(st, restricted)
    tail = struct.pack("<IIBB", st.get("credit_seconds", 0), USER_FACING_ID, flags, 0x55)
    return head + tail + nexus_keys(protocol, codes)


def nexus_parse_seeds(d, protocol):
    n = 0
    for v in d["encode_vectors"]:
        if v["protocol"] == protocol and "device_expected" in v:
            # Half whole codes, half key by key; passthrough handed on and accepted.
            flags = PASSTHROUGH_OK | WHOLE * (n % 2)
            st = v["device_expected"]["before"]
            yield parse_seed(v.get("secret_key_hex"), st, flags, [v["keycode_keys"]], protocol)
            n += 1
    for v in d["negative_decode_vectors"]:
        if v["protocol"] == protocol:
            st = v["device_expected"]["before"]
            yield parse_seed(v["device_key_hex"], st, WHOLE, [v["keycode_keys"]], protocol)
    for sc in d["scenarios"]:
        if sc["protocol"] == protocol:
            codes = [s["keycode_keys"] for s in sc["steps"] if "keycode_keys" in s]
            restricted = any(s.get("action") == "set_restricted_flag" for s in sc["steps"])
            st = sc["initial_state"]
            for flags in (NO_RATE_LIMIT | WHOLE, NO_RATE_LIMIT):
                yield parse_seed(sc["device_key_hex"], st, flags, codes, protocol, restricted)


def nexus_roundtrip_seeds(d):
    for v in d["encode_vectors"]:
        messages = {"full": FULL_MESSAGES, "small": SMALL_MESSAGES}.get(v["protocol"], {})
        if v["message_type"] not in messages or "device_expected" not in v:
            continue
        selector, value = messages[v["message_type"]]
        st = v["device_expected"]["before"]
        mid = v.get("message_id") or 0
        # Bits: 1 small, 2 unlocked, 4 passthrough accepted, 8 key by key, 16 IDs above 65534,
        # 64 demo codes issued.
        flags = (v["protocol"] == "small") | 2 * bool(st["unlocked"]) | 4 | 8 * (mid % 2)
        flags |= 16 * (mid > 65534) | 64 * (v["message_type"] == "DEMO")
        key = bytes.fromhex(v.get("secret_key_hex") or ZERO_KEY)
        received = int(st["received_flags"], 16)
        yield struct.pack(
            "<16sIIBBBBIIBBBI", key, st["pd_index"], received, mid & 63,
            st["qc_short_count"], st["qc_long_count"], st["restricted_flag"],
            st["credit_seconds"], USER_FACING_ID, flags, 0x55, selector, value(v["params"]),
        )


# AST v1. Selectors are indices into `Profile::ALL` and `Suite::ALL` (the suite codes).
PROFILES = {"L": 0, "M": 1, "S": 2}
PARAM_VALUE_BITS = {"L": 12, "M": 8, "S": 4}
BACK_WINDOW = {"L": 64, "M": 16, "S": 8}
DAYS = 0x80  # key_rev bit 7: the unit is days


def access_config(c):
    """key, suite, profile, device_id, key_rev (bit 7: days): the targets' leading fields."""
    rev = c["key_rev"] | DAYS * (c.get("unit") == "days")
    return struct.pack(
        "<16sBBIB", bytes.fromhex(c["device_key"]), c["suite"], PROFILES[c["profile"]],
        c["device_id"], rev,
    )


def access_state(st):
    """`RawState`: the persisted state field by field."""
    params = {int(k): v for k, v in st.get("params", {}).items()}
    values = [params.get(i, 0) for i in range(16)]
    mask_ = sum(1 << i for i in params)
    return struct.pack(
        "<IQBIH16HBIIB", st["max_counter"], int(st["used"], 16), st["mode"] == "UNLOCKED",
        st["credit"], mask_, *values, st["fails"], st["lock_until"], st["test_window_start"],
        st["test_count"],
    )


def access_entries():
    """(config, state before, now, input) of every decode case and sequence step."""
    d = json.loads((ACCESS / "ast_v1_decode.json").read_text())
    for c in d["cases"]:
        yield c["config"], c["state_before"], c["now"], c["input"]
    s = json.loads((ACCESS / "ast_v1_sequences.json").read_text())
    for sc in s["scenarios"]:
        st = sc["initial_state"]
        for step in sc["steps"]:
            yield sc["config"], st, step["now"], step["input"]
            st = step.get("state_after", st)


def access_parse_seeds():
    for c, _, _, text in access_entries():
        yield bytes([PROFILES[c["profile"]]]) + text.encode()
    d = json.loads((ACCESS / "ast_v1_vectors.json").read_text())
    for v in d["vectors"]:
        yield bytes([PROFILES[v["profile"]]]) + v["text"].encode()


def access_verify_seeds():
    # later, flags (0: the entered bytes as they are), offset, kind, value.
    tail = struct.pack("<HBHBH", 60, 0, 0, 0, 0)
    for c, st, now, text in access_entries():
        yield access_config(c) + access_state(st) + struct.pack("<I", now) + tail + text.encode()


def access_roundtrip_seeds():
    d = json.loads((ACCESS / "ast_v1_vectors.json").read_text())
    for v in d["vectors"]:
        # TEST codes have no device: any key and a real device id take them.
        c = dict(v, device_key=v.get("device_key_hex") or ZERO_KEY)
        if v["device_id"] == 0xFFFFFFFF:
            c["device_id"] = 1
        # The device has seen every counter before this one.
        max_counter = max(v["counter"] - 1, 0)
        st = {"max_counter": max_counter, "used": "0", "mode": "PAYG", "credit": 0,
              "fails": 0, "lock_until": 0, "test_window_start": 0, "test_count": 0}
        base = max(max_counter - BACK_WINDOW[v["profile"]], 0)
        value, param_id = v["value"], 0
        if v["type"] == 4:
            value, param_id = v["param_value"], v["param_id"]
        yield access_config(c) + access_state(st) + struct.pack(
            "<IIBIB", 1_000_000, v["counter"] - base, v["type"], value, param_id
        )


def write(target, seeds):
    out = FUZZ / "seeds" / target
    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():
        old.unlink()
    seeds = list(dict.fromkeys(seeds))
    stride = -(-len(seeds) // PER_TARGET)
    regressions = [bytes.fromhex(h) for h in REGRESSIONS.get(target, [])]
    for seed in seeds[::stride] + regressions:
        (out / hashlib.sha1(seed).hexdigest()).write_bytes(seed)
    print(f"{target}: {len(list(out.iterdir()))} seeds")


def main():
    d = json.loads(VECTORS.read_text())
    write("openpaygo_decode", decode_seeds(d))
    write("openpaygo_roundtrip", roundtrip_seeds(d))
    write("openpaygo_digits", digits_seeds(d))
    n = json.loads(NEXUS_VECTORS.read_text())
    write("nexus_full_parse", nexus_parse_seeds(n, "full"))
    write("nexus_small_parse", nexus_parse_seeds(n, "small"))
    write("nexus_roundtrip", nexus_roundtrip_seeds(n))
    write("access_parse", access_parse_seeds())
    write("access_verify", access_verify_seeds())
    write("access_roundtrip", access_roundtrip_seeds())


if __name__ == "__main__":
    main()
