"""The PEFT-latency demo on tiny CPU sizes: each variant's shapes (prompt tuning's longer
sequence, prefix tuning's longer keys, the cache holding the learned prefix), merged LoRA
equal to unmerged with the base's structure, a fresh adapter as the identity, a KV-cached
decode equal to the full forward, parameter counts against the formulas, a tiny run's
figures and checks, seeded determinism apart from the timings, the bounds, and a module the
catalogue can import without loading torch."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import torch
from torch import nn

from app.demos.base import DemoResult, RunContext, validate_params
from app.demos.lora.layers import LoRALinear
from app.demos.peft_latency import DEMO
from app.demos.peft_latency.demo import figure_names
from app.demos.peft_latency.model import (
    Block,
    Config,
    TinyDecoder,
    causal_mask,
    merged,
    n_params,
    time_ms,
    traced_forward,
    with_adapters,
    with_lora,
    with_prefix,
    with_prompt,
)
from app.demos.peft_latency.params import LoRATargets, PeftLatencyParams, seq_lengths
from app.demos.peft_latency.words import figure_labels
from app.demos.text import q
from app.errors import Unprocessable
from tests.demos.english import english, msgid
from tests.demos.support import Recorder

VARIANTS = ("prompt", "prefix", "adapter", "lora_unmerged", "lora_merged")
TINY: dict[str, Any] = {
    "d_model": 32,
    "n_layers": 2,
    "n_heads": 2,
    "max_seq_len": 32,
    "num_lengths": 2,
    "n_virtual": 5,
    "bottleneck": 4,
    "lora_rank": 2,
    "repeats": 3,
}  # a run in well under a second
CFG = Config(vocab=50, d_model=24, n_layers=3, n_heads=3, d_ff=96, max_positions=40)
N_VIRTUAL = 4


def run_demo(*, recorder: Recorder | None = None, **raw: Any) -> DemoResult:
    params = validate_params(DEMO, raw)
    return DEMO.run(params, RunContext(device="cpu", report=recorder or Recorder()))


def checks_of(result: DemoResult) -> dict[str, bool]:
    return {msgid(check.name): check.passed for check in result.checks}


def tokens(T: int, seed: int = 1) -> torch.Tensor:
    return torch.randint(CFG.vocab, (1, T), generator=torch.Generator().manual_seed(seed))


@pytest.fixture(autouse=True, scope="module")
def one_thread() -> Iterator[None]:
    """Tests check behaviour, not speed: on a shared two-core machine two intra-op threads
    that keep losing their core make tiny forwards many times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def base() -> TinyDecoder:
    return TinyDecoder(CFG, torch.Generator().manual_seed(0)).eval()


def test_causal_mask_sees_the_whole_prefix_and_the_past() -> None:
    mask = causal_mask(3, 2, torch.device("cpu"))  # 3 queries, 2 prefix keys
    allowed = mask == 0
    assert mask.shape == (3, 5)
    assert allowed.tolist() == [
        [True, True, True, False, False],
        [True, True, True, True, False],
        [True, True, True, True, True],
    ]
    assert torch.isinf(mask[~allowed]).all()


@torch.inference_mode()
def test_prompt_tuning_lengthens_the_sequence_in_every_layer(base: TinyDecoder) -> None:
    T = 7
    prompt = with_prompt(base, N_VIRTUAL, torch.Generator().manual_seed(1)).eval()
    logits, cache, n_queries = traced_forward(prompt, tokens(T))
    assert logits.shape == (1, T, CFG.vocab)  # only the real tokens are predicted
    assert n_queries == [N_VIRTUAL + T] * CFG.n_layers
    head_dim = CFG.d_model // CFG.n_heads
    for k, v in cache:
        assert k.shape == v.shape == (1, CFG.n_heads, N_VIRTUAL + T, head_dim)
    _, base_cache, base_queries = traced_forward(base, tokens(T))
    assert base_queries == [T] * CFG.n_layers
    assert all(k.shape[2] == T for k, _ in base_cache)


@torch.inference_mode()
def test_prefix_tuning_lengthens_the_keys_not_the_queries(base: TinyDecoder) -> None:
    T = 7
    prefix = with_prefix(base, N_VIRTUAL, torch.Generator().manual_seed(1)).eval()
    assert prefix.prefix is not None
    logits, cache, n_queries = traced_forward(prefix, tokens(T))
    assert logits.shape == (1, T, CFG.vocab)
    assert n_queries == [T] * CFG.n_layers
    heads, head_dim = CFG.n_heads, CFG.d_model // CFG.n_heads
    for layer, (k, v) in enumerate(cache):
        assert k.shape == v.shape == (1, heads, N_VIRTUAL + T, head_dim)
        # The first n cached keys and values are the learned prefix of that layer, head by head.
        for which, cached in ((0, k), (1, v)):
            learned = prefix.prefix[layer, which]  # (n, d)
            as_heads = learned.view(N_VIRTUAL, heads, head_dim).transpose(0, 1)
            assert torch.equal(cached[0, :, :N_VIRTUAL], as_heads)


