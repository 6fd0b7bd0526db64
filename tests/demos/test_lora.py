"""The LoRA demo on tiny CPU sizes: the layer's identities (ΔW = 0 at init, the step-0
output and gradients, merge equals unmerged, unmerge restores W, a NaN merge refused),
the three inits, the default run's figures and checks, seeded determinism, and a module
the catalogue can import without loading torch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from app.demos.base import DemoResult, RunContext, validate_params
from app.demos.lora import DEMO
from app.demos.lora.layers import LoRALinear
from app.demos.lora.params import RANKS
from app.demos.lora.words import PHASES, method_name
from app.demos.text import Text, q
from tests.demos.support import Recorder

REPO_ROOT = Path(__file__).resolve().parents[2]
TINY: dict[str, Any] = {
    "hidden": 8,
    "pretrain_steps": 20,
    "steps": 15,
}  # a run in well under a second


def run_lora(*, recorder: Recorder | None = None, **raw: Any) -> DemoResult:
    params = validate_params(DEMO, raw)
    return DEMO.run(params, RunContext(device="cpu", report=recorder or Recorder()))


def msgid(text: str | Text) -> str:
    return text.msg if isinstance(text, Text) else text


def checks_of(result: DemoResult) -> dict[str, bool]:
    return {msgid(check.name): check.passed for check in result.checks}


def make_layer(
    d_in: int = 6, d_out: int = 5, r: int = 3, alpha: float = 6.0, seed: int = 0, **kw: Any
) -> LoRALinear:
    gen = torch.Generator().manual_seed(seed)
    base = nn.Linear(d_in, d_out)
    with torch.no_grad():
        base.weight.copy_(torch.randn(d_out, d_in, generator=gen))
        base.bias.copy_(torch.randn(d_out, generator=gen))
    return LoRALinear(base, r, alpha, generator=gen, **kw)


def randomise_b(layer: LoRALinear, seed: int = 1) -> None:
    """Stands in for training: a nonzero B, so ΔW ≠ 0."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        layer.lora_B.copy_(torch.randn(layer.lora_B.shape, generator=gen))


@pytest.mark.parametrize("init_a", ["kaiming_uniform", "gaussian"])
def test_delta_weight_is_zero_at_init_and_a_is_random(init_a: str) -> None:
    layer = make_layer(init_a=init_a)
    assert layer.scaling == 6.0 / 3
    assert layer.lora_A.shape == (3, 6) and layer.lora_B.shape == (5, 3)
    assert torch.equal(layer.delta_weight(), torch.zeros(5, 6))
    assert layer.lora_A.abs().min() > 0
    assert not layer.base.weight.requires_grad and not layer.base.bias.requires_grad
    if init_a == "kaiming_uniform":  # PEFT's a = √5: U(±1/√d_in)
        assert layer.lora_A.abs().max() <= 1 / 6**0.5


def test_step0_output_is_the_base_output_and_only_b_gets_a_gradient() -> None:
    layer = make_layer()
    x = torch.randn(10, 6, generator=torch.Generator().manual_seed(3))
    y = layer(x)
    assert torch.equal(y, layer.base(x))
    F.mse_loss(y, torch.ones_like(y)).backward()  # type: ignore[no-untyped-call]
    assert layer.lora_A.grad is not None and layer.lora_B.grad is not None
    assert torch.count_nonzero(layer.lora_A.grad) == 0
    assert layer.lora_B.grad.norm() > 0


def test_both_random_changes_the_output_and_both_zero_never_learns() -> None:
    x = torch.randn(10, 6, generator=torch.Generator().manual_seed(3))
    noisy = make_layer(init="both_random")
    assert (noisy(x) - noisy.base(x)).abs().max() > 0

    stuck = make_layer(init="both_zero")
    optimizer = torch.optim.Adam([stuck.lora_A, stuck.lora_B], lr=0.1)
    for _ in range(5):
        optimizer.zero_grad()
        F.mse_loss(stuck(x), torch.ones(10, 5)).backward()  # type: ignore[no-untyped-call]
        assert stuck.lora_A.grad is not None and stuck.lora_B.grad is not None
        assert torch.count_nonzero(stuck.lora_A.grad) == 0
        assert torch.count_nonzero(stuck.lora_B.grad) == 0
        optimizer.step()
    assert torch.count_nonzero(stuck.delta_weight()) == 0


