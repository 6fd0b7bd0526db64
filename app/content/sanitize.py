"""The allow-list every piece of HTML passes before a page prints it (nh3).

Rendered answers pass it last (``app.content.render``), because latex2mathml copies
``\\text{...}`` verbatim, tags included; stored HTML that did not come from the renderer
passes it too. Raw MathML written in markdown is shown as text before that
(``escape_raw_mathml``): formulas come from ``$..$`` only.
"""

from __future__ import annotations

import re

import nh3
from markdown_it.common.utils import escapeHtml

__all__ = ["escape_raw_mathml", "sanitize_html"]

_LANGUAGE_CLASS = re.compile(r"^language-[A-Za-z0-9_+#.-]{1,40}$")
_MATHML_TAGS = {
    "math", "mi", "mo", "mn", "ms", "mtext", "mspace", "msup", "msub", "msubsup", "mfrac",
    "msqrt", "mroot", "mrow", "mover", "munder", "munderover", "mstyle", "mtable", "mtr",
    "mtd", "mpadded", "mphantom", "menclose", "semantics", "annotation",
}  # fmt: skip
_MATHML_ATTRIBUTES = {
    "display", "xmlns", "mathvariant", "stretchy", "fence", "separator", "accent",
    "accentunder", "lspace", "rspace", "linethickness", "columnalign", "rowalign",
    "columnspacing", "rowspacing", "width", "height", "depth", "notation", "displaystyle",
    "scriptlevel", "movablelimits", "form", "minsize", "maxsize", "largeop", "symmetric",
    "encoding",
}  # fmt: skip
_HTML_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote",
    "pre", "code", "em", "strong", "del", "a", "img", "table", "thead", "tbody", "tr", "th",
    "td", "span", "div", "mark", "sup", "sub",
}  # fmt: skip
# Classes our renderer (and the quiz's cloze blank) writes; any other class (say, from
# raw HTML) is dropped.
_CLASSES = {
    "code": {"math-error"},
    "div": {"table-wrap"},
    "span": {"math-label", "blank"},
}
_ALIGN = {"align": {"left", "center", "right"}}
_RAW_MATHML = re.compile(
    r"</?(?:" + "|".join(sorted(_MATHML_TAGS, key=len, reverse=True)) + r")(?![\w-])[^>]*>?",
    re.IGNORECASE,
)


def _keep_attribute(tag: str, name: str, value: str) -> str | None:
    """Class values are checked here: fence languages are open-ended (``language-*``)."""
    if name != "class":
        return value
    if value in _CLASSES.get(tag, set()) or (tag == "code" and _LANGUAGE_CLASS.match(value)):
        return value
    return None


_CLEANER = nh3.Cleaner(
    tags=_HTML_TAGS | _MATHML_TAGS,
    clean_content_tags={"script", "style"},
    attributes={
        "a": {"href", "title"},
        "img": {"src", "alt", "title"},
        "ol": {"start"},
        **{tag: {"class"} for tag in _CLASSES},
        "span": {"class", "aria-label"},
        **dict.fromkeys(_MATHML_TAGS, _MATHML_ATTRIBUTES),
    },
    tag_attribute_values={"th": _ALIGN, "td": _ALIGN},
    attribute_filter=_keep_attribute,
    url_schemes={"http", "https", "mailto"},
    link_rel="noopener noreferrer nofollow",
)


def sanitize_html(html: str) -> str:
    """``html`` through the renderer's allow-list (nh3): what any stored HTML that did not
    come from this module's renderer (say, an imported file's) must pass before a page
    prints it."""
    return _CLEANER.clean(html).strip()


def escape_raw_mathml(html: str) -> str:
    """Raw MathML tags written in the markdown, shown as text: formulas come from ``$..$``
    only, and an unclosed raw ``<math>`` would otherwise pull the rest of the answer in."""
    return _RAW_MATHML.sub(lambda m: escapeHtml(m.group()), html)
