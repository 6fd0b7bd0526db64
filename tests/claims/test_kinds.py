"""Claim kinds, runs over seeds and settings, the undecided rule, halves and languages:
each through the real import, the real queue and real runs of a test demo."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import pytest
from pydantic import Field
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session, sessionmaker

import app.demos
from app.bank import import_bank
from app.claims.evidence import CheckResult, combine
from app.claims.reasons import in_language
from app.claims.service import ClaimView, claim_views
from app.claims.spec import CheckSpec
from app.demos.base import Demo, DemoParams, DemoResult, RunContext, run_version
from app.i18n import current_language, set_language
from app.models import DemoRun
from app.models.runs import params_hash
from app.runs import lifecycle
from app.runs.claims import queue_claim_runs
from app.worker.execute import execute
from tests.claims.test_files import BANK, write_claims
from tests.conftest import WriteMd

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


class CoinParams(DemoParams):
    bias: float = Field(default=0.0, ge=-10, le=10)
    spread: float = Field(default=1.0, ge=0, le=10)


def _coin(params: Any, ctx: RunContext) -> DemoResult:
    """A seed-dependent measurement: ``gap`` = bias + noise of SD ``spread``."""
    noise = random.Random(params.seed).gauss(0.0, 1.0)
    return DemoResult(
        figures={"gap": params.bias + params.spread * noise, "bias": params.bias},
        conclusion="drawn",
    )


COIN = Demo(
    name="coin",
    title="coin",
    summary="a seed-dependent gap",
    claims=(),
    params=CoinParams,
    run=_coin,
    uses_gpu=False,
    figure_names=lambda p: ("gap", "bias"),
)


@pytest.fixture(autouse=True)
def coin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.demos._REGISTRY, "coin", COIN)


def load(
    factory: sessionmaker[Session], content_dir: Path, write_md: WriteMd, claims: str
) -> list[str]:
    write_md("bank.md", BANK)
    write_claims(content_dir, claims)
    with factory() as session, session.begin():
        report = import_bank(session, paths=[content_dir], content_dir=content_dir, now=T0)
    return [str(d) for d in report.problems]


def run_all(factory: sessionmaker[Session], engine: Engine) -> list[int]:
    with factory() as session:
        queued = queue_claim_runs(session=session, now=T0)
    for run_id in queued:
        assert execute(run_id, engine=engine, worker_host="test") == "succeeded"
    return queued


def views(factory: sessionmaker[Session]) -> dict[str, ClaimView]:
    with factory() as session:
        return {v.id: v for v in claim_views(session=session)}


def explained(factory: sessionmaker[Session], language: str) -> dict[str, str]:
    """Each claim's explanation as a reader of ``language`` sees it."""
    before = current_language()
    set_language(language)
    try:
        return {k: v.explanation for k, v in views(factory).items()}
    finally:
        set_language(before)


QUOTE = "秩 ≤ min(行数, 列数)"
SEEDS = f"""
- id: inside
  question: q-rank
  quote: "{QUOTE}"
  demo: coin
  params: {{bias: 0.05, spread: 1.0}}
  seeds: [0, 1, 2, 3, 4]
  undecided: "abs(mean(gap)) < 2 * sd(gap)"
  supported: "mean(gap) > 0"
  refuted: "mean(gap) <= 0"
  explanation: {{en: "gap {{mean(gap):.2f}} ± {{sd(gap):.2f}} over {{n}} seeds", zh: "差 {{mean(gap):.2f}}（{{n}} 个种子）"}}
- id: outside
  question: q-rank
  quote: "{QUOTE}"
  demo: coin
  params: {{bias: 5.0, spread: 0.1}}
  seeds: [0, 1, 2, 3, 4]
  undecided: "abs(mean(gap)) < 2 * sd(gap)"
  supported: "mean(gap) > 0"
  refuted: "mean(gap) <= 0"
  explanation: {{en: "gap {{mean(gap):.2f}}", zh: "差 {{mean(gap):.2f}}"}}
"""


