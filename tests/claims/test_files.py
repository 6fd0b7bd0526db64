"""Claim files are checked like the markdown: each problem is an error at ``file:line``,
one error means nothing is imported, and a good file's claims are stored and updated."""

from __future__ import annotations

import contextvars
import datetime as dt
import re
import shutil
import string
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.bank import BankReport, import_bank
from app.content.model import Diagnostic
from app.i18n import set_language
from app.models import Claim, Question
from tests.conftest import REPO_ROOT, SEED, WriteMd

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
T1 = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)

BANK = """
# 线性代数
### Q. 矩阵的秩
<!-- id: q-rank -->
> **Company**: 快手 | **Round**: 算法工程师 一面 | **Date**: 2025-09-01 | **Tags**: [LORA]
- 秩 ≤ min(行数, 列数)。
- 两个低秩矩阵的乘积 $A B$ 的秩不超过 **$r$**，所以 **LoRA 的更新是低秩的**。
"""

GOOD = """
- id: rank-bound
  question: q-rank
  quote: "秩 ≤ min(行数, 列数)"
  demo: rank
  params: {m: 12, n: 8, r: 3}
  supported: "rank <= min_dim"
  refuted: "rank > min_dim"
  explanation: "rank {rank:.0f} of a {min_dim:.0f}-column matrix"
  sources: ["any linear algebra text"]
- id: product-rank
  question: q-rank
  quote: "乘积 $A B$ 的秩不超过 **$r$**"
  demo: rank
  params: {m: 12, n: 8, r: 3}
  supported: "rank <= r"
  explanation: "rank {rank:.0f}, r = {r:.0f}"
"""


MATRIX = 'explanation: "rank {rank:.0f} of a {min_dim:.0f}-column matrix"'


def write_claims(content_dir: Path, text: str, name: str = "bank.yaml") -> Path:
    path = content_dir / "claims" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def run(factory: sessionmaker[Session], content_dir: Path, *, now: dt.datetime = T0) -> BankReport:
    with factory() as session, session.begin():
        return import_bank(session, paths=[content_dir], content_dir=content_dir, now=now)


def errors(report: BankReport) -> list[str]:
    return [str(d) for d in report.errors]


def test_a_good_claim_file_is_imported_with_the_questions(
    session_factory: sessionmaker[Session], content_dir: Path, write_md: WriteMd
) -> None:
    write_md("bank.md", BANK)
    write_claims(content_dir, GOOD)
    report = run(session_factory, content_dir)
    assert report.ok, errors(report)
    assert len(report.claims.claims) == 2
    with session_factory() as session:
        claims = {c.id: c for c in session.scalars(select(Claim))}
        assert set(claims) == {"rank-bound", "product-rank"}
        bound = claims["rank-bound"]
        assert bound.question_id == "q-rank"
        # Parameters are stored validated and complete (defaults filled in).
        assert bound.params == {"seed": 0, "m": 12, "n": 8, "r": 3, "noise": 0.0}
        assert bound.source_file == "claims/bank.yaml" and bound.source_line == 1
        assert claims["product-rank"].source_line == 10
        assert bound.sources == ["any linear algebra text"]


def test_a_claim_removed_from_its_file_is_archived_and_comes_back(
    session_factory: sessionmaker[Session], content_dir: Path, write_md: WriteMd
) -> None:
    write_md("bank.md", BANK)
    path = write_claims(content_dir, GOOD)
    assert run(session_factory, content_dir).ok
    first_only = GOOD[: GOOD.index("- id: product-rank")]
    path.write_text(textwrap.dedent(first_only).lstrip("\n"), encoding="utf-8")
    report = run(session_factory, content_dir, now=T1)
    assert report.ok and report.claims_archived == 1
    with session_factory() as session:
        archived = session.get(Claim, "product-rank")
        assert archived is not None and archived.archived_at == T1
    write_claims(content_dir, GOOD)
    assert run(session_factory, content_dir).ok
    with session_factory() as session:
        restored = session.get(Claim, "product-rank")
        assert restored is not None and restored.archived_at is None


