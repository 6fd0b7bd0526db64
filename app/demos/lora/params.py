"""The LoRA demo's parameters, its fixed sizes and the init Literals. No torch here."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.demos.base import DemoParams

LoRAInit = Literal["standard", "both_random", "both_zero"]
InitA = Literal["kaiming_uniform", "gaussian"]

D_IN = 8  # input features: few enough that a 4k-sample task generalises
CLASSES = 4  # task labels; accuracy is the share of test inputs labelled right
N_TRAIN = 4096  # full-batch training set per task
N_TEST = 2048  # held-out inputs for loss, accuracy and the merge/latency checks
RANKS = (1, 2, 4, 8, 16)  # capped by min(d_in, d_out) = hidden of the adapted layer
SHIFT_STRENGTH = 1.0  # ‖teacher 2's fc2 change‖_F relative to ‖W‖_F: enough to relabel


# The upper bounds keep the slowest run (hidden 128, 600 + 6 × 400 steps) near 15 s on two
# CPU cores and a few MB; bench/demos_bench.py measures the default run.
class LoRAParams(DemoParams):
    hidden: int = Field(
        default=64, ge=4, le=128, description="Hidden width; fc2 (hidden×hidden) is adapted"
    )
    pretrain_steps: int = Field(
        default=300, ge=10, le=600, description="Full-batch Adam steps on task 1"
    )
    steps: int = Field(
        default=200, ge=10, le=400, description="Adaptation steps on task 2, per method"
    )
    lr: float = Field(
        default=1e-2, gt=0, le=0.1, allow_inf_nan=False, description="Adam learning rate"
    )
    alpha: float = Field(
        default=16.0, gt=0, le=256, allow_inf_nan=False, description="LoRA scaling is alpha/r"
    )
    init: LoRAInit = Field(
        default="standard",
        description="standard: A random, B zero (PEFT); both_random; both_zero",
    )
    init_a: InitA = Field(
        default="kaiming_uniform",
        description="How A is drawn: Kaiming-uniform (PEFT's default) or N(0, 1/r²)",
    )
    shift_rank: int = Field(
        default=4,
        ge=1,
        le=128,
        description="Rank of the change between the two teachers (capped at hidden)",
    )
