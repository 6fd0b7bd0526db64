"""The loss-spikes demo on tiny CPU runs over a made-up question bank: the corpus loader
(order, vocabulary cap, the no-answers error), the spike detector against a hand-made
loss list, the guard (it skips exactly the injected batch, and skipping it equals never
having seen it), the fp16/bf16 range figures, the scaler's bookkeeping, the default run's
figures and checks, seeded determinism, bounds, and a catalogue import without torch."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

from app.content.answers import answers_text, demo_inputs
from app.demos.base import DemoResult, RunContext, validate_params
from app.demos.loss_spikes import DEMO
from app.demos.loss_spikes import demo as loss_spikes
from app.demos.loss_spikes.corpus import Corpus, build_corpus
from app.demos.loss_spikes.detector import flag_spikes
from app.demos.loss_spikes.logs import NONFINITE_AS, ArmLog, Measured
from app.demos.loss_spikes.model import (
    build_model,
    draw_batches,
    learning_rate,
    peak,
    train_arm,
)
from app.demos.loss_spikes.params import MAX_VOCAB, MIN_HISTORY, ArmConfig, LossSpikesParams
from app.demos.loss_spikes.report import result_of
from app.errors import Unprocessable
from tests.demos.english import english

# About a second per run; at lr 1e-2 the made-up bank is learnt fast enough (loss ~1.3
# by step 25) for a batch of random characters (loss ~6) to stand out against the median
# of a short window (a long one still holds the early, falling losses).
TINY: dict[str, Any] = {"steps": 40, "corrupt_step": 25, "lr": 1e-2, "median_window": 8}

ANSWER_A = (
    "LoRA 把权重更新写成低秩矩阵 B A 的乘积，只训练 A 和 B。"
    "The update ΔW = B A has rank at most r, so few parameters train. "
)
ANSWER_B = "梯度裁剪把梯度的全局范数限制在阈值以内，warmup 让学习率从小慢慢升高。"


def question(title: str, answer: str) -> str:
    return (
        f"### Q. {title}\n"
        "> **Company**: 美团 | **Round**: 算法工程师 一面 | **Date**: 2025-08-31 "
        "| **Tags**: [LoRA]\n\n"
        f"{answer}\n\n"
    )


def write_bank(directory: Path) -> None:
    """Two chapters; b.md sorts after a.md, and its answers follow a.md's."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "a.md").write_text(
        "# A\n\n## 一\n\n" + question("一", ANSWER_A * 8) + question("二", ANSWER_B * 8),
        encoding="utf-8",
    )
    (directory / "b.md").write_text(
        "# B\n\n" + question("三", (ANSWER_B + ANSWER_A) * 6), encoding="utf-8"
    )


@pytest.fixture(autouse=True, scope="module")
def one_thread() -> Iterator[None]:
    """Models this small train faster on one thread, and do not fight other processes
    for the cores (the worker pool also gives each worker its own threads)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def bank(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every run in this file reads the made-up bank (get_settings reads the environment
    on each call), and trains a smaller model than the demo's so the file stays fast."""
    directory = tmp_path / "content"
    write_bank(directory)
    monkeypatch.setenv("IL_CONTENT_DIR", str(directory))
    monkeypatch.setattr(loss_spikes, "BATCH", 8)
    monkeypatch.setattr(loss_spikes, "D_MODEL", 32)
    return directory


def run_demo(**raw: Any) -> DemoResult:
    """A run as the worker makes it: the answers read from the content folder setting and
    handed in through the RunContext."""
    params = validate_params(DEMO, raw)
    ctx = RunContext(
        device="cpu", report=lambda step, total, m: None, inputs=demo_inputs(DEMO.inputs)
    )
    return DEMO.run(params, ctx)


def load_corpus(directory: Path, *, max_vocab: int = MAX_VOCAB) -> Corpus:
    return build_corpus(answers_text(directory), max_vocab=max_vocab)


def checks_of(result: DemoResult) -> dict[str, bool]:
    return {english(check.name): check.passed for check in result.checks}


# ---- the corpus ---------------------------------------------------------------------


