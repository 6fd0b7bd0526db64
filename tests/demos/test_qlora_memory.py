"""The QLoRA memory demo: each byte formula against arithmetic written out independently on a
small made-up architecture, the stated bits per weight (NF4 4.5, NF4+DQ 4 + 8/64 +
32/16384), LLaMA-2-7B's published total at 2 bytes, fits flipping exactly at the GPU's
size, stacked bars that add up to the totals, bounds, and a module that loads without
torch."""

from __future__ import annotations

import math
from typing import Any, get_args

import pytest

from app.demos.base import DemoResult, RunContext, validate_params
from app.demos.peft_count.params import PeftParams
from app.demos.peft_count.presets import PRESETS, Architecture
from app.demos.qlora_memory import DEMO
from app.demos.qlora_memory.formulas import (
    FORMAT_TITLES,
    FORMATS,
    GIB,
    full_finetune_footprint,
    layer_activation_bytes,
    linear_bits_per_weight,
    logits_bytes,
    lora_footprint,
    lora_tensor_sizes,
    moment_bytes,
    weight_bytes,
)
from app.demos.qlora_memory.params import GPU_SIZES, Preset
from app.demos.text import t
from app.errors import Unprocessable
from tests.demos.english import english

LLAMA_2_7B_PUBLISHED = 6_738_415_616

# h=128, L=2, 4 heads of 32, 2 kv heads (kv width 64), I=320, V=1000, untied, q/k/v bias.
TINY = Architecture("tiny", 128, 2, 4, 2, 320, 1000, False, True)
# (d_in, d_out) of q, k, v, o, gate, up, down, written out by hand.
TINY_SHAPES = [(128, 128), (128, 64), (128, 64), (128, 128), (128, 320), (128, 320), (320, 128)]
TINY_MATRIX = sum(i * o for i, o in TINY_SHAPES)  # 172,032 quantized weights a layer
# Per layer: the matrices, q/k/v biases (128 + 64 + 64), two RMSNorms; embedding, lm_head
# and the final norm once.
TINY_TOTAL = 2 * (TINY_MATRIX + 256 + 2 * 128) + 2 * 1000 * 128 + 128
TINY_KEPT = TINY_TOTAL - 2 * TINY_MATRIX


class Recorder:
    def __init__(self) -> None:
        self.reports: list[tuple[int, int, dict[str, float]]] = []

    def __call__(self, step: int, total: int, metrics: dict[str, float]) -> None:
        self.reports.append((step, total, metrics))


def run_demo(recorder: Recorder | None = None, **raw: Any) -> DemoResult:
    params = validate_params(DEMO, raw)
    return DEMO.run(params, RunContext(device="cpu", report=recorder or Recorder()))


def test_tiny_weight_bytes_per_format() -> None:
    assert TINY_MATRIX == 172_032
    assert weight_bytes(TINY, "fp16") == weight_bytes(TINY, "full_fp16") == 2 * TINY_TOTAL
    rows = sum(o for _, o in TINY_SHAPES)
    assert weight_bytes(TINY, "int8") == 2 * (TINY_MATRIX + 4 * rows) + 2 * TINY_KEPT
    # Every tiny matrix is a multiple of 64 weights: NF4 is exactly 4.5 bits a weight.
    assert all(i * o % 64 == 0 for i, o in TINY_SHAPES)
    assert weight_bytes(TINY, "nf4") == 2 * TINY_MATRIX * 9 // 16 + 2 * TINY_KEPT
    # DQ per matrix: n/2 codes, one byte per 64-block, an fp32 scale per 256 blocks, one
    # fp32 offset.
    dq = sum(
        n // 2 + n // 64 + 4 * -(-(n // 64) // 256) + 4 for n in (i * o for i, o in TINY_SHAPES)
    )
    assert weight_bytes(TINY, "nf4_dq") == 2 * dq + 2 * TINY_KEPT
    assert linear_bits_per_weight(TINY, "nf4") == 4.5
    assert linear_bits_per_weight(TINY, "int8") == 8 + 32 * rows / TINY_MATRIX


def test_nf4_dq_bits_per_weight() -> None:
    formula = 4 + 8 / 64 + 32 / 16384
    assert formula == pytest.approx(4.127, abs=1e-3)
    for name in ("llama-2-7b", "llama-65b"):
        # Only the ceilings and one fp32 offset per matrix separate the count from it.
        assert linear_bits_per_weight(PRESETS[name], "nf4_dq") == pytest.approx(formula, abs=1e-5)
        assert linear_bits_per_weight(PRESETS[name], "nf4") == 4.5


