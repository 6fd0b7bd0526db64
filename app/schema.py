"""Is the database schema at the newest migration? Answered without alembic: one query of
alembic's own ``alembic_version`` table, compared with the head revision read from the
files in ``alembic/versions`` (their ``revision`` and ``down_revision`` lines).

Start-up calls ``ensure_schema(engine)``: on a database that is up to date (every start
but the first after an upgrade) alembic, mako and their 200 modules are never imported;
otherwise ``app.db.migrate`` runs alembic as before. Anything this reader cannot vouch
for (a revision it cannot read, a missing table, a database ahead of the code) goes to
alembic, which then upgrades or says what is wrong.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from sqlalchemy import Engine, inspect, text

from app.config import REPO_ROOT
from app.db import migrate

VERSIONS = REPO_ROOT / "alembic" / "versions"
VERSION_TABLE = "alembic_version"  # alembic's default; alembic.ini does not change it

# ``revision: str = "0015"`` / ``down_revision: str | None = "0014"`` (or a tuple: a merge).
_ASSIGNMENT = re.compile(r"^(revision|down_revision)\b[^=\n]*=\s*(.+?)\s*$", re.MULTILINE)


def head_revisions(folder: Path = VERSIONS) -> frozenset[str] | None:
    """The revisions no other migration in ``folder`` builds on (one, unless branched),
    or None when a file's revision is not a plain literal this reader can trust."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in folder.glob("*.py"):
        found = dict(_ASSIGNMENT.findall(path.read_text(encoding="utf-8")))
        try:
            revision = ast.literal_eval(found["revision"])
            down = ast.literal_eval(found.get("down_revision", "None"))
        except (KeyError, ValueError, SyntaxError):
            return None
        if not isinstance(revision, str):
            return None
        revisions.add(revision)
        if isinstance(down, str):
            parents.add(down)
        elif isinstance(down, tuple | list):
            parents.update(str(d) for d in down)
        elif down is not None:
            return None
    heads = frozenset(revisions - parents)
    return heads or None


def current_revisions(engine: Engine) -> frozenset[str] | None:
    """The revisions the database is stamped with; None before its first migration."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
        return frozenset(str(r) for r in rows.scalars())


def is_current(engine: Engine, *, folder: Path = VERSIONS) -> bool:
    heads = head_revisions(folder)
    return heads is not None and current_revisions(engine) == heads


def ensure_schema(engine: Engine) -> bool:
    """Migrate the database if (and only if) it is behind; True when alembic ran."""
    if is_current(engine):
        return False
    migrate(engine)
    return True
