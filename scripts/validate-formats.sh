#!/usr/bin/env bash
# The formats the platform sends, read by the third-party tools that read them, on the demo data:
#   - every public, organiser, reviewer and administrator page: the Nu Html Checker (vnu-jar, npm;
#     Java), 0 errors;
#   - the open-data CSV: frictionless (PyPI) against its own Table Schema, 0 errors;
#   - the iCalendar feed: the `icalendar` parser (PyPI), every event with its required properties;
#   - the sitemap: well-formed XML listing every labelled event page;
#   - /metrics: Prometheus's own parser (prometheus-client, PyPI) reads every family;
#   - Lighthouse (npm, Debian's Chromium), mobile preset, on the home page, the catalogue, an event
#     page, the map and the sign-up page: accessibility 100 and SEO 100, performance ≥ 90 (the best
#     of up to three runs: the machine is shared).
# Fails on the first tool that reports an error. Needs the debug binary (built by the tests).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/python-tools.sh
python_tools "frictionless==5.18.1" "icalendar==6.3.1" "prometheus-client==0.26.0"
. scripts/browser-tools.sh
npm_tools "vnu-jar@26.9.27" "lighthouse@12.2.3"
if ! command -v java >/dev/null 2>&1; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null
fi
bin=target/debug/semaine-industrie
[ -x "$bin" ] || cargo build -q --bin semaine-industrie
work=$(mktemp -d)
export DATABASE_URL="sqlite://$work/formats.db"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
"$bin" serve --demo --bind "127.0.0.1:$port" --public-url "$base" --tile-url "" > "$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 120); do curl -sf "$base/healthz" >/dev/null && break; sleep 1; done

