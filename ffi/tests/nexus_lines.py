"""Writes the published Nexus device vectors as lines the C test reads (stdlib only).

    python3 ffi/tests/nexus_lines.py > nexus_lines.txt

`device PROTOCOL KEY PD RECEIVED QC_SHORT QC_LONG RESTRICTED CREDIT UNLOCKED` starts a device
(protocol 0 full, 1 small; RECEIVED in hex), then `MODE KEYS RESPONSE CALLS FEEDBACK PD RECEIVED
CREDIT UNLOCKED PAYG QC_SHORT QC_LONG RESTRICTED` enters a code whole (`enter`) or key by key
(`press`) and gives what must follow: the response (nexus-embedded's name), the platform calls
and feedback in order (comma-separated, `-` for none) and the state after. Each encode vector
with a device reaction runs twice from its `before` state (whole, then key by key); each
scenario runs its steps in order on one device, whole codes (`flag` sets the product's
restricted flag). Left out: the cases of nexus-embedded's uint16 ID quirk (a SET or UNLOCK code
of an ID from 65535 up leaves the window unmasked there, and its scenario), where paylock's u32
IDs differ by design (tests/nexus_vectors.rs checks them), and key-by-key replays of codes with
a start key inside (typed key by key, it restarts the code).
"""

import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
VECTORS = ROOT / "test-vectors/nexus/nexus_keycode_vectors.json"


def device(protocol, key, s):
    return (
        f"device {0 if protocol == 'full' else 1} {key} {s['pd_index']} {s['received_flags']} "
        f"{s.get('qc_short_count', 0)} {s.get('qc_long_count', 0)} "
        f"{int(s.get('restricted_flag', False))} {s['credit_seconds']} {int(s['unlocked'])}"
    )


def entry(mode, keys, want):
    a = want["after"]
    calls = ",".join(want["platform_calls"]) or "-"
    feedback = ",".join(want["feedback"]) or "-"
    return (
        f"{mode} {keys} {want['response']} {calls} {feedback} {a['pd_index']} "
        f"{a['received_flags']} {a['credit_seconds']} {int(a['unlocked'])} {a['payg_state']} "
        f"{a['qc_short_count']} {a['qc_long_count']} {int(a['restricted_flag'])}"
    )


def ends_code(protocol, keys):
    inner = keys[1:]
    if protocol == "small":
        return keys.startswith("1") and len(keys) == 15 and "1" not in inner
    return keys.startswith("*") and next(
        (i for i, k in enumerate(inner) if k in "*#"), None) == len(inner) - 1


def main():
    v = json.loads(VECTORS.read_text())
    for c in v["encode_vectors"]:
        want = c.get("device_expected")
        if not want:
            continue
        protocol = "small" if c["protocol"].startswith("small") else "full"
        if (protocol == "full" and c["message_type"] in ("SET_CREDIT", "UNLOCK")
                and c.get("message_id", 0) >= 65535):
            continue
        key = c.get("secret_key_hex") or c.get("controller_key_hex") or "5a" * 16
        modes = ("enter", "press") if ends_code(protocol, c["keycode_keys"]) else ("enter",)
        for mode in modes:
            print(device(protocol, key, want["before"]))
            print(entry(mode, c["keycode_keys"], want))
    for s in v["scenarios"]:
        if s["id"] == "SCEN-FULL-UINT16-ID-QUIRK":
            continue
        print(device(s["protocol"], s["device_key_hex"], s["initial_state"]))
        for step in s["steps"]:
            if step.get("action") == "set_restricted_flag":
                print("flag")
            else:
                print(entry("enter", step["keycode_keys"], step))


if __name__ == "__main__":
    main()
