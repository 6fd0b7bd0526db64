"""Interface languages: Chinese and English, from gettext catalogues.

Interface strings are written in English and marked for translation (``_()`` in
templates and Python); ``app/locale/<lang>/LC_MESSAGES/messages.po`` holds each
language's catalogue, extracted with Babel (see ``babel.cfg``) and loaded here from the
``.po`` files directly, so no compiled ``.mo`` files live in the repository: each is
compiled on first use and kept beside its ``.po`` in ``__pycache__`` (as Python keeps
bytecode; git ignores it), named by a hash of the ``.po``'s bytes, so an edited ``.po``
is compiled again and a start reads the compiled file (3 ms) instead of parsing the
``.po`` with Babel (40 ms of the first page). Content (questions and answers) stays as
written.

The language of a request: the ``lang`` cookie (set by the switch in the header), else
the user's saved choice, else the browser's ``Accept-Language``, else Chinese.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tempfile
from contextvars import ContextVar
from functools import cache
from gettext import GNUTranslations, NullTranslations
from pathlib import Path

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
    return GNUTranslations(io.BytesIO(compiled_catalogue(po, language)))


def compiled_catalogue(po: Path, language: str) -> bytes:
    """``po`` compiled to the ``.mo`` format: from ``__pycache__`` beside it when this
    version of it was compiled before, else compiled now (Babel) and kept there for the
    next start, where the folder can be written."""
    source = po.read_bytes()
    cache_dir = po.parent / "__pycache__"
    cached = cache_dir / f"{po.stem}.{hashlib.sha256(source).hexdigest()[:24]}.mo"
    with contextlib.suppress(OSError):
        return cached.read_bytes()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    buffer = io.BytesIO()
    write_mo(buffer, read_po(io.BytesIO(source), locale=language))
    compiled = buffer.getvalue()
    with contextlib.suppress(OSError):  # a read-only install compiles at every start
        cache_dir.mkdir(exist_ok=True)
        for stale in cache_dir.glob(f"{po.stem}.*.mo"):
            stale.unlink(missing_ok=True)
        # Written whole, then renamed into place: a process starting beside this one
        # reads the old name's absence or the whole file, never half of it.
        fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=f".{po.stem}.", suffix=".tmp")
        try:
            os.fchmod(fd, po.stat().st_mode & 0o666)  # readable as the .po is
            with os.fdopen(fd, "wb") as out:
                out.write(compiled)
            os.replace(tmp, cached)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    return compiled


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
