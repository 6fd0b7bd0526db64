"""markdown-it-pyrs's inline nodes as markdown-it-py's inline tokens (``app.content.rs_tokens``
does the blocks)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal, Protocol

from markdown_it.token import Token

__all__ = ["INLINE_NAMES", "Inline", "Nesting", "RsNode", "Unsupported", "new_token"]

Nesting = Literal[-1, 0, 1]


class RsNode(Protocol):
    name: str
    children: Sequence[RsNode]
    srcmap: tuple[int, int] | None
    meta: dict[str, Any]


class Unsupported(Exception):
    """A node this module does not convert: markdown-it-py tokenizes its block."""


# A link (or image) destination kept as it is: markdown-it-py would percent-encode
# anything else, and drops some schemes.
_PLAIN_URL = re.compile(
    r"^(?=(?:[A-Za-z0-9\-._~:/?#@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$)(?:(?:https?|mailto):|[^:]*$)"
)


def new_token(
    type_: str,
    tag: str,
    nesting: Nesting,
    level: int,
    block: bool,
    *,
    content: str = "",
    attrs: dict[str, str | int | float] | None = None,
    map: list[int] | None = None,  # noqa: A002 (Token's own name)
    children: list[Token] | None = None,
    markup: str = "",
    info: str = "",
    hidden: bool = False,
) -> Token:
    """``Token(...)`` without its dataclass ``__init__``/``__post_init__`` (twice as fast;
    a bank makes a million tokens)."""
    new = Token.__new__(Token)
    new.type, new.tag, new.nesting, new.level, new.block = (
        type_,
        tag,
        nesting,
        level,
        block,
    )
    new.attrs = {} if attrs is None else attrs
    new.map, new.children, new.content = map, children, content
    new.markup, new.info, new.meta, new.hidden = markup, info, {}, hidden
    return new


_HOST = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)")


def _url(url: object) -> str:
    """markdown-it-pyrs's destination, when markdown-it-py's is sure to be the same:
    plain ASCII, and no encoded host (markdown-it-py writes a name like 例子.com in
    punycode, markdown-it-pyrs percent-encodes it)."""
    if not isinstance(url, str) or not _PLAIN_URL.match(url):
        raise Unsupported
    host = _HOST.match(url)
    if host is not None and "%" in host.group(1):
        raise Unsupported
    return url


class Inline:
    """Inline nodes -> markdown-it-py's inline tokens (adjacent text joined)."""

    def __init__(self) -> None:
        self.out: list[Token] = []
        self.level = 0

    def push(self, type_: str, tag: str, nesting: Nesting, **kw: Any) -> Token:
        if nesting < 0:
            self.level -= 1
        token = new_token(type_, tag, nesting, self.level, False, **kw)
        if nesting > 0:
            self.level += 1
        self.out.append(token)
        return token

    def text(self, content: str) -> None:
        if not content:
            return
        last = self.out[-1] if self.out else None
        if last is not None and last.type == "text":
            last.content += content
        else:
            self.push("text", "", 0, content=content)

    def nodes(self, nodes: Sequence[RsNode]) -> list[Token]:
        for node in nodes:
            self.node(node)
        return self.out

    def node(self, node: RsNode) -> None:
        name, meta = node.name, node.meta
        if name in ("text", "text_special"):
            self.text(meta["content"])
        elif name in ("softbreak", "hardbreak"):
            self.push(name, "br", 0)
        elif name in ("em", "strong"):
            markup = meta["marker"] * (2 if name == "strong" else 1)
            self.push(f"{name}_open", name, 1, markup=markup)
            self.nodes(node.children)
            self.push(f"{name}_close", name, -1, markup=markup)
        elif name == "code_inline":
            content = "".join(c.meta["content"] for c in node.children)
            self.push("code_inline", "code", 0, content=content, markup="`" * meta["marker_len"])
        elif name == "link":
            attrs: dict[str, str | int | float] = {"href": _url(meta["url"])}
            if meta.get("title") is not None:
                attrs["title"] = meta["title"]
            self.push("link_open", "a", 1, attrs=attrs)
            self.nodes(node.children)
            self.push("link_close", "a", -1)
        elif name == "autolink":
            url = _url(meta["url"])
            if not url.startswith(("http://", "https://")):
                raise Unsupported
            # markdown-it-py shows the URL as written; markdown-it-pyrs's child has it.
            shown = "".join(c.meta.get("content", "") for c in node.children)
            if not shown or "%" in shown:  # markdown-it-py would decode escapes
                raise Unsupported
            self.push("link_open", "a", 1, attrs={"href": url}, markup="autolink", info="auto")
            self.text(shown)
            self.push("link_close", "a", -1, markup="autolink", info="auto")
        elif name == "image":
            attrs = {"src": _url(meta["url"]), "alt": ""}
            if meta.get("title") is not None:
                attrs["title"] = meta["title"]
            children = Inline().nodes(node.children)
            self.push("image", "img", 0, attrs=attrs, children=children)
        elif name == "html_inline":
            self.push("html_inline", "", 0, content=meta["content"])
        else:
            raise Unsupported


INLINE_NAMES = frozenset(
    {
        "text",
        "text_special",
        "softbreak",
        "hardbreak",
        "em",
        "strong",
        "code_inline",
        "link",
        "autolink",
        "image",
        "html_inline",
    }
)
