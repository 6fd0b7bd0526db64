"""Who may talk to the app, and what a browser may do with its pages.

One pure ASGI middleware, installed by ``create_app`` whatever starts the app (``serve``,
``uvicorn app.main:app``, a test client):

- **Loopback clients only in local mode** (``IL_ACCOUNTS=false``): there is no login, so a
  request from another machine is refused with 403, even when the server listens on
  ``0.0.0.0``. A client whose address is unknown is refused too.
- **Trusted hosts**: the ``Host`` header must name this app, so a DNS-rebinding page (its
  own name resolving to 127.0.0.1) reads nothing. Local mode trusts the loopback names
  (``localhost``, ``127.0.0.1``, ``[::1]``, any port); with accounts, ``IL_TRUSTED_HOSTS``
  (plus the address ``IL_HOST`` names, when it is one address). Others get 400.
- **Headers on every response**: no framing (``X-Frame-Options: DENY`` and CSP
  ``frame-ancestors 'none'``), a content security policy that allows only this origin's
  files plus scripts carrying the request's nonce (``request.state.csp_nonce``, for the
  Swagger UI page), ``nosniff`` and a same-origin referrer.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
import string
from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings
from app.i18n import gettext as _

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]"})
# Addresses that mean "every interface": not a name a browser sends.
WILDCARD_ADDRESSES = frozenset({"", "0.0.0.0", "::", "[::]"})
NAME_CHARS = frozenset(string.ascii_lowercase + string.digits + "-._")


def content_security_policy(nonce: str) -> str:
    """Only this origin's files; inline scripts only with the nonce; no framing at all."""
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


STATIC_HEADERS: tuple[tuple[str, str], ...] = (
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
)


def is_loopback_address(address: str) -> bool:
    """True for 127.0.0.0/8, ::1 and IPv4-mapped loopback (``::ffff:127.0.0.1``)."""
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


def host_name(header: str) -> str | None:
    """The name in a ``Host`` header, lower-cased, without its port (IPv6 in brackets);
    None when it is not a valid ``name[:port]``."""
    value = header.strip().lower()
    if value.startswith("["):
        end = value.find("]") + 1
        name, rest = value[:end], value[end:]
        if not end or not is_ip(name[1:-1]):
            return None
    else:
        name = value.split(":", 1)[0]
        rest = value[len(name) :]
        if not name or any(c not in NAME_CHARS for c in name):
            return None
    if rest and not (rest.startswith(":") and rest[1:].isdigit()):
        return None
    return name


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def normalize_host_entry(entry: str) -> str:
    """One ``IL_TRUSTED_HOSTS`` entry as compared: lower case, IPv6 in brackets.
    ``*`` trusts every name, ``*.example.com`` every subdomain of example.com."""
    value = entry.strip().lower()
    if value == "*":
        return value
    if "/" in value:
        raise ValueError(f"{entry!r} is not a host name: give the name only, e.g. lab.example.com")
    if ":" in value and not value.startswith("[") and is_ip(value):
        value = f"[{value}]"
    name = host_name(value.removeprefix("*."))
    if name is None or name != value.removeprefix("*."):
        raise ValueError(f"{entry!r} is not a host name (no port): e.g. lab.example.com")
    return value


def parse_trusted_hosts(value: str) -> tuple[str, ...]:
    """The comma-separated ``IL_TRUSTED_HOSTS``, each entry checked and normalised."""
    try:
        return tuple(normalize_host_entry(part) for part in value.split(",") if part.strip())
    except ValueError as exc:
        raise ValueError(f"IL_TRUSTED_HOSTS: {exc}") from None


def trusted_hosts(settings: Settings) -> frozenset[str]:
    """The Host names the app answers: loopback names in local mode; with accounts the
    configured list and the one address the server was told to listen on."""
    if not settings.accounts:
        return LOOPBACK_NAMES
    hosts = set(parse_trusted_hosts(settings.trusted_hosts))
    if settings.host.lower() not in WILDCARD_ADDRESSES:
        hosts.add(normalize_host_entry(settings.host))
    return frozenset(hosts)


def host_allowed(name: str, trusted: Iterable[str]) -> bool:
    for entry in trusted:
        if entry == "*" or entry == name:
            return True
        if entry.startswith("*.") and name.endswith(entry[1:]):
            return True
    return False


class SecurityMiddleware:
    """Refuses other machines (local mode) and untrusted Host names; adds the headers."""

    def __init__(self, app: ASGIApp, *, local: bool, trusted: frozenset[str]) -> None:
        self.app = app
        self.local = local
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        refusal = self.refusal(scope)
        if refusal is not None:
            status, message = refusal
            await self.refuse(scope, receive, send, status, message)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in STATIC_HEADERS:
                    headers.setdefault(name, value)
                headers.setdefault("Content-Security-Policy", content_security_policy(nonce))
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def refusal(self, scope: Scope) -> tuple[int, str] | None:
        """(status, message) when the request may not go on, else None."""
        if self.local:
            client = scope.get("client")
            address = str(client[0]) if client else ""
            if not is_loopback_address(address):
                return 403, _(
                    "Accounts are off, so this app answers only this computer (127.0.0.1), "
                    "and %(address)s is another machine. To serve a network, turn accounts "
                    "on with IL_ACCOUNTS=true."
                ) % {"address": address or _("an unknown address")}
        host = ""
        for key, value in scope["headers"]:
            if key == b"host":
                host = value.decode("latin-1")
                break
        name = host_name(host)
        if name is None or not host_allowed(name, self.trusted):
            if self.local:
                return 400, _(
                    "The host name %(host)s is not this app's: open it as localhost or "
                    "127.0.0.1. (Another site's name pointing here is refused, so its pages "
                    "cannot read your data.)"
                ) % {"host": repr(host)}
            return 400, _(
                "The host name %(host)s is not trusted: add it to IL_TRUSTED_HOSTS "
                "(a comma-separated list of names) if this server should answer it."
            ) % {"host": repr(host)}
        return None

    async def refuse(
        self, scope: Scope, receive: Receive, send: Send, status: int, message: str
    ) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": message[:120]})
            return
        path = str(scope.get("path", ""))
        if path.startswith("/api/") or path == "/openapi.json":
            body = json.dumps({"detail": message, "field": "host" if status == 400 else "client"})
            content_type = b"application/json"
        else:
            body = message
            content_type = b"text/plain; charset=utf-8"
        payload = body.encode("utf-8")
        headers = [
            (b"content-type", content_type),
            (b"content-length", str(len(payload)).encode()),
            *((k.lower().encode(), v.encode()) for k, v in STATIC_HEADERS),
            (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})
