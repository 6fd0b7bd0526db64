"""The mla_cost demo's parameters, the attention shape its formulas read and DeepSeek-V2's
published one. No torch here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from app.demos.base import DemoParams, ParamError
from app.demos.mla.params import (
    BYTES_PER_ELEMENT,
    CONTEXT_GRID,
    CUSTOM,
    CUSTOM_D_MODEL,
    CUSTOM_D_ROPE,
    CUSTOM_HEAD_DIM,
    CUSTOM_HEADS,
    PRESET_LABELS,
    ui,
)
from app.demos.text import N_

__all__ = ["BYTES_PER_ELEMENT", "CONTEXT_GRID"]

SCHEMES = ("mha", "gqa", "mqa", "mla")
FLOP_SCHEMES = ("mha", "mla_naive", "mla_absorbed")
FLOP_TITLES = {
    "mha": "MHA",
    "mla_naive": N_("MLA, K/V rebuilt"),
    "mla_absorbed": N_("MLA, absorbed"),
}
TOLERANCE = 1e-9  # float64 identities, relative to the output's size
CHECK_CONTEXTS = (8, 32)  # cached tokens the FLOP counter is run at (intercept and slope)
CONV_SEQ = 16  # tokens per sequence of the conversion's toy task
CONV_BATCH = 32
CONV_VOCAB = 16
COPY_BACK = 3  # the toy task: predict the token COPY_BACK positions back


@dataclass(frozen=True)
class CostShape:
    """One attention layer's shape, as the per-token formulas need it."""

    d_model: int  # d
    n_heads: int  # n_h
    head_dim: int  # d_h
    d_latent: int  # d_c, kv_lora_rank
    q_latent: int  # d_c', q_lora_rank (0: queries straight from x, as V2-Lite)
    d_rope: int  # d_h^R, qk_rope_head_dim


# DeepSeek-V2 (arXiv 2405.04434 §3.1.2; config.json hidden_size, num_attention_heads,
# qk_nope_head_dim = v_head_dim, kv_lora_rank, q_lora_rank, qk_rope_head_dim).
DEEPSEEK_V2 = CostShape(5120, 128, 128, 512, 1536, 64)
# The small layer whose FLOPs are counted to check the formulas (q compression on).
CHECK_SHAPE = CostShape(64, 4, 16, 16, 32, 8)


class MLACostParams(DemoParams):
    preset: Literal["deepseek-v2", "custom"] = Field(
        default="deepseek-v2",
        description=N_("Shape for the formulas: DeepSeek-V2's or custom"),
        json_schema_extra=ui("model", N_("Architecture"), choice_labels=PRESET_LABELS),
    )
    custom_d_model: int = CUSTOM_D_MODEL
    custom_heads: int = CUSTOM_HEADS
    custom_head_dim: int = CUSTOM_HEAD_DIM
    custom_d_latent: int = Field(
        default=512,
        ge=1,
        le=65536,
        description=N_("Custom: KV latent $d_c$ (kv_lora_rank)"),
        json_schema_extra=ui("model", N_("KV latent $d_c$"), None, CUSTOM),
    )
    custom_q_latent: int = Field(
        default=1536,
        ge=0,
        le=65536,
        description=N_("Custom: query latent $d_c'$ (q_lora_rank; 0: queries straight from $x$)"),
        json_schema_extra=ui("model", N_("Query latent $d_c'$"), None, CUSTOM),
    )
    custom_d_rope: int = CUSTOM_D_ROPE
    gqa_kv_heads: int = Field(
        default=8,
        ge=1,
        le=1024,
        description=N_("GQA groups compared against (divides the heads)"),
        json_schema_extra=ui("method", N_("GQA groups $n_g$")),
    )
    dtype: Literal["bf16", "fp16", "fp8", "fp32"] = Field(
        default="bf16",
        description=N_("Cache element type (fp32 4 bytes, bf16/fp16 2, fp8 1)"),
        json_schema_extra=ui("method", N_("Cache dtype")),
    )
    conv_d_model: int = Field(
        default=32,
        ge=8,
        le=64,
        description=N_("Conversion: hidden size $d$"),
        json_schema_extra=ui("training", N_("Converted layer: hidden size $d$")),
    )
    conv_heads: int = Field(
        default=4,
        ge=1,
        le=8,
        description=N_("Conversion: heads $n_h$"),
        json_schema_extra=ui("training", N_("Converted layer: heads $n_h$")),
    )
    conv_head_dim: int = Field(
        default=8,
        ge=2,
        le=16,
        description=N_("Conversion: head dimension $d_h$"),
        json_schema_extra=ui("training", N_("Converted layer: head dimension $d_h$")),
    )
    train_steps: int = Field(
        default=200,
        ge=0,
        le=1000,
        description=N_("Conversion: steps training the MHA model"),
        json_schema_extra=ui("training", N_("MHA training steps"), N_("steps")),
    )
    ft_steps: int = Field(
        default=40,
        ge=0,
        le=300,
        description=N_("Conversion: fine-tuning steps after the SVD"),
        json_schema_extra=ui("training", N_("Fine-tuning steps after the SVD"), N_("steps")),
    )
    lr: float = Field(
        default=1e-2,
        gt=0,
        le=0.1,
        allow_inf_nan=False,
        description=N_("AdamW learning rate (training and fine-tuning)"),
        json_schema_extra=ui("advanced", N_("Learning rate")),
    )

    # A field validator (not a model validator) so that the 422 names the field; the
    # fields it reads are declared above it, so they are in info.data when valid.
    @field_validator("gqa_kv_heads")
    @classmethod
    def groups_divide_heads(cls, kv_heads: int, info: ValidationInfo) -> int:
        custom = info.data.get("preset") == "custom"
        heads = info.data.get("custom_heads") if custom else DEEPSEEK_V2.n_heads
        if heads is not None and heads % kv_heads:
            raise ParamError(N_("must divide the number of heads, %(heads)s"), heads=heads)
        return kv_heads

    def shape(self) -> CostShape:
        if self.preset == "deepseek-v2":
            return DEEPSEEK_V2
        return CostShape(
            self.custom_d_model, self.custom_heads, self.custom_head_dim,
            self.custom_d_latent, self.custom_q_latent, self.custom_d_rope,
        )  # fmt: skip

    def conv_full_rank(self) -> int:
        """rank of [W_K; W_V] ((2·n_h·d_h) × d) at most: the latent that loses nothing."""
        return min(self.conv_d_model, 2 * self.conv_heads * self.conv_head_dim)

    def latents(self) -> list[int]:
        """The latents d_c tried: full/16, full/8, full/4, full/2 (those ≥ 1) and full."""
        full = self.conv_full_rank()
        return sorted({full // 2**k for k in range(4, 0, -1) if full // 2**k >= 1} | {full})
