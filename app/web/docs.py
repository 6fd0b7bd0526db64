"""The interactive API docs at /docs: FastAPI's Swagger UI page, but loading Swagger UI
from the vendored files in ``static/vendor/`` instead of a CDN, so it works offline.

The app is built with ``FastAPI(docs_url=None, redoc_url=None)`` and includes
``router``; the page reads the OpenAPI URL, title and Swagger UI settings from the app
it is mounted in. ReDoc is not served (it would need another bundle). The page follows
the app's theme (``static/docs.css``: dark when the system is) and links back to the app.

``/favicon.ico`` is served here too (the app's ``static/favicon.svg``), for the clients
that ask for it whatever the page links."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse
from markupsafe import escape

from app.config import REPO_ROOT
from app.i18n import current_language
from app.i18n import gettext as _
from app.web import assets

DOCS_PATH = "/docs"
OAUTH2_REDIRECT_PATH = "/docs/oauth2-redirect"
FAVICON = REPO_ROOT / "static" / "favicon.svg"
FAVICON_URL = f"{assets.STATIC_URL}/favicon.svg"
DOCS_CSS_URL = f"{assets.STATIC_URL}/docs.css"

router = APIRouter(include_in_schema=False)


@router.get(DOCS_PATH, response_class=HTMLResponse)
async def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI for the app's OpenAPI schema (404 when the schema is switched off)."""
    app: FastAPI = request.app
    if not app.openapi_url:
        raise HTTPException(status_code=404, detail="Not Found")
    root_path = str(request.scope.get("root_path", "")).rstrip("/")
    # The online validator badge would fetch from validator.swagger.io: keep it off.
    parameters: dict[str, Any] = {"validatorUrl": None, **(app.swagger_ui_parameters or {})}
    page = get_swagger_ui_html(
        openapi_url=root_path + app.openapi_url,
        title=f"{app.title} - Swagger UI",
        swagger_js_url=root_path + assets.SWAGGER_JS,
        swagger_css_url=root_path + assets.SWAGGER_CSS,
        swagger_favicon_url=root_path + FAVICON_URL,
        oauth2_redirect_url=root_path + OAUTH2_REDIRECT_PATH,
        init_oauth=app.swagger_ui_init_oauth,
        swagger_ui_parameters=parameters,
    )
    return with_nonce(request, with_app_frame(page, root_path=root_path))


@router.get("/favicon.ico")
async def favicon() -> FileResponse:
    """The app's icon (an SVG) for the clients that ask for /favicon.ico."""
    return FileResponse(FAVICON, media_type="image/svg+xml")


def with_app_frame(page: HTMLResponse, *, root_path: str) -> HTMLResponse:
    """Swagger UI's page with the app's theme and a link back to the app."""
    html = bytes(page.body).decode("utf-8")
    css = f'<link rel="stylesheet" href="{root_path}{DOCS_CSS_URL}">'
    # Outside the f-string, where pybabel finds them (it skips calls inside one).
    app_name = escape(_("Interview Lab"))
    what = escape(_("API reference: every route under /api, in JSON"))
    back = f'<nav class="docs-back"><a href="{root_path}/">← {app_name}</a> · {what}</nav>'
    html = html.replace("</head>", css + "</head>", 1).replace("<body>", "<body>" + back, 1)
    # The page's language, as the app's pages say it (screen readers, hyphenation).
    lang = "zh-CN" if current_language() == "zh" else "en"
    html = html.replace("<html>", f'<html lang="{lang}">', 1)
    return HTMLResponse(html, status_code=page.status_code)


@router.get(OAUTH2_REDIRECT_PATH, response_class=HTMLResponse)
async def swagger_ui_oauth2_redirect(request: Request) -> HTMLResponse:
    """The page Swagger UI's OAuth2 flows return to (inline script, nothing external)."""
    return with_nonce(request, get_swagger_ui_oauth2_redirect_html())


def with_nonce(request: Request, page: HTMLResponse) -> HTMLResponse:
    """FastAPI's page with the request's CSP nonce on its scripts (the content security
    policy of ``app.web.security`` runs no inline script without it)."""
    nonce = getattr(request.state, "csp_nonce", None)
    if nonce is None:
        return page
    html = bytes(page.body).decode("utf-8").replace("<script", f'<script nonce="{nonce}"')
    return HTMLResponse(html, status_code=page.status_code)
