"""The MLA demo's parameters, the attention shapes they describe and DeepSeek-V2's
published numbers. No torch here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator
from pydantic.config import JsonDict

from app.demos.base import DemoParams, ParamError
from app.demos.text import N_

SCHEMES = ("mha", "gqa", "mqa", "mla")
SCHEME_TITLES = {"mha": "MHA", "gqa": "GQA", "mqa": "MQA", "mla": "MLA"}  # names, not msgids
BYTES_PER_ELEMENT = {"fp32": 4, "bf16": 2, "fp16": 2, "fp8": 1}
GB = 1e9  # decimal gigabytes
LAYER_BATCH = 2  # sequences in the layer experiment
TOLERANCE = 1e-9  # float64 identities, relative to the output's size
CONTEXT_GRID = tuple(2**k for k in range(10, 18))  # 1K .. 128K tokens (DeepSeek-V2's max)


@dataclass(frozen=True)
class AttentionShape:
    """What the KV-cache formulas need (d_model only bounds the rank of W_K)."""

    layers: int  # l
    d_model: int  # d
    n_heads: int  # n_h
    head_dim: int  # d_h
    d_latent: int  # d_c, kv_lora_rank
    d_rope: int  # d_h^R, qk_rope_head_dim


# DeepSeek-V2, paper §3.1.2: 60 layers, hidden 5120, n_h = 128, d_h = 128, d_c = 512,
# d_h^R = 64. The same numbers are in deepseek-ai/DeepSeek-V2's config.json
# (num_hidden_layers, hidden_size, num_attention_heads, qk_nope_head_dim = v_head_dim,
# kv_lora_rank, qk_rope_head_dim).
PRESETS = {"deepseek-v2": AttentionShape(60, 5120, 128, 128, 512, 64)}
Preset = Literal["deepseek-v2", "custom"]

# The paper's "reduces the KV cache by 93.3%" is against DeepSeek 67B, a GQA model (config.json
# of deepseek-ai/deepseek-llm-67b-base: 95 layers, 64 heads, 8 key/value heads, d_h 128), and
# the deployed DeepSeek-V2 stores each cache element in 6 bits on average (§3.2.3).
DEEPSEEK_67B_ELEMENTS = 2 * 8 * 128 * 95  # 2·n_g·d_h·l
DEPLOYED_BITS, BASELINE_BITS = 6, 16  # the 67B baseline's cache precision is our assumption


def ui(
    group: str,
    label: str,
    unit: str | None = None,
    show_if: JsonDict | None = None,
    *,
    choice_labels: dict[str, str] | None = None,
) -> JsonDict:
    """The form's group, label and unit of a field (English msgids, translated on pages),
    the values of other fields under which it applies, and for a choice the words each
    value shows as ({value: msgid}; the value sent stays the raw one)."""
    extra: JsonDict = {"group": group, "label": label, "unit": unit}
    if choice_labels:
        extra["choice_labels"] = dict(choice_labels)
    return extra if show_if is None else {**extra, "show_if": show_if}


CUSTOM: JsonDict = {"preset": ["custom"]}  # the custom_* fields apply only then
PRESET_LABELS: dict[str, str] = {
    "deepseek-v2": "DeepSeek-V2",  # a proper name, the same in every language
    "custom": N_("custom (the fields below)"),
}


# The custom shape's fields that mla_cost's parameters share: the same names, bounds,
# labels and defaults (DeepSeek-V2's, so switching to custom starts from its numbers).
CUSTOM_D_MODEL: Any = Field(
    default=5120,
    ge=1,
    le=65536,
    description=N_("Custom: hidden size $d$"),
    json_schema_extra=ui("model", N_("Hidden size $d$"), None, CUSTOM),
)
CUSTOM_HEADS: Any = Field(
    default=128,
    ge=1,
    le=1024,
    description=N_("Custom: heads $n_h$"),
    json_schema_extra=ui("model", N_("Heads $n_h$"), N_("heads"), CUSTOM),
)
CUSTOM_HEAD_DIM: Any = Field(
    default=128,
    ge=1,
    le=1024,
    description=N_("Custom: head dimension $d_h$"),
    json_schema_extra=ui("model", N_("Head dimension $d_h$"), None, CUSTOM),
)
CUSTOM_D_ROPE: Any = Field(
    default=64,
    ge=0,
    le=1024,
    description=N_("Custom: decoupled RoPE key $d_h^R$ (0: none)"),
    json_schema_extra=ui("model", N_("Decoupled RoPE key $d_h^R$"), None, CUSTOM),
)


class MLAParams(DemoParams):
    preset: Preset = Field(
        default="deepseek-v2",
        description=N_("Model for the cache arithmetic: DeepSeek-V2's published shape or custom"),
        json_schema_extra=ui("model", N_("Architecture"), choice_labels=PRESET_LABELS),
    )
    # Defaults are DeepSeek-V2's, so switching to custom starts from the preset's numbers.
    custom_layers: int = Field(
        default=60,
        ge=1,
        le=512,
        description=N_("Custom: layers $l$"),
        json_schema_extra=ui("model", N_("Layers $l$"), N_("layers"), CUSTOM),
    )
    custom_d_model: int = CUSTOM_D_MODEL
    custom_heads: int = CUSTOM_HEADS
    custom_head_dim: int = CUSTOM_HEAD_DIM
    custom_d_latent: int = Field(
        default=512,
        ge=1,
        le=65536,
        description=N_("Custom: MLA latent $d_c$ (kv_lora_rank)"),
        json_schema_extra=ui("model", N_("MLA latent $d_c$"), None, CUSTOM),
    )
    custom_d_rope: int = CUSTOM_D_ROPE
    gqa_kv_heads: int = Field(
        default=8,
        ge=1,
        le=1024,
        description=N_("GQA groups $n_g$ compared against (must divide the heads; MQA is 1)"),
        json_schema_extra=ui("method", N_("GQA groups $n_g$")),
    )
    context_len: int = Field(
        default=32768,
        ge=1,
        le=1_048_576,
        description=N_("Context length for the cache size"),
        json_schema_extra=ui("method", N_("Context length"), N_("tokens")),
    )
    batch: int = Field(
        default=1,
        ge=1,
        le=4096,
        description=N_("Sequences cached at once"),
        json_schema_extra=ui("method", N_("Batch"), N_("sequences")),
    )
    dtype: Literal["bf16", "fp16", "fp8", "fp32"] = Field(
        default="bf16",
        description=N_("Cache element type (fp32 4 bytes, bf16/fp16 2, fp8 1)"),
        json_schema_extra=ui("method", N_("Cache dtype")),
    )
    layer_d_model: int = Field(
        default=64,
        ge=4,
        le=128,
        description=N_("Small layer: hidden size $d$"),
        json_schema_extra=ui("advanced", N_("Small layer: hidden size $d$")),
    )
    layer_heads: int = Field(
        default=4,
        ge=1,
        le=8,
        description=N_("Small layer: heads $n_h$"),
        json_schema_extra=ui("advanced", N_("Small layer: heads $n_h$")),
    )
    layer_head_dim: int = Field(
        default=16,
        ge=2,
        le=32,
        description=N_("Small layer: head dimension $d_h$"),
        json_schema_extra=ui("advanced", N_("Small layer: head dimension $d_h$")),
    )
    layer_d_latent: int = Field(
        default=16,
        ge=1,
        le=127,
        description=N_(
            "Small layer: latent $d_c$, below $\\min(d, n_h d_h)$ so that it compresses"
        ),
        json_schema_extra=ui("advanced", N_("Small layer: latent $d_c$")),
    )
    layer_d_rope: int = Field(
        default=8,
        ge=2,
        le=32,
        description=N_("Small layer: decoupled RoPE key $d_h^R$ (even)"),
        json_schema_extra=ui("advanced", N_("Small layer: RoPE key $d_h^R$")),
    )
    # Decoding that rebuilds K and V costs ~seq²·d_c·n_h·d_h: at the upper bounds (128
    # tokens, d_c 127, n_h·d_h 256) a run took 3.2 s on two heavily loaded CPU cores.
    layer_seq_len: int = Field(
        default=32,
        ge=2,
        le=128,
        description=N_("Small layer: tokens decoded one by one"),
        json_schema_extra=ui("advanced", N_("Small layer: tokens decoded"), N_("tokens")),
    )

    # Field validators (not a model validator) so that the 422 names the field; the fields
    # they read are declared above them, so they are in info.data when valid.
    @field_validator("gqa_kv_heads")
    @classmethod
    def groups_divide_heads(cls, kv_heads: int, info: ValidationInfo) -> int:
        preset = PRESETS.get(info.data.get("preset", ""))
        heads = preset.n_heads if preset else info.data.get("custom_heads")
        if heads is not None and heads % kv_heads:
            raise ParamError(N_("must divide the number of heads, %(heads)s"), heads=heads)
        return kv_heads

    @field_validator("layer_d_latent")
    @classmethod
    def latent_compresses(cls, d_c: int, info: ValidationInfo) -> int:
        d, h, dh = (info.data.get(k) for k in ("layer_d_model", "layer_heads", "layer_head_dim"))
        if d is not None and h is not None and dh is not None and d_c >= min(d, h * dh):
            raise ParamError(
                N_("must be below %(name)s = %(value)s"),
                name="min(layer_d_model, heads·head_dim)",
                value=min(d, h * dh),
            )
        return d_c

    @field_validator("layer_d_rope")
    @classmethod
    def rope_is_even(cls, d_rope: int) -> int:
        if d_rope % 2:
            raise ParamError(N_("must be even: RoPE rotates pairs of dimensions"))
        return d_rope

    def shape(self) -> AttentionShape:
        """The shape the arithmetic uses: the preset's, or the custom fields."""
        if self.preset != "custom":
            return PRESETS[self.preset]
        return AttentionShape(
            self.custom_layers, self.custom_d_model, self.custom_heads,
            self.custom_head_dim, self.custom_d_latent, self.custom_d_rope,
        )  # fmt: skip
