#!/usr/bin/env bash
# Smoke-fuzzes every target for N seconds each (default 20): fuzz/run.sh [seconds]
# New inputs go to fuzz/corpus/<target> (git-ignored), crashes to fuzz/artifacts/<target>.
# Runs every target, then exits non-zero if any of them failed.
set -uo pipefail

seconds=${1:-20}
cd "$(dirname "$0")/.." || exit 2
export RUSTC_BOOTSTRAP=1 # cargo-fuzz's -Z flags on a stable toolchain

cargo fuzz build || exit 2
failed=()
for target in $(cargo fuzz list); do
    mkdir -p "fuzz/corpus/$target"
    echo "== $target (${seconds}s)"
    cargo fuzz run "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
        -max_total_time="$seconds" -print_final_stats=1 || failed+=("$target")
done
if ((${#failed[@]})); then
    echo "FAILED: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
