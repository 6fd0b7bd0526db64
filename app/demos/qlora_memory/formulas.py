"""Bytes of a fine-tuning run on one GPU, by what holds them: plain integer arithmetic.

The parameter counts come from the PEFT parameter-count demo (``peft_count.formulas``:
``base_total``, ``layer_linears``, ``nf4_bytes``, ``lora_r_d_plus_k``, ``activation_bytes``);
this module adds what each storage format costs and what training adds on top.

What is quantized: the weight matrices of every decoder layer's linear projections
(q, k, v, o and the MLP's gate/up/down), as bitsandbytes does through transformers'
``load_in_8bit`` / ``load_in_4bit``. What stays 16-bit (2 B/param) in every format: token
and position embeddings, the lm_head (transformers never quantizes it), norms and biases.

Weight bytes per format, for a linear weight of d_out rows and d_in columns (n = d_in·d_out):

* fp16:   2·n.
* int8:   n + 4·d_out: LLM.int8 (Dettmers et al. 2022) as bitsandbytes stores it, one int8
  per weight and one fp32 absmax per output row (``SCB``). Its fp16 outlier columns are
  computed at run time from the dequantized int8 columns, so they add no stored bytes.
* nf4:    n/2 + 4·⌈n/64⌉: 4 bits a weight and one fp32 absmax per block of 64
  (QLoRA, Dettmers et al. 2023): 4 + 32/64 = 4.5 bits a weight.
* nf4_dq: n/2 + ⌈n/64⌉ + 4·⌈n/(64·256)⌉ + 4: the absmax values quantized to 8 bits, with an
  fp32 scale per 256 of them and one fp32 offset: 4 + 8/64 + 32/(64·256) ≈ 4.127 bits.

Training adds, per trainable (LoRA) parameter in adapter dtype A (bf16 2 B, fp32 4 B):
the parameter (A), its gradient (A), an fp32 master copy (4 B) when the adapters are bf16
and the master copy is on (mixed precision; QLoRA's own script trains bf16 adapters
without one), and the optimizer's two moments: AdamW 2·4 B; bitsandbytes' 8-bit
(paged) AdamW 2·(1 B + 4 B per block of 256) for tensors of at least 4096 values and
2·4 B for smaller ones (its ``min_8bit_size``). Paged states can be evicted to CPU under
memory pressure; they are counted here as resident, the peak without pressure.

Full fine-tuning, the reference: mixed-precision AdamW holds 16-bit weights and
gradients, an fp32 master copy and two fp32 moments: 2 + 2 + 4 + 8 = 16 B/param
(ZeRO, Rajbhandari et al. 2020).

Activations, 16-bit, the same for every format (the backward pass goes through every
frozen layer either way): Korthikanti et al. 2022's s·b·h·(34 + 5·a·s/h) per layer
(``peft_count.formulas.activation_bytes``; 34·s·b·h with FlashAttention, which never
stores the s×s attention scores), or with gradient checkpointing each layer's
input 2·s·b·h kept plus one layer's full activations while it is recomputed; plus the
logits, b·s·V·(2 + 4) B (the 16-bit lm_head output and the fp32 copy the loss reads).
LoRA's own small activations (b·s·r per adapter) and dequantization buffers (one
weight matrix at a time) are left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Literal

from app.demos.peft_count.formulas import (
    activation_bytes,
    base_total,
    layer_linears,
    nf4_bytes,
)
from app.demos.peft_count.params import PeftParams, Recomputation
from app.demos.peft_count.presets import Architecture
from app.demos.text import N_

Format = Literal["full_fp16", "fp16", "int8", "nf4", "nf4_dq"]
# The x axis of the charts, left to right, and the suffix of every per-format figure.
FORMATS: tuple[Format, ...] = ("full_fp16", "fp16", "int8", "nf4", "nf4_dq")
BASE_FORMATS: tuple[Format, ...] = ("fp16", "int8", "nf4", "nf4_dq")  # how the base is stored
# English msgids (N_): the page translates them.
FORMAT_TITLES: dict[Format, str] = {
    "full_fp16": N_("full fine-tuning in fp16 + AdamW"),
    "fp16": N_("LoRA on an fp16 base"),
    "int8": N_("LoRA on an int8 base (LLM.int8)"),
    "nf4": N_("QLoRA on NF4"),
    "nf4_dq": N_("QLoRA on NF4 + double quantization"),
}
BASE_TITLES: dict[Format, str] = {
    "fp16": "fp16",
    "int8": "int8",
    "nf4": "NF4",
    "nf4_dq": N_("NF4 + double quantization"),
}

Optimizer = Literal["adamw_fp32", "paged_adamw_8bit"]
AdapterDtype = Literal["bf16", "fp32"]
TargetChoice = Literal["q_v", "attention", "all_linear"]

# peft_count's comma-separated target names for each choice: PEFT's default for llama
# (q, v), all of attention, and every linear layer (QLoRA's recipe).
TARGET_MODULES: dict[TargetChoice, tuple[str, ...]] = {
    "q_v": ("q", "v"),
    "attention": ("q", "k", "v", "o"),
    "all_linear": ("q", "k", "v", "o", "gate", "up", "down"),
}

GB = 10**9  # decimal gigabytes: "7B in FP16 ≈ 14 GB" counts these
GIB = 2**30  # GPU memory is sized in these: a "24 GB" RTX 4090 has 24,564 MiB
ADAPTER_BYTES: dict[AdapterDtype, int] = {"bf16": 2, "fp32": 4}
INT8_ROW_SCALE_BYTES = 4  # bitsandbytes' SCB: one fp32 absmax per output row
OPT8_BLOCK = 256  # bitsandbytes 0.50's blockwise 8-bit states: an fp32 absmax per 256 values
OPT8_MIN_SIZE = 4096  # smaller tensors keep 32-bit states (bitsandbytes' min_8bit_size)
LOGITS_BYTES = 2 + 4  # per logit: the 16-bit lm_head output and its fp32 copy for the loss


def quantized_shapes(arch: Architecture) -> list[tuple[int, int]]:
    """(d_in, d_out) of the weight matrices one decoder layer quantizes."""
    return [(lin.d_in, lin.d_out) for lin in layer_linears(arch).values()]


def quantized_numel(arch: Architecture) -> int:
    """L·Σ d_in·d_out: the weights a quantized format stores in 8 or 4 bits."""
    return arch.layers * sum(d_in * d_out for d_in, d_out in quantized_shapes(arch))


def kept_16bit_numel(arch: Architecture) -> int:
    """Embeddings, lm_head (unless tied), norms and biases: 16-bit in every format."""
    return base_total(arch) - quantized_numel(arch)


def int8_bytes(d_in: int, d_out: int) -> int:
    """One int8 per weight plus an fp32 absmax per output row."""
    return d_in * d_out + INT8_ROW_SCALE_BYTES * d_out


def quantized_bytes(arch: Architecture, fmt: Format) -> int:
    """Bytes of the quantized linear weights alone (all L layers) in ``fmt``."""
    shapes = quantized_shapes(arch)
    if fmt in ("fp16", "full_fp16"):
        per_layer = sum(2 * d_in * d_out for d_in, d_out in shapes)
    elif fmt == "int8":
        per_layer = sum(int8_bytes(d_in, d_out) for d_in, d_out in shapes)
    else:
        per_layer = sum(nf4_bytes(d_in * d_out, fmt == "nf4_dq") for d_in, d_out in shapes)
    return arch.layers * per_layer


def weight_bytes(arch: Architecture, fmt: Format) -> int:
    """The whole frozen (or, for full fine-tuning, trained) base in ``fmt``."""
    return quantized_bytes(arch, fmt) + 2 * kept_16bit_numel(arch)


def linear_bits_per_weight(arch: Architecture, fmt: Format) -> float:
    """8·bytes / weights over the quantized linear layers: the format's own cost."""
    return 8 * quantized_bytes(arch, fmt) / quantized_numel(arch)


