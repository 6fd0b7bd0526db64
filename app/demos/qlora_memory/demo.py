"""Will it fit? Fine-tuning memory at fp16, int8 and NF4, against a GPU you pick.

The story: take a real architecture from the PEFT parameter-count demo's presets, count
its weights, and store the frozen base four ways: fp16, int8 (LLM.int8), NF4 and NF4 with
double quantization (QLoRA). Put LoRA on top (rank, targets, adapter dtype, optimizer),
add gradients, optimizer states, activations for the chosen batch and sequence length and
a fixed CUDA overhead; do the same for full fine-tuning in fp16 with AdamW as the
reference. Each format's total, stacked by component, is compared with a 24, 40, 48 or
80 GB GPU. Every byte formula is stated in ``formulas``.

Pure integer arithmetic: no torch, no tensors, milliseconds a run (the seed changes
nothing; it is there because every demo has one).
"""

from __future__ import annotations

from app.demos.base import Demo, DemoResult, RunContext
from app.demos.peft_count.formulas import base_total, layer_linears, lora_r_d_plus_k
from app.demos.peft_count.params import PeftParams
from app.demos.peft_count.presets import PRESETS
from app.demos.qlora_memory.formulas import (
    BASE_FORMATS,
    FORMATS,
    GIB,
    TARGET_MODULES,
    Footprint,
    full_finetune_footprint,
    layer_activation_bytes,
    linear_bits_per_weight,
    logits_bytes,
    lora_footprint,
    lora_tensor_sizes,
    weight_bytes,
)
from app.demos.qlora_memory.params import QloraMemoryParams
from app.demos.qlora_memory.report import Measured, figure_names, result_of
from app.demos.text import N_


def measure(params: QloraMemoryParams, ctx: RunContext) -> Measured:
    """Every format's footprint (progress after each), and the sizes behind them."""
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
    return Measured(
        arch=arch, n=n, tensor_sizes=tensor_sizes, lora_params=lora_params,
        activations=activations, memory=memory, weights=weights, bits=bits,
        model_bits=model_bits,
    )  # fmt: skip


def run(params: QloraMemoryParams, ctx: RunContext) -> DemoResult:
    return result_of(params, measure(params, ctx))


DEMO = Demo(
    name="qlora_memory",
    title=N_("Will it fit? Fine-tuning memory at fp16, int8 and NF4"),
    summary=N_(
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
    # peft_count's presets and formulas count the weights: its code is part of this demo.
    uses=("app.demos.peft_count",),
    figure_names=figure_names,
    live_chart=False,  # five sums, not a curve: the run page shows a progress bar
    topics=("QLoRA", "LoRA", "PEFT", "参数高效微调"),
)
