#!/usr/bin/env python3
"""Speed comparison: Nexus keycode generation, `nexus-keycode` 1.5.1 against `paylock batch`.

The same 10,000 random messages as `nexus_generate.py` (same builder, same `--seed`), split into the
full protocol (with Channel origin commands) and the small protocol. Each part is timed through
the reference in-process, once, and through one whole `paylock batch` process fed every request of
the part (process start, JSON parsing and printing included), best of 9 runs (a run lasts tens of
milliseconds, so one burst of other load on this shared machine can double it; the reference runs
for seconds and averages such bursts out). Both are timed in
the same run, as the machine's speed drifts between runs. The keycodes are compared on the way;
the script exits 1 if any differs.

`--workload add-credit` times the issuing workload instead: N full-protocol ADD_CREDIT messages
(random keys, IDs 0-4000, 1-99,999 hours), the commonest request of a CRM, through one process.

    python3 tests/differential/nexus_compare_speed.py --paylock target/release/paylock [--cases N] [--seed S]
    python3 tests/differential/nexus_compare_speed.py --workload add-credit [--cases 10000]
"""

import argparse
import json
import random
import sys
import time

from common import run_batch, to_line
from nexus_generate import Case, build_cases, compare, expected_of, request, rfull

PAYLOCK_RUNS = 9


def add_credit_cases(rng, count):
    """`count` full ADD_CREDIT messages, each with its own key."""
    cases = []
    for _ in range(count):
        key, mid, hours = rng.randbytes(16), rng.randint(0, 4_000), rng.randint(1, 99_999)
        ref = lambda key=key, mid=mid, hours=hours: rfull.FullMessage.add_credit(mid, hours, key).to_keycode()  # noqa: E731
        cases.append(Case("full", request("full", "ADD_CREDIT", {"hours": hours}, key, mid), ref))
    return cases


def time_reference(cases):
    """(seconds, expected answers) for every case through the reference."""
    start = time.perf_counter()
    expected = [expected_of(c) for c in cases]
    return time.perf_counter() - start, expected


def time_paylock(paylock, lines):
    """(best seconds of PAYLOCK_RUNS whole processes, the answers of the last)."""
    runs = [run_batch(paylock, lines) for _ in range(PAYLOCK_RUNS)]
    return min(seconds for _, seconds in runs), runs[-1][0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--paylock", default="target/release/paylock", help="the paylock binary")
    parser.add_argument("--cases", type=int, default=10_000, help="random messages")
    parser.add_argument("--seed", type=int, default=None, help="replay a run (default: random)")
    parser.add_argument(
        "--workload",
        choices=("mixed", "add-credit"),
        default="mixed",
        help="mixed: every message type (default); add-credit: full ADD_CREDIT only",
    )
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    print(f"seed {seed}  (replay: --seed {seed} --cases {args.cases} --workload {args.workload})")
    if args.workload == "add-credit":
        cases = add_credit_cases(random.Random(seed), args.cases)
    else:
        cases = build_cases(random.Random(seed), args.cases)
    _, empty_seconds = run_batch(args.paylock, [])
    print(f"paylock start-up (empty batch): {empty_seconds * 1e3:.1f} ms")
    print(f"{'protocol':<8} {'messages':>8} {'nexus-keycode':>14} {'per code':>9} {'paylock batch':>14} {'per code':>9} {'ratio':>7}")
    mismatches = 0
    for protocol in ("full", "small"):
        part = [c for c in cases if c.protocol == protocol]
        if not part:
            continue
        reference_seconds, expected = time_reference(part)
        paylock_seconds, answers = time_paylock(args.paylock, [to_line(c.request) for c in part])
        mismatches += sum(compare(w, json.loads(a)) is not None for w, a in zip(expected, answers))
        n = max(len(part), 1)
        print(
            f"{protocol:<8} {len(part):>8} {reference_seconds:>12.2f} s {reference_seconds / n * 1e3:>6.2f} ms"
            f" {paylock_seconds * 1e3:>11.1f} ms {paylock_seconds / n * 1e6:>6.2f} µs"
            f" {reference_seconds / paylock_seconds:>6.0f}×"
        )
    if mismatches:
        print(f"{mismatches} keycodes differ: run nexus_generate.py with the same seed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
