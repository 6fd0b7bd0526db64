"""The QLoRA demo's knobs. No torch here: the web form is built from this model.

The upper bounds keep the slowest run well under its 120 s limit on two CPU cores; the
defaults run in a few seconds.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationInfo, field_validator

from app.demos.base import DemoParams, at_most
from app.demos.nf4.params import BlockSize, Dtype
from app.demos.text import N_


def _ui(group: str, label: str, unit: str | None = None) -> dict[str, Any]:
    """The form's grouping, label and unit of a field (issue 16)."""
    return {"group": group, "label": label, "unit": unit}


class QLoRAParams(DemoParams):
    hidden: int = Field(
        default=64,
        ge=16,
        le=128,
        description=N_("Hidden width of the MLP (3 hidden layers)"),
        json_schema_extra=_ui("model", N_("MLP hidden width"), N_("units")),
    )
    pretrain_steps: int = Field(
        default=200,
        ge=10,
        le=400,
        description=N_("Full-batch Adam steps on task 1, in fp32"),
        json_schema_extra=_ui("training", N_("Pretraining steps"), N_("steps")),
    )
    steps: int = Field(
        default=150,
        ge=10,
        le=300,
        description=N_("LoRA training steps on task 2, per run"),
        json_schema_extra=_ui("training", N_("LoRA training steps"), N_("steps")),
    )
    r: int = Field(
        default=8,
        ge=1,
        le=64,
        description=N_("LoRA rank (at most hidden)"),
        json_schema_extra=_ui("method", N_("LoRA rank $r$")),
    )
    alpha: float = Field(
        default=16.0,
        gt=0,
        le=256,
        allow_inf_nan=False,
        description=N_("LoRA scaling is $\\alpha/r$"),
        json_schema_extra=_ui("method", N_("LoRA $\\alpha$")),
    )
    lr: float = Field(
        default=1e-2,
        gt=0,
        le=0.1,
        allow_inf_nan=False,
        description=N_("Adam learning rate"),
        json_schema_extra=_ui("training", N_("Learning rate")),
    )
    blocksize: BlockSize = Field(
        default=64,
        description=N_("NF4 block size of the frozen base"),
        json_schema_extra=_ui("method", N_("Block size"), N_("weights")),
    )
    double_quant: bool = Field(
        default=True,
        description=N_("Quantize the base's absmax constants to 8 bits too"),
        json_schema_extra=_ui("method", N_("Double quantization")),
    )
    compute_dtype: Dtype = Field(
        default="bf16",
        description=N_(
            "dtype the base weight is dequantized to for each matmul (bf16 falls back to fp32 "
            "on a GPU without bf16)"
        ),
        json_schema_extra=_ui("advanced", N_("Compute dtype")),
    )
    adapter_dtype: Dtype = Field(
        default="bf16",
        description=N_("dtype of LoRA's A and B"),
        json_schema_extra=_ui("advanced", N_("Adapter dtype")),
    )
    shift_rank: int = Field(
        default=4,
        ge=1,
        le=16,
        description=N_("Rank of the change from task 1's teacher to task 2's, per hidden layer"),
        json_schema_extra=_ui("advanced", N_("Task shift rank")),
    )

    # A field validator (not a model validator) so the error names "r"; hidden is
    # declared first, so it is in info.data when it is valid.
    @field_validator("r")
    @classmethod
    def r_at_most_hidden(cls, r: int, info: ValidationInfo) -> int:
        hidden = info.data.get("hidden")
        if hidden is not None and r > hidden:
            raise at_most("hidden", hidden)
        return r
