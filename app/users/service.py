"""User services: the local user, sign-up and login (argon2 via pwdlib)."""

from __future__ import annotations

import re
from functools import cache

from pwdlib import PasswordHash
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import Conflict, Unauthorized, Unprocessable
from app.models import LOCAL_USERNAME, User

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,40}$")
MIN_PASSWORD = 8


@cache
def password_hash() -> PasswordHash:
    return PasswordHash.recommended()  # argon2id


def local_user(*, session: Session) -> User:
    """The one built-in user of the embedded default (created on first use)."""
    user = session.scalar(select(User).where(User.username == LOCAL_USERNAME))
    if user is not None:
        return user
    user = User(username=LOCAL_USERNAME, is_local=True)
    session.add(user)
    try:
        session.commit()
    except IntegrityError:  # created by a concurrent request meanwhile
        session.rollback()
        user = session.scalars(select(User).where(User.username == LOCAL_USERNAME)).one()
    return user


def create_account(*, session: Session, username: str, password: str) -> User:
    username = username.strip()
    if not USERNAME.match(username) or username == LOCAL_USERNAME:
        raise Unprocessable(
            f"username {username!r} must be 3-40 letters, digits, '.', '_' or '-'",
            field="username",
        )
    if len(password) < MIN_PASSWORD:
        raise Unprocessable(
            f"the password must have at least {MIN_PASSWORD} characters", field="password"
        )
    taken = session.scalar(
        select(func.count(User.id)).where(func.lower(User.username) == username.lower())
    )
    if taken:
        raise Conflict(f"username {username!r} is taken", field="username")
    user = User(username=username, password_hash=password_hash().hash(password))
    session.add(user)
    session.commit()
    return user


def authenticate(*, session: Session, username: str, password: str) -> User:
    user = session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))
    hasher = password_hash()
    if user is None or user.password_hash is None:
        hasher.hash(password)  # same work either way: no timing hint that the name exists
        raise Unauthorized("wrong username or password", field="password")
    valid, updated = hasher.verify_and_update(password, user.password_hash)
    if not valid:
        raise Unauthorized("wrong username or password", field="password")
    if updated:
        user.password_hash = updated
        session.commit()
    return user
