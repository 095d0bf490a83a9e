#!/usr/bin/env python3
"""Differential test: OpenPAYGO Metrics, paylock against the reference `openpaygo` 0.6.3.

From a seed, builds random devices and reports (every auth method, simple and condensed, random
data formats with and without interval, relative and absolute row times, floats with exponents
and negative zero, unicode up to non-BMP, missing optional parts), random server knowledge
(data format right, shorter or absent; last count and timestamp below, equal or above) and
random answers (tokens, time, settings, extra data in random call order). Every case runs
through the reference and through ONE `metrics_jsonl` process (paylock's device and server
sides), and is compared:

  request      the device's report text, byte for byte
  verify       valid or not; when valid, json.dumps(get_simple_metrics()) byte for byte; when
               the reference refuses, paylock refuses with an error of the same family
  respond      the answer text byte for byte, in 0.6.3's form (compatibility switch) and in
               paylock's (the reference's own serializer and signer over paylock's time fields)
  read_answer  the device reads back the tokens, time and settings the server sent, and refuses
               the answer with one digit changed

Where paylock deliberately differs from 0.6.3 the case is known here and the expectation
follows paylock's decision (docs/openpaygo.md, "paylock decisions" for Metrics): values beyond
the data format's order, rows without a data format, the time answer. Inputs where paylock
refuses what Python's `json` accepts (NaN, lone surrogates, integers beyond 64 bits) are not
generated at random; they are fixed cases at the end.

    python3 tests/differential/metrics_compare.py --paylock target/release/examples/metrics_jsonl [--cases N] [--seed S]

Exit code 0 when everything matches, 1 otherwise. The last line is `N passed, M failed`.
"""

import argparse
import copy
import json
import os
import random
import subprocess
import sys
import time
from datetime import datetime as real_datetime

os.environ["TZ"] = "UTC"
time.tzset()

from common import import_reference  # noqa: E402

import_reference()
import openpaygo.metrics_response as response_module  # noqa: E402
from openpaygo import MetricsRequestHandler, MetricsResponseHandler  # noqa: E402
from openpaygo.metrics_shared import OpenPAYGOMetricsShared  # noqa: E402
from metrics_random import (  # noqa: E402
    METHODS, NOW, data_format, dumps, lone_surrogate, loose_row_time, mutate, name, report_values, row_values,
    text, too_long, unkept_number, value,
)

MAX_SHOWN = 15


class FixedClock(real_datetime):
    @classmethod
    def now(cls, tz=None):
        return cls.fromtimestamp(NOW, tz)


response_module.datetime = FixedClock


# ---------------------------------------------------------------------------------------------
# One case


class Case:
    def __init__(self, rng, index):
        self.index = index
        self.key = rng.getrandbits(128).to_bytes(16, "big").hex()
        self.serial = text(rng, 0, 14) if rng.random() < 0.6 else str(rng.randint(0, 10**9))
        self.fmt = data_format(rng)
        self.condensed = rng.random() < 0.5
        self.timestamp = rng.choice([None, rng.randint(1_500_000_000, 1_800_000_000)])
        self.count = rng.choice([None, rng.randint(1, 10**6), 1])
        if self.timestamp is None and self.count is None:
            self.count = rng.randint(1, 1000)
        self.ts_first = rng.random() < 0.9
        fits = [m for m in METHODS if (m != "ta" or self.timestamp) and (m != "ca" or self.count)]
        self.method = rng.choice(fits)
        order = self.fmt.get("data_order") or []
        self.data = None if rng.random() < 0.15 else report_values(rng, order, self.condensed)
        if self.data and rng.random() < 0.2:
            flag = rng.choice(["active_until_timestamp_requested", "active_seconds_left_requested", "autsr", "aslr"])
            if not self.condensed or flag in order:
                self.data[flag] = rng.choice([True, 1, False])
        if self.condensed and self.data and not order:
            self.data = {}
        self.rows = None
        if rng.random() < 0.75:
            self.rows = [row_values(rng, self.fmt, self.condensed, self.timestamp) for _ in range(rng.randint(0, 5))]
            if self.condensed and self.rows and not self.fmt.get("historical_data_order"):
                self.rows = None


