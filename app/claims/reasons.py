"""Why a claim has no verdict, or what its verdict hinges on, in both languages.

A :class:`Reason` is a ``str``: its English text, which the CLI, the JSON API and the
rules' tests read as before. It also keeps the English msgid it was made from and the
values that fill it, so a page can show it in the reader's language
(:meth:`Reason.text`). A value may itself be a :class:`Reason` (a verdict's name inside
"pending: ..."), a ``{en: ..., zh: ...}`` text (a claim file's ``needs``) or a plain
value (a number, a run id, a label quoted from the answer, a rule's figures).
"""

from __future__ import annotations

from collections.abc import Mapping

from app.claims.texts import LANGUAGES, Text, pick
from app.i18n import mark as _
from app.i18n import translations

Arg = str | int | float | Mapping[str, str]  # a Reason is a str

# A verdict (or why there is none) in words; the pages' badges use the same msgids.
STATUS_MSGIDS: dict[str, str] = {
    "supported": _("supported"),
    "refuted": _("refuted"),
    "nuanced": _("nuanced"),
    "pending": _("pending"),
    "undecided": _("undecided"),
    "failed": _("no verdict"),
    "error": _("no verdict"),
}
TOO_FEW_RUNS = _("too few runs to measure the spread (n = %(n)s; sd needs 2 or more)")


def _value(arg: Arg, language: str) -> str | int | float:
    if isinstance(arg, Reason):
        return arg.text(language)
    if isinstance(arg, Mapping):
        return pick(arg, language)
    return arg


class Reason(str):
    """An English sentence that knows its msgid and values (see the module docstring)."""

    msgid: str
    args: Mapping[str, Arg]
    texts: Text  # set instead of a msgid: a claim file's own text in both languages

    def __new__(cls, msgid: str, /, **args: Arg) -> Reason:
        english = {k: _value(v, "en") for k, v in args.items()}
        reason = super().__new__(cls, msgid % english if args else msgid)
        reason.msgid, reason.args, reason.texts = msgid, args, {}
        return reason

    @classmethod
    def of_texts(cls, texts: Text) -> Reason:
        """A claim file's ``{en: ..., zh: ...}`` as a reason: in English both texts
        joined by " / " (as the CLI always showed them), on a page the reader's one."""
        reason = str.__new__(cls, " / ".join(texts.values()))
        reason.msgid, reason.args, reason.texts = "", {}, dict(texts)
        return reason

    def text(self, language: str) -> str:
        """The reason in ``language``; English where the catalogue's entry does not fit."""
        if self.texts:
            return pick(self.texts, language)
        if language == "en":
            return str(self)
        values = {k: _value(v, language) for k, v in self.args.items()}
        try:
            translated = translations(language).gettext(self.msgid)
            return translated % values if self.args else translated
        except (KeyError, TypeError, ValueError):
            return str(self)


def in_language(reason: str, language: str) -> str:
    """``reason`` in ``language`` (a plain string, such as a worker's error, as it is)."""
    return reason.text(language) if isinstance(reason, Reason) else reason


def in_languages(reason: str) -> Text:
    """``reason`` in each language."""
    return {lang: in_language(reason, lang) for lang in LANGUAGES}


def status_reason(status: str) -> str:
    """A verdict's name as a translatable reason (an unknown one as it is)."""
    msgid = STATUS_MSGIDS.get(status)
    return Reason(msgid) if msgid else status
