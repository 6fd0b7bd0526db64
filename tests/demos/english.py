"""Demo text as an English reader sees it (tests of demo-A's demos: rank, peft_params,
qlora_memory, mla_kv_cache, mla_cost)."""

from __future__ import annotations

from typing import Any

from app.demos.text import Text
from app.i18n import current_language, set_language
from app.web.demo_text import plain_text


def english(value: Any) -> str:
    """A Text, Quantity or string as the English page shows it, without markup."""
    before = current_language()
    set_language("en")
    try:
        return plain_text(value)
    finally:
        set_language(before)


def msgid(value: Text | str) -> str:
    """The English message id of a check or series name (a plain name is itself)."""
    return value.msg if isinstance(value, Text) else value
