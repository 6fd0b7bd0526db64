#!/usr/bin/env bash
# Create .venv in the repository root and install the project into it.
# Usage: scripts/setup.sh [EXTRAS]   e.g. scripts/setup.sh demos,test
# torch==2.13.0 (the CPU build on these machines' disk) goes in first: a looser
# requirement resolved from scratch would pull a CUDA build of several GB.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-demos}"
python="${PYTHON:-python3}"

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv" >&2
  "$python" -m venv .venv
fi
if ! .venv/bin/python -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('torch') is None)"; then
  echo "setup: installing torch==2.13.0 (CPU build)" >&2
  .venv/bin/pip install --quiet --disable-pip-version-check torch==2.13.0
fi
# Reinstall only when the project's requirements or the extras changed.
stamp=".venv/.interview-lab-$(cat pyproject.toml | sha256sum | cut -c1-16)-${extras//,/_}"
if [ ! -f "$stamp" ]; then
  echo "setup: installing interview-lab[$extras]" >&2
  .venv/bin/pip install --quiet --disable-pip-version-check -e ".[$extras]"
  rm -f .venv/.interview-lab-*
  touch "$stamp"
fi
