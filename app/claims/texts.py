"""Claim texts in both languages: ``explanation``, ``summary`` and ``needs`` are a string
or ``{en: ..., zh: ...}``. A plain string counts as Chinese when it holds CJK characters,
else as English; a text shows in the reader's language, else in the one it has.

A YAML folded text (``>-``) joins its lines with a space, which Chinese does not write:
a space between two Chinese characters or full-width marks is dropped from a zh text."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

LANGUAGES = ("en", "zh")
Text = dict[str, str]  # language -> text; empty when the claim has none
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WIDE = "\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef"
_FOLDED_SPACE = re.compile(f"(?<=[{_WIDE}]) (?=[{_WIDE}])")


class TextError(ValueError):
    pass


def read_text(value: Any) -> Text:
    """``value`` (a string or a mapping of languages) as a :class:`Text`."""
    if value is None:
        return {}
    if isinstance(value, str):
        if _CJK.search(value):
            return {"zh": _FOLDED_SPACE.sub("", value)}
        return {"en": value}
    if isinstance(value, Mapping):
        unknown = [str(k) for k in value if k not in LANGUAGES]
        if unknown:
            raise TextError(f"languages are en and zh, not {', '.join(unknown)}")
        if not value:
            raise TextError("an empty mapping: write {en: ..., zh: ...}")
        out: Text = {}
        for lang, text in value.items():
            if not isinstance(text, str) or not text.strip():
                raise TextError(f"the {lang} text must be a non-empty string")
            out[str(lang)] = _FOLDED_SPACE.sub("", text) if lang == "zh" else text
        return out
    raise TextError(f"must be text or {{en: ..., zh: ...}}, not {type(value).__name__}")


def missing_languages(text: Text) -> list[str]:
    return [lang for lang in LANGUAGES if lang not in text] if text else []


def pick(text: Mapping[str, str], language: str) -> str:
    """``text`` in ``language``, else in the other language, else ""."""
    if language in text:
        return text[language]
    return next((text[lang] for lang in LANGUAGES if lang in text), "")
