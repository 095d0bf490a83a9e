"""Input a Python service may be handed by anyone: it never kills the interpreter, one bad request
costs only its own answer, and no answer or exception carries the request's content."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping

import pytest

import paylock
from paylock import device

KEY = "a29ab82edc5fbbc41ec9530f6dac86b1"
#: A key no request below is meant to use, planted in the bad requests: no text may repeat it.
SECRET = "5f3c9a1e7b2d4c6081a9e3f5b7d9c1e3"
GOOD = {
    "scheme": "openpaygo", "op": "generate", "key": KEY, "starting_code": 123456789, "count": 0,
    "token_type": "ADD_TIME", "value": 1, "restricted_digit_set": False, "extended_token": False,
}
GOOD_ANSWER = {"ok": True, "token": "662486790", "count": 2}


def nested(depth, leaf=0):
    """A list `depth` levels deep."""
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def run_python(code):
    """Runs `code` in a fresh interpreter (a crash there must not take the test run down)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    "build",
    [
        'd = {}; d["self"] = d',
        "d = [0]\nfor _ in range(100_000): d = [d]\nd = {'x': d}",
        "d = {}\nfor _ in range(100_000): d = {'x': d}",
    ],
    ids=["cycle", "list-100000-deep", "dict-100000-deep"],
)
def test_cycles_and_deep_nesting_do_not_crash_the_interpreter(build):
    code = f"""
import json, paylock
{build}
answers = paylock.issue_many([d, {GOOD!r}])
print(json.dumps(answers))
"""
    done = run_python(code)
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    answers = json.loads(done.stdout)
    assert answers[0]["error"]["kind"] == "invalid_request"
    assert answers[1] == GOOD_ANSWER


def test_a_cycle_and_nesting_past_127_levels_are_typed_errors():
    d = dict(GOOD)
    d["params"] = {"back": d}
    lst = [1]
    lst.append(lst)
    answers = paylock.issue_many([d, dict(GOOD, x=lst), dict(GOOD, x=nested(200)), GOOD])
    assert answers[0]["error"] == {
        "kind": "invalid_request",
        "message": 'field "params.back" contains itself (a cycle): JSON cannot hold it',
        "field": "params.back",
    }
    assert answers[1]["error"]["message"] == 'field "x[1]" contains itself (a cycle): JSON cannot hold it'
    assert answers[2]["error"]["kind"] == "invalid_request"
    assert "nests deeper than 127 levels" in answers[2]["error"]["message"]
    assert answers[3] == GOOD_ANSWER
    # The same object twice is not a cycle.
    shared = {"hours": 1}
    assert paylock.issue_many([dict(GOOD, a=shared, b=[shared, shared])]) == [GOOD_ANSWER]


def test_the_depth_limit_is_that_of_json_text():
    """A request nests as deep as serde_json reads JSON text (the request object counts)."""
    for depth in (126, 127, 128):
        as_dict = paylock.issue_many([dict(GOOD, x=nested(depth))])[0]
        as_text = paylock.issue_many([json.dumps(dict(GOOD, x=nested(depth)))])[0]
        deep_text = json.loads(as_text).get("error", {}).get("kind") == "invalid_json"
        deep_dict = as_dict.get("error", {}).get("kind") == "invalid_request"
        assert deep_text == deep_dict, (depth, as_dict, as_text)
    assert paylock.issue_many([dict(GOOD, x=nested(126))]) == [GOOD_ANSWER]
    assert paylock.issue_many([dict(GOOD, x=nested(127))])[0]["ok"] is False


def test_one_request_without_a_json_form_costs_only_its_own_answer():
    surrogate = SECRET + "\ud800"
    bad = [
        dict(GOOD, value=float("nan")),
        dict(GOOD, value=2**80),
        dict(GOOD, key=SECRET.encode()),
        dict(GOOD, key=surrogate),
        dict(GOOD, params={SECRET: float("inf")}),
        dict(GOOD, **{"\udc00": 1}),
        {1: SECRET},
        SECRET.encode(),
        json.dumps(dict(GOOD, key=SECRET))[:-1] + "\ud800",
        object(),
    ]
    requests = [GOOD]
    for request in bad:
        requests += [request, GOOD]
    answers = paylock.issue_many(requests)
    assert answers[0::2] == [GOOD_ANSWER] * (len(bad) + 1)
    refused = answers[1::2]
    kinds = [(a if isinstance(a, dict) else json.loads(a))["error"]["kind"] for a in refused]
    assert kinds == [
        "out_of_range",
        "out_of_range",
        "wrong_type",
        "invalid_utf8",
        "out_of_range",
        "invalid_utf8",
        "wrong_type",
        "invalid_request",
        "invalid_utf8",
        "invalid_request",
    ]
    # Each answer has its request's form: a str request gets a str answer.
    assert isinstance(refused[8], str) and isinstance(refused[7], dict)
    messages = [(a if isinstance(a, dict) else json.loads(a))["error"]["message"] for a in refused]
    assert messages[0] == 'field "value" is NaN or infinite: JSON has no such number'
    assert messages[1] == 'field "value" is an integer wider than 64 bits'
    assert messages[2].startswith('field "key" is a bytes, which has no JSON form')
    assert messages[3] == 'field "key" holds a lone surrogate, which is not text (it has no UTF-8 form)'
    assert messages[4].startswith('field "params[…]" is NaN')  # a key that may be a secret is not shown
    for text in map(str, refused):
        assert SECRET not in text and str(int(SECRET, 16)) not in text, text


