"""Uploads from the Sources page: markdown files or one archive, staged in the data
folder, checked (the same report as ``import --dry-run``), then imported on confirm.

Bounded: ``MAX_UPLOAD_BYTES`` in all, ``MAX_UPLOAD_FILES`` files; only ``.md`` files or
one ``.zip``/``.tar.gz`` are taken. Files chosen one by one keep their names without
folders; a whole folder (the browser sends each file's path inside it, ``notes/ch1/a.md``)
keeps its layout below the folder, whose name names the source, and leaves out what is
not markdown (images beside the chapters). A
staged upload lies in ``<data>/uploads/<token>/<name>/``; on confirm it moves to
``<data>/sources/<name>/`` and is imported from there (re-import reads that copy).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.bank import BankReport, check_bank
from app.errors import PayloadTooLarge
from app.i18n import mark as _
from app.models import Source
from app.sources.fetch import (
    SourceError,
    archive_stem,
    relative_path,
    safe_name,
    sources_dir,
    unpack,
)
from app.sources.service import get_source, import_sources

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_UPLOAD_FILES = 200
STALE_AFTER_S = 24 * 3600  # a staged upload not confirmed within a day is removed
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


def too_large() -> PayloadTooLarge:
    return PayloadTooLarge(
        _("the upload is over %(size)s MiB"), field="files", size=MAX_UPLOAD_BYTES // 2**20
    )


def too_many() -> SourceError:
    return SourceError(_("at most %(count)s files at once"), field="files", count=MAX_UPLOAD_FILES)


@dataclass(frozen=True)
class Staged:
    token: str
    name: str
    kind: str  # upload (markdown files) or archive
    origin: str  # the uploaded files' names
    folder: Path
    left_out: int = 0  # files of an uploaded folder that are not markdown


def uploads_dir(data_dir: Path) -> Path:
    return data_dir / "uploads"


def _forget_stale(folder: Path) -> None:
    """Remove staged uploads nobody confirmed within ``STALE_AFTER_S``."""
    if not folder.is_dir():
        return
    cutoff = time.time() - STALE_AFTER_S
    for entry in folder.iterdir():
        if entry.is_dir() and entry.stat().st_mtime < cutoff:
            shutil.rmtree(entry, ignore_errors=True)


def _not_allowed(name: str) -> SourceError:
    return SourceError(_("the file name %(name)s is not allowed"), field="files", name=repr(name))


def _base_name(name: str) -> str:
    base = PureWindowsPath(PurePosixPath(name.replace("\\", "/")).name).name
    if base in ("", ".", ".."):
        raise _not_allowed(name)
    return base


def _folder_path(name: str) -> PurePosixPath:
    """A file's path below the uploaded folder (``notes/ch1/a.md`` -> ``ch1/a.md``)."""
    path = relative_path(name)
    if path is None or len(path.parts) < 2:
        raise _not_allowed(name)
    return PurePosixPath(*path.parts[1:])


def _from_folder(files: Sequence[tuple[str, bytes]]) -> tuple[str, list[tuple[str, bytes]], int]:
    """An uploaded folder's name, its markdown files by their path below it, and how many
    other files it held (``files`` named with ``/`` between folders)."""
    tops = {PurePosixPath(n).parts[0] for n, _data in files}
    if len(tops) != 1:
        raise SourceError(_("upload one folder at a time"), field="files")
    markdown = [(str(_folder_path(n)), data) for n, data in files if n.lower().endswith(".md")]
    if not markdown:
        raise SourceError(_("the folder holds no .md files"), field="files")
    return tops.pop(), markdown, len(files) - len(markdown)


