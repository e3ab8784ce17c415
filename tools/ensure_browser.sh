#!/usr/bin/env bash
# The browser test (tests/e2e/test_dashboard.py) drives Debian's chromium; Playwright's own
# browser downloads are never used (nothing may be downloaded outside the package registries).
# `make test` calls this first: on a fresh machine it installs chromium and a CJK font so the
# dashboard's Chinese renders in screenshots; when it cannot, it stops the run and says why.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
FONT_PACKAGE=fonts-wqy-microhei

have_font() { dpkg-query -W -f='${Status}' "$FONT_PACKAGE" 2>/dev/null | grep -q 'ok installed'; }

if [[ -x "$CHROMIUM" ]] && have_font; then
  exit 0
fi

if [[ "$(id -u)" -ne 0 ]] || ! command -v apt-get >/dev/null; then
  echo "ensure_browser: $CHROMIUM (or $FONT_PACKAGE) is missing and this user cannot apt-get install it." >&2
  echo "ensure_browser: install them yourself: apt-get install -y chromium $FONT_PACKAGE" >&2
  exit 1
fi

echo "ensure_browser: installing chromium and $FONT_PACKAGE with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update && apt-get install -y --no-install-recommends chromium "$FONT_PACKAGE"; }; then
  echo "ensure_browser: apt-get could not install chromium; the browser test cannot run." >&2
  exit 1
fi

if [[ ! -x "$CHROMIUM" ]]; then
  echo "ensure_browser: apt-get finished but $CHROMIUM is still missing." >&2
  exit 1
fi
"$CHROMIUM" --version >&2
