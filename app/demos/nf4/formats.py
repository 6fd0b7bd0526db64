"""The 4-bit formats NF4 is compared with, as code tables for the same block-wise absmax
machinery (``nf4.quantize_blockwise``): only the 16 values differ.

- INT4, symmetric absmax: 15 evenly spaced levels k/7 for k = −7 … 7 (times the block's
  absmax). Zero is exact and the range is symmetric, so one of the 16 indices is unused;
  this is bitsandbytes' ``get_4bit_type("int4")`` table.
- FP4, E2M1 (1 sign, 2 exponent, 1 mantissa bit, exponent bias 1, as in the OCP
  microscaling spec): magnitudes {0, 0.5, 1, 1.5, 2, 3, 4, 6}, scaled by absmax/6.
  +0 and −0 are one value, so 15 distinct levels. This is the demo's FP4.
- bitsandbytes' "fp4" is not E2M1 / 6. Its 3 magnitude bits 0b000 … 0b111 stand for
  0, 0.0625, 8, 12, 4, 6, 2, 3, divided by 12 (``functional.get_4bit_type("fp4")``; the
  CUDA kernels' ``fp4_dequantization_lut`` holds the same values over 12). Its normal
  levels 2 … 12 over 12 are E2M1's 1 … 6 over 6, but its one subnormal is 0.0625/12 =
  0.0052 of absmax where E2M1 has 0.5/6 = 0.083: the two tables differ only at ±that
  level, by 0.078. ``bnb_fp4_table`` is its table, which the demo checks bitsandbytes'
  quant_state.code against; the difference from E2M1 is reported beside it.
"""

from __future__ import annotations

import torch

from app.demos.nf4.params import Format
from app.demos.nf4.quant import nf4_code

INT4_LEVELS = 7  # k/7 for k = −7 … 7
# bitsandbytes' fp4 magnitudes by bit pattern 0b000 … 0b111; the sign bit (0b1000) negates.
BNB_FP4_MAGNITUDES = (0.0, 0.0625, 8.0, 12.0, 4.0, 6.0, 2.0, 3.0)


def int4_code() -> torch.Tensor:
    """(15,) ascending: −1, −6/7, …, 0, …, 6/7, 1."""
    return torch.arange(-INT4_LEVELS, INT4_LEVELS + 1, dtype=torch.float32) / INT4_LEVELS


def e2m1_value(bits: int) -> float:
    """The value of a 4-bit E2M1 pattern s ee m: exponent 0 is subnormal (m · 0.5),
    otherwise (1 + m/2) · 2^(e − 1)."""
    sign = -1.0 if bits & 0b1000 else 1.0
    exponent = (bits >> 1) & 0b11
    mantissa = bits & 0b1
    if exponent == 0:
        return sign * mantissa * 0.5
    return sign * (1 + mantissa / 2) * 2.0 ** (exponent - 1)


def fp4_code() -> torch.Tensor:
    """(15,) ascending: the distinct E2M1 values of all 16 bit patterns, divided by 6."""
    values = sorted({e2m1_value(bits) for bits in range(16)})  # ±0 collapse to one 0.0
    return torch.tensor(values, dtype=torch.float32) / 6


def bnb_fp4_table() -> torch.Tensor:
    """(16,) bitsandbytes' fp4 table in its bit-pattern order (index = the stored 4-bit
    code), as its quant_state.code holds it: the magnitudes, then their negatives, / 12."""
    values = [*BNB_FP4_MAGNITUDES, *(-v for v in BNB_FP4_MAGNITUDES)]
    return torch.tensor(values, dtype=torch.float32) / max(BNB_FP4_MAGNITUDES)


def code_of(fmt: Format) -> torch.Tensor:
    if fmt == "nf4":
        return nf4_code()
    if fmt == "int4":
        return int4_code()
    return fp4_code()
