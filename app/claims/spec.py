"""What a claim checks, as imported: one check per half (``parts``), or one for the whole
quote. Stored as JSON in ``Claim.spec`` and read back by the verdicts and the queue."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from app.claims.texts import Text

Kind = Literal["measured", "definition", "cited", "not-measurable-here"]
KINDS: tuple[Kind, ...] = ("measured", "definition", "cited", "not-measurable-here")


@dataclass(frozen=True)
class RunSpec:
    """One run a check needs: a setting (``""`` without settings) at a seed."""

    setting: str
    seed: int | None
    params: dict[str, Any]  # validated, defaults filled in
    params_hash: str


@dataclass(frozen=True)
class CheckSpec:
    """A check of the whole quote or of one half of it."""

    kind: Kind
    label: str | None = None  # the half's text; None for a check of the whole quote
    demo: str | None = None
    runs: list[RunSpec] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)
    settings: list[str] = field(default_factory=list)
    device: str | None = None  # "gpu": only runs that ran on cuda count
    supported: str | None = None
    refuted: str | None = None
    undecided: str | None = None
    verdict: str | None = None  # cited (and a not-measurable-here fallback)
    needs: Text = field(default_factory=dict)
    explanation: Text = field(default_factory=dict)
    # verdict -> a sentence appended to the explanation when the runs give that verdict
    when: dict[str, Text] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)

    @property
    def queued(self) -> bool:
        """Whether ``serve`` and ``claims check`` run this check's runs here."""
        return self.kind in ("measured", "definition") and bool(self.runs)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckSpec:
        runs = [RunSpec(**r) for r in data.get("runs", [])]
        return cls(**{**data, "runs": runs})


@dataclass(frozen=True)
class ClaimChecks:
    checks: list[CheckSpec]
    parts: bool = False  # the checks are halves of the quote
    summary: Text = field(default_factory=dict)
    explanation: Text = field(default_factory=dict)  # overall (a claim of halves may omit it)

    @property
    def kind(self) -> str:
        kinds = {c.kind for c in self.checks}
        return kinds.pop() if len(kinds) == 1 else "mixed"

    def to_json(self) -> dict[str, Any]:
        return {
            "checks": [c.to_json() for c in self.checks],
            "parts": self.parts,
            "summary": self.summary,
            "explanation": self.explanation,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ClaimChecks:
        return cls(
            checks=[CheckSpec.from_json(c) for c in data["checks"]],
            parts=bool(data.get("parts")),
            summary=dict(data.get("summary") or {}),
            explanation=dict(data.get("explanation") or {}),
        )
