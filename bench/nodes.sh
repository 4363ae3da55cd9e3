#!/usr/bin/env bash
# One node against two on one PostgreSQL database (national-scale issue): 100,000 labelled events,
# the release build, every request a different search (CACHE_SECONDS=0: no answer is kept), measured
# by wrk with a script drawing the words and places of each request. First one node with all the
# connections, then two nodes with half each, at once; requests/s summed, p50/p99 of each.
# Also: how long a decision through one node takes to be public through the other.
#
# Usage: bash bench/nodes.sh        (EVENTS=100000 SUBMITTED=8000 DURATION=15s CONNS=32; PG_BASE=postgres://postgres@127.0.0.1:5432)
# Loopback only; needs wrk (installed from Debian's packages if missing). Results in bench/out-nodes/.
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${EVENTS:-100000}
DURATION=${DURATION:-15s}
CONNS=${CONNS:-32}
SUBMITTED=${SUBMITTED:-8000}
PG_BASE=${PG_BASE:-postgres://postgres@127.0.0.1:5432}
out="$PWD/bench/out-nodes"
rm -rf "$out"; mkdir -p "$out"
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
command -v wrk >/dev/null || { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
cargo build --release -q --bin semaine-industrie
bin="$PWD/target/release/semaine-industrie"
name="si_nodes_$$"
psql "$PG_BASE/postgres" -q -c "CREATE DATABASE $name"
export DATABASE_URL="$PG_BASE/$name"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; psql "$PG_BASE/postgres" -q -c "DROP DATABASE IF EXISTS $name WITH (FORCE)"' EXIT
"$bin" migrate 2>/dev/null
# The demo data set first (an edition open now, the demo accounts), then the generated events and a
# few submissions to decide.
TILE_URL="" RUST_LOG=warn "$bin" serve --demo --bind 127.0.0.1:18090 > "$out/fill.log" 2>&1 &
fill=$!
for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:18090/readyz" >/dev/null && break; sleep 0.5; done
kill "$fill"; wait "$fill" 2>/dev/null || true
start=$(date +%s.%N)
"$bin" demo --events "$EVENTS" 2>/dev/null
echo "demo --events $EVENTS on PostgreSQL: $(python3 -c "print(round($(date +%s.%N) - $start, 1))") s"
# Submissions waiting for review: the national queue of the coordinators' peak (and the decisions below).
"$bin" demo --submitted "$SUBMITTED" 2>/dev/null

# Each request a different query: a word of the trades and a department, drawn per request.
cp bench/distinct.lua "$out/distinct.lua"

node() {
  local port=$1
  CACHE_SECONDS=0 TILE_URL="" RUST_LOG=warn "$bin" serve --bind "127.0.0.1:$port" > "$out/node-$port.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && return; sleep 0.2; done
  echo "node $port not ready"; exit 1
}
measure() { # port conns file
  wrk -t1 -c"$2" -d"$DURATION" --latency -s "$out/distinct.lua" "http://127.0.0.1:$1" > "$3"
}
summary() { # file
  echo "$(awk '/^Requests\/sec/ {print $2}' "$1") req/s, p50 $(awk '$1 == "50%" {print $2}' "$1"), p99 $(awk '$1 == "99%" {print $2}' "$1")"
}

node 18091
measure 18091 "$CONNS" "$out/one.txt"
echo "one node, $CONNS connections: $(summary "$out/one.txt")"
echo "one node peak memory: $(awk '/VmHWM/ {print $2, $3}' "/proc/${pids[0]}/status")"

node 18092
measure 18091 $((CONNS / 2)) "$out/two-a.txt" &
a=$!
measure 18092 $((CONNS / 2)) "$out/two-b.txt"
wait $a
total=$(python3 -c "print(round($(awk '/^Requests\/sec/ {print $2}' "$out/two-a.txt") + $(awk '/^Requests\/sec/ {print $2}' "$out/two-b.txt")))")
echo "two nodes, $((CONNS / 2)) connections each: $total req/s in all; A $(summary "$out/two-a.txt"); B $(summary "$out/two-b.txt")"
echo "peak memory: A $(awk '/VmHWM/ {print $2, $3}' "/proc/${pids[0]}/status"), B $(awk '/VmHWM/ {print $2, $3}' "/proc/${pids[1]}/status")"

# The national review queue (its first page of 50, SUBMITTED waiting, as the national administrator
# sees it: a session made on A serves on B too) and the national map's clusters (computed at each
# request: CACHE_SECONDS=0), through one node with all the connections, then both at once with half each.
token=$("$bin" token create --email admin@demo.semaine-industrie.fr 2>/dev/null)
session=$(curl -s -o /dev/null -D - -H 'Sec-Fetch-Site: same-origin' --data-urlencode "email=admin@demo.semaine-industrie.fr" \
  --data-urlencode "password=demo-admin-2024" "http://127.0.0.1:18091/connexion" | awk -F'[ ;]' 'tolower($1) == "set-cookie:" {print $2}')
fetch() { # port conns file path
  wrk -t1 -c"$2" -d"$DURATION" --latency -H "Cookie: $session" "http://127.0.0.1:$1$4" > "$3"
}
for case in queue clusters; do
  case $case in
    queue) path="/instruction" ;;
    clusters) path="/api/v1/map/clusters?edition=2024&zoom=6&bbox=40.0,-7.0,52.5,12.0" ;;
  esac
  fetch 18091 "$CONNS" "$out/$case-one.txt" "$path"
  echo "$case, one node, $CONNS connections: $(summary "$out/$case-one.txt")"
  fetch 18091 $((CONNS / 2)) "$out/$case-two-a.txt" "$path" &
  a=$!
  fetch 18092 $((CONNS / 2)) "$out/$case-two-b.txt" "$path"
  wait $a
  total=$(python3 -c "print(round($(awk '/^Requests\/sec/ {print $2}' "$out/$case-two-a.txt") + $(awk '/^Requests\/sec/ {print $2}' "$out/$case-two-b.txt")))")
  echo "$case, two nodes: $total req/s in all; A $(summary "$out/$case-two-a.txt"); B $(summary "$out/$case-two-b.txt")"
  grep -h "Non-2xx" "$out/$case-"*.txt || true
