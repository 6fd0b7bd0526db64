"""What ``serve`` can skip at start: the re-import of ``content/`` when nothing it reads
has changed since the last import into this database.

Every start imports the content folder so that an edited file shows at once. On an
unchanged folder that import changes nothing but costs most of the start (the claim
files are pure-Python YAML, and each quote is found in its answer's HTML). So each import
of the content folder stores a fingerprint beside the parse cache, in the same
transaction, and ``serve`` imports only when the fingerprint it computes differs:

- every file under the content folder: its path and its bytes (hashed: a file edited
  within the same second and at the same size still counts), ``.git`` left out;
- the code that reads them: path, size and modification time of every module of
  ``app/`` (any change in the parsers, the claim checks or the demos' catalogue, which
  the claims are checked against), and the names of the installed distributions with
  their versions (the ``*.dist-info`` folders of ``site-packages``: an upgraded
  markdown-it or YAML library counts), listed, not imported;
- the database's own content: counts and latest times of its chapters, questions and
  claims, taken after the import, so another command that changed them (an import of
  another source, ``sources remove``, an upload) makes the next start import again.

The fingerprint lives in the database, so a restored backup carries the fingerprint of
the content it holds. A failed import stores nothing; a fresh or migrated database is
always imported.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
from pathlib import Path

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from app.config import REPO_ROOT
from app.models import Chapter, Claim, ParsedFileCache, Question

# The parse-cache row that holds the fingerprint. Parse-cache rows are keyed by a file's
# path relative to the content folder or a source: none starts with a colon pair.
FINGERPRINT_ROW = "::content-import-fingerprint::"
APP_DIR = REPO_ROOT / "app"
SKIPPED_DIRS = frozenset({".git", "__pycache__"})


def _files(root: Path) -> list[tuple[str, str]]:
    """Every file under ``root`` as (path relative to it with ``/``, path), sorted; what is
    under ``SKIPPED_DIRS`` left out, folders that are symbolic links not followed (as
    ``Path.rglob``). ``os.walk``, pruned: an ``rglob`` of ``app/`` also listed its
    ``__pycache__`` folders, and took 8.5 ms of a start where this takes 1.4."""
    found = []
    prefix = len(str(root)) + 1
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
        relative = folder[prefix:].replace(os.sep, "/")
        for name in names:
            path = os.path.join(folder, name)
            if name not in SKIPPED_DIRS and os.path.isfile(path):
                found.append((f"{relative}/{name}" if relative else name, path))
    return sorted(found)


def _update_files(digest: hashlib._Hash, root: Path, *, contents: bool) -> None:
    for relative, path in _files(root):
        digest.update(relative.encode() + b"\0")
        if contents:
            digest.update(hashlib.sha256(Path(path).read_bytes()).digest())
        else:
            stat = os.stat(path)
            digest.update(f"{stat.st_size}:{stat.st_mtime_ns}\0".encode())


def files_fingerprint(content_dir: Path, *, code_dir: Path = APP_DIR) -> str:
    """sha256 of the content folder's files (paths and bytes) and of the code that reads
    them (``app/``'s modules by size and time, the installed libraries' versions)."""
    digest = hashlib.sha256(str(content_dir.resolve()).encode() + b"\0")
    if content_dir.is_dir():
        _update_files(digest, content_dir, contents=True)
    digest.update(b"\0code\0")
    _update_files(digest, code_dir, contents=False)
    for folder in sorted({p for p in sys.path if p.endswith("-packages")}):
        with contextlib.suppress(OSError):
            names = sorted(n for n in os.listdir(folder) if n.endswith(".dist-info"))
            digest.update("\0".join([folder, *names]).encode())
    return digest.hexdigest()


def database_summary(session: Session) -> str:
    """Counts and latest times of the imported content, as text."""
    rows = (
        session.execute(
            select(func.count(), func.count(Chapter.archived_at), func.max(Chapter.archived_at))
        ).one(),
        *(
            session.execute(
                select(
                    func.count(),
                    func.count(table.archived_at),
                    func.max(table.archived_at),
                    func.max(table.updated_at),
                )
            ).one()
            for table in (Question, Claim)
        ),
    )
    return "|".join(str(value) for row in rows for value in row)


def fingerprint(session: Session, files: str) -> str:
    """``files`` (``files_fingerprint``) with the database's content as it is now."""
    return hashlib.sha256(f"{files}|{database_summary(session)}".encode()).hexdigest()


def stored_fingerprint(session: Session) -> str | None:
    return session.scalar(
        select(ParsedFileCache.key).where(ParsedFileCache.source_file == FINGERPRINT_ROW)
    )


def is_unchanged(session: Session, files: str) -> bool:
    """True when the last import of the content folder into this database saw the same
    files and code, and nothing changed its content since."""
    stored = stored_fingerprint(session)
    return stored is not None and stored == fingerprint(session, files)


def store_fingerprint(session: Session, files: str) -> None:
    """Record that the content folder with ``files`` was imported (call after the import
    wrote, in its transaction)."""
    session.flush()
    key = fingerprint(session, files)
    session.execute(delete(ParsedFileCache).where(ParsedFileCache.source_file == FINGERPRINT_ROW))
    session.execute(
        insert(ParsedFileCache).values(source_file=FINGERPRINT_ROW, key=key, payload=b"")
    )


def forget_fingerprint(session: Session) -> None:
    session.execute(delete(ParsedFileCache).where(ParsedFileCache.source_file == FINGERPRINT_ROW))
