"""Claims: statements quoted from answers, each tested by a demo run.

A ``Claim`` row is what its claim file says (``content/claims/*.yaml``), imported with
the markdown in one transaction. Its verdict is never stored here: it is computed from
the stored runs of its demo (each seed × setting) at the current code version
(``app.claims.service``), so it changes exactly when the runs' figures do.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime


class Claim(Base):
    __tablename__ = "claims"
    __table_args__ = (Index("ix_claims_demo_params", "demo", "params_hash"),)

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    question_id: Mapped[str] = mapped_column(ForeignKey("questions.id"), index=True)
    quote: Mapped[str] = mapped_column(Text)  # markdown, as in the answer
    # measured, definition, cited, not-measurable-here ("mixed" for halves of kinds)
    kind: Mapped[str] = mapped_column(String(32), default="measured", server_default="measured")
    demo: Mapped[str] = mapped_column(String(64))  # "" for a claim without a demo (cited)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)  # validated, defaults filled in
    params_hash: Mapped[str] = mapped_column(String(64))  # as app.runs.service hashes runs
    supported_rule: Mapped[str | None] = mapped_column(Text)
    refuted_rule: Mapped[str | None] = mapped_column(Text)
    explanation: Mapped[str] = mapped_column(Text)
    sources: Mapped[list[str]] = mapped_column(JSON)
    # The whole check (app.claims.spec.ClaimChecks.to_json): seeds, settings, halves,
    # texts in both languages. None for rows imported before 0011 (read as one run).
    spec: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    source_file: Mapped[str] = mapped_column(String(500))  # e.g. "claims/llm-sft.yaml"
    source_line: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # Set when the claim disappears from its file (kept: quiz items may refer to it).
    archived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
