"""QLoRA's two layers: a frozen linear layer held only in NF4 and dequantized on the fly,
and a LoRA adapter around any frozen linear layer.

``Linear4bit`` keeps the packed uint8 codes and the (optionally double-quantized) absmax
as buffers — no floating-point copy of W anywhere. Every forward dequantizes W to the
compute dtype, multiplies, and drops it; the backward pass (which needs W for ∂L/∂x,
never ∂L/∂W: the base is frozen) dequantizes it again instead of keeping it alive, as
bitsandbytes' MatMul4Bit does. ``dequant_calls`` counts both.

``LoRALinear`` adds (alpha/r) · B A x with A (r, d_in) random and B (d_out, r) zero, in
the adapter dtype (QLoRA keeps them in 16 bit); the base's output and the adapter's are
summed in fp32.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from app.demos.nf4.quant import DoubleQuant, Packed4bit, dequantize_blockwise, quantize_blockwise


class _DequantizeMatmul(torch.autograd.Function):
    """y = x Wᵀ with W rebuilt from 4 bits in forward and again in backward."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, layer: Linear4bit) -> torch.Tensor:
        ctx.layer = layer  # the layer (its uint8 buffers), not the dequantized W
        return x @ layer.dequantized_weight().T  # (..., d_out)

    @staticmethod
    def backward(ctx: Any, grad_out: torch.Tensor) -> tuple[torch.Tensor, None]:
        layer: Linear4bit = ctx.layer
        return grad_out @ layer.dequantized_weight(), None  # ∂L/∂x; W gets no gradient


class Linear4bit(nn.Module):
    """A frozen nn.Linear stored in NF4: buffers ``packed`` (uint8, two codes per byte),
    ``absmax`` (fp32 per block) or ``absmax_q``/``absmax_scale``/``absmax_mean`` (double
    quantization), ``code`` (the 16 NF4 values) and ``bias``."""

    packed: torch.Tensor  # uint8 (ceil(d_out · d_in / 2),)
    code: torch.Tensor  # fp32 (16,)
    absmax: torch.Tensor | None  # fp32 (n_blocks,), without double quantization
    absmax_q: torch.Tensor | None  # int8 (n_blocks,), with it
    absmax_scale: torch.Tensor | None  # fp32 (ceil(n_blocks / 256),)
    absmax_mean: torch.Tensor | None  # fp32 ()
    bias: torch.Tensor | None  # fp32 (d_out,)

    def __init__(
        self,
        linear: nn.Linear,
        code: torch.Tensor,
        *,
        blocksize: int,
        double_quant: bool,
        compute_dtype: torch.dtype,
    ) -> None:
        super().__init__()
        self.in_features = linear.in_features
        self.out_features = linear.out_features
        self.blocksize = blocksize
        self.compute_dtype = compute_dtype
        q = quantize_blockwise(linear.weight, code, blocksize, double_quant=double_quant)
        # A None buffer is registered but holds nothing (and moves with .to() once set).
        self.register_buffer("packed", q.packed)
        self.register_buffer("code", q.code)
        self.register_buffer("absmax", q.absmax)
        self.register_buffer("absmax_q", q.dq.q if q.dq else None)
        self.register_buffer("absmax_scale", q.dq.scale if q.dq else None)
        self.register_buffer("absmax_mean", q.dq.mean if q.dq else None)
        bias = linear.bias.detach().clone() if linear.bias is not None else None
        self.register_buffer("bias", bias)
        self.dequant_calls = 0

    def packed4bit(self) -> Packed4bit:
        """The stored tensors, read from the buffers (so ``.to(device)`` moves them)."""
        dq = None
        if self.absmax_q is not None:
            assert self.absmax_scale is not None and self.absmax_mean is not None
            dq = DoubleQuant(self.absmax_q, self.absmax_scale, self.absmax_mean)
        return Packed4bit(
            packed=self.packed,
            absmax=self.absmax,
            dq=dq,
            shape=torch.Size((self.out_features, self.in_features)),
            blocksize=self.blocksize,
            code=self.code,
        )

    def stored_weight_bytes(self) -> int:
        """Bytes of the weight as stored: packed codes and absmax constants (not the bias,
        not the shared 16-value code)."""
        return self.packed4bit().stored_bytes()

    def dequantized_weight(self) -> torch.Tensor:
        """(d_out, d_in) in the compute dtype: a temporary, never stored."""
        self.dequant_calls += 1
        return dequantize_blockwise(self.packed4bit(), self.compute_dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (..., d_in) -> (..., d_out)
        x = x.to(self.compute_dtype)
        y: torch.Tensor = _DequantizeMatmul.apply(x, self)  # type: ignore[no-untyped-call]
        if self.bias is not None:
            y = y + self.bias.to(self.compute_dtype)
        return y


class LoRALinear(nn.Module):
    """y = base(x) + (alpha/r) · B A x around a frozen ``base`` (nn.Linear or Linear4bit)."""

    def __init__(
        self,
        base: nn.Module,
        in_features: int,
        out_features: int,
        *,
        r: int,
        alpha: float,
        dtype: torch.dtype,
        generator: torch.Generator,
    ) -> None:
        super().__init__()
        self.base = base.requires_grad_(False)
        self.scaling = alpha / r  # keeps the update's size roughly independent of r
        A = torch.empty(r, in_features)  # drawn on the CPU from the run's generator
        # PEFT's init: A Kaiming-uniform (a = √5: U(±1/√d_in)), B zero, so ΔW = BA = 0 and
        # training starts exactly at the (quantized) base; A ≠ 0 so B gets a gradient.
        nn.init.kaiming_uniform_(A, a=math.sqrt(5), generator=generator)
        device = next(base.buffers(), next(base.parameters(), A)).device
        self.lora_A = nn.Parameter(A.to(device=device, dtype=dtype))  # (r, d_in)
        self.lora_B = nn.Parameter(torch.zeros(out_features, r, device=device, dtype=dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (..., d_in) -> (..., d_out)
        base_out: torch.Tensor = self.base(x)
        x_a = x.to(self.lora_A.dtype)
        lora_out = F.linear(F.linear(x_a, self.lora_A), self.lora_B)  # B (A x), never ΔW
        return base_out.float() + self.scaling * lora_out.float()


def full_precision_copies(model: nn.Module, weight_shapes: set[tuple[int, ...]]) -> int:
    """How many floating-point parameters or buffers of ``model`` have the shape of a base
    weight — a full-precision copy of it (LoRA's own A and B are not counted)."""
    tensors = [*model.named_parameters(), *model.named_buffers()]
    return sum(
        1
        for name, t in tensors
        if t.is_floating_point() and tuple(t.shape) in weight_shapes and "lora_" not in name
    )
