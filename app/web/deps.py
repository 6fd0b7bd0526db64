"""Typed FastAPI dependencies: settings, a database session, templates, the current
user, and the question filter read from the query string."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.content.filters import FACETS, QuestionFilter
from app.errors import Unauthorized
from app.models import User
from app.users.service import local_user, signed_in_user

# Dependencies that do no I/O are ``async def``: FastAPI runs a plain ``def`` dependency
# in the thread pool, a hop that costs more than the work (see the review bench).


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    with factory() as session:
        yield session


async def get_templates(request: Request) -> Jinja2Templates:
    templates: Jinja2Templates = request.app.state.templates
    return templates


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[Session, Depends(get_session)]
TemplatesDep = Annotated[Jinja2Templates, Depends(get_templates)]


def resolve_user(request: Request, session: Session, settings: Settings) -> User:
    """The local user (accounts off), or the signed-in account (accounts on)."""
    if not settings.accounts:
        user = local_user(session=session)
    else:
        # None too for a cookie issued before its account last signed out.
        found = signed_in_user(session=session, cookie=request.session)
        if found is None:
            raise Unauthorized("sign in to see your progress")
        user = found
    request.state.user = user  # the page header shows "Sign out" for accounts
    return user


def get_current_user(request: Request, session: SessionDep, settings: SettingsDep) -> User:
    """The local user (accounts off), or the signed-in account (accounts on)."""
    return resolve_user(request, session, settings)


@contextmanager
def session_and_user(request: Request) -> Iterator[tuple[Session, User]]:
    """A database session and the current user, for a sync endpoint's body: what
    ``SessionDep`` and ``CurrentUserDep`` give, without their three thread-pool hops
    (entering and leaving the session, the user) on the hot path (the review loop)."""
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    with factory() as session:
        yield session, resolve_user(request, session, request.app.state.settings)


CurrentUserDep = Annotated[User, Depends(get_current_user)]


async def get_filter(
    company: Annotated[list[str] | None, Query(description="Companies (any of)")] = None,
    role: Annotated[list[str] | None, Query(description="Roles (any of)")] = None,
    stage: Annotated[list[str] | None, Query(description="Stages, e.g. 一面 (any of)")] = None,
    tag: Annotated[list[str] | None, Query(description="Topic tags (any of)")] = None,
    chapter: Annotated[list[str] | None, Query(description="Chapter slugs (any of)")] = None,
    q: Annotated[str, Query(max_length=200, description="Substring search")] = "",
) -> QuestionFilter:
    return QuestionFilter.from_params(
        {"company": company, "role": role, "stage": stage, "tag": tag, "chapter": chapter, "q": q}
    )


FilterDep = Annotated[QuestionFilter, Depends(get_filter)]


async def get_form_filter(request: Request) -> QuestionFilter:
    """The filter posted as form fields (hidden fields of the review forms, or the quiz
    form's selects): the same facets and ``q`` as the query string."""
    form = await request.form()
    facets = {k: [str(v) for v in form.getlist(k)] for k in FACETS}
    return QuestionFilter.from_params(facets | {"q": str(form.get("q") or "")})


FormFilterDep = Annotated[QuestionFilter, Depends(get_form_filter)]

# Ids and positions in paths: bounded, so an absurd number is a 422, not a database error.
MAX_ID = 2**62
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
PositionPath = Annotated[int, Path(ge=0, le=10_000)]


def form_int(value: object, *, cap: int) -> int | None:
    """A non-negative whole number from a form field, or None (empty, not ASCII digits,
    or above ``cap``): what a browser posts is not trusted to be a number."""
    text = str(value or "")
    # Length first: int() refuses strings over 4,300 digits (ValueError, a 500 here).
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(cap)):
        return None
    number = int(text)
    return number if number <= cap else None
