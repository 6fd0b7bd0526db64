"""Claim texts in both languages: ``explanation``, ``summary``, ``needs`` and each
verdict's sentence under ``when`` are a string or ``{en: ..., zh: ...}``. A plain string
counts as Chinese when it holds CJK characters, else as English; a text shows in the
reader's language, else in the one it has.

A YAML folded text (``>-``) joins its lines with a space, which Chinese does not write:
a space between two Chinese characters or full-width marks is dropped from a zh text."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from app.content.model import Message, Value
from app.i18n import mark as N_

LANGUAGES = ("en", "zh")
Text = dict[str, str]  # language -> text; empty when the claim has none
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WIDE = "\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef"
_FOLDED_SPACE = re.compile(f"(?<=[{_WIDE}]) (?=[{_WIDE}])")


class TextError(ValueError):
    """A claim text that is neither a string nor ``{en: ..., zh: ...}``: an English
    template marked ``N_`` and its values (``str(exc)`` English, ``message`` in the
    reader's language, as ``app.claims.rules.RuleError``)."""

    def __init__(self, template: str, /, **values: Value) -> None:
        self.message = Message(template, values)
        super().__init__(self.message.english)


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
            raise TextError(N_("languages are en and zh, not %(found)s"), found=", ".join(unknown))
        if not value:
            raise TextError(N_("an empty mapping: write {en: ..., zh: ...}"))
        out: Text = {}
        for lang, text in value.items():
            if not isinstance(text, str) or not text.strip():
                raise TextError(N_("the %(lang)s text must be a non-empty string"), lang=str(lang))
            out[str(lang)] = _FOLDED_SPACE.sub("", text) if lang == "zh" else text
        return out
    template = N_("must be text or {en: ..., zh: ...}, not %(type)s")
    raise TextError(template, type=type(value).__name__)


def missing_languages(text: Text) -> list[str]:
    return [lang for lang in LANGUAGES if lang not in text] if text else []


def followed_by(text: Text, sentence: Text) -> Text:
    """``text`` with ``sentence`` (in the same language, else in the one it has) after it
    in each of its languages: after a space, none after a full-width mark."""
    if not sentence:
        return dict(text)
    out: Text = {}
    for lang, first in text.items():
        gap = "" if re.search(f"[{_WIDE}]$", first) else " "
        out[lang] = first + gap + pick(sentence, lang)
    return out


def pick(text: Mapping[str, str], language: str) -> str:
    """``text`` in ``language``, else in the other language, else ""."""
    if language in text:
        return text[language]
    return next((text[lang] for lang in LANGUAGES if lang in text), "")
