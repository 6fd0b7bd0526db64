"""The spike_remedies demo's parameters and the arms they select. No torch here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from app.demos.base import DemoParams
from app.demos.loss_spikes.params import MIN_HISTORY

D_MODEL, N_LAYER, N_HEAD, CONTEXT, BATCH = 32, 1, 4, 32, 16
DEFAULT_INIT_STD = 0.02  # GPT-2's
AFTER = 5  # steps before/after the bad batch compared


@dataclass(frozen=True)
class Arm:
    """One training run's switches (everything else is shared by every arm)."""

    name: str
    optimizer: Literal["adamw", "sgd"] = "adamw"
    clip: bool = False
    schedule: Literal["constant", "cosine"] = "constant"
    init_std: float = DEFAULT_INIT_STD
    norm: Literal["layernorm", "rmsnorm"] = "layernorm"
    rewind: bool = False


class SpikeRemediesParams(DemoParams):
    steps: int = Field(default=60, ge=20, le=300, description="Training steps per arm")
    lr: float = Field(
        default=0.03, gt=0, le=1.0, allow_inf_nan=False, description="AdamW's peak lr"
    )
    sgd_lr: float = Field(
        default=1.0, gt=0, le=10.0, allow_inf_nan=False, description="SGD's peak lr"
    )
    clip: float = Field(
        default=1.0, gt=0, le=100.0, allow_inf_nan=False, description="Clip arms: max ‖g‖"
    )
    corrupt_step: int = Field(
        default=30, ge=0, le=300, description="Batch of random characters at this step (0: none)"
    )
    rewind_steps: int = Field(
        default=5, ge=1, le=50, description="Rewind arm: steps rewound before a spike"
    )
    spike_k: float = Field(
        default=3.0, gt=1.0, le=100.0, allow_inf_nan=False, description="Spike: loss > k × median"
    )
    median_window: int = Field(
        default=10, ge=MIN_HISTORY, le=100, description="Losses the running median covers"
    )
    init_small: float = Field(
        default=0.002, gt=0, le=1.0, allow_inf_nan=False, description="Init arm: small std"
    )
    init_large: float = Field(
        default=0.2, gt=0, le=2.0, allow_inf_nan=False, description="Init arm: large std"
    )
    compare_optimizers: bool = Field(default=True, description="Arms: SGD, SGD/AdamW + clip")
    compare_schedule: bool = Field(default=True, description="Arm: cosine decay")
    compare_init: bool = Field(default=True, description="Arms: small and large init std")
    compare_norm: bool = Field(default=True, description="Arm: RMSNorm instead of LayerNorm")
    compare_rewind: bool = Field(default=True, description="Arm: PaLM's rewind-and-skip")

    @field_validator("corrupt_step")
    @classmethod
    def corrupt_step_inside_run(cls, corrupt_step: int, info: ValidationInfo) -> int:
        steps = info.data.get("steps")
        if steps is not None and corrupt_step and not MIN_HISTORY < corrupt_step < steps:
            raise ValueError(f"must be 0 (none) or between {MIN_HISTORY + 1} and {steps - 1}")
        return corrupt_step

    @field_validator("rewind_steps")
    @classmethod
    def rewind_after_history(cls, rewind_steps: int, info: ValidationInfo) -> int:
        steps = info.data.get("steps")
        if steps is not None and rewind_steps >= steps:
            raise ValueError(f"must be below steps = {steps}")
        return rewind_steps

    @field_validator("init_large")
    @classmethod
    def large_above_small(cls, init_large: float, info: ValidationInfo) -> float:
        small = info.data.get("init_small")
        if small is not None and not small < DEFAULT_INIT_STD < init_large:
            raise ValueError(f"must exceed {DEFAULT_INIT_STD} (and init_small must be below it)")
        return init_large

    def arms(self) -> list[Arm]:
        """The reference (AdamW, constant lr, LayerNorm, std 0.02, no remedy) and the
        arms the compare_* switches select, each changing one thing."""
        arms = [Arm("adamw")]
        if self.compare_optimizers:
            arms += [Arm("adamw_clip", clip=True), Arm("sgd", optimizer="sgd")]
            arms.append(Arm("sgd_clip", optimizer="sgd", clip=True))
        if self.compare_schedule:
            arms.append(Arm("adamw_cosine", schedule="cosine"))
        if self.compare_init:
            arms += [Arm("adamw_init_small", init_std=self.init_small)]
            arms += [Arm("adamw_init_large", init_std=self.init_large)]
        if self.compare_norm:
            arms.append(Arm("adamw_rmsnorm", norm="rmsnorm"))
        if self.compare_rewind:
            arms.append(Arm("adamw_rewind", rewind=True))
        return arms