def test_tiny_lora_optimizer_and_footprints() -> None:
    sizes = lora_tensor_sizes(TINY, ("q", "v"), 4)
    assert sizes == [4 * 128, 128 * 4, 4 * 128, 64 * 4] * 2
    t = sum(sizes)
    assert moment_bytes(sizes, "adamw_fp32") == 8 * t
    # bitsandbytes' 8-bit states only from 4096 values; below that, 32-bit states.
    assert moment_bytes(sizes, "paged_adamw_8bit") == 8 * t
    assert moment_bytes([4096, 4095, 10_000], "paged_adamw_8bit") == (
        2 * (4096 + 4 * 16) + 8 * 4095 + 2 * (10_000 + 4 * 40)
    )
    bf16 = lora_footprint(
        TINY,
        "nf4",
        sizes,
        adapter_dtype="bf16",
        master_copy=True,
        optimizer="adamw_fp32",
        activations=7,
        overhead=11,
    )
    assert (bf16.adapters, bf16.gradients, bf16.master, bf16.moments) == (
        2 * t,
        2 * t,
        4 * t,
        8 * t,
    )
    assert bf16.total == weight_bytes(TINY, "nf4") + 16 * t + 7 + 11
    fp32 = lora_footprint(
        TINY,
        "fp16",
        sizes,
        adapter_dtype="fp32",
        master_copy=True,
        optimizer="adamw_fp32",
        activations=0,
        overhead=0,
    )
    assert (fp32.adapters, fp32.gradients, fp32.master) == (4 * t, 4 * t, 0)
    full = full_finetune_footprint(TINY, 0, 0)
    assert full.total == 16 * TINY_TOTAL


@pytest.mark.parametrize(
    ("checkpointing", "flash"), [(False, False), (False, True), (True, False), (True, True)]
)
def test_activation_estimate(checkpointing: bool, flash: bool) -> None:
    peft = PeftParams(
        preset="custom",
        custom_hidden=256,
        custom_layers=3,
        custom_heads=8,
        custom_kv_heads=2,
        batch_size=2,
        seq_len=64,
    )
    b, s, h, a, L = 2, 64, 256, 8, 3
    layer = 34 * s * b * h + (0 if flash else 5 * a * s * s * b)
    expected = L * 2 * s * b * h + layer if checkpointing else L * layer
    assert layer_activation_bytes(peft, checkpointing, flash) == expected
    assert logits_bytes(TINY, b, s) == b * s * 1000 * 6


def test_llama_2_7b_fp16_weights_from_the_published_total() -> None:
    figures = run_demo().figures
    assert figures["total_params"] == LLAMA_2_7B_PUBLISHED
    assert figures["weights_gb_fp16"] == pytest.approx(LLAMA_2_7B_PUBLISHED * 2 / 1e9)
    assert figures["weights_gb_fp16"] == pytest.approx(13.48, abs=0.01)
    assert figures["weights_gib_fp16"] == pytest.approx(LLAMA_2_7B_PUBLISHED * 2 / 2**30)
    # Model-wide the 16-bit embeddings and lm_head keep NF4 well under 4× smaller.
    assert figures["linear_ratio_fp16_over_nf4"] == pytest.approx(16 / 4.5)
    assert 3 < figures["weights_ratio_fp16_over_nf4"] < figures["linear_ratio_fp16_over_nf4"]


def test_double_quantization_saving_on_65b() -> None:
    figures = run_demo(preset="llama-65b").figures
    saved_bits = 32 / 64 - (8 / 64 + 32 / 16384)  # per quantized weight
    expected = figures["quantized_params"] * saved_bits / 8 / 1e9
    assert figures["dq_saved_gb"] == pytest.approx(expected, rel=1e-4)
    assert 2.5 < figures["dq_saved_gb"] < 3.5  # QLoRA's "approximately 3 GB" on 65B


