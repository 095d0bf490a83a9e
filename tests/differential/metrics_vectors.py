#!/usr/bin/env python3
"""Writes the OpenPAYGO Metrics vectors in test-vectors/openpaygo/ from the reference `openpaygo` 0.6.3.

Every expected text, signature, hash step and expanded report below is what the reference's
own code returns for the inputs; nothing is computed by paylock. The inputs are fixed, so the
files are reproducible: CI runs this script again and fails when the output differs from the
committed files.

    python3 tests/differential/metrics_vectors.py [--out test-vectors/openpaygo] [--check]

Files written:
  metrics_requests.json   signed requests (every auth method, both forms, several data shapes),
                          each with every hashed text and hash, and the server's verdict and
                          expanded report (`is_auth_valid`, `get_simple_metrics`)
  metrics_negative.json   requests the server must refuse or that show a weakness: wrong key,
                          replayed or repeated count/timestamp, tampered data, wrong or missing
                          data format, missing parts, unknown method, HDK's trailing NUL
  metrics_responses.json  answers (`get_answer_payload`) with their hashed text, in 0.6.3's form
                          and in paylock's corrected form, plus answers a device must refuse

Each negative case carries the reference's outcome and a hand-written label `paylock` (the
error kind paylock must report); labels are part of the contract, not computed.
"""

import argparse
import copy
import json
import os
import sys
import time
from datetime import datetime as real_datetime
from pathlib import Path

os.environ["TZ"] = "UTC"
time.tzset()

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REFERENCE_VERSION, import_reference  # noqa: E402

import_reference()
import openpaygo.metrics_response as response_module  # noqa: E402
from openpaygo import AuthMethod, MetricsRequestHandler, MetricsResponseHandler  # noqa: E402
from openpaygo.metrics_shared import OpenPAYGOMetricsShared  # noqa: E402

KEY = "dac86b1a29ab82edc5fbbc41ec9530f6"
OTHER_KEY = "a29ab82edc5fbbc41ec9530f6dac86b1"
METHODS = [
    AuthMethod.SIMPLE_AUTH,
    AuthMethod.TIMESTAMP_AUTH,
    AuthMethod.COUNTER_AUTH,
    AuthMethod.DATA_AUTH,
    AuthMethod.RECURSIVE_DATA_AUTH,
]
# The server's clock for every vector (0.6.3 reads datetime.now()).
NOW = 1_611_590_000


class FixedClock(real_datetime):
    """datetime with now() pinned to NOW, so the reference's outputs are reproducible."""

    @classmethod
    def now(cls, tz=None):
        return cls.fromtimestamp(NOW, tz)


response_module.datetime = FixedClock


class HashLog:
    """Records every (text, hash) the reference's generate_hash_string computes."""

    def __init__(self):
        self.steps = []
        self.original = OpenPAYGOMetricsShared.generate_hash_string.__func__

    def __enter__(self):
        log = self

        def recording(cls, input_string, secret_key):
            output = log.original(cls, input_string, secret_key)
            log.steps.append({"input": input_string, "output": output})
            return output

        OpenPAYGOMetricsShared.generate_hash_string = classmethod(recording)
        return self

    def __exit__(self, *exc):
        OpenPAYGOMetricsShared.generate_hash_string = classmethod(self.original)


def hashed(function, *args, **kwargs):
    """Calls the reference; returns (result, hash steps)."""
    with HashLog() as log:
        result = function(*args, **kwargs)
    return result, log.steps


def outcome(function):
    """The reference's result or the exception it raises, as data."""
    try:
        return {"value": function()}
    except Exception as error:  # noqa: BLE001 - the reference raises bare built-ins
        return {"exception": type(error).__name__, "message": str(error)}


# ---------------------------------------------------------------------------------------------
# Inputs

