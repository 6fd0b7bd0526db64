"""The Jinja environment: autoescape on, gettext through the i18n extension, and the
helpers every template uses."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import inspect

from app.config import REPO_ROOT
from app.content.filters import QuestionFilter
from app.i18n import LANGUAGES, current_language, gettext, ngettext
from app.web import assets
from app.web.csrf import csrf_token
from app.web.demo_text import demo_text, plain_text, translate, translate_rich
from app.web.related import related_demos


def filter_url(path: str, flt: QuestionFilter, **extra: str | int) -> str:
    """``path`` with ``flt`` (and ``extra``) in the query string."""
    params: list[tuple[str, str | int]] = list(flt.chips()) + list(extra.items())
    return f"{path}?{urlencode(params)}" if params else path


@dataclass(frozen=True)
class PageUser:
    """What a page shows of the current user, as plain values: a page rendered after
    the request's session rolled back or closed (the error page) must not load from a
    detached ORM object."""

    id: int | None
    username: str | None
    is_local: bool


def page_user(user: Any, *, accounts: bool) -> PageUser | None:
    """``user`` (an ORM ``User``, loaded, expired or detached) as a ``PageUser``, from
    what is already loaded: no database access. Whoever passed ``get_current_user`` is
    the local user exactly when accounts are off."""
    if user is None or isinstance(user, PageUser):
        return user
    state = inspect(user)
    loaded = state.dict  # only the attributes loaded now; reading it loads nothing
    identity = state.identity
    return PageUser(
        id=loaded.get("id", identity[0] if identity else None),
        username=loaded.get("username"),
        is_local=bool(loaded.get("is_local", not accounts)),
    )


def short_date(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def make_templates() -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(REPO_ROOT / "templates"),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_callables(gettext=gettext, ngettext=ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        LANGUAGES=LANGUAGES,
        current_language=current_language,
        csrf_token=csrf_token,
        filter_url=filter_url,
        assets=assets,
        related_demos=related_demos,
    )
    env.filters["short_date"] = short_date
    # Demo text (app/demos/text.py): translated, numbers formatted, math rendered.
    env.filters["demo_text"] = demo_text
    env.filters["plain_text"] = plain_text
    env.filters["translate"] = translate
    env.filters["translate_rich"] = translate_rich
    return Jinja2Templates(env=env)