def test_json_lines_text_with_a_lone_surrogate_answers_line_by_line():
    lines = [json.dumps(GOOD), json.dumps(dict(GOOD, key=SECRET)) + "\ud800", "", json.dumps(GOOD)]
    out = paylock.issue_many("\n".join(lines) + "\n").splitlines()
    assert len(out) == 4
    assert [json.loads(a) for a in out[0::3]] == [GOOD_ANSWER, GOOD_ANSWER]
    error = json.loads(out[1])["error"]
    assert error["kind"] == "invalid_utf8" and "byte" in error["message"]
    assert json.loads(out[2])["error"]["kind"] == "invalid_json"
    assert SECRET not in "".join(out)


def test_a_request_too_large_for_a_line_is_refused_before_the_work():
    # 2^40 leaves if walked: refused by size, long before.
    wide = [0]
    for _ in range(40):
        wide = [wide, wide]
    big = "x" * (1 << 20)
    answers = paylock.issue_many([dict(GOOD, x=wide), dict(GOOD, x=big), GOOD])
    assert [a["ok"] for a in answers] == [False, False, True]
    assert {a["error"]["kind"] for a in answers[:2]} == {"line_too_long"}
    line = json.dumps(dict(GOOD, x=big))
    assert json.loads(paylock.issue_many([line])[0])["error"]["kind"] == "line_too_long"


class Raising(Mapping):
    """A mapping whose items cannot be read."""

    def __init__(self, error):
        self.error = error

    def __getitem__(self, key):
        raise KeyError(key)

    def __iter__(self):
        raise self.error

    def __len__(self):
        return 1


def test_a_mapping_that_raises_is_refused_by_the_exception_type_only():
    answers = paylock.issue_many([dict(GOOD, params=Raising(ValueError(SECRET))), GOOD])
    assert answers[0]["error"] == {
        "kind": "invalid_request",
        "message": 'field "params" could not be read: it raised ValueError',
        "field": "params",
    }
    assert answers[1] == GOOD_ANSWER
    with pytest.raises(KeyboardInterrupt):
        paylock.issue_many([dict(GOOD, params=Raising(KeyboardInterrupt()))])


def test_the_device_api_refuses_what_json_cannot_hold_with_a_typed_error():
    cyclic = {"key": KEY, "starting_code": 1, "restricted_digit_set": False, "extended_token": False}
    cyclic["me"] = cyclic
    with pytest.raises(paylock.InvalidArgument) as caught:
        device.Device("openpaygo", cyclic)
    assert caught.value.field == "device.me" and "cycle" in str(caught.value)
    with pytest.raises(paylock.InvalidArgument) as caught:
        device.simulate("openpaygo", cyclic, [{"at": float("nan"), "status": True}])
    assert caught.value.field == "device.me"
    with pytest.raises(paylock.OutOfRange) as caught:
        device.Device("openpaygo", {"at": float("nan")})
    assert caught.value.field == "device.at"
    with pytest.raises(TypeError, match="device.key"):
        device.Device("openpaygo", {"key": SECRET.encode()})
    with pytest.raises(paylock.InvalidArgument) as caught:
        device.simulate("nexus" + "\ud800", {}, [])
    assert caught.value.field == "scheme"
    for error in (caught.value, caught.value.__cause__, caught.value.__context__):
        assert "nexus" not in repr(error)


def test_no_exception_text_carries_a_surrogate_argument():
    """A lone surrogate in a str argument: a typed error naming the argument, never Python's
    UnicodeEncodeError, whose repr holds the whole string."""
    from paylock import access, nexus, openpaygo

    leaky = SECRET + "\ud800"
    calls = {
        "secret_key": lambda: openpaygo.generate_token(secret_key=leaky, count=0, value=1),
        "token": lambda: openpaygo.decode_token(token=leaky, secret_key=KEY, count=0),
        "batch_key": lambda: access.derive_key(leaky, suite=0, device_id=1),
        "profile": lambda: access.Secret(KEY, suite=0, profile=leaky, device_id=1),
        "unit": lambda: access.Secret(KEY, suite=0, profile="L", device_id=1, unit=leaky),
        "mode": lambda: access.State(mode=leaky),
        "input": lambda: access.verify(access.Secret(KEY, suite=0, profile="L", device_id=1), access.State(), leaky, 0),
        "passthrough_digits": lambda: nexus.FactoryFullMessage.passthrough_command(0, leaky),
        "protocol": lambda: nexus.Device(KEY, leaky),
        "keycode": lambda: nexus.Device(KEY, "full").enter(leaky),
        "key": lambda: nexus.Device(KEY, "full").press_key(leaky),
    }
    for field, call in calls.items():
        with pytest.raises(paylock.InvalidArgument) as caught:
            call()
        error = caught.value
        assert error.field == field, (field, repr(error))
        chain = [error, error.__cause__, error.__context__]
        assert not any(SECRET in repr(e) or SECRET in str(e) for e in chain if e is not None), field
