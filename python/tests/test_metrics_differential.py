"""paylock.openpaygo's Metrics handlers against the reference ``openpaygo`` 0.6.3, call for call.

Thousands of random reports (the five auth methods, simple and condensed, random data formats,
floats, unicode, missing optional parts), each built by both ``MetricsRequestHandler``s, then
read by both ``MetricsResponseHandler``s (as sent, re-laid out, or tampered with), then answered
(tokens, time, settings, extra data, signed or not). The texts, the dicts, ``is_auth_valid`` and
``get_simple_metrics`` must be identical, and so must every ``ValueError`` message.

The only differences allowed are paylock's decisions (``docs/openpaygo.md``), each recognised
from the input and checked as the documented outcome:

* M2, only under ``compat="paylock"``: the until-time an integer and the seconds left
  ``target - now`` (the reference's answer is rebuilt with those values and signed by the
  reference itself), extra condensed values refused, object rows expanded without a format;
* M5: integers beyond 64 bits or ``-0`` and a row time that is a bool or a string are refused
  with a ``ValueError`` where 0.6.3 reads them;
* a ``ValueError`` for variables the data format does not name lists their names, where 0.6.3
  prints the dict with its values (errors never echo values);
* where 0.6.3 crashes with another exception (``AttributeError``, ``TypeError``), paylock raises
  a ``ValueError``.

Seeded (``PAYLOCK_METRICS_SEED``, default 13) and deterministic: the clock is frozen and the time
zone is UTC, as M3 says 0.6.3's dates are compared.
"""

from __future__ import annotations

import ast
import copy
import json
import os
import random
import sys
import time
from collections import Counter
from datetime import datetime as real_datetime
from importlib.metadata import version
from pathlib import Path

import openpaygo.metrics_response as ref_response
import pytest
from openpaygo import MetricsRequestHandler as RefRequest
from openpaygo import MetricsResponseHandler as RefResponse

import paylock._metrics as our_module
from paylock.openpaygo import AuthMethod, MetricsRequestHandler, MetricsResponseHandler

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "differential"))
from metrics_random import (  # noqa: E402 - the generator shared with tests/differential/metrics_compare.py
    METHODS, NOW, data_format, dumps, lone_surrogate, loose_row_time, mutate, name, report_values, row_values,
    text, too_long, unkept_number, value,
)

SEED = int(os.environ.get("PAYLOCK_METRICS_SEED", "13"))
CASES = 2_500
#: What the comparisons reached, per run: the test asserts each path was taken often.
REACHED: Counter = Counter()


class FixedClock(real_datetime):
    @classmethod
    def now(cls, tz=None):
        return cls.fromtimestamp(NOW, tz)


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.setattr(ref_response, "datetime", FixedClock)
    monkeypatch.setattr(our_module, "datetime", FixedClock)
    yield
    monkeypatch.undo()
    time.tzset()


def outcome(call):
    """("ok", result) or ("raised", exception type name, message)."""
    try:
        return ("ok", call())
    except Exception as error:  # noqa: BLE001 - the type and message are compared
        return ("raised", type(error).__name__, str(error))


class Case:
    """One report's inputs; some are outside what 0.6.3 accepts (both must refuse alike)."""

    def __init__(self, rng):
        key = rng.getrandbits(128).to_bytes(16, "big").hex()
        self.key = key.upper() if rng.random() < 0.1 else key
        self.serial = text(rng, 0, 14) if rng.random() < 0.6 else str(rng.randint(0, 10**9))
        self.fmt = data_format(rng) if rng.random() < 0.95 else None
        if self.fmt is not None and rng.random() < 0.2:
            del self.fmt["id"]
        self.condensed = rng.random() < 0.5
        self.timestamp = rng.choice([None, rng.randint(1_500_000_000, 1_800_000_000)])
        self.count = rng.choice([None, rng.randint(1, 10**6), 1])
        if self.timestamp is None and self.count is None and rng.random() < 0.9:
            self.count = rng.randint(1, 1000)
        self.ts_first = rng.random() < 0.9
        # Mostly methods that fit; sometimes ta/ca without their part, or no method at all.
        self.method = rng.choice(METHODS + [None]) if rng.random() < 0.1 else rng.choice(
            [m for m in METHODS if (m != "ta" or self.timestamp) and (m != "ca" or self.count)]
        )
        order = (self.fmt or {}).get("data_order") or []
        self.data = None if rng.random() < 0.15 else report_values(rng, order, self.condensed, nested=True)
        if self.data is not None and rng.random() < 0.25:
            flag = rng.choice(["active_until_timestamp_requested", "active_seconds_left_requested", "autsr", "aslr"])
            if not self.condensed or flag in order:
                self.data[flag] = rng.choice([True, 1, False])
        if self.data is not None and self.condensed and rng.random() < 0.03:
            self.data[name(rng)] = 1  # not in the format: both refuse
        self.rows = None
        if self.fmt is not None and rng.random() < 0.75:
            self.rows = [row_values(rng, self.fmt, self.condensed, self.timestamp, nested=True) for _ in range(rng.randint(0, 5))]


