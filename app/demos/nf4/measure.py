"""The NF4 demo's measurements (torch): the code against its reference, packing and bits
per parameter from the stored tensors, the error of NF4, INT4 and FP4 on N(0, 1) weights
and on a small MLP trained here, and the bitsandbytes cross-check.

``nf4_demo.run`` imports this lazily; ``nf4_report`` turns the numbers into the result.
"""

from __future__ import annotations

import copy

import torch

from app.demos.base import RunContext
from app.demos.nf4.bnb_check import compare_with_bnb, load_bnb
from app.demos.nf4.checks import BLOCKSIZES, Histogram, NF4Measured
from app.demos.nf4.formats import code_of
from app.demos.nf4.model import MLP, make_task, train
from app.demos.nf4.model import evaluate as evaluate_model
from app.demos.nf4.params import FORMATS, NF4Params
from app.demos.nf4.quant import (
    NF4_REFERENCE,
    block_absmax,
    dequantize_absmax,
    dequantize_blockwise,
    fake_quantize,
    half_max_gap,
    pack_4bit,
    quantize_blockwise,
    unpack_4bit,
)

D_IN = 8  # the MLP's input features
CLASSES = 4
DEPTH = 2  # hidden layers: weights d_in×h, h×h, h×classes
N_TRAIN = 4096  # full-batch training rows
N_TEST = 2048
HIST_BINS = 61


def histogram(weights: torch.Tensor, typical_absmax: float) -> Histogram:
    """Share of the weights per bin over ±1.25 × the typical block absmax."""
    edge = 1.25 * typical_absmax
    counts = torch.histc(weights.float().cpu(), bins=HIST_BINS, min=-edge, max=edge)
    width = 2 * edge / HIST_BINS
    centers = [-edge + (i + 0.5) * width for i in range(HIST_BINS)]
    return Histogram(centers, (counts / weights.numel()).tolist(), typical_absmax)


def median_block_absmax(weights: list[torch.Tensor], blocksize: int) -> float:
    absmax = [block_absmax(quantize_blockwise(w, code_of("nf4"), blocksize)) for w in weights]
    return torch.cat(absmax).median().item()


def measure_normal(p: NF4Params, m: NF4Measured, x: torch.Tensor, gen: torch.Generator) -> None:
    """Code, packing, bits per parameter, errors of the three formats on N(0, 1)."""
    m.codes = {fmt: code_of(fmt).tolist() for fmt in FORMATS}
    m.code_diff_reference = (code_of("nf4") - torch.tensor(NF4_REFERENCE)).abs().max().item()
    code = code_of("nf4").to(x.device)

    q = quantize_blockwise(x, code, p.blocksize)
    m.packed_bytes = q.packed.numel() * q.packed.element_size()
    m.packed_dtype_uint8 = q.packed.dtype == torch.uint8
    # Packing round trip on every index, independent of the quantizer: a random sequence.
    indices = torch.randint(0, 16, (x.numel(),), generator=gen)  # drawn on the CPU
    packed = pack_4bit(indices.to(x.device))  # (n / 2,) uint8
    m.pack_roundtrip_ok = torch.equal(unpack_4bit(packed, x.numel()).cpu(), indices)

    x_hat = dequantize_blockwise(q)
    assert q.absmax is not None
    absmax_per_value = q.absmax.repeat_interleave(p.blocksize)  # (n,)
    bound = absmax_per_value * half_max_gap(code)
    m.error_over_bound = ((x_hat - x).abs() / bound).max().item()

    for blocksize in BLOCKSIZES:
        for dq in (False, True):
            stored = quantize_blockwise(x, code, blocksize, double_quant=dq)
            m.bits[(blocksize, dq)] = stored.bits_per_param()
    q_dq = quantize_blockwise(x, code, p.blocksize, double_quant=True)
    assert q_dq.dq is not None
    m.dq_absmax_max_rel_err = (
        ((dequantize_absmax(q_dq.dq) - q.absmax) / q.absmax).abs().max().item()
    )

    m.variance_normal = x.var().item()
    for fmt in FORMATS:
        fmt_code = code_of(fmt).to(x.device)
        m.mse_normal[fmt] = (fake_quantize(x, fmt_code, p.blocksize) - x).square().mean().item()
        m.mse_by_blocksize[fmt] = [
            (fake_quantize(x, fmt_code, b) - x).square().mean().item() for b in BLOCKSIZES
        ]
    m.mse_normal["nf4_dq"] = (dequantize_blockwise(q_dq) - x).square().mean().item()
    m.hist_normal = histogram(x, median_block_absmax([x], p.blocksize))

    m.bnb = compare_with_bnb(load_bnb(), x, q, p.blocksize)


def excess_kurtosis(w: torch.Tensor) -> float:
    """E[z⁴] − 3 of the standardised values: 0 for a normal, −1.2 for a uniform."""
    z = (w - w.mean()) / w.std()
    return (z**4).mean().item() - 3


def measure_trained(p: NF4Params, m: NF4Measured, ctx: RunContext, gen: torch.Generator) -> None:
    """Train the MLP, then quantize every weight matrix with each format: the MSE of the
    weights and the model's test loss and accuracy afterwards (biases stay fp32)."""
    teacher = MLP(D_IN, p.hidden, CLASSES, DEPTH, gen, p.init)
    X = torch.randn(N_TRAIN + N_TEST, D_IN, generator=gen)  # (N, d_in), drawn on the CPU
    task = make_task(teacher, X, N_TRAIN).to(ctx.device)
    model = MLP(D_IN, p.hidden, CLASSES, DEPTH, gen, p.init).to(ctx.device)

    def on_step(step: int, loss: float) -> None:
        if step % 10 == 0 or step == p.steps - 1:
            ctx.progress(1 + step, p.steps + 2, loss=loss)

    m.train_curve = train(model, model.parameters(), task, steps=p.steps, lr=p.lr, on_step=on_step)
    m.loss["fp32"], m.accuracy["fp32"] = evaluate_model(model, task)
    weights = [layer.weight.detach() for layer in model.linears()]
    flat = torch.cat([w.flatten() for w in weights])  # (n_weights,)
    m.variance_trained = flat.var().item()
    m.kurtosis_trained = excess_kurtosis(flat)
    for fmt in FORMATS:
        code = code_of(fmt).to(ctx.device)
        quantized = copy.deepcopy(model)
        squared_error = 0.0
        with torch.no_grad():
            for layer in quantized.linears():
                w_hat = fake_quantize(layer.weight, code, p.blocksize)
                squared_error += (w_hat - layer.weight).square().sum().item()
                layer.weight.copy_(w_hat)
        m.mse_trained[fmt] = squared_error / flat.numel()
        m.loss[fmt], m.accuracy[fmt] = evaluate_model(quantized, task)
    m.hist_trained = histogram(flat, median_block_absmax(weights, p.blocksize))


def measure(p: NF4Params, ctx: RunContext) -> NF4Measured:
    # Everything random is drawn on the CPU from one generator, then moved: the same seed
    # gives the same numbers on either device, and global RNG state is untouched.
    gen = torch.Generator().manual_seed(p.seed)
    x = torch.randn(p.normal_weights, generator=gen).to(ctx.device)  # (n,) ~ N(0, 1)
    m = NF4Measured(n_normal=p.normal_weights)
    measure_trained(p, m, ctx, gen)
    ctx.progress(p.steps + 1, p.steps + 2, loss_nf4=m.loss["nf4"])
    measure_normal(p, m, x, gen)
    ctx.progress(p.steps + 2, p.steps + 2, mse_nf4_normal=m.mse_normal["nf4"])
    return m
