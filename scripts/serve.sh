#!/usr/bin/env bash
# One command from a fresh checkout to a running app on the embedded default:
# sets up .venv, migrates the SQLite database in data/, imports content/, serves on
# http://127.0.0.1:8000/ (IL_HOST / IL_PORT / DATABASE_URL override).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh demos
exec .venv/bin/interview-lab serve "$@"
