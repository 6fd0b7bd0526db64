"""The NF4 demo's report: what ``measure`` measured (plain numbers: ``NF4Measured``), turned
into named figures, charts, checks and the conclusion. No torch here."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from app.demos.base import Check, DemoResult, Series
from app.demos.nf4.formulas import bits_per_param_formula
from app.demos.nf4.params import FORMAT_TITLES, FORMATS, Format, NF4Params

BLOCKSIZES = (32, 64, 128, 256)  # the bits and error sweeps (every allowed block size)

GB = 10**9  # decimal gigabytes, as the figure names say
FP16_BITS = 16
FORMAT_AXIS = "format: " + ", ".join(f"{i} {FORMAT_TITLES[f]}" for i, f in enumerate(FORMATS))
LOSS_KEYS = ("fp32", *FORMATS)
LOSS_AXIS = "weights: " + ", ".join(f"{i} {k.upper()}" for i, k in enumerate(LOSS_KEYS))


@dataclass
class BnbComparison:
    available: bool = False
    code_max_abs_diff: float = math.nan  # our NF4 table vs bitsandbytes' quant_state.code
    code_mismatches: float = math.nan  # elements whose 4-bit index differs
    absmax_max_abs_diff: float = math.nan
    dequant_max_abs_diff: float = math.nan
    packed_equal: float = math.nan  # 1.0 when the packed bytes are identical
    bits_per_param_dq: float = math.nan  # from the tensors of its compress_statistics state
    dq_absmax_max_rel_err: float = math.nan  # its double-quantized absmax vs the true one
    fp4_code_max_abs_diff: float = math.nan  # its "fp4" table vs E2M1 / 6
    mse_fp4: float = math.nan  # its fp4 round trip on the same tensor
    error: str = ""


@dataclass
class Histogram:
    centers: list[float]
    share: list[float]  # fraction of all weights in each bin
    typical_absmax: float  # the median block absmax: the codes are drawn at this scale


@dataclass
class NF4Measured:
    n_normal: int
    codes: dict[Format, list[float]] = field(default_factory=dict)
    code_diff_reference: float = math.nan
    packed_bytes: int = 0
    packed_dtype_uint8: bool = False
    pack_roundtrip_ok: bool = False
    error_over_bound: float = math.nan  # max |x − x̂| / (absmax · half the largest code gap)
    bits: dict[tuple[int, bool], float] = field(default_factory=dict)  # (B, dq) -> measured
    dq_absmax_max_rel_err: float = math.nan
    mse_normal: dict[str, float] = field(default_factory=dict)  # format (and nf4_dq) -> MSE
    mse_by_blocksize: dict[Format, list[float]] = field(default_factory=dict)
    variance_normal: float = math.nan
    mse_trained: dict[Format, float] = field(default_factory=dict)
    variance_trained: float = math.nan
    kurtosis_trained: float = math.nan
    train_curve: list[float] = field(default_factory=list)
    loss: dict[str, float] = field(default_factory=dict)  # fp32 and each format
    accuracy: dict[str, float] = field(default_factory=dict)
    hist_normal: Histogram | None = None
    hist_trained: Histogram | None = None
    bnb: BnbComparison = field(default_factory=BnbComparison)


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
        "dq_gb_saved_65b": 65e9 * (formula - formula_dq) / 8 / GB,
        "weights_gb_7b_fp16": 7e9 * FP16_BITS / 8 / GB,
        "weights_gb_7b_nf4_dq": 7e9 * formula_dq / 8 / GB,
        "weights_gb_65b_nf4_dq": 65e9 * formula_dq / 8 / GB,
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
        "bnb_fp4_code_max_abs_diff": b.fp4_code_max_abs_diff,
        "mse_fp4_bnb_normal": b.mse_fp4,
    }


def _histogram_series(name: str, hist: Histogram, m: NF4Measured, chart: str) -> list[Series]:
    top = max(hist.share)
    series = [
        Series(
            name=f"{name} (share per bin)",
            x=hist.centers,
            y=hist.share,
            x_label="weight value (points: code values × the median block absmax)",
            y_label="share of weights per bin",
            chart=chart,
        )
    ]
    for i, fmt in enumerate(FORMATS):
        values = m.codes[fmt]
        series.append(
            Series(
                name=f"{FORMAT_TITLES[fmt]} code values",
                x=[v * hist.typical_absmax for v in values],
                y=[top * (1.1 + 0.1 * i)] * len(values),  # one row of points per format
                kind="scatter",
                chart=chart,
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
            x_label=FORMAT_AXIS,
            y_label="MSE / variance of the weights",
            chart="mse",
        )
        for label, mse, variance in (
            ("N(0, 1) weights", m.mse_normal, m.variance_normal),
            ("trained MLP weights", m.mse_trained, m.variance_trained),
        )
    ]
    return series + [
        Series(
            name=FORMAT_TITLES[fmt],
            x=[float(b) for b in BLOCKSIZES],
            y=m.mse_by_blocksize[fmt],
            x_label="block size B",
            y_label="MSE on N(0, 1) weights",
            log_y=True,
            chart="mse_by_blocksize",
        )
        for fmt in FORMATS
    ]


def _bits_series(m: NF4Measured) -> list[Series]:
    """Bits per parameter by block size, measured from the stored bytes and by formula."""
    blocksizes, series = [float(b) for b in BLOCKSIZES], []
    for dq, label in ((False, "NF4"), (True, "NF4 + double quantization")):
        series.append(
            Series(
                name=f"{label}: measured from stored bytes",
                x=blocksizes,
                y=[m.bits[(b, dq)] for b in BLOCKSIZES],
                x_label="block size B",
                y_label="bits per parameter",
                chart="bits",
            )
        )
        series.append(
            Series(
                name=f"{label}: formula",
                x=blocksizes,
                y=[bits_per_param_formula(b, dq) for b in BLOCKSIZES],
                kind="scatter",
                chart="bits",
            )
        )
    return series


def _loss_series(m: NF4Measured) -> list[Series]:
    """The MLP's test loss per weight format, and its fp32 training curve."""
    return [
        Series(
            name="test loss",
            x=[float(i) for i in range(len(LOSS_KEYS))],
            y=[m.loss[k] for k in LOSS_KEYS],
            kind="bar",
            x_label=LOSS_AXIS,
            y_label="test cross-entropy of the MLP",
            chart="loss",
        ),
        Series(
            name="training loss (fp32)",
            x=[float(s) for s in range(len(m.train_curve))],
            y=m.train_curve,
            x_label="step",
            y_label="cross-entropy",
            log_y=True,
            chart="training",
        ),
    ]


