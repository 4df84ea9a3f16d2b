#!/usr/bin/env bash
# Sets up (see setup.sh) and starts the workbench on the bundled sample data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/streamlit run app.py "$@"
