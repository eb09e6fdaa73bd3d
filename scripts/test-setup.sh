#!/usr/bin/env bash
# The first step of `npm test`: what the test suites need beyond Node, installed when it is
# missing, so that the one command works on a fresh Debian machine.
#   - Browsers from Debian (Playwright cannot download its own here): Chromium for the
#     Playwright suite; Firefox ESR, and WebKitGTK with its WebDriver under Xvfb, for the
#     cross-engine suites (python3-gi runs the small WebKitGTK browser they drive).
#   - redis-server: the server tests start their own on free ports.
#   - node_modules, from package-lock.json, when there is none.
# Every engine or no run: a suite must not pass by leaving its browser out.
set -euo pipefail
cd "$(dirname "$0")/.."

has_gi() { /usr/bin/python3 -c "import gi; gi.require_version('WebKit2', '4.1')" 2>/dev/null; }
need=()
[ -n "${CHROMIUM_PATH:-}" ] || command -v chromium >/dev/null || need+=(chromium)
command -v firefox-esr >/dev/null || need+=(firefox-esr)
command -v WebKitWebDriver >/dev/null || need+=(webkit2gtk-driver)
command -v Xvfb >/dev/null || need+=(xvfb)
has_gi || need+=(gir1.2-webkit2-4.1 python3-gi)
command -v redis-server >/dev/null || need+=(redis-server)

if [ ${#need[@]} -gt 0 ]; then
  install="apt-get install -y ${need[*]}"
  if ! command -v apt-get >/dev/null; then
    echo "npm test needs ${need[*]} (Debian's package names), and this machine has no apt-get: install them, then run npm test again." >&2
    exit 1
  fi
  if [ "$(id -u)" -eq 0 ]; then sudo=(); elif sudo -n true 2>/dev/null; then sudo=(sudo -n); else
    echo "npm test needs ${need[*]}: run   sudo apt-get update && sudo $install   then npm test again." >&2
    exit 1
  fi
  echo "npm test: installing ${need[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
fi

{ [ -n "${CHROMIUM_PATH:-}" ] || command -v chromium; } >/dev/null || { echo "npm test: Chromium could not be installed" >&2; exit 1; }
command -v firefox-esr >/dev/null || { echo "npm test: Firefox ESR could not be installed" >&2; exit 1; }
command -v WebKitWebDriver >/dev/null && command -v Xvfb >/dev/null || { echo "npm test: WebKitGTK's WebDriver or Xvfb could not be installed" >&2; exit 1; }
has_gi || { echo "npm test: python3-gi with WebKit2 4.1 could not be installed" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "npm test: redis-server could not be installed" >&2; exit 1; }

if [ ! -d node_modules ]; then
  echo "npm test: installing node_modules (npm ci)"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
fi
