#!/usr/bin/env bash
# Runs every test of the platform. On a fresh machine it first installs what the tests need and is
# missing: Chromium and chromedriver (Debian packages), axe-core and oidc-provider (npm, into
# target/test-tools/), the aiosmtpd SMTP server (PyPI, into the virtual environment target/py).
# PostgreSQL tests are #[ignore]d unless TEST_DATABASE_URL is set (.ci/run sets it): then this script
# passes --include-ignored, and they run.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/browser-tools.sh
# A real SMTP server for the email tests (aiosmtpd, run by the tests as a separate process), in a
# virtual environment under target/py.
. scripts/python-tools.sh
python_tools "aiosmtpd==1.4.6"
AXE_VERSION=4.11.0
# A real OpenID Connect provider for the ProConnect tests (run by them with Node.js).
OIDC_PROVIDER_VERSION=9.13.3
npm_tools "axe-core@$AXE_VERSION" "oidc-provider@$OIDC_PROVIDER_VERSION"
export AXE_CORE_JS="$PWD/target/test-tools/node_modules/axe-core/axe.min.js"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
# The PostgreSQL tests are ignored unless asked for: with a server named, they are.
extra=()
if [ -n "${TEST_DATABASE_URL:-}" ]; then extra=(-- --include-ignored); fi
cargo test --workspace --locked "$@" "${extra[@]}" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line for the whole run, summed over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1) } }
     END { printf "%d passed, %d failed\n", p, f }' "$log"
exit "$status"
