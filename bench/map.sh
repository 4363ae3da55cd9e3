#!/usr/bin/env bash
# The national map at 100,000 labelled events (issue 12): what each view downloads and costs.
#   - every marker at once (/api/v1/map, what the page read for every view before clusters);
#   - clusters at national zoom (metropolitan France, the page's first view), overseas included
#     (the whole world), and at regional zoom (Auvergne-Rhône-Alpes);
#   - markers once zoomed in (zoom 11 around Lyon and in Paris: the page's `bbox`);
#   - the sitemap's first file (40,000 addresses), which anyone may ask for again and again.
# Bytes raw and gzipped (the server sends gzip to browsers), the first request (built, then kept a
# minute), and wrk on the national clusters. Writes bench/out-map/summary.md.
#
# Usage: bash bench/map.sh   (EVENTS=100000 DURATION=10s CONNS=32; SQLite: the answers come from the
# catalogue index and the map cache, the same code on PostgreSQL)
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${EVENTS:-100000}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-32}
PORT=18091
out="$PWD/bench/out-map"
rm -rf "$out"; mkdir -p "$out"

. bench/prepare.sh
export DATABASE_URL="sqlite://$out/bench.db"
"$bin" migrate 2>/dev/null
"$bin" demo --events "$EVENTS" 2>/dev/null
TILE_URL="" RUST_LOG=warn "$bin" serve --bind "127.0.0.1:$PORT" > "$out/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
base="http://127.0.0.1:$PORT"
for _ in $(seq 1 120); do curl -sf "$base/readyz" >/dev/null && break; sleep 0.5; done

summary="$out/summary.md"
{
  echo "| view | request | first request | bytes | gzipped | rows |"
  echo "| --- | --- | ---: | ---: | ---: | ---: |"
} > "$summary"
view() {
  local name=$1 path=$2 first bytes gz rows
  first=$(curl -s -o /dev/null -w '%{time_total}' "$base$path" | python3 -c 'import sys; print(f"{float(sys.stdin.read())*1000:.0f} ms")')
  bytes=$(curl -s "$base$path" | wc -c)
  gz=$(curl -s -H 'Accept-Encoding: gzip' "$base$path" | wc -c)
  rows=$(curl -s "$base$path" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["rows"]))')
  echo "| $name | \`$path\` | $first | $bytes | $gz | $rows |" >> "$summary"
  echo "$name: first $first, $bytes bytes, $gz gzipped, $rows rows"
}
e=edition=2024
view "every marker (before)" "/api/v1/map?$e"
view "national, metropolitan France (zoom 6)" "/api/v1/map/clusters?$e&zoom=6&bbox=40.0,-7.0,52.5,12.0"
view "national, whole world with overseas (zoom 5)" "/api/v1/map/clusters?$e&zoom=5"
view "regional, Auvergne-Rhône-Alpes (zoom 8)" "/api/v1/map/clusters?$e&zoom=8&bbox=44.1,2.0,46.8,7.2"
view "zoomed in, Lyon (zoom 11 markers)" "/api/v1/map?$e&bbox=45.68,4.7,45.84,5.0"
view "zoomed in, Paris (zoom 11 markers)" "/api/v1/map?$e&bbox=48.78,2.2,48.94,2.5"
view "national, schools only (zoom 6)" "/api/v1/map/clusters?$e&zoom=6&bbox=40.0,-7.0,52.5,12.0&audience=scolaires"

# Clusters come from the in-memory index, then the map cache: the national view under load.
wrk -t2 -c"$CONNS" -d"$DURATION" --latency -H 'Accept-Encoding: gzip' "$base/api/v1/map/clusters?$e&zoom=6&bbox=40.0,-7.0,52.5,12.0" > "$out/wrk-clusters.txt"
rps=$(awk '/^Requests\/sec/ {print $2}' "$out/wrk-clusters.txt")
p99=$(awk '$1 == "99%" {print $2}' "$out/wrk-clusters.txt")
echo "| national clusters under load (wrk, $CONNS connections, gzip) | | $rps req/s | p99 $p99 | | |" >> "$summary"
# The sitemap's first file (40,000 event pages): anyone may ask for it; crawlers take gzip.
sm="/sitemaps/evenements-1.xml"
first=$(curl -s -o /dev/null -w '%{time_total}' -H 'Accept-Encoding: gzip' "$base$sm" | python3 -c 'import sys; print(f"{float(sys.stdin.read())*1000:.0f} ms")')
bytes=$(curl -s "$base$sm" | wc -c)
gz=$(curl -s -H 'Accept-Encoding: gzip' "$base$sm" | wc -c)
echo "| sitemap, first file (40,000 event pages) | \`$sm\` | $first | $bytes | $gz | |" >> "$summary"
wrk -t2 -c"$CONNS" -d"$DURATION" --latency -H 'Accept-Encoding: gzip' "$base$sm" > "$out/wrk-sitemap.txt"
rps=$(awk '/^Requests\/sec/ {print $2}' "$out/wrk-sitemap.txt")
p99=$(awk '$1 == "99%" {print $2}' "$out/wrk-sitemap.txt")
echo "| sitemap file under load (wrk, $CONNS connections, gzip) | | $rps req/s | p99 $p99 | | |" >> "$summary"
# Every view different (the cache cannot help): national clusters of 40 searches by department.
: > "$out/distinct.txt"
for d in 01 03 07 15 26 38 42 43 63 69 73 74 13 83 06 31 33 35 44 59 62 67 75 76 80 92 93 94 29 56 21 25 39 51 54 57 86 87 971 974; do
  curl -s -o /dev/null -w '%{time_total}\n' "$base/api/v1/map/clusters?$e&zoom=6&department=$d" >> "$out/distinct.txt"
done
med=$(python3 -c "import statistics, sys; t = [float(l) * 1000 for l in open(sys.argv[1])]; print(f'{statistics.median(t):.1f} ms (max {max(t):.1f} ms)')" "$out/distinct.txt")
echo "| national clusters, 40 different searches, one at a time | | median $med | | | |" >> "$summary"
hwm=$(awk '/VmHWM/ {print $2, $3}' "/proc/$server/status")
echo "| server peak memory (VmHWM) | | $hwm | | | |" >> "$summary"
echo
cat "$summary"
