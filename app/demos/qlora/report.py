"""The QLoRA demo's report: what ``measure`` measured (plain numbers: ``QLoRAMeasured``),
turned into named figures, charts, checks and the conclusion. No torch here."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from app.demos.base import Check, DemoResult, Series
from app.demos.qlora.params import QLoRAParams

CLOSE_TO_FP = 0.10  # "close to LoRA on the full-precision base": within 10% of its loss
BYTES_AXIS = "base weights stored as: 0 fp32, 1 fp16, 2 NF4"
OPTIMIZERS = ("adamw", "adamw8bit", "paged_adamw8bit")


@dataclass
class PagedMeasured:
    """Paged 8-bit AdamW against AdamW (``paged.measure_paged``; a GPU run only)."""

    measured: bool = False
    reason: str = ""
    peak_gb: dict[str, float] = field(default_factory=lambda: dict.fromkeys(OPTIMIZERS, math.nan))
    state_gb: dict[str, float] = field(default_factory=lambda: dict.fromkeys(OPTIMIZERS, math.nan))


@dataclass
class QLoRAMeasured:
    """What ``measure`` measured, as plain numbers."""

    compute_bits: int = 32  # of the dtype the 4-bit layers actually used
    adapter_bits: int = 32  # of the adapters' dtype
    layers: int = 0
    pretrain_curve: list[float] = field(default_factory=list)
    curves: dict[str, list[float]] = field(default_factory=dict)  # "qlora", "lora_fp"
    loss: dict[str, float] = field(default_factory=dict)
    accuracy: dict[str, float] = field(default_factory=dict)
    base_weight_params: int = 0
    base_bytes_nf4: int = 0
    full_precision_copies: dict[str, int] = field(default_factory=dict)
    base_tensors_with_grad: int = -1
    base_tensors_requiring_grad: int = -1
    adapter_grad_norm: float = math.nan
    adapter_params: int = 0
    dequant_calls_per_forward: float = math.nan
    dequant_calls_per_step: float = math.nan
    paged: PagedMeasured = field(default_factory=PagedMeasured)


def figures_of(p: QLoRAParams, m: QLoRAMeasured) -> dict[str, float]:
    n = m.base_weight_params
    nf4_bytes = m.base_bytes_nf4
    return {
        "loss_qlora_final": m.loss["qlora"],
        "loss_lora_fp_final": m.loss["lora_fp"],
        "loss_gap": m.loss["qlora"] - m.loss["lora_fp"],
        "loss_gap_relative": (m.loss["qlora"] - m.loss["lora_fp"]) / m.loss["lora_fp"],
        "accuracy_qlora_final": m.accuracy["qlora"],
        "accuracy_lora_fp_final": m.accuracy["lora_fp"],
        "loss_before_adaptation": m.loss["task2_fp32_base"],
        "train_loss_qlora_first": m.curves["qlora"][0],
        "train_loss_qlora_last": m.curves["qlora"][-1],
        "loss_task1_fp32_base": m.loss["task1_fp32_base"],
        "loss_task1_nf4_base": m.loss["task1_nf4_base"],
        "base_weight_params": float(n),
        "base_bytes_nf4": float(nf4_bytes),
        "base_bytes_fp16": float(2 * n),
        "base_bytes_fp32": float(4 * n),
        "base_bits_per_param_nf4": 8 * nf4_bytes / n,
        "base_compression_vs_fp16": 2 * n / nf4_bytes,
        "adapter_params": float(m.adapter_params),
        "adapter_bits": float(m.adapter_bits),
        "compute_bits": float(m.compute_bits),
        "four_bit_layers": float(m.layers),
        "full_precision_base_tensors": float(m.full_precision_copies["qlora"]),
        "full_precision_base_tensors_lora_fp": float(m.full_precision_copies["lora_fp"]),
        "base_tensors_with_grad": float(m.base_tensors_with_grad),
        "base_tensors_requiring_grad": float(m.base_tensors_requiring_grad),
        "adapter_grad_norm": m.adapter_grad_norm,
        "dequant_calls_per_forward": m.dequant_calls_per_forward,
        "dequant_calls_per_step": m.dequant_calls_per_step,
        "paged_optimizer_measured": float(m.paged.measured),
        **{f"peak_memory_gb_{name}": m.paged.peak_gb[name] for name in OPTIMIZERS},
        **{f"optimizer_state_gb_{name}": m.paged.state_gb[name] for name in OPTIMIZERS},
    }


def series_of(m: QLoRAMeasured, figures: dict[str, float]) -> list[Series]:
    labels = {
        "qlora": "QLoRA: LoRA on the NF4 base",
        "lora_fp": "LoRA on the fp32 base",
    }
    series = [
        Series(
            name=labels[key],
            x=[float(s) for s in range(len(m.curves[key]))],
            y=m.curves[key],
            x_label="step",
            y_label="training cross-entropy on task 2",
            log_y=True,
            chart="adaptation",
        )
        for key in ("qlora", "lora_fp")
    ]
    series.append(
        Series(
            name="pretraining on task 1 (fp32, all weights)",
            x=[float(s) for s in range(len(m.pretrain_curve))],
            y=m.pretrain_curve,
            x_label="step",
            y_label="cross-entropy",
            log_y=True,
            chart="pretraining",
        )
    )
    series.append(
        Series(
            name="stored bytes of the base weights",
            x=[0.0, 1.0, 2.0],
            y=[figures["base_bytes_fp32"], figures["base_bytes_fp16"], figures["base_bytes_nf4"]],
            kind="bar",
            x_label=BYTES_AXIS,
            y_label="bytes",
            chart="bytes",
        )
    )
    return series


def checks_of(p: QLoRAParams, m: QLoRAMeasured, f: dict[str, float]) -> list[Check]:
    checks = [
        Check(
            name="No full-precision copy of a base weight is kept (parameters and buffers)",
            passed=f["full_precision_base_tensors"] == 0
            and f["full_precision_base_tensors_lora_fp"] == m.layers,
            detail=f"{f['full_precision_base_tensors']:.0f} weight-shaped float tensors in the "
            f"QLoRA model; the same count finds {f['full_precision_base_tensors_lora_fp']:.0f} "
            f"in LoRA on the fp32 base",
        ),
        Check(
            name="The base gets no gradient; the adapters do",
            passed=f["base_tensors_with_grad"] == 0
            and f["base_tensors_requiring_grad"] == 0
            and f["adapter_grad_norm"] > 0,
            detail=f"{f['base_tensors_with_grad']:.0f} base tensors with a gradient, "
            f"{f['base_tensors_requiring_grad']:.0f} requiring one; adapter gradient norm "
            f"{f['adapter_grad_norm']:.2e}",
        ),
        Check(
            name="Weights are dequantized on the fly: once per 4-bit layer per forward",
            passed=f["dequant_calls_per_forward"] == m.layers,
            detail=f"{f['dequant_calls_per_forward']:.0f} dequantizations per forward for "
            f"{m.layers} layers; {f['dequant_calls_per_step']:.0f} per training step "
            f"(the backward dequantizes again instead of keeping W)",
        ),
        Check(
            name=f"The adapters are {p.adapter_dtype} and the base computes in {p.compute_dtype}",
            passed=f["adapter_bits"] == (16 if p.adapter_dtype == "bf16" else 32)
            and f["compute_bits"] == (16 if p.compute_dtype == "bf16" else 32),
            detail=f"adapters {f['adapter_bits']:.0f}-bit, compute {f['compute_bits']:.0f}-bit",
        ),
        Check(
            name="QLoRA's training loss decreases",
            passed=f["train_loss_qlora_last"] < f["train_loss_qlora_first"],
            detail=f"{f['train_loss_qlora_first']:.4f} → {f['train_loss_qlora_last']:.4f}",
        ),
        Check(
            name=f"QLoRA's test loss is within {CLOSE_TO_FP:.0%} of LoRA's on the fp32 base",
            passed=f["loss_gap_relative"] <= CLOSE_TO_FP,
            detail=f"{f['loss_qlora_final']:.4f} vs {f['loss_lora_fp_final']:.4f} "
            f"({f['loss_gap_relative']:+.1%})",
        ),
    ]
    if m.paged.measured:
        checks.append(
            Check(
                name="8-bit AdamW's optimizer state is smaller than AdamW's",
                passed=f["optimizer_state_gb_adamw8bit"] < f["optimizer_state_gb_adamw"],
                detail=", ".join(
                    f"{name}: state {f[f'optimizer_state_gb_{name}']:.3f} GB, peak "
                    f"{f[f'peak_memory_gb_{name}']:.3f} GB"
                    for name in OPTIMIZERS
                ),
            )
        )
    return checks


def conclusion_of(p: QLoRAParams, m: QLoRAMeasured, f: dict[str, float]) -> str:
    text = (
        f"LoRA (r = {p.r}, {f['adapter_bits']:.0f}-bit adapters) on the frozen NF4 base "
        f"({f['base_bits_per_param_nf4']:.2f} bits per weight, "
        f"{f['base_compression_vs_fp16']:.2f}× smaller than fp16, dequantized to "
        f"{f['compute_bits']:.0f}-bit for each matmul) reached a test loss of "
        f"{f['loss_qlora_final']:.4f}, against {f['loss_lora_fp_final']:.4f} on the fp32 base "
        f"(gap {f['loss_gap']:+.4f}); quantizing the base alone moved its task-1 loss from "
        f"{f['loss_task1_fp32_base']:.4f} to {f['loss_task1_nf4_base']:.4f}. "
        f"The QLoRA model holds {f['full_precision_base_tensors']:.0f} full-precision copies "
        f"of base weights and its base got {f['base_tensors_with_grad']:.0f} gradients. "
    )
    if not m.paged.measured:
        return text + f"Paged 8-bit AdamW was not measured: {m.paged.reason}."
    return text + (
        f"Peak GPU memory: AdamW {f['peak_memory_gb_adamw']:.3f} GB, 8-bit AdamW "
        f"{f['peak_memory_gb_adamw8bit']:.3f} GB, paged 8-bit AdamW "
        f"{f['peak_memory_gb_paged_adamw8bit']:.3f} GB (its state lives in unified memory, "
        f"outside PyTorch's allocator)."
    )


def result_of(p: QLoRAParams, m: QLoRAMeasured) -> DemoResult:
    figures = figures_of(p, m)
    return DemoResult(
        figures=figures,
        series=series_of(m, figures),
        checks=checks_of(p, m, figures),
        conclusion=conclusion_of(p, m, figures),
    )
