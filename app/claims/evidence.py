"""The runs behind each check of a claim, and the check's verdict from them.

A check needs one run per seed × setting (``CheckSpec.runs``); its verdict reads the
newest succeeded run of each at the demo's current code version and is ``pending`` until
all exist, ``error`` when one failed or lacks a figure. A ``cited`` check's verdict is its
file's; a ``not-measurable-here`` check is judged from GPU runs when it names a demo and
every run it needs ran on cuda, else it says what would measure it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.claims.reasons import Reason, in_languages, status_reason
from app.claims.rule_parser import parse_rule
from app.claims.rules import MissingFigure, figure_names
from app.claims.spec import CheckSpec, ClaimChecks, RunSpec
from app.claims.spread import Evidence, Spread, spread_of
from app.claims.texts import LANGUAGES, Text, followed_by, read_text
from app.claims.verdict import Status, explain, judge, template_fields
from app.content.answers import demo_inputs
from app.demos import registry
from app.demos.base import run_version
from app.i18n import mark as _
from app.models import Claim, DemoRun
from app.models.runs import IN_FLIGHT, RunStatus

# demo, params hash, code version, and "cuda" when only runs that ran on a GPU count
RunKey = tuple[str, str, str, str]


def claim_checks(claim: Claim) -> ClaimChecks:
    """The claim's checks; a row imported before kinds existed is one measured run."""
    if claim.spec:
        return ClaimChecks.from_json(claim.spec)
    run = RunSpec("", None, dict(claim.params), claim.params_hash)
    check = CheckSpec(
        kind="measured",
        demo=claim.demo,
        runs=[run],
        supported=claim.supported_rule,
        refuted=claim.refuted_rule,
        explanation=read_text(claim.explanation),
        sources=list(claim.sources),
    )
    return ClaimChecks([check], explanation=check.explanation)


Versions = Mapping[str, str | None]


def demo_versions(names: Iterable[str]) -> dict[str, str | None]:
    """Each named demo's current run version (None: no such demo), each computed once
    for all the checks that name it. A demo that reads the bank's text (``inputs``) has
    it digested into its version; ``app.content.answers`` keeps that text while the
    files' bytes are unchanged."""
    versions: dict[str, str | None] = {}
    for name in dict.fromkeys(names):
        demo = registry().get(name)
        versions[name] = None if demo is None else run_version(demo, demo_inputs(demo.inputs))
    return versions


def check_keys(check: CheckSpec, versions: Versions | None = None) -> list[RunKey] | None:
    """The run keys of a check's runs, in order (None: its demo is unknown now);
    ``versions``: ``demo_versions`` of the checks' demos, when the caller has them."""
    if check.demo is None or not check.runs:
        return []
    if versions is None or check.demo not in versions:
        versions = demo_versions([check.demo])
    version = versions[check.demo]
    if version is None:
        return None
    device = "cuda" if check.device == "gpu" else ""
    return [(check.demo, r.params_hash, version, device) for r in check.runs]


def evidence_runs(
    session: Session, checks: Iterable[CheckSpec], versions: Versions | None = None
) -> dict[RunKey, DemoRun]:
    """For each run key: the newest succeeded run, else the newest queued or running,
    else the newest that failed."""
    checks = list(checks)
    if versions is None:
        versions = demo_versions(c.demo for c in checks if c.demo)
    keys = {key for c in checks for key in (check_keys(c, versions) or [])}
    if not keys:
        return {}
    rows = session.scalars(
        select(DemoRun)
        .where(
            DemoRun.demo.in_({k[0] for k in keys}),
            DemoRun.params_hash.in_({k[1] for k in keys}),
        )
        .order_by(DemoRun.id.desc())
    )
    rank: dict[str, int] = {RunStatus.SUCCEEDED: 0, RunStatus.QUEUED: 1, RunStatus.RUNNING: 1}
    best: dict[RunKey, DemoRun] = {}
    for run in rows:
        for device in ("", "cuda") if run.device == "cuda" else ("",):
            key = (run.demo, run.params_hash, run.code_version, device)
            if key not in keys:
                continue
            current = best.get(key)
            if current is None or rank.get(run.status, 2) < rank.get(current.status, 2):
                best[key] = run
    return best