def reference_request(case):
    """The reference's report text, or None when 0.6.3 refuses these inputs."""
    handler = MetricsRequestHandler(case.serial, data_format=copy.deepcopy(case.fmt), secret_key=case.key, auth_method=case.method)
    setters = [(handler.set_timestamp, case.timestamp), (handler.set_request_count, case.count)]
    if not case.ts_first:
        setters.reverse()
    for setter, argument in setters:
        if argument is not None:
            setter(argument)
    try:
        if case.data is not None:
            handler.set_data(copy.deepcopy(case.data))
        if case.rows is not None:
            handler.set_historical_data(copy.deepcopy(case.rows))
        if case.condensed:
            return handler.get_condensed_request_payload()
        return handler.get_simple_request_payload()
    except (ValueError, TypeError):
        return None


def pairs(values, order, condensed):
    """What the device firmware writes: named values, or every position of the order."""
    if condensed:
        return [[n, values.get(n)] for n in order]
    return [[n, v] for n, v in values.items()]


def device_request(case):
    order = case.fmt.get("data_order") or []
    rows_order = case.fmt.get("historical_data_order") or []
    request = {
        "op": "request",
        "condensed": case.condensed,
        "method": case.method,
        "key": case.key,
        "serial_number": case.serial,
        "data_format_id": case.fmt["id"],
    }
    if case.timestamp is not None:
        request["timestamp"] = case.timestamp
    if case.count is not None:
        request["request_count"] = case.count
    if case.data is not None:
        request["data"] = pairs(case.data, order, case.condensed)
    if case.rows is not None:
        request["historical_data"] = [pairs(row, rows_order, case.condensed) for row in case.rows]
    return request


def reference_server(text, fmt, key, last_count, last_ts):
    """(handler, is_auth_valid outcome, simple metrics JSON or exception name)."""
    try:
        handler = MetricsResponseHandler(text, data_format=copy.deepcopy(fmt), secret_key=key,
                                         last_request_count=last_count, last_request_timestamp=last_ts)
    except ValueError as error:  # not JSON
        return None, type(error).__name__, type(error).__name__
    try:
        valid = handler.is_auth_valid()
    except Exception as error:  # noqa: BLE001
        valid = type(error).__name__
    try:
        metrics = dumps(handler.get_simple_metrics())
    except Exception as error:  # noqa: BLE001
        metrics = type(error).__name__
    return handler, valid, metrics


def unicode_digit_key(text):
    """Whether a historical row has a key of non-ASCII digits: Python's isdigit() and int() read
    it as a position, paylock reads positions in ASCII digits only (a decision)."""
    rows = OpenPAYGOMetricsShared.convert_dict_keys_to_simple(json.loads(text)).get("historical_data")
    return isinstance(rows, list) and any(
        isinstance(row, dict) and any(k.isdigit() and not k.isascii() for k in row) for row in rows
    )


REFUSED_BY_REFERENCE = {"auth_missing", "auth_mismatch", "replayed", "repeated", "not_fresh"}
RAISED_BY_REFERENCE = {"auth_missing_part", "auth_unknown_method", "auth_not_a_string", "field", "data_format", "row"}


