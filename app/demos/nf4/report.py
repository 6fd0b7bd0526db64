"""The NF4 demo's report: what ``measure`` measured (plain numbers: ``NF4Measured``), turned
into named figures, charts and the conclusion (its checks: ``checks``). No torch here."""

from __future__ import annotations

from app.demos.base import DemoResult, Series
from app.demos.nf4.checks import BLOCKSIZES, Histogram, NF4Measured, checks_of
from app.demos.nf4.formulas import bits_per_param_formula
from app.demos.nf4.model_size import (
    LLAMA_7B,
    LLAMA_65B,
    fp16_bytes,
    nf4_model_bytes,
    quantized_linear_bytes,
)
from app.demos.nf4.params import FORMAT_TITLES, FORMATS, NF4Params
from app.demos.nf4.summary import (
    FIGURE_LABELS,
    FIGURE_UNITS,
    conclusion_of,
    headline_of,
    summary_of,
)
from app.demos.text import Text, q, t

GB = 10**9  # decimal gigabytes, as the figure names say
FP16_BITS = 16
LOSS_KEYS = ("fp32", *FORMATS)


def model_size_figures(blocksize: int) -> dict[str, float]:
    """LLaMA-2-7B and LLaMA-65B as qlora_memory counts them (``model_size``): real shapes,
    linear layers in NF4 at this block size, embeddings and lm_head in 16 bit."""
    saved_65b = quantized_linear_bytes(LLAMA_65B, blocksize, False) - quantized_linear_bytes(
        LLAMA_65B, blocksize, True
    )
    return {
        "dq_gb_saved_65b": saved_65b / GB,
        "weights_gb_7b_fp16": fp16_bytes(LLAMA_7B) / GB,
        "weights_gb_7b_nf4_dq": nf4_model_bytes(LLAMA_7B, blocksize, True) / GB,
        "weights_gb_65b_nf4_dq": nf4_model_bytes(LLAMA_65B, blocksize, True) / GB,
    }


def figures_of(p: NF4Params, m: NF4Measured) -> dict[str, float]:
    B = p.blocksize
    bits, bits_dq = m.bits[(B, False)], m.bits[(B, True)]
    formula, formula_dq = bits_per_param_formula(B, False), bits_per_param_formula(B, True)
    b = m.bnb
    return {
        "nf4_code_max_abs_diff_reference": m.code_diff_reference,
        "nf4_code_max_abs_diff_bnb": b.code_max_abs_diff,
        "packed_bytes_per_weight": m.packed_bytes / m.n_normal,
        "pack_roundtrip_ok": float(m.pack_roundtrip_ok),
        "nf4_max_error_over_bound": m.error_over_bound,
        "bits_per_param_nf4": bits,
        "bits_per_param_nf4_dq": bits_dq,
        "bits_per_param_formula_nf4": formula,
        "bits_per_param_formula_nf4_dq": formula_dq,
        "compression_vs_fp16": FP16_BITS / bits,
        "compression_vs_fp16_dq": FP16_BITS / bits_dq,
        "dq_bits_saved_per_param": bits - bits_dq,
        "dq_bits_saved_per_param_formula": formula - formula_dq,
        **model_size_figures(B),
        "dq_absmax_max_rel_err": m.dq_absmax_max_rel_err,
        **{f"mse_{key}_normal": value for key, value in m.mse_normal.items()},
        **{f"mse_{fmt}_trained": value for fmt, value in m.mse_trained.items()},
        "weight_excess_kurtosis_trained": m.kurtosis_trained,
        **{f"loss_{key}": value for key, value in m.loss.items()},
        **{f"accuracy_{key}": value for key, value in m.accuracy.items()},
        "bnb_available": float(b.available),
        "bnb_code_mismatches": b.code_mismatches,
        "bnb_absmax_max_abs_diff": b.absmax_max_abs_diff,
        "bnb_dequant_max_abs_diff": b.dequant_max_abs_diff,
        "bnb_packed_equal": b.packed_equal,
        "bnb_bits_per_param_dq": b.bits_per_param_dq,
        "bnb_dq_absmax_max_rel_err": b.dq_absmax_max_rel_err,
        "bnb_fp4_table_max_abs_diff": b.fp4_table_max_abs_diff,
        "bnb_fp4_code_max_abs_diff": b.fp4_code_max_abs_diff,
        "mse_fp4_bnb_normal": b.mse_fp4,
    }


def _format_names() -> list[Text | str]:
    return [Text(msg=FORMAT_TITLES[f]) for f in FORMATS]


