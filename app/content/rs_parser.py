"""markdown-it-pyrs (Rust), called safely: its syntax tree (all rules, or the block rules
only) and its own HTML, or None where it is not installed or panics. ``app.content``'s
Rust readers (``rs_tokens``, ``outline``, ``fast_tree``, ``fast_html``) call it here."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from app.content.rs_inline import RsNode

__all__ = ["available", "rust_html", "rust_tree"]


@cache
def _rust(blocks_only: bool = False) -> Any:
    try:
        from markdown_it_pyrs import MarkdownIt as RustMarkdownIt
    except ImportError:  # optional: markdown-it-py alone gives the same tokens
        return None
    if blocks_only:  # "commonmark"'s block rules and tables; inline text stays one node
        return (
            RustMarkdownIt("zero")
            .enable_many(
                ["blockquote", "code", "fence", "heading", "hr", "lheading", "list", "paragraph"]
            )
            .enable_many(["reference", "html_block", "table"])
        )
    return RustMarkdownIt("commonmark").enable_many(["table", "html_block", "html_inline"])


def available() -> bool:
    return _rust() is not None


@cache
def _devnull() -> int:
    return os.open(os.devnull, os.O_WRONLY)


@contextmanager
def _quiet_stderr() -> Iterator[None]:
    """File descriptor 2 pointed at /dev/null: Rust's panic hook writes its message (and
    a backtrace, with ``RUST_BACKTRACE``) straight there. Only while this process runs
    one thread (an import's worker processes, the CLI): with others, their own messages
    would be lost too, so the panic's message is let through."""
    if threading.active_count() > 1:
        yield
        return
    saved = os.dup(2)
    os.dup2(_devnull(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def rust_tree(text: str, *, blocks_only: bool = False) -> RsNode | None:
    """The Rust syntax tree, or None without markdown-it-pyrs or when it panics (0.4.0
    does on ``[a\\n```py`\\nb``: a link label over a broken fence; found by
    ``tests/content/test_properties.py``); markdown-it-py then parses the text, and the
    panic's message is kept off stderr (``_quiet_stderr``). ``blocks_only``: no inline
    rules, each block's inline text one ``text`` node with its ``content``."""
    tree: RsNode | None = _rust_call("tree", text, blocks_only)
    return tree


def rust_html(text: str) -> str | None:
    """markdown-it-pyrs's own HTML of ``text``, or None as for ``rust_tree``."""
    html: str | None = _rust_call("render", text)
    return html


def _rust_call(method: str, text: str, blocks_only: bool = False) -> Any:
    rust = _rust(blocks_only)
    if rust is None or "\0" in text or "\r" in text:
        return None
    try:
        with _quiet_stderr():
            return getattr(rust, method)(text)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # pyo3's PanicException derives from BaseException only
        return None