def series_of(p: NF4Params, m: NF4Measured) -> list[Series]:
    assert m.hist_normal is not None and m.hist_trained is not None
    return [
        *_histogram_series("N(0, 1) weights", m.hist_normal, m, "histogram_normal"),
        *_histogram_series("trained MLP weights", m.hist_trained, m, "histogram_trained"),
        *_mse_series(m),
        *_bits_series(m),
        *_loss_series(m),
    ]


def _storage_checks(p: NF4Params, m: NF4Measured, figures: dict[str, float]) -> list[Check]:
    """The code table, the packing, the error bound and the bits per parameter."""
    n = m.n_normal
    B = p.blocksize
    mean_bits = 32 / n  # the one fp32 mean per tensor that the per-parameter formula omits
    dq_gap = figures["bits_per_param_nf4_dq"] - figures["bits_per_param_formula_nf4_dq"]
    return [
        Check(
            name="NF4 code = QLoRA's published table",
            passed=m.code_diff_reference <= 1e-6,
            detail=f"largest difference {m.code_diff_reference:.1e} (tolerance 1e-6)",
        ),
        Check(
            name="Two codes per byte: a uint8 tensor of n/2 bytes that unpacks to the codes",
            passed=m.packed_dtype_uint8 and 2 * m.packed_bytes == n and m.pack_roundtrip_ok,
            detail=f"{m.packed_bytes:,} bytes for {n:,} weights; round trip "
            f"{'exact' if m.pack_roundtrip_ok else 'differs'}",
        ),
        Check(
            name="NF4 round trip: |x − x̂| ≤ absmax · (largest gap between codes)/2",
            passed=m.error_over_bound <= 1 + 1e-6,
            detail=f"largest error is {m.error_over_bound:.3f} of the bound",
        ),
        Check(
            name="Bits per parameter measured from the stored tensors = 4 + 32/B",
            passed=math.isclose(figures["bits_per_param_nf4"], 4 + 32 / B, abs_tol=1e-9),
            detail=f"{figures['bits_per_param_nf4']:.6f} measured, {4 + 32 / B:.6f} formula",
        ),
        Check(
            name="With double quantization: measured = 4 + 8/B + 32/(256·B) + 32/n (the mean)",
            passed=math.isclose(dq_gap, mean_bits, abs_tol=1e-9),
            detail=f"{figures['bits_per_param_nf4_dq']:.6f} measured, "
            f"{figures['bits_per_param_formula_nf4_dq']:.6f} formula + {mean_bits:.6f}",
        ),
    ]


