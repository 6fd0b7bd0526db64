"""Which source a file or folder is, and so which chapters it holds (issue 18).

The rule: a chapter's key is its path inside its source, after the source's name
(``bank/1.3 RLs.md``); a file that belongs to no source is a source by itself, keyed by
its name (``1.3 RLs.md``). So:

- a file (or a subfolder) that lies in a folder already imported as a source is that
  source's: importing it alone imports its folder (``owning_folders``);
- a file (or a subfolder) imported alone earlier, whose folder is imported now, moves into
  the folder's source: its chapters are re-keyed and their questions' ids follow (cards,
  review logs, quiz items, claims and notes with them: ``adopt_files``);
- a source is one folder: a different folder with the same name, while the first one
  still exists, is refused rather than mixed into it (``check_distinct``). A folder
  that moved (its old place is gone) or is imported from its old place is the same
  source. Chapter keys and question ids never hold a location.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from sqlalchemy import Table, delete, insert, literal, select, update
from sqlalchemy.orm import Session

from app.content.loader import folder_prefix
from app.content.model import Diagnostic
from app.content.parser import slugify
from app.i18n import mark as _
from app.models import Chapter, ParsedFileCache, Question, Quiz, QuizItem, Source
from app.models.base import Base
from app.sources.fetch import Fetched, SourceError

FOLDER_KINDS = ("folder",)  # sources read where they lie (the others live in the data folder)


def owning_folders(session: Session, targets: Sequence[str]) -> tuple[list[str], list[Diagnostic]]:
    """``targets`` with each file that lies in an imported folder source replaced by that
    folder; the notes for the report, as warnings (``file:1: warning: part of source
    NAME: imported with it``)."""
    folders = [
        (row.name, Path(row.local_path))
        for row in session.scalars(
            select(Source).where(Source.kind.in_(FOLDER_KINDS), Source.removed_at.is_(None))
        )
    ]
    result: list[str] = []
    notes: list[Diagnostic] = []
    for target in targets:
        path = Path(target).expanduser()
        owner = None
        if path.exists():
            resolved = path.resolve()
            owner = next(
                (
                    (n, f)
                    for n, f in folders
                    if f.is_dir() and resolved != f and resolved.is_relative_to(f)
                ),
                None,
            )
        if owner is None:
            result.append(target)
            continue
        template = _("part of source %(name)s: imported with it")
        notes.append(Diagnostic.of(target, 1, "warning", template, name=owner[0]))
        if str(owner[1]) not in result:
            result.append(str(owner[1]))
    return result, notes


def check_distinct(session: Session, fetched: Fetched) -> None:
    """Refuse a folder (or git URL) whose name is already a source's, from somewhere else
    that still exists: the two would share chapter keys and archive each other's
    questions."""
    row = session.scalar(select(Source).where(Source.name == fetched.name))
    if row is None or row.kind != fetched.kind:
        return
    if fetched.kind == "git" and row.origin != fetched.origin:
        raise SourceError(
            _("a different git repository is already the source %(name)s (%(origin)s)"),
            name=row.name,
            origin=row.origin,
        )
    if fetched.kind in FOLDER_KINDS:
        old = Path(row.local_path)
        if old.resolve() != fetched.local_path and old.is_dir():
            raise SourceError(
                _(
                    "a different folder named %(name)s is already a source (%(origin)s); "
                    "rename one of the folders, or remove that source first"
                ),
                name=row.name,
                origin=row.origin,
            )


def adopt_files(session: Session, fetched: Fetched, content_dir: Path) -> list[Diagnostic]:
    """Move the chapters of files and folders imported alone that lie in the folder
    ``fetched`` into it (their sources are dropped); the notes for the report, as
    warnings."""
    if not fetched.local_path.is_dir():
        return []
    prefix = folder_prefix(fetched.local_path, content_dir)
    notes: list[Diagnostic] = []
    moved_ids: dict[str, str] = {}
    moved_slugs: dict[str, str] = {}
    rows = session.scalars(select(Source).where(Source.kind.in_(("file", *FOLDER_KINDS))))
    for row in rows.all():
        path = Path(row.local_path).resolve()
        if path == fetched.local_path or not path.is_relative_to(fetched.local_path):
            continue
        inside = prefix + path.relative_to(fetched.local_path).as_posix()
        if row.kind == "file":
            moves = {row.scope: inside}
        else:
            keys = session.scalars(
                select(Chapter.source_file).where(
                    Chapter.source_file.startswith(row.scope, autoescape=True)
                )
            )
            moves = {key: f"{inside}/{key.removeprefix(row.scope)}" for key in keys}
        for old_key, new_key in moves.items():
            moved = rekey_chapter(session, old_key=old_key, new_key=new_key)
            if moved is not None:
                moved_slugs[slugify(old_key)] = slugify(new_key)
                moved_ids.update(moved)
                template = _("now %(key)s, in source %(name)s (cards kept)")
                note = Diagnostic.of(
                    old_key, 1, "warning", template, key=new_key, name=fetched.name
                )
                notes.append(note)
        session.delete(row)
    if moved_slugs:
        rewrite_quizzes(session, ids=moved_ids, slugs=moved_slugs)
    session.flush()
    return notes


def rewrite_quizzes(session: Session, *, ids: Mapping[str, str], slugs: Mapping[str, str]) -> None:
    """Quizzes keep question ids and chapter slugs in JSON (the slice's filter, the
    takeaway choices): rewrite the moved ones so nothing stale is left there."""

    def new_id(value: object) -> object:
        return ids.get(value, value) if isinstance(value, str) else value

    for item in session.scalars(select(QuizItem)):
        choices = item.payload.get("choices")
        if isinstance(choices, list) and any(
            isinstance(c, dict) and c.get("question_id") in ids for c in choices
        ):
            moved = [
                {**c, "question_id": new_id(c.get("question_id"))} if isinstance(c, dict) else c
                for c in choices
            ]
            item.payload = {**item.payload, "choices": moved}
    for quiz in session.scalars(select(Quiz)):
        flt = quiz.spec.get("filter")
        if not isinstance(flt, dict):
            continue
        ids_now = [new_id(i) for i in flt.get("ids") or []]
        chapters_now = [
            slugs.get(c, c) if isinstance(c, str) else c for c in flt.get("chapter") or []
        ]
        if ids_now != list(flt.get("ids") or []) or chapters_now != list(flt.get("chapter") or []):
            quiz.spec = {**quiz.spec, "filter": {**flt, "ids": ids_now, "chapter": chapters_now}}


def _children() -> list[tuple[Table, str]]:
    """Every (table, column) that points at a question's id."""
    target = Question.__table__.c.id
    return [
        (table, fk.parent.name)
        for table in Base.metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column is target
    ]


