#!/usr/bin/env python3
"""paylock's Python bindings against the reference packages, call for call and in batches.

    python python/bench.py            # the figures of the README (about a minute)
    python python/bench.py --quick    # a short run (CI)

Everything is measured in this one run and compared as ratios: the machines drift by several
percent between runs, so an absolute time from another run is not comparable. Each figure is the
best of several rounds. The outputs are checked against each other on the way (exit 1 on any
difference); the targets are reported, not enforced (a loaded machine would fail them).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from importlib.metadata import version

# Run as a script, this folder comes first on sys.path, and it holds the package's sources
# without the compiled extension: measure the installed paylock.
if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

import openpaygo  # noqa: E402
from nexus_keycode.protocols import full as rfull
from nexus_keycode.protocols import small as rsmall  # noqa: E402

import paylock  # noqa: E402
from paylock import nexus  # noqa: E402
from paylock.openpaygo import decode_token, generate_token  # noqa: E402

KEY = "a29ab82edc5fbbc41ec9530f6dac86b1"
SC = 123456789
NEXUS_KEY = b"\xde\xad\xbe\xef" * 4


def per_call(fn, calls, rounds):
    """Seconds per call of ``fn()``: the best of ``rounds`` rounds of ``calls`` calls."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def once(fn, rounds):
    """Seconds of one ``fn()``, the best of ``rounds``. The result is freed after the clock
    stops: freeing 40,000 answers is the caller's work, not the call's."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
        del result
    return best


def us(seconds):
    return f"{seconds * 1e6:10.2f} µs"


class Report:
    def __init__(self):
        self.failed = False
        self.rows = []

    def check(self, what, ours, theirs):
        if ours != theirs:
            print(f"MISMATCH {what}: paylock {ours!r}, reference {theirs!r}")
            self.failed = True

    def compare(self, name, reference, ours, target=None):
        ratio = reference / ours
        verdict = "" if target is None else (f"  target ≥ {target:,}×: " + ("met" if ratio >= target else "NOT MET"))
        print(f"{name:58s} {us(reference)} {us(ours)} {ratio:10,.0f}×{verdict}")

    def scaling(self, name, one, many, threads, target=None):
        ratio = one / many
        verdict = "" if target is None else (f"  target ≥ {target}×: " + ("met" if ratio >= target else "NOT MET"))
        print(f"{name:58s} {us(one)} {us(many)} {ratio:10.2f}× on {threads} threads{verdict}")


def openpaygo_calls(report, scale, rounds):
    print(f"\n{'OpenPAYGO (per call)':58s} {'openpaygo':>13s} {'paylock':>13s} {'ratio':>11s}")
    for count, ref_calls in ((100, 60), (10, 400), (1000, 6)):
        kwargs = dict(secret_key=KEY, count=count, value=7, starting_code=SC)
        report.check(f"generate at count {count}", generate_token(**kwargs), openpaygo.generate_token(**kwargs))
        ref = per_call(lambda: openpaygo.generate_token(**kwargs), max(2, ref_calls * scale // 10), rounds)
        ours = per_call(lambda: generate_token(**kwargs), 20_000 * scale // 10 // max(1, count // 100), rounds)
        report.compare(f"generate_token, count {count}", ref, ours, target=100 if count == 100 else None)
    new_count, token = generate_token(secret_key=KEY, count=98, value=7, starting_code=SC)
    args = dict(token=token, secret_key=KEY, count=98, used_counts=[98], starting_code=SC)
    report.check("decode at count 100", decode_token(**args), openpaygo.decode_token(**args))
    ref = per_call(lambda: openpaygo.decode_token(**args), 40 * scale // 10, rounds)
    ours = per_call(lambda: decode_token(**args), 20_000 * scale // 10, rounds)
    report.compare("decode_token, valid token at count 100", ref, ours)


def nexus_calls(report, scale, rounds):
    print(f"\n{'Nexus (per call)':58s} {'nexus-keycode':>13s} {'paylock':>13s} {'ratio':>11s}")
    ref_n, ours_n = 60 * scale // 10, 50_000 * scale // 10
    cases = [
        (
            "full ADD_CREDIT: add_credit(...).to_keycode()",
            lambda: rfull.FullMessage.add_credit(42, 168, NEXUS_KEY).to_keycode(),
            lambda: nexus.FullMessage.add_credit(42, 168, NEXUS_KEY).to_keycode(),
        ),
        (
            "small ADD_CREDIT: AddCreditSmallMessage(...).to_keycode()",
            lambda: rsmall.AddCreditSmallMessage(42, 7, NEXUS_KEY).to_keycode(),
            lambda: nexus.AddCreditSmallMessage(42, 7, NEXUS_KEY).to_keycode(),
        ),
    ]
    for name, ref_fn, ours_fn in cases:
        report.check(name, ours_fn(), ref_fn())
        report.compare(name, per_call(ref_fn, ref_n, rounds), per_call(ours_fn, ours_n, rounds), target=1000)
    built = [
        (
            "full: to_keycode() of a built message",
            rfull.FullMessage.add_credit(42, 168, NEXUS_KEY),
            nexus.FullMessage.add_credit(42, 168, NEXUS_KEY),
        ),
        (
            "small: to_keycode() of a built message",
            rsmall.AddCreditSmallMessage(42, 7, NEXUS_KEY),
            nexus.AddCreditSmallMessage(42, 7, NEXUS_KEY),
        ),
    ]
    for name, ref_message, our_message in built:
        report.check(name, our_message.to_keycode(), ref_message.to_keycode())
        ref = per_call(ref_message.to_keycode, ref_n, rounds)
        ours = per_call(our_message.to_keycode, ours_n * 4, rounds)
        report.compare(name, ref, ours, target=1000)
    ext = rsmall.ExtendedSmallMessageType.SET_CREDIT_WIPE_RESTRICTED_FLAG
    our_ext = nexus.ExtendedSmallMessageType.SET_CREDIT_WIPE_RESTRICTED_FLAG
    ref_fn = lambda: rsmall.ExtendedSmallMessage(ext, id_=51, days=84, secret_key=NEXUS_KEY).to_keycode()  # noqa: E731
    ours_fn = lambda: nexus.ExtendedSmallMessage(our_ext, id_=51, days=84, secret_key=NEXUS_KEY).to_keycode()  # noqa: E731
    report.check("extended small", ours_fn(), ref_fn())
    report.compare(
        "extended small (collision search)",
        per_call(ref_fn, ref_n // 2, rounds),
        per_call(ours_fn, ours_n // 4, rounds),
    )


def batches(report, scale, rounds, threads):
    rng = random.Random(7)
    n = 40_000 * scale // 10
    requests = []
    for _ in range(n):
        requests.append(
            {
                "scheme": "openpaygo",
                "op": "generate",
                "key": rng.randbytes(16).hex(),
                "starting_code": rng.randint(1, 999_999_999),
                "count": rng.randint(0, 100),
                "token_type": "ADD_TIME",
                "value": rng.randint(0, 995),
                "restricted_digit_set": False,
                "extended_token": False,
            }
        )
    lines = [json.dumps(r) for r in requests]
    sample = requests[: max(20, 300 * scale // 10)]

    def reference():
        for r in sample:
            openpaygo.generate_token(
                secret_key=r["key"], count=r["count"], value=r["value"], starting_code=r["starting_code"]
            )

    answers = paylock.issue_many(sample, threads=threads)
    for r, a in zip(sample, answers):
        want = openpaygo.generate_token(
            secret_key=r["key"], count=r["count"], value=r["value"], starting_code=r["starting_code"]
        )
        report.check("issue_many", (a["count"], a["token"]), want)
    ref = once(reference, rounds) / len(sample)
    print(
        f"\n{'Batch: OpenPAYGO generate, counts 0-100, per request':58s} {'openpaygo':>13s} {'paylock':>13s} {'ratio':>11s}"
    )
    results = {}
    text = "\n".join(lines) + "\n"
    for form, batch in (("JSON Lines text", text), ("JSON str", lines), ("dict", requests)):
        # alternate the two so that both see the same machine (other processes come and go),
        # and take the best of many rounds: a ratio of two times is twice as noisy as a time
        one, many = float("inf"), float("inf")
        for _ in range(4 * rounds):
            one = min(one, once(lambda: paylock.issue_many(batch, threads=1), 1) / n)
            many = min(many, once(lambda: paylock.issue_many(batch, threads=threads), 1) / n)
        results[form] = (one, many)
        report.compare(f"issue_many ({form} requests), 1 thread", ref, one)
        report.compare(f"issue_many ({form} requests), {threads} threads", ref, many)
    print(f"\n{'Batch scaling (per request)':58s} {'1 thread':>13s} {'all threads':>13s}")
    for form, (one, many) in results.items():
        report.scaling(f"issue_many ({form} requests)", one, many, threads, target=None if form == "dict" else 1.85)
    one_by_one = per_call(lambda: generate_token(secret_key=KEY, count=50, value=7, starting_code=SC), 20_000, rounds)
    print(f"{'(for scale: one generate_token call at count 50)':58s} {us(one_by_one)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run: fewer calls, one round")
    parser.add_argument("--threads", type=int, default=None, help="threads of the batch runs (default: every core)")
    args = parser.parse_args()
    scale, rounds = (1, 1) if args.quick else (10, 3)
    threads = args.threads or len(os.sched_getaffinity(0))
    print(f"paylock {paylock.__version__} from {os.path.dirname(paylock.__file__)}")
    print(
        f"openpaygo {version('openpaygo')}, nexus-keycode {version('nexus-keycode')}, Python {sys.version.split()[0]}, "
        f"{len(os.sched_getaffinity(0))} cores"
    )
    report = Report()
    openpaygo_calls(report, scale, rounds)
    nexus_calls(report, scale, rounds)
    batches(report, scale, rounds, threads)
    if report.failed:
        print("outputs differ: see MISMATCH above")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
