"""NF4 quantization, byte by byte: the demo's registration and its story.

Build QLoRA's NF4 code from normal quantiles and check it against the published table;
quantize an N(0, 1) tensor block-wise (absmax per block, nearest code value), pack two
codes per byte in a uint8 tensor, and measure bits per parameter from the bytes actually
stored, with and without double quantization, beside QLoRA's formula. Then compare the
error of NF4 with INT4 and FP4 on those weights and on a small MLP trained here (MSE,
histogram with the code values, test loss after quantizing), and cross-check our codes
and absmax with bitsandbytes when it is installed.

torch is imported inside ``run`` (via ``nf4_measure`` and ``nf4_report``): the web
process imports this module for the catalogue and must not load torch.
"""

from __future__ import annotations

from app.demos.base import Demo, DemoResult, RunContext
from app.demos.nf4.figures import FIGURES
from app.demos.nf4.params import NF4Params
from app.demos.text import N_

# Which figures bear on which claim (content/llm-sft.md, "QLORA相对于LORA改进是什么？").
CLAIM_FIGURES = {
    "QLoRA's 4-bit weights are 4× smaller than FP16 (7B in FP16 ≈ 14 GB)": (
        "bits_per_param_nf4", "bits_per_param_nf4_dq", "compression_vs_fp16",
        "compression_vs_fp16_dq", "weights_gb_7b_fp16", "weights_gb_7b_nf4_dq",
    ),
    "NF4 is more precise than int4": (
        "mse_nf4_normal", "mse_int4_normal", "mse_fp4_normal", "mse_nf4_trained",
        "mse_int4_trained", "mse_fp4_trained", "loss_fp32", "loss_nf4", "loss_int4", "loss_fp4",
    ),
    "Double quantization saves memory": (
        "dq_bits_saved_per_param", "dq_bits_saved_per_param_formula", "dq_gb_saved_65b",
        "bits_per_param_nf4_dq",
    ),
    "QLoRA lets a 65B model train on a single 24 GB GPU": ("weights_gb_65b_nf4_dq",),
}  # fmt: skip


def figure_names(params: NF4Params) -> tuple[str, ...]:
    """The same names for every parameter choice. The bitsandbytes figures are NaN (not
    measured) when it is not installed, with ``bnb_available`` 0."""
    return FIGURES


def run(params: NF4Params, ctx: RunContext) -> DemoResult:
    from app.demos.nf4.measure import measure
    from app.demos.nf4.report import result_of

    return result_of(params, measure(params, ctx))


DEMO = Demo(
    name="nf4",
    title=N_("NF4 quantization, byte by byte"),
    summary=N_(
        "Builds QLoRA's 4-bit NormalFloat code from quantiles of the normal distribution, "
        "quantizes weights block-wise (one absmax per block, nearest code value), packs two "
        "4-bit codes per byte in a uint8 tensor, and measures the bits per parameter from "
        "the bytes actually stored, with and without double quantization of the absmax "
        "constants, beside QLoRA's formula. Compares the error of NF4 with INT4 and FP4 "
        "(E2M1) on normally distributed weights and on a small MLP trained in the run: "
        "mean squared error, a histogram of the weights with each format's code values, "
        "and the model's test loss after quantization. When bitsandbytes is installed, "
        "our codes and absmax are compared with its quantize_4bit."
    ),
    topics=("QLoRA", "PEFT", "参数高效微调"),
    claims=tuple(CLAIM_FIGURES),
    params=NF4Params,
    run=run,
    time_limit_s=120.0,
    # model_size counts LLaMA's weights with qlora_memory's formulas and peft_count's presets.
    uses=("app.demos.qlora_memory", "app.demos.peft_count"),
    figure_names=figure_names,
)