@dataclass(frozen=True)
class CheckResult:
    """A check's verdict (or why there is none), in both languages."""

    check: CheckSpec
    status: Status
    shown_kind: str  # the check's kind, "measured" for a GPU-measured not-measurable-here
    # Why undecided / nuanced by both rules / pending / error: English (the CLI and the
    # JSON show it), a Reason that pages show in the reader's language (``reasons``).
    reason: str = ""
    explanation: Text = field(default_factory=dict)
    spreads: list[Spread] = field(default_factory=list)
    run_ids: list[int] = field(default_factory=list)

    @property
    def reasons(self) -> Text:
        """The reason in each language."""
        return in_languages(self.reason)

    @property
    def figures(self) -> dict[str, float]:
        return {s.name: s.mean for s in self.spreads}


def _texts(text: Text, evidence: Evidence | None) -> Text:
    if evidence is None:
        return dict(text)
    return {lang: explain(t, evidence) for lang, t in text.items()}


def judge_check(
    check: CheckSpec, runs: Mapping[RunKey, DemoRun], versions: Versions | None = None
) -> CheckResult:
    if check.kind == "cited":
        verdict: Status = check.verdict or "undecided"  # type: ignore[assignment]
        return CheckResult(check, verdict, "cited", explanation=dict(check.explanation))
    keys = check_keys(check, versions)
    if keys is None:
        unknown = Reason(_("no demo is named %(demo)s"), demo=repr(check.demo))
        return CheckResult(check, "error", check.kind, unknown)
    found = [runs.get(k) for k in keys]
    if check.kind == "not-measurable-here":
        complete = keys and all(r is not None and r.status == RunStatus.SUCCEEDED for r in found)
        if not complete:
            verdict = check.verdict or "undecided"  # type: ignore[assignment]
            needs = Reason.of_texts(check.needs) if check.needs else ""
            # An explanation written around a run's figures waits for the run: shown
            # now, its fields would read as raw ``{cap_gb:.1f}`` beside the verdict.
            said = {k: t for k, t in check.explanation.items() if not template_fields(t)}
            return CheckResult(check, verdict, check.kind, needs, explanation=said)
    return _measured(check, found)


def _measured(check: CheckSpec, found: list[DemoRun | None]) -> CheckResult:
    kind = "measured" if check.kind == "not-measurable-here" else check.kind
    run_ids = [r.id for r in found if r is not None]
    missing = sum(r is None for r in found)
    if missing:
        pending = (
            Reason(_("no run of its demo yet"))
            if missing == len(found)
            else Reason(
                _("%(missing)s of %(runs)s runs not made yet"), missing=missing, runs=len(found)
            )
        )
        return CheckResult(check, "pending", kind, pending, run_ids=run_ids)
    runs = [r for r in found if r is not None]
    for run in runs:
        if run.status in IN_FLIGHT:
            msgid = (
                _("run #%(run)s is queued")
                if run.status == RunStatus.QUEUED
                else _("run #%(run)s is running")
            )
            return CheckResult(check, "pending", kind, Reason(msgid, run=run.id), run_ids=run_ids)
    for run in runs:
        if run.status != RunStatus.SUCCEEDED or not run.result:
            return CheckResult(check, "error", kind, _run_error(run), run_ids=run_ids)
    evidence = _evidence(check, runs)
    rules = {
        key: parse_rule(text) if text else None
        for key, text in (
            ("supported", check.supported),
            ("refuted", check.refuted),
            ("undecided", check.undecided),
        )
    }
    try:
        judgement = judge(figures=evidence, **rules)
    except MissingFigure as exc:
        lacks = Reason(_("a run has no figure %(name)s"), name=repr(exc.name))
        return CheckResult(check, "error", kind, lacks, run_ids=run_ids)
    names: set[str] = set()
    for condition in rules.values():
        if condition is not None:
            names |= figure_names(condition)
    # The sentence the author wrote for this verdict, if any, ends the explanation.
    explanation = followed_by(check.explanation, check.when.get(judgement.verdict, {}))
    for template in explanation.values():
        names |= template_fields(template)
    spreads = [s for n in sorted(names - {"n"}) if (s := spread_of(n, evidence)) is not None]
    return CheckResult(
        check,
        judgement.verdict,
        kind,
        judgement.note,
        _texts(explanation, evidence),
        spreads,
        run_ids,
    )


