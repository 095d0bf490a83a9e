#!/usr/bin/env python3
"""Differential test: OpenPAYGO token generation, paylock against the reference `openpaygo` 0.6.3.

Builds random generate requests from a seed, computes the expected (count, token) with
`openpaygo.generate_token`, sends every request through ONE `paylock batch` process and compares
the token text and the new count exactly. A set of negative requests (inputs the reference turns
into garbage tokens or exceptions) must come back as `ok:false` with a kind and a message that names
the offending field.

    python3 tests/differential/openpaygo_generate.py --paylock target/release/paylock [--cases N] [--seed S]

Exit code 0 when everything matches, 1 otherwise. The last line is `N passed, M failed`.
"""

import argparse
import json
import random
import sys
import time

from common import import_reference, run_batch, to_line

openpaygo = import_reference()
from openpaygo import TokenType  # noqa: E402
from openpaygo.token_encode import OpenPAYGOTokenEncoder  # noqa: E402
from openpaygo.token_shared import OpenPAYGOTokenShared  # noqa: E402

COUNT_CEILING = 131_072
MAX_STARTING_CODE = 999_999_999
MAX_VALUE = {False: 995, True: 999_999}  # keyed by extended_token
TYPES = ["ADD_TIME", "SET_TIME", "DISABLE_PAYG", "COUNTER_SYNC"]
# Counts at the extremes: the u16 edge and just under the count ceiling. Each costs the reference
# 0.75 s (65k) to 1.5 s (131k) of pure-Python hashing, so there are only a few.
EXTREME_COUNTS = [65_533, 65_534, 65_533, 65_534, 65_535, 131_068, 131_069, 131_070, 131_070, 131_071]
MAX_SHOWN_MISMATCHES = 20


def new_count_of(count, token_type):
    """The count the next token gets: even for ADD_TIME, odd for the other types."""
    wants_odd = token_type != "ADD_TIME"
    return count + (2 if (count % 2 == 1) == wants_odd else 1)


def random_starting_code(rng):
    """A starting code in 0..999,999,999, biased towards the edges and the base wrap."""
    pick = rng.random()
    if pick < 0.05:
        return rng.choice([1, 2, 999, 1000, 1001, 999_999, 1_000_000, 999_998_999, MAX_STARTING_CODE])
    if pick < 0.30:  # last 3 digits near 999: the standard value wraps
        return rng.randrange(0, 1_000_000) * 1000 + rng.randrange(985, 1000)
    if pick < 0.40:  # last 6 digits near 999,999: the extended value wraps
        return rng.randrange(0, 1000) * 1_000_000 + rng.randrange(999_000, 1_000_000)
    if pick < 0.402:  # zero: paylock takes it literally (the reference would derive it from the key)
        return 0
    return rng.randint(1, MAX_STARTING_CODE)


def random_value(rng, starting_code, extended):
    """A raw value in 0..max, biased towards 0, the maximum and the wrap of the base."""
    top = MAX_VALUE[extended]
    modulus = 1_000_000 if extended else 1000
    pick = rng.random()
    if pick < 0.08:
        return 0
    if pick < 0.16:
        return top
    if pick < 0.22:
        return rng.randint(max(0, top - 5), top)
    if pick < 0.35:  # just at or past the point where base + value wraps
        wrap = modulus - starting_code % modulus
        return max(0, min(top, wrap + rng.randint(-2, 2))) if wrap <= top + 2 else rng.randint(0, top)
    return rng.randint(0, top)


def random_count(rng):
    """Mostly small, some up to a few thousand."""
    if rng.random() < 0.04:
        return rng.randint(201, 4000)
    return rng.randint(0, 200)


def random_request(rng, count):
    extended = rng.random() < 0.4
    token_type = rng.choice(TYPES)
    starting_code = random_starting_code(rng)
    request = {
        "scheme": "openpaygo",
        "op": "generate",
        "key": rng.randbytes(16).hex(),
        "starting_code": starting_code,
        "count": count,
        "token_type": token_type,
        "restricted_digit_set": rng.random() < 0.5,
        "extended_token": extended,
    }
    if token_type in ("ADD_TIME", "SET_TIME"):
        request["value"] = random_value(rng, starting_code, extended)
    return request


