"""The app factory. ``create_app(settings)`` builds the FastAPI app; ``app`` is the ASGI
entry point (``uvicorn app.main:app``), which builds itself from the environment on its
first event, so importing this module reads no settings and opens no database."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.types import ASGIApp, Receive, Scope, Send

from app.config import REPO_ROOT, Settings, get_settings
from app.db import make_engine, make_sessionmaker
from app.web import api, pages


def create_app(settings: Settings) -> FastAPI:
    application = FastAPI(title="Interview Lab", version="0.1.0")
    engine = make_engine(settings)
    application.state.settings = settings
    application.state.engine = engine
    application.state.sessionmaker = make_sessionmaker(engine)
    application.state.templates = Jinja2Templates(directory=REPO_ROOT / "templates")
    application.mount("/static", StaticFiles(directory=REPO_ROOT / "static"), name="static")
    application.include_router(pages.router)
    application.include_router(api.router)
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
