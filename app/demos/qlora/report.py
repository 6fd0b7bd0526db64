"""The QLoRA demo's report: what ``measure`` measured (plain numbers: ``QLoRAMeasured``),
turned into named figures, charts, checks and the conclusion. No torch here."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from app.demos.base import Check, DemoResult, Series
from app.demos.qlora.params import QLoRAParams
from app.demos.qlora.summary import (
    FIGURE_LABELS,
    conclusion_of,
    figure_units,
    headline_of,
    summary_of,
)
from app.demos.text import q, t

CLOSE_TO_FP = 0.10  # "close to LoRA on the full-precision base": within 10% of its loss
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
        "qlora": t("QLoRA: LoRA on the NF4 base"),
        "lora_fp": t("LoRA on the fp32 base"),
    }
    series = [
        Series(
            name=labels[key],
            x=[float(s) for s in range(len(m.curves[key]))],
            y=m.curves[key],
            x_label=t("step"),
            y_label=t("training cross-entropy on task 2"),
            log_y=True,
            chart="adaptation",
            unit="loss",
        )
        for key in ("qlora", "lora_fp")
    ]
    series.append(
        Series(
            name=t("pretraining on task 1 (fp32, all weights)"),
            x=[float(s) for s in range(len(m.pretrain_curve))],
            y=m.pretrain_curve,
            x_label=t("step"),
            y_label=t("cross-entropy"),
            log_y=True,
            chart="pretraining",
            unit="loss",
        )
    )
    series.append(
        Series(
            name=t("stored bytes of the base weights"),
            x=[0.0, 1.0, 2.0],
            y=[figures["base_bytes_fp32"], figures["base_bytes_fp16"], figures["base_bytes_nf4"]],
            kind="bar",
            x_label=t("base weights stored as"),
            y_label=t("bytes"),
            chart="bytes",
            categories=["fp32", "fp16", "NF4"],
            unit="bytes",
        )
    )
    return series


def _base_checks(m: QLoRAMeasured, f: dict[str, float]) -> list[Check]:
    """The frozen 4-bit base: no float copy, no gradient, dequantized per forward."""
    return [
        Check(
            name=t("No full-precision copy of a base weight is kept (parameters and buffers)"),
            passed=f["full_precision_base_tensors"] == 0
            and f["full_precision_base_tensors_lora_fp"] == m.layers,
            detail=t(
                "%(qlora)s weight-shaped float tensors in the QLoRA model; the same count finds "
                "%(lora)s in LoRA on the fp32 base",
                qlora=q(f["full_precision_base_tensors"], "count"),
                lora=q(f["full_precision_base_tensors_lora_fp"], "count"),
            ),
        ),
        Check(
            name=t("The base gets no gradient; the adapters do"),
            passed=f["base_tensors_with_grad"] == 0
            and f["base_tensors_requiring_grad"] == 0
            and f["adapter_grad_norm"] > 0,
            detail=t(
                "%(grads)s base tensors with a gradient, %(requiring)s requiring one; adapter "
                "gradient norm %(norm)s",
                grads=q(f["base_tensors_with_grad"], "count"),
                requiring=q(f["base_tensors_requiring_grad"], "count"),
                norm=q(f["adapter_grad_norm"], "plain"),
            ),
        ),
        Check(
            name=t("Weights are dequantized on the fly: once per 4-bit layer per forward"),
            passed=f["dequant_calls_per_forward"] == m.layers,
            detail=t(
                "%(forward)s dequantizations per forward for %(layers)s layers; %(step)s per "
                "training step (the backward dequantizes again instead of keeping $W$)",
                forward=q(f["dequant_calls_per_forward"], "count"),
                layers=q(m.layers, "count"),
                step=q(f["dequant_calls_per_step"], "count"),
            ),
        ),
    ]


def checks_of(p: QLoRAParams, m: QLoRAMeasured, f: dict[str, float]) -> list[Check]:
    checks = [
        *_base_checks(m, f),
        Check(
            name=t(
                "The adapters are %(adapter)s and the base computes in %(compute)s",
                adapter=p.adapter_dtype,
                compute=p.compute_dtype,
            ),
            passed=f["adapter_bits"] == (16 if p.adapter_dtype == "bf16" else 32)
            and f["compute_bits"] == (16 if p.compute_dtype == "bf16" else 32),
            detail=t(
                "adapters %(adapter)s-bit, compute %(compute)s-bit",
                adapter=f"{f['adapter_bits']:.0f}",
                compute=f"{f['compute_bits']:.0f}",
            ),
        ),
        Check(
            name=t("QLoRA's training loss decreases"),
            passed=f["train_loss_qlora_last"] < f["train_loss_qlora_first"],
            detail=t(
                "%(first)s → %(last)s",
                first=q(f["train_loss_qlora_first"], "loss"),
                last=q(f["train_loss_qlora_last"], "loss"),
            ),
        ),
        Check(
            name=t(
                "QLoRA's test loss is within %(close)s of LoRA's on the fp32 base",
                close=q(CLOSE_TO_FP, "ratio"),
            ),
            passed=f["loss_gap_relative"] <= CLOSE_TO_FP,
            detail=t(
                "%(qlora)s vs %(lora)s (%(gap)s)",
                qlora=q(f["loss_qlora_final"], "loss"),
                lora=q(f["loss_lora_fp_final"], "loss"),
                gap=q(f["loss_gap_relative"], "ratio"),
            ),
        ),
    ]
    if m.paged.measured:
        checks.append(
            Check(
                name=t("8-bit AdamW's optimizer state is smaller than AdamW's"),
                passed=f["optimizer_state_gb_adamw8bit"] < f["optimizer_state_gb_adamw"],
                detail=t(
                    "state: AdamW %(s1)s, 8-bit AdamW %(s2)s, paged 8-bit AdamW %(s3)s",
                    s1=q(f["optimizer_state_gb_adamw"], "gb"),
                    s2=q(f["optimizer_state_gb_adamw8bit"], "gb"),
                    s3=q(f["optimizer_state_gb_paged_adamw8bit"], "gb"),
                ),
            )
        )
    return checks


def result_of(p: QLoRAParams, m: QLoRAMeasured) -> DemoResult:
    figures = figures_of(p, m)
    return DemoResult(
        figures=figures,
        series=series_of(m, figures),
        checks=checks_of(p, m, figures),
        conclusion=conclusion_of(p, figures, m.paged.measured, m.paged.reason),
        headline=headline_of(p, figures),
        summary=summary_of(figures),
        figure_units=figure_units(figures),
        figure_labels=FIGURE_LABELS,
    )
