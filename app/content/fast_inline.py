"""Inline runs of markdown-it-pyrs's tree checked for ``app.content.fast_tree``: nothing
the writer's HTML would show differently from markdown-it-py's, and each formula in text."""

from __future__ import annotations

from typing import Any

from app.content.fast_html import Fail
from app.content.math_spans import Span
from app.content.render import _MARK_CLOSE, _MARK_OPEN
from app.content.rs_inline import RsNode, _url

__all__ = ["Check", "events", "unindented"]

_BREAKS = ("softbreak", "hardbreak")
_TEXTUAL = frozenset({"text", "text_special", "softbreak", "hardbreak"})


def unindented(raw: str, indent: int) -> tuple[str, list[int]]:
    """A list item's run as markdown-it-py's paragraph holds it: each line after the first
    without up to ``indent`` columns of spaces; and where each character was in ``raw``."""
    lines = raw.split("\n")
    kept = [lines[0]]
    where = list(range(len(lines[0]) + 1))
    at = len(lines[0]) + 1
    for line in lines[1:]:
        spaces = len(line) - len(line.lstrip(" \t"))
        if "\t" in line[:spaces]:
            raise Fail
        cut = min(spaces, indent)
        kept.append(line[cut:])
        where.extend(range(at + cut, at + len(line) + 1))
        at += len(line) + 1
    return "\n".join(kept), where


def events(nodes: Any, out: list[tuple[str, RsNode]]) -> None:
    for node in nodes:
        name = node.name
        if name in ("em", "strong", "link"):
            out.append((name + "_open", node))
            events(node.children, out)
            out.append((name + "_close", node))
        else:
            out.append((name, node))


def _clean_end(data: bytes, node: RsNode) -> int:
    """A text node's end: its content where its srcmap starts (markdown-it-pyrs's end is
    off after a line break)."""
    assert node.srcmap is not None
    raw = node.meta["content"].encode()
    if not data.startswith(raw, node.srcmap[0]):
        raise Fail
    return node.srcmap[0] + len(raw)


class Check:
    """One inline run's nodes checked: what the HTML may not show (raw HTML, autolinks
    markdown-it-py would write differently, a code span of spaces) is refused, and each
    formula must lie in text of the Rust tree."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def plain(self, nodes: Any) -> None:
        """The nodes of a run without formulas."""
        for node in nodes:
            name = node.name
            if name in ("em", "strong", "link"):
                self.node(name, node)
                self.plain(node.children)
            elif name != "text" and name != "text_special":
                self.node(name, node)

    def spans(self, events: list[tuple[str, RsNode]], spans: list[tuple[int, int, Span]]) -> None:
        """Each formula starts and ends in a text node, only text and breaks between."""
        data, k, i, cur = self.data, 0, 0, -1
        while i < len(events):
            kind, node = events[i]
            assert node.srcmap is not None
            start = node.srcmap[0] if cur < 0 else cur
            if kind not in ("text", "text_special"):
                # (the srcmaps of emphasis and links are off: only leaves are checked)
                if (
                    k < len(spans)
                    and spans[k][0] < start
                    and not kind.endswith(("_open", "_close"))
                ):
                    raise Fail  # a formula where markdown-it-pyrs saw no text
                self.node(kind.removesuffix("_open"), node)
                i += 1
                continue
            if k < len(spans) and spans[k][0] < start:
                raise Fail
            end = node.srcmap[1]  # (past the content where markdown-it-pyrs is off)
            if k < len(spans) and spans[k][0] < end and kind == "text":
                end = _clean_end(data, node)
            if k == len(spans) or spans[k][0] >= end:
                i, cur = i + 1, -1
                continue
            hi = spans[k][1]
            if kind != "text":
                raise Fail
            k += 1
            j = i
            while True:  # the node holding the closing dollar; only text in between
                kind_j, node_j = events[j]
                if kind_j not in _TEXTUAL:
                    raise Fail
                assert node_j.srcmap is not None
                end_j = _clean_end(data, node_j) if kind_j == "text" else node_j.srcmap[1]
                if end_j >= hi:
                    break
                j += 1
                if j == len(events):
                    raise Fail
            if kind_j != "text" or node_j.srcmap[0] >= hi:
                raise Fail
            i, cur = j, hi
        if k != len(spans):
            raise Fail

    def node(self, kind: str, node: RsNode) -> None:
        if kind in ("em", "strong", "em_close", "strong_close", "link_close", *_BREAKS):
            return
        meta = node.meta
        if kind == "link" or kind == "image":
            _url(meta["url"])
        elif kind == "code_inline":
            if not "".join(c.meta["content"] for c in node.children).strip(" "):
                raise Fail  # markdown-it-pyrs strips a span of spaces only
        elif kind == "html_inline":
            content = meta["content"]
            if not (_MARK_OPEN.match(content) or _MARK_CLOSE.match(content)):
                raise Fail  # raw HTML: its text and tags would read as the writer's own
        elif kind == "autolink":
            url = _url(meta["url"])
            shown = "".join(c.meta.get("content", "") for c in node.children)
            if not url.startswith(("http://", "https://")) or not shown or "%" in shown:
                raise Fail
        else:
            raise Fail
