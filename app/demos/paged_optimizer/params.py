"""The paged-optimizer demo's knobs. No torch here: the web form is built from this model.

The defaults (12 layers of 4096², 201M fp32 parameters, a 1.8 GB cap) are sized so that
the weights and gradients (1.61 GB) fit under the cap with about 0.14 GB to spare for
the rest (activations, cuBLAS workspace, 8-bit block constants), 8-bit AdamW's states
(0.40 GB) on top of them do not, and the paged optimizers' states (0.40 GB and 1.61 GB of
unified memory) are far below any GPU's free memory: the demo never asks for more managed memory
than the card has free.
"""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator

from app.demos.base import DemoParams, ParamError
from app.demos.text import N_, field_extra

ARMS = ("adamw", "adamw8bit", "paged_adamw8bit", "paged_adamw32bit")
GB = 10**9


def weights_and_grads_bytes(width: int, layers: int) -> int:
    """fp32 weights plus their fp32 gradients: 8 bytes per parameter."""
    return 8 * layers * width * width


class PagedOptimizerParams(DemoParams):
    width: int = Field(
        default=4096,
        ge=256,
        le=8192,
        description=N_("Width of each square linear layer (no bias)"),
        json_schema_extra=field_extra("model", N_("Layer width"), N_("units")),
    )
    layers: int = Field(
        default=12,
        ge=1,
        le=16,
        description=N_("Number of linear layers"),
        json_schema_extra=field_extra("model", N_("Layers")),
    )
    cap_gb: float = Field(
        default=1.8,
        gt=0,
        le=32,
        allow_inf_nan=False,
        description=N_(
            "What PyTorch's allocator may hold for each optimizer's run "
            "(torch.cuda.set_per_process_memory_fraction); must exceed the weights and gradients"
        ),
        json_schema_extra=field_extra("method", N_("Memory cap"), N_("GB")),
    )
    steps: int = Field(
        default=10,
        ge=2,
        le=50,
        description=N_("Training steps of each optimizer"),
        json_schema_extra=field_extra("training", N_("Training steps"), N_("steps")),
    )
    arms: str = Field(
        default=",".join(ARMS),
        description=N_(
            "Optimizers to run, comma-separated among adamw, adamw8bit, paged_adamw8bit, "
            "paged_adamw32bit"
        ),
        json_schema_extra=field_extra("method", N_("Optimizers")),
    )

    # Field validators (not a model validator) so the error names the field; width and
    # layers are declared first, so they are in info.data when they are valid.
    @field_validator("cap_gb")
    @classmethod
    def cap_above_weights_and_grads(cls, cap_gb: float, info: ValidationInfo) -> float:
        width, layers = info.data.get("width"), info.data.get("layers")
        if width is not None and layers is not None:
            need = weights_and_grads_bytes(width, layers) / GB
            if cap_gb <= need:
                raise ParamError(
                    N_(
                        "must exceed the weights and gradients, %(need)s GB for %(layers)s "
                        "layers of width %(width)s (every optimizer would run out of memory)"
                    ),
                    need=f"{need:.3f}",
                    layers=layers,
                    width=width,
                )
        return cap_gb

    @field_validator("arms")
    @classmethod
    def known_arms(cls, raw: str) -> str:
        names = [part.strip().lower() for part in raw.split(",") if part.strip()]
        unknown = [name for name in names if name not in ARMS]
        if unknown:
            raise ParamError(
                N_("unknown optimizer %(name)s; choose among %(choices)s"),
                name=repr(unknown[0]),
                choices=", ".join(ARMS),
            )
        if not names:
            raise ParamError(N_("name at least one of %(choices)s"), choices=", ".join(ARMS))
        # Canonical order and no repeats, so equal sets give equal runs.
        return ",".join(name for name in ARMS if name in names)

    @property
    def arm_names(self) -> tuple[str, ...]:
        return tuple(self.arms.split(","))