class Runner:
    def __init__(self, paylock):
        self.process = subprocess.Popen([paylock], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.passed = 0
        self.failed = 0
        self.counts = {}
        self.verbose = False

    def ask(self, request):
        self.process.stdin.write(dumps(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            sys.exit(f"metrics_jsonl stopped answering (exit code {self.process.poll()})")
        return json.loads(line)

    def check(self, ok, what, detail):
        self.counts[what] = self.counts.get(what, 0) + 1
        if ok:
            self.passed += 1
            return
        self.failed += 1
        if self.failed <= MAX_SHOWN:
            shown = json.dumps(detail, ensure_ascii=False)
            print(f"MISMATCH {what}: {shown if self.verbose else shown[:1500]}")

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def server_side(rng, runner, case, text, mutation):
    fmt = copy.deepcopy(case.fmt)
    pick = rng.random()
    if pick < 0.1:
        fmt = None
    elif pick < 0.2 and fmt.get("data_order"):
        fmt["data_order"] = fmt["data_order"][: rng.randrange(len(fmt["data_order"]))]
    elif pick < 0.25 and fmt.get("historical_data_order"):
        fmt["historical_data_order"] = fmt["historical_data_order"][: rng.randrange(len(fmt["historical_data_order"]))]
    key = case.key if rng.random() < 0.92 else rng.getrandbits(128).to_bytes(16, "big").hex()
    last_count = last_ts = None
    if case.count and rng.random() < 0.5:
        last_count = case.count + rng.choice([-1, 0, 1, -case.count + 1, 5])
    if case.timestamp and rng.random() < 0.4:
        last_ts = case.timestamp + rng.choice([-1, 0, 1, -1000])
    compat = rng.choice(["paylock", "openpaygo_0_6_3"])
    handler, valid, metrics = reference_server(text, fmt, key, last_count, last_ts)
    request = {"op": "verify", "text": text, "key": key, "data_format": fmt, "last_request_count": last_count,
               "last_timestamp": last_ts, "received_at": NOW, "compat": compat}
    got = runner.ask(request)
    want_ok = valid is True and not metrics.endswith("Error")
    want_metrics = metrics
    known = None
    if handler is None:
        want_ok, known = False, "json"
    elif lone_surrogate(text):
        want_ok, known = False, "json"
    elif unkept_number(text):
        want_ok, known = False, {"integer": "number", "float": "json"}[unkept_number(text)]
    elif loose_row_time(handler) and valid is True:
        want_ok, known = False, "row"
    elif unicode_digit_key(text) and valid is True:
        # The names differ; only the verdict on the signature is compared.
        runner.check(got.get("ok") is True or got.get("kind") in RAISED_BY_REFERENCE, "verify (unicode digit key)",
                     {"case": case.index, "reference": [valid, metrics], "paylock": got})
        return
    elif compat == "paylock" and want_ok and too_long(text, fmt):
        want_ok, known = False, "data_format"
    if known is None and compat == "paylock" and valid is True and fmt is None and metrics == "AttributeError":
        # paylock expands rows that need no data format; the reference does with an empty one.
        _, _, empty = reference_server(text, {}, key, last_count, last_ts)
        want_ok, want_metrics = not empty.endswith("Error"), empty
    detail = {"case": case.index, "mutation": mutation, "request": request, "reference": [valid, metrics], "paylock": got}
    if want_ok:
        runner.check(got.get("ok") is True and got.get("metrics_json") == want_metrics, "verify", detail)
    elif known:
        runner.check(got.get("ok") is False and got.get("kind") == known, "verify (known difference)", detail)
    elif valid is True:
        runner.check(got.get("ok") is False and got.get("kind") in RAISED_BY_REFERENCE, "verify (reference raises)", detail)
    elif valid is False:
        runner.check(got.get("ok") is False and got.get("kind") in REFUSED_BY_REFERENCE, "verify (reference refuses)", detail)
    else:
        runner.check(got.get("ok") is False and got.get("kind") in RAISED_BY_REFERENCE, "verify (reference raises)", detail)
    if want_ok and got.get("ok") and mutation is None:
        answer_side(rng, runner, case, text, fmt, key, handler, compat, got)


def random_calls(rng, handler):
    calls = []
    if handler.expects_token_answer() or rng.random() < 0.3:
        tokens = [rng.choice([str(rng.randint(0, 10**9 - 1)).zfill(9), rng.randint(0, 10**9 - 1)]) for _ in range(rng.randint(0, 3))]
        calls.append(["tokens", tokens])
    if handler.expects_time_answer():
        calls.append(["time", rng.choice([None, NOW + rng.randint(-10**6, 10**7), rng.randint(0, 31_536_000)])])
    for kind in ("settings", "extra_data", "base_url"):
        if rng.random() < 0.3:
            argument = text(rng) if kind == "base_url" else {name(rng): value(rng) for _ in range(rng.randint(0, 3))}
            calls.append([kind, argument])
    rng.shuffle(calls)
    return calls


def reference_answer(text, fmt, key, calls, signed, paylock_mode):
    handler = MetricsResponseHandler(text, data_format=copy.deepcopy(fmt), secret_key=key if signed else None)
    for call, argument in calls:
        if call == "tokens":
            handler.add_tokens_to_answer(copy.deepcopy(argument))
        elif call == "time":
            handler.add_time_to_answer(None if argument is None else FixedClock.fromtimestamp(argument))
            if paylock_mode:
                if "active_until_timestamp" in handler.response_dict:
                    handler.response_dict["active_until_timestamp"] = argument if argument and argument >= 31_536_000 else 0
                else:
                    handler.response_dict["active_seconds_left"] = max(argument - NOW, 0) if argument else 0
        elif call == "settings":
            handler.add_settings_to_answer(copy.deepcopy(argument))
        elif call == "base_url":
            handler.add_new_base_url_to_answer(argument)
        elif call == "extra_data":
            handler.add_extra_data_to_answer(copy.deepcopy(argument))
    return handler.get_answer_payload(), copy.deepcopy(handler.response_dict)


def answer_side(rng, runner, case, text, fmt, key, handler, compat, verified):
    calls = random_calls(rng, handler)
    signed = rng.random() < 0.85
    want, fields = reference_answer(text, fmt, key, calls, signed, compat == "paylock")
    request = {"op": "respond", "text": text, "key": key, "data_format": fmt, "received_at": NOW, "now": NOW,
               "compat": compat, "signed": signed, "calls": calls}
    got = runner.ask(request)
    runner.check(got.get("text") == want, f"respond ({compat})", {"case": case.index, "request": request, "reference": want, "paylock": got})
    if not signed:
        return
    sent = {"serial_number": case.serial, "timestamp": case.timestamp, "request_count": case.count}
    read = runner.ask({"op": "read_answer", "text": want, "key": key, "sent": sent})
    tokens = [t if isinstance(t, str) else str(t) for t in fields.get("token_list", [])]
    # A zero is not signed (0.6.3 hashes only truthy parts): the device reads none.
    seconds = {f: int(fields[f]) if fields.get(f) else None for f in ("active_until_timestamp", "active_seconds_left")}
    members = {f: {k: dumps(v) for k, v in fields[f].items()} if f in fields else None for f in ("settings", "extra_data")}
    ok = (read.get("ok") is True and read.get("tokens") == tokens
          and read.get("active_until") == seconds["active_until_timestamp"]
          and read.get("active_seconds_left") == seconds["active_seconds_left"]
          and read.get("settings") == members["settings"] and read.get("extra_data") == members["extra_data"])
    runner.check(ok, "read_answer", {"case": case.index, "answer": want, "fields": fields, "paylock": read})
    spots = [i for i, c in enumerate(want) if c.isdigit()]
    if spots:
        i = rng.choice(spots)
        changed = want[:i] + ("1" if want[i] != "1" else "2") + want[i + 1:]
        refused = runner.ask({"op": "read_answer", "text": changed, "key": key, "sent": sent})
        runner.check(refused.get("ok") is False, "read_answer (changed digit)", {"case": case.index, "answer": changed, "paylock": refused})


def fixed_cases(runner):
    """Inputs Python's json accepts and paylock refuses, by decision: each must be a typed refusal."""
    key = "00" * 16
    for label, report, kind in [
        ("NaN", '{"sn":"a","rc":1,"d":[NaN],"a":"sa0"}', "json"),
        ("Infinity", '{"sn":"a","rc":1,"d":{"x":-Infinity},"a":"sa0"}', "json"),
        ("lone surrogate", '{"sn":"a\\ud800","rc":1,"a":"sa0"}', "json"),
        ("integer beyond 64 bits", '{"sn":"a","rc":1,"d":{"x":18446744073709551616},"a":"sa0"}', "number"),
        ("integer -0", '{"sn":"a","rc":1,"d":{"x":-0},"a":"sa0"}', "number"),
        ("float timestamp", '{"sn":"a","ts":1.5,"a":"ta0"}', "field"),
        ("string count", '{"sn":"a","rc":"5","a":"ca0"}', "field"),
    ]:
        got = runner.ask({"op": "verify", "text": report, "key": key, "received_at": NOW})
        runner.check(got.get("ok") is False and got.get("kind") == kind, f"fixed: {label}", {"text": report, "paylock": got})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paylock", required=True, help="path to the metrics_jsonl example binary")
    parser.add_argument("--cases", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--verbose", action="store_true", help="show mismatches in full")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    print(f"seed {seed}, {args.cases} cases")
    rng = random.Random(seed)
    runner = Runner(args.paylock)
    runner.verbose = args.verbose
    start = time.perf_counter()
    built = 0
    for index in range(args.cases):
        case = Case(rng, index)
        text = reference_request(case)
        if text is None:
            continue
        built += 1
        got = runner.ask(device_request(case))
        if case.ts_first:
            runner.check(got.get("text") == text, "request", {"case": index, "reference": text, "paylock": got})
        server_side(rng, runner, case, text, None)
        mutated, how = mutate(rng, text)
        server_side(rng, runner, case, mutated, how)
    fixed_cases(runner)
    runner.close()
    print(f"{built} reports built by the reference in {time.perf_counter() - start:.1f}s; checks: "
          + ", ".join(f"{k} {v}" for k, v in sorted(runner.counts.items())))
    print(f"{runner.passed} passed, {runner.failed} failed")
    sys.exit(1 if runner.failed else 0)


if __name__ == "__main__":
    main()
