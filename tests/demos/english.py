"""Demo text as an English or a Chinese reader sees it, without markup (the demos'
tests)."""

from __future__ import annotations

from typing import Any

from app.demos.text import Text
from app.i18n import current_language, set_language
from app.web.demo_text import plain_text


def read_in(language: str, value: Any) -> str:
    """A Text, Quantity or string as a page in ``language`` shows it, without markup."""
    before = current_language()
    set_language(language)
    try:
        return plain_text(value)
    finally:
        set_language(before)


def english(value: Any) -> str:
    return read_in("en", value)


def chinese(value: Any) -> str:
    return read_in("zh", value)


def msgid(value: Text | str) -> str:
    """The English message id of a check or series name (a plain name is itself)."""
    return value.msg if isinstance(value, Text) else value
