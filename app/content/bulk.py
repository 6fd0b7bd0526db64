"""A bulk write: the importer writes thousands of bank rows in its transaction without
the per-row triggers of migration 0018, and does their work itself, once.

Those triggers keep the search index (SQLite's ``questions_fts``) and ``bank_version``
for every writer. Row by row they cost a first import of 10,000 questions several
seconds (migration 0020 says where). Inside ``bulk_write`` they skip (0020: the
``bank_version.bulk`` flag on SQLite, the transaction-local ``il.bulk_write`` setting on
PostgreSQL), and on the way out the window

- indexes, on SQLite, the question rows inserted in it (one ``INSERT ... SELECT``) and
  those updated in it (the writer names them with ``updating`` before it updates them:
  their old text leaves the index then, the new one enters it at the end);
- raises ``bank_version`` once: on SQLite when any row was written in it (as the per-row
  triggers did: an import that changes nothing keeps the filter caches), on PostgreSQL
  always (its statement-level triggers fired for any statement);
- turns the flag off, before the caller commits.

The window is a savepoint: if anything in it fails, everything it wrote is undone and the
flag is off, so a caller that commits anyway commits a consistent bank. Writes outside
the window (any other writer) keep the triggers. PostgreSQL keeps its trigram index by
itself (a GIN index, not a trigger).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import Connection, String, bindparam, text
from sqlalchemy.orm import Session

__all__ = ["BulkWrite", "bulk_write"]

CHUNK = 500
_IN_IDS = bindparam("ids", type_=String(), expanding=True)
_UNINDEX = text(
    "INSERT INTO questions_fts(questions_fts, rowid, search_text) "
    "SELECT 'delete', rowid, search_text FROM questions WHERE id IN :ids"
).bindparams(_IN_IDS)
_INDEX_IDS = text(
    "INSERT INTO questions_fts(rowid, search_text) "
    "SELECT rowid, search_text FROM questions WHERE id IN :ids"
).bindparams(_IN_IDS)
_SQLITE_READY = "SELECT count(*) FROM pragma_table_info('bank_version') WHERE name = 'bulk'"
_PG_READY = "SELECT count(to_regclass('bank_version'))"
_INDEX_NEW = text(
    "INSERT INTO questions_fts(rowid, search_text) "
    "SELECT rowid, search_text FROM questions WHERE rowid > :top"
)


class BulkWrite:
    """The open window (``bulk_write``); ``updating`` before updating question rows."""

    def __init__(self, connection: Connection) -> None:
        self._conn = connection
        self.sqlite = connection.dialect.name == "sqlite"
        self._updated: list[str] = []
        self._top = 0  # SQLite: the questions' largest rowid before the window
        self._changes = 0  # SQLite: total_changes() when the window opened
        # Off on a schema before 0020 (tests import at old revisions): the triggers
        # then do all the work, as they did.
        self.active = bool(self._scalar(_SQLITE_READY if self.sqlite else _PG_READY))

    def _open(self) -> None:
        if self.sqlite:
            # A write first, so the driver has begun the transaction before the savepoint.
            self._conn.exec_driver_sql("UPDATE bank_version SET bulk = 1 WHERE id = 1")
            self._changes = self._scalar("SELECT total_changes()")
            self._top = self._scalar("SELECT coalesce(max(rowid), 0) FROM questions")
        else:
            self._conn.exec_driver_sql("SELECT set_config('il.bulk_write', 'on', true)")

    def updating(self, ids: Sequence[str]) -> None:
        """The question rows ``ids`` are about to be updated: their old search text
        leaves the index now (its ``delete`` needs the text it was indexed with)."""
        if not (self.active and self.sqlite):
            return
        self._updated.extend(ids)
        for i in range(0, len(ids), CHUNK):
            self._conn.execute(_UNINDEX, {"ids": list(ids[i : i + CHUNK])})

    def _finish(self) -> None:
        """The triggers' work for what the window wrote (inside its savepoint)."""
        if not self.sqlite:
            return
        self._conn.execute(_INDEX_NEW, {"top": self._top})
        for i in range(0, len(self._updated), CHUNK):
            self._conn.execute(_INDEX_IDS, {"ids": self._updated[i : i + CHUNK]})

    def _close(self, *, wrote: bool) -> None:
        """The flag off; the version raised if anything was written."""
        if self.sqlite:
            wrote = wrote and self._scalar("SELECT total_changes()") > self._changes
            bump = ", version = version + 1" if wrote else ""
            self._conn.exec_driver_sql(f"UPDATE bank_version SET bulk = 0{bump} WHERE id = 1")
            return
        self._conn.exec_driver_sql("SELECT set_config('il.bulk_write', 'off', true)")
        if wrote:
            self._conn.exec_driver_sql("UPDATE bank_version SET version = version + 1")

    def _scalar(self, sql: str) -> int:
        return int(self._conn.exec_driver_sql(sql).scalar_one())


@contextmanager
def bulk_write(session: Session) -> Iterator[BulkWrite]:
    """Write the bank in bulk within ``session``'s transaction (module docstring)."""
    window = BulkWrite(session.connection())
    if not window.active:
        yield window
        return
    window._open()
    try:
        with session.begin_nested():
            # The ORM emits its SAVEPOINT at the session's next statement: emit it now, so
            # that the window's own statements on the connection are inside it too.
            session.connection()
            yield window
            window._finish()
    except BaseException:
        window._close(wrote=False)  # the savepoint is rolled back: nothing was written
        raise
    window._close(wrote=True)