def _histogram_series(name: Text, hist: Histogram, m: NF4Measured, chart: str) -> list[Series]:
    top = max(hist.share)
    series = [
        Series(
            name=name,
            x=hist.centers,
            y=hist.share,
            x_label=t("weight value (points: code values × the median block absmax)"),
            y_label=t("share of weights per bin"),
            chart=chart,
            unit="ratio",
        )
    ]
    for i, fmt in enumerate(FORMATS):
        values = m.codes[fmt]
        series.append(
            Series(
                name=t("%(format)s code values", format=Text(msg=FORMAT_TITLES[fmt])),
                x=[v * hist.typical_absmax for v in values],
                y=[top * (1.1 + 0.1 * i)] * len(values),  # one row of points per format
                kind="scatter",
                chart=chart,
                unit="ratio",
            )
        )
    return series


def _mse_series(m: NF4Measured) -> list[Series]:
    """Each format's MSE over the weights' variance (N(0, 1) and the trained MLP's), and
    its MSE on N(0, 1) by block size."""
    series = [
        Series(
            name=label,
            x=[float(i) for i in range(len(FORMATS))],
            y=[mse[f] / variance for f in FORMATS],
            kind="bar",
            x_label=t("format"),
            y_label=t("MSE / variance of the weights"),
            chart="mse",
            categories=_format_names(),
            unit="plain",
        )
        for label, mse, variance in (
            (t("$N(0, 1)$ weights"), m.mse_normal, m.variance_normal),
            (t("trained MLP weights"), m.mse_trained, m.variance_trained),
        )
    ]
    return series + [
        Series(
            name=Text(msg=FORMAT_TITLES[fmt]),
            x=[float(b) for b in BLOCKSIZES],
            y=m.mse_by_blocksize[fmt],
            x_label=t("block size $B$ (weights)"),
            y_label=t("MSE on $N(0, 1)$ weights"),
            log_y=True,
            chart="mse_by_blocksize",
            unit="plain",
        )
        for fmt in FORMATS
    ]


def _bits_series(m: NF4Measured) -> list[Series]:
    """Bits per parameter by block size, measured from the stored bytes and by formula."""
    blocksizes, series = [float(b) for b in BLOCKSIZES], []
    for dq in (False, True):
        series.append(
            Series(
                name=t("NF4 + double quantization: measured from stored bytes")
                if dq
                else t("NF4: measured from stored bytes"),
                x=blocksizes,
                y=[m.bits[(b, dq)] for b in BLOCKSIZES],
                x_label=t("block size $B$ (weights)"),
                y_label=t("bits per parameter"),
                chart="bits",
                unit="bits",
            )
        )
        series.append(
            Series(
                name=t("NF4 + double quantization: formula") if dq else t("NF4: formula"),
                x=blocksizes,
                y=[bits_per_param_formula(b, dq) for b in BLOCKSIZES],
                kind="scatter",
                chart="bits",
                unit="bits",
            )
        )
    return series


def _loss_series(m: NF4Measured) -> list[Series]:
    """The MLP's test loss per weight format, and its fp32 training curve."""
    return [
        Series(
            name=t("test loss"),
            x=[float(i) for i in range(len(LOSS_KEYS))],
            y=[m.loss[k] for k in LOSS_KEYS],
            kind="bar",
            x_label=t("format"),
            y_label=t("test cross-entropy of the MLP"),
            chart="loss",
            categories=["fp32", *(k.upper() for k in FORMATS)],
            unit="loss",
        ),
        Series(
            name=t("training loss (fp32)"),
            x=[float(s) for s in range(len(m.train_curve))],
            y=m.train_curve,
            x_label=t("step"),
            y_label=t("cross-entropy"),
            log_y=True,
            chart="training",
            unit="loss",
        ),
    ]


def series_of(p: NF4Params, m: NF4Measured) -> list[Series]:
    assert m.hist_normal is not None and m.hist_trained is not None
    return [
        *_histogram_series(t("$N(0, 1)$ weights"), m.hist_normal, m, "histogram_normal"),
        *_histogram_series(t("trained MLP weights"), m.hist_trained, m, "histogram_trained"),
        *_mse_series(m),
        *_bits_series(m),
        *_loss_series(m),
    ]


def bnb_words(m: NF4Measured) -> Text:
    """What the comparison with bitsandbytes found, or why there was none."""
    b = m.bnb
    if not b.available:
        return t("bitsandbytes is not installed here, so it was not compared.")
    if b.error:
        return t("The bitsandbytes comparison failed: %(error)s.", error=b.error)
    return t(
        "Against bitsandbytes' quantize_4bit: %(mismatches)s of %(n)s codes differ and the "
        "absmax differs by at most %(diff)s.",
        mismatches=q(b.code_mismatches, "count"),
        n=q(m.n_normal, "count"),
        diff=q(b.absmax_max_abs_diff, "plain"),
    )


def result_of(p: NF4Params, m: NF4Measured) -> DemoResult:
    figures = figures_of(p, m)
    return DemoResult(
        figures=figures,
        series=series_of(p, m),
        checks=checks_of(p, m, figures),
        conclusion=conclusion_of(p, figures, bnb_words(m)),
        headline=headline_of(p, figures),
        summary=summary_of(figures),
        figure_units=FIGURE_UNITS,
        figure_labels=FIGURE_LABELS,
    )
