"""Demo runs: one row per run, the single source of truth for its status, progress,
result and error. The queue (local worker processes, or Celery) carries only the id."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime


class RunStatus(StrEnum):
    """A run's status: queued -> running -> succeeded | failed | cancelled (and queued ->
    failed | cancelled). The values are what the database stores. Only
    ``app.runs.lifecycle`` writes it."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


RUN_STATUSES = tuple(RunStatus)
IN_FLIGHT = (RunStatus.QUEUED, RunStatus.RUNNING)
FINISHED = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)


def params_hash(params: Mapping[str, Any]) -> str:
    """``DemoRun.params_hash`` (and ``Claim.params_hash``): sha256 of the canonical JSON of
    the parameters. Here, below runs and claims, as both keep it."""
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class DemoRun(Base):
    __tablename__ = "demo_runs"
    __table_args__ = (
        # The cache: the same demo, parameters and code version.
        Index("ix_demo_runs_cache", "demo", "params_hash", "code_version", "status"),
        Index("ix_demo_runs_user_id_created_at", "user_id", "created_at"),
        # The caps count a user's queued and running runs.
        Index("ix_demo_runs_user_id_status", "user_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    demo: Mapped[str] = mapped_column(String(64), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    # sha256 of the canonical JSON of the validated parameters.
    params_hash: Mapped[str] = mapped_column(String(64))
    # The demo's code version (a hash of its module's source).
    code_version: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True, default=RunStatus.QUEUED)
    # What the user asked for: "auto", "cpu" or "gpu"; then what ran it.
    device_requested: Mapped[str] = mapped_column(String(8), default="auto")
    device: Mapped[str | None] = mapped_column(String(16))
    device_name: Mapped[str | None] = mapped_column(String(200))
    torch_version: Mapped[str | None] = mapped_column(String(64))
    worker_host: Mapped[str | None] = mapped_column(String(200))
    # The last progress report: {"step": .., "total": .., "metrics": {...}}.
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Refreshed by the worker while it runs: a run whose heartbeat stops is failed.
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    wall_seconds: Mapped[float | None] = mapped_column(Float)
    # When the run's id was last handed to the queue; None: not yet, or it must be sent
    # again (the queue was down, or a worker found its user at the running cap). Queued
    # runs nobody holds are resent from it (``app.runs.lifecycle.take_resends``).
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class DemoEvent(Base):
    """One progress report of a run, in order (the live page streams them)."""

    __tablename__ = "demo_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("demo_runs.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    step: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
