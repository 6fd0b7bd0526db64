"""The lora_roles demo's parameters and fixed sizes. No torch here."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from app.demos.base import DemoParams, at_most
from app.demos.lora.params import ui
from app.demos.text import N_

D_IN = 8  # input features, as in the lora demo
CLASSES = 4
N_TRAIN = 1024  # full-batch training set per task
N_TEST = 2048  # held out for the reported losses
PRETRAIN_LR = 1e-2
SHIFT_STRENGTH = 1.0  # ‖a task's change to fc2‖_F relative to ‖fc2‖_F

# The LoRA initialisations compared: PEFT's (A random, B = 0), both random, A = 0 and
# B random; "lora_fa" is PEFT's init with A frozen (LoRA-FA).
InitName = Literal["standard", "both_random", "a_zero"]
INITS: tuple[InitName, ...] = ("standard", "both_random", "a_zero")
ARMS = (*INITS, "lora_fa")

# The learning-rate sweep (Hayou et al. 2024: Init[A] is B = 0, Init[B] is A = 0): each
# init that starts at the base trained at every rate of the grid from the same start.
# "a_zero" draws B by PEFT's Kaiming rule for its own fan-in r (bound 1/√r, larger than
# A's 1/√hidden); "a_zero_matched" sets B₀ = A₀ᵀ, the very numbers B = 0 puts in A.
SweepName = Literal["standard", "a_zero", "a_zero_matched"]
SWEEP: tuple[SweepName, ...] = ("standard", "a_zero", "a_zero_matched")
LR_GRID = (3e-3, 1e-2, 3e-2, 1e-1, 3e-1)  # Adam learning rates of the sweep


def _at_most_hidden(value: int, info: ValidationInfo) -> int:
    hidden = info.data.get("hidden")
    if hidden is not None and value > hidden:
        raise at_most("hidden", hidden)
    return value


# The upper bounds keep the slowest run (hidden 64, r 64, 600 + (5 + 15) × 300 steps) near
# 12 s on one busy core (measured; the default run takes about 8 s there).
class LoRARolesParams(DemoParams):
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
        description=N_("Adaptation steps for each initialisation"),
        json_schema_extra=ui("training", N_("Adaptation steps"), N_("steps")),
    )
    r: int = Field(
        default=4,
        ge=1,
        le=64,
        description=N_("LoRA rank (at most the hidden width)"),
        json_schema_extra=ui("method", N_("LoRA rank r")),
    )
    alpha: float = Field(
        default=16.0,
        gt=0,
        le=256,
        allow_inf_nan=False,
        description=N_(r"LoRA's update is scaled by $\alpha / r$"),
        json_schema_extra=ui("method", N_("LoRA alpha")),
    )
    lr: float = Field(
        default=1e-2,
        gt=0,
        le=0.3,
        allow_inf_nan=False,
        description=N_(
            "Adam learning rate of the arms compared at one rate (the sweep tries its own grid)"
        ),
        json_schema_extra=ui("training", N_("Learning rate")),
    )
    shift_rank: int = Field(
        default=4,
        ge=1,
        le=64,
        description=N_("Rank of each task's change to fc2 (at most the hidden width)"),
        json_schema_extra=ui("model", N_("Rank of the task change")),
    )
    task_separation: float = Field(
        default=1.0,
        ge=0.0,
        le=4.0,
        allow_inf_nan=False,
        description=N_(
            "Distance between the input domains of the two added tasks (0: same inputs)"
        ),
        json_schema_extra=ui("model", N_("Distance between the added tasks")),
    )
    target_fraction: float = Field(
        default=0.9,
        ge=0.1,
        le=1.0,
        allow_inf_nan=False,
        description=N_(
            "Target loss: this share of the way from the base's loss to the best initialisation's"
        ),
        json_schema_extra=ui("advanced", N_("Target loss fraction")),
    )

    @field_validator("r", "shift_rank")
    @classmethod
    def at_most_hidden(cls, value: int, info: ValidationInfo) -> int:
        return _at_most_hidden(value, info)
