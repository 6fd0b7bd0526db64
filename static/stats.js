// The stats page's charts, drawn from the numbers the page already shows in its tables
// (the JSON in #stats-data). Without script the tables are the charts.
(() => {
  "use strict";
  // The heatmap scrolls inside its box on a narrow screen: start at today's end.
  const heatmap = document.getElementById("heatmap");
  if (heatmap && heatmap.parentElement) {
    heatmap.parentElement.scrollLeft = heatmap.parentElement.scrollWidth;
  }
  const data = document.getElementById("stats-data");
  if (!data || typeof Chart === "undefined") return;
  const charts = JSON.parse(data.textContent);
  document.querySelectorAll("canvas.stats-chart").forEach((canvas) => {
    const chart = charts[canvas.dataset.chart];
    if (!chart) return;
    const twoAxes = chart.datasets.some((d) => d.yAxisID === "y1");
    const scales = { y: { beginAtZero: true, ticks: { precision: 0 } } };
    if (twoAxes) {
      scales.y1 = { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } };
    }
    new Chart(canvas, {
      type: "bar",
      data: chart,
      options: {
        animation: false,
        plugins: { legend: { display: chart.datasets.length > 1 } },
        scales,
      },
    });
  });
})();
