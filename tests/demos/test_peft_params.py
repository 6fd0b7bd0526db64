"""The PEFT parameter-count demo: published totals and PEFT printouts reproduced exactly,
every method's meta-device count equal to its formula, the named figures the claims
read, the memory and inference models, parameter validation, and no torch at import."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.demos.base import DemoResult, RunContext, params_schema, validate_params
from app.demos.peft_count import DEMO
from app.demos.peft_count.formulas import nf4_bytes
from app.demos.peft_count.params import PeftParams
from app.demos.peft_count.presets import METHOD_TITLES, METHODS, PRESETS, PUBLISHED_TOTALS
from app.demos.text import t
from app.errors import Unprocessable
from tests.demos.english import english, msgid
from tests.demos.support import Recorder

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_peft(recorder: Recorder | None = None, **raw: Any) -> DemoResult:
    params = validate_params(DEMO, raw)
    return DEMO.run(params, RunContext(device="cpu", report=recorder or Recorder()))


def failed_checks(result: DemoResult) -> list[str]:
    return [
        f"{english(check.name)}: {english(check.detail)}"
        for check in result.checks
        if not check.passed
    ]


@pytest.mark.parametrize(("preset", "total"), sorted(PUBLISHED_TOTALS.items()))
def test_published_totals_exactly(preset: str, total: int) -> None:
    result = run_peft(preset=preset)
    assert result.figures["total_params"] == total
    assert result.figures["trainable_full"] == total
    assert not failed_checks(result)
    assert any(english(check.name).endswith(f"published {total:,}") for check in result.checks)


def test_the_issue_s_totals() -> None:
    assert PUBLISHED_TOTALS["llama-2-7b"] == 6_738_415_616
    assert PUBLISHED_TOTALS["llama-2-70b"] == 68_976_648_192
    assert PUBLISHED_TOTALS["qwen2.5-3b"] == 3_085_938_688
    assert PUBLISHED_TOTALS["mistral-7b"] == 7_241_732_096


def test_peft_readme_qwen2_5_3b_lora_r16_q_v() -> None:
    # trainable params: 3,686,400 || all params: 3,089,625,088
    result = run_peft(preset="qwen2.5-3b", lora_r=16, lora_target_modules="q_proj,v_proj")
    assert result.figures["trainable_lora"] == 3_686_400
    assert result.figures["all_params_lora"] == 3_089_625_088
    assert result.figures["total_params"] + 3_686_400 == 3_089_625_088
    assert result.figures["lora_formula_r_d_plus_k"] == 3_686_400
    assert result.figures["trainable_pct_lora"] == pytest.approx(100 * 3_686_400 / 3_089_625_088)


@pytest.mark.parametrize(("r", "trainable"), [(8, 37_748_736), (1, 4_718_592)])
def test_lora_paper_gpt3_175b_q_v(r: int, trainable: int) -> None:
    result = run_peft(preset="gpt3-175b", lora_r=r, lora_target_modules="q,v")
    assert result.figures["trainable_lora"] == trainable
    assert result.figures["lora_formula_r_d_plus_k"] == trainable
    # Full fine-tuning of the same matrices: 96 layers · 2 · 12288².
    assert result.figures["full_dk"] == 96 * 2 * 12288**2
    assert not failed_checks(result)


def test_llama_3_2_1b_lora_r8_q_through_custom() -> None:
    # The custom defaults are Llama-3.2-1B's shape; PEFT prints 524,288 || 1,236,338,688.
    result = run_peft(preset="custom", lora_r=8, lora_target_modules="q")
    assert result.figures["trainable_lora"] == 524_288
    assert result.figures["all_params_lora"] == 1_236_338_688


def test_trainable_counts_of_other_architectures_printouts() -> None:
    # bloomz-560m and opt-350m are not llama-shaped (ALiBi/LayerNorm, learned positions,
    # project_in/out), so their "all params" are out of reach; their trainable counts
    # depend only on h = 1024 and L = 24, which a custom decoder reproduces.
    shape: dict[str, Any] = {"preset": "custom", "custom_hidden": 1024, "custom_layers": 24}
    shape |= {"custom_heads": 16, "custom_kv_heads": 16}
    figures = run_peft(
        **shape,
        prompt_virtual_tokens=8,
        prefix_virtual_tokens=20,
        ptuning_virtual_tokens=20,
        ptuning_encoder_hidden=128,
        lora_r=16,
    ).figures
    assert figures["trainable_prompt"] == 8_192
    assert figures["trainable_prefix"] == 983_040
    assert figures["trainable_ptuning"] == 300_288
    assert figures["trainable_lora"] == 1_572_864  # opt-350m, r=16 on q_proj, v_proj


@pytest.mark.parametrize("preset", [*PRESETS, "custom"])
def test_every_meta_count_equals_its_formula(preset: str) -> None:
    result = run_peft(preset=preset, prefix_projection=True, lora_target_modules="q,k,v,o,up,down")
    assert not failed_checks(result)
    names = [msgid(check.name) for check in result.checks]
    assert names.count("%(method)s: meta-device count = formula") == 9


def test_named_figures_for_the_claims() -> None:
    figures = run_peft().figures
    for method in METHODS:
        for stem in (
            "trainable",
            "trainable_pct",
            "adapter_bytes",
            "train_memory_gb",
            "inference_extra_kv_tokens",
            "inference_extra_layers",
        ):
            assert f"{stem}_{method}" in figures
    for name in ("total_params", "lora_formula_r_d_plus_k", "full_dk"):
        assert name in figures


def test_formulas_by_hand_on_llama_2_7b() -> None:
    f = run_peft(
        lora_r=8,
        prompt_virtual_tokens=10,
        prefix_virtual_tokens=10,
        ptuning_virtual_tokens=10,
        ptuning_encoder_hidden=128,
        adapter_bottleneck=64,
    ).figures
    h, L, I = 4096, 32, 11008  # noqa: E741
    assert f["trainable_lora"] == L * 8 * 2 * (h + h)
    assert f["trainable_prompt"] == 10 * h
    assert f["trainable_prefix"] == 10 * L * 2 * h
    assert f["trainable_ptuning"] == 10 * h + (h * 128 + 128) + (128 * 128 + 128) + (128 * h + h)
    assert f["trainable_adapter_houlsby"] == L * 2 * (2 * h * 64 + 64 + h)
    assert f["trainable_adapter_pfeiffer"] == L * (2 * h * 64 + 64 + h)
    assert f["trainable_ia3"] == L * (h + h + I)
    assert f["trainable_pct_full"] == 100.0
    assert f["trainable_pct_prompt"] < 0.1


def test_gqa_narrows_prefix_and_ia3_on_mistral() -> None:
    f = run_peft(preset="mistral-7b", prefix_virtual_tokens=10).figures
    kv = 8 * 128  # 8 KV heads of 128
    assert f["trainable_prefix"] == 10 * 32 * 2 * kv
    assert f["trainable_ia3"] == 32 * (kv + kv + 14336)
    assert f["inference_extra_kv_tokens_prefix"] == 10
    assert f["inference_extra_kv_entries_prefix"] == 10 * 32 * 2 * kv


def test_saved_adapter_bytes() -> None:
    f = run_peft(save_dtype="bf16", prefix_projection=True, prefix_virtual_tokens=10).figures
    assert f["adapter_bytes_lora"] == 2 * f["trainable_lora"]
    assert f["adapter_bytes_full"] == 2 * f["total_params"]
    # PEFT saves the prefix the MLP produces, not the MLP.
    assert f["adapter_bytes_prefix"] == 2 * 10 * 32 * 2 * 4096
    assert f["adapter_bytes_prefix"] < 2 * f["trainable_prefix"]
    assert run_peft(save_dtype="fp32").figures["adapter_bytes_ia3"] == 4 * f["trainable_ia3"]


def test_training_memory_model() -> None:
    # Full recomputation: 2·s·b·h bytes per layer, small and easy to check by hand.
    f = run_peft(batch_size=2, seq_len=100, activation_recomputation="full").figures
    total, h, L = f["total_params"], 4096, 32
    activations = L * 2 * 100 * 2 * h
    assert f["train_memory_gb_full"] == pytest.approx((16 * total + activations) / 1e9)
    t = f["trainable_lora"]
    assert f["train_memory_gb_lora"] == pytest.approx((2 * total + 16 * t + activations) / 1e9)
    assert f["train_memory_gb_qlora"] < f["train_memory_gb_lora"] / 2
    # Korthikanti et al.: s·b·h·(34 + 5·a·s/h) bytes per layer without recomputation.
    none = run_peft(batch_size=2, seq_len=100).figures
    assert none["activation_gb_lora"] == pytest.approx(
        L * 100 * 2 * h * (34 + 5 * 32 * 100 / h) / 1e9
    )


def test_nf4_storage_matches_qlora_s_bits_per_parameter() -> None:
    numel = 64 * 256 * 1000
    # 4 bits + 8/64 + 32/(64·256) bits per parameter with double quantization (QLoRA §3).
    assert nf4_bytes(numel, double_quant=True) == numel // 2 + numel // 64 + 4 * 1000 + 4
    assert nf4_bytes(numel, double_quant=False) == numel // 2 + 4 * numel // 64


def test_inference_extra_work() -> None:
    f = run_peft(prompt_virtual_tokens=7, ptuning_virtual_tokens=9).figures
    assert f["inference_extra_kv_tokens_prompt"] == 7
    assert f["inference_extra_kv_tokens_ptuning"] == 9
    for method in ("full", "lora", "qlora", "adapter_houlsby", "ia3"):
        assert f[f"inference_extra_kv_tokens_{method}"] == 0
    assert f["inference_extra_layers_adapter_houlsby"] == 64
    assert f["inference_extra_layers_adapter_pfeiffer"] == 32
    for method in ("full", "lora", "qlora", "prompt", "prefix", "ptuning", "ia3"):
        assert f[f"inference_extra_layers_{method}"] == 0


def test_lora_targets_are_normalised() -> None:
    params = validate_params(DEMO, {"lora_target_modules": " V_proj, q ,q,down_proj"})
    assert isinstance(params, PeftParams)
    assert params.lora_target_modules == "q,v,down"


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        ({"lora_target_modules": "q,w"}, "lora_target_modules", "unknown target 'w'"),
        ({"lora_target_modules": " , "}, "lora_target_modules", "at least one"),
        (
            {"preset": "gpt3-175b", "lora_target_modules": "gate"},
            "lora_target_modules",
            "no gate",
        ),
        ({"custom_hidden": 100, "custom_heads": 3}, "custom_heads", "must divide custom_hidden"),
        ({"custom_heads": 32, "custom_kv_heads": 5}, "custom_kv_heads", "must divide"),
        ({"lora_r": 0}, "lora_r", "must be at least 1"),
        ({"custom_layers": 1000}, "custom_layers", "must be at most 256"),
        ({"preset": "gpt-4"}, "preset", ""),
        ({"rank": 8}, "rank", "unknown parameter"),
    ],
)
def test_validation_names_the_field(raw: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(Unprocessable) as caught:
        validate_params(DEMO, raw)
    assert caught.value.field == field
    assert message in caught.value.message


def test_schema_offers_presets_and_knobs() -> None:
    entries = {entry["name"]: entry for entry in params_schema(DEMO)}
    assert entries["preset"]["type"] == "enum"
    assert set(entries["preset"]["choices"]) == {*PRESETS, "custom"}
    assert entries["lora_r"]["minimum"] == 1
    assert entries["save_dtype"]["choices"] == ["bf16", "fp16", "fp32"]


def test_progress_one_step_per_method() -> None:
    recorder = Recorder()
    run_peft(recorder)
    assert [step for step, _, _ in recorder.reports] == list(range(1, 10))
    assert {total for _, total, _ in recorder.reports} == {9}
    assert all("trainable" in metrics for _, _, metrics in recorder.reports)


def test_result_is_json_ready_and_states_its_sources() -> None:
    result = run_peft(preset="llama-2-70b")
    DemoResult.model_validate_json(result.model_dump_json())
    conclusion = english(result.conclusion)
    assert "Korthikanti" in conclusion
    assert "68,976,648,192" in conclusion
    charts = {series.chart for series in result.series}
    assert charts == {"trainable", "trainable_pct", "adapter_bytes", "train_memory", "inference"}
    assert all(series.log_y for series in result.series if series.chart == "trainable")


def test_the_page_opens_with_lora_s_share_and_a_method_table() -> None:
    """Issue 16: the headline answers "how much does LoRA train?" with people's numbers,
    the summary table compares every method, and every figure has a unit."""
    result = run_peft()
    assert result.headline is not None and result.summary is not None
    headline = english(result.headline)
    assert "trains 0.0622 % of LLaMA-2-7B's parameters: 4.19 M of 6.74 B" in headline
    assert "its adapter is 8.39 MB" in headline and "e+0" not in headline
    table = result.summary
    assert len(table.columns) == 5 and len(table.rows) == len(METHODS)
    assert [english(row[0]) for row in table.rows][:3] == ["Full fine-tuning", "LoRA", "QLoRA"]
    assert set(result.figure_units) == set(result.figures)
    # Every bar chart names its methods on the axis.
    assert all(
        [english(c) for c in series.categories or []]
        == [english(t(METHOD_TITLES[m])) for m in METHODS]
        for series in result.series
    )


def test_lora_alpha_defaults_to_peft_s() -> None:
    peft = pytest.importorskip("peft")
    assert PeftParams().lora_alpha == peft.LoraConfig().lora_alpha == 8
    assert run_peft().figures["lora_alpha_over_r"] == 1.0
