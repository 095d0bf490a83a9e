"""OpenPAYGO Metrics handlers, a drop-in for ``openpaygo`` 0.6.3's (exported by
:mod:`paylock.openpaygo`).

The classes keep 0.6.3's constructors, methods, attributes, return values and ``ValueError``
messages; every text and every signature is written by paylock's Rust engine (the device side by
the core's signer, the server side by ``paylock-metrics``), with Python's ``json.dumps`` bytes.

Where paylock differs from 0.6.3 (``docs/openpaygo.md``, "paylock decisions" M1-M6):

* ``MetricsResponseHandler(..., compat="openpaygo063")`` is the default: a CRM that swaps the
  import sends its devices the very bytes 0.6.3 sent (M1: the wire format is 0.6.3's, and
  firmware in the field parses that answer), including 0.6.3's bugs in ``add_time_to_answer``
  (``active_until_timestamp`` a float, ``active_seconds_left`` computed as now - target) and in
  ``get_simple_metrics`` (extra condensed values dropped). ``compat="paylock"`` applies paylock's
  fixes (M2): an integer until-time, ``target - now`` seconds left, extra values refused.
* Inputs 0.6.3 would hash as ``str()`` or crash on (a float or string timestamp, a non-string
  serial number, integers beyond 64 bits, NaN) raise ``ValueError`` or ``TypeError`` (M5).
* A ``ValueError`` for variables the data format does not name lists their names, where 0.6.3
  prints the whole dict, values included (errors never echo values).
* ``request_dict`` is a copy of the parsed report: the handler reads the report it was given,
  so changing the dict does not change what is verified.

No error carries a key, a signature or the report's values.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime
from typing import Any, Dict, List, Optional

from ._paylock import metrics as _native

__all__ = ["AuthMethod", "MetricsRequestHandler", "MetricsResponseHandler"]

_COMPATS = ("openpaygo063", "paylock")

#: 0.6.3's ``CONDENSED_KEY_NAMES`` (``dtc``, not the spec's ``dct``).
_CONDENSED = {
    "serial_number": "sn",
    "timestamp": "ts",
    "auth": "a",
    "request_count": "rc",
    "data_collection_timestamp": "dtc",
    "data_format_id": "df",
    "data_format": "dfo",
    "data": "d",
    "historical_data": "hd",
    "accessories": "acc",
    "token_list": "tkl",
    "active_until_timestamp": "auts",
    "active_seconds_left": "asl",
    "settings": "st",
    "extra_data": "ed",
    "token_count": "tc",
    "active_until_timestamp_requested": "autsr",
    "active_seconds_left_requested": "aslr",
}


class AuthMethod:
    """The five ways a report is signed, with 0.6.3's names."""

    SIMPLE_AUTH = "sa"
    TIMESTAMP_AUTH = "ta"
    COUNTER_AUTH = "ca"
    DATA_AUTH = "da"
    RECURSIVE_DATA_AUTH = "ra"


#: Data formats converted for the engine, by the dict's id: (the dict, a copy of it, the type of
#: its interval, the converted format). A dict changed in place no longer equals its copy and is
#: converted again.
_FORMATS: Dict[int, Any] = {}

_INTERVAL = "historical_data_interval"


def _format(data_format: Any) -> Any:
    """The engine's form of a data format dict (None for None); raises ValueError if it is not
    one."""
    if data_format is None:
        return None
    entry = _FORMATS.get(id(data_format))
    # One C-level comparison with the copy per call; Python's == takes 3600 == 3600.0 == True,
    # and the interval's type matters to the engine.
    if (
        entry is not None
        and entry[0] is data_format
        and entry[1] == data_format
        and entry[2] is type(data_format.get(_INTERVAL))
    ):
        return entry[3]
    native = _native.Format(data_format)
    if len(_FORMATS) >= 256:
        _FORMATS.clear()
    interval = type(data_format.get(_INTERVAL))
    _FORMATS[id(data_format)] = (data_format, copy.deepcopy(data_format), interval, native)
    return native


def _trim(values: List[Any]) -> List[Any]:
    while values and values[-1] is None:
        values.pop()
    return values


