"""The Jinja environment: autoescape on, gettext through the i18n extension, and the
helpers every template uses."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape

from app.config import REPO_ROOT
from app.content.filters import QuestionFilter
from app.i18n import LANGUAGES, current_language, gettext, ngettext
from app.web import assets
from app.web.csrf import csrf_token


def filter_url(path: str, flt: QuestionFilter, **extra: str | int) -> str:
    """``path`` with ``flt`` (and ``extra``) in the query string."""
    params: list[tuple[str, str | int]] = list(flt.chips()) + list(extra.items())
    return f"{path}?{urlencode(params)}" if params else path


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
    )
    env.filters["short_date"] = short_date
    return Jinja2Templates(env=env)
