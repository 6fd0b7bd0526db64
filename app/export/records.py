"""What the user-data file's modules share (``userdata``, ``userdata_file``,
``userdata_mock``): the record base, the JSON and integer types, how a time is written,
and how a list of records loses those of questions the bank lacks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Container, Sequence
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

INT32 = 2**31 - 1
Json = dict[str, Any]


class Record(BaseModel):
    # A typo'd or foreign key is an error, not silently dropped data.
    model_config = ConfigDict(extra="forbid")


def iso(value: dt.datetime | None) -> str | None:
    """A time as the file writes it: ISO 8601 in UTC (None stays None)."""
    return value.astimezone(dt.UTC).isoformat() if value is not None else None


class _Placed(Protocol):
    @property
    def position(self) -> int: ...
    @property
    def question_id(self) -> str: ...


P = TypeVar("P", bound=_Placed)


def in_bank(records: Sequence[P], bank: Container[str]) -> tuple[list[P], int]:
    """A quiz's items or a mock's attempts in position order, less those of questions
    the bank lacks, and how many were left out (the caller renumbers the rest: positions
    index the pages)."""
    kept = [r for r in sorted(records, key=lambda r: r.position) if r.question_id in bank]
    return kept, len(records) - len(kept)
