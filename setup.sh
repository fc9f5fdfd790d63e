#!/usr/bin/env bash
# Fresh machine setup: a virtualenv with the package and its test extra, Debian's chromium and
# firefox-esr for the browser tests, and the npm test tools (package-lock.json). Idempotent and
# quiet: re-running only installs what is missing; a failing step prints its log.
set -euo pipefail
cd "$(dirname "$0")"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
quiet() { "$@" >"$log" 2>&1 || { cat "$log" >&2; return 1; }; }

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/firefox-esr ] || missing+=(firefox-esr)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  quiet "${sudo[@]}" apt-get update -qq
  quiet "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
quiet .venv/bin/python -m pip install -qq --upgrade pip
quiet .venv/bin/python -m pip install -qq -e ".[test]"
if command -v npm >/dev/null 2>&1; then
  # Test-only drivers (puppeteer-core for Firefox, scorm-again as the SCORM runtime): no browser
  # download, versions pinned by package-lock.json. --engine-strict: a tool whose engines exclude
  # this machine's Node stops the setup (npm would only warn, EBADENGINE, and install it).
  quiet env PUPPETEER_SKIP_DOWNLOAD=1 npm ci --engine-strict --no-audit --no-fund --loglevel=error
fi