def lora_tensor_sizes(arch: Architecture, targets: tuple[str, ...], r: int) -> list[int]:
    """Numel of every LoRA tensor: A (r×d_in) and B (d_out×r) per target and layer."""
    linears = layer_linears(arch)
    per_layer = [n for t in targets for n in (r * linears[t].d_in, linears[t].d_out * r)]
    return per_layer * arch.layers


def moment_bytes(tensor_sizes: list[int], optimizer: Optimizer) -> int:
    """AdamW's two moments for tensors of these sizes."""
    if optimizer == "adamw_fp32":
        return sum(2 * 4 * n for n in tensor_sizes)
    return sum(
        2 * (n + 4 * math.ceil(n / OPT8_BLOCK)) if n >= OPT8_MIN_SIZE else 2 * 4 * n
        for n in tensor_sizes
    )


def layer_activation_bytes(peft: PeftParams, checkpointing: bool, flash_attention: bool) -> int:
    """Stored activations of all L layers, 16-bit, from peft_count's Korthikanti formula:
    s·b·h·(34 + 5·a·s/h) per layer, or s·b·h·34 with FlashAttention (the s×s scores are
    never stored: Korthikanti's "selective" case); with checkpointing, every layer's input
    2·s·b·h plus one layer's full set while it is recomputed."""

    def stored(recomputation: Recomputation) -> int:
        update = {"activation_recomputation": recomputation}
        return activation_bytes(peft.model_copy(update=update), "lora")[0]

    every_layer = stored("selective" if flash_attention else "none")
    if not checkpointing:
        return every_layer
    return stored("full") + every_layer // peft.architecture.layers


