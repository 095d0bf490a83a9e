"""issue_many / verify_many: the same answers as one-by-one calls, in order, on any thread count."""

from __future__ import annotations

import json

import pytest

import paylock
from paylock import access, nexus
from paylock.openpaygo import TokenType, decode_token, generate_token

TYPES = {
    "ADD_TIME": TokenType.ADD_TIME,
    "SET_TIME": TokenType.SET_TIME,
    "DISABLE_PAYG": TokenType.DISABLE_PAYG,
    "COUNTER_SYNC": TokenType.COUNTER_SYNC,
}


def openpaygo_request(rng):
    kind = rng.choice(list(TYPES))
    extended = rng.random() < 0.2
    r = {
        "scheme": "openpaygo",
        "op": "generate",
        "key": rng.randbytes(16).hex(),
        "starting_code": rng.randint(1, 999_999_999),
        "count": rng.randint(0, 300),
        "token_type": kind,
        "restricted_digit_set": rng.random() < 0.3,
        "extended_token": extended,
    }
    if kind in ("ADD_TIME", "SET_TIME"):
        r["value"] = rng.randint(0, 999_999 if extended else 995)
    return r


def one_by_one(r):
    """The same request through the typed API."""
    new_count, token = generate_token(
        secret_key=r["key"],
        count=r["count"],
        value=r.get("value"),
        token_type=TYPES[r["token_type"]],
        starting_code=r["starting_code"],
        restricted_digit_set=r["restricted_digit_set"],
        extended_token=r["extended_token"],
    )
    return {"ok": True, "token": token, "count": new_count}


def nexus_request(rng):
    key = rng.randbytes(16)
    mid, hours = rng.randint(0, 5_000), rng.randint(0, 99_999)
    request = {
        "scheme": "nexus",
        "op": "generate",
        "protocol": "full",
        "message_type": "ADD_CREDIT",
        "secret_key_hex": key.hex(),
        "message_id": mid,
        "params": {"hours": hours},
    }
    keycode = nexus.FullMessage.add_credit(mid, hours, key).to_keycode()
    return request, {"ok": True, "keycode": keycode, "keycode_keys": keycode.replace(" ", "")}


@pytest.mark.parametrize("threads", [1, 2, 3, None])
def test_issue_many_equals_one_by_one_in_order(rng, threads):
    requests = [openpaygo_request(rng) for _ in range(700)]
    expected = [one_by_one(r) for r in requests]
    nexus_cases = [nexus_request(rng) for _ in range(100)]
    requests += [r for r, _ in nexus_cases]
    expected += [e for _, e in nexus_cases]
    assert paylock.issue_many(requests, threads=threads) == expected
    lines = [json.dumps(r) for r in requests]
    answers = paylock.issue_many(lines, threads=threads)
    assert all(isinstance(a, str) for a in answers)
    assert [json.loads(a) for a in answers] == expected
    text = paylock.issue_many("\n".join(lines) + "\n", threads=threads)
    assert isinstance(text, str) and text.endswith("\n")
    assert text.splitlines() == answers


def test_json_lines_text_answers_every_line_like_paylock_batch():
    lines = ['{"scheme":"openpaygo","op":"decode"}', "", "not json", '{"op":"generate"}']
    out = paylock.issue_many("\n".join(lines)).splitlines()
    assert len(out) == 4
    assert [json.loads(a)["error"]["kind"] for a in out] == [
        "unknown_op", "invalid_json", "invalid_json", "missing_field"]
    assert paylock.issue_many("") == ""
    assert paylock.verify_many("") == ""


def test_mixed_forms_and_refusals_keep_their_place():
    good = {
        "scheme": "openpaygo",
        "op": "generate",
        "key": "a29ab82edc5fbbc41ec9530f6dac86b1",
        "starting_code": 123456789,
        "count": 0,
        "token_type": "ADD_TIME",
        "value": 1,
        "restricted_digit_set": False,
        "extended_token": False,
    }
    bad = dict(good, value=996)
    answers = paylock.issue_many([good, json.dumps(bad), "not json", dict(good, op="decode"), json.dumps(good)])
    assert answers[0] == {"ok": True, "token": "662486790", "count": 2}
    assert json.loads(answers[1])["error"]["kind"] == "out_of_range"
    assert json.loads(answers[2])["error"]["kind"] == "invalid_json"
    assert answers[3]["error"]["kind"] == "unknown_op"
    assert json.loads(answers[4]) == answers[0]
    assert paylock.issue_many([]) == []
    assert paylock.issue_many(iter([good])) == [answers[0]]


