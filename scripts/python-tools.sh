# Sourced by the test scripts: a Python virtual environment under target/py for the Python tools the
# tests use (a stock Debian refuses a system-wide `pip install`, PEP 668), first on PATH, so that
# `python3` and the tools resolve to it. Usage: python_tools "package==version" …
python_tools() {
  local venv=target/py
  if [ ! -x "$venv/bin/python3" ]; then
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
      echo "Installing python3-venv (Debian package)…"
      as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
      as_root apt-get update -qq
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      rm -rf "$venv"
      python3 -m venv "$venv"
    fi
  fi
  export PATH="$PWD/$venv/bin:$PATH"
  local missing=()
  for req in "$@"; do
    python3 -m pip show -q "${req%%[=<>]*}" >/dev/null 2>&1 || missing+=("$req")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "Installing ${missing[*]} (PyPI, into $venv)…"
    python3 -m pip install --quiet --disable-pip-version-check "${missing[@]}"
  fi
}
