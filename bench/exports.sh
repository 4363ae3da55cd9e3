#!/usr/bin/env bash
# Exports of a whole edition (national-scale issue): one anonymous request for the CSV, JSON and
# iCalendar export of 100,000 labelled events. For each: time to the first byte, total time, bytes,
# and the server's resident memory before and at its peak while the export is written.
#
# Usage: bash bench/exports.sh           (EVENTS=100000, SQLite, release build)
#        BIN=/path/to/older/semaine-industrie bash bench/exports.sh   (the same against another build)
# Loopback only; the database is generated once in bench/out-exports/ and reused.
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${EVENTS:-100000}
out="$PWD/bench/out-exports"
mkdir -p "$out"
if [ -z "${BIN:-}" ]; then cargo build --release -q --bin semaine-industrie; fi
bin=${BIN:-$PWD/target/release/semaine-industrie}
db="sqlite://$out/bench-$EVENTS.db"
if [ ! -f "$out/bench-$EVENTS.db" ]; then
  DATABASE_URL="$db" "$bin" migrate 2>/dev/null
  DATABASE_URL="$db" "$bin" demo --events "$EVENTS" 2>/dev/null
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
DATABASE_URL="$db" TILE_URL="" RUST_LOG=warn "$bin" serve --bind "127.0.0.1:$port" > "$out/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.5; done
base="http://127.0.0.1:$port"
# The catalogue index is built by the first search; "before" includes it, as on a running node.
curl -s -o /dev/null "$base/api/v1/events?edition=2024&per_page=1"
sleep 2
rss() { awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$server/status"; }
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {print int($2/1024/1024)}' /proc/meminfo) GB; $(date -u +%F); $bin"
echo "| export | first byte | total | bytes | memory before | peak during | growth |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
for kind in csv json ics; do
  before=$(rss); peak=$before
  curl -s -o /dev/null -w '%{time_starttransfer} %{time_total} %{size_download}\n' "$base/api/v1/events.$kind?edition=2024" > "$out/$kind.txt" &
  c=$!
  while kill -0 $c 2>/dev/null; do now=$(rss); [ "$now" -gt "$peak" ] && peak=$now; sleep 0.05; done
  wait $c
  read -r first total bytes < "$out/$kind.txt"
  printf '| %s | %.0f ms | %.2f s | %s | %s MB | %s MB | +%s MB |\n' "$kind" "$(python3 -c "print($first*1000)")" "$total" "$bytes" "$before" "$peak" "$((peak - before))"
  sleep 1
done
