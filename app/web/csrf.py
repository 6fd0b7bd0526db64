"""CSRF protection for form posts: a random token kept in the signed session cookie
and echoed by every form as ``csrf_token``. JSON API calls need no token: browsers send
``application/json`` cross-site only after a CORS preflight, which this app never allows."""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request

from app.errors import Forbidden
from app.i18n import mark as N_

FIELD = "csrf_token"


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def verify_csrf(request: Request) -> None:
    """Dependency for form-post routes: refuse a post without the session's token."""
    form = await request.form()
    sent = form.get(FIELD)
    expected = request.session.get("csrf")
    if not isinstance(sent, str) or not isinstance(expected, str):
        raise Forbidden("the form has no valid CSRF token; reload the page and try again")
    if not hmac.compare_digest(sent, expected):
        raise Forbidden("the form's CSRF token does not match; reload the page and try again")


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def same_origin(request: Request) -> None:
    """Dependency for the JSON API: refuse a state-changing request a browser sent from
    another site (its Origin or Sec-Fetch-Site says so). Endpoints without a JSON body
    (undo, cancel) would otherwise be open to a plain cross-site form post, and in the
    embedded mode there is no cookie to withhold. Clients that are not browsers send
    neither header and pass. ``async``: no I/O, so no thread-pool hop per API call."""
    if request.method not in UNSAFE_METHODS:
        return
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise Forbidden(N_("cross-site requests may not change data"))
    origin = request.headers.get("origin")
    if origin is not None:
        host = request.headers.get("host", "")
        if origin == "null" or origin.split("://", 1)[-1] != host:
            raise Forbidden(N_("requests from %(origin)s may not change data here"), origin=origin)
