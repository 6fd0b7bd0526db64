"""Pydantic schemas of the JSON API, named by role (``XPublic``: what the API returns)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ChapterPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    slug: str
    title: str
    description: str | None
    questions: int


class AskedPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    company: str | None
    role: str | None
    stage: str | None
    date: dt.date | None


class QuestionSummaryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    title: str
    chapter_slug: str
    chapter_title: str
    section: str | None
    asked: list[AskedPublic]
    tags: list[str]


class QuestionPublic(QuestionSummaryPublic):
    answer_md: str
    answer_html: str
    takeaway: str | None
    takeaway_html: str | None
    key_terms: list[str]
    reference_links: list[str]
    source_file: str
    source_line: int
    archived: bool


class QuestionPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[QuestionSummaryPublic]


class FacetValue(BaseModel):
    value: str
    count: int


class ClaimPublic(BaseModel):
    id: str
    question_id: str
    quote: str
    # measured, definition, cited, not-measurable-here; "mixed" for halves of kinds.
    kind: str
    # supported, refuted, nuanced, undecided; pending (runs not finished) or error.
    verdict: str
    explanation: str  # in the request's language
    explanations: dict[str, str]  # {"en": ..., "zh": ...}
    summary: dict[str, str] | None
    note: str | None
    figures: dict[str, float]  # each figure's mean over its runs
    spread: list[dict[str, Any]]  # name, values, run_ids, mean, sd, min, max, n
    parts: list[dict[str, Any]]  # halves: label, kind, verdict, explanation, figures
    run_id: int | None
    run_ids: list[int]
    demo: str | None
    params: dict[str, Any]
    demo_url: str | None
    sources: list[str]


class FieldErrorPublic(BaseModel):
    field: str = Field(description="The field at fault, dotted (e.g. params.m)")
    reason: str


class ErrorPublic(BaseModel):
    """The body of every error the API answers."""

    detail: str = Field(description="What is wrong, naming the field and the value")
    field: str | None = Field(default=None, description="The field at fault, when one is")
    errors: list[FieldErrorPublic] | None = Field(
        default=None, description="Each invalid field (request validation errors only)"
    )
