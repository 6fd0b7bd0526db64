"""The QLoRA-memory demo's report: the footprints turned into named figures, checks on
the byte formulas, stacked-bar charts and a conclusion quoting the numbers."""

from __future__ import annotations

from dataclasses import dataclass

from app.demos.base import Check, DemoResult, Series
from app.demos.peft_count.presets import PUBLISHED_TOTALS, Architecture
from app.demos.qlora_memory.formulas import (
    BASE_FORMATS,
    BASE_TITLES,
    COMPONENT_TITLES,
    FORMAT_TITLES,
    FORMATS,
    GB,
    GIB,
    Footprint,
    kept_16bit_numel,
    quantized_numel,
)
from app.demos.qlora_memory.labels import figure_labels
from app.demos.qlora_memory.params import GPU_SIZES, TARGET_LABELS, QloraMemoryParams
from app.demos.text import N_, Cell, Table, Text, Unit, q, t

NF4_BITS = 4 + 32 / 64  # 4-bit code + an fp32 absmax per 64 weights
NF4_DQ_BITS = 4 + 8 / 64 + 32 / (64 * 256)  # 8-bit absmax + an fp32 scale per 256 of them
GIB_LABEL = N_("GiB ($2^{30}$ B; GPU sizes are GiB of device memory)")


@dataclass(frozen=True)
class Measured:
    """The footprints of every format and the sizes they were built from."""

    arch: Architecture
    n: int  # parameters of the whole model
    tensor_sizes: list[int]  # LoRA's tensors, in numbers
    lora_params: int  # peft_count's L·r·Σ(d_in+d_out)
    activations: int  # bytes
    memory: dict[str, Footprint]
    weights: dict[str, int]  # bytes of the stored base per format
    bits: dict[str, float]  # bits per quantized linear weight per base format
    model_bits: dict[str, float]  # bits per parameter over the whole model


def min_gpu_gb(total: int) -> int:
    """The smallest offered GPU size (GiB) that holds ``total`` bytes; 0 if none does."""
    return next((size for size in GPU_SIZES if total <= size * GIB), 0)


def figures_of(p: QloraMemoryParams, m: Measured) -> dict[str, float]:
    arch, n, memory, weights, bits, model_bits = (
        m.arch, m.n, m.memory, m.weights, m.bits, m.model_bits
    )  # fmt: skip
    lora_params, activations = m.lora_params, m.activations
    capacity = p.gpu_gb * GIB
    trained = memory["fp16"]  # LoRA's own state is the same on every base
    lora_state = trained.adapters + trained.gradients + trained.master + trained.moments
    figures: dict[str, float] = {
        "total_params": float(n),
        "quantized_params": float(quantized_numel(arch)),
        "kept_16bit_params": float(kept_16bit_numel(arch)),
        "lora_params": float(lora_params),
        "gpu_gb": float(p.gpu_gb),
        "activations_gb": activations / GB,
        "lora_train_state_gb": lora_state / GB,
        "dq_saved_gb": (weights["nf4"] - weights["nf4_dq"]) / GB,
    }
    for f in BASE_FORMATS:
        figures[f"linear_bits_per_weight_{f}"] = bits[f]
        figures[f"model_bits_per_param_{f}"] = model_bits[f]
    for f in ("int8", "nf4", "nf4_dq"):
        figures[f"weights_ratio_fp16_over_{f}"] = weights["fp16"] / weights[f]
        figures[f"linear_ratio_fp16_over_{f}"] = bits["fp16"] / bits[f]
    for f in FORMATS:
        total = memory[f].total
        figures[f"weights_gb_{f}"] = weights[f] / GB
        figures[f"weights_gib_{f}"] = weights[f] / GIB
        figures[f"total_gb_{f}"] = total / GB
        figures[f"total_gib_{f}"] = total / GIB
        figures[f"fits_{f}"] = 1.0 if total <= capacity else 0.0
        figures[f"margin_gib_{f}"] = (capacity - total) / GIB
        figures[f"min_gpu_gb_{f}"] = float(min_gpu_gb(total))

    return figures


