"""Users and their study settings."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, validates

from app.models.base import Base, UTCDateTime, utcnow
from app.users.names import fold_username

LOCAL_USERNAME = "local"


class User(Base):
    """A person studying. The embedded default has one built-in local user (no login);
    with accounts on, each account is a user with an argon2 password hash.

    ``username_key`` is the folded name (``app.users.names``), unique, set whenever the
    username is. ``session_generation`` is written into each session cookie at sign-in;
    signing out bumps it, so every cookie issued before stops working."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    username_key: Mapped[str] = mapped_column(String(100), unique=True, index=True)
    session_generation: Mapped[int] = mapped_column(Integer, default=0)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_local: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Study settings.
    new_per_day: Mapped[int] = mapped_column(Integer, default=20)
    desired_retention: Mapped[float] = mapped_column(Float, default=0.9)
    # IANA zone that decides where a study day starts and ends.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # A wrong quiz answer counts as an Again for that question's flashcard.
    quiz_feeds_reviews: Mapped[bool] = mapped_column(Boolean, default=True)
    # Lapses after which a card is a leech and leaves the queue.
    leech_threshold: Mapped[int] = mapped_column(Integer, default=8)
    # Interface language ("zh" or "en"); None follows the browser.
    language: Mapped[str | None] = mapped_column(String(8))
    # FSRS parameters fitted to this user's reviews and applied (app.study.fit); None:
    # fsrs's defaults.
    fsrs_parameters: Mapped[list[float] | None] = mapped_column(JSON(none_as_null=True))

    @validates("username")
    def _fold(self, _key: str, username: str) -> str:
        self.username_key = fold_username(username)
        return username
