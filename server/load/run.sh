#!/usr/bin/env bash
# Load figures for the ledger on SQLite and on PostgreSQL (a server of its own, on a free port),
# printed as one table by paylock-load (`target/server/paylock-load --help` for every option).
# Usage: bash server/load/run.sh [SECONDS] [CONCURRENCY] [DEVICES] [paylock-load options…]
# (e.g. --other-routes). LOAD_PROFILE=dev runs unoptimized binaries (a smoke test, as CI does:
# no figures); LOAD_BIN=PATH measures another build of the service (the load tool is this one).
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_RUN=${1:-5}; CONC=${2:-64}; DEVICES=${3:-500}
profile=${LOAD_PROFILE:-server}
dir=target/$([ "$profile" = dev ] && echo debug || echo "$profile")
cargo build -q --profile "$profile" -p paylock-cli --bin paylock -p paylock-server --bin paylock-load
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
work=$(mktemp -d); chown postgres:postgres "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
stop() { runuser -u postgres -- "$PGBIN/pg_ctl" -D "$work/data" -m immediate -w stop >/dev/null 2>&1 || true; rm -rf "$work"; }
trap stop EXIT
runuser -u postgres -- "$PGBIN/initdb" -D "$work/data" -A trust -U postgres >/dev/null
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$work/data" -l "$work/log" -w \
    -o "-p $port -k $work -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
"$PGBIN/createdb" -h 127.0.0.1 -p "$port" -U postgres load
mkdir -p "$work/sqlite"
echo "machine: $(nproc) cores; client, service and database on the same cores"
"$dir/paylock-load" --bin "${LOAD_BIN:-$dir/paylock}" --seconds "$SECONDS_RUN" \
    --concurrency "$CONC" --devices "$DEVICES" \
    --database "sqlite:$work/sqlite/ledger.db" --database "postgres://postgres@127.0.0.1:$port/load" \
    "${@:4}"