def _run_error(run: DemoRun) -> Reason:
    """Why a finished run gives no figures: it failed, was cancelled, or has no result."""
    msgids: dict[str, str] = {
        RunStatus.FAILED: _("run #%(run)s failed"),
        RunStatus.CANCELLED: _("run #%(run)s cancelled"),
    }
    msgid = msgids.get(run.status, _("run #%(run)s succeeded"))
    status = Reason(msgid, run=run.id)
    return (
        Reason(_("%(status)s: %(error)s"), status=status, error=run.error) if run.error else status
    )


def _evidence(check: CheckSpec, runs: list[DemoRun]) -> Evidence:
    """One row per seed; a setting's figures under ``setting.name``."""
    seeds: list[int | None] = list(check.seeds) or [None]
    rows: list[dict[str, Any]] = [{} for _ in seeds]
    run_ids: dict[str, list[int]] = {}
    labels: dict[str, Any] = {}
    units: dict[str, str] = {}
    for spec, run in zip(check.runs, runs, strict=True):
        figures: dict[str, Any] = (run.result or {}).get("figures", {})
        row = rows[seeds.index(spec.seed)]
        prefix = f"{spec.setting}." if spec.setting else ""
        row.update({prefix + k: v for k, v in figures.items()})
        run_ids.setdefault(spec.setting, []).append(run.id)
        stored = (run.result or {}).get("figure_labels") or {}
        labels.update({prefix + k: v for k, v in stored.items() if prefix + k not in labels})
        declared = (run.result or {}).get("figure_units") or {}
        units.update({prefix + k: v for k, v in declared.items() if prefix + k not in units})
    return Evidence(tuple(rows), run_ids, labels, units)


def combine(results: list[CheckResult], *, parts: bool) -> tuple[Status, str]:
    """A claim's status from its checks' (halves'), and the reason for a mixed one."""
    if not parts:
        return results[0].status, results[0].reason
    statuses = [r.status for r in results]
    blocking: tuple[Status, ...] = ("error", "pending", "undecided")
    for status in blocking:
        if status in statuses:
            labels = "; ".join(r.check.label or "" for r in results if r.status == status)
            word = status_reason(status)  # an error's is "no verdict", as on the badge
            return status, Reason(_("%(status)s: %(labels)s"), status=word, labels=labels)
    if all(s == "supported" for s in statuses):
        return "supported", ""
    if all(s == "refuted" for s in statuses):
        return "refuted", ""
    holds, partly, fails = (
        "; ".join(r.check.label or "" for r in results if r.status == status) or "—"
        for status in ("supported", "nuanced", "refuted")
    )
    if partly == "—":
        mixed = Reason(_("holds: %(holds)s · does not hold: %(fails)s"), holds=holds, fails=fails)
    else:  # a nuanced half holds in part: not listed with those that do not hold
        mixed = Reason(
            _("holds: %(holds)s · partly holds: %(partly)s · does not hold: %(fails)s"),
            holds=holds,
            partly=partly,
            fails=fails,
        )
    return "nuanced", mixed


def all_languages(texts: Iterable[Text]) -> Text:
    """Texts joined per language (each in the other language where one lacks it)."""
    out: Text = {}
    items = [t for t in texts if t]
    for lang in LANGUAGES:
        pieces = [t.get(lang) or next(iter(t.values())) for t in items]
        if pieces:
            out[lang] = " ".join(pieces)
    return out
