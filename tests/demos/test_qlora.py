"""The QLoRA demo on tiny CPU sizes: the 4-bit layer holds no float weight, computes with
the dequantized weight in forward and backward and gives the base no gradient; LoRA on it
starts at the base; the demo's figures and checks, seeded determinism, bounds, and the
paged-optimizer part (CPU: not measured; GPU: skipped without CUDA)."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from app.demos import registry
from app.demos.base import DemoResult, RunContext, validate_params
from app.demos.nf4.formulas import stored_bytes_formula
from app.demos.nf4.quant import (
    dequantize_blockwise,
    half_max_gap,
    nf4_code,
    quantize_blockwise,
)
from app.demos.qlora import DEMO as QLORA_DEMO
from app.demos.qlora.layers import Linear4bit, LoRALinear, full_precision_copies
from app.demos.qlora.paged import measure_paged
from app.errors import Unprocessable
from app.worker.execute import json_safe

TINY: dict[str, Any] = {"hidden": 16, "pretrain_steps": 20, "steps": 20}


def make_linear(d_in: int = 96, d_out: int = 40, seed: int = 0) -> nn.Linear:
    gen = torch.Generator().manual_seed(seed)
    linear = nn.Linear(d_in, d_out)
    with torch.no_grad():
        linear.weight.copy_(torch.randn(d_out, d_in, generator=gen) * 0.1)
        linear.bias.copy_(torch.randn(d_out, generator=gen))
    return linear


def make_4bit(
    linear: nn.Linear, *, double_quant: bool = True, dtype: torch.dtype = torch.float32
) -> Linear4bit:
    return Linear4bit(
        linear, nf4_code(), blocksize=64, double_quant=double_quant, compute_dtype=dtype
    )


def run_qlora(**raw: Any) -> DemoResult:
    params = validate_params(QLORA_DEMO, raw)
    return QLORA_DEMO.run(params, RunContext(device="cpu", report=lambda step, total, m: None))


# ---- the 4-bit layer ----------------------------------------------------------------------


@pytest.mark.parametrize("double_quant", [False, True])
def test_linear4bit_holds_only_packed_codes_and_constants(double_quant: bool) -> None:
    linear = make_linear()
    layer = make_4bit(linear, double_quant=double_quant)
    assert list(layer.parameters()) == []
    assert layer.packed.dtype == torch.uint8 and layer.packed.numel() == 96 * 40 // 2
    assert full_precision_copies(layer, {(40, 96)}) == 0
    floats = [b for b in layer.buffers() if b.is_floating_point()]
    assert sum(b.numel() for b in floats) < 96 * 40 / 10  # absmax, code and bias only
    assert layer.stored_weight_bytes() == stored_bytes_formula(96 * 40, 64, double_quant)
    # The dequantized weight is NF4's: within half the largest code gap of W per block.
    W_hat = layer.dequantized_weight()
    bound = linear.weight.abs().max().item() * half_max_gap(nf4_code()) * 1.01
    assert (W_hat - linear.weight).abs().max().item() <= bound
    if not double_quant:
        expected = dequantize_blockwise(quantize_blockwise(linear.weight, nf4_code(), 64))
        assert torch.equal(W_hat, expected)


def test_linear4bit_forward_and_backward_use_the_dequantized_weight() -> None:
    linear = make_linear()
    layer = make_4bit(linear)
    x = torch.randn(8, 96, generator=torch.Generator().manual_seed(1), requires_grad=True)
    W_hat = layer.dequantized_weight().detach()
    calls = layer.dequant_calls
    y = layer(x)
    assert layer.dequant_calls == calls + 1  # forward
    reference = F.linear(x, W_hat, linear.bias.detach())
    torch.testing.assert_close(y, reference, atol=1e-5, rtol=1e-5)
    (grad,) = torch.autograd.grad(y.square().sum(), x)
    assert layer.dequant_calls == calls + 2  # backward dequantized again
    (expected,) = torch.autograd.grad(reference.square().sum(), x)
    torch.testing.assert_close(grad, expected, atol=1e-4, rtol=1e-4)


def test_bf16_compute_is_close_to_fp32() -> None:
    linear = make_linear()
    x = torch.randn(8, 96, generator=torch.Generator().manual_seed(2))
    y32 = make_4bit(linear)(x)
    y16 = make_4bit(linear, dtype=torch.bfloat16)(x)
    assert y16.dtype == torch.bfloat16
    assert (y16.float() - y32).abs().max() < 0.05 * y32.abs().max()


@pytest.mark.parametrize("adapter_dtype", [torch.float32, torch.bfloat16])
def test_lora_on_the_4bit_base_starts_at_the_base_and_only_adapters_learn(
    adapter_dtype: torch.dtype,
) -> None:
    base = make_4bit(make_linear())
    gen = torch.Generator().manual_seed(3)
    layer = LoRALinear(base, 96, 40, r=4, alpha=8, dtype=adapter_dtype, generator=gen)
    assert layer.lora_A.dtype == layer.lora_B.dtype == adapter_dtype
    x = torch.randn(8, 96, generator=gen)
    y = layer(x)
    assert torch.equal(y, base(x).float())  # B = 0: ΔW = 0
    F.mse_loss(y, torch.ones_like(y)).backward()  # type: ignore[no-untyped-call]
    assert layer.lora_B.grad is not None and layer.lora_B.grad.norm() > 0
    assert all(not b.requires_grad and b.grad is None for b in base.buffers())


# ---- the demo -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_run() -> DemoResult:
    return run_qlora(**TINY)


def test_default_params_validate() -> None:
    params = validate_params(QLORA_DEMO, {})
    assert params.model_dump() == {
        "seed": 0,
        "hidden": 64,
        "pretrain_steps": 200,
        "steps": 150,
        "r": 8,
        "alpha": 16.0,
        "lr": 1e-2,
        "blocksize": 64,
        "double_quant": True,
        "compute_dtype": "bf16",
        "adapter_dtype": "bf16",
        "shift_rank": 4,
    }
    assert registry()["qlora"] is QLORA_DEMO and QLORA_DEMO.name == "qlora"
    from_form = validate_params(QLORA_DEMO, {"blocksize": "32", "compute_dtype": "fp32"})
    assert from_form.model_dump()["blocksize"] == 32


def test_tiny_run_figures_and_checks(tiny_run: DemoResult) -> None:
    f = tiny_run.figures
    assert QLORA_DEMO.figure_names is not None
    assert set(f) == set(QLORA_DEMO.figure_names(validate_params(QLORA_DEMO, TINY)))
    assert set(f) <= set(tiny_run.figure_labels)  # the page labels every figure, GPU ones too
    assert all(check.passed for check in tiny_run.checks), tiny_run.checks
    assert f["full_precision_base_tensors"] == 0 and f["full_precision_base_tensors_lora_fp"] == 4
    assert f["base_tensors_with_grad"] == 0 and f["adapter_grad_norm"] > 0
    assert f["train_loss_qlora_last"] < f["train_loss_qlora_first"]
    assert f["adapter_bits"] == 16 and f["compute_bits"] == 16
    assert f["dequant_calls_per_forward"] == 4
    # Forward through 4 layers, backward through 3 (the first layer's input needs no grad).
    assert f["dequant_calls_per_step"] == 7
    n = 8 * 16 + 2 * 16 * 16 + 16 * 4
    assert f["base_weight_params"] == n and f["base_bytes_fp16"] == 2 * n
    layer_sizes = (8 * 16, 16 * 16, 16 * 16, 16 * 4)
    assert f["base_bytes_nf4"] == sum(stored_bytes_formula(s, 64, True) for s in layer_sizes)
    assert f["adapter_params"] == 8 * ((8 + 16) + 2 * (16 + 16) + (16 + 4))
    assert f["paged_optimizer_measured"] == 0 and math.isnan(f["peak_memory_gb_adamw"])
    assert "needs a CUDA GPU" in str(tiny_run.conclusion.args["paged"])  # type: ignore[union-attr]
    curves = [s for s in tiny_run.series if s.chart == "adaptation"]
    assert len(curves) == 2 and all(len(s.y) == 20 for s in curves)
    # The unmeasured GPU figures are NaN; the worker stores them as null.
    stored = json_safe(tiny_run.model_dump(mode="json"))
    json.dumps(stored, allow_nan=False)
    assert stored["figures"]["peak_memory_gb_adamw"] is None


def test_fp32_everything_still_keeps_no_float_copy() -> None:
    result = run_qlora(**TINY, compute_dtype="fp32", adapter_dtype="fp32", double_quant=False)
    f = result.figures
    assert f["adapter_bits"] == 32 and f["compute_bits"] == 32
    assert f["full_precision_base_tensors"] == 0
    assert all(check.passed for check in result.checks), result.checks


def test_same_seed_same_figures(tiny_run: DemoResult) -> None:
    again = run_qlora(**TINY)
    same = {k: v for k, v in again.figures.items() if not math.isnan(v)} == {
        k: v for k, v in tiny_run.figures.items() if not math.isnan(v)
    }
    assert same


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        ({"hidden": 10_000}, "hidden", "at most 128"),
        ({"hidden": 16, "r": 17}, "r", "at most hidden = 16"),
        ({"steps": 1000}, "steps", "at most 300"),
        ({"compute_dtype": "fp16"}, "compute_dtype", "fp16"),
        ({"blocksize": "100"}, "blocksize", "100"),
    ],
)
def test_out_of_bounds_is_a_422_naming_the_field(
    raw: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(Unprocessable) as caught:
        validate_params(QLORA_DEMO, raw)
    assert caught.value.status_code == 422
    assert caught.value.field == field and words in caught.value.message


def test_paged_optimizer_is_not_measured_on_the_cpu() -> None:
    paged = measure_paged("cpu", torch.Generator().manual_seed(0))
    assert not paged.measured and "GPU" in paged.reason
    assert all(math.isnan(v) for v in [*paged.peak_gb.values(), *paged.state_gb.values()])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_paged_optimizer_on_a_gpu() -> None:  # pragma: no cover - no GPU in CI
    paged = measure_paged("cuda", torch.Generator().manual_seed(0))
    assert paged.measured, paged.reason
    assert paged.state_gb["adamw8bit"] < paged.state_gb["adamw"] / 3
    assert paged.peak_gb["adamw8bit"] < paged.peak_gb["adamw"]