FORMAT_A = {
    "id": 1234,
    "data_order": ["token_count", "tampered", "firmware_version"],
    "historical_data_order": ["panel_voltage", "battery_voltage", "panel_current", "battery_current"],
    "historical_data_interval": 3600,
}
DATA_A = {"token_count": 3, "tampered": False, "firmware_version": "1.2.3"}
ROWS_A = [
    {"panel_voltage": 12.31, "battery_voltage": 12.32, "panel_current": 1.23, "battery_current": -1.23},
    {"panel_voltage": 12.3, "battery_voltage": 12.31, "panel_current": 1.22, "battery_current": -1.21},
]

FORMAT_B = {
    "id": 77,
    "data_order": ["tc", "autsr", "label", "gap", "big", "tiny", "zero", "unused"],
    "historical_data_order": ["relative_time", "v", "note", "t_extra"],
    "historical_data_interval": -60,
}
DATA_B = {
    "tc": 12,
    "autsr": True,
    "label": "Lampe \u00e9t\u00e9 \u2600 \U0001f600 \"q\" \\ /\n",
    "big": 1e16,
    "tiny": 1e-05,
    "zero": -0.0,
}
ROWS_B = [
    {"relative_time": 30, "v": 1.5, "note": "a"},
    {"relative_time": -120, "v": 2.5e-07},
    {"v": 123456789.125, "note": "\u0001"},
    {"relative_time": 0, "v": -1e22, "note": None, "t_extra": 7},
]

FORMAT_C = {"id": 5, "data_order": ["token_count", "active_seconds_left_requested"], "historical_data_interval": 86400}
DATA_C = {"token_count": 0, "active_seconds_left_requested": 1}

SHAPES = {
    # name: (data format, data, historical rows, timestamp, request count)
    "shared": (FORMAT_A, DATA_A, ROWS_A, 1_611_583_070, 42),
    "unicode_floats_relative": (FORMAT_B, DATA_B, ROWS_B, 1_611_583_070, 7),
    "count_only_no_history": (FORMAT_C, DATA_C, None, None, 3),
    "timestamp_only_no_data": (FORMAT_C, None, None, 1_611_583_100, None),
}

SERIALS = {
    "shared": "aaa111222",
    "unicode_floats_relative": "SN-\u00e9\U0001f50b-01",
    "count_only_no_history": "000123",
    "timestamp_only_no_data": "S\"q\\",
}


def method_fits(method, timestamp, count):
    if method == AuthMethod.TIMESTAMP_AUTH:
        return bool(timestamp)
    if method == AuthMethod.COUNTER_AUTH:
        return bool(count)
    return True


def build_request(serial, fmt, data, rows, timestamp, count, method, condensed, key=KEY):
    """The reference's request text for these inputs, and its hash steps."""
    handler = MetricsRequestHandler(serial, data_format=copy.deepcopy(fmt), secret_key=key, auth_method=method)
    if timestamp is not None:
        handler.set_timestamp(timestamp)
    if count is not None:
        handler.set_request_count(count)
    if data is not None:
        handler.set_data(copy.deepcopy(data))
    if rows is not None:
        handler.set_historical_data(copy.deepcopy(rows))
    build = handler.get_condensed_request_payload if condensed else handler.get_simple_request_payload
    return hashed(build)


def server_view(payload, fmt, key=KEY, last_count=None, last_timestamp=None):
    """What the reference server makes of a request."""
    handler = MetricsResponseHandler(
        payload,
        data_format=copy.deepcopy(fmt),
        secret_key=key,
        last_request_count=last_count,
        last_request_timestamp=last_timestamp,
    )
    valid = outcome(handler.is_auth_valid)
    metrics = outcome(handler.get_simple_metrics)
    if "value" in metrics:
        metrics = {"json": OpenPAYGOMetricsShared.convert_to_metrics_json(metrics["value"])}
    return {
        "data_format": fmt,
        "last_request_count": last_count,
        "last_request_timestamp": last_timestamp,
        "received_at": NOW,
        "is_auth_valid": valid,
        "simple_metrics": metrics,
    }


