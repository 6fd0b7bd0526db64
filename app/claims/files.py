"""Claim files: ``content/claims/*.yaml``, one list of claims per chapter, read and
checked like the markdown (every problem is a ``file:line`` diagnostic, and one error
means nothing is imported).

A claim, as an author writes it::

    - id: qlora-4x-smaller                # unique across all claim files: [a-z0-9-]+
      question: llm-sft-1a2b3c4d          # the question's id (shown on its page)
      quote: "4-bit 权重比 FP16 小 4 倍"    # exactly as in the answer's markdown
      kind: measured                      # measured | definition | cited | not-measurable-here
      demo: nf4                           # a demo of the catalogue
      params: {block_size: 64}            # checked against the demo's bounds
      seeds: [0, 1, 2]                    # optional: one run per seed; runs: named settings
      undecided: "abs(mean(gap)) < 2*sd(gap)"     # read first (app.claims.rules)
      supported: "compression_vs_fp16 >= 3.9"     # rules over the runs' figures
      refuted: "compression_vs_fp16 < 3.8"        # neither: nuanced
      explanation: {en: "NF4 stores {bits_per_param_nf4:.3g} bits", zh: "…"}
      when: {refuted: {en: "Here it is not 4× smaller.", zh: "…"}}  # optional: per verdict
      sources: ["Dettmers et al. 2023, QLoRA, §3"]   # optional
      parts: [...]                        # or: halves, each a check of its own

The full format is in the README ("Claims, checked"); the checks are read by
``app.claims.checks``.

Nothing here runs a demo: the verdict always comes from a stored run (app.claims.service).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from app.claims.checks import CHECK_KEYS, MUST_BE_TEXT, CheckReader
from app.claims.highlight import find_quote
from app.claims.located import Mapping as _Mapping
from app.claims.spec import CheckSpec, ClaimChecks
from app.claims.texts import pick
from app.content.loader import display_path
from app.content.model import Diagnostic, Message, Value
from app.i18n import mark as N_

CLAIMS_DIR = "claims"
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")
REQUIRED = ("id", "question", "quote")
KEYS = ("id", "question", "quote", "summary", "parts", *CHECK_KEYS)
PART_KEYS = ("label", *CHECK_KEYS)


@dataclass(frozen=True)
class ClaimSpec:
    """One checked claim, ready to store."""

    id: str
    question_id: str
    quote: str
    # The first check's demo, params, rules and the English explanation (kept in the
    # claims table's columns); ``checks`` holds the whole claim.
    demo: str
    params: dict[str, Any]
    supported: str | None
    refuted: str | None
    explanation: str
    sources: list[str]
    source_file: str
    line: int
    position: int
    checks: ClaimChecks = field(default_factory=lambda: ClaimChecks([]))

    @property
    def kind(self) -> str:
        return self.checks.kind


@dataclass
class ClaimFiles:
    """What reading the claim files found."""

    claims: list[ClaimSpec] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(d.level == "error" for d in self.diagnostics)


def claim_paths(content_dir: Path) -> list[Path]:
    folder = content_dir / CLAIMS_DIR
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def _located(node: yaml.Node, loader: yaml.SafeLoader) -> Any:
    """A node as Python values; each mapping becomes ``(values, key -> line)``."""
    if isinstance(node, yaml.MappingNode):
        values: dict[str, Any] = {}
        lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(loader.construct_object(key_node, deep=True))
            values[key] = _located(value_node, loader)
            lines[key] = key_node.start_mark.line + 1
        return _Mapping(values, lines, node.start_mark.line + 1)
    if isinstance(node, yaml.SequenceNode):
        return [(_located(item, loader), item.start_mark.line + 1) for item in node.value]
    return loader.construct_object(node, deep=True)


class _FileChecker:
    """Reads one claim file, appending diagnostics; ``answers`` maps a question id to its
    rendered answer HTML (where quotes must be found)."""

    def __init__(self, path: Path, answers: Mapping[str, str], seen: dict[str, str]) -> None:
        self.path = path
        self.shown = display_path(path)
        self.answers = answers
        self.seen = seen  # claim id -> where it was first defined
        self.claims: list[ClaimSpec] = []
        self.diagnostics: list[Diagnostic] = []

    def error(self, line: int, template: str | Message, /, **values: Value) -> None:
        """An error at ``line``: an English template marked ``N_`` and its values, shown
        in the reader's language on pages (``Diagnostic.of``)."""
        self.diagnostics.append(Diagnostic.of(self.shown, line, "error", template, **values))

    def read(self, source_file: str) -> None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.error(1, N_("cannot read the claim file: %(why)s"), why=str(exc))
            return
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            document = _located(node, loader) if node is not None else []
        except yaml.MarkedYAMLError as exc:
            # PyYAML's own words (``exc.problem``, ``exc.context``) stay English.
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else 1
            if exc.context and exc.context_mark is not None:
                template = N_("not valid YAML: %(problem)s (%(context)s at line %(at)d)")
                at = exc.context_mark.line + 1
                self.error(line, template, problem=str(exc.problem), context=exc.context, at=at)
            else:
                self.error(line, N_("not valid YAML: %(problem)s"), problem=str(exc.problem))
            return
        except yaml.YAMLError as exc:
            self.error(1, N_("not valid YAML: %(problem)s"), problem=str(exc))
            return
        finally:
            loader.dispose()
        if not isinstance(document, list):
            self.error(1, N_("a claim file is a list of claims (each item starts with '- id:')"))
            return
        if self.names_nothing_in_bank(document):
            return
        for position, (item, line) in enumerate(document):
            if not isinstance(item, _Mapping):
                self.error(line, N_("each claim is a mapping of id, question, quote, demo, …"))
                continue
            spec = self.claim(item, source_file, position)
            if spec is not None:
                self.claims.append(spec)

    def names_nothing_in_bank(self, document: list[Any]) -> bool:
        """A claim file none of whose questions is in the bank belongs to a chapter that
        is not imported (the shipped claims beside a user's own bank): it is skipped with
        one warning. A file naming some known questions is checked claim by claim."""
        named = {
            item.plain("question")
            for item, _ in document
            if isinstance(item, _Mapping) and isinstance(item.plain("question"), str)
        }
        if not named or named & set(self.answers):
            return False
        template = N_(
            "skipped: none of the %(count)d questions it names is in the bank "
            "(its chapter is not imported)"
        )
        self.warn(1, template, count=len(named))
        return True

    def warn(self, line: int, template: str | Message, /, **values: Value) -> None:
        self.diagnostics.append(Diagnostic.of(self.shown, line, "warning", template, **values))

    def errors(self) -> int:
        return sum(d.level == "error" for d in self.diagnostics)

    def claim(self, item: _Mapping, source_file: str, position: int) -> ClaimSpec | None:
        errors_before = self.errors()
        at = item.lines
        unknown = [k for k in item.values if k not in KEYS]
        for key in unknown:
            template = N_("unknown key %(key)r (a claim has: %(keys)s)")
            self.error(at[key], template, key=key, keys=", ".join(KEYS))
        missing = [k for k in REQUIRED if k not in item.values]
        if "parts" not in item.values and "explanation" not in item.values:
            missing.append("explanation")
        if missing:
            self.error(item.line, N_("the claim lacks %(keys)s"), keys=", ".join(missing))
            return None
        strings = {k: item.plain(k) for k in REQUIRED}
        for key, value in strings.items():
            if not isinstance(value, str):
                self.error(at[key], MUST_BE_TEXT, key=key, type=type(value).__name__)
                return None

        claim_id: str = strings["id"]
        if not ID_PATTERN.fullmatch(claim_id):
            self.error(at["id"], N_("claim id %(id)r must be lowercase [a-z0-9-]"), id=claim_id)
        elif claim_id in self.seen:
            template = N_("claim id %(id)r is already used at %(other)s")
            self.error(at["id"], template, id=claim_id, other=self.seen[claim_id])
        else:
            self.seen[claim_id] = f"{self.shown}:{at['id']}"

        question_id: str = strings["question"]
        answer = self.answers.get(question_id)
        if answer is None:
            self.error(at["question"], N_("no question has the id %(id)r"), id=question_id)
        elif find_quote(answer, strings["quote"]) is None:
            template = N_("the quote %(quote)r is not in the answer of %(id)s")
            self.error(at["quote"], template, quote=strings["quote"], id=question_id)
        reader = CheckReader(self.error, self.warn, self.errors)
        summary = reader.text(item, "summary")
        checks = self.checks(reader, item)
        if self.errors() > errors_before or checks is None:
            return None
        first = checks.checks[0]
        return ClaimSpec(
            id=claim_id,
            question_id=question_id,
            quote=strings["quote"],
            demo=first.demo or "",
            params=first.runs[0].params if first.runs else {},
            supported=first.supported,
            refuted=first.refuted,
            explanation=pick(checks.explanation or first.explanation, "en"),
            sources=_sources(item, checks),
            source_file=source_file,
            line=item.line,
            position=position,
            checks=ClaimChecks(
                checks=checks.checks,
                parts=checks.parts,
                summary=summary,
                explanation=checks.explanation,
            ),
        )

    def checks(self, reader: CheckReader, item: _Mapping) -> ClaimChecks | None:
        """The claim's checks: one for the whole quote, or one per half (``parts``)."""
        if "parts" not in item.values:
            check = reader.check(item, None, None)
            if check is None:
                return None
            return ClaimChecks([check], explanation=check.explanation)
        for key in ("supported", "refuted", "undecided", "verdict", "needs"):
            if key in item.values:
                template = N_("a claim with parts has %(key)s in each part")
                self.error(item.lines[key], template, key=key)
        raw = item.values["parts"]
        if not isinstance(raw, list) or len(raw) < 2:
            self.error(item.lines["parts"], N_("parts is a list of at least two halves"))
            return None
        checks: list[CheckSpec] = []
        for part, line in raw:
            if not isinstance(part, _Mapping):
                template = N_("each part is a mapping with label, kind, rules, explanation")
                self.error(line, template)
                continue
            for key in part.values:
                if key not in PART_KEYS:
                    template = N_("unknown key %(key)r (a part has: %(keys)s)")
                    self.error(part.lines[key], template, key=key, keys=", ".join(PART_KEYS))
            label = part.plain("label")
            if not isinstance(label, str) or not 0 < len(label.strip()) <= 200:
                template = N_("a part needs a label (1–200 chars)")
                self.error(part.lines.get("label", line), template)
                continue
            check = reader.check(part, item, label.strip())
            if check is not None:
                checks.append(check)
        explanation = reader.text(item, "explanation")
        return ClaimChecks(checks, parts=True, explanation=explanation)


def _sources(item: _Mapping, checks: ClaimChecks) -> list[str]:
    sources = item.plain("sources") or []
    seen = list(sources) if isinstance(sources, list) else []
    for check in checks.checks:
        seen += [s for s in check.sources if s not in seen]
    return seen


def read_claim_files(
    paths: list[Path], content_dir: Path, answers: Mapping[str, str]
) -> ClaimFiles:
    """Read and check ``paths`` (claim files under ``content_dir``) against ``answers``
    (question id -> rendered answer HTML)."""
    found = ClaimFiles()
    seen: dict[str, str] = {}
    for path in paths:
        checker = _FileChecker(path, answers, seen)
        source_file = path.resolve().relative_to(content_dir.resolve()).as_posix()
        checker.read(source_file)
        found.claims.extend(checker.claims)
        found.diagnostics.extend(checker.diagnostics)
        found.files.append(source_file)
    return found
