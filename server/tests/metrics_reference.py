"""The device side and the answer check of `POST /dd` tests, done by `openpaygo` 0.6.3.

argv[1] = "request": stdin {key, serial, request_count, timestamp, auth ("da"/"ra"/...),
condensed, data_format, data, historical_data}; prints the report MetricsRequestHandler builds.

argv[1] = "answer": stdin {key, report, answer, data_format, tokens, active_until}; checks with
MetricsResponseHandler that the report is authentic, then builds the answer the reference would
send for these tokens (add_tokens_to_answer) and this credit time (the integer of paylock
decision M2, put where 0.6.3's add_time_to_answer puts its float) and signs it; prints OK when
it equals the service's answer byte for byte, else both, and exits 1.
"""

import json
import sys

from openpaygo import MetricsRequestHandler, MetricsResponseHandler


def request(spec):
    handler = MetricsRequestHandler(
        serial_number=spec["serial"],
        data_format=spec.get("data_format"),
        secret_key=spec["key"],
        auth_method=spec["auth"],
    )
    if spec.get("request_count"):
        handler.set_request_count(spec["request_count"])
    if spec.get("timestamp"):
        handler.set_timestamp(spec["timestamp"])
    if spec.get("data") is not None:
        handler.set_data(spec["data"])
    if spec.get("historical_data") is not None:
        handler.set_historical_data(spec["historical_data"])
    if spec.get("condensed"):
        print(handler.get_condensed_request_payload())
    else:
        print(handler.get_simple_request_payload())


def answer(spec):
    handler = MetricsResponseHandler(
        spec["report"], data_format=spec.get("data_format"), secret_key=spec["key"]
    )
    if not handler.is_auth_valid():
        print("the reference finds the report not authentic")
        sys.exit(1)
    if handler.expects_token_answer():
        handler.add_tokens_to_answer(spec["tokens"])
    if handler.expects_time_answer():
        handler.response_dict["active_until_timestamp"] = spec["active_until"]
    expected = handler.get_answer_payload()
    if expected != spec["answer"]:
        print("MISMATCH\nreference: " + expected + "\nservice:   " + spec["answer"])
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    {"request": request, "answer": answer}[sys.argv[1]](json.load(sys.stdin))