def requests():
    out = []
    for shape, (fmt, data, rows, timestamp, count) in SHAPES.items():
        for condensed in (False, True):
            for method in METHODS:
                if not method_fits(method, timestamp, count):
                    continue
                serial = SERIALS[shape]
                payload, steps = build_request(serial, fmt, data, rows, timestamp, count, method, condensed)
                out.append(
                    {
                        "name": f"{shape}/{'condensed' if condensed else 'simple'}/{method}",
                        "key": KEY,
                        "condensed": condensed,
                        "auth_method": method,
                        "inputs": {
                            "serial_number": serial,
                            "data_format": fmt,
                            "timestamp": timestamp,
                            "request_count": count,
                            "data": data,
                            "historical_data": rows,
                        },
                        "payload": payload,
                        "auth": json.loads(payload)["a" if condensed else "auth"],
                        "hash_steps": steps,
                        "server": server_view(payload, fmt, last_count=count - 1 if count and count > 1 else None),
                    }
                )
    return out


# ---------------------------------------------------------------------------------------------
# Negative and weakness cases


def replace_once(text, old, new):
    assert text.count(old) >= 1, (text, old)
    return text.replace(old, new, 1)


def negative():
    fmt, data, rows, ts, rc = SHAPES["shared"]
    serial = SERIALS["shared"]
    cases = []

    def case(name, payload, paylock, note, fmt=fmt, key=KEY, last_count=None, last_timestamp=None, compat=None, dialect=None, same_as_format=None):
        if same_as_format is not None:
            # paylock's result is the reference's for an equivalent format (the reference fails
            # on the one given).
            paylock = dict(paylock, simple_metrics=server_view(payload, same_as_format, key=key)["simple_metrics"])
        entry = {
            "name": name,
            "note": note,
            "key": key,
            "payload": payload,
            "server": server_view(payload, fmt, key=key, last_count=last_count, last_timestamp=last_timestamp),
            "paylock": paylock,
        }
        if compat is not None:
            entry["paylock_compat_openpaygo_0_6_3"] = compat
        if dialect is not None:
            entry["dialect"] = dialect
        cases.append(entry)

    for condensed in (False, True):
        form = "condensed" if condensed else "simple"
        for method in METHODS:
            payload, _ = build_request(serial, fmt, data, rows, ts, rc, method, condensed)
            m = f"{form}/{method}"
            case(f"wrong_key/{m}", payload, {"error": "auth_mismatch"}, "verified with another device's key", key=OTHER_KEY)
            case(f"replayed_count/{m}", payload, {"error": "replayed"}, "request_count below the last accepted", last_count=rc + 1)
            case(f"repeated_count/{m}", payload, {"error": "repeated"}, "request_count equal to the last accepted", last_count=rc)
            case(f"replayed_timestamp/{m}", payload, {"error": "replayed"}, "timestamp below the last accepted", last_timestamp=ts + 1)
            case(f"repeated_timestamp/{m}", payload, {"error": "repeated"}, "timestamp equal to the last accepted", last_timestamp=ts)
            tampered = replace_once(payload, '"1.2.3"', '"1.2.4"')
            covers = method in (AuthMethod.DATA_AUTH, AuthMethod.RECURSIVE_DATA_AUTH)
            case(
                f"tampered_data/{m}",
                tampered,
                {"error": "auth_mismatch"} if covers else {"ok": True},
                "a data value changed after signing: only da and ra cover the data",
            )
            tampered_row = replace_once(payload, "-1.21", "-1.2")
            case(
                f"tampered_row/{m}",
                tampered_row,
                {"error": "auth_mismatch"} if covers else {"ok": True},
                "a historical value changed after signing: only da and ra cover it",
            )
            bumped = replace_once(payload, f":{rc},", f":{rc + 1},")
            case(
                f"tampered_count/{m}",
                bumped,
                {"ok": True} if method in (AuthMethod.SIMPLE_AUTH, AuthMethod.TIMESTAMP_AUTH) else {"error": "auth_mismatch"},
                "request_count raised after signing: sa and ta do not cover it, so a replay passes",
            )
        # Condensed only: the data format decides the names.
        if condensed:
            for method in (AuthMethod.DATA_AUTH, AuthMethod.RECURSIVE_DATA_AUTH):
                payload, _ = build_request(serial, fmt, data, rows, ts, rc, method, True)
                short = dict(fmt, data_order=fmt["data_order"][:2])
                case(
                    f"data_longer_than_format/{method}",
                    payload,
                    {"error": "data_format"},
                    "3 data values, data_order names 2: 0.6.3 drops the third silently",
                    fmt=short,
                    compat={"ok": True},
                )
                short_rows = dict(fmt, historical_data_order=fmt["historical_data_order"][:3])
                case(
                    f"row_longer_than_format/{method}",
                    payload,
                    {"error": "data_format"},
                    "4 historical values, historical_data_order names 3: 0.6.3 drops the fourth",
                    fmt=short_rows,
                    compat={"ok": True},
                )
                no_order = {k: v for k, v in fmt.items() if k != "data_order"}
                case(f"format_without_data_order/{method}", payload, {"error": "data_format"}, "condensed data and no data_order", fmt=no_order)
                case(f"no_data_format/{method}", payload, {"error": "data_format"}, "condensed data and no data format at all", fmt=None)
                other_order = dict(fmt, data_order=["firmware_version", "tampered", "token_count"])
                case(
                    f"other_data_order/{method}",
                    payload,
                    {"ok": True},
                    "a data format with the names in another order: authentic, but the names are wrong (the signature covers positions, not names)",
                    fmt=other_order,
                )

    # Simple rows and no data format: 0.6.3 fails, paylock expands them.
    simple_rows = [{"timestamp": ts - 60, "v": 1}, {"relative_time": 30, "v": 2}]
    payload, _ = build_request(serial, {"id": 9, "historical_data_interval": 60}, {"token_count": 1}, simple_rows, ts, rc, AuthMethod.RECURSIVE_DATA_AUTH, False)
    case(
        "simple_rows_without_data_format",
        payload,
        {"ok": True},
        "simple rows need no data format: 0.6.3 raises AttributeError reading it",
        fmt=None,
        compat={"error": "data_format"},
        same_as_format={},
    )

    # Hand-made requests: parts missing or malformed.
    def signed(body, method, key=KEY):
        return OpenPAYGOMetricsShared.generate_request_signature_from_data(body, method, key)

    body = {"serial_number": serial, "request_count": rc, "data": {}, "historical_data": {}}
    text = json.dumps(dict(body, auth="ta" + "0" * 16), separators=(",", ":"))
    case("ta_without_timestamp", text, {"error": "auth_missing_part"}, "ta names no timestamp: 0.6.3 raises ValueError")
    body_ts = {"serial_number": serial, "timestamp": ts, "data": {}, "historical_data": {}}
    text = json.dumps(dict(body_ts, auth="ca" + "0" * 16), separators=(",", ":"))
    case("ca_without_count", text, {"error": "auth_missing_part"}, "ca names no request_count: 0.6.3 raises ValueError")
    good = signed(copy.deepcopy(body), AuthMethod.DATA_AUTH)
    text = json.dumps(dict(body, auth="xa" + good[2:]), separators=(",", ":"))
    case("unknown_method", text, {"error": "auth_unknown_method"}, "auth starts with xa: 0.6.3 raises ValueError")
    text = json.dumps(body, separators=(",", ":"))
    case("unsigned", text, {"error": "auth_missing"}, "no auth: 0.6.3 answers not valid")
    padded = good[:2] + good[2:].rjust(17, "0")
    text = json.dumps(dict(body, auth=padded), separators=(",", ":"))
    case("zero_padded_hash", text, {"error": "auth_mismatch"}, "the hash with a leading zero: 0.6.3 compares the text")
    text = json.dumps(dict(body, auth=good.upper()), separators=(",", ":"))
    case("uppercase_auth", text, {"error": "auth_unknown_method"}, "DA is not a method: 0.6.3 raises ValueError")
    fresh_less = {"serial_number": serial, "data": {}, "historical_data": {}}
    text = json.dumps(dict(fresh_less, auth=signed(copy.deepcopy(fresh_less), AuthMethod.SIMPLE_AUTH)), separators=(",", ":"))
    case("neither_count_nor_timestamp", text, {"error": "not_fresh"}, "nothing shows the request is new: 0.6.3 answers not valid")
    mixed = {"sn": serial, "timestamp": ts, "rc": rc, "d": [3, False, "1.2.3"], "historical_data": [[1.5, 2.5]]}
    sig_body = OpenPAYGOMetricsShared.convert_dict_keys_to_simple(copy.deepcopy(mixed))
    text = json.dumps(dict(mixed, a=signed(sig_body, AuthMethod.RECURSIVE_DATA_AUTH)), separators=(",", ":"))
    case("mixed_key_forms", text, {"ok": True}, "short and full key names in one request: both are read")
    pretty = json.dumps(json.loads(build_request(serial, fmt, data, rows, ts, rc, AuthMethod.DATA_AUTH, False)[0]), indent=2, ensure_ascii=False)
    case("reformatted_text", pretty, {"ok": True}, "whitespace and layout do not matter: the server re-serializes what it parsed")

    # A da report with no timestamp, data or rows hashes what ca hashes: relabelled, it passes
    # as ca, under which data is not signed. Pinning the device's method refuses it.
    bare, _ = build_request(serial, fmt, None, None, None, rc, AuthMethod.DATA_AUTH, True)
    relabelled = bare.replace('"a":"da', '"a":"ca', 1)
    case("relabelled_method/unpinned", relabelled, {"ok": True}, "da without timestamp, data or rows relabelled ca: the same hash")
    case("relabelled_method/pinned", relabelled, {"error": "auth_wrong_method"}, "the same, the server knowing the device signs with da")
    cases[-1]["method"] = AuthMethod.DATA_AUTH

    # The OpenPAYGO-HDK firmware hashes its C string with the terminator: "ta" over serial + ts + NUL.
    hdk_serial = "123456789"
    hdk_body = {"sn": hdk_serial, "ts": ts, "df": 31, "d": [3, "1.0.8"], "hd": [[12.5, 3.0, 12.75]]}
    nul_hash = OpenPAYGOMetricsShared.generate_hash_string(hdk_serial + str(ts) + "\x00", KEY)
    text = json.dumps(dict(hdk_body, a="ta" + nul_hash), separators=(",", ":"))
    hdk_format = {"id": 31, "data_order": ["token_count", "firmware_version"], "historical_data_interval": 86400,
                  "historical_data_order": ["power_generated", "hours_of_lighting", "average_battery_voltage"]}
    case("hdk_trailing_nul/standard", text, {"error": "auth_mismatch"}, "HDK firmware signature, server in the standard dialect", fmt=hdk_format)
    case("hdk_trailing_nul/hdk", text, {"ok": True}, "HDK firmware signature, server told the device hashes a trailing NUL", fmt=hdk_format, dialect="hdk_trailing_nul")
    cases[-1]["hdk_hash_input"] = hdk_serial + str(ts) + "\x00"
    return cases