# Pages, as each role sees them. Logging in goes through the form, as a browser does.
login() {
  local jar=$1 email=$2 password=$3
  curl -sf -o /dev/null -c "$jar" -H "Sec-Fetch-Site: same-origin" --data-urlencode "email=$email" \
    --data-urlencode "password=$password" "$base/connexion"
}
login "$work/orga.jar" organisateur@demo.semaine-industrie.fr demo-organisateur-2024
login "$work/admin.jar" admin@demo.semaine-industrie.fr demo-admin-2024
labelled=$(curl -sf "$base/api/v1/events?per_page=1&edition=2024" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
bookable=$(curl -sf "$base/api/v1/events?places=1&per_page=1" | python3 -c 'import json,sys; i=json.load(sys.stdin)["items"]; print(i[0]["id"] if i else "")')
mine=$(curl -sf -b "$work/orga.jar" "$base/espace" | grep -o 'href="/espace/evenements/[0-9]*"' | head -n1 | grep -o '[0-9]*' || true)
queued=$(curl -sf -b "$work/admin.jar" "$base/instruction" | grep -o 'href="/instruction/evenements/[0-9]*"' | head -n1 | grep -o '[0-9]*' || true)
mkdir -p "$work/pages"
n=0
page() {
  local jar=$1 path=$2
  n=$((n + 1))
  local out="$work/pages/$(printf '%02d' $n)$(echo "$path" | tr '/?&=' '____').html"
  if [ -n "$jar" ]; then curl -sf -b "$jar" "$base$path" > "$out"; else curl -sf "$base$path" > "$out"; fi
}
for p in / /evenements "/evenements?q=soudage&near=Lyon" "/evenements?near=Atlantide" /carte "/evenements/$labelled" \
         /donnees /statistiques /widget /accessibilite /mentions-legales /donnees-personnelles /plan-du-site \
         /connexion /inscription /mot-de-passe-oublie ${bookable:+/evenements/$bookable /evenements/$bookable/reserver/1}; do
  [ "$p" = "/evenements?near=Atlantide" ] && { curl -s "$base$p" > "$work/pages/99_refused.html"; continue; }
  page "" "$p"
done
for p in /espace /espace/evenements/nouveau /espace/jetons /espace/compte /espace/membres ${mine:+/espace/evenements/$mine}; do
  page "$work/orga.jar" "$p"
done
for p in /instruction /instruction/bilans ${queued:+/instruction/evenements/$queued} /admin /admin/editions/nouvelle /admin/coordinateurs /admin/motifs; do
  page "$work/admin.jar" "$p"
done
pages=$(ls "$work/pages" | wc -l)
echo "Nu Html Checker on $pages pages…"
java -Xss8m -jar target/test-tools/node_modules/vnu-jar/build/dist/vnu.jar --errors-only --format text "$work"/pages/*.html

# The open-data CSV against its Table Schema.
curl -sf "$base/api/v1/events.csv?edition=2024" > "$work/events.csv"
curl -sf "$base/donnees/schema.json" > "$work/schema.json"
cat > "$work/resource.json" <<JSON
{"name": "evenements", "path": "events.csv", "format": "csv", "encoding": "utf-8-sig", "schema": "schema.json", "dialect": {"delimiter": ";"}}
JSON
echo "frictionless on $(($(wc -l < "$work/events.csv") - 1)) rows…"
(cd "$work" && frictionless validate resource.json)

# The iCalendar feed, read by a parser other than ours.
curl -sf "$base/api/v1/events.ics?edition=2024&region=84" > "$work/events.ics"
python3 - "$work/events.ics" <<'PY'
import sys
from icalendar import Calendar
cal = Calendar.from_ical(open(sys.argv[1], "rb").read())
events = cal.walk("VEVENT")
assert events, "no VEVENT"
for e in events:
    for prop in ("UID", "DTSTAMP", "DTSTART", "SUMMARY"):
        assert prop in e, f"{prop} missing in {e.get('UID')}"
print(f"icalendar: {len(events)} events read")
PY

# The sitemap: XML, every labelled event of the catalogue.
python3 - "$base" <<'PY'
import json, sys, urllib.request, xml.etree.ElementTree as ET
base = sys.argv[1]
ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
index = ET.fromstring(urllib.request.urlopen(base + "/sitemap.xml").read())
urls = set()
for loc in index.findall("s:sitemap/s:loc", ns):
    doc = ET.fromstring(urllib.request.urlopen(loc.text).read())
    urls.update(u.text for u in doc.findall("s:url/s:loc", ns))
total = sum(json.load(urllib.request.urlopen(f"{base}/api/v1/events?per_page=1&edition={y}"))["total"]
            for y in [e["year"] for e in json.load(urllib.request.urlopen(base + "/api/v1/editions"))])
events = [u for u in urls if "/evenements/" in u]
assert len(events) == total, f"sitemap lists {len(events)} event pages, the catalogue has {total}"
print(f"sitemap: {len(events)} event pages")
PY
# The metrics, read by Prometheus's parser (the server answers local clients without a token).
python3 - "$base" <<'PY'
import sys, urllib.request
from prometheus_client.parser import text_string_to_metric_families
text = urllib.request.urlopen(sys.argv[1] + "/metrics").read().decode()
families = {f.name: f for f in text_string_to_metric_families(text)}
for name in ("si_http_requests", "si_http_request_duration_seconds", "si_db_pool_connections",
             "si_outbox_pending", "si_outbox_oldest_pending_seconds", "si_submissions_last_hour",
             "si_decisions_last_hour", "si_catalogue_index_age_seconds", "si_database_up"):
    assert name in families, f"{name} missing from /metrics"
assert families["si_database_up"].samples[0].value == 1
print(f"metrics: {len(families)} families, {sum(len(f.samples) for f in families.values())} samples read")
PY
# Lighthouse, mobile preset (its default), on the pages people land on: accessibility and SEO 100 at
# every run, performance 90 at least. Performance is measured on a shared machine whose load moves it
# by a few points between runs: a page below 90 is measured again, up to three times, and fails only
# if no run reaches 90 (a real regression stays below at every run).
for p in / /evenements "/evenements/$labelled" /carte /inscription; do
  for attempt in 1 2 3; do
    out="$work/lighthouse.json"
    CHROME_PATH=$(command -v chromium) target/test-tools/node_modules/.bin/lighthouse "$base$p" --quiet \
      --chrome-flags="--headless=new --no-sandbox" --only-categories=performance,accessibility,seo,best-practices \
      --output=json --output-path="$out" >/dev/null 2>&1 || { echo "Lighthouse failed on $p"; exit 1; }
    status=0
    python3 - "$out" "$p" "$attempt" <<'PY' || status=$?
import json, sys
r = json.load(open(sys.argv[1]))
scores = {k: round(v["score"] * 100) for k, v in r["categories"].items()}
print(f"lighthouse {sys.argv[2]} (run {sys.argv[3]}): {scores}")
bad = [k for k in ("accessibility", "seo") if scores[k] < 100]
for k in bad + (["performance"] if scores["performance"] < 90 else []):
    for a in r["categories"][k]["auditRefs"]:
        audit = r["audits"][a["id"]]
        if audit.get("score") is not None and audit["score"] < 0.9 and a.get("weight", 0) > 0:
            print(f"  {k}: {a['id']}: {audit['title']} {audit.get('displayValue', '')}")
sys.exit(1 if bad else 2 if scores["performance"] < 90 else 0)
PY
    [ "$status" = 0 ] && break
    [ "$status" = 1 ] && exit 1
    [ "$attempt" = 3 ] && { echo "Lighthouse performance below 90 on $p at three runs"; exit 1; }
  done
done
echo "Formats valid."
