"""The cross-check against bitsandbytes, an optional dependency: if it imports, quantize
the same tensor with ``bitsandbytes.functional.quantize_4bit`` and compare codes, absmax
and dequantized values with ours; also its double quantization and its FP4 table, which
is not E2M1 (``formats``).

Nothing here raises when bitsandbytes is missing or fails: ``load_bnb`` returns None and
the demo reports ``bnb_available = 0`` with the comparisons as NaN (not measured).
"""

from __future__ import annotations

import math
from types import ModuleType

import torch

from app.demos.nf4.checks import BnbComparison
from app.demos.nf4.formats import bnb_fp4_table, fp4_code
from app.demos.nf4.quant import Packed4bit, dequantize_blockwise, unpack_4bit

NAN = math.nan


def load_bnb() -> ModuleType | None:
    """``bitsandbytes.functional``, or None. (Its import logs a harmless line about a CPU
    gemm kernel from kernels-community on machines without the ``kernels`` package.)"""
    try:
        import bitsandbytes.functional as bnb_functional
    except Exception:  # ImportError, or a broken native library: the demo goes on
        return None
    return bnb_functional


def compare_with_bnb(
    bnb: ModuleType | None, x: torch.Tensor, ours: Packed4bit, blocksize: int
) -> BnbComparison:
    """Quantize ``x`` with bitsandbytes (NF4, NF4 + double quantization, FP4) and compare
    with ``ours`` (our NF4 of ``x`` without double quantization)."""
    if bnb is None:
        return BnbComparison(error="bitsandbytes is not installed")
    try:
        return _compare(bnb, x, ours, blocksize)
    except Exception as exc:  # a version whose API moved: report it, never fail the run
        return BnbComparison(available=True, error=f"{type(exc).__name__}: {exc}")


def _compare(bnb: ModuleType, x: torch.Tensor, ours: Packed4bit, blocksize: int) -> BnbComparison:
    numel = x.numel()
    packed, state = bnb.quantize_4bit(x, blocksize=blocksize, quant_type="nf4")
    theirs_q = unpack_4bit(packed.reshape(-1), numel)  # (numel,)
    ours_q = unpack_4bit(ours.packed, numel)
    assert ours.absmax is not None
    ours_dequant = dequantize_blockwise(ours)
    theirs_dequant = bnb.dequantize_4bit(packed, state).float()
    out = BnbComparison(available=True)
    out.code_max_abs_diff = (state.code.float().cpu() - ours.code.cpu()).abs().max().item()
    out.code_mismatches = float((theirs_q != ours_q).sum().item())
    out.absmax_max_abs_diff = (state.absmax.float() - ours.absmax).abs().max().item()
    out.dequant_max_abs_diff = (theirs_dequant - ours_dequant).abs().max().item()
    out.packed_equal = float(torch.equal(packed.reshape(-1), ours.packed))

    # Double quantization: bytes of what its QuantState holds per tensor (the packed
    # weights, uint8 absmax, fp32 scale per 256 blocks, fp32 offset); its 256-entry
    # dynamic map, like our 16-value code, is a shared table and not counted.
    packed_dq, state_dq = bnb.quantize_4bit(
        x, blocksize=blocksize, quant_type="nf4", compress_statistics=True
    )
    held = [packed_dq, state_dq.absmax, state_dq.state2.absmax, torch.as_tensor(state_dq.offset)]
    out.bits_per_param_dq = 8 * sum(t.numel() * t.element_size() for t in held) / numel
    absmax_dq = bnb.dequantize_blockwise(state_dq.absmax, state_dq.state2) + state_dq.offset
    out.dq_absmax_max_rel_err = (
        ((absmax_dq.float() - state.absmax) / state.absmax).abs().max().item()
    )

    # Its fp4 table: against the values in its source (checked, ~0), and against E2M1 / 6,
    # the demo's FP4, from which it differs at ±its smallest nonzero level (reported).
    packed_fp4, state_fp4 = bnb.quantize_4bit(x, blocksize=blocksize, quant_type="fp4")
    fp4_table = state_fp4.code.float().cpu()  # (16,) by bit pattern
    expected = bnb_fp4_table()
    if fp4_table.shape == expected.shape:
        out.fp4_table_max_abs_diff = (fp4_table - expected).abs().max().item()
    fp4_levels, e2m1 = fp4_table.unique(), fp4_code()  # sorted; ±0 collapse
    if fp4_levels.numel() == e2m1.numel():
        out.fp4_code_max_abs_diff = (fp4_levels - e2m1).abs().max().item()
    out.fp4_smallest_level = fp4_table[fp4_table > 0].min().item()
    fp4_dequant = bnb.dequantize_4bit(packed_fp4, state_fp4).float()
    out.mse_fp4 = (fp4_dequant - x.float()).square().mean().item()
    return out
