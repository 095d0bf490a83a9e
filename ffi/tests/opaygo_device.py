"""Drives the OpenPAYGO-HW style device program (ffi/tests/c/opaygo_device.c, built against
paylock's compatibility header) through the published decode vectors and checks every answer.

    python3 ffi/tests/opaygo_device.py DEVICE DEVICE_RESTRICTED LINES

LINES is ffi/tests/openpaygo_lines.py's output. Entries run in one device per key, starting
code and form; where a line's counts are not the device's, a flash programmer writes them
(`nvram`) and the device reboots, loading them. Every token is followed by a long wait so the
waiting period never hides an answer, except in the check of the waiting period itself.
Expected: Value = the value (VALID), -1 (INVALID) or -2 (ALREADY_USED); Count = the token's
count, or MaxCount on a refusal (OpenPAYGO-HW's convention); the stored counts after.
"""

import subprocess
import sys
import tempfile
from collections import defaultdict


def run(device, key, sc, script):
    with tempfile.NamedTemporaryFile() as nvram:
        out = subprocess.run(
            [device, key, str(sc), nvram.name],
            input="".join(script), capture_output=True, text=True, check=True,
        )
    return out.stdout.splitlines()


def main():
    device, restricted, lines = sys.argv[1:4]
    groups = defaultdict(list)
    for row in open(lines):
        f = row.split()
        groups[(int(f[0]), f[1], int(f[2]))].append(f)
    failures = entries = 0
    for (form, key, sc), rows in groups.items():
        script, want = [], []
        state = (0, 0)
        for f in rows:
            before = (int(f[3]), int(f[4]))
            if before != state:
                script += [f"nvram {before[0]} {before[1]}\n", "reboot\n"]
            script += [f"keys *{f[5]}#\n", "wait 100000\n"]
            status = f[6]
            value = {"VALID": f[7], "INVALID": "-1", "ALREADY_USED": "-2"}[status]
            count = f[8] if status == "VALID" else str(before[0])
            want.append(f"token {value} {count} {f[9]} {f[10]}")
            state = (int(f[9]), int(f[10]))
        got = run(restricted if form else device, key, sc, script)
        for i, (g, w) in enumerate(zip(got, want)):
            if g != w:
                failures += 1
                print(f"FAIL {key} {sc} entry {i} ({rows[i][5]}): got '{g}', want '{w}'")
        if len(got) != len(want):
            failures += 1
            print(f"FAIL {key} {sc}: {len(got)} answers for {len(want)} tokens")
        entries += len(want)

    # The waiting period: a wrong token blocks entry for 60 s; a valid token entered during
    # it is not even decoded, and goes through once the period is over. Power cycles keep the
    # counts (a reboot between two entries of the same token still refuses the second).
    (form, key, sc), rows = next(
        (k, r) for k, r in groups.items() if k[0] == 0 and r[0][6] == "VALID"
    )
    first = rows[0]
    script = [
        f"nvram {first[3]} {first[4]}\n", "reboot\n",
        "keys *000000001#\n", f"keys *{first[5]}#\n", "wait 59\n", f"keys *{first[5]}#\n",
        "wait 1\n", f"keys *{first[5]}#\n", "reboot\n", f"keys *{first[5]}#\n",
    ]
    got = run(device, key, sc, script)
    want = [
        f"token -1 {first[3]} {first[3]} {first[4]}", "blocked 60", "blocked 1",
        f"token {first[7]} {first[8]} {first[9]} {first[10]}",
        f"token -2 {first[9]} {first[9]} {first[10]}",
    ]
    if got != want:
        failures += 1
        print(f"FAIL waiting period: got {got}, want {want}")

    print(f"OpenPAYGO-HW style device on the compatibility header: {entries} tokens, "
          f"{len(groups)} devices, waiting period and reboots, {failures} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
