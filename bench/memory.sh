#!/usr/bin/env bash
# Memory of the server under what an anonymous crowd can send (trust issue): (1) a flood of failed
# logins over 64 connections, each for a different address from a different source, and (2) searches
# that are all different, each answering ~100 KB (the answer cache's worst case). Prints the server's
# resident memory before, at its peak, and after each, and the answers by status.
#
# Usage: bash bench/memory.sh        (DURATION=30s CONNS=64; SQLite with the demo data, release build)
# Loopback only, bounded in time; needs wrk (installed from Debian's packages if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-30s}
CONNS=${CONNS:-64}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
command -v wrk >/dev/null || { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
cargo build --release -q --bin semaine-industrie
bin="$PWD/target/release/semaine-industrie"
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
DATABASE_URL="sqlite://$work/bench.db" "$bin" serve --demo --behind-proxy --bind "127.0.0.1:$port" > "$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 1; done
# Warm the paths once, so that "before" includes what any first visitor builds (catalogue index, demo).
curl -s -o /dev/null "http://127.0.0.1:$port/api/v1/events?edition=2024&per_page=100"
curl -s -o /dev/null -d 'email=x%40exemple.fr&password=y' -H 'Sec-Fetch-Site: same-origin' "http://127.0.0.1:$port/connexion"
sleep 2

rss() { awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$server/status"; }
run() {
  local mode=$1 before peak now
  before=$(rss); peak=$before
  MODE=$mode wrk -t2 -c"$CONNS" -d"$DURATION" --timeout 10s -s bench/flood.lua "http://127.0.0.1:$port" > "$work/$mode.txt" 2>&1 &
  local w=$!
  while kill -0 $w 2>/dev/null; do now=$(rss); [ "$now" -gt "$peak" ] && peak=$now; sleep 0.5; done
  wait $w || true
  sleep 5
  echo "## $mode: $CONNS connections, $DURATION"
  grep -E "Requests/sec|requests in|statuses|Non-2xx" "$work/$mode.txt"
  echo "resident memory: before ${before} MB, peak ${peak} MB, 5 s after ${now:-$peak} MB → $(rss) MB (growth $(( $(rss) - before )) MB, peak growth $(( peak - before )) MB)"
}
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {print int($2/1024/1024)}' /proc/meminfo) GB; $(date -u +%F)"
run login
run search
