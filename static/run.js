// A run's page: live progress over server-sent events, then the result's charts.
// Without script the page refreshes itself until the run is done (see run.html).
(() => {
  "use strict";
  const box = document.getElementById("run");
  if (!box) return;
  const runId = box.dataset.run;

  function drawResultCharts() {
    const data = document.getElementById("series-data");
    if (!data || typeof Chart === "undefined") return;
    const series = JSON.parse(data.textContent);
    document.querySelectorAll("canvas.result-chart").forEach((canvas) => {
      const group = series.filter((s) => s.chart === canvas.dataset.chart);
      const first = group[0];
      const kind = first.kind === "scatter" ? "scatter" : first.kind;
      new Chart(canvas, {
        type: kind,
        data: {
          labels: kind === "bar" ? first.x : undefined,
          datasets: group.map((s) => ({
            label: s.name,
            data: kind === "bar" ? s.y : s.x.map((x, i) => ({ x, y: s.y[i] })),
            // A scatter series on a line chart (code values on a histogram) stays points.
            showLine: s.kind !== "scatter",
            pointRadius: s.x.length > 60 ? 0 : 2,
          })),
        },
        options: {
          animation: false,
          parsing: kind === "bar" ? undefined : false,
          scales: {
            x: kind === "bar"
              ? { stacked: !!first.stacked, title: { display: !!first.x_label, text: first.x_label } }
              : { type: "linear", title: { display: !!first.x_label, text: first.x_label } },
            y: { type: first.log_y ? "logarithmic" : "linear", stacked: !!first.stacked,
                 title: { display: !!first.y_label, text: first.y_label },
                 ticks: first.log_y ? { callback: (v) => Number(v).toExponential(0) } : {} },
          },
        },
      });
    });
  }

  if (box.dataset.finished === "true") {
    drawResultCharts();
    return;
  }
  const bar = document.getElementById("progress");
  const text = document.getElementById("progress-text");
  const status = document.getElementById("status");
  const canvas = document.getElementById("live-chart");
  let live = null;
  const events = new EventSource(`/api/runs/${runId}/events`);
  events.addEventListener("progress", (event) => {
    const p = JSON.parse(event.data);
    bar.max = p.total;
    bar.value = p.step;
    text.textContent = `${p.step}/${p.total}`;
    status.textContent = status.dataset.running || "running";
    const names = Object.keys(p.metrics || {});
    if (!names.length || typeof Chart === "undefined") return;
    if (!live) {
      live = new Chart(canvas, {
        type: "line",
        data: { datasets: names.map((n) => ({ label: n, data: [], pointRadius: 0 })) },
        options: { animation: false, parsing: false, scales: { x: { type: "linear" } } },
      });
    }
    live.data.datasets.forEach((d) => {
      if (p.metrics[d.label] !== undefined) d.data.push({ x: p.step, y: p.metrics[d.label] });
    });
    live.update("none");
  });
  events.addEventListener("done", () => {
    events.close();
    window.location.reload();
  });
})();