def test_an_effect_inside_its_seed_spread_is_undecided_and_one_outside_is_decided(
    session_factory: sessionmaker[Session], content_dir: Path, write_md: WriteMd, engine: Engine
) -> None:
    assert load(session_factory, content_dir, write_md, SEEDS) == []
    assert {v.status for v in views(session_factory).values()} == {"pending"}
    queued = run_all(session_factory, engine)
    assert len(queued) == 10  # every seed of both claims
    found = views(session_factory)
    inside, outside = found["inside"], found["outside"]
    # mean(gap) > 0 holds for "inside" (so without the undecided rule it would be
    # supported), but the effect is inside the seed-to-seed spread.
    gap = next(s for s in inside.spreads if s.name == "gap")
    assert gap.n == 5 and gap.sd is not None and gap.mean > 0
    assert abs(gap.mean) < 2 * gap.sd
    assert inside.status == "undecided"
    assert "inside the spread" in inside.note  # the CLI's and the JSON's English
    # A page shows it in the reader's language, the rule's figures as they are.
    zh = in_language(inside.note, "zh")
    assert zh.startswith("效应在多次运行的波动范围之内：abs(mean(gap)) = ")
    assert "over 5 seeds" in inside.explanations["en"]
    assert outside.status == "supported" and outside.kind == "measured"
    assert len(outside.run_ids) == 5


def test_settings_are_paired_by_seed_and_one_run_cannot_measure_a_spread(
    session_factory: sessionmaker[Session], content_dir: Path, write_md: WriteMd, engine: Engine
) -> None:
    claims = f"""
    - id: settings
      question: q-rank
      quote: "{QUOTE}"
      demo: coin
      seeds: [0, 1, 2]
      runs: {{low: {{bias: 0.0}}, high: {{bias: 1.0}}}}
      undecided: "abs(mean(high.gap - low.gap)) < 2 * sd(high.gap - low.gap)"
      supported: "mean(high.gap - low.gap) > 0.5"
      explanation: {{en: "high {{mean(high.gap):.2f}}", zh: "高 {{mean(high.gap):.2f}}"}}
    - id: single
      question: q-rank
      quote: "{QUOTE}"
      demo: coin
      undecided: "sd(gap) > 1"
      supported: "gap > -100"
      explanation: {{en: "gap {{gap:.2f}}", zh: "差 {{gap:.2f}}"}}
    """
    assert load(session_factory, content_dir, write_md, claims) == []
    # 2 settings × 3 seeds; "single" (seed 0, bias 0) shares the run of low at seed 0.
    assert len(run_all(session_factory, engine)) == 6
    found = views(session_factory)
    # The paired difference is exactly 1.0 on every seed: sd 0, the effect is decided.
    assert found["settings"].status == "supported"
    assert {s.name for s in found["settings"].spreads} >= {"high.gap", "low.gap"}
    assert found["single"].status == "undecided" and "too few runs" in found["single"].note
    assert (
        in_language(found["single"].note, "zh")
        == "运行次数太少，无法衡量波动（n = 1；标准差至少需要 2 次）"
    )


KINDS = f"""
- id: by-definition
  question: q-rank
  quote: "{QUOTE}"
  kind: definition
  demo: rank
  params: {{m: 12, n: 8, r: 3}}
  supported: "rank <= min_dim"
  explanation: {{en: "rank {{rank:.0f}} ≤ {{min_dim:.0f}} by definition", zh: "按定义秩 {{rank:.0f}} ≤ {{min_dim:.0f}}"}}
- id: cited
  question: q-rank
  quote: "{QUOTE}"
  kind: cited
  verdict: refuted
  sources: ["Biderman et al. 2024, §4"]
  explanation: {{en: "The paper measured otherwise.", zh: "论文的测量结果相反。"}}
- id: gpu-only
  question: q-rank
  quote: "{QUOTE}"
  kind: not-measurable-here
  needs: {{en: "a GPU run of the paged optimizer", zh: "需要在 GPU 上运行分页优化器"}}
  explanation: {{en: "Needs a GPU.", zh: "需要 GPU。"}}
- id: halves
  question: q-rank
  quote: "{QUOTE}"
  demo: rank
  params: {{m: 12, n: 8, r: 3}}
  parts:
    - label: "秩 ≤ min"
      kind: definition
      supported: "rank <= min_dim"
      explanation: {{en: "rank {{rank:.0f}}", zh: "秩 {{rank:.0f}}"}}
    - label: "(行数, 列数)"
      kind: cited
      verdict: refuted
      sources: ["a made-up source"]
      explanation: {{en: "cited the other way", zh: "文献相反"}}
"""


