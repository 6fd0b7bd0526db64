"""The loss-spikes demo's parameters and the switches one training arm runs with. No
torch here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from app.demos.base import DemoParams, ParamError, at_most
from app.demos.text import N_, field_extra

MIN_HISTORY = 5  # losses the spike detector needs before it can flag a step
Precision = Literal["fp32", "bf16", "fp16", "fp16_scaler"]

MAX_CORPUS_CHARS = 200_000  # answers beyond this are not read: the model sees a fraction anyway
MAX_VOCAB = 1024  # the most frequent characters; rarer ones share the <unk> id 0
CONTEXT = 32  # characters per training window
BATCH = 32  # windows per step
D_MODEL = 64  # width of the tiny GPT
N_LAYER = 1
N_HEAD = 4
MAX_STEPS = 400  # the slowest allowed run: 2 arms × 400 steps, well under time_limit_s
MAX_CORRUPT_BATCHES = 20


class LossSpikesParams(DemoParams):
    steps: int = Field(
        default=200,
        ge=20,
        le=MAX_STEPS,
        description=N_("Training steps of each arm (baseline and configured)"),
        json_schema_extra=field_extra("training", N_("Training steps"), N_("steps")),
    )
    lr: float = Field(
        default=3e-3,
        gt=0,
        le=1.0,
        allow_inf_nan=False,
        description=N_("Peak AdamW learning rate (3e-3 is stable here; try 0.03–0.3)"),
        json_schema_extra=field_extra("training", N_("Learning rate")),
    )
    warmup_steps: int = Field(
        default=0,
        ge=0,
        le=MAX_STEPS,
        description=N_("Linear warmup up to the learning rate (0 = none); at most the steps"),
        json_schema_extra=field_extra("method", N_("Warmup"), N_("steps")),
    )
    clip: float = Field(
        default=0.0,
        ge=0.0,
        le=100.0,
        allow_inf_nan=False,
        description=N_("Clip the gradient to this global norm (0 = no clipping)"),
        json_schema_extra=field_extra("method", N_("Gradient clipping threshold")),
    )
    precision: Precision = Field(
        default="fp32",
        description=N_(
            "fp32; bf16 or fp16 autocast (weights stay fp32); fp16 + GradScaler: fp16 autocast "
            "with a GradScaler (loss scaling)"
        ),
        json_schema_extra=field_extra(
            "training",
            N_("Precision"),
            choice_labels={"fp16_scaler": N_("fp16 + GradScaler")},
        ),
    )
    corrupt_step: int = Field(
        default=100,
        ge=0,
        le=MAX_STEPS,
        description=N_(
            "Replace this step's batch with random characters (0 = none); between 6 and "
            "the steps − 1"
        ),
        json_schema_extra=field_extra("training", N_("Corrupted batch at step")),
    )
    corrupt_batches: int = Field(
        default=1,
        ge=1,
        le=MAX_CORRUPT_BATCHES,
        description=N_("Consecutive corrupted batches from that step on (a bad data shard)"),
        json_schema_extra=field_extra("training", N_("Corrupted batches"), N_("batches")),
    )
    skip_guard: bool = Field(
        default=True,
        description=N_("Skip the update of a batch flagged as a spike or with a NaN/inf gradient"),
        json_schema_extra=field_extra("method", N_("Skip spiking batches")),
    )
    spike_k: float = Field(
        default=3.0,
        gt=1.0,
        le=100.0,
        allow_inf_nan=False,
        description=N_("A spike is a loss above k × the running median"),
        json_schema_extra=field_extra("advanced", N_("Spike threshold k"), N_("× median")),
    )
    median_window: int = Field(
        default=20,
        ge=MIN_HISTORY,
        le=200,
        description=N_("Previous losses the running median is taken over"),
        json_schema_extra=field_extra("advanced", N_("Median window"), N_("steps")),
    )

    # Field validators (not a model validator) so that the error names the field; steps
    # is declared first, so it is in info.data when it is valid.
    @field_validator("warmup_steps")
    @classmethod
    def warmup_within_steps(cls, warmup_steps: int, info: ValidationInfo) -> int:
        steps = info.data.get("steps")
        if steps is not None and warmup_steps > steps:
            raise at_most("steps", steps)
        return warmup_steps

    @field_validator("corrupt_step")
    @classmethod
    def corrupt_step_inside_run(cls, corrupt_step: int, info: ValidationInfo) -> int:
        steps = info.data.get("steps")
        if steps is not None and corrupt_step != 0:
            if not MIN_HISTORY < corrupt_step < steps:
                raise ParamError(
                    N_("must be 0 (none) or between %(low)s and %(high)s"),
                    low=MIN_HISTORY + 1,
                    high=steps - 1,
                )
        return corrupt_step

    @field_validator("corrupt_batches")
    @classmethod
    def corrupt_batches_inside_run(cls, corrupt_batches: int, info: ValidationInfo) -> int:
        steps, corrupt_step = info.data.get("steps"), info.data.get("corrupt_step")
        if steps is not None and corrupt_step and corrupt_step + corrupt_batches > steps:
            raise at_most("steps − corrupt_step", steps - corrupt_step)
        return corrupt_batches

    @property
    def corrupt_steps(self) -> range:
        """The 1-based steps whose batch is corrupted (empty when corrupt_step is 0)."""
        if not self.corrupt_step:
            return range(0)
        return range(self.corrupt_step, self.corrupt_step + self.corrupt_batches)


@dataclass
class ArmConfig:
    """The switches one arm trains with."""

    lr: float
    warmup_steps: int
    clip: float  # max gradient norm; 0 = no clipping
    precision: Precision
    skip_guard: bool
    spike_k: float
    median_window: int
