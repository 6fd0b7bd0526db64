"""Usernames: what people type is folded (NFKC, then case folding) into one key, so
``Alice``, ``alice`` and fullwidth ``ａｌｉｃｅ`` are the same account. The key is what the
database keeps unique and what sign-in looks up; the name as typed is kept for display."""

from __future__ import annotations

import re
import unicodedata

# Checked on the NFKC form, so fullwidth letters typed by an IME are accepted.
USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,40}$")


def display_username(name: str) -> str:
    """The name to keep: NFKC-normalised, surrounding whitespace stripped."""
    return unicodedata.normalize("NFKC", name).strip()


def fold_username(name: str) -> str:
    """The account key of ``name``: NFKC, stripped, case-folded (NFKC again, as case
    folding can denormalise), so names differing only in case or width are one key."""
    return unicodedata.normalize("NFKC", display_username(name).casefold())