def test_each_kind_has_its_verdict_and_halves_combine(
    session_factory: sessionmaker[Session], content_dir: Path, write_md: WriteMd, engine: Engine
) -> None:
    assert load(session_factory, content_dir, write_md, KINDS) == []
    pending = views(session_factory)
    # Cited and not-measurable-here claims need no run: they are decided from the file.
    assert pending["cited"].status == "refuted" and pending["cited"].kind == "cited"
    assert pending["gpu-only"].status == "undecided"
    assert pending["gpu-only"].kind == "not-measurable-here"
    assert "paged optimizer" in pending["gpu-only"].note
    assert in_language(pending["gpu-only"].note, "zh") == "需要在 GPU 上运行分页优化器"
    assert in_language(pending["halves"].note, "zh") == "待测：秩 ≤ min"
    assert pending["by-definition"].status == "pending"
    assert pending["halves"].status == "pending"

    assert len(run_all(session_factory, engine)) == 1  # the rank run, shared
    found = views(session_factory)
    assert found["by-definition"].status == "supported"
    assert found["by-definition"].kind == "definition"
    halves = found["halves"]
    assert halves.kind == "mixed" and [p.kind for p in halves.parts] == ["definition", "cited"]
    assert halves.status == "nuanced"
    assert "holds: 秩 ≤ min" in halves.note and "does not hold: (行数, 列数)" in halves.note
    assert in_language(halves.note, "zh") == "成立：秩 ≤ min · 不成立：(行数, 列数)"
    english = explained(session_factory, "en")["halves"]
    assert "rank 3" in english and "cited the other way" in english
    assert "[(行数, 列数) — refuted] cited the other way" in english
    chinese = explained(session_factory, "zh")["halves"]
    assert chinese.count("文献相反") == 1 and "[秩 ≤ min — 成立] 秩 3" in chinese


def test_explanations_follow_the_readers_language(
    session_factory: sessionmaker[Session], content_dir: Path, write_md: WriteMd, engine: Engine
) -> None:
    assert load(session_factory, content_dir, write_md, KINDS) == []
    assert explained(session_factory, "en")["cited"] == "The paper measured otherwise."
    assert explained(session_factory, "zh")["cited"] == "论文的测量结果相反。"
    one = views(session_factory)["cited"].as_dict()
    assert one["explanations"] == {
        "en": "The paper measured otherwise.",
        "zh": "论文的测量结果相反。",
    }


BASE = f"""
- id: a
  question: q-rank
  quote: "{QUOTE}"
  demo: coin
  supported: "gap > 0"
  explanation: {{en: "gap", zh: "差"}}
"""


@pytest.mark.parametrize(
    ("edit", "line", "message"),
    [
        (("  demo: coin", "  kind: guessed\n  demo: coin"), 4, "kind must be one of"),
        (("  demo: coin", "  seeds: [1, 1]\n  demo: coin"), 4, "distinct non-negative"),
        (("  demo: coin", "  seeds: 3\n  demo: coin"), 4, "seeds must be a list"),
        (("  demo: coin", "  demo: coin\n  runs: {Bad-Name: {bias: 1}}"), 5, "must be named"),
        (("  demo: coin", "  demo: coin\n  runs: {hi: {bias: 99}}"), 5, "setting hi"),
        (("  demo: coin", "  demo: coin\n  runs: {hi: {bias: 1}}"), 6, "figure 'gap'"),
        (('{en: "gap"', '{fr: "gap"'), 6, "languages are en and zh"),
        (("  demo: coin", "  demo: coin\n  verdict: supported"), 5, "comes from its runs"),
        (
            ('  demo: coin\n  supported: "gap > 0"', "  kind: cited\n  verdict: refuted"),
            1,
            "a cited claim needs sources",
        ),
        (("  demo: coin", "  kind: cited\n  verdict: refuted\n  demo: coin"), 6, "has no demo"),
        (("  demo: coin", "  kind: not-measurable-here\n  demo: coin"), 1, "lacks needs"),
        (("gap > 0", "sd(mean(gap)) > 0"), 5, "inside another aggregate"),
        (("explanation: {", "parts: [{label: x}]\n  explanation: {"), 6, "at least two"),
    ],
)
def test_bad_new_fields_are_errors_at_their_line(
    session_factory: sessionmaker[Session],
    content_dir: Path,
    write_md: WriteMd,
    edit: tuple[str, str],
    line: int,
    message: str,
) -> None:
    old, new = edit
    assert BASE.count(old) == 1, old
    problems = load(session_factory, content_dir, write_md, BASE.replace(old, new))
    assert any(f"bank.yaml:{line}: error:" in p and message in p for p in problems), problems


