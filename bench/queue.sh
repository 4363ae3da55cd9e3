#!/usr/bin/env bash
# The review-queue benchmark (issue 3): a coordinator's day at the peak. Fills a database with the
# demo data set plus SUBMITTED (8,000) submissions awaiting review in the open edition, serves it
# with the release build, and measures on loopback:
#   - the queue page /instruction for the national administrator (everything) and for the
#     Auvergne-Rhône-Alpes coordinator (their region), its « sans alerte » filter, and the API queue;
#   - one bulk labelling of 50 clean submissions (the « Labelliser la sélection » button), timed once;
#   - the national page right after a decision (the in-memory queue read again), 20 times.
# Then the same on PostgreSQL. Writes bench/out-queue/summary.md (figures for BENCHMARKS.md).
#
# Usage: bash bench/queue.sh   (SUBMITTED=8000 DURATION=10s CONNS=4 BACKENDS="sqlite postgres")
# Queue pages are per person and never cached: CONNS=4 is four reviewers clicking at once.
set -euo pipefail
cd "$(dirname "$0")/.."
SUBMITTED=${SUBMITTED:-8000}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-4}
BACKENDS=${BACKENDS:-"sqlite postgres"}
PG_BASE=${PG_BASE:-postgres://postgres@127.0.0.1:5432}
PORT=18090
out="$PWD/bench/out-queue"
rm -rf "$out"; mkdir -p "$out"

. bench/prepare.sh
base="http://127.0.0.1:$PORT"

summary="$out/summary.md"
{
  echo "| backend | case | first request | requests/s | p50 | p99 | bytes/response |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
} > "$summary"

serve() {
  MAIL_URL="file://$out/courriels" TILE_URL="" RUST_LOG=warn "$bin" serve --bind "127.0.0.1:$PORT" "$@" >> "$out/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 600); do curl -sf "$base/healthz" >/dev/null && return; sleep 0.5; done
  echo "server did not start"; exit 1
}

# A session cookie for a demo account.
login() {
  curl -s -o /dev/null -D - -H 'Sec-Fetch-Site: same-origin' \
    --data-urlencode "email=$1" --data-urlencode "password=$2" "$base/connexion" \
    | awk -F'[ ;]' 'tolower($1) == "set-cookie:" {print $2}'
}

measure() {
  local backend=$1 name=$2 url=$3 header=$4 file="$out/$1-$2.txt"
  local first
  first=$(curl -s -o /dev/null -H "$header" -w '%{time_total}' "$url" | python3 -c 'import sys; print(f"{float(sys.stdin.read())*1000:.0f} ms")')
  wrk -t2 -c"$CONNS" -d"$DURATION" --latency -H "$header" "$url" > "$file"
  local rps p50 p99 bytes
  rps=$(awk '/^Requests\/sec/ {print $2}' "$file")
  p50=$(awk '$1 == "50%" {print $2}' "$file")
  p99=$(awk '$1 == "99%" {print $2}' "$file")
  bytes=$(curl -s -H "$header" "$url" | wc -c)
  echo "| $backend | $name | $first | $rps | $p50 | $p99 | $bytes |" >> "$summary"
  echo "$backend $name: first $first, $rps req/s, p50 $p50, p99 $p99, $bytes bytes"
}

for backend in $BACKENDS; do
  case $backend in
    sqlite) export DATABASE_URL="sqlite://$out/bench.db" ;;
    postgres)
      name="si_queue_$$"
      psql "$PG_BASE/postgres" -q -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name"
      export DATABASE_URL="$PG_BASE/$name" ;;
  esac
  serve --demo; kill "$server"; wait "$server" 2>/dev/null || true
  start=$(date +%s.%N)
  "$bin" demo --submitted "$SUBMITTED" 2>/dev/null
  end=$(date +%s.%N)
  fill=$(python3 -c "print(round($end - $start, 1))")
  echo "| $backend | demo --submitted $SUBMITTED | filled in ${fill} s | | | | |" >> "$summary"
  echo "$backend: $SUBMITTED submissions in $fill s"
  serve
  admin=$(login admin@demo.semaine-industrie.fr demo-admin-2024)
  ara=$(login coordination.ara@demo.semaine-industrie.fr demo-coordination-2024)
  token=$("$bin" token create --email admin@demo.semaine-industrie.fr 2>/dev/null)
  measure "$backend" "queue-national" "$base/instruction" "Cookie: $admin"
  measure "$backend" "queue-national-page-40" "$base/instruction?page=40" "Cookie: $admin"
  measure "$backend" "queue-region-84" "$base/instruction" "Cookie: $ara"
  measure "$backend" "queue-region-84-sans-alerte" "$base/instruction?sans_alerte=1" "Cookie: $ara"
  measure "$backend" "api-queue-national" "$base/api/v1/review/queue" "Authorization: Bearer $token"
  # One click: label the 50 clean submissions of the first page.
  # Each checkbox names the event and the version listed (`id:version`), as the page posts them.
  ids=$(curl -s -H "Cookie: $admin" "$base/instruction?sans_alerte=1" \
    | grep -o 'name="id" value="[0-9]*:[0-9]*"' | sed -E 's/.*value="([0-9]+:[0-9]+)"/id=\1/' | awk 'NR <= 50' | paste -sd'&')
  t=$(curl -s -o "$out/$backend-bulk.html" -w '%{time_total}' -H 'Sec-Fetch-Site: same-origin' -H "Cookie: $admin" --data "$ids" "$base/instruction/labelliser")
  labelled=$(grep -o 'fr-alert__title">[0-9]* événement' "$out/$backend-bulk.html" | sed -E 's/[^0-9]*([0-9]+).*/\1/' || echo 0)
  ms=$(python3 -c "print(round($t * 1000))")
  echo "| $backend | bulk labelling of 50 (one request) | $ms ms | | | | $labelled labelled |" >> "$summary"
  echo "$backend bulk labelling: $labelled labelled in $ms ms"
  # The queue is kept in memory until something moves: the page right after a decision reads it
  # again. 20 times: one decision (API), then the national page, timed.
  curl -s -H "Authorization: Bearer $token" "$base/api/v1/review/queue" \
    | python3 -c 'import json, sys; [print(i["id"], i["version"]) for i in json.load(sys.stdin)["items"][-20:]]' > "$out/$backend-decide.txt"
  : > "$out/$backend-after.txt"
  while read -r id version; do
    curl -s -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
      --data "{\"decision\": \"refuse\", \"reason\": \"Banc d'essai de la file.\", \"version\": $version}" \
      "$base/api/v1/review/events/$id/decision"
    curl -s -o /dev/null -H "Cookie: $admin" -w '%{time_total}\n' "$base/instruction" >> "$out/$backend-after.txt"
  done < "$out/$backend-decide.txt"
  after=$(python3 -c "import statistics, sys; t = [float(l) * 1000 for l in open(sys.argv[1])]; print(f'median {statistics.median(t):.0f} ms, max {max(t):.0f} ms over {len(t)}')" "$out/$backend-after.txt")
  echo "| $backend | /instruction, national, right after a decision | $after | | | | |" >> "$summary"
  echo "$backend page after a decision: $after"
  hwm=$(awk '/VmHWM/ {print $2, $3}' "/proc/$server/status")
  echo "| $backend | server peak memory (VmHWM) | $hwm | | | | |" >> "$summary"
  kill "$server"; wait "$server" 2>/dev/null || true
  [ "$backend" = postgres ] && psql "$PG_BASE/postgres" -q -c "DROP DATABASE IF EXISTS si_queue_$$ WITH (FORCE)"
done
echo
cat "$summary"
