// A run's page: live progress over server-sent events, then the result's charts.
// Without script the page refreshes itself until the run is done (see run.html).
(() => {
  "use strict";
  const box = document.getElementById("run");
  if (!box) return;
  const runId = box.dataset.run;
  const zh = (document.documentElement.lang || "").startsWith("zh");

  // Okabe–Ito: distinct for colour-blind readers, the same in light and dark (black,
  // invisible on a dark page, is replaced by grey).
  const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9",
    "#F0E442", "#999999"];
  const colour = (i) => PALETTE[i % PALETTE.length];
  // Past the eighth series a colour comes back: its bars are filled lighter (outlined in
  // the full colour), so the ninth bar is not read as the first.
  const fill = (i) => (i < PALETTE.length ? colour(i) : `${colour(i)}66`);
  // Series that lie on top of each other (a prediction over the measured line) stay
  // apart by their marks: each series its own point shape and line dash.
  const POINT_STYLES = ["circle", "triangle", "rect", "rectRot", "crossRot", "star", "rectRounded", "cross"];
  const DASHES = [[], [6, 4], [2, 3], [10, 3, 2, 3]];

  // Chart text follows the page's colours (readable in dark mode).
  function themeChartDefaults() {
    if (typeof Chart === "undefined") return;
    const css = getComputedStyle(document.documentElement);
    const fg = css.getPropertyValue("--fg").trim() || "#1b1f24";
    const line = css.getPropertyValue("--line").trim() || "#d1d9e0";
    Chart.defaults.color = fg;
    Chart.defaults.borderColor = line;
    Chart.defaults.font.size = 13;
  }

  const SUP = { "-": "⁻", 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹" };

  // The same rules as app/web/demo_text.py: no exponent notation, three significant digits.
  function sig(v, digits = 3) {
    if (!Number.isFinite(v)) return String(v);
    if (v === 0) return "0";
    const mag = Math.floor(Math.log10(Math.abs(v)));
    if (mag < -3 || mag >= 15) {
      const m = Number((v / 10 ** mag).toFixed(digits - 1));
      return `${m}×10${String(mag).split("").map((c) => SUP[c]).join("")}`;
    }
    const decimals = Math.max(digits - 1 - mag, 0);
    return Number(v.toFixed(decimals)).toLocaleString("en-US", { maximumFractionDigits: decimals });
  }

  function compact(v) {
    const steps = zh ? [[1e12, "万亿"], [1e8, "亿"], [1e4, "万"]]
      : [[1e12, "T"], [1e9, "B"], [1e6, "M"], [1e3, "K"]];
    for (const [size, suffix] of steps) {
      if (Math.abs(v) >= size) return `${sig(v / size)} ${suffix}`;
    }
    return sig(v);
  }

  function format(v, unit) {
    switch (unit) {
      case "count": case "params": case "flops": return compact(v);
      case "bytes": {
        for (const [size, s] of [[1e12, "TB"], [1e9, "GB"], [1e6, "MB"], [1e3, "KB"]]) {
          if (Math.abs(v) >= size) return `${sig(v / size)} ${s}`;
        }
        return `${sig(v)} B`;
      }
      case "gb": return `${sig(v)} GB`;
      case "gib": return `${sig(v)} GiB`;
      case "mb": return `${sig(v)} MB`;
      case "pct": return `${sig(v)} %`;
      case "ratio": return `${sig(v * 100)} %`;
      case "x": return `${sig(v)}×`;
      case "s": return `${sig(v)} s`;
      case "ms": return `${sig(v)} ms`;
      case "us": return `${sig(v)} µs`;
      case "loss": return sig(v, 4);
      default: return sig(v);
    }
  }

  // A category's name in lines of about `width` columns (a CJK character is two), so a
  // phone shows it level instead of slanted off the canvas.
  function wrap(text, width = 16) {
    const size = (t) => [...t].reduce((n, ch) => n + (ch.codePointAt(0) >= 0x2e80 ? 2 : 1), 0);
    const lines = [];
    let line = "";
    const add = (piece) => {
      if (line.trim() && size(line + piece) > width) {
        lines.push(line.trimEnd());
        line = "";
      }
      line += piece;
    };
    for (const word of String(text).split(/(?<= )/)) {
      if (size(word) <= width) add(word);
      else for (const ch of word) add(ch);
    }
    if (line.trim()) lines.push(line.trimEnd());
    return lines.length > 1 ? lines : (lines[0] || "");
  }

  // The legend: on a phone smaller swatches and text, so many series take fewer rows.
  function legendOptions(narrow, pointStyle) {
    return { display: true, position: "bottom",
             // (A point style's radius is 0.7 × boxHeight: 7 px makes a 10 px mark.)
             labels: { usePointStyle: pointStyle, boxWidth: narrow ? 10 : 40,
                       boxHeight: narrow ? (pointStyle ? 7 : 10) : 12,
                       padding: narrow ? 6 : 10, font: { size: narrow ? 11 : 13 },
                       sort: (a, b) => a.datasetIndex - b.datasetIndex } };
  }

  // A plot squeezed by its legend (nine series on a phone) or too short for its rows
  // (a horizontal bar chart) gets a taller box: the plot keeps at least `least` px.
  function fitHeight(chart, canvas, least) {
    const box = canvas.parentElement;
    const plot = chart.chartArea ? chart.chartArea.height : least;
    if (!box || plot >= least) return;
    box.style.height = `${Math.ceil(box.clientHeight + least - plot)}px`;
    chart.resize();
  }

  // The x values of a bar chart, in order, over every series (a chart with one series
  // per category has one x in each).
  function barPositions(spec) {
    if (spec.categories) return spec.categories.map((_, i) => i);
    const xs = new Set();
    for (const s of spec.datasets) for (const x of s.x) xs.add(x);
    return [...xs].sort((a, b) => a - b);
  }

  function dataset(spec, s, i, positions) {
    const common = { label: s.name, borderColor: colour(i), backgroundColor: fill(i) };
    if (positions) {
      // One value per category, null where this series has none (skipNull keeps the
      // bars of a one-series-per-category chart centred over their names).
      const at = new Map(s.x.map((x, j) => [x, s.y[j]]));
      return { ...common, data: positions.map((x) => (at.has(x) ? at.get(x) : null)),
               skipNull: true, borderWidth: i < PALETTE.length ? 0 : 2 };
    }
    const scatter = s.kind === "scatter";
    const many = s.x.length > 60;
    return {
      ...common,
      data: s.x.map((x, j) => ({ x, y: s.y[j] })),
      showLine: !scatter,
      borderWidth: 2,
      borderDash: DASHES[i % DASHES.length],
      pointStyle: POINT_STYLES[i % POINT_STYLES.length],
      // Marks drawn over the lines: hollow and larger than the first series' points, so
      // both show where they coincide.
      pointRadius: scatter ? 5 : many ? 0 : 2 + Math.min(i, 2),
      pointBackgroundColor: i === 0 && !scatter ? colour(i) : "transparent",
      pointBorderWidth: scatter ? 2 : 1.5,
      order: scatter ? -1 : i,
    };
  }

  function resultChart(canvas, spec) {
    const cats = spec.categories;
    const kind = spec.kind === "scatter" ? "scatter" : spec.kind;
    const categorical = kind === "bar";
    const labelOf = (x) => (cats && Number.isInteger(x) && cats[x] !== undefined ? cats[x] : sig(x));
    const positions = categorical ? barPositions(spec) : null;
    // Named categories are all written (slanted if need be); numbered bars (48 singular
    // values) show as many numbers as fit.
    const named = !!cats && positions.length <= 16;
    // On a phone five or more named bars lie down: their names read level on the left,
    // wrapped, instead of slanted and clipped under a squat plot.
    const narrow = (canvas.parentElement ? canvas.parentElement.clientWidth : 800) < 600;
    const horizontal = categorical && named && narrow && positions.length >= 5;
    const WRAP = 20;
    const valueKey = horizontal ? "x" : "y";
    const yTicks = {
      maxTicksLimit: spec.log_y ? 6 : narrow && horizontal ? 5 : 8,
      callback: (v) => format(Number(v), spec.unit),
      // Lying bars' values run along the bottom: level, as many as fit.
      ...(horizontal ? { maxRotation: 0, autoSkip: true, autoSkipPadding: 12 } : {}),
    };
    const categoryAxis = {
      stacked: spec.stacked, title: { display: !!spec.x_label, text: spec.x_label },
      ticks: horizontal
        ? { autoSkip: false, font: { size: 12 }, callback(v) { return wrap(this.getLabelForValue(v), WRAP); } }
        : named ? { autoSkip: false, maxRotation: narrow ? 50 : 60,
                    callback(v) { return narrow ? wrap(this.getLabelForValue(v), 14) : this.getLabelForValue(v); } }
          : { autoSkip: true, autoSkipPadding: 10, maxRotation: 0 },
    };
    const valueAxis = {
      type: spec.log_y ? "logarithmic" : "linear", stacked: spec.stacked,
      title: { display: !!spec.y_label, text: spec.y_label }, ticks: yTicks,
      afterBuildTicks: spec.log_y ? (axis) => {
        // A log axis: powers of ten when there are two, else round values (no
        // crowded bound ticks like 0.0077 beside 0.008).
        const mantissa = (v) => v / 10 ** Math.floor(Math.log10(v) + 1e-9);
        const decades = axis.ticks.filter((t) => Math.abs(mantissa(t.value) - 1) < 1e-9);
        const round = axis.ticks.filter((t) => {
          const m = mantissa(t.value);
          return Math.abs(m - Math.round(m)) < 1e-9;
        });
        if (decades.length >= 2) axis.ticks = decades;
        else if (round.length >= 2) axis.ticks = round;
      } : undefined,
    };
    const lineX = { type: "linear", title: { display: !!spec.x_label, text: spec.x_label },
                    ticks: { maxTicksLimit: 8, maxRotation: 0, autoSkipPadding: 10,
                             callback: (v) => (cats ? labelOf(Number(v)) : sig(Number(v))) } };
    const scales = horizontal ? { x: valueAxis, y: categoryAxis }
      : { x: categorical ? categoryAxis : lineX, y: valueAxis };
    const chart = new Chart(canvas, {
      type: kind,
      data: {
        labels: categorical ? positions.map(labelOf) : undefined,
        datasets: spec.datasets.map((s, i) => dataset(spec, s, i, positions)),
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        indexAxis: horizontal ? "y" : "x",
        parsing: categorical ? undefined : false,
        plugins: {
          legend: legendOptions(narrow, !categorical),
          tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${format(c.parsed[valueKey], spec.unit)}` } },
        },
        scales,
      },
    });
    // Lying bars: a row per category, tall enough for its name's lines (a grouped chart:
    // for a bar per series too).
    let rows = 0;
    if (horizontal) {
      const bars = spec.stacked ? 1
        : Math.max(...positions.map((x) => spec.datasets.filter((d) => d.x.includes(x)).length));
      const lines = Math.max(...positions.map((x) => [].concat(wrap(labelOf(x), WRAP)).length));
      rows = positions.length * Math.max(15 * lines + 10, 14 + 10 * bars);
    }
    fitHeight(chart, canvas, Math.max(narrow ? 170 : 200, rows));
  }

  function drawResultCharts() {
    const data = document.getElementById("series-data");
    if (!data || typeof Chart === "undefined") return;
    const charts = JSON.parse(data.textContent);
    for (const spec of charts) {
      const canvas = document.getElementById(spec.id);
      if (canvas) resultChart(canvas, spec);
    }
  }

  themeChartDefaults();
  if (box.dataset.finished === "true") {
    drawResultCharts();
    return;
  }
  const bar = document.getElementById("progress");
  const text = document.getElementById("progress-text");
  const status = document.getElementById("status");
  const canvas = document.getElementById("live-chart");  // absent for a count demo
  let live = null;
  const events = new EventSource(`/api/runs/${runId}/events`);
  events.addEventListener("progress", (event) => {
    const p = JSON.parse(event.data);
    bar.max = p.total;
    bar.value = p.step;
    text.textContent = `${p.step}/${p.total}`;
    status.textContent = status.dataset.running || "running";
    const names = Object.keys(p.metrics || {});
    if (!canvas || !names.length || typeof Chart === "undefined") return;
    if (!live) {
      live = new Chart(canvas, {
        type: "line",
        data: { datasets: [] },
        options: { animation: false, parsing: false, maintainAspectRatio: false,
                   plugins: { legend: legendOptions(canvas.parentElement.clientWidth < 600, false) },
                   scales: { x: { type: "linear" }, y: { ticks: { callback: (v) => sig(Number(v)) } } } },
      });
    }
    // A metric first seen later (the next phase of a run) is a series of its own, named
    // in the page's language (the server sends each key's label).
    const labels = p.labels || {};
    for (const name of names) {
      let d = live.data.datasets.find((s) => s.key === name);
      if (!d) {
        const i = live.data.datasets.length;
        d = { key: name, label: labels[name] || name, data: [], pointRadius: 0,
              borderColor: colour(i), backgroundColor: colour(i) };
        live.data.datasets.push(d);
      }
      d.data.push({ x: p.step, y: p.metrics[name] });
    }
    live.update("none");
  });
  events.addEventListener("done", () => {
    events.close();
    window.location.reload();
  });
})();