def test_a_text_in_one_language_is_a_warning_and_still_imports(
    session_factory: sessionmaker[Session], content_dir: Path, write_md: WriteMd
) -> None:
    problems = load(
        session_factory, content_dir, write_md, BASE.replace('{en: "gap", zh: "差"}', '"gap"')
    )
    assert len(problems) == 1
    assert problems[0].endswith(
        "bank.yaml:6: warning: explanation has no zh text (write {en: ..., zh: ...})"
    )
    assert set(views(session_factory)) == {"a"}


def test_a_gpu_claim_is_not_queued_and_becomes_measured_from_a_cuda_run(
    session_factory: sessionmaker[Session], content_dir: Path, write_md: WriteMd, engine: Engine
) -> None:
    claims = f"""
    - id: gpu
      question: q-rank
      quote: "{QUOTE}"
      kind: not-measurable-here
      needs: {{en: "a GPU worker", zh: "需要 GPU"}}
      device: gpu
      demo: coin
      supported: "gap > -100"
      explanation: {{en: "gap {{gap:.2f}}", zh: "差 {{gap:.2f}}"}}
    """
    assert load(session_factory, content_dir, write_md, claims) == []
    assert run_all(session_factory, engine) == []  # no CPU worker can measure it
    waiting = views(session_factory)["gpu"]
    assert waiting.status == "undecided" and "a GPU worker" in waiting.note
    # Its explanation is written around the run's figures: not shown before the run.
    assert waiting.explanations == {}
    with session_factory() as session:
        queued = lifecycle.queue_unowned_run(
            session=session,
            demo="coin",
            params=CoinParams().model_dump(mode="json"),
            params_hash=params_hash(CoinParams().model_dump(mode="json")),
            code_version=run_version(COIN, {}),
            now=T0,
        )
        session.commit()
    assert execute(queued, engine=engine, worker_host="test") == "succeeded"
    # A CPU run does not count for a GPU claim ...
    assert views(session_factory)["gpu"].status == "undecided"
    with session_factory() as session:
        session.execute(update(DemoRun).where(DemoRun.id == queued).values(device="cuda"))
        session.commit()
    # ... a run on cuda does: the claim is measured from it.
    gpu = views(session_factory)["gpu"]
    assert gpu.status == "supported" and gpu.kind == "measured" and gpu.run_ids == [queued]


def test_a_half_that_holds_in_part_is_not_listed_with_those_that_do_not() -> None:
    """Halves supported, nuanced and refuted: the claim is nuanced, and its note names
    each half under what it is (a nuanced half was listed under "does not hold")."""
    halves = [
        CheckResult(CheckSpec("cited", label=label, verdict=status), status, "cited")  # type: ignore[arg-type]
        for label, status in (("存储", "supported"), ("计算", "nuanced"), ("还原", "refuted"))
    ]
    status, note = combine(halves, parts=True)
    assert status == "nuanced"
    assert note == "holds: 存储 · partly holds: 计算 · does not hold: 还原"
    assert in_language(note, "zh") == "成立：存储 · 部分成立：计算 · 不成立：还原"
    status, note = combine(halves[:2], parts=True)
    assert (status, note) == ("nuanced", "holds: 存储 · partly holds: 计算 · does not hold: —")
