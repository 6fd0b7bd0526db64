"""The lora_vs_full demo's parameters and fixed sizes. No torch here."""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator

from app.demos.base import DemoParams, at_most
from app.demos.lora.params import ui
from app.demos.text import N_

D_IN = 8  # input features, as in the lora demo
CLASSES = 4
N_TRAIN = 1024  # full-batch training set per task
N_VAL = 512  # held out to pick each method's learning rate
N_TEST = 2048  # held out for the reported losses (never used to choose anything)
RANKS = (1, 2, 4, 8, 16)  # the sweep, capped at hidden (the adapted layer is hidden×hidden)
LR_GRID = (3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0)  # Adam learning rates tried for every method
PRETRAIN_LR = 1e-2
SHIFT_STRENGTH = 1.0  # ‖task 2's change to fc2‖_F relative to ‖fc2‖_F


# The upper bounds keep the slowest run (hidden 64, 600 + 6 × 4 × 300 steps) under a
# minute on two CPU cores.
class LoRAVsFullParams(DemoParams):
    hidden: int = Field(
        default=32,
        ge=4,
        le=64,
        description=N_(
            "Hidden width of the MLP; its hidden layer fc2 (hidden × hidden) is adapted"
        ),
        json_schema_extra=ui("model", N_("Hidden width"), N_("units")),
    )
    pretrain_steps: int = Field(
        default=300,
        ge=10,
        le=600,
        description=N_("Full-batch Adam steps on task 1, before adapting"),
        json_schema_extra=ui("training", N_("Pre-training steps"), N_("steps")),
    )
    steps: int = Field(
        default=150,
        ge=10,
        le=300,
        description=N_("Adaptation steps on task 2, the same for every method and learning rate"),
        json_schema_extra=ui("training", N_("Adaptation steps"), N_("steps")),
    )
    alpha: float = Field(
        default=16.0,
        gt=0,
        le=256,
        allow_inf_nan=False,
        description=N_(r"LoRA's update is scaled by $\alpha / r$"),
        json_schema_extra=ui("method", N_("LoRA alpha")),
    )
    shift_rank: int = Field(
        default=4,
        ge=1,
        le=64,
        description=N_(
            "Rank of the change to fc2 between the task-1 and task-2 teachers (at most the "
            "hidden width)"
        ),
        json_schema_extra=ui("model", N_("Rank of the task change")),
    )
    domain_shift: float = Field(
        default=1.0,
        ge=0.0,
        le=4.0,
        allow_inf_nan=False,
        description=N_("How far task 2's inputs lie from task 1's (0: the same inputs relabelled)"),
        json_schema_extra=ui("model", N_("Input domain shift")),
    )

    # A field validator so that the error names shift_rank; hidden is declared first.
    @field_validator("shift_rank")
    @classmethod
    def shift_rank_at_most_hidden(cls, shift_rank: int, info: ValidationInfo) -> int:
        hidden = info.data.get("hidden")
        if hidden is not None and shift_rank > hidden:
            raise at_most("hidden", hidden)
        return shift_rank


def ranks_of(params: LoRAVsFullParams) -> list[int]:
    """The ranks swept: those of ``RANKS`` that fit the hidden×hidden layer."""
    return [r for r in RANKS if r <= params.hidden]
