"""The MLA demo: Table 1's cache formulas against hand arithmetic, the DeepSeek-V2 preset,
the layer's identities (a)–(e) on tiny float64 sizes, a comparison with transformers'
DeepseekV2Attention, the default run's figures and checks, seeded determinism, bounds, and a
module the catalogue can import without loading torch."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch

from app.demos.base import DemoResult, RunContext, params_schema, validate_params
from app.demos.mla import DEMO
from app.demos.mla.formulas import arithmetic_figures, deepseek_v2_vs_67b, kv_elements_per_token
from app.demos.mla.layers import LatentCache, MLAttention, equivalent_mha, rope
from app.demos.mla.params import AttentionShape, MLAParams
from app.errors import Unprocessable
from tests.demos.english import english, msgid
from tests.demos.support import Recorder

TINY_LAYER: dict[str, Any] = {
    "layer_d_model": 12,
    "layer_heads": 2,
    "layer_head_dim": 4,
    "layer_d_latent": 3,
    "layer_d_rope": 2,
    "layer_seq_len": 6,
}
TOL = 1e-12  # float64 identities on O(1) outputs


def run_mla(*, recorder: Recorder | None = None, **raw: Any) -> DemoResult:
    params = validate_params(DEMO, raw)
    return DEMO.run(params, RunContext(device="cpu", report=recorder or Recorder()))


def checks_of(result: DemoResult) -> dict[str, bool]:
    return {msgid(check.name): check.passed for check in result.checks}


def make_layer(
    d: int = 12, h: int = 2, dh: int = 4, dc: int = 3, dr: int = 2, seed: int = 0, **kw: Any
) -> MLAttention:
    return MLAttention(d, h, dh, dc, dr, generator=torch.Generator().manual_seed(seed), **kw)


def inputs(batch: int = 2, T: int = 7, d: int = 12, seed: int = 1) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(batch, T, d, generator=gen, dtype=torch.float64)


def decode(layer: MLAttention, x: torch.Tensor, absorbed: bool = False) -> torch.Tensor:
    cache: LatentCache | None = None
    outputs = []
    for t in range(x.shape[1]):
        y, cache = layer(x[:, t : t + 1], cache, absorbed=absorbed)
        outputs.append(y)
    return torch.cat(outputs, 1)


# The arithmetic (Table 1 of arXiv 2405.04434).


def test_kv_formulas_match_hand_arithmetic() -> None:
    shape = AttentionShape(layers=3, d_model=32, n_heads=4, head_dim=8, d_latent=6, d_rope=2)
    assert kv_elements_per_token(shape, kv_heads=2) == {
        "mha": 2 * 4 * 8 * 3,  # K and V, every head, every layer: 192
        "gqa": 2 * 2 * 8 * 3,  # 96
        "mqa": 2 * 8 * 3,  # 48
        "mla": (6 + 2) * 3,  # 24
    }
    raw = {"preset": "custom", "custom_layers": 3, "custom_d_model": 32, "custom_heads": 4}
    raw |= {"custom_head_dim": 8, "custom_d_latent": 6, "custom_d_rope": 2, "gqa_kv_heads": 2}
    raw |= {"context_len": 1000, "batch": 3, "dtype": "fp32"}
    f = arithmetic_figures(MLAParams.model_validate(raw))
    assert f["kv_bytes_per_token_mha"] == 192 * 4 and f["kv_bytes_per_token_mla"] == 24 * 4
    assert f["kv_cache_gb_gqa"] == pytest.approx(96 * 4 * 1000 * 3 / 1e9)
    assert f["mla_reduction_pct_vs_mha"] == pytest.approx(100 * (1 - 24 / 192))  # 87.5
    assert f["mla_reduction_pct_vs_gqa"] == pytest.approx(75.0)
    assert f["mla_reduction_pct_vs_mqa"] == pytest.approx(50.0)
    assert f["gqa_equivalent_groups"] == (6 + 2) / (2 * 8)
    assert f["config_key_projection_full_rank"] == min(32, 4 * 8)


@pytest.mark.parametrize(("dtype", "size"), [("fp32", 4), ("bf16", 2), ("fp16", 2), ("fp8", 1)])
def test_bytes_scale_with_the_element_size_and_percentages_do_not(dtype: str, size: int) -> None:
    f = arithmetic_figures(MLAParams(dtype=dtype))
    for k in ("mha", "gqa", "mqa", "mla"):
        assert f[f"kv_bytes_per_token_{k}"] == size * f[f"kv_elements_per_token_{k}"]
    assert f["mla_reduction_pct_vs_mha"] == pytest.approx(100 * (1 - 576 / (2 * 128 * 128)))


def test_deepseek_v2_preset_numbers() -> None:
    f = arithmetic_figures(MLAParams())  # the preset, bf16, 32K tokens, batch 1, n_g = 8
    assert (f["config_layers"], f["config_n_heads"], f["config_head_dim"]) == (60, 128, 128)
    assert (f["config_d_latent"], f["config_d_rope"], f["config_d_model"]) == (512, 64, 5120)
    assert f["kv_elements_per_token_mha"] == 2 * 128 * 128 * 60 == 1_966_080
    assert f["kv_elements_per_token_gqa"] == 2 * 8 * 128 * 60
    assert f["kv_elements_per_token_mqa"] == 2 * 128 * 60
    assert f["kv_elements_per_token_mla"] == (512 + 64) * 60 == 4.5 * 128 * 60  # (9/2)·d_h·l
    assert f["kv_bytes_per_token_mla"] == 69_120
    assert f["kv_cache_gb_mha"] == pytest.approx(1_966_080 * 2 * 32768 / 1e9)  # ≈ 128.8
    assert f["gqa_equivalent_groups"] == 2.25
    assert f["mla_reduction_pct_vs_mha"] == pytest.approx(98.2421875)
    assert f["mla_reduction_pct_vs_gqa"] == pytest.approx(71.875)
    assert f["mla_reduction_pct_vs_mqa"] == pytest.approx(-125.0)  # MLA caches more than MQA


def test_the_preset_overrides_the_custom_fields() -> None:
    preset = arithmetic_figures(MLAParams())
    ignored = arithmetic_figures(MLAParams(custom_layers=1, custom_heads=2, custom_d_latent=3))
    assert ignored == preset
    custom = arithmetic_figures(MLAParams(preset="custom", custom_layers=1))
    assert custom["config_layers"] == 1 and custom["kv_elements_per_token_mla"] == 576


def test_the_papers_93_3_percent_is_against_deepseek_67b_with_6_bit_elements() -> None:
    same, six_bit = deepseek_v2_vs_67b()
    v2, llm_67b = 576 * 60, 2 * 8 * 128 * 95  # MLA; GQA with 8 KV heads, 95 layers
    assert same == pytest.approx(100 * (1 - v2 / llm_67b))  # 82.2%
    assert six_bit == pytest.approx(100 * (1 - v2 * 6 / (llm_67b * 16)))
    assert round(six_bit, 1) == 93.3 and round(same, 1) == 82.2


# The layer's identities, tiny sizes, float64.


def test_the_cache_holds_only_the_latent_and_the_rope_key() -> None:
    layer, x = make_layer(), inputs()
    _, cache = layer(x)
    assert [t.shape for t in cache.tensors()] == [(2, 7, 3), (2, 7, 2)]
    assert cache.bytes_per_token() == (3 + 2) * 8  # (d_c + d_h^R) float64 elements
    torch.testing.assert_close(cache.c_kv, x @ layer.W_DKV.T, rtol=0, atol=0)


@pytest.mark.parametrize("absorbed", [False, True])
def test_decoding_from_the_latent_cache_matches_the_full_forward(absorbed: bool) -> None:
    layer, x = make_layer(), inputs()
    full, _ = layer(x)
    assert (decode(layer, x, absorbed) - full).abs().max() < TOL
    # Not vacuous: without the cache (every token alone at position 0) the outputs differ.
    alone = torch.cat([layer(x[:, t : t + 1])[0] for t in range(7)], 1)
    assert (alone - full).abs().max() > 1e-3


def test_equivalent_mha_from_the_low_rank_factors_matches() -> None:
    layer, x = make_layer(), inputs()
    full, _ = layer(x)
    assert (equivalent_mha(layer, x) - full).abs().max() < TOL
    W_K = layer.implied_key_projection()
    assert W_K.shape == (2 * 4, 12)  # a full d → n_h·d_h projection


def test_absorbed_form_matches_without_rebuilding_k_or_v() -> None:
    layer, x = make_layer(), inputs()
    assert (layer(x, absorbed=True)[0] - layer(x)[0]).abs().max() < TOL


@pytest.mark.parametrize(("d", "h", "dh", "dc"), [(12, 2, 4, 3), (8, 4, 4, 5), (20, 3, 2, 1)])
def test_implied_projections_have_rank_d_c(d: int, h: int, dh: int, dc: int) -> None:
    layer = make_layer(d=d, h=h, dh=dh, dc=dc)
    for W in (layer.implied_key_projection(), layer.implied_value_projection()):
        assert torch.linalg.matrix_rank(W).item() == dc < min(d, h * dh)
        sigma = torch.linalg.svdvals(W)
        assert sigma[dc:].max() < 1e-12 * sigma[0]  # exactly low rank, like LoRA's B A


def test_with_the_latent_rmsnorm_the_cache_identities_hold_but_not_the_linear_mha() -> None:
    layer, x = make_layer(latent_norm=True), inputs()
    full, _ = layer(x)
    assert (decode(layer, x) - full).abs().max() < TOL
    assert (layer(x, absorbed=True)[0] - full).abs().max() < TOL
    assert (equivalent_mha(layer, x) - full).abs().max() > 1e-3  # K is not a fixed linear map


def test_rope_scores_depend_only_on_the_offset() -> None:
    gen = torch.Generator().manual_seed(3)
    q, k = (torch.randn(1, 1, 8, generator=gen, dtype=torch.float64) for _ in range(2))

    def score(m: int, n: int) -> float:
        qm, kn = rope(q, torch.tensor([m])), rope(k, torch.tensor([n]))
        return (qm * kn).sum().item()

    assert score(5, 2) == pytest.approx(score(13, 10), abs=1e-12)
    assert score(0, 0) == pytest.approx((q * k).sum().item(), abs=1e-12)
    assert score(5, 2) != pytest.approx(score(5, 3), abs=1e-6)
    assert rope(q, torch.tensor([7])).norm() == pytest.approx(q.norm().item())


def test_matches_transformers_deepseek_v2_attention() -> None:
    modeling = pytest.importorskip("transformers.models.deepseek_v2.modeling_deepseek_v2")
    from transformers import DeepseekV2Config

    d, h, dh, dc, dr, T = 16, 2, 4, 3, 4, 5
    config = DeepseekV2Config(
        hidden_size=d, num_attention_heads=h, num_key_value_heads=h, q_lora_rank=None,
        kv_lora_rank=dc, qk_rope_head_dim=dr, qk_nope_head_dim=dh, v_head_dim=dh,
        attention_bias=False, num_hidden_layers=1, vocab_size=8, intermediate_size=8,
        moe_intermediate_size=8, rope_parameters={"rope_type": "default", "rope_theta": 1e4},
    )  # fmt: skip
    config._attn_implementation = "eager"
    ours = make_layer(d=d, h=h, dh=dh, dc=dc, dr=dr, latent_norm=True)
    theirs = modeling.DeepseekV2Attention(config, layer_idx=0).double().eval()
    rotary = modeling.DeepseekV2RotaryEmbedding(config)
    with torch.no_grad():  # their fused weights, laid out per head as they split them
        q = torch.cat([ours.W_Q.view(h, dh, d), ours.W_QR.view(h, dr, d)], 1)
        theirs.q_proj.weight.copy_(q.reshape(-1, d))
        theirs.kv_a_proj_with_mqa.weight.copy_(torch.cat([ours.W_DKV, ours.W_KR], 0))
        kv = torch.cat([ours.W_UK.view(h, dh, dc), ours.W_UV.view(h, dh, dc)], 1)
        theirs.kv_b_proj.weight.copy_(kv.reshape(-1, dc))
        theirs.o_proj.weight.copy_(ours.W_O)
        x = inputs(batch=1, T=T, d=d)
        mask = torch.full((T, T), float("-inf"), dtype=torch.float64).triu(1)[None, None]
        position_embeddings = rotary(x, torch.arange(T)[None])
        expected, _ = theirs(x, attention_mask=mask, position_embeddings=position_embeddings)
        # They rotate and take the softmax in float32: agreement to float32 precision.
        torch.testing.assert_close(ours(x)[0], expected, atol=1e-5, rtol=1e-5)


def test_layer_rejects_an_odd_rope_size() -> None:
    with pytest.raises(ValueError, match="even"):
        make_layer(dr=3)


# The demo as a whole.


@pytest.fixture(scope="module")
def default_run() -> tuple[DemoResult, Recorder]:
    recorder = Recorder()
    return run_mla(recorder=recorder), recorder


def test_default_run_names_every_figure_and_passes_every_check(
    default_run: tuple[DemoResult, Recorder],
) -> None:
    result, _ = default_run
    f = result.figures
    names = [
        "mla_reduction_pct_vs_mha", "mla_reduction_pct_vs_gqa", "mla_reduction_pct_vs_mqa",
        "gqa_equivalent_groups", "mla_vs_mha_max_abs_diff", "absorbed_max_abs_diff",
        "decode_vs_full_max_abs_diff", "absorbed_decode_vs_full_max_abs_diff",
        "key_projection_rank", "value_projection_rank", "latent_dim", "key_projection_full_rank",
        "cache_bytes_per_token_measured", "cache_bytes_per_token_formula",
        "deepseek_v2_vs_67b_reduction_pct_6bit", "deepseek_v2_vs_67b_reduction_pct_same_precision",
    ]  # fmt: skip
    for k in ("mha", "gqa", "mqa", "mla"):
        names += [f"kv_elements_per_token_{k}", f"kv_bytes_per_token_{k}", f"kv_cache_gb_{k}"]
    assert not [name for name in names if name not in f]
    assert set(f) <= set(result.figure_labels)  # the page labels every figure
    assert all(checks_of(result).values()), result.checks
    assert len(result.checks) == 8
    # The bank's claim: MLA, like LoRA, compresses through a low-rank latent.
    assert f["key_projection_rank"] <= f["latent_dim"] < f["key_projection_full_rank"]
    assert f["key_projection_rank"] == 16 and f["key_projection_full_rank"] == 64
    assert f["mla_reduction_pct_vs_mha"] > 90
    assert f["cache_bytes_per_token_measured"] == f["cache_bytes_per_token_formula"] == 24 * 8
    for name in ("mla_vs_mha_max_abs_diff", "absorbed_max_abs_diff", "decode_vs_full_max_abs_diff"):
        assert f[name] < 1e-10
    assert all(isinstance(v, float) and math.isfinite(v) for v in f.values())
    assert "98.2 % less" in english(result.conclusion)
    DemoResult.model_validate_json(result.model_dump_json())


def test_default_run_draws_the_charts(default_run: tuple[DemoResult, Recorder]) -> None:
    result, recorder = default_run
    charts: dict[str, list[str]] = {}
    for series in result.series:
        charts.setdefault(series.chart, []).append(english(series.name))
    assert charts["kv_bytes_per_token"] == ["MHA", "GQA", "MQA", "MLA"]
    assert charts["kv_cache_vs_context"] == ["MHA", "GQA", "MQA", "MLA"]
    lines = [s for s in result.series if s.chart == "kv_cache_vs_context"]
    mla = lines[-1]
    assert 32768.0 in mla.x and mla.y[mla.x.index(32768.0)] == result.figures["kv_cache_gb_mla"]
    sigma = next(s for s in result.series if s.chart == "key_projection_singular_values")
    assert len(sigma.y) == 64 and sigma.y == sorted(sigma.y, reverse=True)
    assert sigma.y[16] < 1e-12 * sigma.y[0]  # the cliff after d_c = 16
    steps = [step for step, _, _ in recorder.reports]
    assert steps == list(range(1, 2 * 32 + 4)) and recorder.reports[-1][1] == steps[-1]


@pytest.mark.parametrize("raw", [{}, {"preset": "custom", "custom_d_rope": 0, **TINY_LAYER}])
def test_declared_figures_are_the_returned_ones(raw: dict[str, Any]) -> None:
    assert DEMO.figure_names is not None
    declared = list(DEMO.figure_names(validate_params(DEMO, raw)))
    assert len(declared) == len(set(declared))
    result = run_mla(**raw)
    assert set(declared) == set(result.figures)
    assert set(declared) <= set(result.figure_labels)


def test_custom_model_where_mla_caches_more_than_mqa_is_reported_honestly() -> None:
    result = run_mla(preset="custom", custom_d_latent=1024, gqa_kv_heads=4, **TINY_LAYER)
    f = result.figures
    assert f["mla_reduction_pct_vs_mqa"] < 0 and f["mla_reduction_pct_vs_gqa"] < 0
    conclusion = english(result.conclusion)
    assert "more than MQA" in conclusion and "more than GQA" in conclusion
    assert "-" not in conclusion.split("more than MQA")[0].split(",")[-1]  # no "-125 % less"
    assert not any(name.startswith("DeepSeek-V2") for name in checks_of(result))
    assert all(checks_of(result).values()), result.checks


def test_same_seed_gives_the_same_figures() -> None:
    first, again = run_mla(seed=5, **TINY_LAYER).figures, run_mla(seed=5, **TINY_LAYER).figures
    other = run_mla(seed=6, **TINY_LAYER).figures
    assert first == again
    assert first["layer_output_max_abs"] != other["layer_output_max_abs"]


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        ({"layer_seq_len": 10_000}, "layer_seq_len", "must be at most 128"),
        ({"context_len": 0}, "context_len", "must be at least 1"),
        ({"gqa_kv_heads": 3}, "gqa_kv_heads", "must divide the number of heads, 128"),
        ({"preset": "custom", "custom_heads": 12, "gqa_kv_heads": 8}, "gqa_kv_heads", "12"),
        ({"layer_d_latent": 64}, "layer_d_latent", "must be below min"),
        ({"layer_d_rope": 3}, "layer_d_rope", "must be even"),
        ({"dtype": "int4"}, "dtype", ""),
        ({"kv_lora_rank": 512}, "kv_lora_rank", "unknown parameter"),
    ],
)
def test_validation_names_the_field(raw: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(Unprocessable) as caught:
        validate_params(DEMO, raw)
    assert caught.value.field == field
    assert message in caught.value.message


def test_schema_offers_the_preset_and_the_dtypes() -> None:
    entries = {entry["name"]: entry for entry in params_schema(DEMO)}
    assert entries["preset"]["choices"] == ["deepseek-v2", "custom"]
    assert entries["dtype"]["choices"] == ["bf16", "fp16", "fp8", "fp32"]
    assert all(entry["description"] for entry in entries.values())


def test_the_page_opens_with_the_cache_saving(default_run: tuple[DemoResult, Recorder]) -> None:
    """Issue 16: the headline gives MLA's cache against MHA's in people's numbers, and says
    MQA caches less still as "more than MQA", never as a negative reduction."""
    result, _ = default_run
    assert result.headline is not None and result.summary is not None
    headline = english(result.headline)
    assert headline.startswith("DeepSeek-V2's MLA caches 34.6 K elements per token, 98.2 % less")
    assert "2.26 GB instead of 129 GB" in headline
    assert "GQA with 2.25 groups (125 % more than MQA" in headline and "-125" not in headline
    rows = [[english(cell) for cell in row] for row in result.summary.rows]
    assert [row[0] for row in rows] == ["MHA", "GQA, 8 groups", "MQA", "MLA"]
    assert [row[4] for row in rows] == ["98.2 % less", "71.9 % less", "125 % more", "—"]
    assert set(result.figure_units) == set(result.figures)