def test_collision_answers_name_the_next_id():
    request = {
        "scheme": "nexus",
        "op": "generate",
        "protocol": "small",
        "message_type": "EXTENDED_SET_CREDIT_WIPE_RESTRICTED_FLAG",
        "secret_key_hex": "deadbeefdeadbeefdeadbeefdeadbeef",
        "message_id": 50,
        "params": {"days": 84},
    }
    [answer] = paylock.issue_many([request])
    assert answer["error"]["kind"] == "id_collision" and answer["error"]["next_valid_id"] == 51


def test_verify_many_equals_one_by_one(rng):
    key, sc = "a29ab82edc5fbbc41ec9530f6dac86b1", 123456789
    requests, expected = [], []
    for _ in range(300):
        count = rng.randint(0, 100)
        _, token = generate_token(secret_key=key, count=count, value=rng.randint(0, 995), starting_code=sc)
        max_count = rng.randint(0, 120)
        requests.append(
            {
                "scheme": "openpaygo",
                "op": "decode",
                "key": key,
                "starting_code": sc,
                "restricted_digit_set": False,
                "extended_token": False,
                "token": token,
                "state": {"max_count": max_count, "used_counts_bitmask": 0},
            }
        )
        value, kind, token_count, used = decode_token(
            token=token, secret_key=key, count=max_count, used_counts=[max_count], starting_code=sc
        )
        expected.append((kind, value, token_count, None if used is None else max(used)))
    for threads in (1, 2):
        answers = paylock.verify_many(requests, threads=threads)
        got = [
            (
                {"VALID": None, "ALREADY_USED": TokenType.ALREADY_USED, "INVALID": TokenType.INVALID}[a["status"]],
                a["value"],
                a["count"],
                a["state"]["max_count"] if a["status"] == "VALID" else None,
            )
            for a in answers
        ]
        assert [(g[1], g[2], g[3]) for g in got] == [(e[1], e[2], e[3]) for e in expected]
        assert [g[0] for g in got if g[0] is not None] == [e[0] for e in expected if e[0] in (10, 11)]


def test_verify_many_covers_nexus_and_access():
    key = "deadbeefdeadbeefdeadbeefdeadbeef"
    keycode = nexus.AddCreditSmallMessage(42, 7, bytes.fromhex(key)).to_keycode().replace(" ", "")
    state = {"pd_index": 23, "received_flags": "000000", "credit_seconds": 0, "unlocked": False}
    enter = {
        "scheme": "nexus",
        "op": "enter",
        "protocol": "small",
        "device_key_hex": key,
        "keycode_keys": keycode,
        "state": state,
    }
    secret = access.Secret.derive("2b7e151628aed2a6abf7158809cf4f3c", suite=0, profile="L", device_id=123456789)
    token = access.generate(secret, 1, "ADD_CREDIT", 72)
    config = {"suite": 0, "profile": "L", "device_id": 123456789, "device_key": secret.device_key, "key_rev": 0}
    fresh = {
        "max_counter": 0,
        "used": "0",
        "mode": "PAYG",
        "credit": 0,
        "params": {},
        "fails": 0,
        "lock_until": 0,
        "test_window_start": 0,
        "test_count": 0,
    }
    verify = {"scheme": "access", "op": "verify", "config": config, "state": fresh, "input": token.text, "now": 1000}
    first, second = paylock.verify_many([enter, verify], threads=2)
    device = nexus.Device(bytes.fromhex(key), "small")
    assert first["response"] == device.enter(keycode).response == "VALID_APPLIED"
    assert first["state"]["credit_seconds"] == device.credit_seconds
    verdict, after = access.verify(secret, access.State(), token.text, 1000)
    assert second["result"]["status"] == verdict.status == "APPLIED"
    assert second["state"]["credit"] == after.credit == 72
    generate = {
        "scheme": "access",
        "op": "generate",
        "suite": 0,
        "profile": "L",
        "device_key_hex": secret.device_key,
        "device_id": 123456789,
        "key_rev": 0,
        "counter": 1,
        "type": "ADD_CREDIT",
        "value": 72,
    }
    assert paylock.issue_many([generate])[0]["text"] == token.text
    assert paylock.verify_many([generate])[0]["error"]["kind"] == "unknown_op"


def test_each_batch_takes_its_own_operations():
    simulate = {"scheme": "openpaygo", "op": "simulate"}  # a device run: verify_many's
    assert paylock.verify_many([simulate])[0]["error"]["kind"] != "unknown_op"
    assert paylock.issue_many([simulate])[0]["error"]["kind"] == "unknown_op"
    derive = {"scheme": "access", "op": "derive_key", "suite": 0, "batch_key_hex": "2b7e151628aed2a6abf7158809cf4f3c",
              "device_id": 123456789, "key_rev": 0}
    assert paylock.issue_many([derive])[0]["device_key_hex"] == access.derive_key(
        "2b7e151628aed2a6abf7158809cf4f3c", suite=0, device_id=123456789)
    assert paylock.verify_many([derive])[0]["error"]["kind"] == "unknown_op"
