"""The demo's knobs: which architecture, and each method's own hyperparameters.

Every method is computed on every run (so the charts compare them); these knobs set
each one's size. No torch here: the web form is built from this model.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from app.demos.base import DemoParams
from app.demos.peft_count.presets import LORA_TARGETS, PRESETS, Architecture, PresetName

SaveDtype = Literal["bf16", "fp16", "fp32"]
Recomputation = Literal["none", "selective", "full"]


class PeftParams(DemoParams):
    preset: PresetName = Field(
        default="llama-2-7b", description="Architecture (published hyperparameters) or custom"
    )
    # The custom_* fields describe the architecture when preset is "custom".
    custom_hidden: int = Field(default=2048, ge=64, le=65536, description="Custom: hidden size h")
    custom_layers: int = Field(default=16, ge=1, le=256, description="Custom: decoder layers L")
    custom_heads: int = Field(
        default=32, ge=1, le=512, description="Custom: attention heads (must divide hidden)"
    )
    custom_kv_heads: int = Field(
        default=8, ge=1, le=512, description="Custom: key/value heads (must divide heads)"
    )
    custom_intermediate: int = Field(
        default=8192, ge=1, le=262144, description="Custom: SwiGLU intermediate size I"
    )
    custom_vocab: int = Field(
        default=128256, ge=1, le=1_000_000, description="Custom: vocabulary size V"
    )
    custom_tied_embeddings: bool = Field(
        default=True, description="Custom: lm_head shares the token embedding"
    )
    custom_qkv_bias: bool = Field(default=False, description="Custom: biases on q, k and v")

    # PEFT's LoraConfig defaults: r=8, alpha=8; q_proj and v_proj for llama-family models.
    lora_r: int = Field(default=8, ge=1, le=4096, description="LoRA/QLoRA rank r")
    lora_alpha: float = Field(
        default=16.0,
        gt=0.0,
        le=65536.0,
        allow_inf_nan=False,
        description="LoRA alpha: scales ΔW = BA by alpha/r (changes no count)",
    )
    lora_target_modules: str = Field(
        default="q,v",
        description="LoRA/QLoRA targets, comma-separated among q, k, v, o, gate, up, down",
    )
    qlora_double_quant: bool = Field(
        default=True, description="QLoRA: quantize the fp32 absmax constants to 8 bits"
    )
    prompt_virtual_tokens: int = Field(
        default=20, ge=1, le=4096, description="Prompt Tuning: virtual tokens"
    )
    prefix_virtual_tokens: int = Field(
        default=20, ge=1, le=4096, description="Prefix Tuning: virtual tokens"
    )
    prefix_projection: bool = Field(
        default=False, description="Prefix Tuning: reparametrise through a two-layer MLP"
    )
    prefix_encoder_hidden: int = Field(
        default=512, ge=1, le=65536, description="Prefix Tuning: the MLP's hidden size"
    )
    ptuning_virtual_tokens: int = Field(
        default=20, ge=1, le=4096, description="P-tuning: virtual tokens"
    )
    ptuning_encoder_hidden: int = Field(
        default=128, ge=1, le=65536, description="P-tuning: hidden size of the MLP prompt encoder"
    )
    adapter_bottleneck: int = Field(
        default=64, ge=1, le=65536, description="Adapters: bottleneck size m"
    )
    save_dtype: SaveDtype = Field(default="bf16", description="dtype of the saved adapter file")
    batch_size: int = Field(default=4, ge=1, le=4096, description="Training batch size b")
    seq_len: int = Field(default=512, ge=1, le=131072, description="Training sequence length s")
    activation_recomputation: Recomputation = Field(
        default="none", description="Activation recomputation (Korthikanti et al. 2022)"
    )

    @field_validator("custom_heads")
    @classmethod
    def heads_divide_hidden(cls, heads: int, info: ValidationInfo) -> int:
        hidden = info.data.get("custom_hidden")
        if hidden is not None and hidden % heads:
            raise ValueError(f"must divide custom_hidden = {hidden}")
        return heads

    @field_validator("custom_kv_heads")
    @classmethod
    def kv_heads_divide_heads(cls, kv_heads: int, info: ValidationInfo) -> int:
        heads = info.data.get("custom_heads")
        if heads is not None and heads % kv_heads:
            raise ValueError(f"must divide custom_heads = {heads}")
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
            raise ValueError(
                f"unknown target {unknown[0]!r}; choose among {', '.join(LORA_TARGETS)}"
            )
        if not names:
            raise ValueError(f"name at least one of {', '.join(LORA_TARGETS)}")
        if info.data.get("preset") == "gpt3-175b" and "gate" in names:
            raise ValueError("gpt3-175b has no gate projection (its MLP is up, down)")
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