def test_fits_flips_exactly_at_the_gpu_size() -> None:
    base = run_demo(preset="llama-65b", overhead_gib=0.0).figures
    room = 48 - base["total_gib_nf4_dq"]
    assert 0 < room < 8  # the overhead bound lets us push the total across 48 GiB
    just_under = run_demo(preset="llama-65b", overhead_gib=room - 1e-3, gpu_gb=48).figures
    just_over = run_demo(preset="llama-65b", overhead_gib=room + 1e-3, gpu_gb=48).figures
    assert just_under["fits_nf4_dq"] == 1.0 and just_under["min_gpu_gb_nf4_dq"] == 48
    assert just_under["margin_gib_nf4_dq"] == pytest.approx(1e-3, abs=1e-6)
    assert just_over["fits_nf4_dq"] == 0.0 and just_over["min_gpu_gb_nf4_dq"] == 80
    assert just_over["margin_gib_nf4_dq"] == pytest.approx(-1e-3, abs=1e-6)
    for gpu in GPU_SIZES:
        figures = run_demo(preset="llama-65b", gpu_gb=gpu).figures
        for f in FORMATS:
            fits = figures[f"total_gib_{f}"] <= gpu
            assert figures[f"fits_{f}"] == float(fits)
            assert figures[f"margin_gib_{f}"] == pytest.approx(gpu - figures[f"total_gib_{f}"])
            smallest = min((g for g in GPU_SIZES if figures[f"total_gib_{f}"] <= g), default=0)
            assert figures[f"min_gpu_gb_{f}"] == smallest


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"preset": "gpt3-175b", "lora_targets": "all_linear", "optimizer": "paged_adamw_8bit"},
        {"preset": "qwen2.5-3b", "gradient_checkpointing": False, "adapter_dtype": "fp32"},
    ],
)
def test_stacked_components_sum_to_the_totals(raw: dict[str, Any]) -> None:
    result = run_demo(**raw)
    stacked = [s for s in result.series if s.chart == "memory"]
    assert len(stacked) == 7 and all(s.stacked and s.kind == "bar" for s in stacked)
    for i, f in enumerate(FORMATS):
        assert stacked[0].x[i] == i
        assert math.fsum(s.y[i] for s in stacked) == pytest.approx(
            result.figures[f"total_gib_{f}"], rel=1e-12
        )
        assert result.figures[f"total_gb_{f}"] * 1e9 == pytest.approx(
            result.figures[f"total_gib_{f}"] * GIB
        )
    assert all(check.passed for check in result.checks), result.checks


def test_gpt3_all_linear_has_no_gate() -> None:
    figures = run_demo(preset="gpt3-175b", lora_r=8).figures
    h, L = 12288, 96
    assert figures["lora_params"] == L * 8 * (4 * 2 * h + 2 * (h + 4 * h))


def test_default_params_validate_and_run() -> None:
    recorder = Recorder()
    result = run_demo(recorder)
    assert all(check.passed for check in result.checks), result.checks
    assert len(result.checks) == 7
    assert [step for step, _, _ in recorder.reports] == list(range(1, len(FORMATS) + 1))
    assert DEMO.figure_names is not None
    assert set(result.figures) == set(DEMO.figure_names(validate_params(DEMO, {})))
    assert set(result.figures) <= set(result.figure_labels)  # the page labels every figure
    assert "13.5 GB in fp16" in english(result.conclusion)
    assert DEMO.time_limit_s == 30 and not DEMO.uses_gpu


def test_same_params_give_the_same_figures() -> None:
    assert run_demo(seed=3).figures == run_demo(seed=3).figures
    assert run_demo(seed=3).figures == run_demo(seed=4).figures  # no randomness at all


def test_presets_are_peft_counts() -> None:
    assert set(get_args(Preset)) == set(PRESETS)


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        ({"lora_r": 1025}, "lora_r", "must be at most 1024"),
        ({"batch_size": 0}, "batch_size", "must be at least 1"),
        ({"seq_len": 40_000}, "seq_len", "must be at most 32768"),
        ({"overhead_gib": 9}, "overhead_gib", "must be at most 8"),
        ({"gpu_gb": 32}, "gpu_gb", "24, 40, 48 or 80"),
        ({"preset": "custom"}, "preset", "llama-2-7b"),
        ({"rank": 8}, "rank", "unknown parameter"),
    ],
)
def test_bounds_give_422_naming_the_field(raw: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(Unprocessable) as info:
        validate_params(DEMO, raw)
    assert info.value.field == field
    assert info.value.status_code == 422
    assert words in info.value.message


def test_gpu_size_from_form_text() -> None:
    assert validate_params(DEMO, {"gpu_gb": "48"}).model_dump()["gpu_gb"] == 48


def test_the_page_opens_with_what_fits() -> None:
    """Issue 16: the headline says what QLoRA and full fine-tuning need and how many
    setups fit the GPU; the table has one row per setup with a yes/no and the smallest GPU."""
    result = run_demo(preset="llama-65b", gpu_gb=48)
    assert result.headline is not None and result.summary is not None
    headline = english(result.headline)
    assert headline.startswith("LLaMA-65B: QLoRA (NF4 + double quantization) fine-tunes in")
    assert "of the 5 setups fit the 48 GB GPU" in headline
    rows = [[english(cell) for cell in row] for row in result.summary.rows]
    assert [row[0] for row in rows] == [english(t(FORMAT_TITLES[f])) for f in FORMATS]
    fits = [row[3] for row in rows]
    assert fits == ["yes" if result.figures[f"fits_{f}"] else "no" for f in FORMATS]
    assert fits[0] == "no" and fits[-1] == "yes"
    assert set(result.figure_units) == set(result.figures)
    assert all(series.categories for series in result.series)