done
echo "peak memory: A $(awk '/VmHWM/ {print $2, $3}' "/proc/${pids[0]}/status"), B $(awk '/VmHWM/ {print $2, $3}' "/proc/${pids[1]}/status")"

# A change through one node, public through the other: a submission labelled through A, then B's
# catalogue (its index: what searches read) asked every 20 ms until it counts one more event.
read -r id version year < <(psql "$DATABASE_URL" -tA -F ' ' -c "SELECT id, version, edition FROM events WHERE moderation = 'submitted' ORDER BY id LIMIT 1")
count() { curl -s "http://127.0.0.1:18092/api/v1/events?edition=$year&per_page=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])'; }
before=$(count)
t0=$(date +%s.%N)
curl -sf -o /dev/null -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d "{\"decision\": \"label\", \"version\": $version}" "http://127.0.0.1:18091/api/v1/review/events/$id/decision"
t1=$(date +%s.%N)
until [ "$(count)" != "$before" ]; do
  sleep 0.02
  if python3 -c "import sys; sys.exit(0 if $(date +%s.%N) - $t0 > 30 else 1)"; then echo "not seen within 30 s"; break; fi
done
echo "label decided through A in $(python3 -c "print(round(($t1 - $t0) * 1000))") ms, public through B after $(python3 -c "print(round($(date +%s.%N) - $t0, 2))") s"

# The deciding node's own next search: its index catches up with the decision before answering
# (the moved event applied to it; it used to read the whole catalogue again, seconds at 100,000).
read -r id version < <(psql "$DATABASE_URL" -tA -F ' ' -c "SELECT id, version FROM events WHERE moderation = 'submitted' ORDER BY id LIMIT 1")
curl -sf -o /dev/null -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d "{\"decision\": \"label\", \"version\": $version}" "http://127.0.0.1:18091/api/v1/review/events/$id/decision"
t=$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:18091/api/v1/events?edition=$year&q=visite&per_page=1")
echo "A's first search after its own decision: $(python3 -c "print(round($t * 1000))") ms"
