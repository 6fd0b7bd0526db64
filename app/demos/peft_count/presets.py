"""Real architectures by their published hyperparameters, and the PEFT methods compared.

No torch here: the parameter model (and so the web form) reads these names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from app.demos.text import N_

Family = Literal["llama", "gpt3"]


@dataclass(frozen=True)
class Architecture:
    """A decoder-only transformer, enough to count every weight.

    ``llama``: token embedding, per layer RMSNorm → q/k/v/o (grouped-query attention,
    q/k/v bias only where ``qkv_bias``) → RMSNorm → SwiGLU MLP (gate, up, down), a final
    RMSNorm and an lm_head unless tied (LLaMA, Mistral and Qwen2 all share this shape).
    ``gpt3``: GPT-2's layout at GPT-3's size (Brown et al. 2020 keep GPT-2's design):
    learned position embeddings, LayerNorms with bias, d×d q/k/v/o with biases, a 4d
    GELU MLP (up, down) with biases, tied embeddings.
    """

    name: str
    hidden: int  # h, d_model
    layers: int  # L
    heads: int  # a, query heads
    kv_heads: int  # key/value heads (grouped-query attention when < heads)
    intermediate: int  # I, MLP width
    vocab: int  # V
    tied_embeddings: bool  # lm_head shares the token embedding
    qkv_bias: bool  # Qwen2 adds biases to q, k and v
    family: Family = "llama"
    positions: int = 0  # learned position embeddings (GPT-3: 2048); 0 for RoPE models

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads

    @property
    def q_dim(self) -> int:
        return self.heads * self.head_dim

    @property
    def kv_dim(self) -> int:
        """Width of k_proj and v_proj outputs: kv_heads · head_dim (smaller under GQA)."""
        return self.kv_heads * self.head_dim


PRESETS: dict[str, Architecture] = {
    "llama-2-7b": Architecture("LLaMA-2-7B", 4096, 32, 32, 32, 11008, 32000, False, False),
    "llama-2-13b": Architecture("LLaMA-2-13B", 5120, 40, 40, 40, 13824, 32000, False, False),
    "llama-2-70b": Architecture("LLaMA-2-70B", 8192, 80, 64, 8, 28672, 32000, False, False),
    "llama-65b": Architecture("LLaMA-65B", 8192, 80, 64, 64, 22016, 32000, False, False),
    "mistral-7b": Architecture("Mistral-7B-v0.1", 4096, 32, 32, 8, 14336, 32000, False, False),
    "qwen2.5-3b": Architecture("Qwen2.5-3B", 2048, 36, 16, 2, 11008, 151936, True, True),
    "qwen2.5-7b": Architecture("Qwen2.5-7B", 3584, 28, 28, 4, 18944, 152064, False, True),
    # GPT-3's vocabulary is GPT-2's BPE (50257) and its context 2048 (Brown et al. 2020).
    "gpt3-175b": Architecture(
        "GPT-3 175B", 12288, 96, 96, 96, 4 * 12288, 50257, True, True, "gpt3", 2048
    ),
}

# Totals from the model cards / config counts (../shared/reference/architectures.md).
# GPT-3 has no exact published total ("175B"); ours is ~174.6B, so it has no entry.
PUBLISHED_TOTALS: dict[str, int] = {
    "llama-2-7b": 6_738_415_616,
    "llama-2-13b": 13_015_864_320,
    "llama-2-70b": 68_976_648_192,
    "llama-65b": 65_285_660_672,
    "mistral-7b": 7_241_732_096,
    "qwen2.5-3b": 3_085_938_688,
    "qwen2.5-7b": 7_615_616_512,
}

# The architectures of PRESETS: one Literal, shared with the qlora_memory demo (a test
# keeps it equal to PRESETS' keys).
ArchitectureName = Literal[
    "llama-2-7b",
    "llama-2-13b",
    "llama-2-70b",
    "llama-65b",
    "mistral-7b",
    "qwen2.5-3b",
    "qwen2.5-7b",
    "gpt3-175b",
]
PresetName = Literal[ArchitectureName, "custom"]

# The order of the charts' x axis, and the suffix of every named figure.
METHODS: tuple[str, ...] = (
    "full",
    "lora",
    "qlora",
    "prompt",
    "prefix",
    "ptuning",
    "adapter_houlsby",
    "adapter_pfeiffer",
    "ia3",
)

# English msgids (N_): the page translates them ("Full fine-tuning" -> 全量微调).
METHOD_TITLES: dict[str, str] = {
    "full": N_("Full fine-tuning"),
    "lora": N_("LoRA"),
    "qlora": N_("QLoRA"),
    "prompt": N_("Prompt Tuning"),
    "prefix": N_("Prefix Tuning"),
    "ptuning": N_("P-tuning"),
    "adapter_houlsby": N_("Adapter (Houlsby)"),
    "adapter_pfeiffer": N_("Adapter (Pfeiffer)"),
    "ia3": N_("(IA)³"),
}

# Projections LoRA may target, in canonical order; HF names them <name>_proj.
LORA_TARGETS: tuple[str, ...] = ("q", "k", "v", "o", "gate", "up", "down")

# (IA)³ rescales keys, values and the FFN's inner activations (Liu et al. 2022), which is
# PEFT's default for llama/mistral: k_proj and v_proj outputs, down_proj's input.
IA3_TARGETS: tuple[str, ...] = ("k", "v", "down")
IA3_FEEDFORWARD: tuple[str, ...] = ("down",)
