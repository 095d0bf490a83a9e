"""Writes the published OpenPAYGO decode vectors as lines the C tests read (stdlib only).

    python3 ffi/tests/openpaygo_lines.py > lines.txt

One line per entry: `form key starting_code max_count used_counts token status value count
max_after used_after`, form 0 (standard) or 1 (restricted digits), value and count `-` on a
refusal. The expectations are the vectors' `recommended_model`, paylock's decoder, except a
counter sync at or below the count, which paylock refuses as ALREADY_USED without changing the
state (the model takes it again; see tests/openpaygo_vectors.rs). Scenario steps follow one
another: a C test that carries its state from line to line finds each line's counts there.
"""

import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
VECTORS = ROOT / "test-vectors/openpaygo/openpaygo_generated_vectors.json"


def line(case, before, want, token):
    form = 1 if case["restricted_digit_set"] else 0
    max_count, used = before
    sync_replay = (
        want["status"] == "VALID"
        and want["meaning"] == "COUNTER_SYNC"
        and want["count"] <= max_count
    )
    if sync_replay:
        status, value, count, after = "ALREADY_USED", "-", "-", before
    else:
        status = want["status"]
        valid = status == "VALID"
        value = want["value"] if valid else "-"
        count = want["count"] if valid else "-"
        after = (want["max_count"], want["used_counts_bitmask"])
    return (
        f"{form} {case['key']} {case['starting_code']} {max_count} {used} {token} "
        f"{status} {value} {count} {after[0]} {after[1]}"
    )


def main():
    vectors = json.loads(VECTORS.read_text())
    for case in vectors["decode"]:
        s = case["state_before"]
        before = (s["count"], s["used_counts_bitmask"])
        print(line(case, before, case["recommended_model"], case["token"]))
    for scenario in vectors["decode_scenarios"]:
        for step in scenario["steps"]:
            s = step["recommended_state_before"]
            before = (s["max_count"], s["used_counts_bitmask"])
            print(line(scenario, before, step["recommended_model"], step["token"]))


if __name__ == "__main__":
    main()
