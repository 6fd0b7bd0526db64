"""Will it fit? Fine-tuning memory at fp16, int8 and NF4, against a GPU you pick.

The story: take a real architecture from the PEFT parameter-count demo's presets, count
its weights, and store the frozen base four ways: fp16, int8 (LLM.int8), NF4 and NF4 with
double quantization (QLoRA). Put LoRA on top (rank, targets, adapter dtype, optimizer),
add gradients, optimizer states, activations for the chosen batch and sequence length and
a fixed CUDA overhead; do the same for full fine-tuning in fp16 with AdamW as the
reference. Each format's total, stacked by component, is compared with a 24, 40, 48 or
80 GB GPU. Every byte formula is stated in ``app.demos.qlora_memory_formulas``.

Pure integer arithmetic: no torch, no tensors, milliseconds a run (the seed changes
nothing; it is there because every demo has one).
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import Field, field_validator

from app.demos.base import Check, Demo, DemoParams, DemoResult, RunContext, Series
from app.demos.peft_count.formulas import base_total, layer_linears, lora_r_d_plus_k
from app.demos.peft_count.params import PeftParams
from app.demos.peft_count.presets import PRESETS, PUBLISHED_TOTALS
from app.demos.qlora_memory_formulas import (
    BASE_FORMATS,
    COMPONENT_TITLES,
    FORMAT_TITLES,
    FORMATS,
    GB,
    GIB,
    TARGET_MODULES,
    AdapterDtype,
    Footprint,
    Optimizer,
    TargetChoice,
    full_finetune_footprint,
    kept_16bit_numel,
    layer_activation_bytes,
    linear_bits_per_weight,
    logits_bytes,
    lora_footprint,
    lora_tensor_sizes,
    quantized_numel,
    weight_bytes,
)

# PRESETS' keys (peft_count's PresetName without "custom"); a test keeps them equal.
Preset = Literal[
    "llama-2-7b",
    "llama-2-13b",
    "llama-2-70b",
    "llama-65b",
    "mistral-7b",
    "qwen2.5-3b",
    "qwen2.5-7b",
    "gpt3-175b",
]
GpuSize = Literal[24, 40, 48, 80]
GPU_SIZES: tuple[int, ...] = get_args(GpuSize)

NF4_BITS = 4 + 32 / 64  # 4-bit code + an fp32 absmax per 64 weights
NF4_DQ_BITS = 4 + 8 / 64 + 32 / (64 * 256)  # 8-bit absmax + an fp32 scale per 256 of them
FORMAT_AXIS = "format: " + ", ".join(f"{i} {FORMAT_TITLES[f]}" for i, f in enumerate(FORMATS))
BASE_AXIS = "base format: " + ", ".join(f"{i} {f}" for i, f in enumerate(BASE_FORMATS))
GIB_LABEL = "GiB (2³⁰ B; GPU sizes are GiB of device memory)"


class QloraMemoryParams(DemoParams):
    preset: Preset = Field(
        default="llama-2-7b", description="Architecture (published hyperparameters)"
    )
    gpu_gb: GpuSize = Field(
        default=24, description="GPU memory as sold: 24, 40, 48 or 80 GB (GiB of device memory)"
    )
    lora_r: int = Field(default=64, ge=1, le=1024, description="LoRA rank r (QLoRA used 64)")
    lora_targets: TargetChoice = Field(
        default="all_linear",
        description=(
            "Projections LoRA adapts: q_v (PEFT's llama default), attention (q, k, v, o) or "
            "all_linear (also gate, up, down: QLoRA's recipe)"
        ),
    )
    batch_size: int = Field(
        default=1, ge=1, le=256, description="Micro-batch size b (QLoRA: 1, with accumulation)"
    )
    seq_len: int = Field(default=512, ge=1, le=32768, description="Sequence length s (tokens)")
    gradient_checkpointing: bool = Field(
        default=True, description="Keep only each layer's input; recompute the rest"
    )
    flash_attention: bool = Field(
        default=True, description="FlashAttention/SDPA: the s×s attention scores are not stored"
    )
    optimizer: Optimizer = Field(
        default="adamw_fp32",
        description="AdamW with fp32 moments, or bitsandbytes' 8-bit paged AdamW",
    )
    adapter_dtype: AdapterDtype = Field(
        default="bf16", description="dtype of the LoRA weights and their gradients"
    )
    fp32_master_copy: bool = Field(
        default=True,
        description="bf16 adapters: the optimizer updates an fp32 master copy (mixed precision)",
    )
    overhead_gib: float = Field(
        default=1.0,
        ge=0.0,
        le=8.0,
        allow_inf_nan=False,
        description="Fixed overhead: CUDA context, cuBLAS workspace, allocator slack (GiB)",
    )

    # The web form and the CLI send every value as text; Literal[24, ...] wants the int.
    @field_validator("gpu_gb", mode="before")
    @classmethod
    def gpu_from_text(cls, raw: object) -> object:
        if isinstance(raw, str) and raw.strip().isdigit():
            return int(raw.strip())
        return raw


def min_gpu_gb(total: int) -> int:
    """The smallest offered GPU size (GiB) that holds ``total`` bytes; 0 if none does."""
    return next((size for size in GPU_SIZES if total <= size * GIB), 0)


def _series(
    p: QloraMemoryParams,
    memory: dict[str, Footprint],
    bits: dict[str, float],
    model_bits: dict[str, float],
) -> list[Series]:
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


def run(params: QloraMemoryParams, ctx: RunContext) -> DemoResult:
    p = params
    arch = PRESETS[p.preset]
    # GPT-3 has no gate projection: all_linear there is q, k, v, o, up, down.
    targets = tuple(t for t in TARGET_MODULES[p.lora_targets] if t in layer_linears(arch))
    peft = PeftParams(
        preset=p.preset,
        lora_r=p.lora_r,
        lora_target_modules=",".join(targets),
        batch_size=p.batch_size,
        seq_len=p.seq_len,
    )
    tensor_sizes = lora_tensor_sizes(arch, targets, p.lora_r)
    lora_params = lora_r_d_plus_k(peft)
    layer_acts = layer_activation_bytes(peft, p.gradient_checkpointing, p.flash_attention)
    activations = layer_acts + logits_bytes(arch, p.batch_size, p.seq_len)
    overhead = round(p.overhead_gib * GIB)

    memory: dict[str, Footprint] = {}
    for step, fmt in enumerate(FORMATS, start=1):
        if fmt == "full_fp16":
            memory[fmt] = full_finetune_footprint(arch, activations, overhead)
        else:
            memory[fmt] = lora_footprint(
                arch,
                fmt,
                tensor_sizes,
                adapter_dtype=p.adapter_dtype,
                master_copy=p.fp32_master_copy,
                optimizer=p.optimizer,
                activations=activations,
                overhead=overhead,
            )
        ctx.progress(step, len(FORMATS), total_gib=memory[fmt].total / GIB)

    n = base_total(arch)
    weights: dict[str, int] = {f: weight_bytes(arch, f) for f in FORMATS}
    bits: dict[str, float] = {f: linear_bits_per_weight(arch, f) for f in BASE_FORMATS}
    model_bits: dict[str, float] = {f: 8 * weights[f] / n for f in BASE_FORMATS}
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

    checks = _checks(p, memory, weights, bits, tensor_sizes, lora_params)
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
    return DemoResult(
        figures=figures,
        series=_series(p, memory, bits, model_bits),
        checks=checks,
        conclusion=conclusion,
    )


def _checks(
    p: QloraMemoryParams,
    memory: dict[str, Footprint],
    weights: dict[str, int],
    bits: dict[str, float],
    tensor_sizes: list[int],
    lora_params: int,
) -> list[Check]:
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


DEMO = Demo(
    name="qlora_memory",
    title="Will it fit? Fine-tuning memory at fp16, int8 and NF4",
    summary=(
        "For LLaMA-2 (7B, 13B, 70B), LLaMA-65B, Mistral-7B, Qwen2.5 (3B, 7B) or GPT-3 175B, "
        "stores the frozen base in fp16, int8 (LLM.int8), NF4 and NF4 with double "
        "quantization, adds LoRA's adapters, gradients, optimizer states (AdamW or 8-bit "
        "paged AdamW), an activation estimate and a fixed CUDA overhead, and compares each "
        "total, and full fine-tuning's, with a 24, 40, 48 or 80 GB GPU. Every byte is a "
        "stated formula; the breakdown is drawn as stacked bars."
    ),
    claims=(
        "A 7B model in FP16 takes about 14 GB",
        "QLoRA's 4-bit weights are 4× smaller than FP16",
        "Double quantization saves memory",
        "QLoRA lets a 65B model train on a single 24 GB GPU",
    ),
    params=QloraMemoryParams,
    run=run,
    time_limit_s=30.0,
    uses_gpu=False,  # integer arithmetic only
    extra_sources=("app.demos.qlora_memory_formulas",),
    figure_names=figure_names,
)
