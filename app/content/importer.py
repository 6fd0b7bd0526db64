"""Import parsed files into the database in one transaction.

Questions keep their ids across imports: a changed question is updated in place (so
review history attached to it survives), an unchanged one is left alone, and one that
disappeared from the imported files is archived, never deleted. If any file has an
error, nothing is written.

When an update changes an answer substantially (``answer_changed``), every user's card
of it is stamped ``Card.answer_changed_at``: the card then offers to relearn it
(``app.study.relearn``) rather than keep a schedule for an answer the user never saw.

This module keeps the books by source file (what an import covers, chapters, what is
archived); ``app.content.rows`` builds and writes the rows.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from app.content import cache as parse_cache
from app.content import names, rows
from app.content.bulk import BulkWrite, bulk_write
from app.content.changes import answer_changed
from app.content.loader import (
    cross_file_problems,
    discover_keyed,
    folder_prefix,
    load_file,
    source_key,
)
from app.content.model import Diagnostic, ParsedFile, ParsedQuestion
from app.content.tags import tag_key
from app.i18n import mark as N_
from app.models import Asked, Card, Chapter, Question, QuestionTag

CHUNK = 500
# The value counted for a question with no company (or stage); pages translate it.
UNKNOWN = N_("(unknown)")
# Above this much markdown, parsing is spread over worker processes.
PARALLEL_BYTES = 2_000_000


@dataclass
class ImportReport:
    """What an import (or a dry run) found and did; ``ok`` is False when nothing was
    written because of errors."""

    files: list[ParsedFile]
    problems: list[Diagnostic] = field(default_factory=list)
    dry_run: bool = False
    written: bool = False
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    archived: int = 0
    restored: int = 0
    # Source file -> parse-cache key and payload of the files parsed afresh (stored
    # after a write).
    to_cache: dict[str, tuple[str, bytes]] = field(default_factory=dict, repr=False)
    # Company spelling -> the name it is stored as (``app.content.names``).
    company_names: dict[str, str] = field(default_factory=dict)
    tag_merges: list[str] = field(default_factory=list)  # "spelling -> tag" of the aliases
    kept_tags: frozenset[str] = frozenset()  # tag spellings the aliases keep apart
    kept_apart: list[str] = field(default_factory=list)  # for the report: "tag GO (not Go)"

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.problems + [d for f in self.files for d in f.diagnostics]

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.level == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.level == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def questions(self) -> list[ParsedQuestion]:
        return [q for f in self.files for q in f.questions]

    def counts(self) -> dict[str, Counter[str]]:
        """Questions per company, stage and tag (a question counts once per value)."""
        names = rows.tag_names(self.questions, self.kept_tags)
        companies: Counter[str] = Counter()
        stages: Counter[str] = Counter()
        tags: Counter[str] = Counter()
        for q in self.questions:
            companies.update(
                {self.company_names.get(a.company or "", a.company) or UNKNOWN for a in q.asked}
            )
            stages.update({a.stage or UNKNOWN for a in q.asked})
            tags.update({names[tag_key(t, self.kept_tags)] for t in q.tags})
        return {"company": companies, "stage": stages, "tag": tags}


def scope_of(paths: Sequence[Path], content_dir: Path) -> tuple[set[str], list[str]]:
    """Source keys covered by an import: exact files, and folder prefixes. A question
    whose file lies in the scope but was not seen is archived."""
    exact: set[str] = set()
    prefixes: list[str] = []
    for path in paths:
        if path.is_dir():
            prefixes.append(folder_prefix(path, content_dir))
        else:
            exact.add(source_key(path, content_dir))
    return exact, prefixes


Loaded = tuple[ParsedFile, bytes | None]


def _load_all(files: Mapping[Path, str], content_dir: Path, *, encode: bool) -> list[Loaded]:
    """Parse files, across processes when the bank is large (parsing is CPU-bound);
    with ``encode``, each with its parse-cache payload."""
    paths = list(files)
    sizes = {p: p.stat().st_size if p.is_file() else 0 for p in paths}
    workers = min(os.cpu_count() or 1, 4, len(paths))
    # fork is cheap (no re-import) but only safe while this process runs one thread.
    single_threaded = threading.active_count() == 1
    size = sum(sizes.values())
    if size < PARALLEL_BYTES or workers < 2 or not single_threaded or os.name != "posix":
        return [_load(p, content_dir, key, encode) for p, key in files.items()]
    # Largest first, in small chunks: no worker is left with a long file while the
    # others idle at the end (chunks of 4 equal files left one core idle for a chunk,
    # 0.65 CPU-s at 10,000 questions); about 50 chunks a worker keeps the pool's own
    # cost per chunk (0.14 ms) small for thousands of files.
    order = sorted(paths, key=lambda p: -sizes[p])
    chunk = max(1, len(paths) // (workers * 50))
    # The workers run with the cyclic collector off: parsing makes millions of short-lived
    # objects and no cycles (tokens and parsed files are trees), so reference counting
    # frees them all and the collector's passes were 14 % of a worker's CPU.
    context = get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=gc.disable) as pool:
        parsed = dict(
            zip(
                order,
                pool.map(
                    _load,
                    order,
                    [content_dir] * len(order),
                    [files[p] for p in order],
                    [encode] * len(order),
                    chunksize=chunk,
                ),
                strict=True,
            )
        )
    return [parsed[p] for p in paths]


def _load(path: Path, content_dir: Path, key: str, encode: bool) -> Loaded:
    """A file's parse (in a worker process when parsing is spread): its questions' hash
    and search text built (``rows.precompute``), and with ``encode`` its parse-cache
    payload, so the process that writes does neither."""
    parsed = rows.precompute(load_file(path, content_dir, key))
    return parsed, parse_cache.encode(parsed) if encode else None


def parse_paths(
    paths: Sequence[Path],
    content_dir: Path,
    session: Session | None = None,
    *,
    to_write: bool = True,
) -> ImportReport:
    """Parse ``paths``; with a ``session``, files unchanged since their cached parse are
    not parsed again (``app.content.cache``), and unless the caller only checks them
    (``to_write`` False) the files parsed afresh come with their cache payloads."""
    files, problems = discover_keyed(paths, content_dir)
    aliases = names.read_aliases(content_dir)
    hits, keys = parse_cache.lookup(session, files, aliases.raw) if session else ({}, {})
    misses = {p: key for p, key in files.items() if p not in hits}
    loaded = _load_all(misses, content_dir, encode=session is not None and to_write)
    fresh = dict(zip(misses, loaded, strict=True))
    parsed = [hits[p] if p in hits else fresh[p][0] for p in files]
    report = ImportReport(files=parsed, problems=problems)
    report.to_cache = {
        parsed_file.source_file: (keys[p], payload)
        for p, (parsed_file, payload) in fresh.items()
        if p in keys and payload is not None
    }
    report.problems.extend(cross_file_problems(parsed))
    report.problems.extend(aliases.problems)
    report.company_names = names.plan_import(report.questions, session, aliases)
    report.tag_merges = names.alias_tags(report.questions, aliases)
    report.kept_tags = aliases.keep_tags
    report.kept_apart = names.kept_apart_report(report.questions, report.company_names, aliases)
    if not files and not problems:
        report.problems.append(
            Diagnostic.of(", ".join(str(p) for p in paths), 1, "error", N_("no .md files found"))
        )
    return report


def import_paths(
    session: Session,
    *,
    paths: Sequence[Path],
    content_dir: Path,
    now: dt.datetime,
    dry_run: bool = False,
) -> ImportReport:
    """Parse ``paths`` and, unless ``dry_run`` or there are errors, write their questions
    with ``session`` (the caller owns the transaction: commit or roll back). The claims
    beside the bank are ``app.bank``'s: it calls the two steps below around them."""
    report = parse_paths(paths, content_dir, session=None if dry_run else session)
    report.dry_run = dry_run
    if dry_run or not report.ok:
        return report
    write_parsed(session, report, paths=paths, content_dir=content_dir, now=now)
    return report


