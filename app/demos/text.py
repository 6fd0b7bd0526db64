"""Demo text that the page translates and formats for the reader (no torch here).

A demo writes English message ids with ``%(name)s`` placeholders and fills them with
numbers that carry a unit; the web page translates the message into the reader's
language (the same gettext catalogue as the interface), formats each number for people
(3.41 M, 0.047 %, 6.8 MB; never ``3.40787e+06``) and renders the inline markdown and
``$...$`` TeX math that the message may hold.

    t("LoRA trains %(n)s of %(total)s parameters", n=q(3.4e6, "params"), total=q(7e9, "params"))

``t`` and ``N_`` are extraction keywords (scripts/i18n.sh, tests/web/test_i18n.py): the
message literal must be the first argument, written in place.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, JsonValue

# How a number is formatted: "count"/"params" compact (3.41 M; 341 万 in Chinese),
# "bytes" a size from a byte count (6.8 MB), "gb"/"gib"/"mb" a size already in that unit,
# "pct" a percentage given in percent (0.047 -> 0.047 %), "ratio" a fraction shown as a
# percentage (0.25 -> 25 %), "x" a factor (2.3×), "s"/"ms"/"us" a duration in that
# unit, "loss" a loss or error value (4 significant digits), "flops" compact FLOPs,
# "bits" bits (4.13 bits), "plain" a plain number (3 significant digits).
Unit = Literal[
    "count",
    "params",
    "bytes",
    "gb",
    "gib",
    "mb",
    "pct",
    "ratio",
    "x",
    "s",
    "ms",
    "us",
    "loss",
    "flops",
    "bits",
    "plain",
]


def N_(msg: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """``msg`` unchanged: marks an English message id for extraction; the page
    translates it when it shows it."""
    return msg


class Quantity(BaseModel):
    """A number with a unit, formatted for the reader by the page."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: float
    unit: Unit


class Text(BaseModel):
    """A translatable message: an English msgid with ``%(name)s`` placeholders and the
    values that fill them (strings such as model names, numbers, quantities or nested
    texts, each translated/formatted on the page)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    msg: str
    args: dict[str, Arg] = {}


Arg = str | int | float | Quantity | Text
# A cell of a summary table: a translated text, a formatted number or a name.
Cell = Text | Quantity | str

Text.model_rebuild()


def t(msg: str, **args: Arg) -> Text:
    """A ``Text``; write the message literal directly as the first argument (it is
    extracted for translation)."""
    return Text(msg=msg, args=args)


def q(value: float, unit: Unit) -> Quantity:
    """A number the page formats for people in the reader's language."""
    return Quantity(value=float(value), unit=unit)


Group = Literal["model", "method", "training", "advanced"]


def field_extra(
    group: Group,
    label: str,
    unit: str | None = None,
    show_if: dict[str, list[str | int | float | bool]] | None = None,
    *,
    choice_labels: dict[str, str] | None = None,
) -> dict[str, JsonValue]:
    """``json_schema_extra`` of a parameter: its form group, its label and unit in words
    (write them as ``N_("...")``), ``show_if`` ({other field: [values]}) and, for a
    choice, ``choice_labels`` ({value: N_("words")}: the form shows the words, the value
    sent stays the raw value)."""
    extra: dict[str, JsonValue] = {"group": group, "label": label}
    if choice_labels:
        extra["choice_labels"] = dict(choice_labels)
    if unit:
        extra["unit"] = unit
    if show_if:
        extra["show_if"] = {k: list(v) for k, v in show_if.items()}
    return extra


class Table(BaseModel):
    """A compact summary table: ≤ ~10 rows and ≤ 5 columns read at a glance."""

    model_config = ConfigDict(extra="forbid")

    columns: list[Text | str]
    rows: list[list[Cell]]


__all__ = [
    "Arg",
    "Cell",
    "Group",
    "N_",
    "field_extra",
    "Quantity",
    "Table",
    "Text",
    "Unit",
    "q",
    "t",
]
