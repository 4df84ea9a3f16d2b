#!/usr/bin/env bash
# Installs what the real-browser end-to-end test needs: Debian's Chromium and the
# Noto CJK fonts (so screenshots show Korean), and Python Playwright in .venv.
# Playwright drives /usr/bin/chromium; it never downloads a browser of its own
# (no `playwright install`). Safe to run again; fast when everything is there.
# Without root/apt-get it only reports what is missing: the e2e test then skips.
set -uo pipefail
cd "$(dirname "$0")/.."
PLAYWRIGHT_VERSION=${PLAYWRIGHT_VERSION:-1.65.2}

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
if ! fc-list 2>/dev/null | grep -qi "noto.*cjk"; then
  need+=(fonts-noto-cjk)
fi
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup_browser: installing ${need[*]} (apt-get)" >&2
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" fontconfig >/dev/null; } \
      || echo "setup_browser: apt-get failed; the browser test will skip" >&2
  else
    echo "setup_browser: missing ${need[*]}; install them (e.g. 'sudo apt-get install ${need[*]}')," >&2
    echo "               the browser end-to-end test skips meanwhile" >&2
  fi
fi

if [ -x .venv/bin/python ]; then
  have=$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("playwright"))' 2>/dev/null || true)
  if [ "$have" != "$PLAYWRIGHT_VERSION" ]; then
    .venv/bin/pip install -q "playwright==$PLAYWRIGHT_VERSION" \
      || echo "setup_browser: pip could not install playwright; the browser test will skip" >&2
  fi
fi
[ -x /usr/bin/chromium ] && /usr/bin/chromium --version 2>/dev/null | sed 's/^/setup_browser: /' >&2
exit 0
