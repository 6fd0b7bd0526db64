"""Pydantic's validation errors in the reader's language.

Pydantic's messages are English. A page shows each error's reason translated: each error
``type`` that the app's requests and its user-data file can produce maps to one of a few
templates filled with the error's ``ctx`` values; any other type gets a generic
translated reason (pydantic's catalogue is not translated here). The JSON API, the CLI
and logs keep pydantic's English message.

``InvalidRecord`` is the refusal of a record read from a file (``cards.3.due``): its
``message`` is the path and pydantic's English, its ``text`` the path and the reason in
the current language. ``RefusedValue`` is the same for a value the schema lets through
and a check of its own refuses (``user.fsrs_parameters``), its reason a msgid and values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from app.errors import Unprocessable
from app.i18n import gettext as _
from app.i18n import mark as N_

_DATETIME = N_("must be a date and time, such as 2026-03-05T10:00:00Z")
_DATE = N_("must be a date, such as 2026-03-05")
_OBJECT = N_("must be an object ({…})")

REASONS: dict[str, str] = {
    "missing": N_("this value is required"),
    "extra_forbidden": N_("is not expected here (unknown field)"),
    "int_parsing": N_("must be a whole number"),
    "int_type": N_("must be a whole number"),
    "int_from_float": N_("must be a whole number"),
    "int_parsing_size": N_("must be a whole number"),
    "float_parsing": N_("must be a number"),
    "float_type": N_("must be a number"),
    "finite_number": N_("must be a finite number"),
    "bool_parsing": N_("must be true or false"),
    "bool_type": N_("must be true or false"),
    "string_type": N_("must be text"),
    "string_too_short": N_("must be at least %(min_length)s characters"),
    "string_too_long": N_("must be at most %(max_length)s characters"),
    "string_pattern_mismatch": N_("is not in the expected form"),
    "greater_than": N_("must be greater than %(gt)s"),
    "greater_than_equal": N_("must be at least %(ge)s"),
    "less_than": N_("must be less than %(lt)s"),
    "less_than_equal": N_("must be at most %(le)s"),
    "literal_error": N_("must be one of: %(expected)s"),
    "enum": N_("must be one of: %(expected)s"),
    "too_short": N_("needs at least %(min_length)s items"),
    "too_long": N_("allows at most %(max_length)s items"),
    "list_type": N_("must be a list ([…])"),
    "dict_type": _OBJECT,
    "model_type": _OBJECT,
    "model_attributes_type": _OBJECT,
    "datetime_type": _DATETIME,
    "datetime_parsing": _DATETIME,
    "datetime_from_date_parsing": _DATETIME,
    "datetime_object_invalid": _DATETIME,
    "timezone_aware": N_("needs a time zone, such as 2026-03-05T10:00:00Z"),
    "date_type": _DATE,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": N_("must be a date without a time of day, such as 2026-03-05"),
}
GENERIC = N_("this value is not valid")
# Where an error and its reason meet: "cards.3.due: must be …", "page=0: …".
AT = N_("%(field)s: %(reason)s")

# pydantic lists choices as "'a', 'b' or 'c'": the last "or" is English.
_OR = re.compile(r"(?<=['\d]) or (?=['\d])")


def reason(error: Mapping[str, Any]) -> str:
    """The reason of one pydantic error in the current language."""
    template = REASONS.get(str(error.get("type", "")), GENERIC)
    ctx = {k: _OR.sub(", ", str(v)) for k, v in (error.get("ctx") or {}).items()}
    for text in (_(template), template):  # a translation that does not fit: English
        try:
            return text % ctx if "%(" in text else text
        except (KeyError, TypeError, ValueError):
            continue
    return _(GENERIC)


def at(field: str, error: Mapping[str, Any]) -> str:
    """``field: reason`` in the current language."""
    return _(AT) % {"field": field, "reason": reason(error)}


class InvalidRecord(Unprocessable):
    """A record refused by its schema, at ``where`` (a dotted path in the file)."""

    def __init__(self, where: str, error: Mapping[str, Any]) -> None:
        super().__init__(f"{where}: {error.get('msg', 'invalid')}", field=where)
        self.error = error

    @property
    def text(self) -> str:
        return at(self.field or "file", self.error)


class RefusedValue(Unprocessable):
    """A value at ``where`` (a dotted path in the file) that a check refused, the reason
    an English msgid with its values (a ``ParamError``'s ``msgid`` and ``params``):
    ``message`` is English, ``text`` in the current language."""

    def __init__(self, where: str, reason: str, values: Mapping[str, object]) -> None:
        super().__init__(AT, field=where, reason=reason % values if values else reason)
        self.reason, self.values = reason, values

    @property
    def text(self) -> str:
        for template in (_(self.reason), self.reason):  # a translation that does not fit
            try:
                shown = template % self.values if self.values else template
            except (KeyError, TypeError, ValueError):
                continue
            return _(AT) % {"field": self.field, "reason": shown}
        return self.message