@pytest.mark.parametrize("variant", ["base", "prompt", "prefix"])
@torch.inference_mode()
def test_one_cached_decode_step_equals_the_full_forward(base: TinyDecoder, variant: str) -> None:
    gen = torch.Generator().manual_seed(2)
    model = {
        "base": base,
        "prompt": with_prompt(base, N_VIRTUAL, gen),
        "prefix": with_prefix(base, N_VIRTUAL, gen),
    }[variant].eval()
    idx = tokens(9)
    full, _ = model(idx)  # (1, 9, vocab)
    _, cache = model(idx[:, :-1])
    step, new_cache = model(idx[:, -1:], cache)  # (1, 1, vocab)
    torch.testing.assert_close(step[:, 0], full[:, -1], atol=1e-5, rtol=1e-5)
    assert new_cache[0][0].shape[2] == cache[0][0].shape[2] + 1


@torch.inference_mode()
def test_merged_lora_equals_unmerged_and_is_the_base_structure(base: TinyDecoder) -> None:
    lora = with_lora(base, 3, 6.0, "all", torch.Generator().manual_seed(3)).eval()
    folded = merged(lora, "all").eval()
    idx = tokens(11)
    unmerged_out, merged_out, base_out = lora(idx)[0], folded(idx)[0], base(idx)[0]
    assert (unmerged_out - base_out).abs().max() > 1e-2  # B ≠ 0: LoRA changes the model
    torch.testing.assert_close(merged_out, unmerged_out, atol=1e-4, rtol=0)
    assert n_params(folded) == n_params(base)
    assert not any(isinstance(module, LoRALinear) for module in folded.modules())
    assert [type(m) for m in folded.modules()] == [type(m) for m in base.modules()]
    # W_merged = W + (alpha/r) B A, layer by layer; the unmerged model is left as it was.
    for block, lora_block, folded_block in zip(
        base.blocks, lora.blocks, folded.blocks, strict=True
    ):
        assert isinstance(block, Block) and isinstance(lora_block, Block)
        assert isinstance(folded_block, Block)
        wrapped, W, W_merged = lora_block.attn.q, block.attn.q, folded_block.attn.q
        assert isinstance(wrapped, LoRALinear) and not wrapped.merged
        assert isinstance(W, nn.Linear) and isinstance(W_merged, nn.Linear)
        expected = W.weight + 2.0 * wrapped.lora_B @ wrapped.lora_A  # alpha / r = 6 / 3
        torch.testing.assert_close(W_merged.weight, expected)


@torch.inference_mode()
def test_fresh_adapters_are_the_identity_and_trained_ones_are_not(base: TinyDecoder) -> None:
    idx = tokens(6)
    fresh = with_adapters(base, 5, torch.Generator().manual_seed(4), trained=False).eval()
    assert torch.equal(fresh(idx)[0], base(idx)[0])
    trained = with_adapters(base, 5, torch.Generator().manual_seed(4), trained=True).eval()
    assert (trained(idx)[0] - base(idx)[0]).abs().max() > 0


def test_extra_parameters_follow_the_formulas(base: TinyDecoder) -> None:
    gen = torch.Generator().manual_seed(5)
    d, L, n, m, r = CFG.d_model, CFG.n_layers, N_VIRTUAL, 5, 3
    assert n_params(with_prompt(base, n, gen)) - n_params(base) == n * d
    assert n_params(with_prefix(base, n, gen)) - n_params(base) == 2 * L * n * d
    # Two adapters per block, each d·m + m (down) and m·d + d (up).
    assert n_params(with_adapters(base, m, gen, trained=True)) - n_params(base) == (
        L * 2 * (2 * d * m + m + d)
    )
    lora_counts: dict[LoRATargets, int] = {
        "qv": 2 * r * 2 * d,
        "qkvo": 4 * r * 2 * d,
        "all": 4 * r * 2 * d + 2 * r * 5 * d,
    }
    for targets, per_layer in lora_counts.items():
        lora = with_lora(base, r, 1.0, targets, gen)
        assert n_params(lora) - n_params(base) == L * per_layer
        assert n_params(merged(lora, targets)) == n_params(base)


