"""mla_cost: the FLOP formulas against PyTorch's FLOP counter on a real decode step, the
DeepSeek-V2 numbers by hand, the SVD conversion exact at full rank and lossy below it,
seeded determinism, the cross-field rule, and a default-size run."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from app.demos.base import DemoResult, RunContext, validate_params
from app.demos.mla_cost import DEMO
from app.demos.mla_cost.formulas import costs, crossover, formula_figures
from app.demos.mla_cost.labels import figure_labels
from app.demos.mla_cost.params import CHECK_SHAPE, DEEPSEEK_V2, CostShape, MLACostParams
from app.errors import Unprocessable
from tests.demos.english import chinese, english

SMALL: dict[str, Any] = {
    "train_steps": 30, "ft_steps": 5, "conv_d_model": 8, "conv_heads": 2, "conv_head_dim": 4,
}  # fmt: skip


def run(**raw: Any) -> DemoResult:
    return DEMO.run(validate_params(DEMO, raw), RunContext(device="cpu", report=lambda *a: None))


@pytest.mark.parametrize(
    "shape",
    [
        CHECK_SHAPE,
        dataclasses.replace(CHECK_SHAPE, q_latent=0),
        CostShape(24, 3, 8, 5, 7, 4),  # odd sizes: no term hides behind a coincidence
        CostShape(16, 2, 4, 3, 0, 2),
    ],
)
def test_formulas_equal_the_flop_counter_on_a_real_decode_step(shape: CostShape) -> None:
    from app.demos.mla_cost.layers import count_decode_flops

    counted = count_decode_flops(shape, (2, 5, 17), seed=3, device="cpu")
    for scheme, cost in costs(shape).items():
        for T in (2, 5, 17):
            assert counted[f"{scheme}_ctx{T}"] == cost.at(T), (scheme, T)
    assert counted["naive_vs_absorbed_max_abs_diff"] < 1e-12


def test_deepseek_v2_numbers_by_hand() -> None:
    f = formula_figures(DEEPSEEK_V2, 8, "bf16", [1024, 32768])
    assert f["kv_bytes_per_token_mha"] == 2 * 128 * 128 * 2 == 65536
    assert f["kv_bytes_per_token_mla"] == (512 + 64) * 2 == 1152
    assert f["kv_bytes_per_token_gqa"] == 2 * 8 * 128 * 2
    assert f["flops_proj_per_token_mha"] == 4 * 2 * 5120 * 16384
    assert f["flops_attn_per_ctx_token_mha"] == 4 * 128 * 128
    assert f["flops_attn_per_ctx_token_mla_absorbed"] == 2 * 128 * (2 * 512 + 64) == 278528
    assert f["flops_attn_per_ctx_token_mla_naive"] == 4 * 128 * 128 * 512 + 2 * 128 * (256 + 64)
    proj = 2 * (5120 * 1536 + 1536 * 128 * 192 + 5120 * 576 + 2 * 16384 * 512 + 16384 * 5120)
    assert f["flops_proj_per_token_mla_absorbed"] == proj
    assert f["flops_crossover_context"] == pytest.approx(1749.54, abs=0.01)
    assert f["flops_ratio_mla_absorbed_over_mha_ctx32768"] == pytest.approx(3.34, abs=0.01)


def test_crossover_of_parallel_lines_is_negative() -> None:
    from app.demos.mla_cost.formulas import Cost

    assert crossover(Cost(1, 2), Cost(3, 2)) == -1.0
    assert crossover(Cost(10, 1), Cost(4, 3)) == 3.0


def test_svd_at_full_rank_reproduces_the_layer_and_truncation_costs() -> None:
    result = run(**SMALL)
    f = result.figures
    full = int(f["conv_full_rank"])
    assert full == 8
    for arm in ("random", "trained"):
        assert f[f"svd_rel_error_{arm}_dc{full}"] < 1e-12
        assert f[f"kv_energy_kept_{arm}_dc{full}"] == pytest.approx(1.0)
        errors = [f[f"svd_rel_error_{arm}_dc{k}"] for k in (1, 2, 4)]
        assert all(e > 0.01 for e in errors)
        assert errors == sorted(errors, reverse=True)  # a larger latent loses less
    assert all(check.passed for check in result.checks), result.checks


def test_fine_tuning_recovers_some_of_the_error() -> None:
    f = run(**SMALL | {"ft_steps": 40}).figures
    for arm in ("random", "trained"):
        assert f[f"svd_rel_error_after_ft_{arm}_dc2"] < f[f"svd_rel_error_{arm}_dc2"]


def test_same_seed_same_figures_other_seed_other_conversion() -> None:
    a, b, c = run(**SMALL), run(**SMALL), run(**SMALL | {"seed": 1})
    assert a.figures == b.figures
    assert a.figures["svd_rel_error_trained_dc2"] != c.figures["svd_rel_error_trained_dc2"]


def test_without_training_steps_the_final_loss_is_labelled_the_untrained_layers() -> None:
    """train_steps = 0: the figure holds the untrained layer's held-out loss, and its
    label says so instead of calling it a training loss."""
    result = run(**SMALL | {"train_steps": 0})
    f = result.figures
    assert f["train_final_loss"] == f["task_loss_mha_random"]
    label = english(result.figure_labels["train_final_loss"])
    assert "training loss" not in label and "untrained" in label and "held-out" in label
    params = validate_params(DEMO, SMALL)
    assert isinstance(params, MLACostParams)
    assert (
        english(figure_labels(params)["train_final_loss"])
        == "copy task: the MHA model's last training loss"
    )


def _texts(result: DemoResult) -> list[Any]:
    """Every text of a result that names a converted layer."""
    return [
        *result.figure_labels.values(),
        *(s.name for s in result.series),
        *(c.name for c in result.checks),
        result.conclusion,
        result.headline,
    ]


def test_without_training_steps_no_layer_is_called_trained_in_either_language() -> None:
    """train_steps = 0: the second converted layer is the untrained one, and every label,
    chart line, check and sentence says so; the default run still says "trained"."""
    untrained = _texts(run(**SMALL | {"train_steps": 0}))
    en, zh = [english(x) for x in untrained], [chinese(x) for x in untrained]
    assert not [x for x in en if re.search(r"\btrained\b", x)]
    assert not [x for x in zh if "训练过" in x]
    assert "untrained layer (0 training steps): held-out copy-task loss with MHA" in en
    assert "未训练的层（训练 0 步），微调后" in zh
    assert "Truncating the latent costs output error (half rank, untrained layer)" in en
    assert "Converting the untrained MHA layer (0 training steps) by SVD" in en[-2]
    assert "用 SVD 把未训练的 MHA 层（训练 0 步）转成" in zh[-1]
    trained = [english(x) for x in _texts(run(**SMALL))]
    assert "trained layer: held-out copy-task loss with MHA" in trained
    assert "trained layer, after fine-tuning" in trained
    assert "Truncating the latent costs output error (half rank, trained layer)" in trained
    assert "Converting a trained MHA layer by SVD" in trained[-2]
    assert not [x for x in trained if "untrained" in x or "0 training steps" in x]


def test_gqa_groups_must_divide_the_heads_named_field() -> None:
    with pytest.raises(Unprocessable) as refused:
        validate_params(DEMO, {"gqa_kv_heads": 3})
    assert refused.value.field == "gqa_kv_heads"
    with pytest.raises(Unprocessable):
        validate_params(DEMO, {"preset": "custom", "custom_heads": 6, "gqa_kv_heads": 4})
    validate_params(DEMO, {"preset": "custom", "custom_heads": 6, "gqa_kv_heads": 3})


@pytest.mark.slow
def test_default_run_passes_its_checks() -> None:
    # Its wall time against DEMO.time_limit_s is bench/demos_bench.py's (not a timed test).
    result = run()
    assert all(check.passed for check in result.checks)
    assert result.figures["flop_check_max_rel_diff"] == 0.0


def test_the_page_opens_with_bytes_against_flops() -> None:
    """Issue 16: the headline weighs MLA's fewer KV bytes against absorbed attention's extra
    FLOPs per cached token (DeepSeek-V2: 56.9x fewer bytes, 4.25x the FLOPs, cross at 1,750
    tokens) and says what the SVD conversion costs; the table compares the schemes."""
    result = run(**SMALL)
    assert result.headline is not None and result.summary is not None
    headline = english(result.headline)
    assert headline.startswith(
        "DeepSeek-V2: MLA reads 56.9× fewer KV bytes per cached token than MHA (1.15 KB "
        "against 65.5 KB), but absorbed attention does 4.25× MHA's FLOPs per cached token: "
        "absorbed MLA does fewer FLOPs than MHA only below 1,750 tokens of context"
    )
    assert "relative output error" in headline and not re.search(r"\de[-+]\d", headline)
    rows = [[english(cell) for cell in row] for row in result.summary.rows]
    assert [row[0] for row in rows] == ["MHA", "GQA", "MQA", "MLA, K/V rebuilt", "MLA, absorbed"]
    assert rows[4][1] == "1.15 KB" and rows[1][2] == "—"
    assert set(result.figure_units) == set(result.figures)
    assert set(result.figures) <= set(result.figure_labels)  # the page labels every figure


def test_every_figure_name_has_a_label() -> None:
    """Every figure the default sizes and the largest converted layer name has a label
    (the latents tried depend on the conversion's size)."""
    assert DEMO.figure_names is not None
    for raw in ({}, {"conv_d_model": 64, "conv_heads": 8, "conv_head_dim": 16}, SMALL):
        params = validate_params(DEMO, raw)
        assert isinstance(params, MLACostParams)
        assert set(DEMO.figure_names(params)) <= set(figure_labels(params)), raw
