#!/usr/bin/env bash
# The Python bindings' checks, as CI runs them: build the wheel, install exactly that wheel, run
# the tests against the reference packages, then a short benchmark.
# Usage (from anywhere): bash python/ci.sh
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
stage() { printf '\n=== python: %s (t=%ss)\n' "$*" "$((SECONDS - start))"; }

stage "venv and packages"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check \
    maturin pytest mypy openpaygo==0.6.3 nexus-keycode==1.5.1 'bitstring<5'

stage "wheel (maturin build --release)"
wheels=target/python-wheels
rm -rf "$wheels"
.venv/bin/maturin build --release --manifest-path python/Cargo.toml --interpreter .venv/bin/python --out "$wheels"
wheel=$(ls "$wheels"/paylock-*.whl)
[ "$(echo "$wheel" | wc -l)" -eq 1 ] || { echo "expected one wheel in $wheels, found: $wheel"; exit 1; }
.venv/bin/pip install --quiet --disable-pip-version-check --force-reinstall --no-deps "$wheel"

stage "the installed paylock is the wheel, not the source folder"
(cd "$wheels" && ../../.venv/bin/python - <<'EOF'
import os, sys, paylock
location = os.path.dirname(paylock.__file__)
print(f"paylock {paylock.__version__} imported from {location}")
if "site-packages" not in location:
    sys.exit("paylock was not imported from site-packages: the tests would not test the wheel")
EOF
)

stage "stubs match the module (mypy stubtest)"
(cd "$wheels" && ../../.venv/bin/python -m mypy.stubtest paylock)

stage "pytest"
.venv/bin/pytest -q python/tests

stage "benchmark (short run)"
.venv/bin/python python/bench.py --quick
.venv/bin/python python/bench_metrics.py --quick

stage "done"
echo "python checks passed in $((SECONDS - start))s"
