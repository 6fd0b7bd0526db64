"""The user-data file's JSON, read within bounds: nesting deeper than ``MAX_DEPTH``,
numbers longer than ``MAX_NUMBER_DIGITS`` digits, and ``NaN`` or ``Infinity`` are refused
with an ``Unprocessable`` naming the problem, not a crash (``app.export.userdata_file``
reads the format from it)."""

from __future__ import annotations

import json
import math

from app.errors import Unprocessable
from app.export.records import Json
from app.i18n import mark as N_

__all__ = ["MAX_DEPTH", "MAX_NUMBER_DIGITS", "check_tree", "dumps", "loads"]

# Our files nest 5 levels deep (file, quizzes, items, payload, choices); 64 is ample.
MAX_DEPTH = 64
# Every number we write fits in 20 digits; a longer one is not ours (and Python refuses
# to read more than 4,300).
MAX_NUMBER_DIGITS = 40


def dumps(data: Json) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1)


def _number_too_long(text: str) -> Unprocessable:
    return Unprocessable(
        N_("the file holds a number %(length)s characters long (at most %(most)s are read)"),
        field="file",
        length=len(text),
        most=MAX_NUMBER_DIGITS,
    )


def _int(text: str) -> int:
    if len(text) > MAX_NUMBER_DIGITS:
        raise _number_too_long(text)
    return int(text)


def _float(text: str) -> float:
    if len(text) > MAX_NUMBER_DIGITS:
        raise _number_too_long(text)
    value = float(text)
    if not math.isfinite(value):
        raise Unprocessable(
            N_("the file holds the number %(number)s, too large to read"), field="file", number=text
        )
    return value


def _constant(name: str) -> float:
    raise Unprocessable(
        N_("the file holds %(name)s, which is not a JSON number"), field="file", name=name
    )


def loads(raw: bytes | str) -> object:
    """The file's JSON; refused with the place of the error when it is not JSON, and
    with the reason when it nests too deep or holds a number we cannot store."""
    try:
        data = json.loads(raw, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except UnicodeDecodeError:
        raise Unprocessable(N_("the file is not UTF-8 text, so not JSON"), field="file") from None
    except json.JSONDecodeError as exc:
        raise Unprocessable(
            N_("the file is not valid JSON (line %(line)s, column %(column)s: %(error)s)"),
            field="file",
            line=exc.lineno,
            column=exc.colno,
            error=exc.msg,
        ) from None
    except RecursionError:
        raise _too_deep() from None
    return data


def _too_deep() -> Unprocessable:
    return Unprocessable(
        N_("the file's JSON nests more than %(most)s levels deep; an Interview Lab file nests 5"),
        field="file",
        most=MAX_DEPTH,
    )


def check_tree(data: object) -> None:
    """Refuse JSON nesting deeper than ``MAX_DEPTH`` or holding a number that is not
    finite (a JSON body parsed elsewhere, as the API's, may hold ``NaN``)."""
    stack: list[tuple[object, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _too_deep()
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
        elif isinstance(node, float) and not math.isfinite(node):
            _constant("NaN" if math.isnan(node) else ("Infinity" if node > 0 else "-Infinity"))
