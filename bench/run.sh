#!/usr/bin/env bash
# The national-peak benchmark (issue 4): fills a database with generated labelled events, serves it
# with the release build, and measures with wrk on loopback, in one run:
#   (a) full-text + filter search on /api/v1/events   (b) a near search   (c) an event page
#   (d) the map data endpoint   (e) nginx serving saved copies of (c) and (d): the physical baseline.
# Then the same on PostgreSQL. Writes bench/out/summary.md (figures for BENCHMARKS.md).
#
# Usage: bash bench/run.sh            (EVENTS=100000 DURATION=15s CONNS=32 BACKENDS="sqlite postgres")
# Each case runs twice: as served (public answers kept a minute in memory) and with CACHE_SECONDS=0.
# Loopback only, bounded in time; needs wrk and nginx (installed from Debian's packages if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${EVENTS:-100000}
DURATION=${DURATION:-15s}
CONNS=${CONNS:-32}
BACKENDS=${BACKENDS:-"sqlite postgres"}
PG_BASE=${PG_BASE:-postgres://postgres@127.0.0.1:5432}
PORT=18080
NGINX_PORT=18081
out="$PWD/bench/out"
rm -rf "$out"; mkdir -p "$out/static"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
  as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx-light >/dev/null
fi
cargo build --release -q
bin="$PWD/target/release/semaine-industrie"

summary="$out/summary.md"
{
  echo "| backend | case | first request (uncached) | requests/s | p50 | p99 | bytes/response |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
} > "$summary"

# One wrk run → a summary line. wrk's --latency prints the 50% and 99% percentiles.
measure() {
  local backend=$1 name=$2 url=$3 file="$out/$1-$2.txt"
  # The first request pays the whole cost (the server keeps public answers a minute).
  local first
  first=$(curl -s -o /dev/null -w '%{time_total}' "$url" | python3 -c 'import sys; print(f"{float(sys.stdin.read())*1000:.1f} ms")')
  wrk -t2 -c"$CONNS" -d"$DURATION" --latency "$url" > "$file"
  local rps p50 p99 bytes
  rps=$(awk '/^Requests\/sec/ {print $2}' "$file")
  p50=$(awk '$1 == "50%" {print $2}' "$file")
  p99=$(awk '$1 == "99%" {print $2}' "$file")
  bytes=$(curl -s "$url" | wc -c)
  echo "| $backend | $name | $first | $rps | $p50 | $p99 | $bytes |" >> "$summary"
  echo "$backend $name: first $first, $rps req/s, p50 $p50, p99 $p99"
}

for backend in $BACKENDS; do
  case $backend in
    sqlite) db="sqlite://$out/bench.db" ;;
    postgres)
      name="si_bench_$$"
      psql "$PG_BASE/postgres" -q -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name"
      db="$PG_BASE/$name" ;;
  esac
  export DATABASE_URL="$db"
  "$bin" migrate 2>/dev/null
  start=$(date +%s.%N)
  "$bin" demo --events "$EVENTS" 2>/dev/null
  end=$(date +%s.%N)
  fill=$(python3 -c "print(round($end - $start, 1))")
  echo "| $backend | demo --events $EVENTS | filled in ${fill} s | | | | |" >> "$summary"
  echo "$backend: $EVENTS events in $fill s"

  TILE_URL="" RUST_LOG=warn "$bin" serve --bind "127.0.0.1:$PORT" > "$out/$backend-server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.5; done
  base="http://127.0.0.1:$PORT"
  id=$(curl -s "$base/api/v1/events?edition=2024&region=84&per_page=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
  search="$base/api/v1/events?edition=2024&q=soudure&region=84&audience=scolaires"
  near="$base/api/v1/events?edition=2024&near=69003&radius_km=30"
  page="$base/evenements/$id"
  map="$base/api/v1/map?edition=2024"
  measure "$backend" "a-search" "$search"
  measure "$backend" "b-near" "$near"
  measure "$backend" "c-event-page" "$page"
  measure "$backend" "d-map-data" "$map"
  hwm=$(awk '/VmHWM/ {print $2, $3}' "/proc/$server/status")
  echo "| $backend | server peak memory (VmHWM) | $hwm | | | | |" >> "$summary"
  echo "$backend peak memory: $hwm"
  curl -s "$page" > "$out/static/event.html"
  curl -s "$map" > "$out/static/map.json"
  kill "$server"; wait "$server" 2>/dev/null || true

  # The same without the in-memory answers (CACHE_SECONDS=0): what every request costs the database.
  CACHE_SECONDS=0 TILE_URL="" RUST_LOG=warn "$bin" serve --bind "127.0.0.1:$PORT" > "$out/$backend-server-nocache.log" 2>&1 &
  server=$!
  for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.5; done
  measure "$backend" "a-search-uncached" "$search"
  measure "$backend" "b-near-uncached" "$near"
  measure "$backend" "c-event-page-uncached" "$page"
  kill "$server"; wait "$server" 2>/dev/null || true
  [ "$backend" = postgres ] && psql "$PG_BASE/postgres" -q -c "DROP DATABASE IF EXISTS si_bench_$$ WITH (FORCE)"
done

# (e) The physical baseline: nginx serving the saved bytes, with as many workers as cores.
cat > "$out/nginx.conf" <<CONF
worker_processes 2;
pid $out/nginx.pid;
error_log $out/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  types { text/html html; application/json json; }
  server { listen 127.0.0.1:$NGINX_PORT; root $out/static; }
}
CONF
nginx -c "$out/nginx.conf" -p "$out"
sleep 0.5
measure nginx "e-event-page" "http://127.0.0.1:$NGINX_PORT/event.html"
measure nginx "e-map-data" "http://127.0.0.1:$NGINX_PORT/map.json"
nginx -c "$out/nginx.conf" -p "$out" -s stop

echo
cat "$summary"
