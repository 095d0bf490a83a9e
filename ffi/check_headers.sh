#!/usr/bin/env bash
# Regenerates ffi/include/paylock.h with cbindgen and fails if it differs from the committed one.
# Usage: bash ffi/check_headers.sh          (UPDATE=1 to write the new header instead)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cbindgen >/dev/null || cargo install cbindgen --locked --version 0.29.4
fresh=$(mktemp)
trap 'rm -f "$fresh"' EXIT
cbindgen --quiet --config ffi/cbindgen.toml --crate paylock-ffi --output "$fresh"
if [ "${UPDATE-}" = 1 ]; then
    cp "$fresh" ffi/include/paylock.h
elif ! diff -u ffi/include/paylock.h "$fresh"; then
    echo "ffi/include/paylock.h is out of date: run UPDATE=1 bash ffi/check_headers.sh" >&2
    exit 1
fi
