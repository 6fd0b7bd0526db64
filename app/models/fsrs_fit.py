"""FSRS fitted to a user's reviews: one ``FsrsFit`` row per fit the user asked for.

The work itself is a hidden job run by the demo workers (``app.jobs.fsrs_fit``): the
row points at that ``DemoRun``, whose status, progress and result are the truth about
the fit. The row keeps what only the user's side knows: how many reviews went in (and
the newest one, so the page can say how many came since), the parameters in force when
the fit started, and when the user applied the result. The parameters the scheduler
uses live on the user (``User.fsrs_parameters``), read with the user on every review.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow


class FsrsFit(Base):
    __tablename__ = "fsrs_fits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("demo_runs.id", ondelete="SET NULL"))
    # Review-log rows sent to the job, and the highest ReviewLog.id among them.
    reviews: Mapped[int] = mapped_column(Integer)
    last_review_id: Mapped[int | None] = mapped_column(Integer)
    # The user's parameters when the fit started (None: fsrs's defaults).
    parameters_before: Mapped[list[float] | None] = mapped_column(JSON(none_as_null=True))
    # False: too few reviews to fit; the job only measured the current parameters and
    # simulated the workload.
    fit: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    applied_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