def series_of(p: QloraMemoryParams, m: Measured) -> list[Series]:
    memory, bits, model_bits = m.memory, m.bits, m.model_bits
    setups: list[Text | str] = [t(FORMAT_TITLES[f]) for f in FORMATS]
    bases: list[Text | str] = [t(BASE_TITLES[f]) for f in BASE_FORMATS]

    def bars(name: Text, y: list[float], chart: str, stacked: bool = False) -> Series:
        on_formats = chart != "bits"  # the bits chart has no full fine-tuning bar
        return Series(
            name=name,
            x=[float(i) for i in range(len(y))],
            y=y,
            kind="bar",
            x_label=t("setup") if on_formats else t("base format"),
            y_label=t(GIB_LABEL) if on_formats else t("bits per weight"),
            chart=chart,
            stacked=stacked,
            categories=setups if on_formats else bases,
            unit="gib" if on_formats else "bits",
        )

    return [
        *(
            bars(t(title), [getattr(memory[f], part) / GIB for f in FORMATS], "memory", True)
            for part, title in COMPONENT_TITLES.items()
        ),
        bars(t("training total"), [memory[f].total / GIB for f in FORMATS], "vs_gpu"),
        bars(t("the %(gpu)s GB GPU", gpu=p.gpu_gb), [float(p.gpu_gb)] * len(FORMATS), "vs_gpu"),
        bars(t("bits per quantized linear weight"), [bits[f] for f in BASE_FORMATS], "bits"),
        bars(
            t("bits per parameter, whole model (embeddings, lm_head, norms in 16 bit)"),
            [model_bits[f] for f in BASE_FORMATS],
            "bits",
        ),
    ]


def _gb(value: float) -> str:
    return f"{value / GB:.3f} GB"


def _bits_checks(m: Measured) -> list[Check]:
    """NF4's bits per weight, without and with double quantization, against the formula."""
    bits = m.bits
    return [
        Check(
            name=t("NF4 stores $4 + 32/64 = 4.5$ bits per quantized weight"),
            passed=abs(bits["nf4"] - NF4_BITS) < 1e-9,
            detail=t("8 × bytes / weights = %(bits)s", bits=f"{bits['nf4']:.6f}"),
        ),
        Check(
            name=t(
                "NF4 + double quantization stores "
                r"$4 + 8/64 + 32/(64 \cdot 256) \approx 4.127$ bits"
            ),
            # The ceilings and the one fp32 offset per matrix add far less than 1e-4 bit.
            passed=abs(bits["nf4_dq"] - NF4_DQ_BITS) < 1e-4,
            detail=t(
                "8 × bytes / weights = %(bits)s; formula %(formula)s",
                bits=f"{bits['nf4_dq']:.6f}",
                formula=f"{NF4_DQ_BITS:.6f}",
            ),  # fmt: skip
        ),
    ]


def checks_of(p: QloraMemoryParams, m: Measured) -> list[Check]:
    memory, weights = m.memory, m.weights
    tensor_sizes, lora_params = m.tensor_sizes, m.lora_params
    checks = [
        Check(
            name=t("The stacked components add up to each total"),
            passed=all(
                sum(getattr(memory[f], part) for part in COMPONENT_TITLES) == memory[f].total
                for f in FORMATS
            ),
            detail=_joined(
                [
                    t(
                        "%(setup)s %(total)s",
                        setup=t(FORMAT_TITLES[f]),
                        total=q(memory[f].total / GIB, "gib"),
                    )
                    for f in FORMATS
                ]
            ),
        ),
        Check(
            name=t(
                "LoRA tensors sum to the PEFT count formula "
                r"$L \cdot r \cdot \sum (d_\mathrm{in} + d_\mathrm{out})$"
            ),
            passed=sum(tensor_sizes) == lora_params,
            detail=t(
                "%(n)s tensors, %(sum)s = %(formula)s",
                n=len(tensor_sizes),
                sum=sum(tensor_sizes),
                formula=lora_params,
            ),  # fmt: skip
        ),
        *_bits_checks(m),
        Check(
            name=t("Weights shrink fp16 > int8 > NF4 > NF4 + DQ"),
            passed=weights["fp16"] > weights["int8"] > weights["nf4"] > weights["nf4_dq"],
            detail=" > ".join(_gb(weights[f]) for f in BASE_FORMATS),
        ),
        Check(
            name=t("NF4 weights are less than 4× smaller than fp16 (absmax, 16-bit embeddings)"),
            passed=weights["fp16"] / weights["nf4"] < 4 and weights["fp16"] / weights["nf4_dq"] < 4,
            detail=t(
                "%(nf4)s (NF4), %(dq)s (NF4 + DQ)",
                nf4=q(weights["fp16"] / weights["nf4"], "x"),
                dq=q(weights["fp16"] / weights["nf4_dq"], "x"),
            ),
        ),
    ]
    published = PUBLISHED_TOTALS.get(p.preset)
    if published is not None:
        checks.append(
            Check(
                name=t("fp16 weights = 2 B × the published %(n)s parameters", n=published),
                passed=weights["fp16"] == 2 * published,
                detail=f"{weights['fp16']:,} B = {_gb(weights['fp16'])}",
            )
        )
    return checks


