"""The app factory. ``create_app(settings)`` builds the FastAPI app; ``app`` is the ASGI
entry point (``uvicorn app.main:app``), which builds itself from the environment on its
first event, so importing this module reads no settings and opens no database."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from app.config import REPO_ROOT, Settings, get_settings, session_secret
from app.db import make_engine, make_sessionmaker
from app.web import api, auth, docs, errors, pages, quiz_api, quiz_pages, study_api, study_pages
from app.web.middleware import LanguageMiddleware
from app.web.templating import make_templates


def create_app(settings: Settings) -> FastAPI:
    application = FastAPI(
        title="Interview Lab",
        version="0.1.0",
        summary="Study LLM-engineering interview questions: the question bank and review.",
        docs_url=None,  # served from vendored files by app.web.docs (no CDN)
        redoc_url=None,
    )
    engine = make_engine(settings)
    application.state.settings = settings
    application.state.engine = engine
    application.state.sessionmaker = make_sessionmaker(engine)
    application.state.templates = make_templates()

    application.add_middleware(LanguageMiddleware)
    application.add_middleware(
        SessionMiddleware,
        secret_key=session_secret(settings),
        session_cookie="il_session",
        same_site="lax",
        https_only=settings.cookie_secure,
        max_age=30 * 24 * 3600,
    )
    errors.install(application)
    application.mount("/static", StaticFiles(directory=REPO_ROOT / "static"), name="static")
    for module in (pages, study_pages, quiz_pages, auth, api, study_api, quiz_api, docs):
        application.include_router(module.router)
    return application


class _LazyApp:
    """Builds the real app from the environment on the first ASGI event."""

    def __init__(self) -> None:
        self._app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._app is None:
            self._app = create_app(get_settings())
        await self._app(scope, receive, send)


app = _LazyApp()
