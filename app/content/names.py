"""Company names folded by a documented rule, with the user in charge (issue 18).

The rule: two spellings are one company when they are equal after NFKC (full-width
letters and digits become ASCII), case folding and dropping every space: ``上海 AI Lab``,
``上海AI Lab`` and ``上海ＡＩ lab`` are one. The name shown is the most frequent
spelling over the bank (ties: the first seen).

``content/aliases.yaml`` overrides it::

    companies:
      Shanghai AI Lab: 上海AI Lab   # merge: this spelling is that company
      META: META                    # split: a name mapped to itself is never folded
    tags:
      Low-Rank Adaptation: LoRA     # merge: the tag is written as LoRA

Tags fold by the same rule (``app.content.tags.tag_key``); a tag alias rewrites the
spelling when the files are parsed. An import lists each merge it made
(``company 上海 AI Lab -> 上海AI Lab``, ``tag Low-Rank Adaptation -> LoRA``).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.content.model import Diagnostic, ParsedQuestion
from app.models import Asked, Question

ALIASES_FILE = "aliases.yaml"
_SPACES = re.compile(r"\s+")


def company_key(name: str) -> str:
    """The key two spellings share when they are one company."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", name).casefold())


@dataclass
class Aliases:
    companies: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    problems: list[Diagnostic] = field(default_factory=list)
    raw: bytes = b""  # the file, part of the parse cache's keys


def read_aliases(content_dir: Path) -> Aliases:
    """``content_dir/aliases.yaml``, or no aliases; a malformed file is an error."""
    path = content_dir / ALIASES_FILE
    aliases = Aliases()
    if not path.is_file():
        return aliases
    shown = path.as_posix()
    try:
        aliases.raw = path.read_bytes()
        data = yaml.safe_load(aliases.raw.decode("utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        aliases.problems.append(Diagnostic(shown, 1, "error", f"cannot read the aliases: {exc}"))
        return aliases
    for section in ("companies", "tags"):
        found = data.get(section, {}) if isinstance(data, dict) else None
        if not isinstance(found, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in found.items()
        ):
            message = f"{section}: must map each spelling to a name"
            aliases.problems.append(Diagnostic(shown, 1, "error", message))
            continue
        setattr(aliases, section, {k.strip(): v.strip() for k, v in found.items()})
    return aliases


def plan_names(spellings: Iterable[str], aliases: Aliases) -> dict[str, str]:
    """Spelling -> the company name it is stored as (every spelling given, in bank
    order with repeats: the most frequent spelling of a key names it)."""
    counts = Counter(spellings)
    kept = {name for name, target in aliases.companies.items() if name == target}

    def key(spelling: str) -> str:
        if spelling in kept:
            return "=" + spelling
        target = aliases.companies.get(spelling)
        return company_key(target if target is not None else spelling)

    groups: dict[str, Counter[str]] = {}
    for spelling, n in counts.items():
        groups.setdefault(key(spelling), Counter())[spelling] += n
    named: dict[str, str] = {}
    for group_key, group in groups.items():
        targets = [aliases.companies[s] for s in group if s in aliases.companies]
        named[group_key] = targets[0] if targets else group.most_common(1)[0][0]
    return {spelling: named[key(spelling)] for spelling in counts}


def merges(plan: Mapping[str, str]) -> list[str]:
    """The merges a plan makes, for the report: ``spelling -> name``."""
    return [f"{s} -> {n}" for s, n in sorted(plan.items()) if s != n]


def plan_import(
    questions: Iterable[ParsedQuestion], session: Session | None, aliases: Aliases
) -> dict[str, str]:
    """The plan over the questions being imported and, with a session, the companies of
    the active questions already stored."""
    spellings = [a.company for q in questions for a in q.asked if a.company]
    if session is not None:
        stored = select(Asked.company).join(Question, Question.id == Asked.question_id)
        spellings += [c for c in session.scalars(stored.where(Question.archived_at.is_(None))) if c]
    return plan_names(spellings, aliases)


def apply_names(session: Session, plan: Mapping[str, str]) -> None:
    """Rename the stored spellings the plan folds (questions not re-imported too)."""
    for spelling, name in plan.items():
        if spelling != name:
            session.execute(update(Asked).where(Asked.company == spelling).values(company=name))


def alias_tags(questions: Iterable[ParsedQuestion], aliases: Aliases) -> list[str]:
    """Rewrite aliased tag spellings in place; the merges made, for the report."""
    made: set[str] = set()
    if not aliases.tags:
        return []
    for q in questions:
        renamed = []
        for tag in q.tags:
            target = aliases.tags.get(tag.strip(), tag)
            if target != tag:
                made.add(f"{tag} -> {target}")
            renamed.append(target)
        q.tags = list(dict.fromkeys(renamed))
    return sorted(made)
