#!/usr/bin/env bash
# Sets up (see setup.sh) and runs the whole test suite. Extra arguments go to pytest.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit $?
bash scripts/setup_browser.sh   # Chromium + CJK fonts for the browser test (skips it if impossible)
echo "test.sh: lint-imports (the layering contracts in .importlinter)" >&2
.venv/bin/lint-imports --no-cache
lint=$?
.venv/bin/python -m pytest -ra "$@"
rc=$?
if [ "$rc" = "5" ]; then
  echo "test.sh: pytest collected no tests: that is a failure" >&2
  exit 1
fi
if [ "$lint" != "0" ]; then
  echo "test.sh: lint-imports failed: an import breaks the layering (.importlinter)" >&2
  exit 1
fi
exit "$rc"