@pytest.mark.parametrize(
    ("edit", "line", "message"),
    [
        (("  sources:", "  source:"), 9, "unknown key 'source'"),
        (("- id: rank-bound", "- id: Rank_Bound"), 1, "must be lowercase"),
        (("- id: product-rank", "- id: rank-bound"), 10, "already used at"),
        (('question: q-rank\n  quote: "秩', 'question: q-nope\n  quote: "秩'), 2, "q-nope"),
        (("秩 ≤ min(行数, 列数)", "秩 ≥ min(行数, 列数)"), 3, "is not in the answer"),
        (('列数)"\n  demo: rank', '列数)"\n  demo: ranks'), 4, "no demo"),
        (
            (
                'params: {m: 12, n: 8, r: 3}\n  supported: "rank <= min',
                'params: {m: 12, n: 8, r: 30}\n  supported: "rank <= min',
            ),
            5,
            "r: must be at most",
        ),
        (
            (
                'params: {m: 12, n: 8, r: 3}\n  supported: "rank <= min',
                'params: {m: 12, size: 8}\n  supported: "rank <= min',
            ),
            5,
            "size: unknown parameter",
        ),
        (("rank <= min_dim", "rank <= min_rank"), 6, "does not produce a figure 'min_rank'"),
        (("rank > min_dim", "rank >> min_dim"), 7, "refuted: expected a figure"),
        (("{rank:.0f} of", "{rank.__class__} of"), 8, "not a figure field"),
        (("{rank:.0f} of", "{rank.real} of"), 8, "does not produce a figure 'rank.real'"),
        (('  supported: "rank <= r"\n', ""), 10, "needs a 'supported' or a 'refuted'"),
        (
            ('  explanation: "rank {rank:.0f}, r', '  explain: "rank {rank:.0f}, r'),
            10,
            "lacks explanation",
        ),
        ((MATRIX, MATRIX + '\n  when: {maybe: "x"}'), 9, "when: maybe is not a verdict"),
        ((MATRIX, MATRIX + "\n  when: [supported]"), 9, "when maps a verdict"),
        (
            (MATRIX, MATRIX + '\n  when:\n    refuted: "rank {rnk:.0f}"'),
            10,
            "when.refuted: the demo does not produce a figure 'rnk'",
        ),
        (
            (MATRIX, MATRIX + '\n  when:\n    undecided: {en: "x", fr: "y"}'),
            10,
            "when.undecided: languages are en and zh, not fr",
        ),
    ],
)
def test_each_problem_is_an_error_at_its_line_and_nothing_is_imported(
    session_factory: sessionmaker[Session],
    content_dir: Path,
    write_md: WriteMd,
    edit: tuple[str, str],
    line: int,
    message: str,
) -> None:
    write_md("bank.md", BANK)
    old, new = edit
    assert old and GOOD.count(old) == 1, old
    write_claims(content_dir, GOOD.replace(old, new))
    report = run(session_factory, content_dir)
    assert not report.ok
    found = [e for e in errors(report) if message in e]
    assert found, errors(report)
    assert (
        found[0].startswith(f"claims/bank.yaml:{line}: error:") or f"bank.yaml:{line}:" in found[0]
    )
    with session_factory() as session:
        # One transaction: the questions were not imported either.
        assert session.scalars(select(Question)).all() == []
        assert session.scalars(select(Claim)).all() == []


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("- id: a\n  quote: [unclosed\n", 3, "flow sequence at line 2"),
        ("id: a\nquestion: q-rank\n", 1, "a claim file is a list"),
        ("- just text\n", 1, "each claim is a mapping"),
        ("- id: a\n  question: q-rank\n", 1, "lacks quote, explanation"),
        (
            "- id: 12\n  question: q-rank\n  quote: x\n  demo: rank\n  explanation: x\n",
            1,
            "id must be text",
        ),
        (
            '- id: a\n  question: q-rank\n  quote: "秩 ≤ min(行数, 列数)"\n  kind: cited\n'
            "  verdict: supported\n  sources: [a textbook]\n  explanation: x\n"
            '  when: {refuted: "y"}\n',
            8,
            "when: a claim without runs has a fixed verdict",
        ),
    ],
)
def test_malformed_files_are_errors_at_their_line(
    session_factory: sessionmaker[Session],
    content_dir: Path,
    write_md: WriteMd,
    text: str,
    line: int,
    message: str,
) -> None:
    write_md("bank.md", BANK)
    write_claims(content_dir, text)
    report = run(session_factory, content_dir)
    assert not report.ok
    assert any(f"bank.yaml:{line}: error:" in e and message in e for e in errors(report)), errors(
        report
    )