def _error_checks(m: NF4Measured, figures: dict[str, float]) -> list[Check]:
    """NF4 against INT4: MSE on both weight sets, and the MLP's test loss."""
    checks = []
    for where, key in (("N(0, 1) weights", "normal"), ("the trained MLP's weights", "trained")):
        nf4, int4 = figures[f"mse_nf4_{key}"], figures[f"mse_int4_{key}"]
        checks.append(
            Check(
                name=f"NF4's MSE is below INT4's on {where}",
                passed=nf4 < int4,
                detail=f"NF4 {nf4:.3e}, INT4 {int4:.3e}, FP4 {figures[f'mse_fp4_{key}']:.3e}",
            )
        )
    checks.append(
        Check(
            name="The MLP's test loss after NF4 is at most its loss after INT4",
            passed=m.loss["nf4"] <= m.loss["int4"],
            detail=", ".join(f"{k} {m.loss[k]:.4f}" for k in LOSS_KEYS),
        )
    )
    return checks


def _bnb_checks(m: NF4Measured) -> list[Check]:
    """Against bitsandbytes, where it ran."""
    b = m.bnb
    if not b.available or b.error:
        return []
    return [
        Check(
            name="NF4 code = bitsandbytes' quant_state.code",
            passed=b.code_max_abs_diff <= 1e-6,
            detail=f"largest difference {b.code_max_abs_diff:.1e} (tolerance 1e-6)",
        ),
        Check(
            name="Our 4-bit codes and absmax equal bitsandbytes' quantize_4bit (nf4)",
            passed=b.code_mismatches == 0 and b.absmax_max_abs_diff == 0,
            detail=f"{b.code_mismatches:.0f} of {m.n_normal:,} codes differ; absmax differs by "
            f"{b.absmax_max_abs_diff:.1e}; packed bytes identical: {b.packed_equal == 1}",
        ),
    ]


def checks_of(p: NF4Params, m: NF4Measured, figures: dict[str, float]) -> list[Check]:
    return [*_storage_checks(p, m, figures), *_error_checks(m, figures), *_bnb_checks(m)]


def conclusion_of(p: NF4Params, figures: dict[str, float], m: NF4Measured) -> str:
    f = figures
    text = (
        f"At block size {p.blocksize}, NF4 stores {f['bits_per_param_nf4']:.3f} bits per weight "
        f"({f['compression_vs_fp16']:.2f}× smaller than fp16) and {f['bits_per_param_nf4_dq']:.3f}"
        f" with double quantization ({f['compression_vs_fp16_dq']:.2f}×), saving "
        f"{f['dq_bits_saved_per_param']:.3f} bits per weight, {f['dq_gb_saved_65b']:.2f} GB on a "
        f"65B model, whose weights still take {f['weights_gb_65b_nf4_dq']:.1f} GB. "
        f"MSE on N(0, 1): NF4 {f['mse_nf4_normal']:.2e}, INT4 {f['mse_int4_normal']:.2e}, FP4 "
        f"{f['mse_fp4_normal']:.2e}; on the trained MLP's weights (excess kurtosis "
        f"{f['weight_excess_kurtosis_trained']:.2f}): {f['mse_nf4_trained']:.2e}, "
        f"{f['mse_int4_trained']:.2e}, {f['mse_fp4_trained']:.2e}; its test loss goes from "
        f"{f['loss_fp32']:.4f} to {f['loss_nf4']:.4f} (NF4), {f['loss_int4']:.4f} (INT4) and "
        f"{f['loss_fp4']:.4f} (FP4). "
    )
    b = m.bnb
    if not b.available:
        return text + "bitsandbytes is not installed here, so it was not compared."
    if b.error:
        return text + f"The bitsandbytes comparison failed: {b.error}."
    return text + (
        f"Against bitsandbytes' quantize_4bit: {b.code_mismatches:.0f} of {m.n_normal:,} codes "
        f"differ and the absmax differs by at most {b.absmax_max_abs_diff:.1e}."
    )


def result_of(p: NF4Params, m: NF4Measured) -> DemoResult:
    figures = figures_of(p, m)
    return DemoResult(
        figures=figures,
        series=series_of(p, m),
        checks=checks_of(p, m, figures),
        conclusion=conclusion_of(p, figures, m),
    )