def build(cls, case):
    """The request handler after the case's calls (errors raised by the setters propagate)."""
    handler = cls(case.serial, data_format=copy.deepcopy(case.fmt), secret_key=case.key, auth_method=case.method)
    setters = [(handler.set_timestamp, case.timestamp), (handler.set_request_count, case.count)]
    if not case.ts_first:
        setters.reverse()
    for setter, argument in setters:
        if argument is not None:
            setter(argument)
    if case.data is not None:
        handler.set_data(copy.deepcopy(case.data))
    if case.rows is not None:
        handler.set_historical_data(copy.deepcopy(case.rows))
    return handler


def request_side(case):
    """Both request handlers, every output compared; returns the report text, or None."""
    texts = []
    for form in ("payload", "dict"):
        getter = f"get_{'condensed' if case.condensed else 'simple'}_request_{form}"
        ref = outcome(lambda: getattr(build(RefRequest, case), getter)())
        ours = outcome(lambda: getattr(build(MetricsRequestHandler, case), getter)())
        if ref[0] == "raised" and ref[1] != "ValueError":
            # 0.6.3 crashes (AttributeError without a data format): paylock raises too.
            assert ours[0] == "raised", (case.__dict__, ref, ours)
            return None
        if ref[0] == "raised" and ref[2].startswith("Additional variables"):
            # Errors never echo values: paylock lists the names where 0.6.3 prints the dict.
            prefix, printed = ref[2].split(": ", 1)
            ref = (*ref[:2], f"{prefix}: {list(ast.literal_eval(printed))}")
            REACHED["additional variables"] += 1
        assert ours == ref, (case.__dict__, ref, ours)
        REACHED[f"request {case.method} {case.condensed} {ref[0]}"] += 1
        if ref[0] == "ok":
            texts.append(ref[1] if form == "payload" else dumps(ref[1]))
    return texts[0] if texts else None


# --- the server ------------------------------------------------------------------------------


