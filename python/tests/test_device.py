"""paylock.device: the engine simulator through Python, against the batch op it wraps, the
issue's rules (OpenPAYGO's waiting period, power cuts, clocks) and every refusal path."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import openpaygo as reference
import pytest

import paylock
from paylock import device

REPO = Path(__file__).resolve().parents[2]
KEY = "a29ab82edc5fbbc41ec9530f6dac86b1"
START = 123456789
DAY = 86400


def opg(clock="rtc", lockout="default"):
    return {"key": KEY, "starting_code": START, "restricted_digit_set": False,
            "extended_token": False, "clock": clock, "lockout": lockout}


def tokens(*days):
    """Tokens from the reference package itself, in issue order from count 0."""
    count, out = 0, []
    for d in days:
        count, token = reference.generate_token(
            secret_key=KEY, count=count, value=d, starting_code=START)
        out.append(str(token).zfill(9))
    return out


def test_enter_duplicate_and_credit():
    t1, t2 = tokens(1, 2)
    lamp = device.Device("openpaygo", opg())
    row = lamp.enter(t1, at=60)
    assert (row["outcome"], row["credit_seconds_left"], row["command"]) == ("APPLIED", DAY, "ADD_CREDIT")
    assert lamp.enter(t1, at=70)["outcome"] == "DUPLICATE"
    row = lamp.enter(t2, at=80)
    assert row["credit_seconds_left"] == 60 + 3 * DAY - 80
    assert lamp.status(at=80 + DAY)["credit_seconds_left"] == 60 + 2 * DAY - 80


def test_openpaygo_waiting_period_exactly():
    lamp = device.Device("openpaygo", opg())
    at, waits = 0, []
    for k in range(1, 15):
        row = lamp.enter(f"{100000000 + k:09d}", at=at)
        assert row["outcome"] == "INVALID"
        wait = row["lockout_seconds_left"]
        waits.append(wait)
        if wait:
            refused = lamp.enter("999999999", at=at + 1)
            assert (refused["outcome"], refused["lockout_seconds_left"]) == ("LOCKED_OUT", wait - 1)
        at += max(wait, 1)
    assert waits == [0, 0] + [min(60 << k, 512 * 60) for k in range(12)]


def test_power_cut_mid_write_never_loses_or_replays():
    # Two 60-byte writes: the attempt counted, then the result.
    t1, t2 = tokens(1, 1)
    for n in range(0, 124):
        lamp = device.Device("openpaygo", opg())
        lamp.enter(t1, at=10)
        row = lamp.enter(t2, at=20, cut_power_after_bytes=n)
        cut = row["power_cut"]
        assert cut["write_bytes"] == (60 if n < 60 else 120)
        assert cut["interrupted"] == (n < 120)
        # Cut before the check: no verdict; after it: the verdict, counted if not saved.
        assert row["outcome"] == (None if n < 60 else "APPLIED")
        assert cut["counted"] == (60 <= n < 120 and not cut["took_effect"])
        again = lamp.enter(t2, at=30)["outcome"]
        assert again == ("DUPLICATE" if cut["took_effect"] else "APPLIED")
        assert lamp.status(at=30)["credit_seconds_left"] == 10 + 2 * DAY - 30


def test_runtime_clock_and_boot():
    (t,) = tokens(1)
    pump = device.Device("openpaygo", opg(clock="runtime"))
    pump.enter(t, at=0)
    pump.power_off(at=3600)
    assert pump.status(at=50000)["credit_seconds_left"] == DAY - 3600
    row = pump.power_on(at=90000)
    assert (row["boot"], row["credit_seconds_left"]) == ("restored", DAY - 3600)


def test_simulate_equals_the_cli_batch_op_and_stepping():
    scenario = json.loads((REPO / "examples/scenarios/nexus.json").read_text())
    rows = device.simulate(scenario["scheme"], scenario["device"], scenario["events"])
    tv = device.Device(scenario["scheme"], scenario["device"])
    assert [tv.step(e) for e in scenario["events"]] == rows
    assert rows[4]["payg"] == "UNLOCKED"
    assert "LOCKED_OUT" in [r["outcome"] for r in rows]
    binary = REPO / "target/release/paylock"
    if binary.exists():
        out = subprocess.run([str(binary), "simulate", str(REPO / "examples/scenarios/nexus.json"), "--json"],
                             check=True, capture_output=True, text=True).stdout
        assert json.loads(out)["timeline"] == rows


def test_access_device_through_python():
    scenario = json.loads((REPO / "examples/scenarios/access.json").read_text())
    rows = device.simulate("access", scenario["device"], scenario["events"])
    assert [r["outcome"] for r in rows] == [
        "APPLIED", "APPLIED", "INVALID", "INVALID", "INVALID", "INVALID", "LOCKED_OUT", "APPLIED", "DUPLICATE"]


def test_refusals_are_typed_and_name_the_field():
    with pytest.raises(paylock.InvalidKey) as e:
        device.Device("openpaygo", dict(opg(), key="xyz"))
    assert e.value.field == "device.key"
    with pytest.raises(paylock.UnsupportedCommand) as e:
        device.Device("sundial", opg())
    assert e.value.field == "scheme"
    with pytest.raises(paylock.InvalidArgument) as e:
        device.Device("openpaygo", dict(opg(), clock="sundial"))
    assert e.value.field == "device.clock" and isinstance(e.value, ValueError)
    with pytest.raises(paylock.OutOfRange) as e:
        device.Device("openpaygo", dict(opg(), starting_code=10**10))
    assert e.value.field == "device.starting_code"
    lamp = device.Device("openpaygo", opg())
    lamp.status(at=100)
    with pytest.raises(paylock.InvalidArgument) as e:
        lamp.status(at=50)
    assert "forward in time" in str(e.value) and e.value.field == "events[1].at"
    assert "50" not in str(e.value)  # times are not repeated
    lamp.power_off(at=100)
    with pytest.raises(paylock.InvalidArgument, match="the device is off"):
        lamp.enter("662486790", at=101)
    with pytest.raises(paylock.InvalidArgument, match="already off"):
        lamp.power_off(at=102)
    # Switching off saved a clock checkpoint, so the store is no longer blank.
    assert lamp.power_on(at=103)["boot"] == "restored"
    with pytest.raises(paylock.InvalidArgument) as e:
        lamp.step({"at": 104})
    assert "exactly one" in str(e.value)
    with pytest.raises(TypeError):
        lamp.step({"at": object()})
    with pytest.raises(paylock.InvalidArgument):
        device.simulate("openpaygo", opg(), [{"at": -1, "status": True}])
