"""Writes the published Nexus and AST v1 device scenarios as lines the C engine test reads
(stdlib only).

    python3 ffi/tests/engine_lines.py > engine_lines.txt

Every scenario starts from a new device, as the engine does from blank flash.
`nexus PROTOCOL KEY USER_FACING_ID` starts a Nexus device (protocol 0 full, 1 small), then
`step KEYS RESPONSE CREDIT UNLOCKED` per code: nexus-embedded's response and the product's
credit and PAYG state after it; then `wrong KEYS` for each published negative vector of that
protocol and key whose verdict does not depend on the window (a changed digit, a wrong
length): wrong on any device. Left out: the scenarios with steps the engine has no
counterpart for (the product's restricted flag, passthrough and extended small codes, the
PAYG-ID display code) and nexus-embedded's uint16 ID quirk (paylock's IDs are u32 by design).
`ast SUITE PROFILE DEVICE_ID KEY KEY_REV UNIT` starts an AST device (profile 0-2 for L/M/S,
unit 0 hours / 1 days), then `step INPUT NOW STATUS TYPE COUNTER VALUE RETRY_AT MODE` per entry
(spaces in the input as `~`; RETRY_AT the lockout's end for a refusal, its length for a wrong code;
`-` where the vector has no field; MODE 1 when unlocked after it).
"""

import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
NEXUS = ROOT / "test-vectors/nexus/nexus_keycode_vectors.json"
AST = ROOT / "test-vectors/access/ast_v1_sequences.json"
TYPES = ["ADD_CREDIT", "SET_CREDIT", "UNLOCK_PERMANENT", "COUNTER_SYNC", "SET_PARAM", "TEST",
         "KEY_CHANGE", "EXTENSION"]
NEXUS_RESPONSES = ("VALID_APPLIED", "VALID_DUPLICATE", "INVALID")


def nexus():
    v = json.loads(NEXUS.read_text())
    for s in v["scenarios"]:
        if s["id"] == "SCEN-FULL-UINT16-ID-QUIRK":
            continue
        if any(st.get("action") or st["response"] not in NEXUS_RESPONSES for st in s["steps"]):
            continue
        protocol = 0 if s["protocol"] == "full" else 1
        print(f"nexus {protocol} {s['device_key_hex']} {s['initial_state']['user_facing_id']}")
        for st in s["steps"]:
            a = st["after"]
            print(f"step {st['keycode_keys']} {st['response']} {a['credit_seconds']} "
                  f"{int(a['unlocked'])}")
        for n in v["negative_decode_vectors"]:
            if (n["protocol"] == s["protocol"] and n["device_key_hex"] == s["device_key_hex"]
                    and n["device_expected"]["response"] == "INVALID"
                    and "window" not in n["reason"]):
                print(f"wrong {n['keycode_keys']}")


def ast():
    for s in json.loads(AST.read_text())["scenarios"]:
        c = s["config"]
        print(f"ast {c['suite']} {'LMS'.index(c['profile'])} {c['device_id']} {c['device_key']} "
              f"{c['key_rev']} {int(c['unit'] == 'days')}")
        for st in s["steps"]:
            r = st["result"]
            typ = TYPES.index(r["type"]) if r.get("type") else "-"
            counter = r.get("counter", "-") if r.get("type") else "-"
            value = r.get("value", "-") if r.get("type") else "-"
            retry = r.get("retry_at", r.get("lock_seconds"))
            print(f"step {st['input'].replace(' ', '~') or '@'} {st['now']} {r['status']} {typ} "
                  f"{counter} {value} {'-' if retry is None else retry} "
                  f"{int(st['state_after']['mode'] == 'UNLOCKED')}")


if __name__ == "__main__":
    nexus()
    ast()
