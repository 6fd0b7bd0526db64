"""What an import of sources found and did, in the form the Sources page shows and each
source keeps (``Source.last_import``): so the page can redirect after an import (a reload
does not post the form again) and the report of any source's last import stays one link
away.

The same shape serves the check before an import (``dry_run``): the page shows one report,
whichever it is. Problems keep their English template and values (``Diagnostic.to_json``),
so a stored report reads in the language of whoever opens it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from app.content.importer import ImportReport
from app.content.model import Diagnostic
from app.content.names import merges

# Values shown per facet (company, stage, tag), the most frequent first.
TOP_VALUES = 20
FACETS = ("company", "stage", "tag")


@dataclass(frozen=True)
class ImportOutcome:
    dry_run: bool
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    restored: int = 0
    archived: int = 0
    at: dt.datetime | None = None  # when it was written (None for a check)
    files: list[tuple[str, int]] = field(default_factory=list)  # source file, questions
    problems: list[Diagnostic] = field(default_factory=list)  # every warning and error
    merges: list[str] = field(default_factory=list)  # "spelling -> name"
    kept_apart: list[str] = field(default_factory=list)
    counts: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(d.level == "error" for d in self.problems)

    @classmethod
    def of(cls, report: ImportReport, *, at: dt.datetime | None = None) -> ImportOutcome:
        counts = report.counts()
        return cls(
            dry_run=report.dry_run,
            created=report.created,
            updated=report.updated,
            unchanged=report.unchanged,
            restored=report.restored,
            archived=report.archived,
            at=at,
            files=[(f.source_file, len(f.questions)) for f in report.files],
            # A file's problems name it by its key in the bank (``notes/a.md``).
            problems=[replace(d, file=f.source_file) for f in report.files for d in f.diagnostics]
            + report.problems,
            merges=merges(report.company_names) + report.tag_merges,
            kept_apart=list(report.kept_apart),
            counts={facet: counts[facet].most_common(TOP_VALUES) for facet in FACETS},
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "restored": self.restored,
            "archived": self.archived,
            "at": self.at.isoformat() if self.at else None,
            "files": [list(f) for f in self.files],
            "problems": [d.to_json() for d in self.problems],
            "merges": self.merges,
            "kept_apart": self.kept_apart,
            "counts": {facet: [list(c) for c in pairs] for facet, pairs in self.counts.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ImportOutcome:
        at = data.get("at")
        return cls(
            dry_run=bool(data["dry_run"]),
            created=int(data["created"]),
            updated=int(data["updated"]),
            unchanged=int(data["unchanged"]),
            restored=int(data["restored"]),
            archived=int(data["archived"]),
            at=dt.datetime.fromisoformat(at) if at else None,
            files=[(str(name), int(n)) for name, n in data["files"]],
            problems=[Diagnostic.from_json(d) for d in data["problems"]],
            merges=[str(m) for m in data["merges"]],
            kept_apart=[str(k) for k in data["kept_apart"]],
            counts={
                facet: [(str(k), int(v)) for k, v in pairs]
                for facet, pairs in data["counts"].items()
            },
        )
