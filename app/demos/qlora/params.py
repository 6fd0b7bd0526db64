"""The QLoRA demo's knobs. No torch here: the web form is built from this model.

The upper bounds keep the slowest run well under its 120 s limit on two CPU cores; the
defaults run in a few seconds.
"""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator

from app.demos.base import DemoParams
from app.demos.nf4.params import BlockSize, Dtype


class QLoRAParams(DemoParams):
    hidden: int = Field(
        default=64, ge=16, le=128, description="Hidden width of the MLP (3 hidden layers)"
    )
    pretrain_steps: int = Field(
        default=200, ge=10, le=400, description="Full-batch Adam steps on task 1, in fp32"
    )
    steps: int = Field(
        default=150, ge=10, le=300, description="LoRA training steps on task 2, per run"
    )
    r: int = Field(default=8, ge=1, le=64, description="LoRA rank (at most hidden)")
    alpha: float = Field(
        default=16.0, gt=0, le=256, allow_inf_nan=False, description="LoRA scaling is alpha/r"
    )
    lr: float = Field(
        default=1e-2, gt=0, le=0.1, allow_inf_nan=False, description="Adam learning rate"
    )
    blocksize: BlockSize = Field(default=64, description="NF4 block size of the frozen base")
    double_quant: bool = Field(
        default=True, description="Quantize the base's absmax constants to 8 bits too"
    )
    compute_dtype: Dtype = Field(
        default="bf16",
        description="dtype the base weight is dequantized to for each matmul (bf16 falls "
        "back to fp32 on a GPU without bf16)",
    )
    adapter_dtype: Dtype = Field(default="bf16", description="dtype of LoRA's A and B")
    shift_rank: int = Field(
        default=4,
        ge=1,
        le=16,
        description="Rank of the change from task 1's teacher to task 2's, per hidden layer",
    )

    # A field validator (not a model validator) so the error names "r"; hidden is
    # declared first, so it is in info.data when it is valid.
    @field_validator("r")
    @classmethod
    def r_at_most_hidden(cls, r: int, info: ValidationInfo) -> int:
        hidden = info.data.get("hidden")
        if hidden is not None and r > hidden:
            raise ValueError(f"must be at most hidden = {hidden}")
        return r
