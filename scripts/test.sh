#!/usr/bin/env bash
# One command from a fresh checkout to the whole test suite: sets up .venv with the
# test extras, then runs ruff, mypy and pytest (integration tests use the PostgreSQL
# and Redis on this machine; under CI=true they must not skip).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh demos,test

# Browser tests drive Debian's chromium (never a downloaded browser); CJK fonts make
# the screenshots readable.
if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "noto.*cjk"; then
  echo "== installing chromium and CJK fonts (apt)" >&2
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
  fi
fi

echo "== ruff" >&2
.venv/bin/ruff check app tests bench alembic
.venv/bin/ruff format --check app tests bench
echo "== mypy" >&2
.venv/bin/mypy
echo "== pytest" >&2
# Two test processes (pytest-xdist), one a core on the two-core CI machine; tests that
# share a module-scoped fixture stay on one worker (tests/conftest.py marks their group).
# IL_TEST_WORKERS=0 runs everything in this one process.
set +e
.venv/bin/python -m pytest -n "${IL_TEST_WORKERS:-2}" --dist loadgroup "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure" >&2
  exit 1
fi
exit "$status"
