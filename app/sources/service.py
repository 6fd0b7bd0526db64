"""Import, list and remove sources, each in the caller's one transaction.

A source's chapters are keyed by the path inside it after its name (``bank/1.3 RLs.md``;
a file imported alone: its name), so re-importing it, from wherever it now lies, updates
the same chapters and questions: cards keep their history. Removing a source archives its
questions (cards and logs are kept); importing it again restores them.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.bank import BankReport, check_bank, import_bank
from app.content.loader import folder_prefix, source_key
from app.content.model import Diagnostic
from app.i18n import mark as _
from app.models import Chapter, Question, Source
from app.sources.fetch import Fetched, SourceError, fetch
from app.sources.identity import adopt_files, check_distinct, owning_folders
from app.sources.outcome import ImportOutcome


@dataclass(frozen=True)
class SourceRow:
    name: str
    kind: str
    origin: str
    imported_at: dt.datetime | None
    removed_at: dt.datetime | None
    questions: int
    chapters: int
    has_report: bool  # its last import's report is kept (``last_import``)


def _in_content(path: Path, content_dir: Path) -> bool:
    return path.resolve().is_relative_to(content_dir.resolve())


def _scope(fetched: Fetched, content_dir: Path) -> str:
    if fetched.local_path.is_dir():
        return folder_prefix(fetched.local_path, content_dir)
    return source_key(fetched.local_path, content_dir)


def _matches(column: InstrumentedAttribute[str], scope: str) -> ColumnElement[bool]:
    if scope.endswith("/"):
        return column.startswith(scope, autoescape=True)
    return column == scope


def import_sources(
    session: Session | None,
    *,
    targets: Sequence[str],
    data_dir: Path,
    content_dir: Path,
    now: dt.datetime,
    dry_run: bool = False,
) -> tuple[BankReport, list[Fetched]]:
    """Fetch each target (a path or a git URL), import them all at once (unless
    ``dry_run``: then only check; ``session`` may be None) and remember each as a
    source. Nothing is written when any file has an error. A file in a folder already
    imported is imported with its folder (``app.sources.identity``)."""
    notes: list[Diagnostic] = []
    if session is not None:
        targets, notes = owning_folders(session, targets)
    if dry_run or session is None:
        # Archives and clones go to a scratch folder, removed after: a dry run leaves the
        # sources as they were.
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=data_dir, prefix="dry-run-") as scratch:
            fetched = [fetch(t, data_dir=data_dir, scratch=Path(scratch)) for t in targets]
            if session is not None:
                for one in fetched:
                    check_distinct(session, one)
            paths = [f.local_path for f in fetched]
            report = check_bank(paths=paths, content_dir=content_dir, session=session)
        report.dry_run = True
        report.problems.extend(notes)
        return report, fetched
    fetched = [fetch(target, data_dir=data_dir) for target in targets]
    for one in fetched:
        check_distinct(session, one)
    for one in fetched:
        notes += adopt_files(session, one, content_dir)
    paths = [f.local_path for f in fetched]
    report = import_bank(session, paths=paths, content_dir=content_dir, now=now)
    report.problems.extend(notes)
    if report.ok:
        outcome = ImportOutcome.of(report, at=now)
        for one in fetched:
            if not _in_content(one.local_path, content_dir):
                _remember(session, one, content_dir, now, outcome)
        session.flush()
    return report, fetched


def _remember(
    session: Session, fetched: Fetched, content_dir: Path, now: dt.datetime, outcome: ImportOutcome
) -> None:
    row = session.scalar(select(Source).where(Source.name == fetched.name))
    if row is None:
        row = Source(name=fetched.name, created_at=now)
        session.add(row)
    row.kind, row.origin = fetched.kind, fetched.origin
    row.local_path = str(fetched.local_path)
    row.scope = _scope(fetched, content_dir)
    row.imported_at, row.removed_at = now, None
    row.last_import = outcome.to_json()


def list_sources(*, session: Session) -> list[SourceRow]:
    rows = []
    for source in session.scalars(select(Source).order_by(Source.name)):
        active = Question.archived_at.is_(None)
        questions = session.scalar(
            select(func.count(Question.id)).where(
                active, _matches(Question.source_file, source.scope)
            )
        )
        chapters = session.scalar(
            select(func.count(Chapter.id)).where(
                Chapter.archived_at.is_(None), _matches(Chapter.source_file, source.scope)
            )
        )
        rows.append(
            SourceRow(
                source.name,
                source.kind,
                source.origin,
                source.imported_at,
                source.removed_at,
                questions or 0,
                chapters or 0,
                source.last_import is not None,
            )
        )
    return rows


def bank_questions(*, session: Session) -> int:
    """The questions the bank holds (not archived), from sources and the content folder."""
    return (
        session.scalar(select(func.count(Question.id)).where(Question.archived_at.is_(None))) or 0
    )


def last_import(*, session: Session, name: str) -> ImportOutcome:
    """The report of source ``name``'s last import."""
    data = get_source(session=session, name=name).last_import
    if data is None:
        raise SourceError(
            _("source %(name)s has no import report yet"), field="report", name=repr(name)
        )
    return ImportOutcome.from_json(data)


def get_source(*, session: Session, name: str) -> Source:
    row = session.scalar(select(Source).where(Source.name == name))
    if row is None:
        raise SourceError(_("no source is named %(name)s"), field="name", name=repr(name))
    return row


def remove_source(*, session: Session, name: str, now: dt.datetime) -> int:
    """Archive the questions and chapters of source ``name`` (cards and review logs are
    kept; importing it again restores them). Returns how many questions were archived."""
    row = get_source(session=session, name=name)
    active = (Question.archived_at.is_(None), _matches(Question.source_file, row.scope))
    archived = session.scalar(select(func.count(Question.id)).where(*active)) or 0
    session.execute(update(Question).where(*active).values(archived_at=now))
    session.execute(
        update(Chapter)
        .where(Chapter.archived_at.is_(None), _matches(Chapter.source_file, row.scope))
        .values(archived_at=now)
    )
    row.removed_at = now
    session.flush()
    return archived
