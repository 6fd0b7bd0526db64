"""Closed-form parameter counts, saved-file sizes, training memory and inference
overhead for each method: plain integer arithmetic, each with its formula as a string,
so the demo can show the formula beside the count the meta-device model gives.

Symbols: h hidden, L layers, a heads, kv = kv_heads·head_dim, I intermediate, V vocab,
r LoRA rank, n virtual tokens, e encoder hidden size, m adapter bottleneck.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from app.demos.peft_count.params import PeftParams
from app.demos.peft_count.presets import IA3_TARGETS, Architecture

BYTES = {"bf16": 2, "fp16": 2, "fp32": 4}
GB = 10**9  # decimal gigabytes, as the figure names say
NF4_BLOCK = 64  # QLoRA: one absmax per 64 weights
DQ_BLOCK = 256  # double quantization: the absmax values in blocks of 256


@dataclass(frozen=True)
class Linear:
    d_in: int
    d_out: int
    bias: bool

    @property
    def numel(self) -> int:
        return self.d_in * self.d_out + (self.d_out if self.bias else 0)


def layer_linears(arch: Architecture) -> dict[str, Linear]:
    """Each decoder layer's projections, by the short names LoRA targets."""
    h, kv, q = arch.hidden, arch.kv_dim, arch.q_dim
    if arch.family == "gpt3":
        # GPT-2 style: every projection has a bias; the MLP is up (c_fc), down (c_proj).
        return {
            "q": Linear(h, h, True),
            "k": Linear(h, h, True),
            "v": Linear(h, h, True),
            "o": Linear(h, h, True),
            "up": Linear(h, arch.intermediate, True),
            "down": Linear(arch.intermediate, h, True),
        }
    return {
        "q": Linear(h, q, arch.qkv_bias),
        "k": Linear(h, kv, arch.qkv_bias),
        "v": Linear(h, kv, arch.qkv_bias),
        "o": Linear(q, h, False),
        "gate": Linear(h, arch.intermediate, False),
        "up": Linear(h, arch.intermediate, False),
        "down": Linear(arch.intermediate, h, False),
    }


def norm_numel(arch: Architecture) -> int:
    """RMSNorm has a weight; GPT-3's LayerNorm a weight and a bias."""
    return 2 * arch.hidden if arch.family == "gpt3" else arch.hidden


def base_total(arch: Architecture) -> int:
    h, V = arch.hidden, arch.vocab
    per_layer = sum(lin.numel for lin in layer_linears(arch).values()) + 2 * norm_numel(arch)
    lm_head = 0 if arch.tied_embeddings else V * h
    return V * h + arch.positions * h + arch.layers * per_layer + norm_numel(arch) + lm_head


def base_total_formula(arch: Architecture) -> str:
    """V·h for the embedding (twice if untied), L layers of projections and two norms,
    the final norm; with the numbers substituted."""
    h, V, L = arch.hidden, arch.vocab, arch.layers
    projections = sum(lin.numel for lin in layer_linears(arch).values())
    norm = norm_numel(arch)
    # TeX: W one layer's projection weights, n one norm's parameters, T learned positions.
    embed, embed_n = ("Vh", f"{V}·{h}") if arch.tied_embeddings else ("2Vh", f"2·{V}·{h}")
    positions, positions_n = (" + Th", f" + {arch.positions}·{h}") if arch.positions else ("", "")
    return (
        f"${embed}{positions} + L(W + 2n) + n$ = {embed_n}{positions_n} + "
        f"{L}·({projections:,} + 2·{norm}) + {norm} = {base_total(arch):,}"
    )


@dataclass(frozen=True)
class Count:
    """One method's parameters: trainable, all (PEFT's "all params": the base plus what
    the method adds), the parameters in the saved file, and the formula."""

    trainable: int
    total: int
    saved: int
    formula: str


# The formulas' symbolic parts, in TeX (the page renders them as math).
LORA_TEX = r"L \cdot r \cdot \sum (d_\mathrm{in} + d_\mathrm{out})"
KV_TEX = (
    r"n \cdot L \cdot 2 \cdot d_\mathrm{kv}",
    r"n d_\mathrm{kv} + (d_\mathrm{kv} e + e) + (2 e L d_\mathrm{kv} + 2 L d_\mathrm{kv})",
)
IA3_TEX = r"L (d_\mathrm{kv} + d_\mathrm{kv} + I)"


def lora_r_d_plus_k(p: PeftParams) -> int:
    """r·(d_in + d_out) summed over every targeted matrix in every layer."""
    arch, linears = p.architecture, layer_linears(p.architecture)
    return arch.layers * p.lora_r * sum(linears[t].d_in + linears[t].d_out for t in p.targets)


