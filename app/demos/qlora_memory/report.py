"""The QLoRA-memory demo's report: the footprints turned into named figures, checks on
the byte formulas, stacked-bar charts and a conclusion quoting the numbers."""

from __future__ import annotations

from dataclasses import dataclass

from app.demos.base import Check, DemoResult, Series
from app.demos.peft_count.presets import PUBLISHED_TOTALS, Architecture
from app.demos.qlora_memory.formulas import (
    BASE_FORMATS,
    COMPONENT_TITLES,
    FORMAT_TITLES,
    FORMATS,
    GB,
    GIB,
    Footprint,
    kept_16bit_numel,
    quantized_numel,
)
from app.demos.qlora_memory.params import GPU_SIZES, QloraMemoryParams

NF4_BITS = 4 + 32 / 64  # 4-bit code + an fp32 absmax per 64 weights
NF4_DQ_BITS = 4 + 8 / 64 + 32 / (64 * 256)  # 8-bit absmax + an fp32 scale per 256 of them
FORMAT_AXIS = "format: " + ", ".join(f"{i} {FORMAT_TITLES[f]}" for i, f in enumerate(FORMATS))
BASE_AXIS = "base format: " + ", ".join(f"{i} {f}" for i, f in enumerate(BASE_FORMATS))
GIB_LABEL = "GiB (2³⁰ B; GPU sizes are GiB of device memory)"


@dataclass(frozen=True)
class Measured:
    """The footprints of every format and the sizes they were built from."""

    arch: Architecture
    n: int  # parameters of the whole model
    tensor_sizes: list[int]  # LoRA's tensors, in numbers
    lora_params: int  # peft_count's L·r·Σ(d_in+d_out)
    activations: int  # bytes
    memory: dict[str, Footprint]
    weights: dict[str, int]  # bytes of the stored base per format
    bits: dict[str, float]  # bits per quantized linear weight per base format
    model_bits: dict[str, float]  # bits per parameter over the whole model


def min_gpu_gb(total: int) -> int:
    """The smallest offered GPU size (GiB) that holds ``total`` bytes; 0 if none does."""
    return next((size for size in GPU_SIZES if total <= size * GIB), 0)


def figures_of(p: QloraMemoryParams, m: Measured) -> dict[str, float]:
    arch, n, memory, weights, bits, model_bits = (
        m.arch, m.n, m.memory, m.weights, m.bits, m.model_bits
    )  # fmt: skip
    lora_params, activations = m.lora_params, m.activations
    capacity = p.gpu_gb * GIB
    trained = memory["fp16"]  # LoRA's own state is the same on every base
    lora_state = trained.adapters + trained.gradients + trained.master + trained.moments
    figures: dict[str, float] = {
        "total_params": float(n),
        "quantized_params": float(quantized_numel(arch)),
        "kept_16bit_params": float(kept_16bit_numel(arch)),
        "lora_params": float(lora_params),
        "gpu_gb": float(p.gpu_gb),
        "activations_gb": activations / GB,
        "lora_train_state_gb": lora_state / GB,
        "dq_saved_gb": (weights["nf4"] - weights["nf4_dq"]) / GB,
    }
    for f in BASE_FORMATS:
        figures[f"linear_bits_per_weight_{f}"] = bits[f]
        figures[f"model_bits_per_param_{f}"] = model_bits[f]
    for f in ("int8", "nf4", "nf4_dq"):
        figures[f"weights_ratio_fp16_over_{f}"] = weights["fp16"] / weights[f]
        figures[f"linear_ratio_fp16_over_{f}"] = bits["fp16"] / bits[f]
    for f in FORMATS:
        total = memory[f].total
        figures[f"weights_gb_{f}"] = weights[f] / GB
        figures[f"weights_gib_{f}"] = weights[f] / GIB
        figures[f"total_gb_{f}"] = total / GB
        figures[f"total_gib_{f}"] = total / GIB
        figures[f"fits_{f}"] = 1.0 if total <= capacity else 0.0
        figures[f"margin_gib_{f}"] = (capacity - total) / GIB
        figures[f"min_gpu_gb_{f}"] = float(min_gpu_gb(total))

    return figures


def series_of(p: QloraMemoryParams, m: Measured) -> list[Series]:
    memory, bits, model_bits = m.memory, m.bits, m.model_bits

    def bars(name: str, y: list[float], chart: str, stacked: bool = False) -> Series:
        on_formats = chart != "bits"  # the bits chart has no full fine-tuning bar
        return Series(
            name=name,
            x=[float(i) for i in range(len(y))],
            y=y,
            kind="bar",
            x_label=FORMAT_AXIS if on_formats else BASE_AXIS,
            y_label=GIB_LABEL if on_formats else "bits per weight",
            chart=chart,
            stacked=stacked,
        )

    return [
        *(
            bars(title, [getattr(memory[f], part) / GIB for f in FORMATS], "memory", True)
            for part, title in COMPONENT_TITLES.items()
        ),
        bars("total (GiB)", [memory[f].total / GIB for f in FORMATS], "vs_gpu"),
        bars(f"the {p.gpu_gb} GB GPU", [float(p.gpu_gb)] * len(FORMATS), "vs_gpu"),
        bars("bits per quantized linear weight", [bits[f] for f in BASE_FORMATS], "bits"),
        bars(
            "bits per parameter, whole model (embeddings, lm_head, norms in 16 bit)",
            [model_bits[f] for f in BASE_FORMATS],
            "bits",
        ),
    ]


