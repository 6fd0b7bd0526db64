"""The two demos' knobs. No torch here: the web form is built from these models.

The upper bounds keep the slowest run of each demo well under its 120 s limit on two
CPU cores; the defaults run in a few seconds.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator

from app.demos.base import DemoParams


def _int_from_text(value: object) -> object:
    """The web form and ``--set`` send "64"; pydantic converts that for an int field but
    not for a Literal of ints, so convert it first (anything else is left to the Literal)."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value


BlockSize = Annotated[Literal[32, 64, 128, 256], BeforeValidator(_int_from_text)]
NormalWeights = Annotated[Literal[65536, 262144, 1048576], BeforeValidator(_int_from_text)]
Dtype = Literal["bf16", "fp32"]


class NF4Params(DemoParams):
    blocksize: BlockSize = Field(
        default=64, description="Weights per block, each with one fp32 absmax (QLoRA: 64)"
    )
    normal_weights: NormalWeights = Field(
        default=65536,
        description=(
            "Size of the N(0, 1) test tensor: a multiple of 256 blocks of 256, so every "
            "block and every double-quantization block is full"
        ),
    )
    hidden: int = Field(
        default=64, ge=16, le=128, description="Hidden width of the small MLP that is trained"
    )
    steps: int = Field(default=300, ge=10, le=600, description="Full-batch Adam training steps")
    lr: float = Field(
        default=3e-3, gt=0, le=0.05, allow_inf_nan=False, description="Adam learning rate"
    )
    init: Literal["normal", "uniform"] = Field(
        default="normal",
        description=(
            "The MLP's initial weights: N(0, 1/fan_in) as language models use, or "
            "nn.Linear's U(±1/√fan_in)"
        ),
    )


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