class MetricsRequestHandler:
    """A device's report, built and signed (0.6.3's ``MetricsRequestHandler``)."""

    def __init__(
        self,
        serial_number: str,
        data_format: Optional[Dict[str, Any]] = None,
        secret_key: Optional[str] = None,
        auth_method: Optional[str] = None,
    ) -> None:
        self.secret_key = secret_key
        self.auth_method = auth_method
        self.request_dict: Dict[str, Any] = {"serial_number": serial_number}
        self.data_format = data_format
        if self.data_format:
            if self.data_format.get("id"):
                self.request_dict["data_format_id"] = self.data_format.get("id")
            else:
                self.request_dict["data_format"] = self.data_format
        self.data: Any = {}
        self.historical_data: Any = {}

    def set_request_count(self, request_count: int) -> None:
        self.request_dict["request_count"] = request_count

    def set_timestamp(self, timestamp: int) -> None:
        self.request_dict["timestamp"] = timestamp

    def set_data(self, data: Dict[str, Any]) -> None:
        self.data = data

    def set_historical_data(self, historical_data: List[Dict[str, Any]]) -> None:
        # As 0.6.3: without a data format this raises AttributeError.
        if not self.data_format.get("historical_data_interval"):  # type: ignore[union-attr]
            for time_step in historical_data:
                if not time_step.get("timestamp"):
                    raise ValueError(
                        "Historical Data objects must have a time stamp if no "
                        "historical_data_interval is defined."
                    )
        self.historical_data = historical_data

    def get_simple_request_payload(self) -> str:
        return _native.dumps(self.get_simple_request_dict())

    def get_simple_request_dict(self) -> Dict[str, Any]:
        # As 0.6.3: the request's own dict, with data, rows and auth set in it.
        simple_request = self.request_dict
        simple_request["data"] = self.data
        simple_request["historical_data"] = self.historical_data
        if self.auth_method:
            simple_request["auth"] = _native.sign_request(
                simple_request, self.auth_method, self.secret_key
            )
        return simple_request

    def get_condensed_request_payload(self) -> str:
        return _native.dumps(self.get_condensed_request_dict())

    def get_condensed_request_dict(self) -> Dict[str, Any]:
        if not self.data_format:
            raise ValueError("No Data Format provided for condensed request")
        data_order = self.data_format.get("data_order")
        if self.data and not data_order:
            raise ValueError("Data Format does not contain data_order")
        historical_data_order = self.data_format.get("historical_data_order")
        if self.historical_data and not historical_data_order:
            raise ValueError("Data Format does not contain historical_data_order")
        condensed: Dict[str, Any] = dict(self.request_dict)
        data_copy = dict(self.data)
        values = [data_copy.pop(var) if var in data_copy else None for var in data_order]  # type: ignore[union-attr]
        if len(data_copy) > 0:
            # 0.6.3 prints the dict, values included; paylock names the variables only.
            raise ValueError(
                "Additional variables not present in the data format: " + str(list(data_copy))
            )
        condensed["data"] = _trim(values)
        rows = []
        for time_step in self.historical_data:
            step = dict(time_step)
            row = [step.pop(var) if var in step else None for var in historical_data_order]  # type: ignore[union-attr]
            if len(step) > 0:
                raise ValueError(
                    "Additional variables not present in the historical data format: "
                    + str(list(step))
                )
            rows.append(_trim(row))
        condensed["historical_data"] = rows
        if self.auth_method:
            condensed["auth"] = _native.sign_request(condensed, self.auth_method, self.secret_key)
        return {_CONDENSED.get(k, k): v for k, v in condensed.items()}