# ---------------------------------------------------------------------------------------------
# Answers


def answer(request_payload, fmt, calls, key, paylock_values=None):
    """The reference's answer to a request after `calls`; with `paylock_values`, the reference
    serializes and signs paylock's corrected time fields instead of computing its own."""
    handler = MetricsResponseHandler(request_payload, data_format=copy.deepcopy(fmt), secret_key=key)
    for name, argument in calls:
        if name == "tokens":
            handler.add_tokens_to_answer(copy.deepcopy(argument))
        elif name == "time":
            target = None if argument is None else FixedClock.fromtimestamp(argument)
            handler.add_time_to_answer(target)
            if paylock_values:
                field, value = next(iter(paylock_values.items()))
                handler.response_dict[field] = value
        elif name == "settings":
            handler.add_settings_to_answer(copy.deepcopy(argument))
        elif name == "base_url":
            handler.add_new_base_url_to_answer(argument)
        elif name == "extra_data":
            handler.add_extra_data_to_answer(copy.deepcopy(argument))
    text, steps = hashed(handler.get_answer_payload)
    return text, steps, copy.deepcopy(handler.response_dict)


def responses():
    out = []
    ts, rc = 1_611_583_070, 42
    until_format = {"id": 1, "data_order": ["token_count", "active_until_timestamp_requested"]}
    left_format = {"id": 2, "data_order": ["token_count", "active_seconds_left_requested"]}
    plain_format = {"id": 3, "data_order": ["token_count"]}
    future, past = NOW + 86_400 * 3 + 17, NOW - 5000
    scenarios = [
        # name, data format, data, (ts, rc), calls
        ("tokens_only", plain_format, {"token_count": 4}, (ts, rc), [("tokens", ["123456789", 987654321])]),
        ("empty_token_list", plain_format, {"token_count": 4}, (ts, rc), [("tokens", [])]),
        ("nothing", plain_format, {"token_count": 4}, (None, rc), []),
        ("until_future", until_format, {"token_count": 4, "active_until_timestamp_requested": True}, (ts, rc),
         [("tokens", ["000111222"]), ("time", future)]),
        ("until_none", until_format, {"token_count": 4, "active_until_timestamp_requested": True}, (ts, None), [("time", None)]),
        ("until_1970", until_format, {"token_count": 4, "active_until_timestamp_requested": True}, (None, rc), [("time", 86_400)]),
        ("seconds_left_future", left_format, {"token_count": 4, "active_seconds_left_requested": True}, (ts, rc), [("time", future)]),
        ("seconds_left_past", left_format, {"token_count": 4, "active_seconds_left_requested": True}, (ts, rc), [("time", past)]),
        ("seconds_left_none", left_format, {"token_count": 4, "active_seconds_left_requested": 1}, (None, rc), [("time", None)]),
        ("settings_and_extra", plain_format, {"token_count": 4}, (ts, rc),
         [("settings", {"power_mode": "high", "n": 3}), ("base_url", "https://new.example/\u00e9"),
          ("extra_data", {"sun": "990", "x": [1.5, None, True]}), ("tokens", [111222333])]),
        ("settings_first", plain_format, {"token_count": 4}, (ts, None),
         [("extra_data", {"a": 1}), ("settings", {"base_url": "u"}), ("settings", {"base_url": "v", "k": -0.5})]),
    ]
    for name, fmt, data, (r_ts, r_rc), calls in scenarios:
        for condensed in (False, True):
            request, _ = build_request("dev-9\u00e9", fmt, data, None, r_ts, r_rc, AuthMethod.RECURSIVE_DATA_AUTH, condensed)
            for with_key in (True, False):
                key = KEY if with_key else None
                text, steps, fields = answer(request, fmt, calls, key)
                entry = {
                    "name": f"{name}/{'condensed' if condensed else 'simple'}/{'signed' if with_key else 'unsigned'}",
                    "key": KEY,
                    "signed": with_key,
                    "request": request,
                    "data_format": fmt,
                    "now": NOW,
                    "calls": [list(call) for call in calls],
                    "sent": {"serial_number": "dev-9\u00e9", "timestamp": r_ts, "request_count": r_rc},
                    "openpaygo_0_6_3": {"payload": text, "hash_steps": steps, "fields": fields},
                }
                time_calls = [argument for call, argument in calls if call == "time"]
                if time_calls:
                    target = time_calls[0]
                    corrected = paylock_time(fields, target)
                    p_text, p_steps, p_fields = answer(request, fmt, calls, key, paylock_values=corrected)
                    entry["paylock"] = {"payload": p_text, "hash_steps": p_steps, "fields": p_fields}
                else:
                    entry["paylock"] = {"payload": text, "hash_steps": steps, "fields": fields}
                out.append(entry)
    return out


