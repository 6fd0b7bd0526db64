"""The policy a new password must meet: long enough, not blank, no control characters,
not the username, not one of the most common passwords (``common-passwords.txt``)."""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

from app.errors import Unprocessable
from app.i18n import gettext as _

MIN_PASSWORD = 10
COMMON_PASSWORDS = Path(__file__).with_name("common-passwords.txt")


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list, case-folded ("Password123" is as weak as "password123")."""
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(s.strip().casefold() for s in lines if s.strip() and s[0] != "#")


def check_password(password: str, *, username_key: str) -> None:
    """Raise ``Unprocessable`` naming the password field and what is wrong with it."""

    def refuse(message: str) -> Unprocessable:
        return Unprocessable(message, field="password")

    if any(unicodedata.category(c) == "Cc" for c in password):
        raise refuse(_("The password cannot contain control characters (NUL, tab, newline)."))
    if not password.strip():
        raise refuse(_("The password cannot be only spaces."))
    if len(password) < MIN_PASSWORD:
        raise refuse(_("The password needs at least {n} characters.").format(n=MIN_PASSWORD))
    folded = password.strip().casefold()
    if folded == username_key:
        raise refuse(_("The password cannot be the username."))
    if folded in common_passwords():
        raise refuse(_("The password is one of the most common passwords: choose another."))