def test_corpus_is_the_answers_in_file_order(bank: Path) -> None:
    corpus = load_corpus(bank)
    text = "".join(corpus.vocab[i] for i in corpus.ids)
    assert corpus.unk_chars == 0
    assert text.startswith(ANSWER_A.strip())
    assert text.endswith((ANSWER_B + ANSWER_A).strip())
    assert "Company" not in text and "### Q." not in text  # answers only
    assert text.index(ANSWER_B) < text.index((ANSWER_B + ANSWER_A) * 2)


def test_rare_characters_share_the_unk_id(bank: Path) -> None:
    full, capped = load_corpus(bank), load_corpus(bank, max_vocab=4)
    assert capped.vocab[0] == "<unk>" and len(capped.vocab) == 4
    counts = sorted((full.ids.count(i) for i in range(1, len(full.vocab))), reverse=True)
    assert capped.unk_chars == len(full.ids) - sum(counts[:3])  # all but the top 3
    assert len(capped.ids) == len(full.ids)


def test_no_answers_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no answers .*import content"):
        load_corpus(empty)
    (empty / "q.md").write_text("# C\n\n" + question("空", ""), encoding="utf-8")
    monkeypatch.setenv("IL_CONTENT_DIR", str(empty))
    with pytest.raises(ValueError, match="no answers"):
        run_demo(**TINY)


# ---- the spike detector ---------------------------------------------------------------


def test_detector_flags_a_loss_above_k_times_the_running_median() -> None:
    nan = math.nan
    #         the first MIN_HISTORY losses are never flagged, however large
    losses = [9.0, 1.0, 1.2, 0.8, 1.0, 3.5, 2.9, nan, 1.0, 40.0, 1.1]
    flags = flag_spikes(losses, k=3.0, window=5)
    expected = []
    for i, loss in enumerate(losses):  # the definition, written out independently
        history = [x for x in losses[:i] if math.isfinite(x)][-5:]
        if not math.isfinite(loss):
            expected.append(True)
        else:
            enough = len(history) >= MIN_HISTORY
            expected.append(enough and loss > 3.0 * statistics.median(history))
    assert flags == expected
    assert [i for i, flag in enumerate(flags) if flag] == [5, 7, 9]  # 3.5 > 3, NaN, 40
    assert flag_spikes([1.0] * 5 + [3.0], k=3.0, window=5)[-1] is False  # not above: equal


# ---- the guard --------------------------------------------------------------------------