def paylock_time(fields, target):
    """paylock's time field for the same request: the until-time as an integer, the seconds
    left as target - now, both 0 without a target (and before 1971 for the until-time)."""
    if "active_until_timestamp" in fields:
        return {"active_until_timestamp": target if target and target >= 31_536_000 else 0}
    return {"active_seconds_left": max(target - NOW, 0) if target else 0}


def refused_answers(answers):
    """Answers a device must refuse, each made from a signed reference answer."""
    out = []
    for entry in answers:
        if not entry["signed"] or not entry["name"].startswith(("until_future", "settings_and_extra")):
            continue
        text = entry["paylock"]["payload"]
        sent = entry["sent"]
        base = entry["name"]
        changes = [
            ("tampered", text.replace(":[", ":[1,", 1) if ":[" in text else text.replace('"auts":', '"auts":1', 1)),
            ("unsigned", json.dumps({k: v for k, v in json.loads(text).items() if k != "a"}, separators=(",", ":"))),
        ]
        for label, changed in changes:
            out.append({"name": f"{label}/{base}", "key": KEY, "payload": changed, "sent": sent, "device": {"error": label if label == "unsigned" else "signature"}})
        out.append({"name": f"wrong_key/{base}", "key": OTHER_KEY, "payload": text, "sent": sent, "device": {"error": "signature"}})
        other = dict(sent, request_count=(sent["request_count"] or 0) + 1)
        out.append({"name": f"other_request/{base}", "key": KEY, "payload": text, "sent": other, "device": {"error": "signature"}})
    return out


