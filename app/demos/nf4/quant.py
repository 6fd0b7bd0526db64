"""NF4, byte by byte: QLoRA's 4-bit NormalFloat code, block-wise absmax quantization, two
4-bit codes packed per byte, and double quantization of the absmax constants.

The story (Dettmers et al. 2023, "QLoRA", §3):

1. The code: 16 values that are quantiles of N(0, 1), rescaled to [-1, 1], with an exact
   zero. Pretrained weights are roughly normal, so each code value is used about equally
   often: QLoRA's argument that NF4 suits normal weights better than evenly spaced int4.
2. Block-wise quantization: the flat weight is cut into blocks of B values; each block
   is divided by its absmax (kept in fp32) and every value is rounded to the nearest code
   value, leaving a 4-bit index.
3. Packing: two indices per byte in a uint8 tensor, the first element in the high nibble
   (bitsandbytes' order: ``packed = (q[0::2] << 4) | q[1::2]``).
4. Double quantization: the absmax constants (one fp32 per B weights = 32/B bits each)
   are themselves quantized: minus their mean, to 8 bits in blocks of 256, with one fp32
   scale per block of 256 and the one fp32 mean. 32/B bits become 8/B + 32/(256·B).

bitsandbytes compresses the absmax with its *dynamic* 8-bit map; here it is a plain
symmetric int8 (round(c/scale · 127), scale = the block's largest |c|): the same bytes,
a simpler code (``nf4_demo`` compares the two errors). Any sorted table of at most 16
values works with these functions, so the int4 and fp4 comparisons (``formats.py``) go
through exactly the same code path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from app.demos.nf4.formulas import DQ_BLOCK

# QLoRA's offset: the mean of 1 − 1/(2·15) and 1 − 1/(2·16), the probabilities at which the
# largest code value sits for 15 and 16 quantiles; it keeps ±1 off the infinite tails.
NF4_OFFSET = 0.9677083
# bitsandbytes' NF4 table (functional.get_4bit_type("nf4")), the published values.
NF4_REFERENCE = (
    -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
    -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
    0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
    0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
)  # fmt: skip
INT8_MAX = 127  # symmetric int8 for the double-quantized absmax: levels −127 … 127


def nf4_code() -> torch.Tensor:
    """The 16 NF4 values, ascending, in fp32: 8 positive quantiles, a zero and 7 negative
    ones (asymmetric so that zero is exact and all 16 indices are used), divided by the
    largest so the code spans [-1, 1]."""
    # float32 linspace as in QLoRA's create_normal_map; the normal ppf (ndtri) in float64.
    positive = torch.special.ndtri(torch.linspace(NF4_OFFSET, 0.5, 9)[:-1].double())  # (8,)
    negative = -torch.special.ndtri(torch.linspace(NF4_OFFSET, 0.5, 8)[:-1].double())  # (7,)
    values = torch.cat([positive, torch.zeros(1, dtype=torch.float64), negative])
    values = values.sort().values  # (16,)
    return (values / values.max()).float()


def half_max_gap(code: torch.Tensor) -> float:
    """Half the largest distance between neighbouring code values: the worst rounding
    error of a value in [-1, 1], in units of its block's absmax."""
    return float((code[1:] - code[:-1]).max()) / 2


@dataclass
class DoubleQuant:
    """The absmax constants after double quantization: int8 values in blocks of 256, one
    fp32 scale per block, and the fp32 mean that was subtracted first."""

    q: torch.Tensor  # int8 (n_blocks,)
    scale: torch.Tensor  # fp32 (ceil(n_blocks / 256),)
    mean: torch.Tensor  # fp32 () — one per tensor


@dataclass
class Packed4bit:
    """A tensor in 4 bits: what is actually stored. ``code`` is the shared 16-value table
    (64 bytes per format, not per tensor), so it is not counted in ``stored_tensors``."""

    packed: torch.Tensor  # uint8 (ceil(numel / 2),): element 2i high nibble, 2i+1 low
    absmax: torch.Tensor | None  # fp32 (n_blocks,), or None when double-quantized
    dq: DoubleQuant | None
    shape: torch.Size
    blocksize: int
    code: torch.Tensor  # fp32 (≤ 16,), ascending

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    def stored_tensors(self) -> dict[str, torch.Tensor]:
        if self.dq is None:
            assert self.absmax is not None
            return {"packed": self.packed, "absmax": self.absmax}
        return {
            "packed": self.packed,
            "absmax_q": self.dq.q,
            "absmax_scale": self.dq.scale,
            "absmax_mean": self.dq.mean,
        }

    def stored_bytes(self) -> int:
        """Bytes of the tensors actually held, from their element counts and sizes."""
        return sum(t.numel() * t.element_size() for t in self.stored_tensors().values())

    def bits_per_param(self) -> float:
        return 8 * self.stored_bytes() / self.numel


def pack_4bit(q: torch.Tensor) -> torch.Tensor:
    """(2m,) indices < 16 → (m,) uint8 bytes, the first element of each pair in the high
    nibble (as bitsandbytes packs)."""
    if q.numel() % 2:
        raise ValueError(f"pack_4bit needs an even number of indices (got {q.numel()})")
    q = q.to(torch.uint8)
    return (q[0::2] << 4) | q[1::2]


