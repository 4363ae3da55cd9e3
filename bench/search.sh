#!/usr/bin/env bash
# Search without the answer cache at 100,000 labelled events (national-scale issue), on SQLite and on
# PostgreSQL, one node, the release build, CACHE_SECONDS=0: every request a different question, drawn
# per request by wrk's script:
#   - text:  a word of the trades, a department, a page of 1 to 3 (as bench/nodes.sh);
#   - near:  a postal code of one of 20 towns, a radius of 5 to 50 km, a page of 1 to 3;
#   - wide:  a word, any of the 96 metropolitan departments, a page of 1 to 5, and an audience half
#            the time: more distinct pages than the node keeps events for, so most pages read the store.
# Requests/s, p50, p99, the node's peak memory, and how many events of the pages came from memory
# (the events searches showed lately, `si_search_records_*` in /metrics) or from the database.
#
# Usage: bash bench/search.sh   (EVENTS=100000 DURATION=15s CONNS=32 BACKENDS="sqlite postgres")
# Loopback only; needs wrk (installed from Debian's packages if missing). Results in bench/out-search/.
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${EVENTS:-100000}
DURATION=${DURATION:-15s}
CONNS=${CONNS:-32}
BACKENDS=${BACKENDS:-"sqlite postgres"}
PG_BASE=${PG_BASE:-postgres://postgres@127.0.0.1:5432}
PORT=18095
out="$PWD/bench/out-search"
rm -rf "$out"; mkdir -p "$out"
. bench/prepare.sh
name="si_search_$$"
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; psql "$PG_BASE/postgres" -q -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" 2>/dev/null || true' EXIT

cp bench/distinct.lua "$out/text.lua"
cat > "$out/near.lua" <<'LUA'
local places = {"69003","13001","31000","33000","44000","59000","67000","75011","35000","38000",
  "21000","25000","76600","63000","37000","34000","06000","51100","87000","29200"}
local radii = {5, 10, 20, 30, 50}
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  return wrk.format("GET", "/api/v1/events?edition=2024&near=" .. places[math.random(#places)] ..
    "&radius_km=" .. radii[math.random(#radii)] .. "&page=" .. math.random(1, 3))
end
LUA
cat > "$out/wide.lua" <<'LUA'
local words = {"soudure", "usinage", "robot", "chimie", "textile", "bois", "energie", "numerique",
  "maintenance", "electricite", "plasturgie", "aeronautique", "automobile", "agroalimentaire", "metallurgie"}
local audiences = {"scolaires", "etudiants", "demandeurs_emploi", "grand_public"}
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  local d = math.random(1, 95)
  local dep = d == 20 and "2A" or string.format("%02d", d)
  local path = "/api/v1/events?edition=2024&q=" .. words[math.random(#words)] .. "&department=" .. dep ..
    "&page=" .. math.random(1, 5)
  if math.random(2) == 1 then path = path .. "&audience=" .. audiences[math.random(#audiences)] end
  return wrk.format("GET", path)
end
LUA

summary="$out/summary.md"
{
  echo "| backend | questions | requests/s | p50 | p99 | events from memory | from the database | peak memory |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
} > "$summary"
metric() { curl -s "http://127.0.0.1:$PORT/metrics" | awk -v m="$1" '$1 == m {print $2}'; }

for backend in $BACKENDS; do
  case $backend in
    sqlite) export DATABASE_URL="sqlite://$out/bench.db" ;;
    postgres)
      psql "$PG_BASE/postgres" -q -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name"
      export DATABASE_URL="$PG_BASE/$name" ;;
  esac
  "$bin" migrate 2>/dev/null
  "$bin" demo --events "$EVENTS" 2>/dev/null
  for questions in text near wide; do
    # A node per kind of question: each starts with nothing kept, and its peak memory is its own.
    CACHE_SECONDS=0 TILE_URL="" RUST_LOG=warn "$bin" serve --bind "127.0.0.1:$PORT" > "$out/$backend-$questions.log" 2>&1 &
    server=$!
    for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
    # The first search builds the index (not measured).
    curl -s -o /dev/null "http://127.0.0.1:$PORT/api/v1/events?edition=2024&q=visite"
    wrk -t1 -c"$CONNS" -d"$DURATION" --latency -s "$out/$questions.lua" "http://127.0.0.1:$PORT" > "$out/$backend-$questions.txt"
    file="$out/$backend-$questions.txt"
    line="| $backend | $questions | $(awk '/^Requests\/sec/ {print $2}' "$file") | $(awk '$1 == "50%" {print $2}' "$file") | $(awk '$1 == "99%" {print $2}' "$file") | $(metric si_search_records_served_total) | $(metric si_search_records_read_total) | $(awk '/VmHWM/ {print $2, $3}' "/proc/$server/status") |"
    echo "$line" >> "$summary"
    echo "$line"
    grep -q "Non-2xx" "$file" && { echo "non-2xx answers:"; grep "Non-2xx" "$file"; }
    kill "$server"; wait "$server" 2>/dev/null || true
    server=""
  done
done
echo
cat "$summary"
