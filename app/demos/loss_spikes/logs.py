"""What the loss-spikes loop logs and what ``run`` hands the report: the two arms' step
logs, the corpus sizes and the fp16/bf16 range probe. No torch here."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

FP16_MAX = 65504.0  # torch.finfo(torch.float16).max: 2^15 · (2 − 2^−10)
BF16_MAX = 3.3895313892515355e38  # torch.finfo(torch.bfloat16).max: fp32's exponent range
PROBE = 70000.0  # just past fp16's largest value
NONFINITE_AS = 1e30  # a NaN/inf loss or norm enters max_* and final_loss_* as this
ARMS = ("baseline", "configured")


@dataclass
class ArmLog:
    """Per step (index step - 1): what one arm measured."""

    losses: list[float] = field(default_factory=list)
    grad_norms: list[float] = field(default_factory=list)  # before clipping, unscaled
    spikes: list[bool] = field(default_factory=list)  # the detector's flag
    skipped: list[bool] = field(default_factory=list)  # the guard skipped the update
    scaler_skipped: list[bool] = field(default_factory=list)  # GradScaler found inf/NaN
    update_norms: list[float] = field(default_factory=list)  # ‖θ_after − θ_before‖
    peak_activations: list[float] = field(default_factory=list)  # TinyGPT.peak_activation
    scales: list[float] = field(default_factory=list)  # loss scale each step used (1 without)
    final_scale: float = 1.0  # the loss scale after the last step's update (1 without)
    weights_finite: bool = True


@dataclass
class Measured:
    """What ``run`` measured: the corpus, and the two arms' step logs."""

    corpus_chars: int
    vocab_size: int
    unk_chars: int
    identical: bool  # every remedy off: configured is baseline, trained once
    baseline: ArmLog
    configured: ArmLog
    fp16_of_probe: float  # float(torch.tensor(PROBE).half()): inf
    bf16_of_probe: float  # float(torch.tensor(PROBE).bfloat16()): 70144


def finite(value: float) -> float:
    """``value``, or NONFINITE_AS for NaN/inf (figures must be finite numbers)."""
    return value if math.isfinite(value) else NONFINITE_AS