def test_a_dry_run_checks_the_claims_too(
    session_factory: sessionmaker[Session], content_dir: Path, write_md: WriteMd
) -> None:
    write_md("bank.md", BANK)
    write_claims(content_dir, GOOD.replace('列数)"\n  demo: rank', '列数)"\n  demo: nope'))
    with session_factory() as session:
        report = import_bank(
            session, paths=[content_dir], content_dir=content_dir, now=T0, dry_run=True
        )
    assert not report.ok and any("no demo is named 'nope'" in e for e in errors(report))


def test_quotes_of_questions_outside_this_import_are_found_in_the_database(
    session_factory: sessionmaker[Session], content_dir: Path, write_md: WriteMd
) -> None:
    bank = write_md("bank.md", BANK)
    other = write_md("other.md", "# 其他\n### Q. 别的\n> **Company**: 美团\n别的答案\n")
    assert run(session_factory, content_dir).ok
    write_claims(content_dir, GOOD)
    with session_factory() as session, session.begin():
        report = import_bank(session, paths=[other], content_dir=content_dir, now=T1)
    assert report.ok, errors(report)
    assert bank.exists() and len(report.claims.claims) == 2


# --- The shipped claims (content/claims/llm-sft.yaml) --------------------------------------

SHIPPED_CLAIMS = REPO_ROOT / "content" / "claims" / "llm-sft.yaml"
# The ids of the claims shipped before issue 15: the same statements keep their ids.
OLD_IDS = {
    "prompt-tuning-under-0-1-percent", "adapter-between-prefix-and-lora",
    "prefix-more-parameters-than-prompt", "lora-memory-above-prompt-prefix",
    "lora-orders-of-magnitude-fewer", "rank-at-most-min-dim", "product-of-low-rank-factors",
    "updates-have-low-rank-structure", "zero-b-starts-at-the-base-model",
    "only-b-gets-a-gradient-first", "seven-b-fp16-is-14-gb", "nf4-four-times-smaller",
    "sixty-five-b-on-24-gb", "double-quantization-saves-memory", "lora-r-d-plus-k",
    "low-rank-saves-training-memory", "mla-low-rank-like-lora", "mla-shrinks-the-kv-cache",
    "nf4-more-precise-than-int4", "dequantized-on-the-fly", "qlora-close-to-lora",
    "paged-optimizer-avoids-oom", "large-lr-blows-up-the-loss", "warmup-tames-a-large-lr",
    "clipping-limits-the-blow-up", "bf16-does-not-overflow", "gradscaler-handles-fp16-overflow",
    "bad-batch-makes-a-spike", "skipping-bad-batches-helps", "adapters-add-latency",
    "prefix-barely-adds-compute",
}  # fmt: skip


def check_shipped(session_factory: sessionmaker[Session], content_dir: Path) -> BankReport:
    """The seed chapter and the shipped claim file, checked (a dry run)."""
    shutil.copy(SEED, content_dir / SEED.name)
    (content_dir / "claims").mkdir()
    shutil.copy(SHIPPED_CLAIMS, content_dir / "claims" / SHIPPED_CLAIMS.name)
    with session_factory() as session:
        report = import_bank(
            session, paths=[content_dir], content_dir=content_dir, now=T0, dry_run=True
        )
    assert report.ok, errors(report)
    return report


