"""The shipped claims on LoRA's init that lora_roles measures (b-zero-keeps-stability,
init-converges-fast), judged by their own rules on real default runs at their seeds, as
``claims check`` judges them: each half reaches the verdict its explanation argues, and
every field of the explanations renders."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from app.claims.rule_parser import parse_rule
from app.claims.spread import Evidence
from app.claims.verdict import explain, judge
from app.demos.base import RunContext, validate_params
from app.demos.lora_roles import DEMO
from app.worker.execute import json_safe
from tests.conftest import REPO_ROOT
from tests.demos.support import Recorder

CLAIMS = REPO_ROOT / "content" / "claims" / "llm-sft.yaml"
MEASURED = ("b-zero-keeps-stability", "init-converges-fast")


def shipped(claim_id: str) -> dict[str, Any]:
    claims = yaml.safe_load(CLAIMS.read_text(encoding="utf-8"))
    return next(c for c in claims if c["id"] == claim_id)


@pytest.fixture(scope="module")
def evidence() -> Evidence:
    """One default run per seed of the claims (both claims share demo, params and seeds),
    its figures as a finished run stores them."""
    first = shipped(MEASURED[0])
    for claim_id in MEASURED:
        claim = shipped(claim_id)
        assert (claim["demo"], claim["params"], claim["seeds"]) == (
            "lora_roles", first["params"], first["seeds"],
        )  # fmt: skip
    rows = []
    for seed in first["seeds"]:
        params = validate_params(DEMO, {**first["params"], "seed": seed})
        result = DEMO.run(params, RunContext(device="cpu", report=Recorder()))
        rows.append(json_safe(result.figures))
    return Evidence(tuple(rows))


def verdicts(claim_id: str, evidence: Evidence) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in shipped(claim_id)["parts"]:
        rules = {
            key: parse_rule(part[key]) if part.get(key) else None
            for key in ("supported", "refuted", "undecided")
        }
        out[part["label"]] = judge(figures=evidence, **rules).verdict
    return out


@pytest.mark.slow  # five default runs: ~10 s each on one busy core
def test_each_half_reaches_the_verdict_its_text_argues(evidence: Evidence) -> None:
    # B = 0 is the base at step 0 (an identity); a random start measurably costs the
    # base's own task, so "avoids a sudden drop" holds.
    assert verdicts("b-zero-keeps-stability", evidence) == {
        "一开始不引入扰动": "supported",
        "避免模型性能骤降": "supported",
    }
    # Each init at its own best rate: B = 0 and A = 0 end level within the seeds' spread
    # at this width, which the text says plainly.
    assert verdicts("init-converges-fast", evidence) == {
        "保证初始等价于原模型": "supported",
        "让训练快速收敛": "undecided",
    }


@pytest.mark.slow
def test_every_explanation_field_renders_from_the_runs(evidence: Evidence) -> None:
    for claim_id in MEASURED:
        for part in shipped(claim_id)["parts"]:
            for language in ("en", "zh"):
                template = part["explanation"][language]
                said = explain(template, evidence)
                # A field without its figure (or a NaN one) shows as "?" or "nan".
                assert said.count("?") == template.count("?"), said
                assert "{" not in said and "nan" not in said, said
