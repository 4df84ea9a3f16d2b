#!/usr/bin/env bash
# A public demo server in one command: a fresh read-only workspace holding just
# the given model zips (each checked: checksum, plain tensors only; its id comes
# from its weights, so share links survive a redeploy), then the app with
# TAGGER_READONLY=1 (Home and Demo only) in the foreground; Ctrl+C stops it.
#
#   bash scripts/serve_demo.sh MODEL.zip [MODEL.zip ...] [--port N] [--workspace DIR]
#                              [--address ADDR] [--url PUBLIC_BASE_URL]
#
# A folder argument stands for every *.zip in it. --address: Streamlit's
# server.address (default: all interfaces); --url: the base of the printed links
# (default http://localhost:PORT, or http://ADDR:PORT with --address).
# --workspace (default data/demo_workspace) is rebuilt on every start; a folder
# that is neither new, empty nor an earlier demo workspace is refused.
# A bad zip, a busy port or a bad option: one line "serve_demo: ..." and exit 2.
set -euo pipefail

usage="usage: bash scripts/serve_demo.sh MODEL.zip [MODEL.zip ...] [--port N] [--workspace DIR] [--address ADDR] [--url URL]"
fail() { echo "serve_demo: $*" >&2; exit 2; }
abs() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }

zips=() port=8501 workspace="" address="" url=""
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) echo "$usage"; exit 0 ;;
    --port|--workspace|--address|--url)
      [ $# -ge 2 ] || fail "$1 needs a value ($usage)"
      case "$1" in
        --port) port=$2 ;;
        --workspace) workspace=$(abs "$2") ;;
        --address) address=$2 ;;
        --url) url=$2 ;;
      esac
      shift 2 ;;
    --port=*) port=${1#*=}; shift ;;
    --workspace=*) workspace=$(abs "${1#*=}"); shift ;;
    --address=*) address=${1#*=}; shift ;;
    --url=*) url=${1#*=}; shift ;;
    -*) fail "unknown option $1 ($usage)" ;;
    *) if [ -d "$1" ]; then  # a folder: every *.zip in it (a mounted /models in Docker)
         found=("$(abs "$1")"/*.zip)
         [ -e "${found[0]}" ] || fail "$1: a folder without any .zip file"
         zips+=("${found[@]}")
       else
         zips+=("$(abs "$1")")
       fi
       shift ;;
  esac
done
[ ${#zips[@]} -gt 0 ] || fail "no model zip given ($usage)"
[[ "$port" =~ ^[0-9]+$ ]] || fail "--port $port: not a port number"

cd "$(dirname "$0")/.."
workspace=${workspace:-$PWD/data/demo_workspace}
bash scripts/setup.sh

.venv/bin/python -m tagger.workspace.demo_server --workspace "$workspace" --port "$port" \
  --address "$address" --url "$url" -- "${zips[@]}"

export TAGGER_WORKSPACE="$workspace" TAGGER_READONLY=1
args=(--server.port "$port" --server.headless true --browser.gatherUsageStats false
      --server.fileWatcherType none --server.runOnSave false)
[ -z "$address" ] || args+=(--server.address "$address")
echo "serve_demo: serving read-only on port $port (Ctrl+C stops it)" >&2
exec .venv/bin/streamlit run app.py "${args[@]}"
