"""One place that turns errors into responses: JSON for the API, a page for people.

``AppError`` subclasses carry their status and a message naming the offending value;
request validation errors become 422 with each field and its reason. Every JSON error
has one shape, ``ErrorPublic`` (``detail``, ``field``, ``errors``), and the OpenAPI
schema says so for every operation. ``install`` also answers HEAD on GET routes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import AppError, Unauthorized
from app.i18n import gettext as _
from app.validation import at, reason
from app.web.head import HeadAsGet
from app.web.schemas import ErrorPublic, FieldErrorPublic
from app.web.templating import page_user
from app.web.validation_text import field_label

ERROR_REF = "#/components/schemas/ErrorPublic"


def wants_json(request: Request) -> bool:
    if request.url.path.startswith("/api/"):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _page(
    request: Request,
    status: int,
    title: str,
    message: str,
    *,
    link: tuple[str, str] | None = None,
) -> Response:
    # The route's session may have rolled back (and closed) before it raised: the page
    # header shows the user from what was loaded, never by loading a detached row.
    accounts = bool(request.app.state.settings.accounts)
    request.state.user = page_user(getattr(request.state, "user", None), accounts=accounts)
    templates = request.app.state.templates
    return templates.TemplateResponse(  # type: ignore[no-any-return]
        request,
        "error.html",
        {"title": title, "message": message, "link": link},
        status_code=status,
    )


def _json(status: int, error: ErrorPublic, headers: Mapping[str, str] | None = None) -> Response:
    body = error.model_dump(exclude_none=True)
    return JSONResponse(body, status_code=status, headers=headers)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "form", "header")]
    return ".".join(parts) or "request"


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Declare ``ErrorPublic`` as the body of every error answer in ``schema`` (in place):
    each declared 4xx, plus a ``4XX`` range on every operation; and give each operation
    a summary that says what it does (``summary_of``)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    error_schema = ErrorPublic.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(error_schema.pop("$defs", {}))
    components["ErrorPublic"] = error_schema
    components.pop("HTTPValidationError", None)  # FastAPI's default: not what is sent
    components.pop("ValidationError", None)
    content = {"application/json": {"schema": {"$ref": ERROR_REF}}}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            operation["summary"] = summary_of(operation)
            responses = operation.setdefault("responses", {})
            for code, response in responses.items():
                if code.startswith("4"):
                    response["content"] = content
            responses.setdefault(
                "4XX",
                {
                    "description": "Bad input, not signed in, not allowed or not found: "
                    "`detail` names the field and the reason",
                    "content": content,
                },
            )
    return schema


SUMMARY_MAX = 80


def summary_of(operation: Mapping[str, Any]) -> str:
    """A short summary for an operation: the first sentence of its description (the
    route's docstring), else its generated summary without FastAPI's "Api" suffix of a
    function name (``overview_api`` would read "Overview Api")."""
    description = " ".join(str(operation.get("description") or "").split())
    if not description:
        return re.sub(r" Api$", "", str(operation.get("summary") or "")).strip()
    first = re.split(r"(?<=[.:;])\s|\s\(", description, maxsplit=1)[0].rstrip(".:;")
    first = first.replace("``", "")
    if len(first) > SUMMARY_MAX:
        first = first[: SUMMARY_MAX - 1].rsplit(" ", 1)[0] + "…"
    return first


def _openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if not app.openapi_schema:
            app.openapi_schema = document_errors(build())
        return app.openapi_schema

    return openapi


def install(app: FastAPI) -> None:
    app.openapi = _openapi(app)  # type: ignore[method-assign]
    app.add_middleware(HeadAsGet)

    @app.exception_handler(AppError)
    async def app_error(request: Request, exc: AppError) -> Response:
        if isinstance(exc, Unauthorized) and not wants_json(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
        if wants_json(request):
            return _json(exc.status_code, ErrorPublic(detail=exc.message, field=exc.field))
        title = _("Page not found") if exc.status_code == 404 else _("Something is not right")
        return _page(request, exc.status_code, title, exc.text)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            FieldErrorPublic(field=_field(e.get("loc", ())), reason=str(e.get("msg", "invalid")))
            for e in exc.errors()
        ] or [FieldErrorPublic(field="request", reason="invalid")]
        if wants_json(request):
            first = errors[0]
            detail = f"{first.field}: {first.reason}"
            return _json(422, ErrorPublic(detail=detail, field=first.field, errors=errors))
        places = {(e.get("loc") or ("",))[0] for e in exc.errors()}
        if "path" in places and places <= {"path", "query"}:
            # a page's own address is wrong (/runs/abc): no such page, no form to check
            return _page(request, 404, _("Page not found"), _no_page())
        if places == {"query"}:
            # a link's value the page cannot use (/runs/1?cached=abc): not a form
            return _bad_address(request, exc.errors())
        invalid = _("invalid")  # outside an f-string, where pybabel finds it
        reasons = [at(field_label(_field(e.get("loc", ()))), e) for e in exc.errors()] or [
            f"request: {invalid}"
        ]
        return _page(request, 422, _("Please check the form"), "; ".join(reasons))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if wants_json(request):
            return _json(exc.status_code, ErrorPublic(detail=str(exc.detail)), exc.headers)
        title = _("Page not found") if exc.status_code == 404 else _("Something is not right")
        return _page(request, exc.status_code, title, _http_message(exc))


VALUE_SHOWN = 40  # characters of a bad query value a page repeats


def _bad_address(request: Request, errors: Sequence[Mapping[str, Any]]) -> Response:
    """400: the address's query string has values this page cannot use. The page names
    each as it appears in the address (``page=0``, with its label where it has one) and
    why, in the reader's language, and links to the page without them."""
    names: dict[str, str] = {}
    for error in errors:
        loc: Sequence[Any] = error.get("loc") or ("query",)
        name = str(loc[1]) if len(loc) > 1 else "query"
        value = error.get("input")
        shown = name
        if isinstance(value, str):
            cut = value if len(value) <= VALUE_SHOWN else value[: VALUE_SHOWN - 1] + "…"
            shown = f"{name}={cut}"
        if (label := field_label(name)) != name:
            shown = _("%(param)s (%(label)s)") % {"param": shown, "label": label}
        names.setdefault(
            name,
            _("In this address, %(param)s cannot be used: %(reason)s.")
            % {"param": shown, "reason": reason(error)},
        )
    problems = {"problems": " ".join(names.values())}
    missing = any(e.get("type") == "missing" for e in errors)
    if request.method not in ("GET", "HEAD") or missing:  # leaving it out would not help
        message = _("%(problems)s Check the link.") % problems
        return _page(request, 400, _("This link is not right"), message)
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in names]
    path = quote(request.url.path)
    path = "/" if path.startswith("//") else path  # never a link to another host
    link = (path + (f"?{urlencode(kept)}" if kept else ""), _("Open the page without it"))
    message = _("%(problems)s Check the link, or open the page without it.") % problems
    return _page(request, 400, _("This link is not right"), message, link=link)


def _no_page() -> str:
    return _("There is no page at this address: check the link, or start again from the menu.")


def _http_message(exc: StarletteHTTPException) -> str:
    """The page's message: the exception's own detail, or, where it is only Starlette's
    English name of the status ("Not Found", "Method Not Allowed"), one in the reader's
    language."""
    if str(exc.detail) != HTTPStatus(exc.status_code).phrase:
        return str(exc.detail)
    if exc.status_code == 404:
        return _no_page()
    return _("This address cannot answer that request (HTTP %(status)s).") % {
        "status": exc.status_code
    }
