"""The torch side of the loss-spikes demo: a tiny character-level GPT, the batches it
trains on (one of them corrupted, if asked), and the training loop with its switches:
learning rate and warmup, gradient clipping, fp32 / bf16 / fp16 autocast with or without
a gradient scaler, and the guard that skips a batch whose loss spikes.

This module imports torch at the top, so only ``demo.run`` imports it, lazily: the web
process imports ``app.demos.loss_spikes`` for the catalogue and must not load torch.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from app.demos.loss_spikes.detector import SpikeDetector
from app.demos.loss_spikes.logs import ArmLog
from app.demos.loss_spikes.params import ArmConfig

AUTOCAST_DTYPE = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp16_scaler": torch.float16}


def peak(*tensors: torch.Tensor) -> float:
    """max |t| over ``tensors`` (aminmax: one pass, |t| never materialised). inf if any
    overflowed, even when a later one turned NaN from it; else NaN if any holds a NaN."""
    return _largest([abs(v.item()) for t in tensors for v in t.detach().aminmax()])


def _largest(values: list[float]) -> float:
    """max(values), with inf winning over NaN (Python's max depends on the order)."""
    if any(math.isinf(v) for v in values):
        return math.inf
    return math.nan if any(math.isnan(v) for v in values) else max(values)


class Block(nn.Module):
    """Pre-LayerNorm transformer block (as in GPT-2 / nanoGPT): x + attn(LN x), then
    x + MLP(LN x). Attention is written out so that its logits can be measured."""

    def __init__(self, d_model: int, n_head: int) -> None:
        super().__init__()
        self.n_head = n_head
        self.ln_1 = nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.ln_2 = nn.LayerNorm(d_model)
        self.fc = nn.Linear(d_model, 4 * d_model)
        self.fc_out = nn.Linear(4 * d_model, d_model)
        self.peak = 0.0  # largest |matmul output| of the last forward pass

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        head_dim = C // self.n_head
        qkv = self.qkv(self.ln_1(x))  # (B, T, 3C)
        q, k, v = (
            t.view(B, T, self.n_head, head_dim).transpose(1, 2) for t in qkv.split(C, dim=2)
        )  # (B, heads, T, head_dim) each
        # q·k is a matmul of its own, before the 1/√d scaling (as in nanoGPT's explicit
        # path; fused kernels scale q first): in fp16 it overflows once |q·k| > 65504.
        qk = q @ k.transpose(-2, -1)  # (B, heads, T, T)
        scores = qk / math.sqrt(head_dim)
        causal = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
        att = scores.masked_fill(~causal, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)  # (B, T, C)
        attn_out = self.proj(y)  # (B, T, C)
        hidden = self.fc(self.ln_2(x + attn_out))  # (B, T, 4C)
        mlp_out = self.fc_out(F.gelu(hidden))  # (B, T, C)
        # Under autocast these are the fp16/bf16 results: the values that overflow first.
        self.peak = peak(qkv, qk, attn_out, hidden, mlp_out)
        out: torch.Tensor = x + attn_out + mlp_out
        return out


class TinyGPT(nn.Module):
    """Token + position embeddings, ``n_layer`` blocks, a final LayerNorm and the
    vocabulary head: next-character logits for every position."""

    def __init__(
        self, vocab_size: int, context: int, d_model: int, n_layer: int, n_head: int
    ) -> None:
        super().__init__()
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(context, d_model)
        self.blocks = nn.ModuleList(Block(d_model, n_head) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size)
        self.peak_logit = 0.0  # largest |output logit| of the last forward pass

    def reset_parameters(self, generator: torch.Generator) -> None:
        """GPT-2's init (weights N(0, 0.02), biases 0, LayerNorm 1 and 0), drawn from
        ``generator`` so that both arms of a run start from the same weights."""
        for module in self.modules():
            if isinstance(module, nn.Linear | nn.Embedding):
                with torch.no_grad():
                    module.weight.copy_(
                        0.02 * torch.randn(module.weight.shape, generator=generator)
                    )
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        T = idx.shape[1]
        positions = torch.arange(T, device=idx.device)
        x = self.tok_emb(idx) + self.pos_emb(positions)  # (B, T, C)
        for block in self.blocks:
            x = block(x)
        logits: torch.Tensor = self.head(self.ln_f(x))  # (B, T, vocab)
        self.peak_logit = peak(logits)
        return logits

    def peak_activation(self) -> float:
        """The largest |value| a matmul produced in the last forward pass: q/k/v, q·k,
        the attention and MLP outputs, the output logits. Under fp16 autocast each is an
        fp16 tensor, so one past 65504 is inf (and what follows it NaN)."""
        return _largest([self.peak_logit, *(b.peak for b in self.blocks if isinstance(b, Block))])


def draw_batches(
    ids: torch.Tensor,
    steps: int,
    batch: int,
    context: int,
    generator: torch.Generator,
    corrupt_steps: range,
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The (input, target) windows of every step, drawn once so that both arms see the
    same data in the same order. A corrupted batch (the 1-based steps in
    ``corrupt_steps``) is characters drawn uniformly from the vocabulary: text decoded
    from the wrong encoding or a binary blob, with no structure a model can predict."""
    starts = torch.randint(0, len(ids) - context, (steps, batch), generator=generator)
    offsets = torch.arange(context + 1)  # (T + 1,)
    batches = []
    for step in range(1, steps + 1):
        windows = ids[starts[step - 1, :, None] + offsets]  # (B, T + 1)
        if step in corrupt_steps:
            high = int(ids.max().item()) + 1
            windows = torch.randint(0, high, windows.shape, generator=generator)
        batches.append((windows[:, :-1], windows[:, 1:]))  # (B, T) inputs, (B, T) targets
    return batches


def learning_rate(step: int, cfg: ArmConfig) -> float:
    """Linear warmup from lr/warmup to lr over ``warmup_steps`` steps, then constant."""
    if cfg.warmup_steps > 0 and step <= cfg.warmup_steps:
        return cfg.lr * step / cfg.warmup_steps
    return cfg.lr


def _flat(model: nn.Module) -> torch.Tensor:
    return torch.cat([q.detach().reshape(-1) for q in model.parameters()]).float()


def train_arm(
    model: TinyGPT,
    batches: list[tuple[torch.Tensor, torch.Tensor]],
    cfg: ArmConfig,
    device: str,
    on_step: Callable[[int, float], None],
) -> ArmLog:
    """AdamW over ``batches`` with the arm's switches; every step is logged, including the
    loss and gradient norm of a batch the guard then skips."""
    log = ArmLog()
    params = list(model.parameters())
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.1)
    # GradScaler multiplies the loss by its scale (2^16 to start) so small fp16 gradients
    # do not flush to zero; a step whose scaled gradients overflow is skipped and the
    # scale halved. Disabled, it is a pass-through with scale 1.
    scaler = torch.amp.GradScaler(device, enabled=cfg.precision == "fp16_scaler")
    detector = SpikeDetector(cfg.spike_k, cfg.median_window)
    dtype = AUTOCAST_DTYPE.get(cfg.precision)

    def autocast() -> contextlib.AbstractContextManager[None]:
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=device, dtype=dtype)

    for step, (x, y) in enumerate(batches, start=1):
        x, y = x.to(device), y.to(device)
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, cfg)
        before = _flat(model)
        with autocast():
            logits = model(x)  # (B, T, vocab)
        # The loss in fp32, as mixed precision recipes do: log-softmax in fp16 loses digits.
        loss = F.cross_entropy(logits.float().flatten(0, 1), y.flatten())
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()  # type: ignore[no-untyped-call]
        scaler.unscale_(optimizer)  # gradients at their true size before measuring them
        grads = [q.grad for q in params if q.grad is not None]
        total_norm = torch.nn.utils.get_total_norm(grads)  # ‖g‖ over all parameters
        if cfg.clip > 0:
            torch.nn.utils.clip_grads_with_norm_(params, cfg.clip, total_norm)
        grad_norm = total_norm.item()
        loss_value = loss.item()
        spike = detector.observe(loss_value)
        skip = cfg.skip_guard and (spike or not math.isfinite(grad_norm))
        scale = scaler.get_scale()
        if not skip:
            scaler.step(optimizer)  # skips the step by itself on inf/NaN gradients
        scaler.update()  # after a skip too: it halves the scale if unscale_ found inf
        log.losses.append(loss_value)
        log.grad_norms.append(grad_norm)
        log.spikes.append(spike)
        log.skipped.append(skip)
        log.scaler_skipped.append(scaler.is_enabled() and scaler.get_scale() < scale)
        log.update_norms.append((_flat(model) - before).norm().item())
        log.peak_activations.append(model.peak_activation())
        log.scales.append(scale)
        on_step(step, loss_value)
    log.final_scale = scaler.get_scale()  # after the last update: the scale the run ends at
    log.weights_finite = bool(torch.isfinite(_flat(model)).all())
    return log


def build_model(
    vocab_size: int, context: int, d_model: int, n_layer: int, n_head: int, seed: int
) -> TinyGPT:
    model = TinyGPT(vocab_size, context, d_model, n_layer, n_head)
    model.reset_parameters(torch.Generator().manual_seed(seed))
    return model
