"""HEAD answered as GET, without the body (RFC 9110 §9.3.2).

FastAPI's routes, unlike Starlette's, don't answer HEAD for GET, so a link checker or a
monitoring probe got 405 from every page. This ASGI middleware runs a HEAD request as
a GET and sends only its status and headers; a streaming answer (server-sent events)
is told the client left as soon as its headers are out, so it stops."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        started = False

        async def receive_until_answered() -> Message:
            if started:
                return {"type": "http.disconnect"}
            return await receive()

        async def send_headers_only(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start" and not started:
                started = True
                await send(message)
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        await self.app({**scope, "method": "GET"}, receive_until_answered, send_headers_only)
