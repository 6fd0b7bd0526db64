"""Request fields as a page names them, in the interface language.

A page shows a request-validation error as the field's label and the reason in the
reader's language (``app.validation.reason``); the JSON API keeps the raw names and
pydantic's English message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from app.i18n import gettext as _
from app.i18n import mark as N_

# Field names a page's form or query string can get wrong, as the reader's language
# names them (the JSON API keeps the raw names). Any other field shows its raw name.
_LABELS: dict[str, str] = {
    "page": N_("Page number"),
    "q": N_("Search"),
    "tag": N_("Tag"),
    "verdict": N_("Verdict"),
    "company": N_("Company"),
    "role": N_("Role"),
    "stage": N_("Stage"),
    "date": N_("Date"),
    "username": N_("Username"),
    "password": N_("Password"),
    "file": N_("File"),
    "answer": N_("Answer"),
    "rating": N_("Rating"),
    "question_id": N_("Question"),
    "desired_retention": N_("Desired retention"),
    "new_per_day": N_("New cards per day"),
    "leech_threshold": N_("Leech threshold"),
    "timezone": N_("Time zone"),
    "note": N_("Your note"),
    "takeaway": N_("Your takeaway"),
    "interview": N_("Interview"),
    "show": N_("Card to show"),
    "ahead": N_("Study ahead"),
    "new": N_("New cards"),
    "replace": N_("Replace the data you have"),
}


def field_label(name: str) -> str:
    """A request field's name as a page shows it: its label in the current language."""
    label = _LABELS.get(name)
    return _(label) if label is not None else name


_NAME = re.compile(r"\b[a-z_][a-z0-9_]*\b")


def with_labels(text: str, labels: Mapping[str, str]) -> str:
    """``text`` (a demo's ``steps − corrupt_step``, ``custom_hidden``) with each field name
    replaced by its label in the reader's language ("训练步数 − 损坏 batch 所在步")."""
    return _NAME.sub(lambda m: labels.get(m.group(0)) or m.group(0), text)