def logits_bytes(arch: Architecture, batch_size: int, seq_len: int) -> int:
    return batch_size * seq_len * arch.vocab * LOGITS_BYTES


@dataclass(frozen=True)
class Footprint:
    """Training memory in bytes, one field per stacked bar (in this order)."""

    weights: int  # the base model in its format
    adapters: int  # LoRA's A and B in adapter dtype
    gradients: int  # of the trained parameters
    master: int  # fp32 master copy of the trained parameters
    moments: int  # the optimizer's two moments
    activations: int  # stored for the backward pass, logits included
    overhead: int  # CUDA context, workspaces, allocator slack

    @property
    def total(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self))


COMPONENT_TITLES: dict[str, str] = {
    "weights": N_("base weights"),
    "adapters": N_("LoRA adapters"),
    "gradients": N_("gradients"),
    "master": N_("fp32 master copy"),
    "moments": N_("optimizer moments"),
    "activations": N_("activations + logits"),
    "overhead": N_("CUDA context + slack"),
}


def full_finetune_footprint(arch: Architecture, activations: int, overhead: int) -> Footprint:
    """Mixed-precision AdamW on every parameter: 2 + 2 + 4 + 8 = 16 B/param."""
    n = base_total(arch)
    return Footprint(2 * n, 0, 2 * n, 4 * n, 8 * n, activations, overhead)


def lora_footprint(
    arch: Architecture,
    fmt: Format,
    tensor_sizes: list[int],
    *,
    adapter_dtype: AdapterDtype,
    master_copy: bool,
    optimizer: Optimizer,
    activations: int,
    overhead: int,
) -> Footprint:
    """A frozen base in ``fmt`` with trained LoRA tensors of ``tensor_sizes``."""
    t = sum(tensor_sizes)
    a = ADAPTER_BYTES[adapter_dtype]
    master = 4 * t if adapter_dtype == "bf16" and master_copy else 0
    return Footprint(
        weight_bytes(arch, fmt),
        a * t,
        a * t,
        master,
        moment_bytes(tensor_sizes, optimizer),
        activations,
        overhead,
    )