# ---------------------------------------------------------------------------------------------


def meta(description):
    import platform

    return {
        "generator": "tests/differential/metrics_vectors.py",
        "reference": f"openpaygo=={REFERENCE_VERSION} (PyPI)",
        "python": platform.python_version(),
        "time_zone": "UTC",
        "server_now": NOW,
        "description": description,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[2] / "test-vectors" / "openpaygo"))
    parser.add_argument("--check", action="store_true", help="compare with the files instead of writing them")
    args = parser.parse_args()
    answers = responses()
    files = {
        "metrics_requests.json": {
            "meta": meta("signed requests: payload, auth, every hashed text, the server's verdict and expanded report"),
            "requests": requests(),
        },
        "metrics_negative.json": {
            "meta": meta("requests to refuse or that show a weakness; `paylock` labels the error kind paylock reports"),
            "cases": negative(),
        },
        "metrics_responses.json": {
            "meta": meta("answers in 0.6.3's form and paylock's, and answers a device must refuse"),
            "answers": answers,
            "refused": refused_answers(answers),
        },
    }
    shared = Path(__file__).resolve().parents[2] / "test-vectors" / "openpaygo" / "openpaygo_generated_vectors.json"
    files["metrics_auth.json"] = {
        "meta": {
            "source": "test-vectors/openpaygo/openpaygo_generated_vectors.json, section metrics_auth (seed 20240601)",
            "description": "the 10 shared request vectors (simple and condensed x sa, ta, ca, da, ra), copied unchanged",
        },
        "metrics_auth": json.loads(shared.read_text(encoding="utf-8"))["metrics_auth"],
    }
    stale = []
    for name, content in files.items():
        text = json.dumps(content, indent=1, ensure_ascii=False) + "\n"
        path = Path(args.out) / name
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path} ({len(text)} bytes)")
    if stale:
        sys.exit(f"out of date (run tests/differential/metrics_vectors.py): {', '.join(stale)}")
    if args.check:
        print(f"{len(files)} vector files match the reference's output")


if __name__ == "__main__":
    main()
