# Sourced by the test scripts: Debian's Chromium and chromedriver, and npm, installed when missing;
# `npm_tools DIR "package@version" …` installs npm packages into target/test-tools/.
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v chromedriver >/dev/null 2>&1 || ! command -v chromium >/dev/null 2>&1; then
  echo "Installing Chromium and chromedriver (Debian packages)…"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
if ! command -v npm >/dev/null 2>&1; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
fi
npm_tools() {
  mkdir -p target/test-tools
  [ -f target/test-tools/package.json ] || echo '{"private": true}' > target/test-tools/package.json
  local missing=()
  for spec in "$@"; do
    local name="${spec%@*}"
    [ -f "target/test-tools/node_modules/$name/package.json" ] || missing+=("$spec")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "Installing ${missing[*]} (npm, into target/test-tools)…"
    (cd target/test-tools && npm install --silent --no-audit --no-fund -E "${missing[@]}")
  fi
}
