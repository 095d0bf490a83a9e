"""The Metrics handlers never repeat a key: a planted key is put, in each of its forms, into every
argument of every constructor and method of ``MetricsRequestHandler`` and
``MetricsResponseHandler``, and no exception text (str, repr, args, the chained exceptions)
contains it. Only the handler's own attributes may hold it (``secret_key``, as 0.6.3)."""

from __future__ import annotations

import inspect
import json
from datetime import datetime

import pytest

from paylock.openpaygo import MetricsRequestHandler, MetricsResponseHandler

KEY = "dac86b1a29ab82edc5fbbc41ec9530f6"
SECRET = "5f3c9a1e7b2d4c6081a9e3f5b7d9c1e3"
PLANTED = [
    SECRET,
    SECRET.upper(),
    SECRET[:31],
    SECRET + "0",
    SECRET.encode(),
    bytes.fromhex(SECRET),
    int(SECRET, 16),
    [SECRET],
    {"k": SECRET},
    {"id": SECRET, "data_order": [SECRET]},
    "ra" + SECRET,
]
FORMS = [SECRET, SECRET.upper(), SECRET[:31], str(int(SECRET, 16)), repr(bytes.fromhex(SECRET))[2:-1]]
FORMAT = {"id": 7, "data_order": ["token_count", "x"], "historical_data_order": ["v"], "historical_data_interval": 60}


def exception_texts(error):
    texts, seen = [], set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        texts += [str(error), repr(error), repr(error.args)]
        error = error.__cause__ or error.__context__
    return "\n".join(texts)


#: Refusals inspected so far: each test asserts it made its calls fail.
REFUSED = []


def check(call, what):
    try:
        call()
    except Exception as error:  # noqa: BLE001 - every refusal is inspected
        REFUSED.append(what)
        text = exception_texts(error)
        leaked = [form for form in FORMS if form in text]
        assert not leaked, f"{what}: {type(error).__name__} repeats the key: {text[:300]}"


def request_handler(**overrides):
    arguments = dict(serial_number="aaa111222", data_format=dict(FORMAT), secret_key=KEY, auth_method="ra")
    arguments.update(overrides)
    handler = MetricsRequestHandler(**arguments)
    handler.set_timestamp(1611583070)
    handler.set_request_count(42)
    handler.set_data({"token_count": 3, "x": 1.5})
    handler.set_historical_data([{"v": 1}])
    return handler


def report():
    return request_handler().get_condensed_request_payload()


def response_handler(**overrides):
    arguments = dict(received_metrics=report(), data_format=dict(FORMAT), secret_key=KEY, last_request_count=41)
    arguments.update(overrides)
    return MetricsResponseHandler(**arguments)


@pytest.mark.parametrize("planted", PLANTED, ids=repr)
def test_request_handler(planted):
    REFUSED.clear()
    for name in inspect.signature(MetricsRequestHandler.__init__).parameters:
        if name == "self":
            continue
        for getter in ("get_simple_request_payload", "get_condensed_request_payload",
                       "get_simple_request_dict", "get_condensed_request_dict"):
            check(lambda: getattr(request_handler(**{name: planted}), getter)(), f"{name} {getter}")
    for setter in ("set_request_count", "set_timestamp", "set_data", "set_historical_data"):
        for getter in ("get_simple_request_payload", "get_condensed_request_payload"):

            def call():
                handler = request_handler()
                getattr(handler, setter)(planted)
                getattr(handler, getter)()

            check(call, f"{setter} {getter}")
    assert len(REFUSED) >= 10, REFUSED


@pytest.mark.parametrize("planted", PLANTED, ids=repr)
def test_response_handler(planted):
    REFUSED.clear()
    methods = ["is_auth_valid", "get_simple_metrics", "get_token_count", "expects_time_answer", "get_answer_payload",
               "get_answer_dict"]
    for name in inspect.signature(MetricsResponseHandler.__init__).parameters:
        if name == "self":
            continue
        for method in methods:
            check(lambda: getattr(response_handler(**{name: planted}), method)(), f"{name} {method}")
    for adder in ("add_tokens_to_answer", "add_time_to_answer", "add_new_base_url_to_answer",
                  "add_settings_to_answer", "add_extra_data_to_answer"):

        def call():
            handler = response_handler()
            getattr(handler, adder)(planted)
            handler.get_answer_payload()

        check(call, adder)
    for name in ("secret_key", "data_format", "last_request_count", "last_request_timestamp"):
        for method in methods:

            def call():
                handler = response_handler()
                handler.set_device_parameters(**{name: planted})
                getattr(handler, method)()

            check(call, f"set_device_parameters {name} {method}")
    assert len(REFUSED) >= 10, REFUSED


def test_planted_report_texts():
    """The key inside the report itself (as its auth, serial number, data, a number)."""
    texts = [
        json.dumps({"sn": "x", "rc": 1, "a": "ra" + SECRET}),
        json.dumps({"sn": "x", "rc": 1, "a": SECRET}),
        json.dumps({"sn": SECRET, "ts": SECRET, "a": "ta1"}),
        json.dumps({"sn": "x", "rc": int(SECRET, 16), "a": "ca1"}),
        json.dumps({"sn": "x", "rc": 1, "d": SECRET, "a": "da1"}),
        json.dumps({"sn": "x", "rc": 1, "d": [1, 2, 3, SECRET], "a": "da1"}),
        json.dumps({"sn": "x", "rc": 1, "hd": [SECRET], "a": "da1"}),
        json.dumps({"sn": "x", "rc": 1, "hd": [{"relative_time": SECRET}], "a": "da1"}),
        '{"sn":"' + SECRET + '",',
        SECRET,
    ]
    REFUSED.clear()
    for text in texts:
        for method in ("is_auth_valid", "get_simple_metrics", "get_answer_payload"):
            check(lambda: getattr(MetricsResponseHandler(text, data_format=dict(FORMAT), secret_key=KEY), method)(),
                  f"{text[:20]} {method}")
    assert len(REFUSED) >= len(texts), REFUSED


def test_the_answer_is_signed_with_the_key_not_echoing_it():
    handler = response_handler()
    assert handler.is_auth_valid() is True
    handler.add_tokens_to_answer(["123456789"])
    handler.add_settings_to_answer({"until": datetime(2030, 1, 1).timestamp()})
    payload = handler.get_answer_payload()
    assert KEY not in payload and payload.startswith('{"tkl":["123456789"]')
