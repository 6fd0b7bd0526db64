"""Claim files: ``content/claims/*.yaml``, one list of claims per chapter, read and
checked like the markdown (every problem is a ``file:line`` diagnostic, and one error
means nothing is imported).

A claim, as an author writes it::

    - id: qlora-4x-smaller                # unique across all claim files: [a-z0-9-]+
      question: llm-sft-1a2b3c4d          # the question's id (shown on its page)
      quote: "4-bit 权重比 FP16 小 4 倍"    # exactly as in the answer's markdown
      demo: nf4                           # a demo of the catalogue
      params: {block_size: 64}            # checked against the demo's bounds
      supported: "compression_vs_fp16 >= 3.9"     # rules over the run's figures
      refuted: "compression_vs_fp16 < 3.8"        # (app.claims.rules); neither: nuanced
      explanation: "NF4 stores {bits_per_param_nf4:.3g} bits per weight"
      sources: ["Dettmers et al. 2023, QLoRA, §3"]   # optional

Nothing here runs a demo: the verdict always comes from a stored run (app.claims.service).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from app.claims.highlight import find_quote
from app.claims.rules import Condition, RuleError, figure_names, parse_rule
from app.claims.verdict import TemplateError, template_fields
from app.content.loader import display_path
from app.content.model import Diagnostic
from app.demos import registry
from app.demos.base import validate_params
from app.errors import Unprocessable

CLAIMS_DIR = "claims"
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")
REQUIRED = ("id", "question", "quote", "demo", "explanation")
OPTIONAL = ("params", "supported", "refuted", "sources")


@dataclass(frozen=True)
class ClaimSpec:
    """One checked claim, ready to store."""

    id: str
    question_id: str
    quote: str
    demo: str
    params: dict[str, Any]  # validated and complete (defaults filled in)
    supported: str | None
    refuted: str | None
    explanation: str
    sources: list[str]
    source_file: str
    line: int
    position: int


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


@dataclass
class _Mapping:
    values: dict[str, Any]
    lines: dict[str, int]
    line: int

    def plain(self, key: str) -> Any:
        """The value under ``key`` with nested mappings and lists as plain Python."""
        return _plain(self.values.get(key))

    def plain_values(self) -> dict[str, Any]:
        return {k: _plain(v) for k, v in self.values.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, _Mapping):
        return {k: _plain(v) for k, v in value.values.items()}
    if isinstance(value, list):
        return [_plain(item) for item, _ in value]
    return value


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

    def error(self, line: int, message: str) -> None:
        self.diagnostics.append(Diagnostic(self.shown, line, "error", message))

    def read(self, source_file: str) -> None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.error(1, f"cannot read the claim file: {exc}")
            return
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            document = _located(node, loader) if node is not None else []
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            context = ""
            if exc.context and exc.context_mark is not None:
                context = f" ({exc.context} at line {exc.context_mark.line + 1})"
            self.error(mark.line + 1 if mark else 1, f"not valid YAML: {exc.problem}{context}")
            return
        except yaml.YAMLError as exc:
            self.error(1, f"not valid YAML: {exc}")
            return
        finally:
            loader.dispose()
        if not isinstance(document, list):
            self.error(1, "a claim file is a list of claims (each item starts with '- id:')")
            return
        for position, (item, line) in enumerate(document):
            if not isinstance(item, _Mapping):
                self.error(line, "each claim is a mapping of id, question, quote, demo, …")
                continue
            spec = self.claim(item, source_file, position)
            if spec is not None:
                self.claims.append(spec)

    def claim(self, item: _Mapping, source_file: str, position: int) -> ClaimSpec | None:
        errors_before = len(self.diagnostics)
        at = item.lines
        unknown = [k for k in item.values if k not in REQUIRED + OPTIONAL]
        for key in unknown:
            allowed = ", ".join(REQUIRED + OPTIONAL)
            self.error(at[key], f"unknown key {key!r} (a claim has: {allowed})")
        missing = [k for k in REQUIRED if k not in item.values]
        if missing:
            self.error(item.line, f"the claim lacks {', '.join(missing)}")
            return None
        strings = {k: item.plain(k) for k in (*REQUIRED, "supported", "refuted")}
        for key, value in strings.items():
            if value is not None and not isinstance(value, str):
                self.error(at[key], f"{key} must be text, not {type(value).__name__}")
                return None

        claim_id: str = strings["id"]
        if not ID_PATTERN.fullmatch(claim_id):
            self.error(at["id"], f"claim id {claim_id!r} must be lowercase [a-z0-9-]")
        elif claim_id in self.seen:
            self.error(at["id"], f"claim id {claim_id!r} is already used at {self.seen[claim_id]}")
        else:
            self.seen[claim_id] = f"{self.shown}:{at['id']}"

        question_id: str = strings["question"]
        answer = self.answers.get(question_id)
        if answer is None:
            self.error(at["question"], f"no question has the id {question_id!r}")
        elif find_quote(answer, strings["quote"]) is None:
            self.error(
                at["quote"],
                f"the quote {strings['quote']!r} is not in the answer of {question_id}",
            )

        params = self.params(item)
        produced = self.produced(item, strings["demo"], params)
        rules: dict[str, Condition | None] = {}
        for key in ("supported", "refuted"):
            rules[key] = self.rule(item, key, strings[key], produced)
        if strings["supported"] is None and strings["refuted"] is None:
            self.error(item.line, "the claim needs a 'supported' or a 'refuted' rule (or both)")
        try:
            shown = template_fields(strings["explanation"])
        except TemplateError as exc:
            self.error(at["explanation"], f"explanation: {exc}")
        else:
            self.unknown_figures(at["explanation"], "explanation", shown, produced)
        sources = item.plain("sources") or []
        if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
            self.error(at.get("sources", item.line), "sources must be a list of texts")
            sources = []

        if len(self.diagnostics) > errors_before or params is None:
            return None
        return ClaimSpec(
            id=claim_id,
            question_id=question_id,
            quote=strings["quote"],
            demo=strings["demo"],
            params=params,
            supported=strings["supported"],
            refuted=strings["refuted"],
            explanation=strings["explanation"],
            sources=sources,
            source_file=source_file,
            line=item.line,
            position=position,
        )

    def params(self, item: _Mapping) -> dict[str, Any] | None:
        raw = item.values.get("params")
        if raw is None:
            raw = _Mapping({}, {}, item.line)
        if not isinstance(raw, _Mapping):
            self.error(item.lines["params"], "params must be a mapping of name: value")
            return None
        demo = registry().get(item.plain("demo"))
        if demo is None:
            return None  # reported by produced()
        try:
            return validate_params(demo, raw.plain_values()).model_dump(mode="json")
        except Unprocessable as exc:
            line = raw.lines.get(exc.field or "", item.lines.get("params", item.line))
            self.error(line, f"params of demo {demo.name!r}: {exc}")
            return None

    def produced(self, item: _Mapping, demo_name: str, params: dict[str, Any] | None) -> set[str]:
        demos = registry()
        demo = demos.get(demo_name)
        if demo is None:
            known = ", ".join(demos)
            self.error(item.lines["demo"], f"no demo is named {demo_name!r} (there are: {known})")
            return set()
        if demo.figure_names is None:
            self.error(item.lines["demo"], f"demo {demo_name!r} does not declare its figures")
            return set()
        if params is None:
            return set()
        return set(demo.figure_names(demo.params.model_validate(params)))

    def rule(
        self, item: _Mapping, key: str, text: str | None, produced: set[str]
    ) -> Condition | None:
        if text is None:
            return None
        try:
            condition = parse_rule(text)
        except RuleError as exc:
            self.error(item.lines[key], f"{key}: {exc}")
            return None
        self.unknown_figures(item.lines[key], key, figure_names(condition), produced)
        return condition

    def unknown_figures(self, line: int, key: str, used: set[str], produced: set[str]) -> None:
        if not produced:
            return  # the demo or its params are wrong: already reported
        for name in sorted(used - produced):
            self.error(
                line,
                f"{key}: the demo does not produce a figure {name!r} with these params "
                f"(it produces: {', '.join(sorted(produced))})",
            )


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
