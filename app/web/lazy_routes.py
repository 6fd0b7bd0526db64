"""Routers loaded on first need. FastAPI analyses every endpoint's signature when its
module is imported (a pydantic adapter per parameter), and the modules bring their
features' stacks with them (claims and the demo catalogue, exports, mock interviews,
the FSRS fit...): most of the app's own import time. The home page needs few of them.

``RouteLoader`` holds the routers not loaded yet; ``LazyRoutes``, in front of the
router, loads them all on the first request that no route loaded so far matches in full
(path and method), which then goes on as if they had always been there; so does the
first build of the OpenAPI schema. The loading has no ``await``: two first requests
cannot both load.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send


class RouteLoader:
    """The routers ``app.web.<name>.router`` of ``modules`` that ``application`` has not
    included yet; ``load()`` includes them, in order."""

    def __init__(
        self, application: FastAPI, modules: Sequence[str], *, first: Sequence[str] = ()
    ) -> None:
        self.application = application
        self.pending = list(modules)
        # Routers whose routes go in front of all others once loaded: routes are matched
        # in order, and the review loop's requests should not walk every page's routes.
        self.first = frozenset(first)
        build: Callable[[], dict[str, Any]] = application.openapi

        def openapi() -> dict[str, Any]:
            self.load()
            return build()

        application.openapi = openapi  # type: ignore[method-assign]

    def load(self) -> None:
        while self.pending:
            name = self.pending[0]
            module = importlib.import_module(f"app.web.{name}")
            routes = self.application.router.routes
            before = len(routes)
            self.application.include_router(module.router)
            if name in self.first:
                routes[:] = routes[before:] + routes[:before]
            self.pending.pop(0)

    def served_now(self, scope: Scope) -> bool:
        return any(
            route.matches(scope)[0] is Match.FULL for route in self.application.router.routes
        )


class LazyRoutes:
    """Middleware: load the pending routers before a request the loaded ones cannot serve."""

    def __init__(self, app: ASGIApp, *, loader: RouteLoader) -> None:
        self.app = app
        self.loader = loader

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        loader = self.loader
        if loader.pending and scope["type"] in ("http", "websocket"):
            if not loader.served_now(scope):
                loader.load()
        await self.app(scope, receive, send)
