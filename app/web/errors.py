"""One place that turns errors into responses: JSON for the API, a page for people.

``AppError`` subclasses carry their status and a message naming the offending value;
request validation errors become 422 with each field and its reason.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import AppError, Unauthorized
from app.i18n import gettext as _


def wants_json(request: Request) -> bool:
    if request.url.path.startswith("/api/"):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _page(request: Request, status: int, title: str, message: str) -> Response:
    templates = request.app.state.templates
    return templates.TemplateResponse(  # type: ignore[no-any-return]
        request, "error.html", {"title": title, "message": message}, status_code=status
    )


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "form", "header")]
    return ".".join(parts) or "request"


def install(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def app_error(request: Request, exc: AppError) -> Response:
        if isinstance(exc, Unauthorized) and not wants_json(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
        if wants_json(request):
            body: dict[str, Any] = {"detail": exc.message}
            if exc.field:
                body["field"] = exc.field
            return JSONResponse(body, status_code=exc.status_code)
        return _page(request, exc.status_code, _("Something is not right"), exc.message)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"field": _field(e.get("loc", ())), "reason": e.get("msg", "invalid")}
            for e in exc.errors()
        ]
        if wants_json(request):
            first = errors[0] if errors else {"field": "request", "reason": "invalid"}
            detail = f"{first['field']}: {first['reason']}"
            return JSONResponse({"detail": detail, "errors": errors}, status_code=422)
        message = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
        return _page(request, 422, _("Please check the form"), message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if wants_json(request):
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
            )
        title = _("Page not found") if exc.status_code == 404 else _("Something is not right")
        return _page(request, exc.status_code, title, str(exc.detail))