def test_guard_skips_exactly_the_injected_batch_and_skipping_equals_never_seeing_it(
    bank: Path,
) -> None:
    corpus = load_corpus(bank)
    ids = torch.tensor(corpus.ids)
    steps, corrupt = 40, 25
    batches = draw_batches(
        ids, steps, 8, 32, torch.Generator().manual_seed(3), range(corrupt, corrupt + 1)
    )
    clean = draw_batches(ids, steps, 8, 32, torch.Generator().manual_seed(3), range(0))
    # Only the corrupted step differs, and it is random characters, not text.
    assert [torch.equal(a[0], b[0]) for a, b in zip(batches, clean, strict=True)] == [
        step != corrupt for step in range(1, steps + 1)
    ]

    def trained(batch_list: list[tuple[torch.Tensor, torch.Tensor]], guard: bool) -> Any:
        model = build_model(len(corpus.vocab), 32, 32, 1, 4, seed=7)
        cfg = ArmConfig(1e-2, 0, 0.0, "fp32", guard, spike_k=3.0, median_window=8)
        return model, train_arm(model, batch_list, cfg, "cpu", lambda step, loss: None)

    guarded, log = trained(batches, guard=True)
    _, unguarded_log = trained(batches, guard=False)
    without, _ = trained(batches[: corrupt - 1] + batches[corrupt:], guard=False)
    assert [i + 1 for i, skip in enumerate(log.skipped) if skip] == [corrupt]
    assert log.spikes[corrupt - 1] and unguarded_log.spikes[corrupt - 1]
    assert log.update_norms[corrupt - 1] == 0.0 < unguarded_log.update_norms[corrupt - 1]
    # AdamW's step count does not advance on a skipped step, and lr is constant, so the
    # guarded model equals one trained on the same batches minus the corrupted one.
    for a, b in zip(guarded.parameters(), without.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_guard_in_the_demo_skips_only_the_corrupted_batches() -> None:
    result = run_demo(**TINY, corrupt_batches=3, skip_guard=True)
    figures = result.figures
    assert figures["skipped_corrupt_batches_configured"] == 3.0
    assert figures["skipped_steps_configured"] == 3.0
    assert figures["max_update_norm_on_corrupt_batches_configured"] == 0.0
    assert figures["skipped_steps_baseline"] == 0.0
    assert figures["max_update_norm_on_corrupt_batches_baseline"] > 0.0
    assert figures["spike_at_corrupt_step_baseline"] == 1.0
    assert figures["corrupt_batches_flagged_baseline"] == 3.0
    for arm in ("baseline", "configured"):
        assert figures[f"spikes_{arm}"] == (
            figures[f"spikes_on_clean_batches_{arm}"] + figures[f"corrupt_batches_flagged_{arm}"]
        )
    skipped = next(s for s in result.series if english(s.name) == "skipped by the guard")
    first = TINY["corrupt_step"]
    assert skipped.x == [float(first), first + 1.0, first + 2.0]


def test_clipping_scales_the_gradient_to_the_threshold_and_logs_the_norm_before(
    bank: Path,
) -> None:
    corpus = load_corpus(bank)
    batches = draw_batches(
        torch.tensor(corpus.ids), 3, 8, 32, torch.Generator().manual_seed(0), range(0)
    )
    model = build_model(len(corpus.vocab), 32, 32, 1, 4, seed=1)
    cfg = ArmConfig(1e-2, 0, 0.01, "fp32", False, spike_k=3.0, median_window=8)
    log = train_arm(model, batches, cfg, "cpu", lambda step, loss: None)
    grads = [q.grad for q in model.parameters() if q.grad is not None]
    # The last step's gradients are left in place: clipped to the threshold.
    assert torch.nn.utils.get_total_norm(grads).item() == pytest.approx(0.01, rel=1e-4)
    assert min(log.grad_norms) > 0.1  # the logged norm is the one before clipping


def test_warmup_rises_linearly_to_lr_then_holds() -> None:
    cfg = ArmConfig(0.4, 4, 0.0, "fp32", False, spike_k=3.0, median_window=8)
    assert [learning_rate(s, cfg) for s in range(1, 7)] == pytest.approx(
        [0.1, 0.2, 0.3, 0.4, 0.4, 0.4]
    )
    no_warmup = ArmConfig(0.4, 0, 0.0, "fp32", False, spike_k=3.0, median_window=8)
    assert learning_rate(1, no_warmup) == 0.4


# ---- precision ------------------------------------------------------------------------


def test_fp16_overflows_at_65504_and_bf16_does_not() -> None:
    figures = run_demo(steps=20, corrupt_step=0, skip_guard=False, precision="bf16").figures
    assert figures["fp16_max"] == torch.finfo(torch.float16).max == 65504.0
    assert figures["bf16_max"] == torch.finfo(torch.bfloat16).max
    assert figures["overflow_fp16_inf"] == 1.0
    bf16 = figures["bf16_value"]
    assert bf16 == torch.tensor(70000.0).bfloat16().item()
    assert bf16 != 70000.0 and abs(bf16 - 70000.0) <= 70000.0 * 2**-8  # rounded, finite
    assert torch.tensor(65504.0).half().item() == 65504.0  # the largest finite fp16
    assert figures["activation_over_fp16_max_baseline"] == float(
        figures["max_abs_activation_baseline"] > 65504.0
    )


def test_peak_reads_the_largest_magnitude_and_passes_nan_and_inf_on() -> None:
    assert peak(torch.tensor([1.0, -5.0]), torch.tensor([[3.0]])) == 5.0
    assert peak(torch.tensor([1.0, -math.inf])) == math.inf
    assert math.isnan(peak(torch.tensor([1.0]), torch.tensor([math.nan, 2.0])))
    # An overflow and the NaN it caused downstream: the overflow is what is reported.
    assert peak(torch.tensor([math.inf]), torch.tensor([math.nan])) == math.inf
    assert peak(torch.tensor([math.nan]), torch.tensor([-math.inf])) == math.inf


@pytest.mark.parametrize(("dtype", "overflows"), [(torch.float16, True), (torch.bfloat16, False)])
def test_a_logit_past_65504_is_inf_under_fp16_autocast_and_finite_under_bf16(
    dtype: torch.dtype, overflows: bool
) -> None:
    model = build_model(vocab_size=12, context=8, d_model=16, n_layer=1, n_head=2, seed=0)
    with torch.no_grad():
        model.head.bias.fill_(70000.0)  # every output logit ≈ 70000 in fp32
    idx = torch.zeros(2, 8, dtype=torch.long)
    with torch.autocast(device_type="cpu", dtype=dtype):
        logits = model(idx)
    assert logits.dtype == dtype
    assert math.isinf(model.peak_activation()) == overflows
    if not overflows:
        assert model.peak_activation() == pytest.approx(70000.0, rel=2**-7)


def test_scaler_figures_follow_the_scale() -> None:
    fp32 = run_demo(steps=20, corrupt_step=0, skip_guard=False).figures
    assert fp32["scaler_skipped_steps_baseline"] == 0.0 and fp32["final_loss_scale_baseline"] == 1
    result = run_demo(steps=20, corrupt_step=0, skip_guard=False, precision="fp16_scaler")
    figures = result.figures
    scale = next(s for s in result.series if english(s.name) == "GradScaler scale, baseline").y
    assert scale[0] == 2.0**16  # GradScaler's initial scale
    # Every skipped step halves the scale; none grows it within 2000 steps.
    assert scale[-1] == 2.0**16 / 2 ** figures["scaler_skipped_steps_baseline"]
    assert figures["final_loss_scale_baseline"] == scale[-1]  # no skip at the last step
    assert figures["weights_finite_baseline"] == 1.0


def one_arm(log: ArmLog, *, vocab_size: int) -> Measured:
    """A run measured by hand: ``log`` as both arms (no remedy configured), an fp16 probe
    that overflows."""
    return Measured(
        corpus_chars=100,
        vocab_size=vocab_size,
        unk_chars=0,
        identical=True,
        baseline=log,
        configured=log,
        fp16_of_probe=math.inf,
        bf16_of_probe=70144.0,
    )


def test_the_final_loss_scale_is_the_one_the_run_ends_at() -> None:
    """Every step's fp16 logits overflow, so the GradScaler skips each one and halves its
    scale: the figure is the scale after the last step's halving, not the one it used."""
    model = build_model(vocab_size=12, context=8, d_model=16, n_layer=1, n_head=2, seed=0)
    with torch.no_grad():
        model.head.bias.fill_(70000.0)  # every output logit inf under fp16 autocast
    x = torch.zeros(2, 8, dtype=torch.long)
    cfg = ArmConfig(1e-3, 0, 0.0, "fp16_scaler", False, spike_k=3.0, median_window=8)
    log = train_arm(model, [(x, x)] * 20, cfg, "cpu", lambda step, loss: None)
    assert log.scaler_skipped == [True] * 20
    assert log.scales == [2.0 ** (16 - i) for i in range(20)]  # the scale each step used
    assert log.final_scale == 2.0**-4
    p = LossSpikesParams(steps=20, corrupt_step=0, precision="fp16_scaler")
    result = result_of(p, one_arm(log, vocab_size=12))
    assert result.figures["final_loss_scale_baseline"] == 2.0**16 / 2**20
    assert result.figures["scaler_skipped_steps_baseline"] == 20
    label = english(result.figure_labels["final_loss_scale_baseline"])
    assert label.startswith("GradScaler's loss scale after the last step's update")
    assert "ending at a scale of 0.0625." in english(result.conclusion)


def test_nan_steps_are_counted_and_kept_out_of_figures_and_charts() -> None:
    """fp16 without a scaler diverging, written by hand: the figures stay finite (rules
    cannot compare NaN), the NaN steps are counted and drawn as spikes, not as the line."""
    nan, inf = math.nan, math.inf
    losses = [6.0 - 0.2 * i for i in range(16)] + [nan, nan, inf, nan]  # 20 steps
    diverged = ArmLog(
        losses=losses,
        grad_norms=[1.0] * 16 + [inf, nan, nan, nan],
        spikes=flag_spikes(losses, 3.0, 20),
        skipped=[False] * 20,
        scaler_skipped=[False] * 20,
        update_norms=[0.1] * 16 + [nan] * 4,
        peak_activations=[10.0, 20.0, 70000.0] + [30.0] * 13 + [inf, nan, nan, nan],
        scales=[1.0] * 20,
        weights_finite=False,
    )
    p = LossSpikesParams(steps=20, corrupt_step=0, precision="fp16")
    result = result_of(p, one_arm(diverged, vocab_size=10))
    figures = result.figures
    assert all(math.isfinite(v) for v in figures.values())
    assert set(figures) <= set(result.figure_labels)
    assert figures["nonfinite_loss_steps_baseline"] == 4.0
    assert figures["nonfinite_grad_steps_baseline"] == 4.0
    assert figures["spikes_baseline"] == 4.0  # every NaN/inf loss is a spike
    assert figures["max_loss_baseline"] == NONFINITE_AS
    assert figures["final_loss_baseline"] == NONFINITE_AS
    assert figures["max_abs_activation_baseline"] == 70000.0  # the largest finite one
    assert figures["activation_over_fp16_max_baseline"] == 1.0
    assert figures["weights_finite_baseline"] == 0.0
    assert not checks_of(result)["The weights stay finite under fp16"]
    for series in result.series:
        assert all(math.isfinite(y) for y in series.y), series.name
    line = next(s for s in result.series if english(s.name) == "loss, baseline (no remedy)")
    assert line.x == [float(step) for step in range(1, 17)]
    marks = next(s for s in result.series if english(s.name) == "flagged spikes, baseline")
    assert marks.x == [17.0, 18.0, 19.0, 20.0] and set(marks.y) == {6.0}  # at the chart's top
    assert "NaN/inf" in english(result.conclusion)


# ---- the demo as a whole ------------------------------------------------------------------


def test_defaults_validate_and_a_small_run_names_every_figure_and_passes_every_check(
    bank: Path,
) -> None:
    defaults = validate_params(DEMO, {})
    assert defaults == LossSpikesParams()
    raw = {**TINY, "clip": 1.0, "warmup_steps": 5}
    result = run_demo(**raw)
    assert DEMO.figure_names is not None
    assert set(result.figures) == set(DEMO.figure_names(validate_params(DEMO, raw)))
    assert set(result.figures) <= set(result.figure_labels)  # the page labels every figure
    assert all(math.isfinite(v) for v in result.figures.values())
    assert all(checks_of(result).values()), result.checks
    assert result.figures["corpus_chars"] == len(load_corpus(bank).ids)
    charts = {s.chart for s in result.series}
    assert {"loss", "grad_norm", "range"} <= charts


def test_with_every_remedy_off_the_arms_are_one_run() -> None:
    result = run_demo(steps=20, corrupt_step=10, skip_guard=False)
    figures = result.figures
    assert figures["arms_identical"] == 1.0 and figures["spikes_removed"] == 0.0
    for name in ("spikes", "final_loss", "max_loss_to_median", "post_corrupt_loss_ratio"):
        assert figures[f"{name}_baseline"] == figures[f"{name}_configured"]
    assert not any(english(s.name).endswith("configured run") for s in result.series)


def test_same_seed_gives_the_same_figures() -> None:
    first, again = run_demo(seed=5, **TINY).figures, run_demo(seed=5, **TINY).figures
    other = run_demo(seed=6, **TINY).figures
    assert first == again
    assert first["final_loss_baseline"] != other["final_loss_baseline"]


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        ({"lr": 2.0}, "lr", "at most 1"),
        ({"steps": 10_000}, "steps", "at most"),
        ({"steps": 50, "warmup_steps": 60}, "warmup_steps", "at most steps = 50"),
        ({"steps": 50, "corrupt_step": 50}, "corrupt_step", "between 6 and 49"),
        ({"corrupt_step": 3}, "corrupt_step", "between 6"),
        ({"median_window": 2}, "median_window", "at least 5"),
        ({"steps": 50, "corrupt_step": 40, "corrupt_batches": 11}, "corrupt_batches", "at most"),
        ({"precision": "fp8"}, "precision", "fp32"),
        ({"clip_norm": 1.0}, None, "unknown parameter"),
    ],
)
def test_bounds_are_422s_naming_the_field(
    raw: dict[str, Any], field: str | None, message: str
) -> None:
    with pytest.raises(Unprocessable, match=message) as caught:
        validate_params(DEMO, raw)
    assert caught.value.field == (field or "clip_norm")