def write_parsed(
    session: Session,
    report: ImportReport,
    *,
    paths: Sequence[Path],
    content_dir: Path,
    now: dt.datetime,
) -> None:
    """Write an error-free ``report`` of ``paths``: chapters and questions (those of
    files under ``paths`` that are gone are archived), then the parse cache."""
    exact, prefixes = scope_of(paths, content_dir)
    with bulk_write(session) as bulk:
        _write(session, bulk, report, exact=exact, prefixes=prefixes, now=now)
    if session.get_bind().dialect.name == "sqlite":
        # Fresh statistics let the planner walk bank order by its index (the review
        # queue's "next new card"); PostgreSQL's autovacuum does this by itself.
        session.execute(text("ANALYZE"))
    parse_cache.store(session, report.to_cache)
    report.written = True


def _in_scope(source_file: str, exact: set[str], prefixes: list[str]) -> bool:
    return source_file in exact or any(source_file.startswith(p) for p in prefixes)


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


def _write(
    session: Session,
    bulk: BulkWrite,
    report: ImportReport,
    *,
    exact: set[str],
    prefixes: list[str],
    now: dt.datetime,
) -> None:
    chapters = {c.source_file: c for c in session.scalars(select(Chapter))}
    seen_files = {f.source_file for f in report.files}
    for f in report.files:
        chapter = chapters.get(f.source_file)
        if chapter is None:
            chapter = Chapter(source_file=f.source_file, slug=f.slug, title=f.title)
            session.add(chapter)
            chapters[f.source_file] = chapter
        chapter.slug, chapter.title, chapter.description = f.slug, f.title, f.description
        chapter.archived_at = None
    for source_file, chapter in chapters.items():
        if source_file not in seen_files and _in_scope(source_file, exact, prefixes):
            chapter.archived_at = chapter.archived_at or now
    session.flush()

    existing = {
        row.id: row
        for row in session.connection().execute(
            select(Question.id, Question.content_hash, Question.archived_at, Question.chapter_id)
        )
    }
    tag_ids = rows.ensure_tags(session, report.questions, report.kept_tags)
    new_rows, changed_rows, replaced = [], [], []
    for f in report.files:
        chapter_id = chapters[f.source_file].id
        for q in f.questions:
            content_hash = q.content_hash()
            old = existing.get(q.id)
            if old is not None and (old.content_hash, old.chapter_id, old.archived_at) == (
                content_hash,
                chapter_id,
                None,
            ):
                report.unchanged += 1
                continue  # rows (and their search text) are built only for what changed
            row = rows.question_row(q, chapter_id, f.source_file, content_hash, now)
            if old is None:
                new_rows.append(row | {"created_at": now})
                report.created += 1
            else:
                changed_rows.append(row)
                replaced.append(q.id)
                report.updated += old.archived_at is None
                report.restored += old.archived_at is not None
    if new_rows:
        rows.insert_rows(session, Question, new_rows)
    if changed_rows:
        _mark_changed_answers(session, changed_rows, now)
        bulk.updating(replaced)
        session.execute(update(Question), changed_rows)
        for ids in _chunks(replaced):
            session.execute(delete(Asked).where(Asked.question_id.in_(ids)))
            session.execute(delete(QuestionTag).where(QuestionTag.question_id.in_(ids)))
    touched = {r["id"] for r in new_rows} | set(replaced)
    kept = report.kept_tags
    unchanged = [q for q in report.questions if q.id not in touched]
    touched |= names.reset_stale_details(session, unchanged, report.company_names, kept)
    names.apply_names(session, report.company_names)
    rows.insert_details(
        session,
        [q for q in report.questions if q.id in touched],
        tag_ids,
        report.company_names,
        kept,
    )

    seen_ids = {q.id for q in report.questions}
    gone = [
        qid
        for qid, source_file in session.connection().execute(
            select(Question.id, Question.source_file).where(Question.archived_at.is_(None))
        )
        if qid not in seen_ids and _in_scope(source_file, exact, prefixes)
    ]
    for ids in _chunks(gone):
        session.execute(update(Question).where(Question.id.in_(ids)).values(archived_at=now))
    report.archived = len(gone)
    rows.refresh_tag_names(session)


def _mark_changed_answers(
    session: Session, changed_rows: Sequence[dict[str, object]], now: dt.datetime
) -> None:
    """Stamp the cards of the questions in ``changed_rows`` (about to be updated) whose answer
    changed substantially; old answers are read only for these questions."""
    by_id = {str(r["id"]): r for r in changed_rows}
    changed: list[str] = []
    for ids in _chunks(list(by_id)):
        old = session.execute(
            select(Question.id, Question.answer_md, Question.takeaway).where(Question.id.in_(ids))
        )
        for qid, answer, takeaway in old:
            row = by_id[qid]
            new_answer, new_takeaway = row["answer_md"], row["takeaway"]
            assert isinstance(new_answer, str) and isinstance(new_takeaway, str | None)
            if answer_changed(answer, takeaway, new_answer, new_takeaway):
                changed.append(qid)
    for ids in _chunks(changed):
        session.execute(update(Card).where(Card.question_id.in_(ids)).values(answer_changed_at=now))
