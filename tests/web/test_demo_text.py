"""Demo text on pages: numbers formatted for people in each language (never ``e+06``),
messages translated with their arguments filled in, math rendered, plain strings of
old results escaped."""

from __future__ import annotations

import pytest

from app.demos.text import q, t
from app.i18n import set_language
from app.web.demo_text import (
    as_unit,
    demo_text,
    format_number,
    format_quantity,
    format_spread,
    plain_text,
)


@pytest.mark.parametrize(
    ("value", "unit", "en", "zh"),
    [
        (3.40787e6, "params", "3.41 M", "341 万"),
        (7e9, "count", "7 B", "70 亿"),
        (512, "count", "512", "512"),
        (0.0468, "pct", "0.0468 %", "0.0468 %"),
        (0.25, "ratio", "25 %", "25 %"),
        (6.8e6, "bytes", "6.8 MB", "6.8 MB"),
        (13.5, "gb", "13.5 GB", "13.5 GB"),
        (2.345, "x", "2.35×", "2.35×"),
        (0.012, "s", "12 ms", "12 ms"),
        (1.3e-5, "loss", "1.3×10⁻⁵", "1.3×10⁻⁵"),
        (4.127, "bits", "4.13 bits", "4.13 比特"),
    ],
)
def test_quantities_read_like_people_write_them(value: float, unit: str, en: str, zh: str) -> None:
    set_language("en")  # a unit's name follows the thread's language
    assert format_quantity(value, unit, "en") == en  # type: ignore[arg-type]
    set_language("zh")
    assert format_quantity(value, unit, "zh") == zh  # type: ignore[arg-type]


def test_no_exponent_notation_for_any_magnitude() -> None:
    for exponent in range(-12, 16):
        for unit in ("plain", "loss", "count", "bytes", "pct"):
            text = format_quantity(1.2345 * 10**exponent, unit, "en")
            assert "e+" not in text and "e-" not in text, text
    assert format_number(3) == "3" and format_number(12345.0) == "12,345"


def test_a_text_is_translated_filled_and_rendered() -> None:
    # "Random seed" is a catalogue msgid (app/demos/base.py); args nest.
    text = t("%(label)s: **%(n)s**, $\\|A\\|_F$", label=t("Random seed"), n=q(3.4e6, "params"))
    set_language("zh")
    html = str(demo_text(text.model_dump()))  # a stored result is JSON
    assert "随机种子: <strong>340 万</strong>" in html and "<math" in html
    assert plain_text(text) == "随机种子: 340 万, ‖A‖F"
    set_language("en")
    assert "Random seed: <strong>3.4 M</strong>" in str(demo_text(text))


def test_old_plain_strings_are_escaped_and_bad_args_fall_back() -> None:
    assert str(demo_text("<b>old</b> 3.40787e+06")) == "&lt;b&gt;old&lt;/b&gt; 3.40787e+06"
    assert "<script" not in str(demo_text(t("x %(a)s", a="<script>alert(1)</script>")))
    # A placeholder the args lack does not break the page: the msgid shows.
    assert str(demo_text(t("missing %(b)s", a=1))) == "missing %(b)s"


def test_the_every_figure_table_sets_a_labels_formula_as_math() -> None:
    """A figure's label is demo text: its ``$..$`` is MathML in the details table, not
    the formula's letters run together ("WUKWDKV")."""
    from app.demos.base import DemoResult
    from app.web.demo_view import result_view

    set_language("en")
    result = DemoResult(
        figures={"unmerge_max_abs_diff": 1e-5, "unlabelled": 2.0},
        conclusion="done",
        figure_labels={"unmerge_max_abs_diff": t("Largest $|W - W_0|$ after unmerging")},
    )
    (name, label, _), (other, raw, _) = result_view(result).figures
    assert name == "unmerge_max_abs_diff" and "<math" in label and "Largest" in label
    assert (other, raw) == ("unlabelled", "unlabelled")


@pytest.mark.parametrize(
    ("mean", "sd", "unit", "en", "zh"),
    [
        # A ratio reads in percent, its SD too (an accuracy drop of 0.047 is 4.7 %).
        (0.047, 0.0031, "ratio", "4.7 % ± 0.31 %", "4.7 % ± 0.31 %"),
        # Counts: the mean's step (M, 万) for the SD as well.
        (3.40787e6, 12_345.0, "params", "3.41 M ± 0.012 M", "341 万 ± 1.2 万"),
        (1234.0, 56.0, "us", "1.23 ms ± 0.056 ms", "1.23 ms ± 0.056 ms"),
        (13.476, 0.02, "gb", "13.5 GB ± 0.02 GB", "13.5 GB ± 0.02 GB"),
        (2.31449, 0.0123, "loss", "2.314 ± 0.012", "2.314 ± 0.012"),
        (4.127, 0.1, "bits", "4.13 bits ± 0.1 bits", "4.13 比特 ± 0.1 比特"),
        # A mean of zero takes the SD's scale, not seconds.
        (0.0, 2e-6, "s", "0 µs ± 2 µs", "0 µs ± 2 µs"),
        # Without a unit, a number as before; one run, the value alone.
        (0.42134, 0.0612, None, "0.4213 ± 0.061", "0.4213 ± 0.061"),
        (13_476_831_232.0, None, None, "13,476,831,232", "13,476,831,232"),
        (0.0468, None, "pct", "0.0468 %", "0.0468 %"),
    ],
)
def test_a_mean_and_its_sd_read_in_the_figures_unit(
    mean: float, sd: float | None, unit: str | None, en: str, zh: str
) -> None:
    set_language("en")
    assert format_spread(mean, sd, as_unit(unit)) == en
    set_language("zh")
    assert format_spread(mean, sd, as_unit(unit)) == zh
    assert as_unit("furlongs") is None  # a unit this code lacks: a number


def test_a_formulas_scripts_survive_as_plain_text() -> None:
    """A chart's axis title and a details summary are plain text: 10⁹, not 109."""
    set_language("zh")
    assert plain_text(t("GB ($10^9$ bytes)")) == "GB（10⁹ 字节）"
    set_language("en")
    assert plain_text(t("GiB ($2^{30}$ B)")) == "GiB (2³⁰ B)"
    assert plain_text(t(r"$\frac{\alpha}{r}$, $N(0, 1/r^2)$, $\sigma_i$")) == "α/r, N(0,1/r²), σᵢ"
    # An index with no Unicode subscript runs on, as before.
    assert plain_text(t(r"$\|A_T\|_F$")) == "‖AT‖F"
