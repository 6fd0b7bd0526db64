"""QLoRA: LoRA on a frozen 4-bit base — the demo's registration and its story.

A small MLP is pretrained in fp32 on a synthetic task (labels from a random teacher
MLP). Its frozen weights are then stored in NF4 — packed uint8 codes and absmax
constants, optionally double-quantized, with no floating-point copy of W — and
dequantized on the fly to the compute dtype (bf16 by default) in every forward and
backward pass. LoRA adapters (A random, B zero, in 16 or 32 bit) on every layer are
trained on a second task whose teacher differs by a low-rank change; the same adapters,
from the same initialisation and data, are trained on the full-precision base beside it.
On a GPU with bitsandbytes, paged 8-bit AdamW is set against AdamW for peak memory.

torch is imported inside ``run`` (via ``qlora_measure`` and ``qlora_report``): the web
process imports this module for the catalogue and must not load torch.
"""

from __future__ import annotations

from app.demos.base import Demo, DemoResult, RunContext
from app.demos.qlora.params import QLoRAParams
from app.demos.qlora.report import OPTIMIZERS as PAGED_OPTIMIZERS
from app.demos.text import N_

FIGURES = (
    "loss_qlora_final",
    "loss_lora_fp_final",
    "loss_gap",
    "loss_gap_relative",
    "accuracy_qlora_final",
    "accuracy_lora_fp_final",
    "loss_before_adaptation",
    "train_loss_qlora_first",
    "train_loss_qlora_last",
    "loss_task1_fp32_base",
    "loss_task1_nf4_base",
    "base_weight_params",
    "base_bytes_nf4",
    "base_bytes_fp16",
    "base_bytes_fp32",
    "base_bits_per_param_nf4",
    "base_compression_vs_fp16",
    "adapter_params",
    "adapter_bits",
    "compute_bits",
    "four_bit_layers",
    "full_precision_base_tensors",
    "full_precision_base_tensors_lora_fp",
    "base_tensors_with_grad",
    "base_tensors_requiring_grad",
    "adapter_grad_norm",
    "dequant_calls_per_forward",
    "dequant_calls_per_step",
    "paged_optimizer_measured",
    *(f"peak_memory_gb_{name}" for name in PAGED_OPTIMIZERS),
    *(f"optimizer_state_gb_{name}" for name in PAGED_OPTIMIZERS),
)

# Which figures bear on which claim (content/llm-sft.md, "QLORA相对于LORA改进是什么？").
CLAIM_FIGURES = {
    "QLoRA's 4-bit weights are 4× smaller than FP16": (
        "base_bytes_nf4", "base_bytes_fp16", "base_bits_per_param_nf4",
        "base_compression_vs_fp16",
    ),
    "LoRA adapters stay in 16 bit and the 4-bit weights are dequantized on the fly": (
        "adapter_bits", "compute_bits", "full_precision_base_tensors",
        "dequant_calls_per_forward", "dequant_calls_per_step", "base_tensors_with_grad",
    ),
    "QLoRA fine-tunes nearly as well as LoRA on the full-precision model": (
        "loss_qlora_final", "loss_lora_fp_final", "loss_gap", "loss_gap_relative",
        "accuracy_qlora_final", "accuracy_lora_fp_final",
    ),
    "Paged optimizers avoid out-of-memory spikes (GPU only)": (
        "paged_optimizer_measured", "peak_memory_gb_adamw", "peak_memory_gb_adamw8bit",
        "peak_memory_gb_paged_adamw8bit", "optimizer_state_gb_adamw",
        "optimizer_state_gb_paged_adamw8bit",
    ),
}  # fmt: skip


def figure_names(params: QLoRAParams) -> tuple[str, ...]:
    """The same names for every parameter choice; the paged-optimizer figures are NaN (not
    measured) unless the run is on a GPU with bitsandbytes (``paged_optimizer_measured``)."""
    return FIGURES


def run(params: QLoRAParams, ctx: RunContext) -> DemoResult:
    from app.demos.qlora.measure import measure
    from app.demos.qlora.report import result_of

    return result_of(params, measure(params, ctx))


DEMO = Demo(
    name="qlora",
    title=N_("QLoRA: LoRA on a frozen 4-bit base"),
    summary=N_(
        "Pretrains a small MLP in fp32, stores its frozen weights in NF4 (packed 4-bit codes "
        "and absmax constants, optionally double-quantized; no full-precision copy) and "
        "dequantizes them on the fly in every forward and backward pass, in bf16 or fp32. "
        "LoRA adapters in 16 or 32 bit are trained on a second task on top of the 4-bit "
        "base and, from the same initialisation and data, on the full-precision base: loss "
        "curves, final losses and their gap, stored bytes of the base in NF4 against "
        "fp16/fp32, and checks that the base keeps no float copy and gets no gradient. On "
        "a GPU with bitsandbytes, also the peak memory of paged 8-bit AdamW against AdamW."
    ),
    claims=tuple(CLAIM_FIGURES),
    params=QLoRAParams,
    run=run,
    time_limit_s=120.0,
    # The NF4 quantizer and the task MLP are nf4's: its code is part of this demo.
    uses=("app.demos.nf4",),
    topics=("QLoRA", "LoRA", "PEFT", "参数高效微调"),
    figure_names=figure_names,
)