def reference_generate(request):
    """(new_count, token) from the reference for a well-formed request."""
    token_type = getattr(TokenType, request["token_type"])
    if request["starting_code"] == 0:
        # `generate_token` treats 0 as "derive from the key"; its lower-level encoders take the
        # starting code literally, which is paylock's contract.
        key = OpenPAYGOTokenShared.load_secret_key_from_hex(request["key"])
        value = request.get("value")
        if value is None:
            value = 998 if token_type == TokenType.DISABLE_PAYG else 999
        encode = (
            OpenPAYGOTokenEncoder.generate_extended_token
            if request["extended_token"]
            else OpenPAYGOTokenEncoder.generate_standard_token
        )
        return encode(0, key, value, request["count"], token_type, request["restricted_digit_set"])
    return openpaygo.generate_token(
        secret_key=request["key"],
        count=request["count"],
        value=request.get("value"),
        token_type=token_type,
        starting_code=request["starting_code"],
        value_divider=1,
        restricted_digit_set=request["restricted_digit_set"],
        extended_token=request["extended_token"],
    )


def build_requests(rng, cases):
    """`cases` generate requests: a few at extreme counts, the rest random."""
    extremes = EXTREME_COUNTS[: max(0, min(len(EXTREME_COUNTS), cases // 1000))]
    requests = []
    for count in extremes:
        request = random_request(rng, count)
        if new_count_of(count, request["token_type"]) > COUNT_CEILING:
            # keep these cases positive; the refusal past the ceiling is a negative check
            request["token_type"] = "ADD_TIME"
            request["value"] = random_value(rng, request["starting_code"], request["extended_token"])
        requests.append(request)
    while len(requests) < cases:
        requests.append(random_request(rng, random_count(rng)))
    rng.shuffle(requests)
    return requests


# --- negative checks -------------------------------------------------------------------------

GOOD = {
    "scheme": "openpaygo",
    "op": "generate",
    "key": "a29ab82edc5fbbc41ec9530f6dac86b1",
    "starting_code": 123456789,
    "count": 10,
    "token_type": "ADD_TIME",
    "value": 5,
    "restricted_digit_set": False,
    "extended_token": False,
}


def variant(**changes):
    request = dict(GOOD)
    for name, value in changes.items():
        if value is _DROP:
            request.pop(name, None)
        else:
            request[name] = value
    return request


_DROP = object()

# (what, request object or raw line, the field the message must name; None = any message)
NEGATIVE_CHECKS = [
    ("negative value", variant(value=-1), "value"),
    ("value 996 (standard maximum is 995)", variant(value=996), "value"),
    ("value 997 (reserved)", variant(token_type="SET_TIME", value=997), "value"),
    ("value 1,000,000 (extended maximum is 999,999)", variant(extended_token=True, value=1_000_000), "value"),
    ("negative value, extended", variant(extended_token=True, value=-5), "value"),
    ("fractional value", variant(value=1.5), "value"),
    ("starting_code 1,000,000,000", variant(starting_code=1_000_000_000), "starting_code"),
    ("negative starting_code", variant(starting_code=-1), "starting_code"),
    ("key with a non-hex character", variant(key="g29ab82edc5fbbc41ec9530f6dac86b1"), "key"),
    ("15-byte key", variant(key="a29ab82edc5fbbc41ec9530f6dac86"), "key"),
    ("17-byte key", variant(key="a29ab82edc5fbbc41ec9530f6dac86b1ff"), "key"),
    ("value given for DISABLE_PAYG", variant(token_type="DISABLE_PAYG", value=5), "value"),
    ("value 0 given for DISABLE_PAYG", variant(token_type="DISABLE_PAYG", value=0), "value"),
    ("value given for COUNTER_SYNC", variant(token_type="COUNTER_SYNC", value=999), "value"),
    ("missing value for ADD_TIME", variant(value=_DROP), "value"),
    ("missing count", variant(count=_DROP), "count"),
    ("missing key", variant(key=_DROP), "key"),
    ("negative count", variant(count=-2), "count"),
    ("count past the ceiling (SET_TIME at 131,071 -> 131,073)", variant(count=131_071, token_type="SET_TIME"), "count"),
    ("unknown token_type", variant(token_type="ADD_DAYS"), "token_type"),
    ("restricted_digit_set not a boolean", variant(restricted_digit_set="yes"), "restricted_digit_set"),
    ("not JSON", "this is not json", None),
    ("JSON but not an object", "[1, 2, 3]", None),
]


def reference_behaviour(request):
    """What the reference does with a malformed request, for the log only."""
    if not isinstance(request, dict):
        return "n/a (not a request object)"
    if request.get("count", 0) > 100_000:
        return "would return a token past the count ceiling (not run: 1.5 s of hashing)"
    names = {
        "key": "secret_key",
        "count": "count",
        "value": "value",
        "starting_code": "starting_code",
        "restricted_digit_set": "restricted_digit_set",
        "extended_token": "extended_token",
    }
    arguments = {names[k]: v for k, v in request.items() if k in names}
    try:
        arguments["token_type"] = getattr(TokenType, request["token_type"])
        count, token = openpaygo.generate_token(**arguments)
        return f"returns count {count}, token {token!r}"
    except Exception as error:  # the point is to show what happens
        return f"raises {type(error).__name__}: {error}"


def check_negative(answer_line, field):
    """None if the answer is a proper refusal, else what is wrong with it."""
    try:
        answer = json.loads(answer_line)
    except json.JSONDecodeError:
        return "the answer is not JSON"
    if answer.get("ok") is not False:
        return "accepted"
    error = answer.get("error") or {}
    if not isinstance(error.get("kind"), str) or not error["kind"]:
        return "no error kind"
    if not isinstance(error.get("message"), str) or not error["message"]:
        return "no error message"
    if field is not None and field not in error["message"]:
        return f"the message does not name the field {field!r}"
    return None


# --- main ------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--paylock", default="target/release/paylock", help="the paylock binary")
    parser.add_argument("--cases", type=int, default=10_000, help="random generate requests")
    parser.add_argument("--seed", type=int, default=None, help="replay a run (default: random)")
    args = parser.parse_args()

    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    print(f"seed {seed}  (replay: --seed {seed} --cases {args.cases})")
    rng = random.Random(seed)
    requests = build_requests(rng, args.cases)

    kinds = {}
    for r in requests:
        form = ("extended" if r["extended_token"] else "standard") + (
            "/restricted" if r["restricted_digit_set"] else ""
        )
        kinds[form] = kinds.get(form, 0) + 1
    steps = sum(new_count_of(r["count"], r["token_type"]) for r in requests)
    print(
        f"{len(requests)} generate requests ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}); "
        f"max count {max(r['count'] for r in requests)}, {steps} chain steps in all"
    )

    start = time.perf_counter()
    expected = [reference_generate(r) for r in requests]
    reference_seconds = time.perf_counter() - start
    print(f"reference openpaygo {openpaygo_version()}: {reference_seconds:.2f} s "
          f"({reference_seconds / steps * 1e6:.2f} us per chain step)")

    lines = [to_line(r) for r in requests]
    negative_lines = [item if isinstance(item, str) else to_line(item) for _, item, _ in NEGATIVE_CHECKS]
    answers, paylock_seconds = run_batch(args.paylock, lines + negative_lines)
    print(f"paylock batch: {paylock_seconds:.3f} s for {len(answers)} lines in one process")

    passed = failed = 0
    for line, (count, token), answer_line in zip(lines, expected, answers):
        answer = json.loads(answer_line)
        if answer.get("ok") is True and answer.get("token") == token and answer.get("count") == count:
            passed += 1
            continue
        failed += 1
        if failed <= MAX_SHOWN_MISMATCHES:
            print("MISMATCH")
            print(f"  request:   {line}")
            print(f"  reference: {json.dumps({'ok': True, 'token': token, 'count': count})}")
            print(f"  paylock:   {answer_line}")
    generate_failed = failed
    if failed > MAX_SHOWN_MISMATCHES:
        print(f"... {failed - MAX_SHOWN_MISMATCHES} more mismatches not shown")

    print("negative checks (the reference's behaviour shown for comparison):")
    for (what, request, field), line, answer_line in zip(
        NEGATIVE_CHECKS, negative_lines, answers[len(lines):]
    ):
        problem = check_negative(answer_line, field)
        if problem is None:
            passed += 1
            kind = json.loads(answer_line)["error"]["kind"]
            print(f"  ok    {what}: {kind}; reference {reference_behaviour(request)}")
        else:
            failed += 1
            print(f"  FAIL  {what}: {problem}")
            print(f"    request: {line}")
            print(f"    paylock: {answer_line}")

    print(f"generate: {len(lines) - generate_failed} of {len(lines)} match; "
          f"negative: {len(NEGATIVE_CHECKS) - (failed - generate_failed)} of {len(NEGATIVE_CHECKS)} refused properly")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def openpaygo_version():
    from importlib.metadata import version

    return version("openpaygo")


if __name__ == "__main__":
    sys.exit(main())
