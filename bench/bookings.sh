#!/usr/bin/env bash
# The bookings benchmark (issue 10): one popular session of 40 seats with a waiting list, booked by
# CONNS clients at once for DURATION, each request a class of 2 to 9 from its own address. Measures
# bookings per second and the latency of a booking (p50, p99) with wrk, then checks in the database
# that the session is never overbooked. SQLite, then PostgreSQL. Writes bench/out-bookings/summary.md.
#
# Usage: bash bench/bookings.sh   (DURATION=10s CONNS=8 BACKENDS="sqlite postgres")
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
CONNS=${CONNS:-8}
BACKENDS=${BACKENDS:-"sqlite postgres"}
PG_BASE=${PG_BASE:-postgres://postgres@127.0.0.1:5432}
PORT=18091
out="$PWD/bench/out-bookings"
rm -rf "$out"; mkdir -p "$out"

. bench/prepare.sh
base="http://127.0.0.1:$PORT"
summary="$out/summary.md"
{
  echo "| backend | bookings/s | p50 | p99 | answers 201 | seats confirmed (capacity 40) | waiting |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
} > "$summary"

serve() {
  MAIL_URL="file://$out/courriels" TILE_URL="" UAI_DIRECTORY_URL="" SIRET_DIRECTORY_URL="" RUST_LOG=warn \
    "$bin" serve --bind "127.0.0.1:$PORT" --behind-proxy "$@" >> "$out/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 600); do curl -sf "$base/healthz" >/dev/null && return; sleep 0.5; done
  echo "server did not start"; exit 1
}

for backend in $BACKENDS; do
  case $backend in
    sqlite) export DATABASE_URL="sqlite://$out/bench.db" ;;
    postgres)
      name="si_bookings_$$"
      psql "$PG_BASE/postgres" -q -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name"
      export DATABASE_URL="$PG_BASE/$name" ;;
  esac
  serve --demo
  orga=$("$bin" token create --email organisateur@demo.semaine-industrie.fr 2>/dev/null)
  admin=$("$bin" token create --email admin@demo.semaine-industrie.fr 2>/dev/null)
  # A visit of the edition open now, on the platform: 40 seats, groups up to 10, a waiting list.
  id=$(BASE="$base" ORGA="$orga" ADMIN="$admin" python3 - <<'PY'
import json, os, urllib.request
base, orga, admin = os.environ["BASE"], os.environ["ORGA"], os.environ["ADMIN"]
def call(method, path, token, body=None):
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Sec-Fetch-Site": "same-origin"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)
from datetime import datetime, timezone
now = datetime.now(timezone.utc)
editions = call("GET", "/api/v1/editions", orga)
open_edition = next(e for e in editions
                    if datetime.fromisoformat(e["opens_at"]) <= now <= datetime.fromisoformat(e["deadline"]))
day = open_edition["week_start"]
event = {"edition": open_edition["year"], "title": "Visite de l'usine de démonstration", "summary": "Découverte des métiers.",
         "description": "Visite guidée des ateliers de soudure et d'usinage.", "type": "visite_entreprise",
         "sectors": ["mecanique_metallurgie"], "audiences": ["scolaires"], "themes": [], "format": "presentiel",
         "location": {"venue": "Usine", "address": "1 rue de l'Industrie", "postal_code": "69001", "commune_code": ""},
         "online_url": "", "sessions": [{"start": f"{day}T09:00", "end": f"{day}T12:00"}], "free": True,
         "industry_objective": True, "accessible": True,
         "registration": {"mode": "platform", "capacity": 40, "max_group": 10, "waitlist": True},
         "contact": {"email": "contact@usine.example", "phone": ""}}
created = call("POST", "/api/v1/me/events", orga, event)
call("POST", f"/api/v1/me/events/{created['id']}/submit", orga, {})
queue = call("GET", "/api/v1/review/queue", admin)
version = next(i["version"] for i in queue["items"] if i["id"] == created["id"])
call("POST", f"/api/v1/review/events/{created['id']}/decision", admin, {"decision": "label", "version": version})
print(created["id"])
PY
)
  url="$base/api/v1/events/$id/sessions/$id-1/registrations"
  wrk -t2 -c"$CONNS" -d"$DURATION" --latency -s bench/book.lua "$url" > "$out/$backend.txt"
  rps=$(awk '/^Requests\/sec/ {print $2}' "$out/$backend.txt")
  p50=$(awk '$1 == "50%" {print $2}' "$out/$backend.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$out/$backend.txt")
  non2xx=$(awk '/Non-2xx/ {print $5}' "$out/$backend.txt")
  total=$(awk '/requests in/ {print $1}' "$out/$backend.txt")
  seats=$(curl -s "$base/api/v1/events/$id" | python3 -c 'import json,sys; s=json.load(sys.stdin)["sessions"][0]; print(40 - s["seats_left"])')
  kill "$server"; wait "$server" 2>/dev/null || true
  # The database's own count: confirmed seats of the session, and bookings waiting.
  case $backend in
    sqlite) q() { python3 -c "import sqlite3,sys; print(sqlite3.connect('$out/bench.db').execute(sys.argv[1]).fetchone()[0])" "$1"; } ;;
    postgres) q() { psql "$DATABASE_URL" -tAc "$1"; } ;;
  esac
  confirmed=$(q "SELECT COALESCE(SUM(seats), 0) FROM bookings WHERE event_id = $id AND status = 'confirmed'")
  waiting=$(q "SELECT COUNT(*) FROM bookings WHERE event_id = $id AND status = 'waitlisted'")
  [ "$confirmed" -le 40 ] || { echo "OVERBOOKED: $confirmed seats confirmed of 40"; exit 1; }
  [ "$confirmed" = "$seats" ] || { echo "the API says $seats seats taken, the bookings $confirmed"; exit 1; }
  echo "| $backend | $rps | $p50 | $p99 | $((total - ${non2xx:-0})) of $total | $confirmed | $waiting |" >> "$summary"
  echo "$backend: $rps bookings/s, p50 $p50, p99 $p99, $confirmed seats confirmed, $waiting waiting"
  [ "$backend" = postgres ] && psql "$PG_BASE/postgres" -q -c "DROP DATABASE IF EXISTS si_bookings_$$ WITH (FORCE)"
done
echo
cat "$summary"