def stage(files: Sequence[tuple[str, bytes]], *, data_dir: Path, name: str = "") -> Staged:
    """Stage uploaded ``(file name, bytes)``; raise ``SourceError`` naming the field."""
    if not files:
        raise SourceError(
            _("choose markdown files, a folder or an archive to upload"), field="files"
        )
    if len(files) > MAX_UPLOAD_FILES:
        raise too_many()
    if sum(len(data) for _name, data in files) > MAX_UPLOAD_BYTES:
        raise too_large()
    with_slashes = [(n.replace("\\", "/"), data) for n, data in files]
    if all("/" in n.strip("/") for n, _data in with_slashes):
        folder_name, markdown, left_out = _from_folder(with_slashes)
        return _stage_markdown(markdown, data_dir, name.strip() or folder_name, left_out)
    names = [_base_name(n) for n, _data in files]
    archives = [n for n in names if archive_stem(n) is not None]
    if archives and len(files) > 1:
        raise SourceError(_("upload one archive, or markdown files, not both"), field="files")
    if not archives and not all(n.lower().endswith(".md") for n in names):
        raise SourceError(_("only .md files, or one .zip or .tar.gz archive"), field="files")
    if not archives:
        markdown = [(base, data) for base, (_name, data) in zip(names, files, strict=True)]
        return _stage_markdown(markdown, data_dir, name.strip() or "uploaded", 0)
    stem = archive_stem(archives[0])
    assert stem is not None
    root, folder, token, source = _new_stage(data_dir, name.strip() or stem)
    try:
        root.mkdir(parents=True)
        archive = root / ("upload" + archives[0][len(stem) :])
        archive.write_bytes(files[0][1])
        unpack(archive, folder)
        archive.unlink()
    except SourceError:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return Staged(token, source, "archive", archives[0][:500], folder)


def _new_stage(data_dir: Path, name: str) -> tuple[Path, Path, str, str]:
    """A new staging folder: its root, the source's folder in it, its token and name."""
    source = safe_name(name)
    _forget_stale(uploads_dir(data_dir))
    token = secrets.token_hex(16)
    root = uploads_dir(data_dir) / token
    return root, root / source, token, source


def _stage_markdown(
    files: Sequence[tuple[str, bytes]], data_dir: Path, name: str, left_out: int
) -> Staged:
    """Stage markdown files by their paths in the source's folder."""
    root, folder, token, source = _new_stage(data_dir, name)
    for relative, data in files:
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    origin = ", ".join(relative for relative, _data in files)[:500]
    return Staged(token, source, "upload", origin, folder, left_out)


def staged(token: str, *, data_dir: Path) -> Path:
    """The staged folder of ``token``."""
    root = uploads_dir(data_dir) / token
    folders = (
        [p for p in root.iterdir() if p.is_dir()] if _TOKEN.match(token) and root.is_dir() else []
    )
    if len(folders) != 1:
        raise SourceError(_("this upload is gone; upload the files again"), field="token")
    return folders[0]


def check_staged(folder: Path, *, session: Session, content_dir: Path) -> BankReport:
    report = check_bank(paths=[folder], content_dir=content_dir, session=session)
    report.dry_run = True
    return report


def confirm(
    token: str,
    *,
    session: Session,
    data_dir: Path,
    content_dir: Path,
    kind: str,
    origin: str,
    now: dt.datetime,
) -> tuple[BankReport, str]:
    """Move the staged upload to the sources folder and import it (the caller commits);
    the report and the source's name."""
    folder = staged(token, data_dir=data_dir)
    dest = sources_dir(data_dir) / folder.name
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(dest, ignore_errors=True)
    folder.rename(dest)
    shutil.rmtree(folder.parent, ignore_errors=True)
    report, _fetched = import_sources(
        session, targets=[str(dest)], data_dir=data_dir, content_dir=content_dir, now=now
    )
    row = session.scalar(select(Source).where(Source.name == dest.name))
    if row is not None and report.ok:
        row.kind, row.origin = kind, origin
    return report, dest.name


def reimport(
    name: str, *, session: Session, data_dir: Path, content_dir: Path, now: dt.datetime
) -> BankReport:
    """Import source ``name`` again from where it came from (an upload: its copy)."""
    row = get_source(session=session, name=name)
    kind, origin = row.kind, row.origin
    remote = kind in ("git", "folder", "file") or (kind == "archive" and Path(origin).is_file())
    target = origin if remote else row.local_path
    report, _fetched = import_sources(
        session, targets=[target], data_dir=data_dir, content_dir=content_dir, now=now
    )
    if report.ok:
        row.kind, row.origin = kind, origin
    return report
