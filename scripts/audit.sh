#!/usr/bin/env bash
# Audits requirements.txt for known vulnerabilities with pip-audit (installed
# into .venv-audit from requirements-audit.txt). Exit 0: every pinned package
# was checked and none is vulnerable; 1: vulnerabilities found; 3: the audit
# could not be done (no vulnerability database reachable, or packages skipped),
# which is not a pass. Extra arguments go to pip-audit.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv-audit/bin/pip-audit ]; then
  "$PY" -m venv .venv-audit && .venv-audit/bin/pip install -q -r requirements-audit.txt || exit 3
fi
echo "audit: $(date -u '+%Y-%m-%d %H:%M UTC'), $(.venv-audit/bin/pip-audit --version)" >&2
out=$(.venv-audit/bin/pip-audit -r requirements.txt --progress-spinner off "$@" 2>&1)
rc=$?
echo "$out"
skipped=$(grep -c "could not be audited" <<<"$out")
if grep -qiE "ConnectionError|Name or service not known|Max retries exceeded" <<<"$out"; then
  echo "audit: NOT DONE: the vulnerability database could not be reached" >&2
  exit 3
fi
if [ "$skipped" -gt 0 ]; then
  echo "audit: NOT DONE: $skipped package(s) could not be audited (no vulnerability data reached for them)" >&2
  exit 3
fi
[ "$rc" -eq 0 ] && echo "audit: passed: no known vulnerabilities in the pinned packages" >&2
exit "$rc"
