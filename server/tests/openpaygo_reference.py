"""Enters each device's issued tokens, in order, on the `openpaygo` 0.6.3 reference decoder.

Input (argv[1]): JSON list of {key, starting_code, restricted, initial_count, tokens: [str]}.
Every token must be accepted once (VALID, count rising); entering it again must not be VALID
(counter syncs excepted: the reference takes a sync at the current count again).
Prints `N passed, M failed` and exits 1 on any failure.
"""

import json
import sys

from openpaygo import TokenType, decode_token

SYNC_VALUE = 999


def main():
    devices = json.load(open(sys.argv[1]))
    passed = failed = 0
    for d in devices:
        count, used = d["initial_count"], [d["initial_count"]]
        for token in d["tokens"]:
            value, kind, new_count, new_used = decode_token(
                token=token, secret_key=d["key"], count=count, used_counts=used,
                starting_code=d["starting_code"], restricted_digit_set=d["restricted"])
            if kind in (TokenType.INVALID, TokenType.ALREADY_USED) or new_count is None:
                print(f"FAIL {d['serial']}: token at position {d['tokens'].index(token)} not accepted")
                failed += 1
                continue
            if new_count > count or value == SYNC_VALUE:
                count = new_count
            used = new_used
            if value != SYNC_VALUE:
                _, again, _, _ = decode_token(
                    token=token, secret_key=d["key"], count=count, used_counts=used,
                    starting_code=d["starting_code"], restricted_digit_set=d["restricted"])
                if again not in (TokenType.INVALID, TokenType.ALREADY_USED):
                    print(f"FAIL {d['serial']}: a token was accepted twice")
                    failed += 1
                    continue
            passed += 1
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