def _joined(items: list[Text]) -> Text:
    """``a; b; c`` as nested texts (a translation may use its own separator)."""
    out = items[0]
    for item in items[1:]:
        out = t("%(a)s; %(b)s", a=out, b=item)
    return out


def _fitting(p: QloraMemoryParams, figures: dict[str, float]) -> Text:
    fits = [t(FORMAT_TITLES[f]) for f in FORMATS if figures[f"fits_{f}"]]
    if not fits:
        return t("on the %(gpu)s GB GPU none fits.", gpu=p.gpu_gb)
    return t("on the %(gpu)s GB GPU these fit: %(names)s.", gpu=p.gpu_gb, names=_joined(fits))


def conclusion_of(p: QloraMemoryParams, m: Measured, figures: dict[str, float]) -> Text:
    weights, bits = m.weights, m.bits
    min_dq = min_gpu_gb(m.memory["nf4_dq"].total)
    totals = _joined(
        [
            t(
                "%(setup)s %(total)s",
                setup=t(FORMAT_TITLES[f]),
                total=q(m.memory[f].total / GIB, "gib"),
            )
            for f in FORMATS
        ]
    )
    return t(
        "%(model)s (%(n)s parameters): weights %(fp16)s in fp16 (%(fp16_gib)s), %(int8)s int8, "
        "%(nf4)s NF4, %(dq)s NF4 + DQ: %(ratio)s and %(ratio_dq)s smaller than fp16 (the linear "
        "layers alone %(bits)s and %(bits_dq)s a weight; embeddings, lm_head and norms stay "
        "16-bit), double quantization saving %(saved)s. Training totals with LoRA $r$ = %(r)s "
        "on %(targets)s, $b$ = %(b)s, $s$ = %(s)s: %(totals)s; %(fitting)s %(smallest)s",
        model=m.arch.name, n=m.n, fp16=q(weights["fp16"] / GB, "gb"),
        fp16_gib=q(weights["fp16"] / GIB, "gib"), int8=q(weights["int8"] / GB, "gb"),
        nf4=q(weights["nf4"] / GB, "gb"), dq=q(weights["nf4_dq"] / GB, "gb"),
        ratio=q(figures["weights_ratio_fp16_over_nf4"], "x"),
        ratio_dq=q(figures["weights_ratio_fp16_over_nf4_dq"], "x"),
        bits=q(bits["nf4"], "bits"), bits_dq=q(bits["nf4_dq"], "bits"),
        saved=q(figures["dq_saved_gb"], "gb"), r=p.lora_r, targets=t(TARGET_LABELS[p.lora_targets]),
        b=p.batch_size, s=p.seq_len, totals=totals, fitting=_fitting(p, figures),
        smallest=t("QLoRA on NF4 + DQ needs at least the %(gpu)s GB GPU.", gpu=min_dq)
        if min_dq
        else t("QLoRA on NF4 + DQ fits none of the 24, 40, 48 and 80 GB GPUs."),
    )  # fmt: skip