def rekey_chapter(session: Session, *, old_key: str, new_key: str) -> dict[str, str] | None:
    """Store chapter ``old_key`` as ``new_key``: its slug and the ids made from it follow,
    and everything pointing at those questions moves with them (pinned ids stay). The
    ids moved (old -> new); None when there is no such chapter or ``new_key`` is taken."""
    chapter = session.scalar(select(Chapter).where(Chapter.source_file == old_key))
    new_slug = slugify(new_key)
    taken = session.scalar(
        select(Chapter.id).where((Chapter.source_file == new_key) | (Chapter.slug == new_slug))
    )
    if chapter is None or taken is not None:
        return None
    old_slug = chapter.slug
    chapter.source_file, chapter.slug = new_key, new_slug
    session.flush()
    questions = Base.metadata.tables["questions"]
    columns = list(questions.columns)
    children = _children()
    ids = session.scalars(select(Question.id).where(Question.chapter_id == chapter.id)).all()
    moved: dict[str, str] = {}
    for old_id in ids:
        stem, _sep, tail = old_id.rpartition("-")
        new_id = f"{new_slug}-{tail}"
        if stem != old_slug or session.get(Question, new_id) is not None:
            continue  # a pinned id, or one already used
        copy = select(*[literal(new_id) if c.name == "id" else c for c in columns])
        session.execute(
            insert(questions).from_select(
                [c.name for c in columns], copy.where(questions.c.id == old_id)
            )
        )
        for table, column in children:
            session.execute(update(table).where(table.c[column] == old_id).values({column: new_id}))
        session.execute(delete(questions).where(questions.c.id == old_id))
        moved[old_id] = new_id
    session.execute(
        update(Question).where(Question.source_file == old_key).values(source_file=new_key)
    )
    session.execute(delete(ParsedFileCache).where(ParsedFileCache.source_file == old_key))
    session.expire_all()
    return moved
