#!/usr/bin/env bash
# Extract the interface strings (Python and templates) and update the catalogues.
# Translate new entries in app/locale/zh/LC_MESSAGES/messages.po; the app reads the
# .po files directly (no compile step). tests/web/test_i18n.py fails on a missing one.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/pybabel extract -F babel.cfg -k _ -k gettext -k ngettext:1,2 -k N_ -k t --no-location \
  --omit-header -o app/locale/messages.pot .
for lang in zh; do
  po="app/locale/$lang/LC_MESSAGES/messages.po"
  if [ -f "$po" ]; then
    .venv/bin/pybabel update -i app/locale/messages.pot -d app/locale -l "$lang" --no-fuzzy-matching
  else
    .venv/bin/pybabel init -i app/locale/messages.pot -d app/locale -l "$lang"
  fi
done
