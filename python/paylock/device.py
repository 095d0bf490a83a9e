"""The device-lock engine on simulated flash: a provisioned device of any scheme, run through
timed events, as factory QA and support use it to answer "why did this code fail" (see
``docs/device.md``)::

    from paylock import device

    lamp = device.Device("openpaygo", {
        "key": "a29ab82edc5fbbc41ec9530f6dac86b1", "starting_code": 123456789,
        "restricted_digit_set": False, "extended_token": False, "clock": "rtc",
    })
    row = lamp.enter("662486790", at=60)
    assert (row["outcome"], row["credit_seconds_left"]) == ("APPLIED", 86400)
    assert lamp.enter("662486790", at=70)["outcome"] == "DUPLICATE"

The ``device`` fields, the events and the rows are those of the batch ``simulate`` op (README):
per scheme the provisioning fields (openpaygo ``key``, ``starting_code``,
``restricted_digit_set``, ``extended_token``, optional ``time_divider``; nexus ``protocol``,
``device_key_hex``, optional ``user_facing_id``; access ``suite``, ``profile``, ``device_id``,
``device_key``, ``key_rev``, optional ``unit``), plus optional ``clock`` (``"rtc"`` or
``"runtime"``) and ``lockout`` (``"default"`` or ``"none"``). A row has ``at``, ``event``,
``outcome`` (``APPLIED``, ``DUPLICATE``, ``INVALID``, ``LOCKED_OUT`` or ``None``), ``active``,
``credit_seconds_left``, ``payg``, ``lockout_seconds_left``, and what explains it (``reason``,
``command``, ``credit_seconds``, ``sequence``, ``boot``, ``power_cut``).

Refusals raise :class:`paylock.InvalidArgument` (or a subclass) naming the field; a refused event
changes nothing.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Optional

from ._paylock import device as _native

__all__ = ["Device", "simulate"]

Row = Dict[str, Any]


def simulate(scheme: str, device: Mapping[str, Any], events: Iterable[Mapping[str, Any]]) -> List[Row]:
    """Runs ``events`` on a new device of ``scheme`` provisioned with ``device``; returns the
    timeline, one row per event (the batch ``simulate`` op)."""
    return _native.simulate(scheme, device, list(events))


class Device:
    """A new device of ``scheme`` (``"openpaygo"``, ``"nexus"`` or ``"access"``), on at time 0
    with a blank store. Times are seconds since then and must not go back."""

    __slots__ = ("_device", "scheme")

    def __init__(self, scheme: str, device: Mapping[str, Any]) -> None:
        self.scheme = scheme
        self._device = _native.Device(scheme, device)

    def enter(self, token: str, at: int, *, cut_power_after_bytes: Optional[int] = None) -> Row:
        """Enters ``token``; with ``cut_power_after_bytes``, power is cut after that many bytes
        of the state writes the entry causes (the attempt counted, then its result: one record
        each), then comes back at once. A row whose result write was cut shows the verdict the
        device had computed; ``None`` when the cut came before the code was checked."""
        event: Dict[str, Any] = {"at": at, "enter": token}
        if cut_power_after_bytes is not None:
            event["cut_power_after_bytes"] = cut_power_after_bytes
        return self._device.step(event)

    def power_off(self, at: int) -> Row:
        """Switches the device off (it saves a clock checkpoint first)."""
        return self._device.step({"at": at, "power_off": True})

    def power_on(self, at: int) -> Row:
        """Switches the device on; the row's ``boot`` says what the store held."""
        return self._device.step({"at": at, "power_on": True})

    def status(self, at: int) -> Row:
        """What the device shows (while off: what its store holds)."""
        return self._device.step({"at": at, "status": True})

    def step(self, event: Mapping[str, Any]) -> Row:
        """Runs one event dict of the batch ``simulate`` op."""
        return self._device.step(event)

    def __repr__(self) -> str:
        return f"Device({self.scheme!r})"
