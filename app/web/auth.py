"""Sign-up, sign-in and sign-out pages (only when accounts are on)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.errors import AppError, NotFound
from app.i18n import gettext as _
from app.models import User
from app.users.limits import AuthGuard, HashingBusy, RateLimited
from app.users.passwords import MIN_PASSWORD
from app.users.service import authenticate, create_account, session_cookie, sign_out
from app.web.csrf import verify_csrf
from app.web.deps import SessionDep, SettingsDep, TemplatesDep

router = APIRouter(include_in_schema=False)
CsrfDep = Depends(verify_csrf)
_guard_lock = threading.Lock()


def get_guard(request: Request, settings: SettingsDep) -> AuthGuard:
    """This app's sign-in brakes, made on first use (they live as long as the app)."""
    with _guard_lock:
        guard: AuthGuard | None = getattr(request.app.state, "auth_guard", None)
        if guard is None:
            guard = request.app.state.auth_guard = AuthGuard.from_settings(settings)
    return guard


GuardDep = Annotated[AuthGuard, Depends(get_guard)]


def client_address(request: Request) -> str:
    """The client's address as the server sees it (behind a proxy, run uvicorn with
    ``--proxy-headers --forwarded-allow-ips`` so this is the real client)."""
    return request.client.host if request.client else "unknown"


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
    headers: dict[str, str] | None = None,
) -> Response:
    title = _("Sign up") if mode == "signup" else _("Sign in")
    context = {
        "mode": mode,
        "title": title,
        "next": next_url,
        "error": error,
        "username": username,
        "min_password": MIN_PASSWORD,
    }
    return templates.TemplateResponse(
        request, "auth.html", context, status_code=status, headers=headers
    )


@router.get("/login", response_class=HTMLResponse, dependencies=[AccountsDep])
def login_page(request: Request, templates: TemplatesDep, next: str = "/") -> Response:
    return _form(request, templates, "login", _safe_next(next))


@router.get("/signup", response_class=HTMLResponse, dependencies=[AccountsDep])
def signup_page(request: Request, templates: TemplatesDep, next: str = "/") -> Response:
    return _form(request, templates, "signup", _safe_next(next))


UsernameForm = Annotated[str, Form(max_length=100)]
PasswordForm = Annotated[str, Form(max_length=1000)]
NextForm = Annotated[str, Form()]


def _submit(
    request: Request,
    templates: TemplatesDep,
    mode: str,
    next_url: str,
    username: str,
    find_user: Callable[[], User],
) -> Response:
    """Sign in the user ``find_user`` returns, or show the form again with its error."""
    try:
        user = find_user()
    except AppError as exc:
        retry = exc.retry_after if isinstance(exc, RateLimited | HashingBusy) else None
        headers = {"Retry-After": str(retry)} if retry else None
        return _form(
            request,
            templates,
            mode,
            _safe_next(next_url),
            exc.text,
            username,
            exc.status_code,
            headers,
        )
    request.session.clear()  # a fresh session (and CSRF token) on sign-in
    request.session.update(session_cookie(user))
    return RedirectResponse(_safe_next(next_url), status_code=303)


@router.post("/login", dependencies=[AccountsDep, CsrfDep])
def login(
    request: Request,
    session: SessionDep,
    guard: GuardDep,
    templates: TemplatesDep,
    username: UsernameForm,
    password: PasswordForm,
    next: NextForm = "/",
) -> Response:
    return _submit(
        request,
        templates,
        "login",
        next,
        username,
        lambda: authenticate(
            session=session,
            guard=guard,
            address=client_address(request),
            username=username,
            password=password,
        ),
    )


@router.post("/signup", dependencies=[AccountsDep, CsrfDep])
def signup(
    request: Request,
    session: SessionDep,
    guard: GuardDep,
    templates: TemplatesDep,
    username: UsernameForm,
    password: PasswordForm,
    next: NextForm = "/",
) -> Response:
    return _submit(
        request,
        templates,
        "signup",
        next,
        username,
        lambda: create_account(
            session=session,
            guard=guard,
            address=client_address(request),
            username=username,
            password=password,
        ),
    )


@router.post("/logout", dependencies=[CsrfDep])
def logout(request: Request, session: SessionDep) -> Response:
    sign_out(session=session, cookie=request.session)  # every cookie issued before is void
    request.session.clear()
    return RedirectResponse("/", status_code=303)
