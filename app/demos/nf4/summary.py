"""The NF4 demo's headline, summary table, conclusion and the unit and label of each
figure: what a reader sees first (issue 16). No torch here."""

from __future__ import annotations

from app.demos.nf4.params import FORMATS, NF4Params
from app.demos.text import Cell, Table, Text, Unit, q, t

# "quantized layers only": 16 / bits over the NF4-quantized weights; a whole model shrinks
# less, since embeddings and the lm_head stay in 16 bit (weights_gb_7b_*).
FIGURE_LABELS: dict[str, Text] = {
    "compression_vs_fp16": t("Compression vs fp16, quantized layers only"),
    "compression_vs_fp16_dq": t(
        "Compression vs fp16 with double quantization, quantized layers only"
    ),
    "bits_per_param_nf4": t("NF4 bits per weight, measured from the stored bytes"),
    "bits_per_param_nf4_dq": t("NF4 + double quantization: bits per weight, measured"),
    "dq_bits_saved_per_param": t("Bits per weight saved by double quantization"),
    "dq_gb_saved_65b": t("GB saved by double quantization on LLaMA-65B"),
    "weights_gb_7b_fp16": t("LLaMA-2-7B weights in fp16 (6.74 B parameters)"),
    "weights_gb_7b_nf4_dq": t(
        "LLaMA-2-7B weights in NF4 + double quantization (embeddings and lm_head in 16 bit)"
    ),
    "weights_gb_65b_nf4_dq": t(
        "LLaMA-65B weights in NF4 + double quantization (embeddings and lm_head in 16 bit)"
    ),
    "mse_nf4_normal": t("NF4 MSE on $N(0, 1)$ weights"),
    "mse_int4_normal": t("INT4 MSE on $N(0, 1)$ weights"),
    "mse_fp4_normal": t("FP4 MSE on $N(0, 1)$ weights"),
    "mse_nf4_trained": t("NF4 MSE on the trained MLP's weights"),
    "mse_int4_trained": t("INT4 MSE on the trained MLP's weights"),
    "mse_fp4_trained": t("FP4 MSE on the trained MLP's weights"),
    "loss_fp32": t("MLP test loss, fp32 weights"),
    "loss_nf4": t("MLP test loss after NF4 (reported, not checked)"),
    "loss_int4": t("MLP test loss after INT4 (reported, not checked)"),
    "loss_fp4": t("MLP test loss after FP4"),
    "nf4_code_max_abs_diff_reference": t("NF4 code vs QLoRA's published table: largest difference"),
    "nf4_code_max_abs_diff_bnb": t("NF4 code vs bitsandbytes': largest difference"),
    "packed_bytes_per_weight": t("Bytes per weight, two 4-bit codes packed in a byte"),
    "pack_roundtrip_ok": t("Unpacking gives back every 4-bit code (1 = yes)"),
    "nf4_max_error_over_bound": t("NF4's largest round-trip error, as a share of its bound"),
    "bits_per_param_formula_nf4": t("NF4 bits per weight, QLoRA's formula"),
    "bits_per_param_formula_nf4_dq": t(
        "NF4 + double quantization: bits per weight, QLoRA's formula"
    ),
    "dq_bits_saved_per_param_formula": t(
        "Bits per weight saved by double quantization, QLoRA's formula"
    ),
    "dq_absmax_max_rel_err": t("Double-quantized absmax: largest relative error"),
    "mse_nf4_dq_normal": t("NF4 + double quantization MSE on $N(0, 1)$ weights"),
    "weight_excess_kurtosis_trained": t(
        "Excess kurtosis of the trained MLP's weights (0 for a normal)"
    ),
    "accuracy_fp32": t("MLP test accuracy, fp32 weights"),
    **{
        f"accuracy_{fmt}": t("MLP test accuracy after %(format)s", format=fmt.upper())
        for fmt in FORMATS
    },
    "bnb_available": t("bitsandbytes available for the comparison (1 = yes)"),
    "bnb_code_mismatches": t("4-bit codes that differ from bitsandbytes'"),
    "bnb_absmax_max_abs_diff": t("Absmax vs bitsandbytes': largest difference"),
    "bnb_dequant_max_abs_diff": t("Dequantized weights vs bitsandbytes': largest difference"),
    "bnb_packed_equal": t("Packed bytes identical to bitsandbytes' (1 = yes)"),
    "bnb_bits_per_param_dq": t(
        "bitsandbytes' NF4 + double quantization: bits per weight, measured"
    ),
    "bnb_dq_absmax_max_rel_err": t("bitsandbytes' double-quantized absmax: largest relative error"),
    "bnb_fp4_table_max_abs_diff": t(
        "bitsandbytes' FP4 table vs the values in its source, ±(0, 0.0625, 8, 12, 4, 6, 2, "
        "3)/12 by bit pattern: largest difference"
    ),
    "bnb_fp4_code_max_abs_diff": t(
        "bitsandbytes' FP4 levels vs E2M1 / 6 (the demo's FP4): largest difference; "
        "bitsandbytes' smallest nonzero level is 0.0625/12, E2M1's 0.5/6"
    ),
    "mse_fp4_bnb_normal": t("bitsandbytes' FP4 (its table, not E2M1) MSE on $N(0, 1)$ weights"),
}

