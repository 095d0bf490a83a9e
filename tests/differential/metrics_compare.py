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
import math
import os
import random
import struct
import subprocess
import sys
import time
from datetime import datetime as real_datetime

os.environ["TZ"] = "UTC"
time.tzset()

from common import import_reference  # noqa: E402

import_reference()
import openpaygo.metrics_response as response_module  # noqa: E402
from openpaygo import AuthMethod, MetricsRequestHandler, MetricsResponseHandler  # noqa: E402
from openpaygo.metrics_shared import OpenPAYGOMetricsShared  # noqa: E402

NOW = 1_700_000_000
METHODS = ["sa", "ta", "ca", "da", "ra"]
MAX_SHOWN = 15


class FixedClock(real_datetime):
    @classmethod
    def now(cls, tz=None):
        return cls.fromtimestamp(NOW, tz)


response_module.datetime = FixedClock


def dumps(value):
    return json.dumps(value, separators=(",", ":"))


# ---------------------------------------------------------------------------------------------
# Random values

ALPHABETS = [
    "abcdefghijklmnopqrstuvwxyz_",
    "ABCXYZ0123456789-. /",
    "\"\\\n\r\t\b\f\x00\x01\x1f\x7f",
    "\u00e9\u00fc\u00df\u20ac\u2600\u4e2d\u6587\u0416\uffff\ufeff",
    "\U0001f600\U0001f50b\U00010000\U0010ffff\U0001d11e",
]
# Names the condensed key map and the expansion treat specially.
SPECIAL_NAMES = ["token_count", "tc", "autsr", "aslr", "active_until_timestamp_requested",
                 "active_seconds_left_requested", "sn", "ts", "d", "auth", "timestamp"]


def text(rng, low=0, high=12):
    out = []
    for _ in range(rng.randint(low, high)):
        alphabet = rng.choices(ALPHABETS, weights=[50, 20, 8, 12, 10])[0]
        out.append(rng.choice(alphabet))
    return "".join(out)


def name(rng):
    while True:
        candidate = rng.choice(SPECIAL_NAMES) if rng.random() < 0.1 else text(rng, 1, 10)
        # Keys that are digits other than ASCII ones: Python's isdigit() maps them, paylock
        # keeps them (a documented difference), so they are not generated.
        if not (candidate.isdigit() and not candidate.isascii()):
            return candidate


def floating(rng):
    pick = rng.random()
    if pick < 0.2:
        return rng.choice([0.0, -0.0, 1.0, -1.0, 1e16, 1e15, 1e-5, 1e-4, 1e22, -1e22, 5e-324,
                           1.7976931348623157e308, 2.2250738585072014e-308, 0.1, 1.5e300, 123456.0])
    if pick < 0.45:
        while True:
            value = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
            if math.isfinite(value):
                return value
    if pick < 0.7:
        return round(rng.uniform(-1000, 1000), rng.randint(0, 6))
    return rng.uniform(-1, 1) * 10 ** rng.randint(-30, 30)


def value(rng):
    pick = rng.random()
    if pick < 0.25:
        return floating(rng)
    if pick < 0.5:
        return rng.choice([rng.randint(-1000, 1000), rng.randint(-2**63, 2**64 - 1), 0, 1])
    if pick < 0.7:
        return text(rng)
    if pick < 0.85:
        return rng.random() < 0.5
    return None


def data_format(rng):
    fmt = {"id": rng.randint(1, 10**6)}
    names = []
    while len(names) < rng.randint(0, 7):
        candidate = name(rng)
        if candidate not in names:
            names.append(candidate)
    rows = []
    if rng.random() < 0.5:
        rows.append("relative_time")
    if rng.random() < 0.3:
        rows.append("timestamp")
    while len(rows) < rng.randint(len(rows), len(rows) + 5):
        candidate = name(rng)
        if candidate not in rows and candidate not in ("relative_time", "timestamp"):
            rows.append(candidate)
    rng.shuffle(rows)
    if names or rng.random() < 0.8:
        fmt["data_order"] = names
    if rows or rng.random() < 0.8:
        fmt["historical_data_order"] = rows
    if rng.random() < 0.7:
        fmt["historical_data_interval"] = rng.choice([60, -60, 3600, 86400, 0, rng.randint(-10**5, 10**5)])
    return fmt


def report_values(rng, order, condensed):
    """A data dict: names of the order (condensed) or any names (simple), in random order."""
    names = list(order)
    if not condensed:
        names += [name(rng) for _ in range(rng.randint(0, 3))]
    chosen = [n for n in names if rng.random() < 0.75]
    rng.shuffle(chosen)
    return {n: value(rng) for n in chosen}