def unpack_4bit(packed: torch.Tensor, numel: int) -> torch.Tensor:
    """(m,) uint8 → the first ``numel`` of the 2m indices, as int64."""
    q = torch.empty(2 * packed.numel(), dtype=torch.int64, device=packed.device)
    q[0::2] = (packed >> 4).long()
    q[1::2] = (packed & 0x0F).long()
    return q[:numel]


def round_to_code(scaled: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
    """Index of the nearest code value for each entry of ``scaled`` (in [-1, 1]).

    The nearest value is found by comparing with the midpoints between neighbours; a value
    exactly on a midpoint goes to the lower one (``bucketize``'s right=False), as
    bitsandbytes rounds on the CPU.
    """
    midpoints = (code[:-1] + code[1:]) / 2  # (len(code) - 1,)
    return torch.bucketize(scaled, midpoints)


def double_quantize(absmax: torch.Tensor) -> DoubleQuant:
    """fp32 absmax constants → int8 in blocks of 256 (after subtracting their mean)."""
    n_blocks = absmax.numel()
    mean = absmax.mean()
    centered = absmax - mean  # (n_blocks,): symmetric around 0, so a signed code fits
    n_dq = math.ceil(n_blocks / DQ_BLOCK)
    padded = torch.zeros(n_dq * DQ_BLOCK, dtype=absmax.dtype, device=absmax.device)
    padded[:n_blocks] = centered
    blocks = padded.view(n_dq, DQ_BLOCK)  # (n_dq, 256)
    scale = blocks.abs().amax(dim=1)  # (n_dq,)
    safe = torch.where(scale > 0, scale, torch.ones_like(scale))  # an all-equal block
    q = torch.round(blocks / safe[:, None] * INT8_MAX).clamp(-INT8_MAX, INT8_MAX)
    return DoubleQuant(q=q.to(torch.int8).flatten()[:n_blocks], scale=scale, mean=mean)


def dequantize_absmax(dq: DoubleQuant) -> torch.Tensor:
    """int8 absmax → fp32 (n_blocks,): q/127 · scale of its block + mean."""
    n_blocks = dq.q.numel()
    scale = dq.scale.repeat_interleave(DQ_BLOCK)[:n_blocks]  # (n_blocks,)
    return dq.q.float() / INT8_MAX * scale + dq.mean


def quantize_blockwise(
    x: torch.Tensor, code: torch.Tensor, blocksize: int = 64, *, double_quant: bool = False
) -> Packed4bit:
    """Quantize ``x`` (any shape, read row-major as bitsandbytes does) with ``code``.

    Each block of ``blocksize`` values is scaled by 1/absmax into [-1, 1] and rounded to
    the nearest code value. The last block may be short: it is padded with zeros (index of
    the code's 0.0), which are dropped when packing — all but one nibble when the size is
    odd, as bitsandbytes pads too.
    """
    if blocksize % 2:
        raise ValueError(f"blocksize must be even (got {blocksize})")
    if code.numel() > 16:
        raise ValueError(f"a 4-bit code has at most 16 values (got {code.numel()})")
    flat = x.detach().reshape(-1).float()
    numel = flat.numel()
    n_blocks = math.ceil(numel / blocksize)
    padded = torch.zeros(n_blocks * blocksize, dtype=torch.float32, device=flat.device)
    padded[:numel] = flat
    blocks = padded.view(n_blocks, blocksize)  # (n_blocks, B)
    absmax = blocks.abs().amax(dim=1)  # (n_blocks,) fp32
    # Multiplying by the reciprocal (not dividing) is what bitsandbytes does, so indices
    # match bit for bit; an all-zero block (absmax 0) maps to the zero code.
    inv = 1.0 / absmax.clamp(min=1e-38)
    scaled = (blocks * inv[:, None]).clamp(-1, 1)  # (n_blocks, B) in [-1, 1]
    q = round_to_code(scaled.reshape(-1), code.to(flat.device))  # (n_blocks · B,)
    packed = pack_4bit(q[: numel + numel % 2])  # (ceil(numel / 2),) uint8
    dq = double_quantize(absmax) if double_quant else None
    return Packed4bit(
        packed=packed,
        absmax=None if double_quant else absmax,
        dq=dq,
        shape=x.shape,
        blocksize=blocksize,
        code=code.to(flat.device),
    )


def block_absmax(t: Packed4bit) -> torch.Tensor:
    """The absmax per block that dequantization uses: stored, or rebuilt from int8."""
    if t.dq is not None:
        return dequantize_absmax(t.dq)
    assert t.absmax is not None
    return t.absmax


def dequantize_blockwise(t: Packed4bit, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Packed4bit → a tensor of ``t.shape``: code[index] · absmax of its block."""
    numel = t.numel
    q = unpack_4bit(t.packed, numel)  # (numel,)
    values = t.code[q]  # (numel,) in [-1, 1]
    absmax = block_absmax(t).repeat_interleave(t.blocksize)[:numel]  # (numel,)
    return (values * absmax).view(t.shape).to(dtype)


def fake_quantize(x: torch.Tensor, code: torch.Tensor, blocksize: int) -> torch.Tensor:
    """quantize → dequantize, in ``x``'s shape and dtype: the weights a 4-bit model uses."""
    return dequantize_blockwise(quantize_blockwise(x, code, blocksize), x.dtype)
