#!/usr/bin/env python3
"""Writes the seed corpora fuzz/seeds/<target>/ from the OpenPAYGO vectors.

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


def header(v, max_count, used_counts):
    """Everything before the token; the last byte (0) picks the reference window."""
    f = form(v["restricted_digit_set"], v.get("extended_token"))
    key = bytes.fromhex(v["key"])
    return struct.pack("<B16sIIHB", f, key, v["starting_code"], max_count, used_counts, 0)


def decode_seeds(d):
    for v in d["decode"]:
        s = v["state_before"]
        yield header(v, s["count"], s["used_counts_bitmask"]) + v["token"].encode()
    for v in d["decode_extended"]:
        s = v["state_before"]
        yield header(v, s["count"], mask(s["count"], s["used_counts"])) + v["token"].encode()
    for sc in d["decode_scenarios"]:
        for step in sc["steps"]:
            s = step["recommended_state_before"]
            v = dict(sc, extended_token=False)
            yield header(v, s["max_count"], s["used_counts_bitmask"]) + step["token"].encode()


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


def write(target, seeds):
    out = FUZZ / "seeds" / target
    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():
        old.unlink()
    seeds = list(dict.fromkeys(seeds))
    stride = -(-len(seeds) // PER_TARGET)
    for seed in seeds[::stride]:
        (out / hashlib.sha1(seed).hexdigest()).write_bytes(seed)
    print(f"{target}: {len(list(out.iterdir()))} seeds")


def main():
    d = json.loads(VECTORS.read_text())
    write("openpaygo_decode", decode_seeds(d))
    write("openpaygo_roundtrip", roundtrip_seeds(d))
    write("openpaygo_digits", digits_seeds(d))


if __name__ == "__main__":
    main()
