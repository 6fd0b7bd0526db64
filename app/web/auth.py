"""Sign-up, sign-in and sign-out pages (only when accounts are on)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.errors import AppError, NotFound
from app.i18n import gettext as _
from app.users.service import authenticate, create_account
from app.web.csrf import verify_csrf
from app.web.deps import SessionDep, SettingsDep, TemplatesDep

router = APIRouter(include_in_schema=False)
CsrfDep = Depends(verify_csrf)


def _safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") else "/"


def _require_accounts(settings: SettingsDep) -> None:
    if not settings.accounts:
        raise NotFound("accounts are off: the local user needs no sign-in")


AccountsDep = Depends(_require_accounts)


def _form(
    request: Request,
    templates: TemplatesDep,
    mode: str,
    next_url: str,
    error: str = "",
    username: str = "",
    status: int = 200,
) -> Response:
    title = _("Sign up") if mode == "signup" else _("Sign in")
    context = {"mode": mode, "title": title, "next": next_url, "error": error, "username": username}
    return templates.TemplateResponse(request, "auth.html", context, status_code=status)


@router.get("/login", response_class=HTMLResponse, dependencies=[AccountsDep])
def login_page(request: Request, templates: TemplatesDep, next: str = "/") -> Response:
    return _form(request, templates, "login", _safe_next(next))


@router.get("/signup", response_class=HTMLResponse, dependencies=[AccountsDep])
def signup_page(request: Request, templates: TemplatesDep, next: str = "/") -> Response:
    return _form(request, templates, "signup", _safe_next(next))


@router.post("/login", dependencies=[AccountsDep, CsrfDep])
def login(
    request: Request,
    session: SessionDep,
    templates: TemplatesDep,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form()] = "/",
) -> Response:
    try:
        user = authenticate(session=session, username=username, password=password)
    except AppError as exc:
        return _form(request, templates, "login", _safe_next(next), exc.message, username, 401)
    request.session.clear()  # a fresh session (and CSRF token) on sign-in
    request.session["user_id"] = user.id
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/signup", dependencies=[AccountsDep, CsrfDep])
def signup(
    request: Request,
    session: SessionDep,
    templates: TemplatesDep,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form()] = "/",
) -> Response:
    try:
        user = create_account(session=session, username=username, password=password)
    except AppError as exc:
        status = exc.status_code
        return _form(request, templates, "signup", _safe_next(next), exc.message, username, status)
    request.session.clear()
    request.session["user_id"] = user.id
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", dependencies=[CsrfDep])
def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/", status_code=303)
