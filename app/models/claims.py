"""Claims: statements quoted from answers, each tested by a demo run.

A ``Claim`` row is what its claim file says (``content/claims/*.yaml``), imported with
the markdown in one transaction. Its verdict is never stored here: it is computed from
the stored run of its demo and parameters at the current code version
(``app.claims.service``), so it changes exactly when the run's figures do.
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
    demo: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)  # validated, defaults filled in
    params_hash: Mapped[str] = mapped_column(String(64))  # as app.runs.service hashes runs
    supported_rule: Mapped[str | None] = mapped_column(Text)
    refuted_rule: Mapped[str | None] = mapped_column(Text)
    explanation: Mapped[str] = mapped_column(Text)
    sources: Mapped[list[str]] = mapped_column(JSON)
    source_file: Mapped[str] = mapped_column(String(500))  # e.g. "claims/llm-sft.yaml"
    source_line: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # Set when the claim disappears from its file (kept: quiz items may refer to it).
    archived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
