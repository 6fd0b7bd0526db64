"""Sources of the question bank (issue 18): a folder, a file, an archive or a git
repository a user imported, by name, with where it came from and when it was last
imported. The chapters of a source are stored under ``<name>/…`` (a file: its name)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow

SOURCE_KINDS = ("folder", "file", "archive", "git", "upload")


class Source(Base):
    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # SOURCE_KINDS
    # Where it came from: a local path or a git URL (an archive: the uploaded file's name).
    origin: Mapped[str] = mapped_column(Text)
    # Where its files lie now: the folder or file itself, or the copy in the data folder.
    local_path: Mapped[str] = mapped_column(Text)
    # The keys of its chapters: "<name>/" for a folder, the file's name for a file.
    scope: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    imported_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Set by "sources remove": its questions are archived; a re-import brings them back.
    removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The report of its last import (``app.sources.outcome.ImportOutcome``, as JSON).
    last_import: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