class MetricsResponseHandler:
    """A device's report verified and expanded, and the answer signed (0.6.3's
    ``MetricsResponseHandler``).

    ``compat`` (keyword only) chooses 0.6.3's behaviour (``"openpaygo063"``, the default, byte
    for byte what 0.6.3 sends) or paylock's fixes (``"paylock"``) where 0.6.3 is wrong: see the
    module docstring.
    """

    def __init__(
        self,
        received_metrics: str,
        data_format: Optional[Dict[str, Any]] = None,
        secret_key: Optional[str] = None,
        last_request_count: Optional[int] = None,
        last_request_timestamp: Optional[int] = None,
        *,
        compat: str = "openpaygo063",
    ) -> None:
        if compat not in _COMPATS:
            raise ValueError('compat is not "openpaygo063" or "paylock"')
        self.compat = compat
        self.received_metrics = received_metrics
        try:
            self._report = _native.Report(received_metrics)
        except ValueError as e:
            if len(e.args) != 3:
                raise
            # Not JSON: 0.6.3's json.loads raised JSONDecodeError (a ValueError) here.
            message, line, column = e.args
            doc = received_metrics if isinstance(received_metrics, str) else ""
            lines = doc.split("\n")[: max(line - 1, 0)]
            pos = min(sum(len(text) + 1 for text in lines) + max(column - 1, 0), len(doc))
            raise json.JSONDecodeError(message.rsplit(" (line ", 1)[0], doc, pos) from None
        self._request_dict: Optional[Dict[str, Any]] = None
        self.request_timestamp = self._report.timestamp
        if not self.request_timestamp:
            self.timestamp = int(datetime.now().timestamp())
        else:
            self.timestamp = self.request_timestamp
        self.response_dict: Dict[str, Any] = {}
        self.secret_key = secret_key
        self.data_format = data_format
        self.last_request_count = last_request_count
        self.last_request_timestamp = last_request_timestamp
        if not self.data_format:
            embedded = self._report.get("data_format")
            if embedded:
                self.data_format = embedded

    @property
    def request_dict(self) -> Dict[str, Any]:
        """The report under full key names (a copy: the handler verifies the text it got)."""
        if self._request_dict is None:
            self._request_dict = self._report.fields()
        return self._request_dict

    def get_device_serial(self) -> Any:
        return self._report.get("serial_number")

    def get_data_format_id(self) -> Any:
        return self._report.get("data_format_id")

    def data_format_available(self) -> bool:
        return self.data_format is not None

    def set_device_parameters(
        self,
        secret_key: Optional[str] = None,
        data_format: Optional[Dict[str, Any]] = None,
        last_request_count: Optional[int] = None,
        last_request_timestamp: Optional[int] = None,
    ) -> None:
        if secret_key:
            self.secret_key = secret_key
        if data_format:
            self.data_format = data_format
        if last_request_count:
            self.last_request_count = last_request_count
        if last_request_timestamp:
            self.last_request_timestamp = last_request_timestamp

    def is_auth_valid(self) -> bool:
        # Authenticity and freshness only; get_simple_metrics expands.
        valid, method = self._report.is_auth_valid(
            self.secret_key, self.last_request_count, self.last_request_timestamp
        )
        if method is not None:
            self.auth_method = method
        return valid

    def get_simple_metrics(self) -> Dict[str, Any]:
        # 0.6.3 dates rows from self.timestamp: the report's, else the time of reception.
        timestamp = self.timestamp
        return self._report.simple_metrics(
            _format(self.data_format),
            timestamp if isinstance(timestamp, int) else 0,
            self.compat,
        )

    def get_data_timestamp(self) -> Any:
        return self.request_dict.get("data_collection_timestamp", self.timestamp)

    def get_request_timestamp(self) -> Any:
        return self.request_timestamp

    def get_request_count(self) -> Any:
        return self._report.get("request_count")

    def get_token_count(self) -> Any:
        return self._get_simple_data().get("token_count")

    def expects_token_answer(self) -> bool:
        return self.get_token_count() is not None

    def add_tokens_to_answer(self, token_list: List[Any]) -> None:
        self.response_dict["token_list"] = token_list

    def expects_time_answer(self) -> bool:
        data = self._get_simple_data()
        return bool(
            data.get("active_until_timestamp_requested", False)
            or data.get("active_seconds_left_requested", False)
        )

    def add_time_to_answer(self, target_datetime: Optional[datetime]) -> None:
        data = self._get_simple_data()
        paylock = self.compat == "paylock"
        if data.get("active_until_timestamp_requested", False):
            target_timestamp: Any = 0
            if target_datetime and target_datetime.year > 1970:
                target_timestamp = target_datetime.timestamp()
                if paylock:
                    target_timestamp = int(target_timestamp)
            self.response_dict["active_until_timestamp"] = target_timestamp
        elif data.get("active_seconds_left_requested", False):
            seconds_left: Any = 0
            if target_datetime and paylock:
                seconds_left = int((target_datetime - datetime.now()).total_seconds())
            elif target_datetime:
                seconds_left = (datetime.now() - target_datetime).total_seconds()
            self.response_dict["active_seconds_left"] = seconds_left if seconds_left > 0 else 0
        else:
            raise ValueError("No time requested")

    def add_new_base_url_to_answer(self, new_base_url: str) -> None:
        self.add_settings_to_answer({"base_url": new_base_url})

    def add_settings_to_answer(self, settings_dict: Dict[str, Any]) -> None:
        if not self.response_dict.get("settings"):
            self.response_dict["settings"] = {}
        self.response_dict["settings"].update(settings_dict)

    def add_extra_data_to_answer(self, extra_data_dict: Dict[str, Any]) -> None:
        if not self.response_dict.get("extra_data"):
            self.response_dict["extra_data"] = {}
        self.response_dict["extra_data"].update(extra_data_dict)

    def get_answer_payload(self) -> str:
        return self._report.answer(self.response_dict, self.secret_key or None)

    def get_answer_dict(self) -> Dict[str, Any]:
        answer: Dict[str, Any] = json.loads(self.get_answer_payload())
        return answer

    def _get_simple_data(self) -> Dict[str, Any]:
        return self._report.simple_data(_format(self.data_format), self.compat)
