"""Per-request interface language (a pure ASGI middleware: no extra task per request)."""

from __future__ import annotations

from http.cookies import SimpleCookie

from starlette.types import ASGIApp, Receive, Scope, Send

from app.i18n import LANGUAGES, negotiate, set_language

LANG_COOKIE = "lang"


class LanguageMiddleware:
    """Chooses the language from the ``lang`` cookie, else ``Accept-Language``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            cookie = SimpleCookie(headers.get("cookie", ""))
            chosen = cookie[LANG_COOKIE].value if LANG_COOKIE in cookie else ""
            language = chosen if chosen in LANGUAGES else negotiate(headers.get("accept-language"))
            set_language(language)
            scope.setdefault("state", {})["language"] = language
        await self.app(scope, receive, send)
