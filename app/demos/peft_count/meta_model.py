"""The model's module tree on torch's ``meta`` device, each method applied to it, and
the parameters counted: shapes without storage, so LLaMA-2-70B costs nothing.

The tree mirrors Hugging Face's names (``model.layers.0.self_attn.q_proj``) and is built
from stock modules (``nn.ModuleDict``, ``nn.Linear``, ``nn.RMSNorm``): only parameters are
counted, nothing runs forward, and no class here needs torch at import time (the web
process imports the demo package and must not load torch).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.demos.peft_count.formulas import layer_linears
from app.demos.peft_count.params import PeftParams
from app.demos.peft_count.presets import IA3_FEEDFORWARD, IA3_TARGETS, Architecture

if TYPE_CHECKING:
    from torch import nn

ATTENTION = ("q", "k", "v", "o")


def _norm(arch: Architecture) -> nn.Module:
    from torch import nn

    if arch.family == "gpt3":
        return nn.LayerNorm(arch.hidden)  # weight and bias
    return nn.RMSNorm(arch.hidden)  # weight only


def _decoder_layer(arch: Architecture) -> nn.Module:
    from torch import nn

    linears = {
        name: nn.Linear(lin.d_in, lin.d_out, bias=lin.bias)
        for name, lin in layer_linears(arch).items()
    }
    attention = {f"{name}_proj": linears[name] for name in ATTENTION}
    mlp = {f"{name}_proj": module for name, module in linears.items() if name not in ATTENTION}
    return nn.ModuleDict(
        {
            "input_layernorm": _norm(arch),
            "self_attn": nn.ModuleDict(attention),
            "post_attention_layernorm": _norm(arch),
            "mlp": nn.ModuleDict(mlp),
        }
    )


def build_base(arch: Architecture) -> nn.Module:
    """The decoder on the meta device: embeddings, L layers, final norm, lm_head unless
    tied (a tied head reuses the embedding matrix, so it adds no parameters)."""
    import torch
    from torch import nn

    with torch.device("meta"):
        model = nn.ModuleDict(
            {
                "embed_tokens": nn.Embedding(arch.vocab, arch.hidden),
                "layers": nn.ModuleList(_decoder_layer(arch) for _ in range(arch.layers)),
                "norm": _norm(arch),
            }
        )
        if arch.positions:
            model["embed_positions"] = nn.Embedding(arch.positions, arch.hidden)
        if not arch.tied_embeddings:
            model["lm_head"] = nn.Linear(arch.hidden, arch.vocab, bias=False)
    return nn.ModuleDict({"model": model})


def _projection(layer: nn.Module, name: str) -> nn.Linear:
    from torch import nn

    block = "self_attn" if name in ATTENTION else "mlp"
    module = layer.get_submodule(f"{block}.{name}_proj")
    assert isinstance(module, nn.Linear)
    return module


def _layers(root: nn.Module) -> list[nn.Module]:
    return list(root.get_submodule("model.layers").children())


def _attach_lora(root: nn.Module, p: PeftParams) -> None:
    """ΔW = B A with A (r × d_in) and B (d_out × r), no biases. QLoRA trains the same A and
    B; only the frozen base is stored in 4 bits."""
    from torch import nn

    for layer in _layers(root):
        for target in p.targets:
            base = _projection(layer, target)
            base.add_module("lora_A", nn.Linear(base.in_features, p.lora_r, bias=False))
            base.add_module("lora_B", nn.Linear(p.lora_r, base.out_features, bias=False))


def _prefix_encoder(arch: Architecture, p: PeftParams) -> nn.Module:
    from torch import nn

    n, e, L, kv = p.prefix_virtual_tokens, p.prefix_encoder_hidden, arch.layers, arch.kv_dim
    if p.prefix_projection:
        # Trained through an MLP for stability (Li & Liang 2021); only its output, the
        # n × 2·L·kv prefix, is kept for inference.
        transform = nn.Sequential(nn.Linear(kv, e), nn.Tanh(), nn.Linear(e, L * 2 * kv))
        return nn.ModuleDict({"embedding": nn.Embedding(n, kv), "transform": transform})
    return nn.ModuleDict({"embedding": nn.Embedding(n, L * 2 * kv)})


def _ptuning_encoder(arch: Architecture, p: PeftParams) -> nn.Module:
    from torch import nn

    h, n, e = arch.hidden, p.ptuning_virtual_tokens, p.ptuning_encoder_hidden
    mlp_head = nn.Sequential(
        nn.Linear(h, e), nn.ReLU(), nn.Linear(e, e), nn.ReLU(), nn.Linear(e, h)
    )
    return nn.ModuleDict({"embedding": nn.Embedding(n, h), "mlp_head": mlp_head})


def _attach_adapters(root: nn.Module, arch: Architecture, method: str, p: PeftParams) -> None:
    """Houlsby: after attention and after the MLP; Pfeiffer: after the MLP only."""
    from torch import nn

    h, m = arch.hidden, p.adapter_bottleneck
    places = ("attn", "mlp") if method == "adapter_houlsby" else ("mlp",)
    for layer in _layers(root):
        for place in places:
            adapter = nn.Sequential(nn.Linear(h, m), nn.GELU(), nn.Linear(m, h))
            layer.add_module(f"adapter_{place}", adapter)


def _attach_ia3(root: nn.Module) -> None:
    import torch
    from torch import nn

    for layer in _layers(root):
        for target in IA3_TARGETS:
            base = _projection(layer, target)
            # PEFT's shapes: (1, d_in) scales a feed-forward input, (d_out, 1) an output;
            # both start at ones so the model is unchanged at step 0.
            shape = (1, base.in_features) if target in IA3_FEEDFORWARD else (base.out_features, 1)
            base.register_parameter("ia3_l", nn.Parameter(torch.ones(shape)))


def apply_method(root: nn.Module, arch: Architecture, method: str, p: PeftParams) -> None:
    """Freeze the base (except for full fine-tuning) and attach what ``method`` trains, as
    PEFT does: new modules are created trainable, base parameters are frozen."""
    import torch
    from torch import nn

    if method == "full":
        return
    root.requires_grad_(False)
    with torch.device("meta"):
        if method in ("lora", "qlora"):
            _attach_lora(root, p)
        elif method == "prompt":
            root.add_module("prompt_encoder", nn.Embedding(p.prompt_virtual_tokens, arch.hidden))
        elif method == "prefix":
            root.add_module("prompt_encoder", _prefix_encoder(arch, p))
        elif method == "ptuning":
            root.add_module("prompt_encoder", _ptuning_encoder(arch, p))
        elif method in ("adapter_houlsby", "adapter_pfeiffer"):
            _attach_adapters(root, arch, method, p)
        elif method == "ia3":
            _attach_ia3(root)
        else:
            raise ValueError(f"unknown method {method!r}")


def count_parameters(root: nn.Module) -> tuple[int, int]:
    """(trainable, all), as PEFT's ``get_nb_trainable_parameters``: every distinct
    Parameter once (so a tied lm_head is not counted twice)."""
    trainable = total = 0
    for param in root.parameters():
        total += param.numel()
        if param.requires_grad:
            trainable += param.numel()
    return trainable, total


def meta_count(p: PeftParams, method: str) -> tuple[int, int]:
    """Build the base on ``meta``, apply ``method``, count (trainable, all)."""
    arch = p.architecture
    root = build_base(arch)
    apply_method(root, arch, method, p)
    return count_parameters(root)