def server_side(rng, case, report, compat):
    fmt = copy.deepcopy(case.fmt)
    pick = rng.random()
    if pick < 0.1:
        fmt = None
    elif pick < 0.2 and fmt and fmt.get("data_order"):
        fmt["data_order"] = fmt["data_order"][: rng.randrange(len(fmt["data_order"]))]
    key = case.key if rng.random() < 0.92 else rng.getrandbits(128).to_bytes(16, "big").hex()
    last_count = last_ts = None
    if case.count and rng.random() < 0.5:
        last_count = case.count + rng.choice([-1, 0, 1, -case.count + 1, 5])
    if case.timestamp and rng.random() < 0.4:
        last_ts = case.timestamp + rng.choice([-1, 0, 1, -1000])
    arguments = dict(data_format=fmt, secret_key=key, last_request_count=last_count, last_request_timestamp=last_ts)

    ref_made = outcome(lambda: RefResponse(report, **copy.deepcopy(arguments)))
    ours_made = outcome(lambda: MetricsResponseHandler(report, **copy.deepcopy(arguments), compat=compat))
    if ref_made[0] == "raised":
        assert ours_made[0] == "raised" and ours_made[1] == ref_made[1], (report, ref_made, ours_made)
        return
    if unkept_number(report):
        raised = {"integer": "ValueError", "float": "JSONDecodeError"}[unkept_number(report)]
        assert ours_made[:2] == ("raised", raised), (report, ours_made)
        return
    if lone_surrogate(report):
        assert ours_made[:2] == ("raised", "JSONDecodeError"), (report, ours_made)
        return
    assert ours_made[0] == "ok", (report, ours_made)
    ref, ours = ref_made[1], ours_made[1]
    assert ours.request_dict == ref.request_dict
    assert ours.get_device_serial() == ref.get_device_serial()
    assert ours.get_request_count() == ref.get_request_count()
    assert ours.get_data_format_id() == ref.get_data_format_id()
    assert ours.data_format_available() == ref.data_format_available()

    ref_valid, our_valid = outcome(ref.is_auth_valid), outcome(ours.is_auth_valid)
    REACHED[f"valid {ref_valid[1]}"] += 1
    if ref_valid[0] == "raised" and ref_valid[1] != "ValueError":
        assert our_valid[:2] == ("raised", "ValueError"), (report, ref_valid, our_valid)
    else:
        assert our_valid == ref_valid, (report, arguments, ref_valid, our_valid)

    ref_metrics = outcome(lambda: dumps(ref.get_simple_metrics()))
    our_metrics = outcome(lambda: dumps(ours.get_simple_metrics()))
    if loose_row_time(ref) and ref_metrics[0] == "ok":
        assert our_metrics[:2] == ("raised", "ValueError"), (report, our_metrics)
        return
    if compat == "paylock" and ref_metrics[0] == "ok" and too_long(report, ref.data_format):
        assert our_metrics[:2] == ("raised", "ValueError"), (report, our_metrics)
        return
    if compat == "paylock" and ref.data_format is None and ref_metrics[1] == "AttributeError":
        # M2: object rows with their own times need no format; 0.6.3 expands them with one.
        ref.data_format = {}
        ref_metrics = outcome(lambda: dumps(ref.get_simple_metrics()))
        ref.data_format = None
    if ref_metrics[0] == "raised":
        assert our_metrics[:2] == ("raised", "ValueError"), (report, ref_metrics, our_metrics)
        return
    assert our_metrics == ref_metrics, (report, fmt, ref_metrics, our_metrics)
    REACHED["metrics equal"] += 1
    if ref_valid == ("ok", True) and report is not None:
        answer_side(rng, ref, ours, compat)


def answer_side(rng, ref, ours, compat):
    assert ours.expects_token_answer() == ref.expects_token_answer()
    assert ours.expects_time_answer() == ref.expects_time_answer()
    assert ours.get_token_count() == ref.get_token_count()
    if rng.random() < 0.15:
        ref.secret_key = ours.secret_key = None
    calls = []
    if ref.expects_token_answer() or rng.random() < 0.3:
        calls.append(("tokens", [rng.choice([str(rng.randint(0, 10**9 - 1)).zfill(9), rng.randint(0, 10**9 - 1)])
                                 for _ in range(rng.randint(0, 3))]))
    if ref.expects_time_answer() or rng.random() < 0.05:
        calls.append(("time", rng.choice([None, NOW + rng.randint(-10**6, 10**7), rng.randint(0, 31_536_000), NOW])))
    for kind in ("settings", "extra_data", "base_url"):
        for _ in range(rng.choice([0, 0, 1, 2])):
            calls.append((kind, text(rng) if kind == "base_url" else {name(rng): value(rng, nested=True) for _ in range(rng.randint(0, 3))}))
    rng.shuffle(calls)
    for call, argument in calls:
        if call == "tokens":
            ref.add_tokens_to_answer(copy.deepcopy(argument))
            ours.add_tokens_to_answer(copy.deepcopy(argument))
        elif call == "time":
            target = None if argument is None else FixedClock.fromtimestamp(argument)
            ref_time, our_time = outcome(lambda: ref.add_time_to_answer(target)), outcome(lambda: ours.add_time_to_answer(target))
            assert our_time == ref_time
            if compat == "paylock" and ref_time[0] == "ok":
                # M2: paylock's values, put in the reference's answer, which signs them itself.
                if "active_until_timestamp" in ref.response_dict:
                    ref.response_dict["active_until_timestamp"] = argument if argument and argument >= 31_536_000 else 0
                else:
                    ref.response_dict["active_seconds_left"] = max(argument - NOW, 0) if argument else 0
        elif call == "settings":
            ref.add_settings_to_answer(copy.deepcopy(argument))
            ours.add_settings_to_answer(copy.deepcopy(argument))
        elif call == "extra_data":
            ref.add_extra_data_to_answer(copy.deepcopy(argument))
            ours.add_extra_data_to_answer(copy.deepcopy(argument))
        else:
            ref.add_new_base_url_to_answer(argument)
            ours.add_new_base_url_to_answer(argument)
    assert ours.response_dict == ref.response_dict
    assert ours.get_answer_payload() == ref.get_answer_payload(), calls
    REACHED["answer equal"] += 1
    REACHED["answer with time"] += any(call == "time" for call, _ in calls)
    assert dumps(ours.get_answer_dict()) == dumps(ref.get_answer_dict())