def full_dk(p: PeftParams) -> int:
    """d_in·d_out summed over the same matrices: what full fine-tuning of them trains."""
    arch, linears = p.architecture, layer_linears(p.architecture)
    return arch.layers * sum(linears[t].d_in * linears[t].d_out for t in p.targets)


def prefix_trainable(p: PeftParams) -> tuple[int, str]:
    arch, n, e = p.architecture, p.prefix_virtual_tokens, p.prefix_encoder_hidden
    kv = arch.kv_dim  # PEFT sizes the prefix by the key/value width under GQA
    out = arch.layers * 2 * kv
    if not p.prefix_projection:
        return n * out, f"${KV_TEX[0]}$ = {n}·{arch.layers}·2·{kv}"
    # Embedding (n, kv) → Linear(kv, e) → tanh → Linear(e, L·2·kv), both with bias.
    count = n * kv + (kv * e + e) + (e * out + out)
    return (
        count,
        f"${KV_TEX[1]}$ = {n}·{kv} + ({kv}·{e} + {e}) + ({e}·{out} + {out})",
    )


def ptuning_trainable(p: PeftParams) -> tuple[int, str]:
    h, n, e = p.architecture.hidden, p.ptuning_virtual_tokens, p.ptuning_encoder_hidden
    # PEFT's MLP prompt encoder: Linear(h, e) → ReLU → Linear(e, e) → ReLU → Linear(e, h).
    count = n * h + (h * e + e) + (e * e + e) + (e * h + h)
    return count, (
        f"$nh + (he + e) + (e^2 + e) + (eh + h)$ = {n}·{h} + ({h}·{e} + {e}) + ({e}·{e} + {e}) "
        f"+ ({e}·{h} + {h})"
    )


def adapter_trainable(p: PeftParams, per_layer: int) -> tuple[int, str]:
    h, L, m = p.architecture.hidden, p.architecture.layers, p.adapter_bottleneck
    # Down-projection h→m and up-projection m→h, both with bias (Houlsby et al. 2019).
    count = L * per_layer * (2 * h * m + m + h)
    return (
        count,
        f"$L \\cdot {per_layer} \\cdot (2hm + m + h)$ = {L}·{per_layer}·(2·{h}·{m} + {m} + {h})",
    )


def ia3_trainable(p: PeftParams) -> tuple[int, str]:
    arch, linears = p.architecture, layer_linears(p.architecture)
    # A vector per target: the output width for k and v, the input width for down.
    widths = [linears[t].d_in if t == "down" else linears[t].d_out for t in IA3_TARGETS]
    count = arch.layers * sum(widths)
    return count, f"${IA3_TEX}$ = {arch.layers}·({' + '.join(map(str, widths))})"


def method_counts(p: PeftParams) -> dict[str, Count]:
    arch = p.architecture
    base = base_total(arch)
    h, L = arch.hidden, arch.layers
    linears = layer_linears(arch)
    lora = lora_r_d_plus_k(p)
    sums = " + ".join(f"({linears[t].d_in}+{linears[t].d_out})" for t in p.targets)
    lora_formula = f"${LORA_TEX}$ ({', '.join(p.targets)}) = {L}·{p.lora_r}·({sums})"
    prefix, prefix_formula = prefix_trainable(p)
    ptuning, ptuning_formula = ptuning_trainable(p)
    houlsby, houlsby_formula = adapter_trainable(p, 2)
    pfeiffer, pfeiffer_formula = adapter_trainable(p, 1)
    ia3, ia3_formula = ia3_trainable(p)
    n_prompt, n_prefix, n_pt = (
        p.prompt_virtual_tokens,
        p.prefix_virtual_tokens,
        p.ptuning_virtual_tokens,
    )

    def added(trainable: int, formula: str, saved: int | None = None) -> Count:
        saved_params = trainable if saved is None else saved
        return Count(trainable, base + trainable, saved_params, f"{formula} = {trainable:,}")

    return {
        "full": Count(base, base, base, f"{base:,}"),
        "lora": added(lora, lora_formula),
        "qlora": added(lora, lora_formula),
        "prompt": added(n_prompt * h, f"$nh$ = {n_prompt}·{h}"),
        # PEFT saves the prompt encoder's output, not the reparametrisation MLP.
        "prefix": added(prefix, prefix_formula, saved=n_prefix * L * 2 * arch.kv_dim),
        "ptuning": added(ptuning, ptuning_formula, saved=n_pt * h),
        "adapter_houlsby": added(houlsby, houlsby_formula),
        "adapter_pfeiffer": added(pfeiffer, pfeiffer_formula),
        "ia3": added(ia3, ia3_formula),
    }


