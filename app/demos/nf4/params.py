"""The NF4 demo's knobs, and the block size and dtype Literals QLoRA shares. No torch
here: the web form is built from these models.

The upper bounds keep the slowest run well under its 120 s limit on two
CPU cores; the defaults run in a few seconds.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from app.demos.base import DemoParams
from app.demos.text import N_

# The 4-bit formats compared (their code tables are in ``formats``).
Format = Literal["nf4", "int4", "fp4"]
FORMATS: tuple[Format, ...] = ("nf4", "int4", "fp4")
FORMAT_TITLES: dict[Format, str] = {
    "nf4": "NF4",
    "int4": N_("INT4 (symmetric absmax, 15 levels)"),
    "fp4": N_("FP4 (E2M1)"),
}


def _int_from_text(value: object) -> object:
    """The web form and ``--set`` send "64"; pydantic converts that for an int field but
    not for a Literal of ints, so convert it first (anything else is left to the Literal)."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value


BlockSize = Annotated[Literal[32, 64, 128, 256], BeforeValidator(_int_from_text)]
NormalWeights = Annotated[Literal[65536, 262144, 1048576], BeforeValidator(_int_from_text)]
Dtype = Literal["bf16", "fp32"]


def _ui(group: str, label: str, unit: str | None = None) -> dict[str, Any]:
    """The form's grouping, label and unit of a field (issue 16)."""
    return {"group": group, "label": label, "unit": unit}


class NF4Params(DemoParams):
    blocksize: BlockSize = Field(
        default=64,
        description=N_("Weights per block, each with one fp32 absmax (QLoRA: 64)"),
        json_schema_extra=_ui("method", N_("Block size"), N_("weights")),
    )
    normal_weights: NormalWeights = Field(
        default=65536,
        description=N_(
            "Size of the $N(0, 1)$ test tensor: a multiple of 256 blocks of 256, so every "
            "block and every double-quantization block is full"
        ),
        json_schema_extra=_ui("advanced", N_("Normal test tensor size"), N_("weights")),
    )
    hidden: int = Field(
        default=64,
        ge=16,
        le=128,
        description=N_("Hidden width of the small MLP that is trained"),
        json_schema_extra=_ui("model", N_("MLP hidden width"), N_("units")),
    )
    steps: int = Field(
        default=300,
        ge=10,
        le=600,
        description=N_("Full-batch Adam training steps"),
        json_schema_extra=_ui("training", N_("Training steps"), N_("steps")),
    )
    lr: float = Field(
        default=3e-3,
        gt=0,
        le=0.05,
        allow_inf_nan=False,
        description=N_("Adam learning rate"),
        json_schema_extra=_ui("training", N_("Learning rate")),
    )
    init: Literal["normal", "uniform"] = Field(
        default="normal",
        description=N_(
            "The MLP's initial weights: $N(0, 1/\\text{fan\\_in})$ as language models use, "
            "or nn.Linear's $U(\\pm 1/\\sqrt{\\text{fan\\_in}})$"
        ),
        json_schema_extra={
            **_ui("advanced", N_("MLP initialisation")),
            "choice_labels": {"normal": N_("normal"), "uniform": N_("uniform")},
        },
    )
