#!/usr/bin/env python3
"""Speed of a CRM's work per Metrics report: `openpaygo` 0.6.3 against paylock, in one run.

The work per report is what a CRM's endpoint does: verify it (`is_auth_valid`), expand it
(`get_simple_metrics`), add the device's tokens (`add_tokens_to_answer`) and write the signed
answer (`get_answer_payload`). Both sides get the same reports (the shared example, condensed
and simple, signed with `ra` and `da`), checked to give the same answers first. Timings drift
between runs on a shared machine; the ratio measured in one run is the figure to quote.

    python3 tests/differential/metrics_speed.py --paylock target/release/examples/metrics_jsonl [--rounds N]
    python3 tests/differential/metrics_speed.py --batch target/release/paylock [--rounds N]

Prints per-report microseconds of the reference and of paylock (in process: the `bench` op of
`metrics_jsonl` loops over the reports; and through the process: one JSON line in and out per
report), and the ratios. `--batch` sends the same reports through ONE `paylock batch` process
as `metrics_respond` requests (the CRM's wire contract: verify + expand + signed answer per
line, process start included) and times the reference in the same run. Either option or both.
This is a measurement, not a test: it never fails on speed.
"""

import argparse
import json
import os
import subprocess
import sys
import time

os.environ["TZ"] = "UTC"
time.tzset()

from common import import_reference  # noqa: E402

import_reference()
from openpaygo import AuthMethod, MetricsRequestHandler, MetricsResponseHandler  # noqa: E402

from common import run_batch, to_line  # noqa: E402

KEY = "dac86b1a29ab82edc5fbbc41ec9530f6"
FORMAT = {
    "id": 1234,
    "data_order": ["token_count", "tampered", "firmware_version"],
    "historical_data_order": ["panel_voltage", "battery_voltage", "panel_current", "battery_current"],
    "historical_data_interval": 3600,
}
ROWS = [
    {"panel_voltage": 12.31, "battery_voltage": 12.32, "panel_current": 1.23, "battery_current": -1.23},
    {"panel_voltage": 12.3, "battery_voltage": 12.31, "panel_current": 1.22, "battery_current": -1.21},
]
TOKENS = ["123456789"]


def reports():
    out = []
    for condensed in (True, False):
        for method in (AuthMethod.RECURSIVE_DATA_AUTH, AuthMethod.DATA_AUTH):
            handler = MetricsRequestHandler("aaa111222", data_format=dict(FORMAT), secret_key=KEY, auth_method=method)
            handler.set_timestamp(1611583070)
            handler.set_request_count(42)
            handler.set_data({"token_count": 3, "tampered": False, "firmware_version": "1.2.3"})
            handler.set_historical_data([dict(row) for row in ROWS])
            out.append(handler.get_condensed_request_payload() if condensed else handler.get_simple_request_payload())
    return out


def reference(text):
    """What a CRM's endpoint does with 0.6.3 for one report."""
    handler = MetricsResponseHandler(text, data_format=FORMAT, secret_key=KEY, last_request_count=41)
    if not handler.is_auth_valid():
        raise SystemExit("the reference refuses its own report")
    handler.get_simple_metrics()
    handler.add_tokens_to_answer(TOKENS)
    return handler.get_answer_payload()


def case(text):
    return {"text": text, "key": KEY, "data_format": FORMAT, "last_request_count": 41, "received_at": 1611590000,
            "signed": True, "calls": [["tokens", TOKENS]]}


def batch_request(text):
    """The same work as one `metrics_respond` line of the batch protocol."""
    return dict(case(text), scheme="openpaygo", op="metrics_respond")


def reference_us(texts, rounds):
    start = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            reference(text)
    return (time.perf_counter() - start) / (rounds * len(texts)) * 1e6


def through_batch(paylock, texts, rounds):
    """Microseconds per report through one `paylock batch` process, answers checked first."""
    answers, _ = run_batch(paylock, [to_line(batch_request(t)) for t in texts])
    for text, line in zip(texts, answers):
        got = json.loads(line)
        if got.get("valid") is not True or got.get("text") != reference(text):
            raise SystemExit(f"paylock batch's answer differs from the reference's: {got}")
    lines = [to_line(batch_request(t)) for t in texts] * rounds
    answers, seconds = run_batch(paylock, lines)
    if any('"valid":true' not in a for a in answers):
        raise SystemExit("paylock batch refused a report it accepted before")
    return seconds / len(lines) * 1e6


def through_jsonl(paylock, texts, rounds, python_us):
    process = subprocess.Popen([paylock], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def ask(request):
        process.stdin.write(json.dumps(request) + "\n")
        process.stdin.flush()
        return json.loads(process.stdout.readline())

    for text in texts:
        got = ask(dict(case(text), op="respond"))
        if got.get("text") != reference(text):
            raise SystemExit(f"paylock's answer differs from the reference's: {got}")

    bench = ask({"op": "bench", "cases": [case(t) for t in texts], "rounds": rounds * 20})
    rust_us = bench["nanos_per_case"] / 1000

    lines = "".join(json.dumps(dict(case(t), op="respond")) + "\n" for t in texts) * rounds
    process.stdin.close()
    process.wait()
    start = time.perf_counter()
    done = subprocess.run([paylock], input=lines, capture_output=True, text=True, check=True)
    lines_us = (time.perf_counter() - start) / (rounds * len(texts)) * 1e6
    if done.stdout.count("\n") != rounds * len(texts):
        raise SystemExit("metrics_jsonl answered the wrong number of lines")
    print(f"paylock in process (verify + respond):                {rust_us:.2f} us/report  ratio {python_us / rust_us:.0f}x")
    print(f"paylock through one JSON Lines process (respond op):  {lines_us:.2f} us/report  ratio {python_us / lines_us:.0f}x")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paylock", help="path to the metrics_jsonl example binary")
    parser.add_argument("--batch", help="path to the paylock binary (its `batch` command)")
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()
    if not (args.paylock or args.batch):
        parser.error("give --paylock, --batch or both")
    texts = reports()
    # The reference is timed between the two halves of paylock's runs, so drift hits both.
    batch_us = through_batch(args.batch, texts, args.rounds) if args.batch else None
    python_us = reference_us(texts, args.rounds)
    if args.batch:
        batch_us = min(batch_us, through_batch(args.batch, texts, args.rounds))
    print(f"reports: {len(texts)} (condensed and simple, ra and da), {args.rounds} rounds")
    print(f"openpaygo 0.6.3 (is_auth_valid + get_simple_metrics + add_tokens_to_answer + get_answer_payload): {python_us:.1f} us/report")
    if args.paylock:
        through_jsonl(args.paylock, texts, args.rounds, python_us)
    if args.batch:
        print(f"paylock through one `paylock batch` process (metrics_respond op, process start included): {batch_us:.2f} us/report  ratio {python_us / batch_us:.0f}x")


if __name__ == "__main__":
    sys.exit(main())