def test_default_params_validate_and_name_the_lengths() -> None:
    params = validate_params(DEMO, {})
    assert isinstance(params, PeftLatencyParams)
    assert seq_lengths(params) == [32, 128, 512]
    # The default run's figures all have labels (without timing it).
    labels = figure_labels(VARIANTS, params.decode, seq_lengths(params))
    assert set(figure_names(params)) <= set(labels)
    assert seq_lengths(PeftLatencyParams(max_seq_len=100, num_lengths=2)) == [25, 100]


@pytest.fixture(scope="module")
def tiny_run() -> tuple[DemoResult, Recorder]:
    recorder = Recorder()
    return run_demo(recorder=recorder, **TINY), recorder


def test_tiny_run_has_every_figure_and_passes_every_check(
    tiny_run: tuple[DemoResult, Recorder],
) -> None:
    result, recorder = tiny_run
    f = result.figures
    params = PeftLatencyParams(**TINY)
    assert set(f) == set(figure_names(params))
    assert set(f) <= set(result.figure_labels)  # the page labels every figure
    assert all(checks_of(result).values()), result.checks
    assert len(result.checks) == 6
    d, L, n = 32, 2, 5
    for T in (8, 32):
        assert f[f"base_ms_seq{T}"] > 0 and f[f"decode_base_ms_seq{T}"] > 0
        for v in VARIANTS:
            for mode in ("", "decode_"):
                ratio = f[f"{mode}{v}_ms_seq{T}"] / f[f"{mode}base_ms_seq{T}"]
                assert f[f"{mode}latency_ratio_{v}_seq{T}"] == pytest.approx(ratio)
    for v in VARIANTS:
        assert f[f"latency_ratio_{v}"] == f[f"latency_ratio_{v}_seq32"]  # the longest length
        geomean = (f[f"latency_ratio_{v}_seq8"] * f[f"latency_ratio_{v}_seq32"]) ** 0.5
        assert f[f"latency_ratio_{v}_geomean"] == pytest.approx(geomean)
        kv_tokens = n if v in ("prompt", "prefix") else 0
        assert f[f"extra_kv_tokens_{v}"] == kv_tokens
        assert f[f"extra_kv_entries_{v}"] == kv_tokens * L * 2 * d
        assert f[f"extra_query_tokens_{v}"] == (n if v == "prompt" else 0)
    assert f["kv_entries_base"] == 32 * L * 2 * d
    assert f["extra_params_lora_merged"] == 0
    assert f["extra_params_lora_unmerged"] == L * 2 * 2 * (2 * d)  # q and v, r = 2
    assert f["merged_max_abs_diff"] < 1e-4 < f["lora_max_output_change"]
    assert f["adapter_init_max_abs_diff"] == 0.0
    assert f["summary_seq_len"] == 32 and f["n_virtual"] == n
    assert f["torch_threads"] == 1
    assert "the minimum CPU time of the timing thread over 3 rounds" in english(result.conclusion)
    steps = [step for step, _, _ in recorder.reports]
    assert steps == sorted(steps) and steps[-1] == recorder.reports[-1][1] == 3 + 3
    DemoResult.model_validate_json(result.model_dump_json())


def test_tiny_run_draws_a_ratio_line_per_variant(tiny_run: tuple[DemoResult, Recorder]) -> None:
    result, _ = tiny_run
    charts: dict[str, list[str]] = {}
    for series in result.series:
        assert series.x == [0.0, 1.0] and series.categories == ["8", "32"]
        charts.setdefault(series.chart, []).append(english(series.name))
    assert set(charts) == {
        "latency_ratio",
        "latency_ms",
        "decode_latency_ratio",
        "decode_latency_ms",
    }
    assert len(charts["latency_ratio"]) == len(VARIANTS)
    assert len(charts["latency_ms"]) == len(VARIANTS) + 1  # and the base
    assert charts["latency_ms"][0] == "base model" and "LoRA merged" in charts["latency_ratio"]


def test_the_page_opens_with_the_answer_and_a_summary_table(
    tiny_run: tuple[DemoResult, Recorder],
) -> None:
    result, _ = tiny_run
    f = result.figures
    assert result.headline is not None and result.summary is not None
    assert result.headline.args["merged"] == q(f["latency_ratio_lora_merged"], "x")
    assert result.headline.args["T"] == 32
    rows = result.summary.rows
    assert [english(row[0]) for row in rows] == [
        "prompt tuning", "prefix tuning", "Houlsby adapters", "LoRA unmerged", "LoRA merged",
    ]  # fmt: skip
    assert len(result.summary.columns) == 5  # decode is on
    assert rows[1][2] == q(f["extra_kv_tokens_prefix"], "count")
    assert rows[4][4] == q(f["decode_latency_ratio_lora_merged"], "x")
    assert set(result.figure_units) == set(f)
    assert result.figure_units["base_ms_seq32"] == "ms"
    assert result.figure_units["extra_params_adapter"] == "params"
    assert not DEMO.live_chart  # progress counts timing rounds: a bar, not a curve