def checks_of(p: QloraMemoryParams, m: Measured) -> list[Check]:
    memory, weights, bits = m.memory, m.weights, m.bits
    tensor_sizes, lora_params = m.tensor_sizes, m.lora_params
    checks = [
        Check(
            name="The stacked components add up to each total",
            passed=all(
                sum(getattr(memory[f], part) for part in COMPONENT_TITLES) == memory[f].total
                for f in FORMATS
            ),
            detail=", ".join(f"{f} {memory[f].total:,} B" for f in FORMATS),
        ),
        Check(
            name="LoRA tensors sum to peft_count's L·r·Σ(d_in+d_out)",
            passed=sum(tensor_sizes) == lora_params,
            detail=f"{len(tensor_sizes)} tensors, {sum(tensor_sizes):,} = {lora_params:,}",
        ),
        Check(
            name="NF4 stores 4 + 32/64 = 4.5 bits per quantized weight",
            passed=abs(bits["nf4"] - NF4_BITS) < 1e-9,
            detail=f"8·bytes/weights = {bits['nf4']:.6f}",
        ),
        Check(
            name="NF4 + double quantization stores 4 + 8/64 + 32/(64·256) ≈ 4.127 bits",
            # The ceilings and the one fp32 offset per matrix add far less than 1e-4 bit.
            passed=abs(bits["nf4_dq"] - NF4_DQ_BITS) < 1e-4,
            detail=f"8·bytes/weights = {bits['nf4_dq']:.6f}; formula {NF4_DQ_BITS:.6f}",
        ),
        Check(
            name="Weights shrink fp16 > int8 > NF4 > NF4+DQ",
            passed=weights["fp16"] > weights["int8"] > weights["nf4"] > weights["nf4_dq"],
            detail=" > ".join(f"{weights[f] / GB:.3f} GB" for f in BASE_FORMATS),
        ),
        Check(
            name="NF4 weights are less than 4× smaller than fp16 (absmax, 16-bit embeddings)",
            passed=weights["fp16"] / weights["nf4"] < 4 and weights["fp16"] / weights["nf4_dq"] < 4,
            detail=(
                f"{weights['fp16'] / weights['nf4']:.3f}× (NF4), "
                f"{weights['fp16'] / weights['nf4_dq']:.3f}× (NF4+DQ)"
            ),
        ),
    ]
    published = PUBLISHED_TOTALS.get(p.preset)
    if published is not None:
        checks.append(
            Check(
                name=f"fp16 weights = 2 B × the published {published:,} parameters",
                passed=weights["fp16"] == 2 * published,
                detail=f"{weights['fp16']:,} B = {weights['fp16'] / GB:.3f} GB",
            )
        )
    return checks


def conclusion_of(p: QloraMemoryParams, m: Measured, figures: dict[str, float]) -> str:
    arch, n, memory, weights, bits = m.arch, m.n, m.memory, m.weights, m.bits
    fits = [FORMAT_TITLES[f] for f in FORMATS if figures[f"fits_{f}"]]
    min_dq = min_gpu_gb(memory["nf4_dq"].total)
    conclusion = (
        f"{arch.name} ({n:,} parameters): weights {weights['fp16'] / GB:.2f} GB in fp16 "
        f"({weights['fp16'] / GIB:.2f} GiB), {weights['int8'] / GB:.2f} GB int8, "
        f"{weights['nf4'] / GB:.2f} GB NF4, {weights['nf4_dq'] / GB:.2f} GB NF4+DQ: "
        f"{figures['weights_ratio_fp16_over_nf4']:.2f}× and "
        f"{figures['weights_ratio_fp16_over_nf4_dq']:.2f}× smaller than fp16 (the linear "
        f"layers alone {bits['nf4']:.3f} and {bits['nf4_dq']:.3f} bits a weight; embeddings, "
        f"lm_head and norms stay 16-bit), double quantization saving "
        f"{figures['dq_saved_gb']:.2f} GB. "
        f"Training totals with LoRA r={p.lora_r} on {p.lora_targets}, b={p.batch_size}, "
        f"s={p.seq_len}: "
        + "; ".join(f"{FORMAT_TITLES[f]} {memory[f].total / GIB:.1f} GiB" for f in FORMATS)
        + f"; on the {p.gpu_gb} GB GPU "
        + (f"these fit: {'; '.join(fits)}." if fits else "none fits.")
        + (
            f" QLoRA on NF4+DQ needs at least the {min_dq} GB GPU."
            if min_dq
            else " QLoRA on NF4+DQ fits none of the 24, 40, 48 and 80 GB GPUs."
        )
    )
    return conclusion


def result_of(p: QloraMemoryParams, m: Measured) -> DemoResult:
    figures = figures_of(p, m)
    return DemoResult(
        figures=figures,
        series=series_of(p, m),
        checks=checks_of(p, m),
        conclusion=conclusion_of(p, m, figures),
    )


SHARED_FIGURES = (
    "total_params",
    "quantized_params",
    "kept_16bit_params",
    "lora_params",
    "gpu_gb",
    "activations_gb",
    "lora_train_state_gb",
    "dq_saved_gb",
)
PER_FORMAT_FIGURES = (
    "weights_gb",
    "weights_gib",
    "total_gb",
    "total_gib",
    "fits",
    "margin_gib",
    "min_gpu_gb",
)


def figure_names(params: QloraMemoryParams) -> list[str]:
    """The shared figures, bits per base format, fp16 ratios, then ``<figure>_<format>``."""
    return [
        *SHARED_FIGURES,
        *(
            f"{name}_{f}"
            for f in BASE_FORMATS
            for name in ("linear_bits_per_weight", "model_bits_per_param")
        ),
        *(
            f"{name}_{f}"
            for f in ("int8", "nf4", "nf4_dq")
            for name in ("weights_ratio_fp16_over", "linear_ratio_fp16_over")
        ),
        *(f"{name}_{f}" for f in FORMATS for name in PER_FORMAT_FIGURES),
    ]
