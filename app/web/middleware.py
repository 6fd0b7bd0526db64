"""Per-request interface language (a pure ASGI middleware: no extra task per request)."""

from __future__ import annotations

from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from app.i18n import LANGUAGES, negotiate, set_language

LANG_COOKIE = "lang"
_LANG_COOKIE_BYTES = LANG_COOKIE.encode() + b"="


class LanguageMiddleware:
    """Chooses the language from the ``lang`` cookie, else ``Accept-Language``. Reads
    only the two headers it needs, and parses cookies only when one is named ``lang``
    (every request passes here)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            chosen, accept = "", None
            for key, value in scope["headers"]:
                if key == b"cookie" and _LANG_COOKIE_BYTES in value:
                    chosen = cookie_parser(value.decode("latin-1")).get(LANG_COOKIE, "")
                elif key == b"accept-language":
                    accept = value.decode("latin-1")
            language = chosen if chosen in LANGUAGES else negotiate(accept)
            set_language(language)
            scope.setdefault("state", {})["language"] = language
        await self.app(scope, receive, send)
