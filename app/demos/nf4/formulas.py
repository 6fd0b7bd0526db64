"""NF4's storage cost from its formulas, for any size. No torch here: the report quotes
these beside what ``quant`` measures from the stored tensors."""

from __future__ import annotations

import math

DQ_BLOCK = 256  # double quantization: absmax constants per 8-bit block


def bits_per_param_formula(blocksize: int, double_quant: bool) -> float:
    """QLoRA's per-parameter cost: 4 + 32/B, or with double quantization
    4 + 8/B + 32/(256·B). It leaves out the one fp32 mean per tensor (32/numel bits)."""
    if double_quant:
        return 4 + 8 / blocksize + 32 / (DQ_BLOCK * blocksize)
    return 4 + 32 / blocksize


def stored_bytes_formula(numel: int, blocksize: int, double_quant: bool) -> int:
    """The exact byte count for any size: ceil(n/2) packed bytes, then an fp32 absmax per
    block, or an int8 per block + an fp32 scale per 256 blocks + the fp32 mean."""
    n_blocks = math.ceil(numel / blocksize)
    packed = math.ceil(numel / 2)
    if double_quant:
        return packed + n_blocks + 4 * math.ceil(n_blocks / DQ_BLOCK) + 4
    return packed + 4 * n_blocks
