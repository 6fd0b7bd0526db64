"""The PEFT-latency demo's parameters and the lengths they time. No torch here."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from app.demos.base import DemoParams, ParamError, at_most
from app.demos.lora.params import ui
from app.demos.text import N_

LoRATargets = Literal["qv", "qkvo", "all"]
Statistic = Literal["min", "median"]
Clock = Literal["wall", "thread_cpu"]
VOCAB = 256  # small, so the unembedding does not dominate a tiny model's forward
WARMUP = 3  # untimed rounds of every timed call (allocator, caches, kernel selection)
LENGTH_STEP = 4  # the timed lengths are max_seq_len / 4^k


# Bounds: the slowest allowed run (d_model 256, 6 layers, 16 heads, lengths 8 to 512, 64
# virtual tokens, bottleneck 128, LoRA r 64 on every linear, 20 repeats, decode on) took
# 24-37 s on one CPU thread of a shared two-core machine (load 2-3.5), the default run ~6 s.
class PeftLatencyParams(DemoParams):
    d_model: int = Field(
        default=128,
        ge=16,
        le=256,
        description=N_("Model width $d$"),
        json_schema_extra=ui("model", N_("Model width d"), None),
    )
    n_layers: int = Field(
        default=4,
        ge=1,
        le=6,
        description=N_("Transformer blocks $L$"),
        json_schema_extra=ui("model", N_("Transformer blocks"), N_("layers")),
    )
    n_heads: int = Field(
        default=4,
        ge=1,
        le=16,
        description=N_("Attention heads; must divide the model width"),
        json_schema_extra=ui("model", N_("Attention heads"), N_("heads")),
    )
    max_seq_len: int = Field(
        default=512,
        ge=16,
        le=512,
        description=N_("Longest prompt timed (tokens, batch 1)"),
        json_schema_extra=ui("training", N_("Longest prompt"), N_("tokens")),
    )
    num_lengths: int = Field(
        default=3,
        ge=1,
        le=4,
        description=N_("How many prompt lengths: the longest, a quarter of it, a sixteenth, ..."),
        json_schema_extra=ui("training", N_("Prompt lengths timed"), None),
    )
    n_virtual: int = Field(
        default=20,
        ge=1,
        le=64,
        description=N_("Virtual tokens (prompt tuning) and prefix length (prefix tuning)"),
        json_schema_extra=ui("method", N_("Virtual tokens / prefix length"), N_("tokens")),
    )
    bottleneck: int = Field(
        default=32,
        ge=1,
        le=128,
        description=N_(r"Houlsby adapter bottleneck $m$ ($d \to m \to d$)"),
        json_schema_extra=ui("method", N_("Adapter bottleneck"), None),
    )
    lora_rank: int = Field(
        default=8,
        ge=1,
        le=64,
        description=N_("LoRA rank $r$"),
        json_schema_extra=ui("method", N_("LoRA rank r"), None),
    )
    lora_alpha: float = Field(
        default=16.0,
        gt=0,
        le=256,
        allow_inf_nan=False,
        description=N_(r"LoRA's update is scaled by $\alpha / r$"),
        json_schema_extra=ui("method", N_("LoRA alpha"), None),
    )
    lora_targets: LoRATargets = Field(
        default="qv",
        description=N_("Layers LoRA adapts: q and v (default), all attention, or every linear"),
        json_schema_extra=ui(
            "method",
            N_("Layers LoRA adapts"),
            choice_labels={
                "qv": N_("q and v"),
                "qkvo": N_("q, k, v and o"),
                "all": N_("every linear layer"),
            },
        ),
    )
    repeats: int = Field(
        default=15,
        ge=3,
        le=20,
        description=N_("Timed rounds per length"),
        json_schema_extra=ui("training", N_("Timed rounds"), N_("rounds")),
    )
    statistic: Statistic = Field(
        default="min",
        description=N_(
            "Each timing's statistic over the rounds: min (steadiest on a shared machine: "
            "interference only adds time) or median"
        ),
        json_schema_extra=ui(
            "advanced",
            N_("Statistic over rounds"),
            choice_labels={"min": N_("minimum"), "median": N_("median")},
        ),
    )
    decode: bool = Field(
        default=True,
        description=N_("Also time one decoded token against a KV cache of each length"),
        json_schema_extra=ui("training", N_("Also time decoding"), None),
    )
    clock: Clock = Field(
        default="thread_cpu",
        description=N_(
            "thread CPU time: the timing thread's CPU time, what a forward costs on a core of "
            "its own, blind to other processes on a shared machine; wall clock: the latency a "
            "caller sees, other processes included (CUDA always uses the wall clock)"
        ),
        json_schema_extra=ui(
            "advanced",
            N_("Clock"),
            choice_labels={"wall": N_("wall clock"), "thread_cpu": N_("thread CPU time")},
        ),
    )

    # Field validators (not a model validator) so the error names the field; the fields
    # they compare with are declared first, so they are in info.data when valid.
    @field_validator("n_heads")
    @classmethod
    def heads_divide_width(cls, n_heads: int, info: ValidationInfo) -> int:
        d = info.data.get("d_model")
        if d is not None and d % n_heads != 0:
            raise ParamError(N_("must divide %(name)s = %(value)s"), name="d_model", value=d)
        return n_heads

    @field_validator("bottleneck", "lora_rank")
    @classmethod
    def at_most_width(cls, size: int, info: ValidationInfo) -> int:
        d = info.data.get("d_model")
        if d is not None and size > d:
            raise at_most("d_model", d)
        return size

    @field_validator("num_lengths")
    @classmethod
    def shortest_length_is_long_enough(cls, num_lengths: int, info: ValidationInfo) -> int:
        longest = info.data.get("max_seq_len")
        if longest is not None and longest // LENGTH_STEP ** (num_lengths - 1) < 4:
            raise ParamError(
                N_("too many for %(name)s = %(value)s: the shortest would be < 4"),
                name="max_seq_len",
                value=longest,
            )
        return num_lengths


def seq_lengths(p: PeftLatencyParams) -> list[int]:
    """The prompt lengths timed, shortest first; the last is ``max_seq_len``."""
    return [p.max_seq_len // LENGTH_STEP**k for k in reversed(range(p.num_lengths))]
