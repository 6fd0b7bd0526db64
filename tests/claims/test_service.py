"""Verdicts come from stored runs: pending until a run finishes, then the rules applied
to the run's figures; a changed run changes the verdict, a changed demo makes it pending
again, and ``claims check`` runs what is missing and prints the table or JSON."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from app.bank import import_bank
from app.claims.service import claim_views
from app.cli import cli
from app.config import Settings
from app.demos import get_demo
from app.models import DemoRun
from app.runs.claims import queue_claim_runs
from app.worker.execute import execute
from tests.claims.test_files import BANK, GOOD, MATRIX, write_claims
from tests.conftest import WriteMd

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def bank(session_factory: sessionmaker[Session], content_dir: Path, write_md: WriteMd) -> None:
    write_md("bank.md", BANK)
    write_claims(content_dir, GOOD)
    with session_factory() as session, session.begin():
        report = import_bank(session, paths=[content_dir], content_dir=content_dir, now=T0)
    assert report.ok, [str(d) for d in report.errors]


def views(factory: sessionmaker[Session]) -> dict[str, Any]:
    with factory() as session:
        return {v.id: v for v in claim_views(session=session)}


def add_run(factory: sessionmaker[Session], base: DemoRun, figures: dict[str, float]) -> int:
    """A newer succeeded run of the same demo, parameters and code version, with
    ``figures`` in place of the stored ones (as a rerun that measured otherwise)."""
    with factory() as session:
        run = DemoRun(
            demo=base.demo,
            params=base.params,
            params_hash=base.params_hash,
            code_version=base.code_version,
            status="succeeded",
            created_at=T0,
            finished_at=T0,
            result={**(base.result or {}), "figures": figures},
        )
        session.add(run)
        session.commit()
        return run.id


@pytest.mark.usefixtures("bank")
def test_verdicts_are_pending_until_the_run_finishes_then_follow_its_figures(
    session_factory: sessionmaker[Session], engine: Engine
) -> None:
    before = views(session_factory)
    assert {v.status for v in before.values()} == {"pending"}
    assert before["rank-bound"].explanations == {
        "en": "no run of its demo yet",
        "zh": "它的演示还没有运行",
    }

    with session_factory() as session:
        queued = queue_claim_runs(session=session, now=T0)
        # Both claims use the same demo and parameters: one run serves both.
        assert len(queued) == 1
        assert queue_claim_runs(session=session, now=T0) == []  # already in flight
    waiting = views(session_factory)["rank-bound"]
    assert waiting.status == "pending" and waiting.run_id == queued[0]

    assert execute(queued[0], engine=engine, worker_host="test") == "succeeded"
    done = views(session_factory)
    bound = done["rank-bound"]
    assert bound.status == "supported" and bound.run_id == queued[0]
    assert bound.figures == {"rank": 3.0, "min_dim": 8.0}
    assert bound.explanation == "rank 3 of a 8-column matrix"
    assert done["product-rank"].status == "supported"

    with session_factory() as session:
        run = session.get(DemoRun, queued[0])
        assert run is not None and run.result is not None
        figures = dict(run.result["figures"], rank=9.0)
    newer = add_run(session_factory, run, figures)
    changed = views(session_factory)
    assert changed["rank-bound"].status == "refuted" and changed["rank-bound"].run_id == newer
    # product-rank has no refuted rule: neither condition holds, so it is nuanced.
    assert changed["product-rank"].status == "nuanced"


@pytest.mark.usefixtures("bank")
def test_a_changed_demo_makes_the_verdict_pending_and_queues_a_new_run(
    session_factory: sessionmaker[Session], engine: Engine
) -> None:
    with session_factory() as session:
        [first] = queue_claim_runs(session=session, now=T0)
    execute(first, engine=engine, worker_host="test")
    with session_factory() as session:
        session.execute(update(DemoRun).values(code_version="an-older-version"))
        session.commit()
    assert views(session_factory)["rank-bound"].status == "pending"
    with session_factory() as session:
        [second] = queue_claim_runs(session=session, now=T0)
        run = session.get(DemoRun, second)
        assert run is not None and run.code_version == get_demo("rank").code_version
        assert run.user_id is None  # claim runs belong to no user


@pytest.mark.usefixtures("bank")
def test_a_failed_run_or_a_missing_figure_gives_no_verdict_and_the_reason(
    session_factory: sessionmaker[Session], engine: Engine
) -> None:
    with session_factory() as session:
        [run_id] = queue_claim_runs(session=session, now=T0)
        session.execute(
            update(DemoRun)
            .where(DemoRun.id == run_id)
            .values(status="failed", error="worker died (exit code -9)")
        )
        session.commit()
    failed = views(session_factory)["rank-bound"]
    assert failed.status == "error" and "worker died" in failed.explanation
    assert failed.explanations == {
        "en": "run #1 failed: worker died (exit code -9)",
        "zh": "运行 #1 失败：worker died (exit code -9)",  # the worker's own words stay
    }
    with session_factory() as session:
        [retry] = queue_claim_runs(session=session, now=T0)  # a failed run is retried
    execute(retry, engine=engine, worker_host="test")
    with session_factory() as session:
        run = session.scalars(select(DemoRun).where(DemoRun.id == retry)).one()
        figures = {k: v for k, v in (run.result or {})["figures"].items() if k != "min_dim"}
    add_run(session_factory, run, figures)
    missing = views(session_factory)["rank-bound"]
    assert missing.status == "error" and "no figure 'min_dim'" in missing.explanations["en"]
    assert missing.explanation == "有一次运行缺少数值 'min_dim'"  # the reader's language: zh


@pytest.mark.usefixtures("bank")
def test_claims_check_runs_what_is_missing_and_prints_json(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    monkeypatch.setenv("IL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("IL_CONTENT_DIR", str(settings.content_dir))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    result = CliRunner().invoke(cli, ["claims", "check", "--format", "json"])
    assert result.exit_code == 0, result.output
    claims = {c["id"]: c for c in json.loads(result.stdout)}
    assert set(claims) == {"rank-bound", "product-rank"}
    bound = claims["rank-bound"]
    assert bound["verdict"] == "supported" and bound["question_id"] == "q-rank"
    assert bound["quote"] == "秩 ≤ min(行数, 列数)"
    assert bound["figures"] == {"rank": 3.0, "min_dim": 8.0}
    # Kind, every figure with its per-run values and spread, both languages, sources.
    assert bound["kind"] == "measured"
    assert {f["name"]: (f["values"], f["mean"], f["sd"], f["n"]) for f in bound["spread"]} == {
        "rank": ([3.0], 3.0, None, 1),
        "min_dim": ([8.0], 8.0, None, 1),
    }
    assert set(bound["spread"][0]) == {"name", "values", "run_ids", "mean", "sd", "min", "max", "n"}
    assert bound["explanations"] == {"en": "rank 3 of a 8-column matrix"}
    assert bound["explanation"] == "rank 3 of a 8-column matrix"
    assert bound["sources"] == ["any linear algebra text"] and bound["parts"] == []
    with session_factory() as session:
        runs = session.scalars(select(DemoRun)).all()
        assert [r.status for r in runs] == ["succeeded"] and bound["run_id"] == runs[0].id
    # A second check reuses the stored run; --rerun runs it again.
    again = CliRunner().invoke(cli, ["claims", "check"])
    assert again.exit_code == 0 and "rank-bound" in again.stdout and "supported" in again.stdout
    CliRunner().invoke(cli, ["claims", "check", "--rerun"])
    with session_factory() as session:
        assert len(session.scalars(select(DemoRun)).all()) == 2


def test_claims_check_without_claims_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    monkeypatch.setenv("IL_DATA_DIR", str(settings.data_dir))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    result = CliRunner().invoke(cli, ["claims", "check"])
    assert result.exit_code == 1 and "no claims are imported" in result.output


BILINGUAL = """explanation:
    en: "rank {rank:.0f} of a {min_dim:.0f}-column matrix."
    zh: "秩 {rank:.0f}，矩阵有 {min_dim:.0f} 列。"
  when:
    supported: {en: "At most the columns: as the quote says.", zh: "不超过列数：如原句所说。"}
    refuted:
      en: "Above {min_dim:.0f} columns: no rank can be."
      zh: "超过 {min_dim:.0f} 列：秩不可能如此。"
