#!/usr/bin/env bash
# Sets up a fresh machine for the workbench: Java check (KoNLPy's Kkma needs a JRE),
# a virtualenv in .venv, and requirements.txt. Safe to run again; fast when done.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v java >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: Java not found; installing a headless JRE (default-jre-headless) for KoNLPy's Kkma" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null
  else
    echo "setup: Java not found. KoNLPy's Kkma analyzer needs a Java runtime (JRE 8+)." >&2
    echo "       Install one, e.g. 'sudo apt-get install default-jre-headless' (Debian/Ubuntu)" >&2
    echo "       or 'brew install openjdk' (macOS), then run this again." >&2
    echo "       Without Java only the char and eojeol tokenizers work." >&2
    exit 3
  fi
fi
java -version 2>&1 | head -1 | sed 's/^/setup: java: /' >&2

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.requirements.sha
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r requirements.txt
  echo "$want" > "$stamp"
fi
echo "setup: ready (.venv, $(.venv/bin/python -c 'import torch; print("torch", torch.__version__)'))" >&2