def test_the_shipped_claims_are_complete_in_both_languages_and_judged_over_seeds(
    session_factory: sessionmaker[Session], content_dir: Path
) -> None:
    report = check_shipped(session_factory, content_dir)
    assert not report.claims.diagnostics, [str(d) for d in report.claims.diagnostics]
    claims = {c.id: c for c in report.claims.claims}
    assert OLD_IDS <= claims.keys() and len(claims) >= 60
    for claim in claims.values():
        assert set(claim.checks.summary) == {"en", "zh"}, claim.id
        for check in claim.checks.checks:
            for text in (check.explanation, *check.when.values()):
                assert set(text) == {"en", "zh"}, claim.id
                # A folded line break leaves no space between two Chinese characters, nor
                # after a full-width mark ("。 ΔW").
                assert not re.search(
                    r"[\u4e00-\u9fff，。；：] [\u4e00-\u9fff，。；：]", text["zh"]
                ), claim.id
                assert not re.search(r"[，。；：、（“）”] ", text["zh"]), claim.id
            if check.kind == "cited":
                assert check.verdict and check.sources, claim.id
            if check.kind == "not-measurable-here":
                assert set(check.needs) == {"en", "zh"}, claim.id
            if check.kind == "measured" and check.seeds:
                # Training claims: five seeds, and an effect inside the spread is undecided.
                assert check.seeds == [0, 1, 2, 3, 4] and check.undecided, claim.id
    # Two-half quotes are judged half by half; identities are not measurements.
    for two_halves in ("prefix-more-parameters-than-prompt", "lora-memory-above-prompt-prefix"):
        assert claims[two_halves].checks.parts and len(claims[two_halves].checks.checks) == 2
    for identity in ("rank-at-most-min-dim", "zero-b-starts-at-the-base-model", "lora-r-d-plus-k"):
        assert claims[identity].kind == "definition"
    assert claims["paged-optimizer-avoids-oom"].kind == "not-measurable-here"
    assert claims["paged-optimizer-avoids-oom"].checks.checks[0].device == "gpu"


def test_a_problem_keeps_its_template_and_values_for_a_chinese_reader(
    session_factory: sessionmaker[Session], content_dir: Path, write_md: WriteMd
) -> None:
    """The English stays what the CLI prints; a page reads the same problem in Chinese,
    the rule's own problem nested in it, also after a trip through ``Diagnostic``'s JSON
    (the parse cache's form)."""
    write_md("bank.md", BANK)
    write_claims(content_dir, GOOD.replace("rank > min_dim", "rank > (min_dim"))
    (problem,) = run(session_factory, content_dir).errors
    assert problem.message == "refuted: expected ')', found the end of the rule (column 16)"

    def in_chinese() -> list[str]:
        set_language("zh")
        return [problem.text, Diagnostic.from_json(problem.to_json()).text]

    text = "refuted：应为 ')'，但规则已经结束（第 16 列）"
    assert contextvars.copy_context().run(in_chinese) == [text, text]


def _figure_fields(text: str) -> set[tuple[str, str]]:
    """The ``{figure:spec}`` fields a claim text shows, with their format specs."""
    return {(name, spec or "") for _, name, spec, _ in string.Formatter().parse(text) if name}


def test_each_shipped_zh_text_shows_the_same_figures_as_its_en(
    session_factory: sessionmaker[Session], content_dir: Path
) -> None:
    # A reader of the zh page gets the same numbers as the en reader: every figure field
    # an en text shows (a spread, a second setting, the formula's count) is in its zh text,
    # formatted the same, and the zh shows none the en does not.
    report = check_shipped(session_factory, content_dir)
    mismatched: list[str] = []
    for claim in report.claims.claims:
        texts = [("summary", claim.checks.summary), ("explanation", claim.checks.explanation)]
        for i, check in enumerate(claim.checks.checks):
            texts += [
                (f"check {i} explanation", check.explanation),
                (f"check {i} needs", check.needs),
                *((f"check {i} when.{v}", text) for v, text in check.when.items()),
            ]
        for where, text in texts:
            if not text:
                continue
            en, zh = _figure_fields(text["en"]), _figure_fields(text["zh"])
            if en != zh:
                mismatched.append(f"{claim.id} {where}: en only {en - zh}, zh only {zh - en}")
    assert not mismatched, "\n".join(mismatched)