def test_merged_equals_unmerged_and_unmerge_restores_w() -> None:
    layer = make_layer(d_in=16, d_out=12, r=4, alpha=8.0)
    randomise_b(layer)
    W_0 = layer.base.weight.detach().clone()
    x = torch.randn(32, 16, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        unmerged = layer(x)
        layer.merge()
        assert layer.merged
        torch.testing.assert_close(layer.base.weight, W_0 + layer.delta_weight())
        torch.testing.assert_close(layer(x), unmerged, atol=1e-4, rtol=0)
        layer.unmerge()
    assert not layer.merged
    torch.testing.assert_close(layer.base.weight, W_0, atol=1e-6, rtol=0)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_merge_refuses_a_non_finite_delta(bad: float) -> None:
    layer = make_layer()
    with torch.no_grad():
        layer.lora_B[0, 0] = bad
    W_0 = layer.base.weight.detach().clone()
    with pytest.raises(ValueError, match="NaN or inf"):
        layer.merge()
    assert not layer.merged
    assert torch.equal(layer.base.weight, W_0)


def test_rank_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        LoRALinear(nn.Linear(4, 4), 0, 1.0)


@pytest.fixture(scope="module")
def default_run() -> tuple[DemoResult, Recorder]:
    recorder = Recorder()
    return run_lora(recorder=recorder), recorder


@pytest.mark.slow  # the full default-size run: about a minute on two shared cores
def test_default_run_names_every_figure_and_passes_every_check(
    default_run: tuple[DemoResult, Recorder],
) -> None:
    result, _ = default_run
    f = result.figures
    names = [
        "step0_max_output_diff", "step0_grad_a_norm", "step0_grad_b_norm",
        "grad_a_zero_at_step0", "grad_b_nonzero_at_step0", "final_delta_w_norm",
        "merge_max_abs_diff", "latency_ratio_unmerged_vs_base", "latency_ratio_merged_vs_base",
        "trainable_params_full", "lora_params_formula_ok", "loss_full", "accuracy_full",
        "peak_memory_bytes_full", "memory_is_cuda_peak",
    ]  # fmt: skip
    for k in RANKS:
        names += [f"energy_top_{k}", f"loss_lora_r{k}", f"trainable_params_lora_r{k}"]
        names += [f"accuracy_lora_r{k}", f"peak_memory_bytes_lora_r{k}"]
    missing = [name for name in names if name not in f]
    assert not missing
    assert set(f) <= set(result.figure_labels)  # the page labels every figure
    assert all(checks_of(result).values()), result.checks
    assert len(result.checks) == 6
    assert f["step0_max_output_diff"] == 0.0 and f["step0_grad_a_norm"] == 0.0
    assert f["grad_a_zero_at_step0"] == 1.0 and f["grad_b_nonzero_at_step0"] == 1.0
    assert f["step0_grad_b_norm"] > 0 and f["final_delta_w_norm"] > 0
    assert f["merge_max_abs_diff"] < 1e-4
    assert f["lora_params_formula_ok"] == 1.0
    for k in RANKS:
        assert f[f"trainable_params_lora_r{k}"] == k * (64 + 64)
        assert f[f"peak_memory_bytes_lora_r{k}"] < f["peak_memory_bytes_full"]
    energies = [f[f"energy_top_{k}"] for k in RANKS]
    assert energies == sorted(energies) and 0 < energies[0] <= energies[-1] <= 1
    assert f["memory_is_cuda_peak"] == 0.0
    # Adapting helps: every method ends above the pretrained student on task 2.
    assert f["accuracy_full"] > f["accuracy_base"]
    assert f[f"accuracy_lora_r{RANKS[-1]}"] > f["accuracy_base"]
    assert isinstance(result.conclusion, Text)
    assert result.conclusion.args["memory_kind"] == Text(
        msg="bytes of parameters, gradients and Adam states, CPU"
    )
    DemoResult.model_validate_json(result.model_dump_json())


@pytest.mark.slow  # the full default-size run: about a minute on two shared cores
def test_default_run_draws_the_loss_curves_on_one_chart(
    default_run: tuple[DemoResult, Recorder],
) -> None:
    result, recorder = default_run
    curves = [series for series in result.series if series.chart == "loss_curves"]
    assert [series.name for series in curves] == [method_name("full")] + [
        method_name(f"lora_r{k}") for k in RANKS
    ]
    assert all(len(series.x) == len(series.y) == 200 for series in curves)
    sigma = next(s for s in result.series if s.chart == "delta_w_singular_values")
    assert sigma.y == sorted(sigma.y, reverse=True) and len(sigma.y) == 64
    steps = [step for step, _, _ in recorder.reports]
    assert steps == sorted(set(steps)) and steps[-1] == recorder.reports[-1][1]
    assert {name for _, _, metrics in recorder.reports for name in metrics} == set(PHASES.values())


def test_the_live_loss_is_one_series_per_phase() -> None:
    """Pre-training (task 1), full fine-tuning and each rank (task 2) report their loss
    under their own names, in that order, each ending at its phase's last step: the
    switch to task 2 is a new line on the live chart, not a spike in one line."""
    recorder = Recorder()
    run_lora(recorder=recorder, **TINY)
    names = [next(iter(metrics)) for _, _, metrics in recorder.reports]
    assert all(len(metrics) == 1 for _, _, metrics in recorder.reports)
    phases = list(dict.fromkeys(names))
    assert phases == [
        PHASES[key] for key in ("pretrain", "full", *(f"lora_r{k}" for k in (1, 2, 4, 8)))
    ]
    steps = {
        name: [step for (step, _, _), n in zip(recorder.reports, names, strict=True) if n == name]
        for name in phases
    }
    pretrain, full = steps[PHASES["pretrain"]], steps[PHASES["full"]]
    assert pretrain[-1] == TINY["pretrain_steps"] and full[0] == TINY["pretrain_steps"] + 1
    assert full[-1] == TINY["pretrain_steps"] + TINY["steps"]
    assert recorder.reports[-1][0] == recorder.reports[-1][1]


def test_the_page_opens_with_the_answer_and_a_summary_table() -> None:
    result = run_lora(**TINY)
    f = result.figures
    assert result.headline is not None and result.summary is not None
    best = min((1, 2, 4, 8), key=lambda r: f[f"loss_lora_r{r}"])
    assert result.headline.args["r"] == best
    assert result.headline.args["n_full"] == q(f["trainable_params_full"], "params")
    assert len(result.summary.columns) == 5 and len(result.summary.rows) == 6  # base, full, 4 ranks
    assert result.summary.rows[1][0] == method_name("full")
    assert result.summary.rows[1][2] == q(f["accuracy_full"], "ratio")
    assert set(result.figure_units) == set(f)
    assert set(f) <= set(result.figure_labels)
    assert result.figure_units["peak_memory_bytes_full"] == "bytes"
    assert result.figure_units["latency_ratio_merged_vs_base"] == "x"
    rank_chart = [s for s in result.series if s.chart == "loss_by_rank"]
    assert rank_chart[0].categories == [method_name(f"lora_r{r}") for r in (1, 2, 4, 8)]
    assert [s.name for s in rank_chart] == [Text(msg="LoRA"), Text(msg="full fine-tuning")]


def test_ranks_are_capped_by_the_layer_size() -> None:
    result = run_lora(hidden=4, pretrain_steps=10, steps=10)
    assert "loss_lora_r4" in result.figures and "loss_lora_r8" not in result.figures
    assert all(checks_of(result).values()), result.checks


def test_both_zero_run_never_learns() -> None:
    result = run_lora(init="both_zero", **TINY)
    f = result.figures
    assert f["final_delta_w_norm"] == 0.0
    assert f["step0_grad_a_norm"] == 0.0 and f["step0_grad_b_norm"] == 0.0
    assert f["grad_b_nonzero_at_step0"] == 0.0
    assert all(f[f"loss_lora_r{k}"] == f["loss_base"] for k in (1, 2, 4, 8))
    assert checks_of(result)[
        r"With $A = B = 0$ nothing ever learns ($\Delta W$ stays 0, the loss does not move)"
    ]
    assert all(checks_of(result).values()), result.checks


@pytest.mark.parametrize("init_a", ["kaiming_uniform", "gaussian"])
def test_both_random_run_moves_the_output_at_step_0(init_a: str) -> None:
    result = run_lora(init="both_random", init_a=init_a, **TINY)
    assert result.figures["step0_max_output_diff"] > 0
    assert result.figures["grad_a_zero_at_step0"] == 0.0
    assert all(checks_of(result).values()), result.checks


def test_same_seed_gives_the_same_figures() -> None:
    def measured(seed: int) -> dict[str, float]:
        figures = run_lora(seed=seed, **TINY).figures
        return {k: v for k, v in figures.items() if "latency" not in k}  # wall-clock varies

    first, again, other = measured(5), measured(5), measured(6)
    assert first == again
    assert first["loss_full"] != other["loss_full"]


def test_lora_linear_matches_peft() -> None:
    peft = pytest.importorskip("peft")

    class One(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(16, 12)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = self.fc(x)
            return out

    torch.manual_seed(0)
    reference = One()
    ours = make_layer(d_in=16, d_out=12, r=4, alpha=8.0)
    randomise_b(ours)
    with torch.no_grad():
        reference.fc.weight.copy_(ours.base.weight)
        reference.fc.bias.copy_(ours.base.bias)
    config = peft.LoraConfig(r=4, lora_alpha=8, target_modules=["fc"], lora_dropout=0.0)
    wrapped = peft.get_peft_model(reference, config)
    peft_layer = wrapped.base_model.model.fc
    # PEFT's fresh layer has B = 0 as ours does; then give both the same A and B.
    assert torch.count_nonzero(peft_layer.lora_B["default"].weight) == 0
    with torch.no_grad():
        peft_layer.lora_A["default"].weight.copy_(ours.lora_A)
        peft_layer.lora_B["default"].weight.copy_(ours.lora_B)
    assert peft_layer.scaling["default"] == ours.scaling
    torch.testing.assert_close(peft_layer.get_delta_weight("default"), ours.delta_weight())
    x = torch.randn(8, 16, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        torch.testing.assert_close(wrapped(x), ours(x))
    assert wrapped.get_nb_trainable_parameters()[0] == 4 * (16 + 12)
