"""Whole-model weight sizes in NF4, counted as the qlora_memory demo counts them: the real
LLaMA-2-7B and LLaMA-65B shapes from peft_count's presets (6,738,415,616 and 65,285,660,672
parameters), the decoder layers' linear weights quantized, and the token embeddings, the
lm_head, the norms kept in 16 bit (``qlora_memory.formulas``). Only the block size is this
demo's own: at QLoRA's 64 the sizes equal qlora_memory's ``weights_gb_nf4_dq``. No torch here.
"""

from __future__ import annotations

from app.demos.nf4.formulas import stored_bytes_formula
from app.demos.peft_count.formulas import base_total
from app.demos.peft_count.presets import PRESETS, Architecture
from app.demos.qlora_memory.formulas import kept_16bit_numel, quantized_shapes

LLAMA_7B = PRESETS["llama-2-7b"]
LLAMA_65B = PRESETS["llama-65b"]


def fp16_bytes(arch: Architecture) -> int:
    """Every parameter in 16 bit."""
    return 2 * base_total(arch)


def quantized_linear_bytes(arch: Architecture, blocksize: int, double_quant: bool) -> int:
    """The decoder layers' linear weights in NF4 (packed codes and block constants, each
    matrix quantized on its own as bitsandbytes does)."""
    per_layer = sum(
        stored_bytes_formula(d_in * d_out, blocksize, double_quant)
        for d_in, d_out in quantized_shapes(arch)
    )
    return arch.layers * per_layer


def nf4_model_bytes(arch: Architecture, blocksize: int, double_quant: bool) -> int:
    """The whole base: NF4 linear weights plus 2 bytes for every parameter kept in 16 bit."""
    return quantized_linear_bytes(arch, blocksize, double_quant) + 2 * kept_16bit_numel(arch)