# --- the tests -------------------------------------------------------------------------------


def test_reference_version():
    assert version("openpaygo") == "0.6.3"


def test_auth_method_names():
    assert {k: v for k, v in vars(AuthMethod).items() if k.isupper()} == {
        "SIMPLE_AUTH": "sa", "TIMESTAMP_AUTH": "ta", "COUNTER_AUTH": "ca", "DATA_AUTH": "da", "RECURSIVE_DATA_AUTH": "ra",
    }


@pytest.mark.parametrize("compat", ["openpaygo063", "paylock"])
def test_random_reports_and_answers(compat):
    rng = random.Random(f"{SEED}/metrics/{compat}")
    REACHED.clear()
    answered = built = 0
    for _ in range(CASES):
        case = Case(rng)
        report = request_side(case)
        if report is None:
            continue
        built += 1
        server_side(rng, case, report if rng.random() < 0.5 else mutate(rng, report)[0], compat)
        answered += 1
    # The generator must reach the server for most cases, or the comparison proves little.
    assert built > CASES * 0.7, built
    assert answered == built
    print(sorted(REACHED.items()))
    for method in METHODS:
        for condensed in (False, True):
            assert REACHED[f"request {method} {condensed} ok"] > 50, (method, condensed)
    assert REACHED["valid True"] > CASES * 0.3 and REACHED["valid False"] > CASES * 0.1
    assert REACHED["metrics equal"] > CASES * 0.5 and REACHED["additional variables"] > 10
    # About 110 answers carry a time (91-136 over seeds 13 and 16-24): the bound holds for any seed.
    assert REACHED["answer equal"] > CASES * 0.3 and REACHED["answer with time"] > 50


def test_reports_without_auth_or_key():
    handler = MetricsResponseHandler('{"sn":"x","rc":1}')
    assert handler.is_auth_valid() is False
    ref = RefResponse('{"sn":"x","rc":1}')
    assert ref.is_auth_valid() is False
    for cls in (RefResponse, MetricsResponseHandler):
        with pytest.raises(ValueError, match="Secret key is required"):
            cls('{"sn":"x","rc":1,"a":"sa123"}').is_auth_valid()
        with pytest.raises(json.JSONDecodeError):
            cls('{"sn":')


def test_data_format_changed_in_place_between_calls():
    # 0.6.3 reads the dict on every call: a CRM that edits it in place is read anew.
    fmt = {"id": 7, "data_order": ["token_count", "tampered"], "historical_data_order": ["a", "b"],
           "historical_data_interval": 60}
    sender = RefRequest("sn1", data_format=copy.deepcopy(fmt), secret_key="aa" * 16, auth_method="da")
    sender.set_request_count(5)
    sender.set_data({"token_count": 2, "tampered": True})
    sender.set_historical_data([{"a": 1.5, "b": 2}, {"a": 3.25}])
    report = sender.get_condensed_request_payload()
    edits = [
        lambda f: f.__setitem__("historical_data_interval", 120),
        lambda f: f["data_order"].__setitem__(1, "other"),
        lambda f: f["historical_data_order"].append("c"),
        lambda f: f.__setitem__("historical_data_interval", -30),
    ]
    ref_fmt, our_fmt = copy.deepcopy(fmt), copy.deepcopy(fmt)
    ref = RefResponse(report, data_format=ref_fmt, secret_key="aa" * 16, last_request_count=4)
    ours = MetricsResponseHandler(report, data_format=our_fmt, secret_key="aa" * 16, last_request_count=4)
    for edit in edits:
        assert ours.is_auth_valid() is ref.is_auth_valid() is True
        edit(ref_fmt)
        edit(our_fmt)
        assert dumps(ours.get_simple_metrics()) == dumps(ref.get_simple_metrics())
        assert ours.get_token_count() == ref.get_token_count()
