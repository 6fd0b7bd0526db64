"""Plain data the parser produces and the importer consumes (no database here)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from app.i18n import gettext
from app.i18n import mark as N_

Level = Literal["error", "warning"]
# The level's word in the reader's language (``Diagnostic.level_text``).
LEVELS: dict[str, str] = {"error": N_("error"), "warning": N_("warning")}
# A value in a message: text, a number, or a message of its own (translated with it).
Value: TypeAlias = "str | int | Message"


@dataclass(frozen=True)
class Message:
    """An English template marked for translation (``N_("line %(line)d ...")``) and its
    values, as ``app.errors``' messages: ``english`` for the CLI and the JSON API, ``text``
    in the current language for pages. A value may be a ``Message`` itself (a hint inside
    a problem), translated with it. A template without values is not %-formatted."""

    template: str
    values: Mapping[str, Value] = field(default_factory=dict)

    @property
    def english(self) -> str:
        return fill(self.template, self.values, _same)

    @property
    def text(self) -> str:
        """In the current language, or in English where the catalogue's entry does not
        fit the values (a translation with a wrong placeholder)."""
        try:
            return fill(self.template, self.values, gettext)
        except (KeyError, TypeError, ValueError):
            return self.english


def _same(template: str) -> str:
    return template


def fill(template: str, values: Mapping[str, Value], translate: Callable[[str], str]) -> str:
    own = translate(template)
    if not values:
        return own
    return own % {
        k: fill(v.template, v.values, translate) if isinstance(v, Message) else v
        for k, v in values.items()
    }


def values_to_json(values: Mapping[str, Value]) -> dict[str, Any]:
    """``values`` as JSON (a message as ``{"template": ..., "values": ...}``)."""
    return {
        k: {"template": v.template, "values": values_to_json(v.values)}
        if isinstance(v, Message)
        else v
        for k, v in values.items()
    }


def values_from_json(data: Mapping[str, Any]) -> dict[str, Value]:
    return {
        k: Message(v["template"], values_from_json(v["values"])) if isinstance(v, dict) else v
        for k, v in data.items()
    }


@dataclass(frozen=True)
class Diagnostic:
    """A problem in a content file, always pointing at ``file:line``.

    ``message`` is the English text (``str(d)``: the CLI, the JSON API, logs); ``template``
    and ``values`` (``Diagnostic.of``) give it in the reader's language (``text``, with
    ``level_text``), for pages. A diagnostic made with its message alone has no template
    and is shown as written. Two diagnostics are equal by file, line, level and message."""

    file: str
    line: int
    level: Level
    message: str
    template: str = field(default="", compare=False)
    values: Mapping[str, Value] = field(default_factory=dict, compare=False)

    @classmethod
    def of(
        cls, file: str, line: int, level: Level, template: str | Message, /, **values: Value
    ) -> Diagnostic:
        """A diagnostic from a template marked ``N_`` and its values (or a ``Message``)."""
        message = template if isinstance(template, Message) else Message(template, values)
        return cls(file, line, level, message.english, message.template, message.values)

    @property
    def text(self) -> str:
        """The message in the current language."""
        if not self.template:
            return self.message
        return Message(self.template, self.values).text

    @property
    def level_text(self) -> str:
        return gettext(LEVELS[self.level])

    def to_json(self) -> dict[str, Any]:
        return {**vars(self), "values": values_to_json(self.values)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Diagnostic:
        return cls(**{**data, "values": values_from_json(data.get("values", {}))})

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.level}: {self.message}"


@dataclass(frozen=True)
class AskedRecord:
    """One occurrence of a question in an interview. Unknown fields are ``None``."""

    company: str | None = None
    role: str | None = None
    stage: str | None = None
    date: dt.date | None = None


@dataclass
class ParsedQuestion:
    id: str
    title: str
    line: int
    position: int
    section: str | None = None
    answer_md: str = ""
    takeaway: str | None = None
    key_terms: list[str] = field(default_factory=list)
    reference_links: list[str] = field(default_factory=list)
    asked: list[AskedRecord] = field(default_factory=list)
    # Tags as spelled in this question's metadata line (normalised later, across files).
    tags: list[str] = field(default_factory=list)
    pinned_id: bool = False
    # Rendered by app.content.render: sanitised HTML, math as MathML.
    title_html: str = ""
    answer_html: str = ""
    takeaway_html: str | None = None
    # ``content_hash()``, once computed (or read back from the parse cache): a question
    # is not changed after parsing, except by ``names.alias_tags``, which clears it.
    cached_hash: str | None = field(default=None, compare=False, repr=False)
    # ``app.content.rows.search_text``, built where the file is parsed (the same rule).
    cached_search: str | None = field(default=None, compare=False, repr=False)

    def content_hash(self) -> str:
        """sha256 of everything parsed, so a re-import can skip unchanged questions."""
        if self.cached_hash is None:
            self.cached_hash = self._hash()
        return self.cached_hash

    def _hash(self) -> str:
        asked = [
            [a.company, a.role, a.stage, a.date.isoformat() if a.date else None] for a in self.asked
        ]
        fields = [
            self.id,
            self.title,
            self.line,
            self.position,
            self.section,
            self.answer_md,
            self.takeaway,
            self.key_terms,
            self.reference_links,
            asked,
            self.tags,
            self.pinned_id,
            self.title_html,
            self.answer_html,
            self.takeaway_html,
        ]
        raw = json.dumps(fields, ensure_ascii=False)
        return hashlib.sha256(raw.encode()).hexdigest()


@dataclass
class ParsedFile:
    """What one markdown file holds. ``path`` is shown to people; ``source_file`` is the
    stable key stored in the database (relative to the content directory)."""

    path: str
    source_file: str
    slug: str
    title: str
    description: str | None = None
    questions: list[ParsedQuestion] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.level == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.level == "warning"]
