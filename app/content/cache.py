"""The parse cache: a file whose bytes, path and parser code are unchanged since the
last import is not parsed again. Every ``serve`` start re-imports ``content/``, so this
keeps that cheap for a large bank. One row per source file, replaced when it changes;
the key covers the parser's own source, so a parser change re-parses everything.

A row's payload is ``encode(parsed)``: its JSON, compressed with Zstandard. The parse workers
encode the files they parse (``app.content.importer``), so the process that writes only
stores bytes."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import zstandard
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.content.loader import display_path
from app.content.model import AskedRecord, Diagnostic, ParsedFile, ParsedQuestion
from app.content.rows import insert_rows
from app.models import ParsedFileCache


def parser_files() -> list[Path]:
    """The parser's code: every module of ``app.content`` (more than the parser imports,
    so that no module it comes to import is left out of the key)."""
    return sorted(Path(__file__).parent.glob("*.py"))


PARSER_LIBRARIES = ("markdown-it-py", "markdown-it-pyrs", "mdit-py-plugins", "latex2mathml", "nh3")


@cache
def parser_fingerprint() -> str:
    """sha256 of the parser's modules and its libraries' versions."""
    digest = hashlib.sha256()
    for path in parser_files():
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    for library in PARSER_LIBRARIES:
        try:
            version = metadata.version(library)
        except metadata.PackageNotFoundError:  # markdown-it-pyrs is optional at run time
            version = "absent"
        digest.update(f"{library}=={version}".encode())
    return digest.hexdigest()


def cache_key(path: Path, key: str, data: bytes) -> str:
    digest = hashlib.sha256(parser_fingerprint().encode())
    for part in (key, display_path(path)):
        digest.update(part.encode() + b"\0")
    digest.update(data)
    return digest.hexdigest()


def to_dict(parsed: ParsedFile) -> dict[str, Any]:
    """``dataclasses.asdict(parsed)`` with dates as ISO text, built shallowly: the payload
    is written as JSON at once, and ``asdict``'s deep copies of 10,000 questions cost more
    than a second of the first import."""
    return {
        **vars(parsed),
        "questions": [
            {
                **vars(q),
                "cached_hash": q.content_hash(),
                "cached_search": None,  # as long as the answer: rebuilt when written
                "asked": [
                    {**vars(a), "date": a.date.isoformat() if a.date else None} for a in q.asked
                ],
            }
            for q in parsed.questions
        ],
        "diagnostics": [d.to_json() for d in parsed.diagnostics],
    }


def encode(parsed: ParsedFile) -> bytes:
    """The cache's payload of ``parsed``: ``to_dict``'s JSON, Zstandard level 1 (10 times
    faster than zlib's level 1 and smaller: 0.03 CPU-s for 10,000 questions against
    0.29, which the parse workers pay, and 6 times faster to read back)."""
    return zstandard.compress(json.dumps(to_dict(parsed), ensure_ascii=False).encode(), 1)


def decode(payload: bytes) -> ParsedFile:
    return from_dict(json.loads(zstandard.decompress(payload)))


def from_dict(data: dict[str, Any]) -> ParsedFile:
    questions = []
    for q in data["questions"]:
        asked = [
            AskedRecord(**{**a, "date": dt.date.fromisoformat(a["date"]) if a["date"] else None})
            for a in q["asked"]
        ]
        questions.append(ParsedQuestion(**{**q, "asked": asked}))
    return ParsedFile(
        **{
            **data,
            "questions": questions,
            "diagnostics": [Diagnostic.from_json(d) for d in data["diagnostics"]],
        }
    )


def lookup(
    session: Session, files: Mapping[Path, str], salt: bytes = b""
) -> tuple[dict[Path, ParsedFile], dict[Path, str]]:
    """(files found in the cache -> their parse, every readable file -> its key);
    ``files`` maps each file to its source key. ``salt`` (the aliases, which rewrite the
    parsed tags) is part of every key."""
    keys: dict[Path, str] = {}
    for path, source in files.items():
        try:
            keys[path] = cache_key(path, source, path.read_bytes() + b"\0" + salt)
        except OSError:
            continue  # the loader reports it
    rows: dict[str, bytes] = dict(
        session.connection()
        .execute(
            select(ParsedFileCache.key, ParsedFileCache.payload).where(
                ParsedFileCache.key.in_(list(keys.values()))
            )
        )
        .all()
    )
    hits = {}
    for path, key in keys.items():
        if key in rows and (parsed := _decoded(rows[key])) is not None:
            hits[path] = parsed
    return hits, keys


def _decoded(payload: bytes) -> ParsedFile | None:
    """A cached parse, or None (the file is parsed again) for a row this code cannot
    read back: damaged, or written by another version whose key matched."""
    try:
        return decode(payload)
    except (zstandard.ZstdError, ValueError, TypeError, KeyError):  # JSON's errors: ValueError
        return None


def store(session: Session, payloads: Mapping[str, tuple[str, bytes]]) -> None:
    """Replace the cached parse of each file in ``payloads`` (source file -> its key and
    ``encode``'s payload)."""
    if not payloads:
        return
    session.execute(delete(ParsedFileCache).where(ParsedFileCache.source_file.in_(list(payloads))))
    insert_rows(
        session,
        ParsedFileCache,
        [
            {"source_file": source, "key": key, "payload": payload}
            for source, (key, payload) in payloads.items()
        ],
    )