"""


def test_the_sentence_written_for_the_verdict_ends_the_explanation(
    session_factory: sessionmaker[Session], content_dir: Path, write_md: WriteMd, engine: Engine
) -> None:
    write_md("bank.md", BANK)
    write_claims(content_dir, GOOD.replace(MATRIX, BILINGUAL.strip()))
    with session_factory() as session, session.begin():
        report = import_bank(session, paths=[content_dir], content_dir=content_dir, now=T0)
    assert report.ok, [str(d) for d in report.errors]
    with session_factory() as session:
        [run_id] = queue_claim_runs(session=session, now=T0)
    # Pending: the reason, no verdict sentence.
    assert views(session_factory)["rank-bound"].explanations == {
        "en": f"run #{run_id} is queued",
        "zh": f"运行 #{run_id} 排队中",
    }
    execute(run_id, engine=engine, worker_host="test")
    supported = views(session_factory)["rank-bound"]
    assert supported.status == "supported"
    assert supported.explanations == {
        "en": "rank 3 of a 8-column matrix. At most the columns: as the quote says.",
        "zh": "秩 3，矩阵有 8 列。不超过列数：如原句所说。",
    }
    with session_factory() as session:
        run = session.get(DemoRun, run_id)
        assert run is not None and run.result is not None
        figures = dict(run.result["figures"], rank=9.0)
    add_run(session_factory, run, figures)
    changed = views(session_factory)
    refuted = changed["rank-bound"]
    assert refuted.status == "refuted"
    assert refuted.explanations == {
        "en": "rank 9 of a 8-column matrix. Above 8 columns: no rank can be.",
        "zh": "秩 9，矩阵有 8 列。超过 8 列：秩不可能如此。",
    }
    # A verdict without a sentence adds nothing; a claim without ``when`` is as written.
    assert changed["product-rank"].status == "nuanced"
    assert changed["product-rank"].explanation == "rank 9, r = 3"
