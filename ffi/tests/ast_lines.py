"""Writes the published AST v1 decode vectors as lines the C test reads (stdlib only).

    python3 ffi/tests/ast_lines.py > ast_lines.txt

One line per case: the configuration (suite, profile 0-2 for L/M/S, device id, key, key
revision, unit 0 hours / 1 days), the state before, the input (spaces as `~`, `@` if empty), `now`, the
expected verdict (status, token type, counter, value, retry_at: `-` where the vector has none)
and the state after, parameters as `id=value` pairs.
"""

import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
VECTORS = ROOT / "test-vectors/access/ast_v1_decode.json"
TYPES = ["ADD_CREDIT", "SET_CREDIT", "UNLOCK_PERMANENT", "COUNTER_SYNC", "SET_PARAM", "TEST",
         "KEY_CHANGE", "EXTENSION"]


def state(s):
    params = ",".join(f"{k}={v}" for k, v in sorted(s["params"].items(), key=lambda kv: int(kv[0])))
    return (f"{s['max_counter']} {s['used']} {int(s['mode'] == 'UNLOCKED')} {s['credit']} "
            f"{s['fails']} {s['lock_until']} {s['test_window_start']} {s['test_count']} "
            f"{params or '-'}")


def main():
    for c in json.loads(VECTORS.read_text())["cases"]:
        cfg, r = c["config"], c["result"]
        typ = TYPES.index(r["type"]) if r.get("type") else "-"
        retry = r.get("retry_at", r.get("lock_seconds", "-"))
        if retry is None:
            retry = "-"
        counter = r.get("counter", "-") if r.get("type") else "-"
        value = r.get("value", "-") if r.get("type") else "-"
        print(f"{cfg['suite']} {'LMS'.index(cfg['profile'])} {cfg['device_id']} {cfg['device_key']} "
              f"{cfg['key_rev']} {int(cfg['unit'] == 'days')} {state(c['state_before'])} "
              f"{c['input'].replace(' ', '~') or '@'} {c['now']} {r['status']} {typ} {counter} {value} "
              f"{retry} {state(c['state_after'])}")


if __name__ == "__main__":
    main()