def nf4_bytes(numel: int, double_quant: bool) -> int:
    """One matrix in NF4: 4 bits a weight plus its block constants (Dettmers et al. 2023):
    an fp32 absmax per 64 weights, or with double quantization an 8-bit absmax per 64
    plus an fp32 scale per 256 absmax values and one fp32 offset (their mean)."""
    blocks = math.ceil(numel / NF4_BLOCK)
    constants = blocks + 4 * math.ceil(blocks / DQ_BLOCK) + 4 if double_quant else 4 * blocks
    return math.ceil(numel / 2) + constants


@dataclass(frozen=True)
class Memory:
    """Training memory in bytes, by what holds it."""

    weights: int
    gradients: int
    optimizer: int
    activations: int

    @property
    def total(self) -> int:
        return self.weights + self.gradients + self.optimizer + self.activations


ACTIVATION_SOURCE = (
    "Korthikanti et al. 2022, Reducing Activation Recomputation in Large Transformer "
    "Models, §4 eq. 1 and Table 2 (16-bit activations, no parallelism, per layer)"
)


def activation_bytes(p: PeftParams, method: str) -> tuple[int, str]:
    """Stored activations of all L layers. PEFT methods still backpropagate through every
    frozen layer, so they store the same activations; prompt and P-tuning lengthen the
    sequence by n, prefix tuning lengthens only the keys (scores are s×(s+n))."""
    arch, b, s = p.architecture, p.batch_size, p.seq_len
    h, a, L = arch.hidden, arch.heads, arch.layers
    n = {"prompt": p.prompt_virtual_tokens, "ptuning": p.ptuning_virtual_tokens}.get(method, 0)
    s_q = s + n  # query length
    s_k = s_q + (p.prefix_virtual_tokens if method == "prefix" else 0)  # key length
    if p.activation_recomputation == "full":
        return L * 2 * s_q * b * h, "$2Lsbh$"
    if p.activation_recomputation == "selective":
        return L * 34 * s_q * b * h, "$34Lsbh$"
    # s·b·h·(34 + 5·a·s/h) = 34·s·b·h + 5·a·s²·b, the second term from the s×s scores.
    per_layer = 34 * s_q * b * h + 5 * a * s_q * s_k * b
    return L * per_layer, "$Lsbh(34 + 5as/h)$"


def training_memory(p: PeftParams, method: str, count: Count) -> Memory:
    """Mixed-precision AdamW. Full fine-tuning: 16-bit weights and gradients, an fp32
    master copy and two fp32 moments, 16 bytes a parameter (ZeRO, Rajbhandari et al.
    2020). PEFT methods: the frozen base in 16 bits (QLoRA: NF4), the trainable
    parameters in fp32 (PEFT's autocast_adapter_dtype default) with fp32 gradients and
    two fp32 moments, also 16 bytes a trainable parameter."""
    arch = p.architecture
    activations, _ = activation_bytes(p, method)
    base = base_total(arch)
    t = count.trainable
    if method == "full":
        return Memory(2 * base, 2 * base, (4 + 8) * base, activations)
    frozen = 2 * base
    if method == "qlora":
        # bitsandbytes quantizes the layers' linear weights; embeddings, lm_head, norms
        # and biases stay in 16 bits.
        linears = layer_linears(arch).values()
        weights = arch.layers * sum(lin.d_in * lin.d_out for lin in linears)
        per_layer = [nf4_bytes(lin.d_in * lin.d_out, p.qlora_double_quant) for lin in linears]
        frozen = arch.layers * sum(per_layer) + 2 * (base - weights)
    return Memory(frozen + 4 * t, 4 * t, 8 * t, activations)


def saved_bytes(p: PeftParams, count: Count) -> int:
    """The adapter file: saved parameters × bytes of the saved dtype (no metadata)."""
    return count.saved * BYTES[p.save_dtype]


def inference_extra(p: PeftParams, method: str) -> tuple[int, int, int]:
    """(extra KV-cache tokens, extra KV entries, extra sequential layers) at inference.
    Virtual tokens sit in every layer's cache; adapters are extra modules in the path;
    LoRA and (IA)³ merge into the weights (QLoRA's into a dequantized copy)."""
    arch = p.architecture
    n = {
        "prompt": p.prompt_virtual_tokens,
        "prefix": p.prefix_virtual_tokens,
        "ptuning": p.ptuning_virtual_tokens,
    }.get(method, 0)
    layers = {"adapter_houlsby": 2 * arch.layers, "adapter_pfeiffer": arch.layers}.get(method, 0)
    return n, n * arch.layers * 2 * arch.kv_dim, layers