_UNIT_BY_PREFIX: tuple[tuple[str, Unit], ...] = (
    ("bits_per_param", "bits"),
    ("bnb_bits_per_param", "bits"),
    ("dq_bits_saved", "bits"),
    ("compression", "x"),
    ("weights_gb", "gb"),
    ("dq_gb", "gb"),
    ("mse_", "plain"),
    ("loss_", "loss"),
    ("accuracy_", "ratio"),
    ("packed_bytes", "plain"),
    ("nf4_max_error_over_bound", "ratio"),
    ("weight_excess_kurtosis", "plain"),
    ("bnb_code_mismatches", "count"),
)


def _unit_of(name: str) -> Unit:
    return next((unit for prefix, unit in _UNIT_BY_PREFIX if name.startswith(prefix)), "plain")


def _figure_units() -> dict[str, Unit]:
    from app.demos.nf4.figures import FIGURES

    return {name: _unit_of(name) for name in FIGURES}


FIGURE_UNITS: dict[str, Unit] = _figure_units()


def headline_of(p: NF4Params, f: dict[str, float]) -> Text:
    return t(
        "NF4 stores %(bits)s per weight at block size %(B)s (%(bits_dq)s with double "
        "quantization), so LLaMA-2-7B's weights take %(gb_7b)s instead of %(gb_fp16)s in fp16; "
        "its error on normal weights is %(ratio)s of INT4's.",
        bits=q(f["bits_per_param_nf4"], "bits"),
        B=str(p.blocksize),
        bits_dq=q(f["bits_per_param_nf4_dq"], "bits"),
        gb_7b=q(f["weights_gb_7b_nf4_dq"], "gb"),
        gb_fp16=q(f["weights_gb_7b_fp16"], "gb"),
        ratio=q(f["mse_nf4_normal"] / f["mse_int4_normal"], "ratio"),
    )


def summary_of(f: dict[str, float]) -> Table:
    """Format × bits per weight × MSE (normal, trained) × the MLP's test loss."""
    rows: list[list[Cell]] = [
        [
            "NF4",
            q(f["bits_per_param_nf4"], "bits"),
            q(f["mse_nf4_normal"], "plain"),
            q(f["mse_nf4_trained"], "plain"),
            q(f["loss_nf4"], "loss"),
        ],
        [
            t("NF4 + double quantization"),
            q(f["bits_per_param_nf4_dq"], "bits"),
            q(f["mse_nf4_dq_normal"], "plain"),
            "–",
            "–",
        ],
        [
            t("INT4 (symmetric absmax, 15 levels)"),
            q(f["bits_per_param_nf4"], "bits"),
            q(f["mse_int4_normal"], "plain"),
            q(f["mse_int4_trained"], "plain"),
            q(f["loss_int4"], "loss"),
        ],
        [
            t("FP4 (E2M1)"),
            q(f["bits_per_param_nf4"], "bits"),
            q(f["mse_fp4_normal"], "plain"),
            q(f["mse_fp4_trained"], "plain"),
            q(f["loss_fp4"], "loss"),
        ],
        [t("fp32 (unquantized)"), q(32, "bits"), "0", "0", q(f["loss_fp32"], "loss")],
    ]
    return Table(
        columns=[
            t("Format"),
            t("Bits per weight"),
            t("MSE, $N(0, 1)$ weights"),
            t("MSE, trained MLP"),
            t("MLP test loss"),
        ],
        rows=rows,
    )


def conclusion_of(p: NF4Params, f: dict[str, float], bnb: Text) -> Text:
    return t(
        "At block size %(B)s, NF4 stores %(bits)s per weight (%(x)s smaller than fp16 over the "
        "quantized layers) and %(bits_dq)s with double quantization (%(x_dq)s), saving "
        "%(saved)s per weight, %(saved_gb)s on LLaMA-65B, whose weights still take %(gb_65b)s "
        "with embeddings and lm_head in 16 bit. MSE on $N(0, 1)$: NF4 %(nf4)s, INT4 %(int4)s, "
        "FP4 %(fp4)s; on the trained MLP's weights (excess kurtosis %(kurt)s): %(nf4_t)s, "
        "%(int4_t)s, %(fp4_t)s. Its test loss goes from %(l32)s to %(lnf4)s (NF4), %(lint4)s "
        "(INT4) and %(lfp4)s (FP4); the gaps between the formats change with the seed, so "
        "they are reported, not checked. %(bnb)s",
        B=str(p.blocksize),
        bits=q(f["bits_per_param_nf4"], "bits"),
        x=q(f["compression_vs_fp16"], "x"),
        bits_dq=q(f["bits_per_param_nf4_dq"], "bits"),
        x_dq=q(f["compression_vs_fp16_dq"], "x"),
        saved=q(f["dq_bits_saved_per_param"], "bits"),
        saved_gb=q(f["dq_gb_saved_65b"], "gb"),
        gb_65b=q(f["weights_gb_65b_nf4_dq"], "gb"),
        nf4=q(f["mse_nf4_normal"], "plain"),
        int4=q(f["mse_int4_normal"], "plain"),
        fp4=q(f["mse_fp4_normal"], "plain"),
        kurt=q(f["weight_excess_kurtosis_trained"], "plain"),
        nf4_t=q(f["mse_nf4_trained"], "plain"),
        int4_t=q(f["mse_int4_trained"], "plain"),
        fp4_t=q(f["mse_fp4_trained"], "plain"),
        l32=q(f["loss_fp32"], "loss"),
        lnf4=q(f["loss_nf4"], "loss"),
        lint4=q(f["loss_int4"], "loss"),
        lfp4=q(f["loss_fp4"], "loss"),
        bnb=bnb,
    )
