"""Interface languages: Chinese and English, from gettext catalogues.

Interface strings are written in English and marked for translation (``_()`` in
templates and Python); ``app/locale/<lang>/LC_MESSAGES/messages.po`` holds each
language's catalogue, extracted with Babel (see ``babel.cfg``) and loaded here from the
``.po`` files directly, so no compiled ``.mo`` files live in the repository. Content
(questions and answers) stays as written.

The language of a request: the ``lang`` cookie (set by the switch in the header), else
the user's saved choice, else the browser's ``Accept-Language``, else Chinese.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from functools import cache
from gettext import NullTranslations
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = {"zh": "中文", "en": "English"}
DEFAULT_LANGUAGE = "zh"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

_current: ContextVar[str] = ContextVar("language", default=DEFAULT_LANGUAGE)


@cache
def translations(language: str) -> NullTranslations:
    """The catalogue for ``language`` (English is the source language: no catalogue)."""
    po = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if language == "en" or not po.exists():
        return NullTranslations()
    with po.open("rb") as fp:
        catalog = read_po(fp, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def negotiate(accept_language: str | None) -> str:
    """The best of our languages for an ``Accept-Language`` header."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, i, primary))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE


def set_language(language: str) -> None:
    _current.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def current_language() -> str:
    return _current.get()


def gettext(message: str) -> str:
    return translations(current_language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_language()).ngettext(singular, plural, n)


def mark(message: str) -> str:
    """Mark ``message`` for the catalogue and return it unchanged: for messages
    translated later, as typed errors' (``app.errors``). Import it as ``_`` so the
    extraction finds it."""
    return message


_ = gettext
