#!/usr/bin/env bash
# Validates the OpenAPI document (openapi-spec-validator), then fuzzes the JSON API from it with schemathesis: anonymous, as an organiser and
# as a national administrator. Fails on any 5xx ("never a 500 for bad input"). Needs the debug binary
# (built by the tests); schemathesis goes into the virtual environment target/py. Bounded: a few thousand requests, on loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/python-tools.sh
python_tools "schemathesis==4.32.5" "openapi-spec-validator==0.7.2"
bin=target/debug/semaine-industrie
[ -x "$bin" ] || cargo build -q --bin semaine-industrie
work=$(mktemp -d)
export DATABASE_URL="sqlite://$work/fuzz.db"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin" serve --demo --bind "127.0.0.1:$port" > "$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 1; done
# The document itself, read by a third-party validator (OpenAPI 3.1 schema).
curl -sf "http://127.0.0.1:$port/api/openapi.json" > "$work/openapi.json"
openapi-spec-validator "$work/openapi.json"
orga=$("$bin" token create --email organisateur@demo.semaine-industrie.fr 2>/dev/null)
admin=$("$bin" token create --email admin@demo.semaine-industrie.fr 2>/dev/null)
for auth in "" "Authorization: Bearer $orga" "Authorization: Bearer $admin"; do
  args=(run "http://127.0.0.1:$port/api/openapi.json" --max-examples 25 --checks not_a_server_error --seed 1)
  [ -n "$auth" ] && args+=(-H "$auth")
  schemathesis "${args[@]}" > "$work/st.log" 2>&1 || { cat "$work/st.log"; echo "schemathesis found server errors"; exit 1; }
  grep -E "generated" "$work/st.log" || true
done
