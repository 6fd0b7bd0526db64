"""Plain data the parser produces and the importer consumes (no database here)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Literal

Level = Literal["error", "warning"]


@dataclass(frozen=True)
class Diagnostic:
    """A problem in a content file, always pointing at ``file:line``."""

    file: str
    line: int
    level: Level
    message: str

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
