#!/usr/bin/env bash
# The C tests of the C ABI, on the host, with AddressSanitizer and UBSan: the published
# vectors through paylock.h (native API) and an OpenPAYGO-HW style device program through the
# compatibility header. Usage: bash ffi/tests/run_c.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
# Both Nexus protocols (the default builds only the full one): the vectors cover both.
cargo build -q -p paylock-ffi --features ast-all-suites,nexus-small
lib=target/debug/libpaylock_ffi.a
out=target/ffi-c
mkdir -p "$out"
cc=(gcc -std=c11 -Wall -Wextra -Werror -g -fsanitize=address,undefined -fno-sanitize-recover=all -Iffi/include)
libs=("$lib" -lpthread -ldl -lm)
python3 ffi/tests/openpaygo_lines.py > "$out/openpaygo_lines.txt"

"${cc[@]}" ffi/tests/c/openpaygo_replay.c "${libs[@]}" -o "$out/openpaygo_replay"
"$out/openpaygo_replay" < "$out/openpaygo_lines.txt"

# The same device source, built once per digit set against the compatibility header.
"${cc[@]}" ffi/tests/c/opaygo_device.c "${libs[@]}" -o "$out/opaygo_device"
"${cc[@]}" -DRESTRICTED_DIGIT_SET_MODE ffi/tests/c/opaygo_device.c "${libs[@]}" -o "$out/opaygo_device_rds"
python3 ffi/tests/opaygo_device.py "$out/opaygo_device" "$out/opaygo_device_rds" "$out/openpaygo_lines.txt"

python3 ffi/tests/nexus_lines.py > "$out/nexus_lines.txt"
"${cc[@]}" ffi/tests/c/nexus_replay.c "${libs[@]}" -o "$out/nexus_replay"
"$out/nexus_replay" < "$out/nexus_lines.txt"

# The device-lock engine of every scheme: power cuts and clock checkpoints, then the Nexus
# and AST scenarios.
"${cc[@]}" ffi/tests/c/engine_power_cut.c "${libs[@]}" -o "$out/engine_power_cut"
"$out/engine_power_cut"
python3 ffi/tests/engine_lines.py > "$out/engine_lines.txt"
"${cc[@]}" ffi/tests/c/engine_replay.c "${libs[@]}" -o "$out/engine_replay"
"$out/engine_replay" < "$out/engine_lines.txt"
# The same Nexus scenarios key by key (paylock_nexus_engine_press_key), then the key-entry rules.
"$out/engine_replay" keys < "$out/engine_lines.txt"
"${cc[@]}" ffi/tests/c/engine_keys.c "${libs[@]}" -o "$out/engine_keys"
"$out/engine_keys"

python3 ffi/tests/ast_lines.py > "$out/ast_lines.txt"
"${cc[@]}" ffi/tests/c/ast_replay.c "${libs[@]}" -o "$out/ast_replay"
"$out/ast_replay" < "$out/ast_lines.txt"
