"""The Jinja environment: autoescape on, gettext through the i18n extension, and the
helpers every template uses.

Compiled templates are kept in ``templates/__pycache__`` (Jinja's bytecode cache, keyed
by each template's source, as Python keeps bytecode; git ignores it): a start then loads
the first page's templates instead of compiling them (17 ms). The helpers for demo and
claims text import the markdown, math and claims stacks (60 ms of a start) when a
template first calls them, not with this module: the home page uses none of them."""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemBytecodeCache, FileSystemLoader, select_autoescape
from jinja2.bccache import Bucket
from sqlalchemy import inspect

from app.config import REPO_ROOT
from app.content.filters import QuestionFilter
from app.i18n import LANGUAGES, current_language, gettext, ngettext
from app.web import assets
from app.web.csrf import csrf_token

TEMPLATES_DIR = REPO_ROOT / "templates"


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


def on_first_call(module: str, name: str) -> Callable[..., Any]:
    """``module.name``, imported when it is first called."""

    def call(*args: Any, **kwargs: Any) -> Any:
        function: Callable[..., Any] = getattr(importlib.import_module(module), name)
        return function(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    return call


class TemplateCache(FileSystemBytecodeCache):
    """Jinja's bytecode cache in a folder it makes, where a failure to read or write
    (a read-only install) only means compiling the template."""

    def __init__(self, directory: Path) -> None:
        super().__init__(str(directory))
        self.path = directory

    def load_bytecode(self, bucket: Bucket) -> None:
        with contextlib.suppress(OSError):  # e.g. a file where the folder should be
            super().load_bytecode(bucket)

    def dump_bytecode(self, bucket: Bucket) -> None:
        with contextlib.suppress(OSError):
            self.path.mkdir(exist_ok=True)
            super().dump_bytecode(bucket)


def colon() -> str:
    """The colon after a label: full-width in Chinese (``到期：6``), ``: `` in English."""
    return "：" if current_language() == "zh" else ": "


def make_templates(directory: Path = TEMPLATES_DIR) -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(directory),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        bytecode_cache=TemplateCache(directory / "__pycache__"),
    )
    env.install_gettext_callables(gettext=gettext, ngettext=ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        LANGUAGES=LANGUAGES,
        current_language=current_language,
        colon=colon,
        csrf_token=csrf_token,
        filter_url=filter_url,
        assets=assets,
        related_demos=on_first_call("app.web.related", "related_demos"),
    )
    env.filters["short_date"] = short_date
    # Demo text (app/demos/text.py): translated, numbers formatted, math rendered.
    for name in ("demo_text", "plain_text", "translate", "translate_rich"):
        env.filters[name] = on_first_call("app.web.demo_text", name)
    return Jinja2Templates(env=env)
