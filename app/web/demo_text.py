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
import xml.etree.ElementTree as ET  # noqa: S405 - our own sanitised MathML
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast, get_args

from markupsafe import Markup, escape

from app.content.render import render_inline
from app.demos.text import Quantity, Text, Unit
from app.i18n import current_language, gettext

# Unicode's superscripts (an exponent: ×10⁻⁴, 10⁹, r²); every character that has one.
_RAISED = str.maketrans(
    "0123456789+-−=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUVW",
    "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂ",
)
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
        return f"{text}×10{str(magnitude).translate(_RAISED)}"
    decimals = max(digits - 1 - magnitude, 0)
    rounded = round(value, decimals)
    text = f"{rounded:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


_EN_STEPS = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))
_ZH_STEPS = ((1e12, "万亿"), (1e8, "亿"), (1e4, "万"))


_BYTE_STEPS = ((1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "KB"))
_SECONDS = {"s": 1.0, "ms": 1e-3, "us": 1e-6}


@dataclass(frozen=True)
class Scale:
    """How numbers of one unit are written at one magnitude: times ``factor``, then
    ``suffix`` (3.41 M: factor 1e-6, suffix " M"). A mean and its SD share one scale, so
    they read in the same unit (3.41 M ± 0.012 M, 1.2 ms ± 0.04 ms)."""

    factor: float = 1.0
    suffix: str = ""
    digits: int = 3

    def write(self, value: float, digits: int | None = None) -> str:
        return f"{sig(value * self.factor, digits or self.digits)}{self.suffix}"


def _stepped(value: float, steps: tuple[tuple[float, str], ...], below: str) -> Scale:
    for size, suffix in steps:
        if abs(value) >= size:
            return Scale(1 / size, f" {suffix}")
    return Scale(1.0, below)


def _duration(seconds: float) -> Scale:
    size = abs(seconds)
    if size >= 1 or size == 0 or math.isnan(size):
        return Scale(1.0, " s")
    if size >= 1e-3:
        return Scale(1e3, " ms")
    return Scale(1e6, " µs")


def scale_of(value: float, unit: Unit | None, language: str | None = None) -> Scale:
    """The scale ``value`` in ``unit`` is written at for a reader of ``language``
    (default: the request's language)."""
    language = language or current_language()
    if unit in ("count", "params", "flops"):
        return _stepped(value, _ZH_STEPS if language == "zh" else _EN_STEPS, "")
    if unit == "bytes":
        return _stepped(value, _BYTE_STEPS, " B")
    if unit in ("gb", "gib", "mb"):
        return Scale(suffix=f" {'GiB' if unit == 'gib' else unit.upper()}")
    if unit == "pct":
        return Scale(suffix=" %")
    if unit == "ratio":
        return Scale(100.0, " %")
    if unit == "x":
        return Scale(suffix="×")
    if unit in _SECONDS:
        in_seconds = _duration(value * _SECONDS[unit])
        return Scale(in_seconds.factor * _SECONDS[unit], in_seconds.suffix)
    if unit == "loss":
        return Scale(digits=4)
    if unit == "bits":
        bits = gettext("bits")  # outside the f-string, where pybabel finds it
        return Scale(suffix=f" {bits}")
    return Scale()


def format_quantity(value: float, unit: Unit | None, language: str | None = None) -> str:
    """``value`` in ``unit`` formatted for a reader of ``language`` (default: the
    request's language)."""
    return scale_of(value, unit, language).write(value)


_UNITS = frozenset(get_args(Unit))


def as_unit(name: object) -> Unit | None:
    """A stored unit's name as a ``Unit``; None for none, or for one this code lacks."""
    return cast(Unit, name) if name in _UNITS else None


def spread_parts(mean: float, sd: float | None, unit: Unit | None) -> list[str]:
    """A mean and its SD in one unit, as the run page writes the figure: ``["4.7 %",
    "± 0.31 %"]`` (a ratio), ``["341 万", "± 1.2 万"]``; without a unit ``["0.4213",
    "± 0.06"]``; no SD, the mean alone. Each part is kept on one line on the page."""
    if unit is None:
        shown = format_number(mean)
        return [shown] if sd is None else [shown, f"± {sig(sd, 2)}"]
    if sd is None:
        return [format_quantity(mean, unit)]
    # The larger of the two picks the scale: a mean of 0 ± 2 µs is not "0 s ± 2×10⁻⁶ s".
    scale = scale_of(max(abs(mean), sd), unit)
    return [scale.write(mean), f"± {scale.write(sd, 2)}"]


def format_spread(mean: float, sd: float | None, unit: Unit | None) -> str:
    """``spread_parts`` as one line: ``4.7 % ± 0.31 %``."""
    return " ".join(spread_parts(mean, sd, unit))


def join_list(items: list[str], language: str | None = None) -> str:
    """Items as a list in the reader's language: 、 between them in Chinese, ", " in
    English; where an item holds such a mark itself ("A random, B = 0"), a semicolon
    (；/ "; "), so the reader can still tell where each ends."""
    if (language or current_language()) == "zh":
        marks, separator, fallback = "、，,", "、", "；"
    else:
        marks, separator, fallback = ",", ", ", "; "
    if any(mark in item for item in items for mark in marks):
        separator = fallback
    return separator.join(items)


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


_MATH = re.compile(r"<math\b.*?</math>", re.DOTALL)
_LOWERED = str.maketrans("0123456789+-−=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ")


def _shifted(text: str, table: dict[int, int], mark: str) -> str:
    """A script in Unicode's super- or subscript letters where each has one (10⁹, A₀);
    else a raised one after ``^`` (an index that has none runs on, as before: ‖A‖F)."""
    shifted = text.translate(table)
    if all(ord(c) in table.values() for c in shifted):
        return shifted
    return f"{mark}{text}" if mark else text


def _grouped(text: str) -> str:
    return text if len(text) <= 1 or text.isalnum() else f"({text})"


def _math_node_text(node: ET.Element) -> str:
    """A MathML element as a line of text: 10⁹, α/r, √d, the rest its letters in order."""
    tag = node.tag.rsplit("}", 1)[-1]
    parts = [_math_node_text(child) for child in node]
    if tag == "annotation":
        return ""
    if tag == "msup" and len(parts) == 2:
        return parts[0] + _shifted(parts[1], _RAISED, "^")
    if tag == "msub" and len(parts) == 2:
        return parts[0] + _shifted(parts[1], _LOWERED, "")
    if tag == "msubsup" and len(parts) == 3:
        return parts[0] + _shifted(parts[1], _LOWERED, "") + _shifted(parts[2], _RAISED, "^")
    if tag == "mfrac" and len(parts) == 2:
        return f"{_grouped(parts[0])}/{_grouped(parts[1])}"
    if tag == "msqrt":
        return "√" + _grouped("".join(parts))
    tails = [(child.tail or "").strip() for child in node]
    return (node.text or "").strip() + "".join(p + t for p, t in zip(parts, tails, strict=True))


def _math_as_text(match: re.Match[str]) -> str:
    """A rendered formula as plain text for a chart's canvas or a title (escaped again:
    the caller strips tags and unescapes)."""
    try:
        root = ET.fromstring(match.group(0))
    except ET.ParseError:
        return match.group(0)  # the tags are stripped as before
    return html.escape(_math_node_text(root), quote=False)


def plain_text(value: Any) -> str:
    """The same as text without markup (a chart label, a page title, an aria-label)."""
    value = _coerce(value)
    if isinstance(value, Text):
        rendered = _MATH.sub(_math_as_text, render_inline(_fill(value, current_language())))
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
