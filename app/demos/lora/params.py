"""The LoRA demo's parameters, its fixed sizes and the init Literals. No torch here."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic.config import JsonDict

from app.demos.base import DemoParams
from app.demos.text import N_

LoRAInit = Literal["standard", "both_random", "both_zero"]
InitA = Literal["kaiming_uniform", "gaussian"]

D_IN = 8  # input features: few enough that a 4k-sample task generalises
CLASSES = 4  # task labels; accuracy is the share of test inputs labelled right
N_TRAIN = 4096  # full-batch training set per task
N_TEST = 2048  # held-out inputs for loss, accuracy and the merge/latency checks
RANKS = (1, 2, 4, 8, 16)  # capped by min(d_in, d_out) = hidden of the adapted layer
SHIFT_STRENGTH = 1.0  # ‖teacher 2's fc2 change‖_F relative to ‖W‖_F: enough to relabel


def ui(
    group: str,
    label: str,
    unit: str | None = None,
    show_if: JsonDict | None = None,
    *,
    choice_labels: dict[str, str] | None = None,
) -> JsonDict:
    """The form's group, label and unit of a field (English msgids, translated on pages),
    the values of other fields under which it applies, and the words a choice's values
    are shown as ({value: msgid}; the value sent stays the raw value)."""
    extra: JsonDict = {"group": group, "label": label, "unit": unit}
    if show_if is not None:
        extra["show_if"] = show_if
    if choice_labels:
        extra["choice_labels"] = dict(choice_labels)
    return extra


# The upper bounds keep the slowest run (hidden 128, 600 + 6 × 400 steps) near 15 s on two
# CPU cores and a few MB; bench/demos_bench.py measures the default run.
class LoRAParams(DemoParams):
    hidden: int = Field(
        default=64,
        ge=4,
        le=128,
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
        default=200,
        ge=10,
        le=400,
        description=N_("Adaptation steps on task 2, for each method"),
        json_schema_extra=ui("training", N_("Adaptation steps"), N_("steps")),
    )
    lr: float = Field(
        default=1e-2,
        gt=0,
        le=0.1,
        allow_inf_nan=False,
        description=N_("Adam learning rate, the same for every method"),
        json_schema_extra=ui("training", N_("Learning rate")),
    )
    alpha: float = Field(
        default=16.0,
        gt=0,
        le=256,
        allow_inf_nan=False,
        description=N_(r"LoRA's update is scaled by $\alpha / r$"),
        json_schema_extra=ui("method", N_("LoRA alpha")),
    )
    init: LoRAInit = Field(
        default="standard",
        description=N_(
            "standard: $A$ random, $B = 0$ (PEFT's default); both random: $A$ and $B$ "
            "random; both zero: $A = B = 0$"
        ),
        json_schema_extra=ui(
            "method",
            N_("LoRA initialisation"),
            choice_labels={
                "standard": N_("standard: A random, B = 0"),
                "both_random": N_("both random"),
                "both_zero": N_("both zero"),
            },
        ),
    )
    init_a: InitA = Field(
        default="kaiming_uniform",
        description=N_("How $A$ is drawn: Kaiming-uniform (PEFT's default) or $N(0, 1/r^2)$"),
        json_schema_extra=ui(
            "advanced",
            N_("Distribution of A"),
            show_if={"init": ["standard", "both_random"]},
            choice_labels={"kaiming_uniform": N_("Kaiming uniform"), "gaussian": N_("Gaussian")},
        ),
    )
    shift_rank: int = Field(
        default=4,
        ge=1,
        le=128,
        description=N_(
            "Rank of the change between the two teachers' hidden layers (capped at the "
            "hidden width)"
        ),
        json_schema_extra=ui("model", N_("Rank of the task change")),
    )