def test_without_decode_there_are_no_decode_figures() -> None:
    raw = {**TINY, "decode": False, "num_lengths": 1}
    result = run_demo(**raw)
    assert set(result.figures) == set(figure_names(PeftLatencyParams(**raw)))
    assert not any(name.startswith("decode_") for name in result.figures)
    assert set(result.figures) <= set(result.figure_labels)
    assert all(checks_of(result).values()), result.checks


def test_a_wall_clock_median_run_passes_its_checks() -> None:
    result = run_demo(clock="wall", statistic="median", **{**TINY, "num_lengths": 1})
    assert all(checks_of(result).values()), result.checks
    assert all(result.figures[f"latency_ratio_{v}"] > 0 for v in VARIANTS)
    assert "the median wall-clock time over" in english(result.conclusion)


def test_the_run_times_on_one_thread_and_restores_the_workers_setting() -> None:
    torch.set_num_threads(2)
    try:
        figures = run_demo(**{**TINY, "num_lengths": 1, "decode": False}).figures
        assert figures["torch_threads"] == 1
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(1)  # the module fixture's


def test_same_seed_gives_the_same_figures_apart_from_timings() -> None:
    def measured(seed: int) -> dict[str, float]:
        figures = run_demo(seed=seed, **{**TINY, "num_lengths": 1, "decode": False}).figures
        return {k: v for k, v in figures.items() if "_ms_" not in k and "latency" not in k}

    first, again, other = measured(7), measured(7), measured(8)
    assert first == again
    assert first["lora_max_output_change"] != other["lora_max_output_change"]


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        ({"d_model": 1024}, "d_model", "at most 256"),
        ({"max_seq_len": 4096}, "max_seq_len", "at most 512"),
        ({"repeats": 1000}, "repeats", "at most 20"),
        ({"n_virtual": 0}, "n_virtual", "at least 1"),
        ({"lora_targets": "everything"}, "lora_targets", ""),
        ({"d_model": 100, "n_heads": 8}, "n_heads", "must divide d_model = 100"),
        (
            {"d_model": 16, "n_heads": 1, "bottleneck": 4, "lora_rank": 32},
            "lora_rank",
            "at most d_model = 16",
        ),
        ({"d_model": 16, "n_heads": 1, "bottleneck": 17}, "bottleneck", "at most d_model = 16"),
        ({"clock": "cpu"}, "clock", ""),
        ({"max_seq_len": 32, "num_lengths": 4}, "num_lengths", "shortest would be < 4"),
        ({"layers": 2}, "layers", "unknown parameter"),
    ],
)
def test_bad_params_are_a_422_naming_the_field(raw: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(Unprocessable) as caught:
        validate_params(DEMO, raw)
    assert caught.value.field == field
    assert words in caught.value.message


def test_timer_interleaves_the_calls_and_only_ever_counts_their_own_time() -> None:
    order: list[str] = []

    def sleeper(name: str, seconds: float) -> Callable[[], None]:
        def call() -> None:
            order.append(name)
            time.sleep(seconds)

        return call

    calls = {"a": sleeper("a", 0.002), "b": sleeper("b", 0.004), "c": sleeper("c", 0.0)}
    groups = {"abc": calls, "d": {"d": sleeper("d", 0.0)}}
    rounds: list[int] = []
    ms = time_ms(
        groups,
        repeats=3,
        warmup=1,
        statistic="min",
        clock="wall",
        device=torch.device("cpu"),
        on_round=lambda: rounds.append(len(order)),
    )
    # Every round runs each call once, each round starting a group one call later.
    assert rounds == [4, 8, 12, 16]
    assert order == list("abcdbcadcabdabcd")
    by = ms["abc"]
    assert 2.0 <= by["a"] < by["b"] and by["b"] >= 4.0 and by["c"] < 2.0
    assert set(ms["d"]) == {"d"}
    # A sleeping thread uses no CPU: the thread clock does not count time spent off the core.
    cpu_ms = time_ms(
        {"abc": calls},
        repeats=3,
        warmup=0,
        statistic="median",
        clock="thread_cpu",
        device=torch.device("cpu"),
        on_round=lambda: None,
    )
    assert cpu_ms["abc"]["b"] < 1.0
