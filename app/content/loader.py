"""Find content files and read them safely: every failure is a ``Diagnostic``.

Empty files, binary files and files that are not UTF-8 get a clear error naming the
file and, for bad bytes, the line. Directories are searched for ``*.md`` files
(``README*`` and hidden folders skipped), in a stable order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from app.content.model import Diagnostic, ParsedFile
from app.content.parser import parse_text, slugify
from app.i18n import mark as N_

SNIFF_BYTES = 8192


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[Diagnostic]]:
    """Expand files and folders into the markdown files to import."""
    files: list[Path] = []
    problems: list[Diagnostic] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*.md")
                if p.is_file()
                and not p.name.upper().startswith("README")
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Diagnostic.of(str(path), 1, "error", N_("no such file or folder")))
    unique = list(dict.fromkeys(p.resolve() for p in files))
    return [Path(p) for p in unique], problems


def source_key(path: Path, content_dir: Path, root: Path | None = None) -> str:
    """The path stored in the database, which names the chapter (and so its question ids):
    relative to the content folder when inside it; else the path inside the imported
    folder ``root``, after the folder's name (``bank/1.3 RLs.md``); else, for a file
    imported by itself, its name. Never an absolute path: a bank moved or cloned
    elsewhere keeps its chapters (issue 18)."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(content_dir.resolve()).as_posix()
    except ValueError:
        pass
    if root is not None and root.is_dir():
        base = root.resolve()
        inside = resolved.relative_to(base).as_posix()
        return f"{base.name}/{inside}" if base.name else inside
    return resolved.name


def folder_prefix(root: Path, content_dir: Path) -> str:
    """The keys of the files under the folder ``root`` start with this."""
    resolved = root.resolve()
    try:
        inside = resolved.relative_to(content_dir.resolve()).as_posix()
    except ValueError:
        return f"{resolved.name}/" if resolved.name else ""
    return "" if inside == "." else inside + "/"


def discover_keyed(
    paths: Iterable[Path], content_dir: Path
) -> tuple[dict[Path, str], list[Diagnostic]]:
    """``discover``, with each file's ``source_key`` under the path it was found by."""
    keyed: dict[Path, str] = {}
    problems: list[Diagnostic] = []
    for root in paths:
        files, found = discover([root])
        problems.extend(found)
        for path in files:
            keyed.setdefault(path, source_key(path, content_dir, root))
    return keyed, problems


def display_path(path: Path) -> str:
    """How a file is named in messages: relative to the working folder when possible."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def decode(data: bytes, shown: str) -> str | Diagnostic:
    """UTF-8 text of ``data``, or an error saying why it is not a content file."""
    if not data.strip():
        return Diagnostic.of(shown, 1, "error", N_("empty file: no chapter or questions in it"))
    if b"\x00" in data[:SNIFF_BYTES]:
        return Diagnostic.of(shown, 1, "error", N_("binary file (NUL bytes): not a markdown file"))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = data[exc.start : exc.start + 1].hex()
        return Diagnostic.of(
            shown,
            line,
            "error",
            N_("not UTF-8 (byte 0x%(byte)s at column %(column)d); save the file as UTF-8"),
            byte=byte,
            column=column,
        )


def load_file(path: Path, content_dir: Path, key: str | None = None) -> ParsedFile:
    """Read and parse one file (stored as ``key``, by default its ``source_key``); read
    failures come back as the file's error."""
    shown = display_path(path)
    key = source_key(path, content_dir) if key is None else key
    try:
        data = path.read_bytes()
    except OSError as exc:
        template = N_("cannot read: %(why)s")
        text: str | Diagnostic = Diagnostic.of(shown, 1, "error", template, why=str(exc.strerror))
    else:
        text = decode(data, shown)
    if isinstance(text, Diagnostic):
        failed = ParsedFile(path=shown, source_file=key, slug=slugify(key), title="")
        failed.diagnostics.append(text)
        return failed
    return parse_text(text, path=shown, source_file=key)


def cross_file_problems(files: Sequence[ParsedFile]) -> list[Diagnostic]:
    """Ids and chapter slugs must be unique across the files of one import."""
    problems = []
    seen_ids: dict[str, tuple[str, int]] = {}
    seen_slugs: dict[str, str] = {}
    for f in files:
        if f.slug in seen_slugs and f.title:
            problems.append(
                Diagnostic.of(
                    f.path,
                    1,
                    "error",
                    N_("chapter slug %(slug)r also comes from %(other)s"),
                    slug=f.slug,
                    other=seen_slugs[f.slug],
                )
            )
        seen_slugs.setdefault(f.slug, f.path)
        for q in f.questions:
            if q.id in seen_ids:
                other_path, other_line = seen_ids[q.id]
                problems.append(
                    Diagnostic.of(
                        f.path,
                        q.line,
                        "error",
                        N_("question id %(id)r is already used at %(other)s:%(line)d"),
                        id=q.id,
                        other=other_path,
                        line=other_line,
                    )
                )
            else:
                seen_ids[q.id] = (f.path, q.line)
    return problems
