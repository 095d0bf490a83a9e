#!/usr/bin/env python3
"""Speed comparison: OpenPAYGO token generation, `openpaygo` 0.6.3 against `paylock batch`.

Two workloads of 10,000 generate requests each (random key and starting code, standard ADD_TIME
token with a random value, the workload of the spec's reference performance table):

* counts uniform in 0..100;
* every count at 1,000. The reference needs about 12 ms per token there, so it is timed on the
  first 200 requests only and its time is scaled by 10,000 / 200 (the table says so).

paylock is timed as the wall time of one whole `paylock batch` process fed every request of the
workload (process start, JSON parsing and printing included), best of 9 runs (a
run lasts tens of milliseconds, so one burst of other load on this shared machine can double it;
the reference runs for seconds and averages such bursts out). The reference is
timed in-process, once. The tokens are compared on the way, as a sanity check.

    python3 tests/differential/compare_speed.py --paylock target/release/paylock [--seed S]
"""

import argparse
import json
import random
import sys
import time

from common import import_reference, run_batch, to_line

openpaygo = import_reference()

REQUESTS = 10_000
REFERENCE_SAMPLE_AT_1000 = 200
PAYLOCK_RUNS = 9


def workload(rng, count_of):
    requests = []
    for _ in range(REQUESTS):
        requests.append({
            "scheme": "openpaygo",
            "op": "generate",
            "key": rng.randbytes(16).hex(),
            "starting_code": rng.randint(1, 999_999_999),
            "count": count_of(rng),
            "token_type": "ADD_TIME",
            "value": rng.randint(0, 995),
            "restricted_digit_set": False,
            "extended_token": False,
        })
    return requests


def time_reference(requests):
    """(seconds, [(count, token)]) for generating every request with the reference."""
    start = time.perf_counter()
    results = [
        openpaygo.generate_token(
            secret_key=r["key"],
            count=r["count"],
            value=r["value"],
            token_type=openpaygo.TokenType.ADD_TIME,
            starting_code=r["starting_code"],
            restricted_digit_set=False,
            extended_token=False,
        )
        for r in requests
    ]
    return time.perf_counter() - start, results


def time_paylock(paylock, requests):
    """(best seconds of PAYLOCK_RUNS whole processes, parsed answers of the last run)."""
    lines = [to_line(r) for r in requests]
    times = []
    for _ in range(PAYLOCK_RUNS):
        answers, seconds = run_batch(paylock, lines)
        times.append(seconds)
    return min(times), [json.loads(a) for a in answers]


def agree(reference, answers):
    """How many reference results paylock reproduces exactly."""
    return sum(
        1 for (count, token), a in zip(reference, answers)
        if a.get("ok") and a.get("token") == token and a.get("count") == count
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--paylock", default="target/release/paylock", help="the paylock binary")
    parser.add_argument("--seed", type=int, default=None, help="the workload's seed (default: random)")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    print(f"seed {seed}")
    rng = random.Random(seed)

    startup_seconds = min(run_batch(args.paylock, [])[1] for _ in range(5))
    print(f"paylock batch process with no request (start-up floor, best of 5): {startup_seconds * 1e3:.1f} ms")

    rows = []
    mismatches = 0
    for name, count_of, sample in (
        ("counts 0..100", lambda r: r.randint(0, 100), REQUESTS),
        ("counts = 1,000", lambda r: 1000, REFERENCE_SAMPLE_AT_1000),
    ):
        requests = workload(rng, count_of)
        ref_seconds, ref_results = time_reference(requests[:sample])
        scale = REQUESTS / sample
        pl_seconds, answers = time_paylock(args.paylock, requests)
        matched = agree(ref_results, answers)
        mismatches += sample - matched
        steps = sum(count for count, _ in ref_results) * scale  # new count = chain steps per token
        rows.append((name, ref_seconds * scale, sample, pl_seconds, steps))
        print(f"{name}: paylock reproduces {matched} of the {sample} reference tokens")

    print()
    print(f"{'workload (10,000 requests)':<28}{'openpaygo 0.6.3':>18}{'per request':>14}"
          f"{'paylock batch':>16}{'per request':>14}{'ratio':>10}")
    for name, ref_total, sample, pl_total, _ in rows:
        note = "" if sample == REQUESTS else f"  (reference: {sample} timed, x{REQUESTS // sample})"
        print(f"{name:<28}{ref_total:>16.2f} s{ref_total / REQUESTS * 1e6:>11.0f} us"
              f"{pl_total * 1e3:>13.1f} ms{pl_total / REQUESTS * 1e6:>11.2f} us"
              f"{ref_total / pl_total:>9.0f}x{note}")
    (_, ref_low, _, pl_low, steps_low), (_, ref_high, _, pl_high, steps_high) = rows
    extra_steps = steps_high - steps_low
    print(f"marginal cost of one chain step (difference of the two workloads): "
          f"openpaygo {(ref_high - ref_low) / extra_steps * 1e9:,.0f} ns, "
          f"paylock {(pl_high - pl_low) / extra_steps * 1e9:,.1f} ns, "
          f"ratio {(ref_high - ref_low) / (pl_high - pl_low):,.0f}x")
    print()
    print("paylock times are the wall time of one whole `paylock batch` process (best of "
          f"{PAYLOCK_RUNS}), including process start-up and JSON parsing/printing of every line; "
          "the reference is timed in-process. The ratio therefore understates paylock's pure "
          "generation speed. These machines drift by several percent between runs: compare "
          "ratios from one run.")
    if mismatches:
        print(f"{mismatches} tokens differ from the reference: run openpaygo_generate.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
