"""Sources, and chapter identity without absolute paths (issue 18). The ``sources``
table: each folder, file, archive or git repository imported, by name. Tag keys drop
their spaces (tags that then share a key merge). A chapter imported from outside
the content folder was stored by its absolute path (``/tmp/x/1.3 RLs.md``), and its
question ids began with that path's slug (``tmp-x-1-3-rls-…``). Such a chapter is now
stored by its file's name (``1.3 RLs.md``, ids ``1-3-rls-…``), as a file imported by
itself is named today; cards, review logs, quiz items and claims follow the new ids.

Chapters under the content folder (relative paths, ``llm-sft-…``) and pinned ids are
left as they are. Where two old chapters would take the same name, the first (lowest
id) does and the other keeps its old path: re-importing its folder brings it back under
the folder's name.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 10:00:00
"""

import re
import unicodedata
from collections.abc import Sequence
from pathlib import PurePosixPath, PureWindowsPath

import sqlalchemy as sa

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables that point at a question, by column.
CHILDREN = ("asked", "question_tags", "cards", "review_logs", "quiz_items", "claims")
_SPACES = re.compile(r"\s+")


def _slug(key: str) -> str:
    # app.content.parser.slugify as of this revision (copied: migrations do not change).
    stem = key.removesuffix(".md").removesuffix(".markdown")
    folded = _SPACES.sub(" ", unicodedata.normalize("NFKC", stem).casefold()).strip()
    return re.sub(r"[^0-9a-z]+", "-", folded).strip("-") or "chapter"


def _is_absolute(path: str) -> bool:
    return PurePosixPath(path).is_absolute() or PureWindowsPath(path).is_absolute()


def _name(path: str) -> str:
    return PureWindowsPath(path).name if "\\" in path else PurePosixPath(path).name


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("local_path", sa.Text(), nullable=False),
        sa.Column("scope", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    _rename_absolute_chapters()
    _rekey_tags()


def _rekey_tags() -> None:
    """Tag keys lose their spaces (``lora 微调`` -> ``lora微调``, as company names fold);
    tags that now share a key become one, each question keeping one link."""
    conn = op.get_bind()
    groups: dict[str, list[tuple[int, str]]] = {}
    for tag_id, key in conn.execute(sa.text("SELECT id, key FROM tags ORDER BY id")):
        groups.setdefault(key.replace(" ", ""), []).append((tag_id, key))
    for new_key, tags in groups.items():
        keep, old_key = tags[0]
        for other, _ in tags[1:]:
            conn.execute(
                sa.text(
                    "UPDATE question_tags SET tag_id = :keep WHERE tag_id = :other AND "
                    "question_id NOT IN "
                    "(SELECT question_id FROM question_tags WHERE tag_id = :keep)"
                ),
                {"keep": keep, "other": other},
            )
            conn.execute(sa.text("DELETE FROM question_tags WHERE tag_id = :o"), {"o": other})
            conn.execute(sa.text("DELETE FROM tags WHERE id = :o"), {"o": other})
        if new_key != old_key:
            conn.execute(
                sa.text("UPDATE tags SET key = :k WHERE id = :id"), {"k": new_key, "id": keep}
            )


def _rename_absolute_chapters() -> None:
    conn = op.get_bind()
    columns = [c["name"] for c in sa.inspect(conn).get_columns("questions")]
    listed = ", ".join(columns)
    taken = set(conn.execute(sa.text("SELECT source_file FROM chapters")).scalars())
    ids = set(conn.execute(sa.text("SELECT id FROM questions")).scalars())
    chapters = conn.execute(sa.text("SELECT id, source_file, slug FROM chapters ORDER BY id")).all()
    for chapter_id, old_key, old_slug in chapters:
        if not _is_absolute(old_key):
            continue
        new_key = _name(old_key)
        if not new_key or new_key in taken:
            continue
        taken.add(new_key)
        new_slug = _slug(new_key)
        conn.execute(
            sa.text("UPDATE chapters SET source_file = :new, slug = :slug WHERE id = :id"),
            {"new": new_key, "slug": new_slug, "id": chapter_id},
        )
        pattern = re.compile(re.escape(old_slug) + r"-([0-9a-f]{8})")
        rows = conn.execute(
            sa.text("SELECT id FROM questions WHERE chapter_id = :id"), {"id": chapter_id}
        ).scalars()
        for old_id in list(rows):
            match = pattern.fullmatch(old_id)
            new_id = f"{new_slug}-{match.group(1)}" if match else None
            if new_id is None or new_id in ids:
                continue
            ids.add(new_id)
            # A copy under the new id, the children moved to it, then the old row gone:
            # no foreign key ever points at a missing question.
            values = ", ".join("CAST(:new AS VARCHAR(200))" if c == "id" else c for c in columns)
            conn.execute(
                sa.text(
                    f"INSERT INTO questions ({listed}) SELECT {values} FROM questions "
                    "WHERE id = :old"
                ),
                {"new": new_id, "old": old_id},
            )
            for table in CHILDREN:
                conn.execute(
                    sa.text(f"UPDATE {table} SET question_id = :new WHERE question_id = :old"),
                    {"new": new_id, "old": old_id},
                )
            conn.execute(sa.text("DELETE FROM questions WHERE id = :old"), {"old": old_id})
        conn.execute(
            sa.text("UPDATE questions SET source_file = :new WHERE source_file = :old"),
            {"new": new_key, "old": old_key},
        )
        conn.execute(sa.text("DELETE FROM parsed_files WHERE source_file = :old"), {"old": old_key})


def downgrade() -> None:
    # The new ids are valid under the old code too: only the sources table goes.
    op.drop_table("sources")
