"""Demo text for the page: a ``Text`` translated into the reader's language, its
arguments filled in (numbers formatted for people), then its inline markdown and math
rendered to sanitised HTML + MathML. A plain ``str`` (a result stored before texts were
translatable) is shown as written, escaped.

Numbers never show ``e+06``: counts are compact (3.41 M in English, 341 万 in Chinese,
where 万 and 亿 are how people read large counts), sizes carry their unit (6.8 MB,
13.5 GB), percentages keep three significant digits (0.047 %), and a number too small
for that is written ``1.3×10⁻⁵``.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping
from typing import Any

from markupsafe import Markup, escape

from app.content.render import render_inline
from app.demos.text import Quantity, Text, Unit
from app.i18n import current_language, gettext

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_TAG = re.compile(r"<annotation[^>]*>.*?</annotation>|<[^>]+>", re.DOTALL)
_SPACES = re.compile(r"\s+")


def sig(value: float, digits: int = 3) -> str:
    """``value`` to ``digits`` significant digits, without exponent notation and without
    trailing zeros: 3.40787 -> 3.41, 1200.4 -> 1,200, 1.3e-5 -> 1.3×10⁻⁵."""
    if math.isnan(value):
        return "–"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    if magnitude < -3 or magnitude >= 15:
        mantissa = value / 10**magnitude
        text = f"{mantissa:.{max(digits - 1, 0)}f}".rstrip("0").rstrip(".")
        if text in ("10", "-10"):  # 9.999 rounded up
            text, magnitude = text[:-1], magnitude + 1
        return f"{text}×10{str(magnitude).translate(_SUPERSCRIPT)}"
    decimals = max(digits - 1 - magnitude, 0)
    rounded = round(value, decimals)
    text = f"{rounded:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


_EN_STEPS = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))
_ZH_STEPS = ((1e12, "万亿"), (1e8, "亿"), (1e4, "万"))


def compact(value: float, language: str) -> str:
    """A count for people: 3.41 M / 341 万; below a thousand (ten thousand in Chinese)
    the number itself, with digits grouped."""
    steps = _ZH_STEPS if language == "zh" else _EN_STEPS
    for size, suffix in steps:
        if abs(value) >= size:
            return f"{sig(value / size)} {suffix}"
    if float(value).is_integer():
        return f"{int(value):,}"
    return sig(value)


_BYTE_STEPS = ((1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "KB"))


def _size(value: float) -> str:
    for size, suffix in _BYTE_STEPS:
        if abs(value) >= size:
            return f"{sig(value / size)} {suffix}"
    return f"{sig(value)} B"


def _duration(seconds: float) -> str:
    size = abs(seconds)
    if size >= 1 or size == 0:
        return f"{sig(seconds)} s"
    if size >= 1e-3:
        return f"{sig(seconds * 1e3)} ms"
    return f"{sig(seconds * 1e6)} µs"


def format_quantity(value: float, unit: Unit | None, language: str | None = None) -> str:
    """``value`` in ``unit`` formatted for a reader of ``language`` (default: the
    request's language)."""
    language = language or current_language()
    if unit in ("count", "params", "flops"):
        return compact(value, language)
    if unit == "bytes":
        return _size(value)
    if unit in ("gb", "gib", "mb"):
        return f"{sig(value)} {'GiB' if unit == 'gib' else unit.upper()}"
    if unit == "pct":
        return f"{sig(value)} %"
    if unit == "ratio":
        return f"{sig(value * 100)} %"
    if unit == "x":
        return f"{sig(value)}×"
    if unit == "s":
        return _duration(value)
    if unit == "ms":
        return _duration(value / 1e3)
    if unit == "us":
        return _duration(value / 1e6)
    if unit == "loss":
        return sig(value, 4)
    if unit == "bits":
        bits = gettext("bits")  # outside the f-string, where pybabel finds it
        return f"{sig(value)} {bits}"
    return sig(value)


def format_number(value: float | int) -> str:
    """A bare number (a figure without a unit, a plain argument)."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int) or float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return sig(float(value), 4)


def _fill(text: Text, language: str) -> str:
    """The message in the reader's language with its arguments filled in (markdown)."""
    args: dict[str, str] = {name: _arg(value, language) for name, value in text.args.items()}
    translated = gettext(text.msg)
    if not args:
        return translated
    for message in (translated, text.msg):
        try:
            return message % args
        except (KeyError, ValueError, TypeError):
            continue  # a bad translation falls back to English; bad English to the raw msgid
    return text.msg


def _arg(value: Any, language: str) -> str:
    if isinstance(value, Text):
        return _fill(value, language)
    if isinstance(value, Quantity):
        return format_quantity(value.value, value.unit, language)
    if isinstance(value, int | float):
        return format_number(value)
    return str(value)


def _coerce(value: Any) -> Any:
    """A stored result is JSON: a dict with ``msg`` is a Text, with ``unit`` a Quantity."""
    if isinstance(value, Mapping):
        if "msg" in value:
            return Text.model_validate(value)
        if "unit" in value and "value" in value:
            return Quantity.model_validate(value)
    return value


def demo_text(value: Any) -> Markup:
    """A Text, Quantity, number or plain string as safe HTML for a template."""
    value = _coerce(value)
    if value is None:
        return Markup("")
    if isinstance(value, Text):
        return Markup(render_inline(_fill(value, current_language())))  # noqa: S704 - sanitised
    if isinstance(value, Quantity):
        return escape(format_quantity(value.value, value.unit))
    if isinstance(value, int | float):
        return escape(format_number(value))
    return escape(str(value))


def plain_text(value: Any) -> str:
    """The same as text without markup (a chart label, a page title, an aria-label)."""
    value = _coerce(value)
    if isinstance(value, Text):
        rendered = render_inline(_fill(value, current_language()))
        return _SPACES.sub(" ", html.unescape(_TAG.sub("", rendered))).strip()
    if isinstance(value, Quantity):
        return format_quantity(value.value, value.unit)
    if isinstance(value, int | float):
        return format_number(value)
    return "" if value is None else str(value)


def translate(msgid: str) -> str:
    """A demo's N_-marked title, summary or label in the reader's language."""
    return gettext(msgid) if msgid else ""


def translate_rich(msgid: str) -> Markup:
    """A demo's N_-marked summary in the reader's language, its markdown and TeX rendered."""
    return demo_text(Text(msg=msgid)) if msgid else Markup("")
