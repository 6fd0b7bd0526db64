"""User services: the local user, sign-up, sign-in and sign-out (argon2 via pwdlib).

Sign-up and sign-in pass through an ``AuthGuard`` (``app.users.limits``): attempts per
client address and failed attempts per account are limited, and argon2 runs in a bounded
pool. A session cookie carries the user id and the user's session generation; sign-out
bumps the generation, so a cookie copied before it no longer signs anyone in."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import Conflict, Unauthorized, Unprocessable
from app.i18n import gettext as _
from app.models import LOCAL_USERNAME, User
from app.users.limits import AuthGuard
from app.users.names import USERNAME, display_username, fold_username
from app.users.passwords import check_password

# Keys of the signed session cookie.
SESSION_USER = "user_id"
SESSION_GENERATION = "generation"


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


def _taken(name: str) -> Conflict:
    return Conflict(_("The username {name} is taken.").format(name=name), field="username")


def create_account(
    *, session: Session, guard: AuthGuard, address: str, username: str, password: str
) -> User:
    """A new account, or a typed error naming the field (429 when over the limits)."""
    name, key = display_username(username), fold_username(username)
    guard.admit(address=address, account=key)
    if not USERNAME.match(name) or key == LOCAL_USERNAME:
        raise Unprocessable(
            _("The username {name} must have 3-40 letters, digits, '.', '_' or '-'.").format(
                name=repr(name)
            ),
            field="username",
        )
    check_password(password, username_key=key)
    if session.scalar(select(User.id).where(User.username_key == key)) is not None:
        guard.failed(account=key)
        raise _taken(name)
    session.commit()  # give the connection back while waiting for a hashing slot
    user = User(username=name, password_hash=guard.hashing.hash(password))
    session.add(user)
    try:
        session.commit()
    except IntegrityError:  # a concurrent sign-up of the same folded name won
        session.rollback()
        guard.failed(account=key)
        raise _taken(name) from None
    return user


def authenticate(
    *, session: Session, guard: AuthGuard, address: str, username: str, password: str
) -> User:
    """The account ``username`` (any case or width) if ``password`` is right."""
    key = fold_username(username)
    guard.admit(address=address, account=key)
    user = session.scalar(select(User).where(User.username_key == key))
    session.commit()  # give the connection back while hashing (expire_on_commit is off)
    wrong = Unauthorized(_("Wrong username or password."), field="password")
    if user is None or user.password_hash is None or user.is_local:
        guard.hashing.hash(password)  # same work either way: no timing hint that it exists
        guard.failed(account=key)
        raise wrong
    valid, updated = guard.hashing.verify_and_update(password, user.password_hash)
    if not valid:
        guard.failed(account=key)
        raise wrong
    if updated:
        user.password_hash = updated
        session.commit()
    return user


def session_cookie(user: User) -> dict[str, int]:
    """What a fresh session cookie holds for ``user``."""
    return {SESSION_USER: user.id, SESSION_GENERATION: user.session_generation}


def signed_in_user(*, session: Session, cookie: Mapping[str, object]) -> User | None:
    """The account a session cookie names, if it was issued since its last sign-out."""
    user_id, generation = cookie.get(SESSION_USER), cookie.get(SESSION_GENERATION)
    if not isinstance(user_id, int) or not isinstance(generation, int):
        return None
    user = session.get(User, user_id)
    if user is None or user.is_local or user.session_generation != generation:
        return None
    return user


def sign_out(*, session: Session, cookie: Mapping[str, object]) -> None:
    """Revoke every session of the cookie's account (only if the cookie is still valid:
    a revoked cookie cannot sign the account's other browsers out)."""
    user = signed_in_user(session=session, cookie=cookie)
    if user is None:
        return
    session.execute(
        update(User)
        .where(User.id == user.id, User.session_generation == user.session_generation)
        .values(session_generation=User.session_generation + 1)
    )
    session.commit()
