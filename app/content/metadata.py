"""The metadata line under a question heading.

``> **Company**: 美团 | **Round**: 大模型算法工程师 一面 | **Date**: 2025-08-31 | **Tags**: [LoRA]``

Written by hand, it drifts: ``|`` or full-width ``｜`` or only spaces between fields,
with or without ``> ``, bold or not, ``None`` for unknown, ``2025-09-2`` for a date, or
no field names at all, the fields in the format's order (``美团 | 算法工程师 一面 |
2025-08-31 | LoRA, PEFT``: see ``_positional``). This module reads one such line into
fields; the parser decides where the line is.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from app.content.model import AskedRecord, Message
from app.i18n import mark as N_

# Field names as written (English or Chinese) -> the field they fill.
_KEYS = {
    "company": "company",
    "公司": "company",
    "round": "round",
    "轮次": "round",
    "面试轮次": "round",
    "date": "date",
    "日期": "date",
    "时间": "date",
    "tags": "tags",
    "tag": "tags",
    "标签": "tags",
}
_KEY_RE = re.compile(
    r"(?P<bold>\*\*|__)?\s*(?P<key>company|round|date|tags?|面试轮次|公司|轮次|日期|时间|标签)"
    r"\s*(?:\*\*|__)?\s*[:：]\s*(?:\*\*|__)?",
    re.IGNORECASE,
)
_SEPARATORS = " \t|｜*_"
_UNKNOWN = {"", "none", "null", "n/a", "na", "-", "--", "—", "?", "？", "无", "未知", "unknown"}

# Stage at the end of a round: 一面, 二面, HR面, 终面, 主管面, 笔试, 1面 ...
_STAGE_RE = re.compile(
    r"(?P<stage>(?:[一二三四五六七八九十]|\d{1,2}|hr|终|主管|交叉|加|技术|业务|总监|leader|群|电话|视频)"
    r"\s*面(?:试)?|笔试)\s*$",
    re.IGNORECASE,
)
_DIGIT_STAGE = dict(zip("123456789", "一二三四五六七八九", strict=True))
_DATE_RE = re.compile(
    r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})(?:\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?)?\s*月?$"
)
_TAG_SPLIT = re.compile(r"[,，、;；]")
_FIELD_SPLIT = re.compile(r"[|｜]")
_LONGEST_FIELD = 80


@dataclass
class Metadata:
    asked: AskedRecord
    tags: list[str] = field(default_factory=list)
    # Problems found in the line, as messages (the parser adds file:line).
    problems: list[Message] = field(default_factory=list)


def strip_quote_marker(line: str) -> str:
    """``> > text`` -> ``text``."""
    return re.sub(r"^\s*(?:>\s?)+", "", line).strip()


def looks_like_metadata(line: str) -> bool:
    """True when ``line`` is a metadata line: two known fields, or one written in bold, or
    the fields without their names (``_positional``)."""
    text = strip_quote_marker(line)
    matches = list(_KEY_RE.finditer(text))
    if not matches:
        return _positional(text) is not None
    keys = {_KEYS[m.group("key").lower()] for m in matches}
    return len(keys) >= 2 or (matches[0].start() == 0 and matches[0].group("bold") is not None)


def _positional(text: str) -> dict[str, str | None] | None:
    """``美团 | 算法工程师 一面 | 2025-08-31 | LoRA, PEFT``: the fields with no names, in
    the format's order (``Company | Round | Date | Tags``), split at ``|`` or ``｜``; the
    tags may be left out, and the round may be two fields (``美团 | 算法工程师 | 一面 |
    2025-08-31``). Only where the line is surely one: short fields, a date after the round
    (``2025-08`` too), or an unknown date (empty, ``None``) after a round ending in a stage
    (``一面``). A table's rows are never read here (the parser reads paragraphs and quotes
    only), and prose rarely has a date between bars."""
    if "|" not in text and "｜" not in text:
        return None
    fields = [_clean(f) for f in _FIELD_SPLIT.split(text.strip().strip("|｜"))]
    if not 3 <= len(fields) <= 5 or any(len(f or "") > _LONGEST_FIELD for f in fields):
        return None
    for at in (2, 3):  # the date's place: after a round of one field, or of two
        if len(fields) - at > 2:
            continue
        date = fields[at] if at < len(fields) else None
        round_ = " ".join(f for f in fields[1:at] if f) or None
        dated = date is not None and _DATE_RE.match(date) is not None
        staged = split_round(round_)[1] is not None
        if (dated and (at == 2 or staged)) or (date is None and staged):
            tags = fields[at + 1] if at + 1 < len(fields) else None
            return {"company": fields[0], "round": round_, "date": date, "tags": tags}
    return None


def _clean(value: str) -> str | None:
    value = re.sub(r"\s+", " ", value.strip(_SEPARATORS + " ")).strip()
    return None if value.casefold() in _UNKNOWN else value


def split_round(text: str | None) -> tuple[str | None, str | None]:
    """``大模型算法工程师 一面`` -> (``大模型算法工程师``, ``一面``)."""
    if text is None:
        return None, None
    match = _STAGE_RE.search(text)
    if match is None:
        return text, None
    stage = re.sub(r"\s+", "", match.group("stage"))
    stage = stage.removesuffix("试") if stage.endswith("面试") else stage
    if stage[:2].lower() == "hr":
        stage = "HR" + stage[2:]
    if stage[0] in _DIGIT_STAGE and stage[1:] == "面":
        stage = _DIGIT_STAGE[stage[0]] + "面"
    role = text[: match.start()].strip(" -—·/|,，")
    return (role or None), stage


def read_date(text: str | None) -> tuple[dt.date | None, Message | None]:
    """Parse ``2025-08-31``, ``2025-9-2``, ``2025/09/02``, ``2025年9月2日``.

    Returns (date, problem): an unreadable or impossible date gives ``None`` and says why
    (a ``Message``, shown in the reader's language)."""
    if text is None:
        return None, None
    match = _DATE_RE.match(text.strip())
    if match is None:
        template = N_("date %(date)r is not a date (expected YYYY-MM-DD); stored as unknown")
        return None, Message(template, {"date": text})
    if match.group("d") is None:
        return None, Message(N_("date %(date)r has no day; stored as unknown"), {"date": text})
    try:
        return dt.date(int(match["y"]), int(match["m"]), int(match["d"])), None
    except ValueError as exc:
        template = N_("date %(date)r is impossible (%(why)s); stored as unknown")
        return None, Message(template, {"date": text, "why": str(exc)})


def split_tags(text: str | None) -> list[str]:
    """``[LoRA, PEFT，参数高效微调]`` -> ``["LoRA", "PEFT", "参数高效微调"]``."""
    if text is None:
        return []
    text = text.strip().removeprefix("[").removesuffix("]").strip("[]【】")
    tags = []
    for part in _TAG_SPLIT.split(text):
        tag = _clean(part.strip().strip("`'\"“”‘’#"))
        if tag is not None:
            tags.append(tag)
    return tags


def parse_metadata_line(line: str) -> Metadata:
    """Read one metadata line into an ``AskedRecord`` and its tags."""
    text = strip_quote_marker(line)
    matches = list(_KEY_RE.finditer(text))
    values: dict[str, str | None] = {} if matches else _positional(text) or {}
    problems: list[Message] = []
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        key = _KEYS[match.group("key").lower()]
        if key in values:
            template = N_("field %(key)r appears twice; the first is used")
            problems.append(Message(template, {"key": match.group("key")}))
            continue
        values[key] = _clean(text[match.end() : end])
    role, stage = split_round(values.get("round"))
    date, date_problem = read_date(values.get("date"))
    if date_problem:
        problems.append(date_problem)
    asked = AskedRecord(company=values.get("company"), role=role, stage=stage, date=date)
    return Metadata(asked=asked, tags=split_tags(values.get("tags")), problems=problems)