def headline_of(p: QloraMemoryParams, m: Measured, figures: dict[str, float]) -> Text:
    fits = sum(int(figures[f"fits_{f}"]) for f in FORMATS)
    return t(
        "%(model)s: QLoRA (NF4 + double quantization) fine-tunes in %(qlora)s, full "
        "fine-tuning needs %(full)s; %(fits)s of the %(n)s setups fit the %(gpu)s GB GPU. "
        "The weights shrink from %(fp16)s in fp16 to %(dq)s, %(ratio)s smaller, not 4×: "
        "the absmax constants and the 16-bit embeddings stay.",
        model=m.arch.name, qlora=q(m.memory["nf4_dq"].total / GIB, "gib"),
        full=q(m.memory["full_fp16"].total / GIB, "gib"), fits=fits, n=len(FORMATS),
        gpu=p.gpu_gb, fp16=q(m.weights["fp16"] / GB, "gb"), dq=q(m.weights["nf4_dq"] / GB, "gb"),
        ratio=q(figures["weights_ratio_fp16_over_nf4_dq"], "x"),
    )  # fmt: skip


def summary_of(p: QloraMemoryParams, m: Measured, figures: dict[str, float]) -> Table:
    columns: list[Text | str] = [
        t("Setup"), t("Base weights"), t("Training total"),
        t("Fits the %(gpu)s GB GPU", gpu=p.gpu_gb), t("Smallest GPU that fits"),
    ]  # fmt: skip
    rows: list[list[Cell]] = []
    for f in FORMATS:
        smallest = int(figures[f"min_gpu_gb_{f}"])
        rows.append(
            [
                t(FORMAT_TITLES[f]),
                q(m.weights[f] / GB, "gb"),
                q(m.memory[f].total / GIB, "gib"),
                t("yes") if figures[f"fits_{f}"] else t("no"),
                t("%(gpu)s GB", gpu=smallest) if smallest else t("none up to 80 GB"),
            ]  # fmt: skip
        )
    return Table(columns=columns, rows=rows)


SHARED_UNITS: dict[str, Unit] = {
    "total_params": "params",
    "quantized_params": "params",
    "kept_16bit_params": "params",
    "lora_params": "params",
    "gpu_gb": "gb",
    "activations_gb": "gb",
    "lora_train_state_gb": "gb",
    "dq_saved_gb": "gb",
}
PER_FORMAT_UNITS: dict[str, Unit] = {
    "weights_gb": "gb",
    "weights_gib": "gib",
    "total_gb": "gb",
    "total_gib": "gib",
    "fits": "plain",
    "margin_gib": "gib",
    "min_gpu_gb": "gb",
}


def figure_units() -> dict[str, Unit]:
    units = dict(SHARED_UNITS)
    for f in BASE_FORMATS:
        units |= {f"linear_bits_per_weight_{f}": "bits", f"model_bits_per_param_{f}": "bits"}
    for f in ("int8", "nf4", "nf4_dq"):
        units |= {f"weights_ratio_fp16_over_{f}": "x", f"linear_ratio_fp16_over_{f}": "x"}
    for f in FORMATS:
        units |= {f"{name}_{f}": unit for name, unit in PER_FORMAT_UNITS.items()}
    return units


def result_of(p: QloraMemoryParams, m: Measured) -> DemoResult:
    figures = figures_of(p, m)
    return DemoResult(
        figures=figures,
        series=series_of(p, m),
        checks=checks_of(p, m),
        conclusion=conclusion_of(p, m, figures),
        headline=headline_of(p, m, figures),
        summary=summary_of(p, m, figures),
        figure_units=figure_units(),
        figure_labels=figure_labels(),
    )


SHARED_FIGURES = (
    "total_params",
    "quantized_params",
    "kept_16bit_params",
    "lora_params",
    "gpu_gb",
    "activations_gb",
    "lora_train_state_gb",
    "dq_saved_gb",
)
PER_FORMAT_FIGURES = (
    "weights_gb",
    "weights_gib",
    "total_gb",
    "total_gib",
    "fits",
    "margin_gib",
    "min_gpu_gb",
)


def figure_names(params: QloraMemoryParams) -> list[str]:
    """The shared figures, bits per base format, fp16 ratios, then ``<figure>_<format>``."""
    return [
        *SHARED_FIGURES,
        *(
            f"{name}_{f}"
            for f in BASE_FORMATS
            for name in ("linear_bits_per_weight", "model_bits_per_param")
        ),
        *(
            f"{name}_{f}"
            for f in ("int8", "nf4", "nf4_dq")
            for name in ("weights_ratio_fp16_over", "linear_ratio_fp16_over")
        ),
        *(f"{name}_{f}" for f in FORMATS for name in PER_FORMAT_FIGURES),
    ]
