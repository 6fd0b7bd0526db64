"""Request-validation reasons in the interface language, for pages.

Pydantic's messages are English; pages show each field with a translated reason for the
common error types (the JSON API keeps pydantic's English message). Unknown types fall
back to pydantic's message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from app.i18n import gettext as _
from app.i18n import mark as N_

_REASONS: dict[str, str] = {
    "missing": N_("this value is required"),
    "int_parsing": N_("must be a whole number"),
    "int_type": N_("must be a whole number"),
    "int_from_float": N_("must be a whole number"),
    "float_parsing": N_("must be a number"),
    "float_type": N_("must be a number"),
    "bool_parsing": N_("must be true or false"),
    "string_too_short": N_("must be at least %(min_length)s characters"),
    "string_too_long": N_("must be at most %(max_length)s characters"),
    "greater_than": N_("must be greater than %(gt)s"),
    "greater_than_equal": N_("must be at least %(ge)s"),
    "less_than": N_("must be less than %(lt)s"),
    "less_than_equal": N_("must be at most %(le)s"),
    "literal_error": N_("must be one of: %(expected)s"),
    "enum": N_("must be one of: %(expected)s"),
    "too_short": N_("needs at least %(min_length)s items"),
    "too_long": N_("allows at most %(max_length)s items"),
    "string_type": N_("must be text"),
}


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


def reason(error: Mapping[str, Any]) -> str:
    """The reason of one pydantic error in the current language."""
    template = _REASONS.get(str(error.get("type", "")))
    if template is None:
        return str(error.get("msg", "invalid"))
    ctx = {k: str(v) for k, v in (error.get("ctx") or {}).items()}
    try:
        return _(template) % ctx if "%(" in template else _(template)
    except (KeyError, ValueError):
        return str(error.get("msg", "invalid"))


_NAME = re.compile(r"\b[a-z_][a-z0-9_]*\b")


def with_labels(text: str, labels: Mapping[str, str]) -> str:
    """``text`` (a demo's ``steps − corrupt_step``, ``custom_hidden``) with each field name
    replaced by its label in the reader's language ("训练步数 − 损坏 batch 所在步")."""
    return _NAME.sub(lambda m: labels.get(m.group(0)) or m.group(0), text)
