"""Parse one Q&A markdown file into a ``ParsedFile``.

The structure comes from markdown-it's token stream, so headings, metadata and ``### Q.``
lines inside code blocks are never questions. Top-level blocks are walked in order:

- ``# Title`` is the chapter, a ``> ...`` right under it the chapter's description;
- ``## ...`` starts a section (links in it are reduced to their text);
- ``### Q. ...`` (or ``### Q.x``, ``### Q x``, ``### ### Q. x``, or any heading of level
  2 to 6 followed by a metadata line, or the loose lines of ``app.content.headings``)
  starts a question; optional ``<!-- id: slug -->`` and the metadata line(s) follow; the
  answer runs to the next question, section or chapter.

Everything that drifts from the format becomes a ``Diagnostic`` with ``file:line``.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_right
from dataclasses import dataclass, field

from app.content.answer_parts import NUMBERING, marks, plain
from app.content.answer_render import AnswerParts, read_answer
from app.content.headings import QUESTION, Block, heading_text, metadata_lines, top_level_blocks
from app.content.hints import nearest_hint
from app.content.limits import (
    MAX_ANSWER_CHARS,
    MAX_FILE_CHARS,
    MAX_FILE_MATH_SPANS,
    MAX_MATH_SPANS,
    MAX_TITLE_CHARS,
    sizes,
)
from app.content.metadata import looks_like_metadata, parse_metadata_line
from app.content.model import Diagnostic, Level, Message, ParsedFile, ParsedQuestion, Value
from app.content.outline import parse_outline
from app.content.render import render_inline
from app.content.rs_tokens import parse_inline
from app.content.tags import fold
from app.i18n import mark as N_

_PINNED_ID = re.compile(r"^\s*<!--\s*id\s*[:：]\s*(?P<id>.*?)\s*-->\s*$", re.IGNORECASE)
_VALID_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,150}$")

FORMAT_HINT = N_(
    "expected `### Q. question` headings, each followed by a line like "
    "`> **Company**: 美团 | **Round**: 算法工程师 一面 | **Date**: 2025-08-31 | **Tags**: [LoRA]`"
)


@dataclass
class _Open:
    """The question being read."""

    question: ParsedQuestion
    heading_block: int
    answer_start: int
    metadata_seen: bool = False
    problems: list[tuple[int, Level, str]] = field(default_factory=list)


def slugify(source_file: str) -> str:
    stem = source_file.removesuffix(".md").removesuffix(".markdown")
    slug = re.sub(r"[^0-9a-z]+", "-", fold(stem)).strip("-")
    return slug or "chapter"


def question_id(slug: str, title: str) -> str:
    """A stable id from the chapter and the title (edit the answer freely; pin the id
    with ``<!-- id: ... -->`` before renaming a question)."""
    return f"{slug}-{hashlib.sha1(fold(title).encode()).hexdigest()[:8]}"


class _FileParser:
    def __init__(self, text: str, path: str, source_file: str) -> None:
        self.path = path
        self.lines = text.split("\n")
        self.text = text
        self.tokens = parse_outline(text)
        self.blocks = top_level_blocks(self.tokens, self.lines, text)
        self.metadata_read: set[int] = set()  # the lines read as metadata
        slug = slugify(source_file)
        self.result = ParsedFile(path=path, source_file=source_file, slug=slug, title="")
        self.section: str | None = None
        self.current: _Open | None = None
        self.first_line: dict[str, int] = {}
        self.math_spans = 0  # formulas in the answers so far (app.content.limits)

    def add(self, line0: int, level: Level, template: str | Message, /, **values: Value) -> None:
        """A diagnostic at ``line0`` (0-based): a template marked ``N_`` and its values."""
        self.result.diagnostics.append(
            Diagnostic.of(self.path, line0 + 1, level, template, **values)
        )

    def parse(self) -> ParsedFile:
        i = 0
        while i < len(self.blocks):
            block = self.blocks[i]
            title = self._question_title(i)
            if title is not None:
                self._finish(block)
                i = self._start_question(i, title)
                continue
            if block.type == "heading" and block.tag in ("h1", "h2"):
                self._finish(block)
                i = self._chapter_or_section(i)
                continue
            i += 1
        self._finish(None)
        self._stray_metadata()
        if not self.result.title:
            self.result.title = self.result.slug
            self.add(0, "warning", N_("no `# Title` line; the chapter is named after the file"))
        if not self.result.questions and not self.result.errors:
            hint = nearest_hint("\n".join(self.lines))
            expected = Message(FORMAT_HINT)
            if hint is None:
                self.add(0, "error", N_("format not recognised: %(expected)s"), expected=expected)
            else:
                template = N_("format not recognised: %(expected)s; %(hint)s")
                self.add(0, "error", template, expected=expected, hint=hint)
        return self.result

    def _question_title(self, i: int) -> str | None:
        """The title of the question block ``i`` starts, or None (module docstring)."""
        block = self.blocks[i]
        if block.type == "loose":
            if block.strict:
                self.add(
                    block.start,
                    "warning",
                    N_(
                        "`###Q.` read as a question heading; Markdown needs a space after the "
                        "hashes (`### Q.`), so other Markdown viewers show this line as text"
                    ),
                )
                return block.title
            return block.title if self._metadata_follows(i) else None
        if block.type != "heading" or block.tag == "h1":
            return None
        text = heading_text(self.lines[block.start])
        match = QUESTION.match(text)
        if match and block.tag == "h3":
            return match["title"]
        if self._metadata_follows(i):
            return match["title"] if match else text
        if match and block.tag != "h2":
            self.add(
                block.start,
                "warning",
                N_(
                    "`%(hashes)s Q.` heading with no metadata line under it: read as a "
                    "heading inside the answer above (a question is a `### Q.` heading, or "
                    "any heading followed by a metadata line)"
                ),
                hashes="#" * int(block.tag[1]),
            )
        return None

    def _metadata_follows(self, i: int) -> bool:
        nxt = self.blocks[i + 1] if i + 1 < len(self.blocks) else None
        return (
            nxt is not None
            and nxt.type in ("blockquote", "paragraph")
            and looks_like_metadata(self.lines[nxt.start])
        )

    def _stray_metadata(self) -> None:
        """A warning at each metadata line no heading claimed (read as answer text)."""
        lines = [n for n in metadata_lines(self.text) if n not in self.metadata_read]
        if not lines:  # every one a question's metadata: the usual file
            return
        readable = [b for b in self.blocks if b.type in ("blockquote", "paragraph")]
        starts = [b.start for b in readable]
        for line0 in lines:
            at = bisect_right(starts, line0) - 1
            if at < 0 or line0 >= readable[at].end:
                continue
            if looks_like_metadata(self.lines[line0]):
                self.add(
                    line0,
                    "warning",
                    N_(
                        "a metadata line with no question heading above it: read as answer "
                        "text (a question starts with a `### Q. question` heading)"
                    ),
                )

    def _chapter_or_section(self, i: int) -> int:
        block = self.blocks[i]
        inline = block.inline
        if inline is not None and not inline.children and inline.content:
            inline = parse_inline(inline.content)[0]  # a heading markdown-it-py's blocks read
        text = plain(inline)
        if block.tag == "h2" or self.result.title:
            if block.tag == "h1":
                self.add(block.start, "warning", N_("a second `# ` heading; read as a section"))
            self.section = NUMBERING.sub("", text).strip() or None
            return i + 1
        self.result.title = text or self.result.slug
        nxt = self.blocks[i + 1] if i + 1 < len(self.blocks) else None
        if nxt is not None and nxt.type == "blockquote":
            quoted = (re.sub(r"^\s*>\s?", "", s) for s in self.lines[nxt.start : nxt.end])
            self.result.description = "\n".join(quoted).strip() or None
            return i + 2
        return i + 1

    def _start_question(self, i: int, title: str) -> int:
        heading = self.blocks[i]
        title = title.strip()
        position = len(self.result.questions) + (self.current is not None)
        question = ParsedQuestion(
            id="", title=title, line=heading.start + 1, position=position, section=self.section
        )
        self.current = _Open(question, i, heading.end)
        if not title:
            self.add(heading.start, "error", N_("question heading has no text after `Q.`"))
        j = i + 1
        while j < len(self.blocks):
            block = self.blocks[j]
            pinned = _PINNED_ID.match(self.lines[block.start])
            if block.type == "html_block" and pinned:
                self._pin(block.start, pinned["id"])
                self.current.answer_start = block.end
                j += 1
                continue
            if block.type in ("blockquote", "paragraph") and not self.current.metadata_seen:
                k = block.start
                while k < block.end and looks_like_metadata(self.lines[k]):
                    self._metadata(k)
                    k += 1
                if k > block.start:
                    self.current.metadata_seen = True
                    self.current.answer_start = k
                    if k < block.end:  # the rest of the block is answer text
                        return j + 1
                    j += 1
                    continue
            break
        return j

    def _pin(self, line0: int, value: str) -> None:
        assert self.current is not None
        if not _VALID_ID.match(value):
            template = N_("pinned id %(id)r must be letters, digits, '.', '_', '-'")
            self.add(line0, "error", template, id=value)
            return
        self.current.question.id = value
        self.current.question.pinned_id = True

    def _metadata(self, line0: int) -> None:
        assert self.current is not None
        self.metadata_read.add(line0)
        meta = parse_metadata_line(self.lines[line0])
        for problem in meta.problems:
            self.add(line0, "warning", problem)
        question = self.current.question
        question.asked.append(meta.asked)
        known = {fold(t) for t in question.tags}
        for tag in meta.tags:
            if fold(tag) not in known:
                known.add(fold(tag))
                question.tags.append(tag)

    def _finish(self, terminator: Block | None) -> None:
        """Close the open question at ``terminator`` (``None``: end of file)."""
        current, self.current = self.current, None
        if current is None:
            return
        question = current.question
        end = terminator.start if terminator is not None else len(self.lines)
        heading_line0 = question.line - 1
        tok_lo = next(
            (
                b.token
                for b in self.blocks[current.heading_block + 1 :]
                if b.end > current.answer_start
            ),
            len(self.tokens),
        )
        tok_hi = terminator.token if terminator is not None else len(self.tokens)
        answer_tokens = self.tokens[tok_lo:tok_hi]

        code_lines: set[int] = set()
        for tok in answer_tokens:
            if tok.type in ("fence", "code_block") and tok.map:
                code_lines.update(n - current.answer_start for n in range(*tok.map))
        raw = "\n".join(self.lines[current.answer_start : end])
        answer, takeaways, problems = marks(raw, code_lines)
        for rel, message in problems:
            self.add(current.answer_start + rel, "warning", message)

        question.answer_md = answer.strip("\n").rstrip()
        parts = self._within_limits(question)
        if parts is None:
            return  # an error: nothing of this answer is rendered
        question.takeaway = "\n".join(takeaways) or None
        question.key_terms = parts.key_terms
        question.reference_links = parts.links
        question.title_html = render_inline(question.title)
        question.answer_html = parts.render()
        question.takeaway_html = render_inline(question.takeaway) if question.takeaway else None
        if not current.metadata_seen:
            self.add(
                heading_line0,
                "warning",
                N_(
                    "question has no metadata line (Company | Round | Date | Tags, with or "
                    "without the field names); imported without company, stage or tags"
                ),
            )
        if not question.answer_md:
            self.add(heading_line0, "warning", N_("question has no answer"))
        if not question.title:
            return  # already an error
        if not question.id:
            question.id = question_id(self.result.slug, question.title)
            if question.id in self.first_line:
                n = 2
                while f"{question.id}-{n}" in self.first_line:
                    n += 1
                self.add(
                    heading_line0,
                    "warning",
                    N_(
                        "same title as the question at line %(line)d; id suffixed with -%(n)d "
                        "(pin ids with <!-- id: ... --> to keep them stable)"
                    ),
                    line=self.first_line[question.id],
                    n=n,
                )
                question.id = f"{question.id}-{n}"
        elif question.id in self.first_line:
            self.add(
                heading_line0,
                "error",
                N_("pinned id %(id)r is already used at line %(line)d"),
                id=question.id,
                line=self.first_line[question.id],
            )
            return
        self.first_line[question.id] = question.line
        question.position = len(self.result.questions)
        self.result.questions.append(question)

    def _within_limits(self, question: ParsedQuestion) -> AnswerParts | None:
        """``app.content.limits``: an answer or title too long, or too many formulas, is
        an error at the question's line, before any rendering. Returns the answer read
        (``None`` on an error)."""
        line0 = question.line - 1
        problems: list[Message] = []
        parts = None
        if len(question.title) > MAX_TITLE_CHARS:
            template = N_(
                "question title is %(chars)s characters long; at most %(most)s are allowed"
            )
            problems.append(Message(template, sizes(len(question.title), MAX_TITLE_CHARS)))
        if len(question.answer_md) > MAX_ANSWER_CHARS:
            template = N_(
                "answer is %(chars)s characters long; at most %(most)s are allowed "
                "(split the question)"
            )
            problems.append(Message(template, sizes(len(question.answer_md), MAX_ANSWER_CHARS)))
        else:
            room = max(0, min(MAX_MATH_SPANS, MAX_FILE_MATH_SPANS - self.math_spans))
            parts = read_answer(question.answer_md, max_spans=room)
            spans = parts.math_spans
            self.math_spans += spans
            if spans > MAX_MATH_SPANS:
                template = N_("answer has %(chars)s formulas; at most %(most)s are allowed")
                problems.append(Message(template, sizes(spans, MAX_MATH_SPANS)))
            elif self.math_spans - spans > MAX_FILE_MATH_SPANS:
                return None  # reported at the answer that crossed the limit
            elif self.math_spans > MAX_FILE_MATH_SPANS:
                template = N_(
                    "the file has over %(most)s formulas by this answer; split it into chapters"
                )
                problems.append(Message(template, {"most": f"{MAX_FILE_MATH_SPANS:,}"}))
        for problem in problems:
            self.add(line0, "error", problem)
        return None if problems else parts


def parse_text(text: str, *, path: str, source_file: str | None = None) -> ParsedFile:
    """Parse a file's text. ``path`` names it in diagnostics; ``source_file`` is the key
    stored in the database (defaults to ``path``). A file over ``MAX_FILE_CHARS`` is
    refused unparsed (an error at line 1)."""
    if len(text) > MAX_FILE_CHARS:
        source = source_file or path
        result = ParsedFile(path=path, source_file=source, slug=slugify(source), title="")
        template = N_(
            "file is %(chars)s characters long; at most %(most)s are read (split it into chapters)"
        )
        result.diagnostics.append(
            Diagnostic.of(path, 1, "error", Message(template, sizes(len(text), MAX_FILE_CHARS)))
        )
        return result
    text = text.replace("\r\n", "\n").replace("\r", "\n").removeprefix("\ufeff")
    return _FileParser(text, path, source_file or path).parse()
