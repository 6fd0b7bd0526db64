"""The demo's knobs: which architecture, and each method's own hyperparameters.

Every method is computed on every run (so the charts compare them); these knobs set
each one's size. No torch here: the web form is built from this model.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator
from pydantic.config import JsonDict

from app.demos.base import DemoParams, ParamError
from app.demos.peft_count.presets import LORA_TARGETS, PRESETS, Architecture, PresetName
from app.demos.text import N_

SaveDtype = Literal["bf16", "fp16", "fp32"]
Recomputation = Literal["none", "selective", "full"]


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
# The architectures as their papers write them (LLaMA-2-7B, not llama-2-7b): proper
# names, the same in every language.
ARCHITECTURE_LABELS: dict[str, str] = {key: arch.name for key, arch in PRESETS.items()}
PRESET_LABELS: dict[str, str] = {**ARCHITECTURE_LABELS, "custom": N_("custom (the fields below)")}
RECOMPUTATION_LABELS: dict[str, str] = {
    "none": N_("none (all stored)"),
    "selective": N_("selective (attention scores)"),
    "full": N_("full (whole layers)"),
}


class PeftParams(DemoParams):
    preset: PresetName = Field(
        default="llama-2-7b",
        description=N_("Architecture (published hyperparameters) or custom"),
        json_schema_extra=ui("model", N_("Architecture"), choice_labels=PRESET_LABELS),
    )
    # The custom_* fields describe the architecture when preset is "custom".
    custom_hidden: int = Field(
        default=2048,
        ge=64,
        le=65536,
        description=N_("Custom: hidden size $h$"),
        json_schema_extra=ui("model", N_("Hidden size $h$"), None, CUSTOM),
    )
    custom_layers: int = Field(
        default=16,
        ge=1,
        le=256,
        description=N_("Custom: decoder layers $L$"),
        json_schema_extra=ui("model", N_("Decoder layers $L$"), N_("layers"), CUSTOM),
    )
    custom_heads: int = Field(
        default=32,
        ge=1,
        le=512,
        description=N_("Custom: attention heads (must divide the hidden size)"),
        json_schema_extra=ui("model", N_("Attention heads"), N_("heads"), CUSTOM),
    )
    custom_kv_heads: int = Field(
        default=8,
        ge=1,
        le=512,
        description=N_("Custom: key/value heads (must divide the attention heads)"),
        json_schema_extra=ui("model", N_("Key/value heads"), N_("heads"), CUSTOM),
    )
    custom_intermediate: int = Field(
        default=8192,
        ge=1,
        le=262144,
        description=N_("Custom: SwiGLU intermediate size $I$"),
        json_schema_extra=ui("model", N_("MLP intermediate size $I$"), None, CUSTOM),
    )
    custom_vocab: int = Field(
        default=128256,
        ge=1,
        le=1_000_000,
        description=N_("Custom: vocabulary size $V$"),
        json_schema_extra=ui("model", N_("Vocabulary size $V$"), N_("tokens"), CUSTOM),
    )
    custom_tied_embeddings: bool = Field(
        default=True,
        description=N_("Custom: lm_head shares the token embedding"),
        json_schema_extra=ui("model", N_("Tied embeddings"), None, CUSTOM),
    )
    custom_qkv_bias: bool = Field(
        default=False,
        description=N_("Custom: biases on q, k and v"),
        json_schema_extra=ui("model", N_("Biases on q, k, v"), None, CUSTOM),
    )

    # PEFT's LoraConfig defaults (peft 0.21): r=8, lora_alpha=8; q_proj and v_proj for
    # llama-family models. alpha changes no count: only the lora_alpha_over_r figure reads it.
    lora_r: int = Field(
        default=8,
        ge=1,
        le=4096,
        description=N_("LoRA/QLoRA rank $r$"),
        json_schema_extra=ui("method", N_("LoRA rank $r$")),
    )
    lora_alpha: float = Field(
        default=8.0,
        gt=0.0,
        le=65536.0,
        allow_inf_nan=False,
        description=N_("LoRA alpha: scales $\\Delta W = BA$ by $\\alpha / r$ (changes no count)"),
        json_schema_extra=ui("method", N_("LoRA alpha $\\alpha$")),
    )
    lora_target_modules: str = Field(
        default="q,v",
        description=N_("LoRA/QLoRA targets, comma-separated among q, k, v, o, gate, up, down"),
        json_schema_extra=ui("method", N_("LoRA target projections")),
    )
    qlora_double_quant: bool = Field(
        default=True,
        description=N_("QLoRA: quantize the fp32 absmax constants to 8 bits"),
        json_schema_extra=ui("method", N_("QLoRA double quantization")),
    )
    prompt_virtual_tokens: int = Field(
        default=20,
        ge=1,
        le=4096,
        description=N_("Prompt Tuning: virtual tokens"),
        json_schema_extra=ui("method", N_("Prompt Tuning virtual tokens"), N_("tokens")),
    )
    prefix_virtual_tokens: int = Field(
        default=20,
        ge=1,
        le=4096,
        description=N_("Prefix Tuning: virtual tokens"),
        json_schema_extra=ui("method", N_("Prefix Tuning virtual tokens"), N_("tokens")),
    )
    prefix_projection: bool = Field(
        default=False,
        description=N_("Prefix Tuning: reparametrise through a two-layer MLP"),
        json_schema_extra=ui("advanced", N_("Prefix Tuning through an MLP")),
    )
    prefix_encoder_hidden: int = Field(
        default=512,
        ge=1,
        le=65536,
        description=N_("Prefix Tuning: the MLP's hidden size"),
        json_schema_extra=ui(
            "advanced", N_("Prefix MLP hidden size"), None, {"prefix_projection": [True]}
        ),
    )
    ptuning_virtual_tokens: int = Field(
        default=20,
        ge=1,
        le=4096,
        description=N_("P-tuning: virtual tokens"),
        json_schema_extra=ui("method", N_("P-tuning virtual tokens"), N_("tokens")),
    )
    ptuning_encoder_hidden: int = Field(
        default=128,
        ge=1,
        le=65536,
        description=N_("P-tuning: hidden size of the MLP prompt encoder"),
        json_schema_extra=ui("advanced", N_("P-tuning encoder hidden size")),
    )
    adapter_bottleneck: int = Field(
        default=64,
        ge=1,
        le=65536,
        description=N_("Adapters: bottleneck size $m$"),
        json_schema_extra=ui("method", N_("Adapter bottleneck $m$")),
    )
    save_dtype: SaveDtype = Field(
        default="bf16",
        description=N_("dtype of the saved adapter file"),
        json_schema_extra=ui("advanced", N_("Saved adapter dtype")),
    )
    batch_size: int = Field(
        default=4,
        ge=1,
        le=4096,
        description=N_("Training batch size $b$"),
        json_schema_extra=ui("training", N_("Batch size $b$"), N_("sequences")),
    )
    seq_len: int = Field(
        default=512,
        ge=1,
        le=131072,
        description=N_("Training sequence length $s$"),
        json_schema_extra=ui("training", N_("Sequence length $s$"), N_("tokens")),
    )
    activation_recomputation: Recomputation = Field(
        default="none",
        description=N_("Activation recomputation (Korthikanti et al. 2022)"),
        json_schema_extra=ui(
            "training", N_("Activation recomputation"), choice_labels=RECOMPUTATION_LABELS
        ),
    )

    @field_validator("custom_heads")
    @classmethod
    def heads_divide_hidden(cls, heads: int, info: ValidationInfo) -> int:
        hidden = info.data.get("custom_hidden")
        if hidden is not None and hidden % heads:
            raise ParamError(
                N_("must divide %(name)s = %(value)s"), name="custom_hidden", value=hidden
            )
        return heads

    @field_validator("custom_kv_heads")
    @classmethod
    def kv_heads_divide_heads(cls, kv_heads: int, info: ValidationInfo) -> int:
        heads = info.data.get("custom_heads")
        if heads is not None and heads % kv_heads:
            raise ParamError(
                N_("must divide %(name)s = %(value)s"), name="custom_heads", value=heads
            )
        return kv_heads

    # A field validator so the error's location is the field; preset comes first, so
    # it is in info.data when valid.
    @field_validator("lora_target_modules")
    @classmethod
    def known_targets(cls, raw: str, info: ValidationInfo) -> str:
        names = [part.strip().lower().removesuffix("_proj") for part in raw.split(",")]
        names = [name for name in names if name]
        unknown = [name for name in names if name not in LORA_TARGETS]
        if unknown:
            raise ParamError(
                N_("unknown target %(target)s; choose among %(choices)s"),
                target=repr(unknown[0]),
                choices=", ".join(LORA_TARGETS),
            )
        if not names:
            raise ParamError(
                N_("name at least one of the targets %(choices)s"), choices=", ".join(LORA_TARGETS)
            )
        if info.data.get("preset") == "gpt3-175b" and "gate" in names:
            raise ParamError(N_("gpt3-175b has no gate projection (its MLP is up, down)"))
        # Canonical order and no repeats, so equal sets give equal runs.
        return ",".join(name for name in LORA_TARGETS if name in names)

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(self.lora_target_modules.split(","))

    @property
    def architecture(self) -> Architecture:
        if self.preset != "custom":
            return PRESETS[self.preset]
        return Architecture(
            name=(
                f"custom (h={self.custom_hidden}, L={self.custom_layers}, "
                f"heads={self.custom_heads}/{self.custom_kv_heads})"
            ),
            hidden=self.custom_hidden,
            layers=self.custom_layers,
            heads=self.custom_heads,
            kv_heads=self.custom_kv_heads,
            intermediate=self.custom_intermediate,
            vocab=self.custom_vocab,
            tied_embeddings=self.custom_tied_embeddings,
            qkv_bias=self.custom_qkv_bias,
        )
