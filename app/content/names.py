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
    keep_apart:                     # split: each spelling listed is a name of its own
      companies: [Meta, META]
      tags: [GO, Go]                # the Go language and Gene Ontology

Tags fold by the same rule (``app.content.tags.tag_key``); a tag alias rewrites the
spelling when the files are parsed. An import lists each merge it made
(``company 上海 AI Lab -> 上海AI Lab``, ``tag Low-Rank Adaptation -> LoRA``) and each
spelling it kept apart that the rule would have folded (``tag GO (not Go)``).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.content.model import Diagnostic, ParsedQuestion
from app.content.tags import tag_key
from app.i18n import mark as N_
from app.models import Asked, Question, QuestionTag, Tag

ALIASES_FILE = "aliases.yaml"
_SPACES = re.compile(r"\s+")


def company_key(name: str) -> str:
    """The key two spellings share when they are one company."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", name).casefold())


@dataclass
class Aliases:
    companies: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    # Spellings never folded with others: ``keep_apart`` and names mapped to themselves.
    keep_companies: frozenset[str] = frozenset()
    keep_tags: frozenset[str] = frozenset()
    problems: list[Diagnostic] = field(default_factory=list)
    raw: bytes = b""  # the file, part of the parse cache's keys


def read_aliases(content_dir: Path) -> Aliases:
    """``content_dir/aliases.yaml``, or no aliases; a malformed file is an error."""
    import yaml  # here, not with the module: the home page folds names, reads no aliases

    path = content_dir / ALIASES_FILE
    aliases = Aliases()
    if not path.is_file():
        return aliases
    shown = path.as_posix()
    try:
        aliases.raw = path.read_bytes()
        data = yaml.safe_load(aliases.raw.decode("utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        template = N_("cannot read the aliases: %(why)s")
        aliases.problems.append(Diagnostic.of(shown, 1, "error", template, why=str(exc)))
        return aliases
    for section in ("companies", "tags"):
        found = data.get(section, {}) if isinstance(data, dict) else None
        if not isinstance(found, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in found.items()
        ):
            template = N_("%(section)s: must map each spelling to a name")
            aliases.problems.append(Diagnostic.of(shown, 1, "error", template, section=section))
            continue
        setattr(aliases, section, {k.strip(): v.strip() for k, v in found.items()})
    keep = data.get("keep_apart", {}) if isinstance(data, dict) else None
    kept: dict[str, frozenset[str]] = {"companies": frozenset(), "tags": frozenset()}
    for section in kept:
        listed = keep.get(section, []) if isinstance(keep, dict) else None
        if not isinstance(listed, list) or not all(isinstance(n, str) for n in listed):
            template = N_("keep_apart: %(section)s must be a list of spellings")
            aliases.problems.append(Diagnostic.of(shown, 1, "error", template, section=section))
            continue
        mapped_to_self = {k for k, v in getattr(aliases, section).items() if k == v}
        kept[section] = frozenset(n.strip() for n in listed) | mapped_to_self
    aliases.keep_companies, aliases.keep_tags = kept["companies"], kept["tags"]
    return aliases


def plan_names(spellings: Iterable[str], aliases: Aliases) -> dict[str, str]:
    """Spelling -> the company name it is stored as (every spelling given, in bank
    order with repeats: the most frequent spelling of a key names it)."""
    counts = Counter(spellings)
    kept = aliases.keep_companies

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
        spellings += [
            c
            for c in session.connection().scalars(stored.where(Question.archived_at.is_(None)))
            if c
        ]
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
        tags = list(dict.fromkeys(renamed))
        if tags != q.tags:
            q.tags, q.cached_hash, q.cached_search = tags, None, None
    return sorted(made)


def kept_apart(
    spellings: Iterable[str], kept: frozenset[str], key: Callable[[str], str], kind: str
) -> list[str]:
    """For the report: each kept-apart spelling that the rule would have folded with
    another spelling present, ``company META (not Meta)``."""
    present = set(spellings)
    made = []
    for spelling in sorted(kept & present):
        others = sorted(o for o in present if o != spelling and key(o) == key(spelling))
        if others:
            made.append(f"{kind} {spelling} (not {', '.join(others)})")
    return made


def kept_apart_report(
    questions: Iterable[ParsedQuestion], plan: Mapping[str, str], aliases: Aliases
) -> list[str]:
    """The kept-apart spellings of companies (``plan``: every spelling in the bank) and
    of the tags of ``questions`` (after tag aliases)."""
    tags = {t.strip() for q in questions for t in q.tags}
    return kept_apart(plan, aliases.keep_companies, company_key, "company") + kept_apart(
        tags, aliases.keep_tags, tag_key, "tag"
    )


def reset_stale_details(
    session: Session,
    questions: Iterable[ParsedQuestion],
    plan: Mapping[str, str],
    kept_tags: frozenset[str],
) -> set[str]:
    """Ids of ``questions`` (unchanged, so not rewritten) whose stored companies or tag
    links differ from what the names now give: a spelling kept apart, or no longer, since
    they were written. Their companies and tag links are deleted, to be written again."""
    wanted_companies: dict[str, list[str | None]] = {}
    wanted_tags: dict[str, list[str]] = {}
    for q in questions:
        wanted_companies[q.id] = [
            plan.get(a.company, a.company) if a.company else None for a in q.asked
        ]
        wanted_tags[q.id] = [tag_key(t, kept_tags) for t in q.tags]
    if not wanted_companies:
        return set()
    stored_companies: dict[str, list[str | None]] = {}
    rows = session.connection().execute(
        select(Asked.question_id, Asked.company).order_by(Asked.question_id, Asked.position)
    )
    for qid, company in rows:
        if qid in wanted_companies:
            stored_companies.setdefault(qid, []).append(company or None)
    stored_tags: dict[str, list[str]] = {}
    links = session.connection().execute(
        select(QuestionTag.question_id, Tag.key)
        .join(Tag, Tag.id == QuestionTag.tag_id)
        .order_by(QuestionTag.question_id, QuestionTag.position)
    )
    for qid, key in links:
        if qid in wanted_tags:
            stored_tags.setdefault(qid, []).append(key)
    stale = {
        qid
        for qid in wanted_companies
        if stored_companies.get(qid, []) != wanted_companies[qid]
        or stored_tags.get(qid, []) != wanted_tags[qid]
    }
    ids = sorted(stale)
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        session.execute(delete(Asked).where(Asked.question_id.in_(chunk)))
        session.execute(delete(QuestionTag).where(QuestionTag.question_id.in_(chunk)))
    return stale
