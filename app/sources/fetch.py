"""Bring a source's files to where the import reads them.

A folder or a file is read where it lies. An archive (``.zip``, ``.tar.gz``, ``.tgz``) is
unpacked into ``<data>/sources/<name>/``: bounded in size and file count, members with
an absolute path, a ``..`` part or a link refused, so nothing is written outside that
folder. A git URL is cloned shallowly with the system ``git`` into the same place; the
next import of it fetches the newest commit.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from app.errors import AppError
from app.i18n import mark as _

MAX_ARCHIVE_BYTES = 50_000_000  # unpacked
MAX_ARCHIVE_FILES = 2_000
GIT_TIMEOUT_S = 300
ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz")
_GIT_URL = re.compile(r"^(https?|ssh|git|file)://|^[\w.-]+@[\w.-]+:")
_UNSAFE = re.compile(r"[^\w.-]+")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


class SourceError(AppError):
    """A source that cannot be read: a refused archive, a failed clone, a bad name."""

    status_code = 400
    code = "source_error"


@dataclass(frozen=True)
class Fetched:
    kind: str  # folder, file, archive, git
    name: str
    origin: str
    local_path: Path


def is_git_url(text: str) -> bool:
    return bool(_GIT_URL.match(text)) or text.endswith(".git") and "://" in text


def archive_stem(name: str) -> str | None:
    lower = name.lower()
    for suffix in ARCHIVE_SUFFIXES:
        if lower.endswith(suffix):
            return name[: -len(suffix)]
    return None


def safe_name(text: str) -> str:
    """A source name usable as a folder name in the data folder."""
    name = _UNSAFE.sub("-", text).strip("-.")
    if not name:
        raise SourceError(_("cannot make a source name of %(text)s"), text=repr(text))
    return name[:100]


def sources_dir(data_dir: Path) -> Path:
    return data_dir / "sources"


def relative_path(name: str) -> PurePosixPath | None:
    """``name`` (``/`` or ``\\`` between folders) as a path that stays below where it is
    put; None for one that would leave it (absolute, a drive, ``..``)."""
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or re.match(r"^[A-Za-z]:", name) or ".." in path.parts:
        return None
    return path


def _member_path(name: str) -> PurePosixPath:
    path = relative_path(name)
    if path is None:
        raise SourceError(
            _("archive member %(member)s points outside the archive: refused"), member=repr(name)
        )
    return path


def unpack(archive: Path, dest: Path) -> None:
    """Unpack ``archive`` into ``dest`` (replaced), or raise ``SourceError`` and write
    nothing there."""
    members: list[tuple[PurePosixPath, bytes]] = []
    total = 0

    def add(name: str, size: int, read: object) -> None:
        nonlocal total
        path = _member_path(name)
        total += size
        if len(members) >= MAX_ARCHIVE_FILES:
            raise SourceError(
                _("the archive holds over %(count)s files: refused"), count=MAX_ARCHIVE_FILES
            )
        if total > MAX_ARCHIVE_BYTES:
            raise SourceError(
                _("the archive unpacks to over %(size)s bytes: refused"), size=MAX_ARCHIVE_BYTES
            )
        assert callable(read)
        members.append((path, read()))

    lower = archive.name.lower()
    try:
        if lower.endswith(".zip"):
            with zipfile.ZipFile(archive) as zf:
                for info in zf.infolist():
                    if info.is_dir():
                        _member_path(info.filename)
                        continue
                    add(info.filename, info.file_size, lambda i=info: zf.read(i))
        else:
            with tarfile.open(archive, "r:gz") as tf:
                for member in tf.getmembers():
                    if member.isdir():
                        _member_path(member.name)
                        continue
                    if not member.isfile():
                        raise SourceError(
                            _("archive member %(member)s is a link or device: refused"),
                            member=repr(member.name),
                        )
                    extracted = tf.extractfile(member)
                    assert extracted is not None
                    add(member.name, member.size, extracted.read)
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError) as exc:
        raise SourceError(
            _("cannot read the archive %(archive)s: %(reason)s"), archive=archive.name, reason=exc
        ) from None
    staging = dest.with_name(dest.name + ".unpacking")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    root = staging.resolve()
    for path, data in members:
        target = (staging / Path(*path.parts)).resolve()
        if not target.is_relative_to(root):
            raise SourceError(
                _("archive member %(member)s points outside the archive: refused"),
                member=repr(str(path)),
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    shutil.rmtree(dest, ignore_errors=True)
    staging.rename(dest)


def _git(*args: str, cwd: Path | None = None) -> None:
    try:
        subprocess.run(
            ["git", *args],
            cwd=cwd,
            check=True,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
        )
    except FileNotFoundError:
        raise SourceError(_("git is not installed: a git URL needs the system git")) from None
    except subprocess.CalledProcessError as exc:
        raise SourceError(
            _("git %(command)s failed: %(reason)s"),
            command=args[0],
            reason=exc.stderr.strip()[-500:],
        ) from None
    except subprocess.TimeoutExpired:
        raise SourceError(
            _("git %(command)s took over %(seconds)s s"), command=args[0], seconds=GIT_TIMEOUT_S
        ) from None


def clone_or_pull(url: str, dest: Path) -> None:
    """A shallow clone of ``url`` at ``dest``; if there is one, its newest commit."""
    if (dest / ".git").is_dir():
        _git("fetch", "--depth", "1", "origin", cwd=dest)
        _git("reset", "--hard", "FETCH_HEAD", cwd=dest)
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(dest, ignore_errors=True)
    _git("clone", "--depth", "1", "--", url, str(dest))


def fetch(target: str, *, data_dir: Path, scratch: Path | None = None) -> Fetched:
    """Resolve ``target`` (a path or a git URL) into the files to import. With
    ``scratch`` (a dry run), an archive or a clone goes there, not into the sources."""
    into = sources_dir(data_dir) if scratch is None else scratch
    if is_git_url(target):
        stem = target.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1].removesuffix(".git")
        source = safe_name(stem)
        dest = into / source
        clone_or_pull(target, dest)
        return Fetched("git", source, target, dest)
    if _URL.match(target):
        raise SourceError(
            _("%(target)s: unknown URL scheme; a git URL starts with https, ssh, git or file"),
            target=target,
        )
    path = Path(target).expanduser()
    if not path.exists():
        raise SourceError(_("%(target)s: no such file or folder"), target=target)
    unpacked = archive_stem(path.name)
    if path.is_file() and unpacked is not None:
        source = safe_name(unpacked)
        dest = into / source
        unpack(path, dest)
        return Fetched("archive", source, str(path.resolve()), dest)
    resolved = path.resolve()
    kind = "folder" if resolved.is_dir() else "file"
    return Fetched(kind, resolved.name, str(resolved), resolved)