def row_values(rng, fmt, condensed, timestamp):
    order = fmt.get("historical_data_order") or []
    row = report_values(rng, [n for n in order if n not in ("relative_time", "timestamp")], condensed)
    if "relative_time" in order or not condensed:
        if rng.random() < 0.4:
            row["relative_time"] = rng.choice([0, 30, -30, rng.randint(-10**6, 10**6)])
    if ("timestamp" in order or not condensed) and (not fmt.get("historical_data_interval") or rng.random() < 0.2):
        row["timestamp"] = rng.choice([timestamp or NOW, rng.randint(1_000_000_000, 2_000_000_000)])
    if condensed:
        row = {k: v for k, v in row.items() if k in order}
    return row


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


def mutate(rng, text):
    """A request text changed in one way: a value, a digit, or only its layout."""
    pick = rng.random()
    if pick < 0.4:
        spots = [i for i, c in enumerate(text) if c.isdigit()]
        if spots:
            i = rng.choice(spots)
            return text[:i] + rng.choice([d for d in "0123456789" if d != text[i]]) + text[i + 1:], "digit"
    if pick < 0.7:
        # Same content, another layout: the server re-serializes what it parsed.
        return json.dumps(json.loads(text), indent=rng.choice([None, 1, 2]), ensure_ascii=rng.random() < 0.5), "layout"
    parsed = json.loads(text)
    data_key = "d" if "d" in parsed else "data"
    if isinstance(parsed.get(data_key), list) and parsed[data_key]:
        parsed[data_key][rng.randrange(len(parsed[data_key]))] = value(rng)
    elif isinstance(parsed.get(data_key), dict) and parsed[data_key]:
        parsed[data_key][rng.choice(list(parsed[data_key]))] = value(rng)
    return dumps(parsed), "value"


def too_long(text, fmt):
    """Whether condensed data or a row has more values than the format names (0.6.3 drops them)."""
    parsed = OpenPAYGOMetricsShared.convert_dict_keys_to_simple(json.loads(text))
    if not fmt:
        return False
    data = parsed.get("data")
    if isinstance(data, list) and fmt.get("data_order") and len(data) > len(fmt["data_order"]):
        return True
    rows = parsed.get("historical_data")
    order = fmt.get("historical_data_order")
    return isinstance(rows, list) and bool(order) and any(isinstance(r, list) and len(r) > len(order) for r in rows)


def unkept_number(text):
    """The error kind paylock gives, by decision, for a number Python keeps and paylock does not:
    an integer beyond 64 bits or -0 (`number`), a float beyond the double range (`json`)."""
    found = []

    def integer(literal):
        number = int(literal)
        if literal == "-0" or not -(2**63) <= number <= 2**64 - 1:
            found.append("number")
        return number

    def floating(literal):
        number = float(literal)
        if math.isinf(number):
            found.append("json")
        return number

    json.loads(text, parse_int=integer, parse_float=floating)
    return found[0] if found else None


def loose_row_time(handler):
    """Whether a row's time is a bool or a string: Python's int() and fromtimestamp() take
    them, paylock wants numbers (a decision)."""
    try:
        rows = handler._get_simple_historical_data()
    except Exception:  # noqa: BLE001 - the reference fails on these rows anyway
        return False
    for row in rows:
        relative, stamp = row.get("relative_time"), row.get("timestamp")
        if relative is not None:
            if isinstance(relative, bool):
                return True
            if isinstance(relative, str):
                try:
                    int(relative)
                    return True
                except ValueError:
                    pass
        elif isinstance(stamp, bool) and stamp:
            return True
    return False


def lone_surrogate(text):
    """Whether a string of the text holds an unpaired surrogate (paylock refuses the text)."""

    def walk(node):
        if isinstance(node, str):
            return any(0xD800 <= ord(c) <= 0xDFFF for c in node)
        if isinstance(node, list):
            return any(walk(item) for item in node)
        if isinstance(node, dict):
            return any(walk(k) or walk(v) for k, v in node.items())
        return False

    return walk(json.loads(text))


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
        want_ok, known = False, unkept_number(text)
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
    for label, text, kind in [
        ("NaN", '{"sn":"a","rc":1,"d":[NaN],"a":"sa0"}', "json"),
        ("Infinity", '{"sn":"a","rc":1,"d":{"x":-Infinity},"a":"sa0"}', "json"),
        ("lone surrogate", '{"sn":"a\\ud800","rc":1,"a":"sa0"}', "json"),
        ("integer beyond 64 bits", '{"sn":"a","rc":1,"d":{"x":18446744073709551616},"a":"sa0"}', "number"),
        ("integer -0", '{"sn":"a","rc":1,"d":{"x":-0},"a":"sa0"}', "number"),
        ("float timestamp", '{"sn":"a","ts":1.5,"a":"ta0"}', "field"),
        ("string count", '{"sn":"a","rc":"5","a":"ca0"}', "field"),
    ]:
        got = runner.ask({"op": "verify", "text": text, "key": key, "received_at": NOW})
        runner.check(got.get("ok") is False and got.get("kind") == kind, f"fixed: {label}", {"text": text, "paylock": got})


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
