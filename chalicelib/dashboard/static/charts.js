// ECharts (bundled, /assets/echarts.min.js, loaded before the modules) behind three helpers.

const live = new Set();

export function disposeCharts() {
  for (const chart of live) chart.dispose();
  live.clear();
}

window.addEventListener("resize", () => { for (const chart of live) chart.resize(); });

/** Bars/lines over hourly labels; an optional `right` series gets its own (percent) axis. */
export function lineChart(el, labels, series, right) {
  const echarts = window.echarts;
  if (!echarts) { el.textContent = "图表库未加载"; return; }
  let chart = echarts.getInstanceByDom(el);
  if (!chart) { chart = echarts.init(el, null, { renderer: "canvas" }); live.add(chart); }
  const all = right ? [...series, { ...right, yAxisIndex: 1, itemStyle: { color: "#c0392b" } }] : series;
  chart.setOption({
    animation: false,
    tooltip: { trigger: "axis" },
    legend: { type: "scroll", top: 0 },
    grid: { left: 48, right: right ? 56 : 24, top: 40, bottom: 32 },
    xAxis: { type: "category", data: labels },
    yAxis: right
      ? [{ type: "value", name: "帖数" }, { type: "value", name: "负面%", min: 0, max: 100 }]
      : [{ type: "value", name: "帖数" }],
    series: all.length ? all : [{ type: "line", data: [] }],
  }, true);
}

/** Horizontal bars, one per label, the first label at the top (hot words, with their counts). */
export function barChart(el, labels, values, name) {
  const echarts = window.echarts;
  if (!echarts) { el.textContent = "图表库未加载"; return; }
  let chart = echarts.getInstanceByDom(el);
  if (!chart) { chart = echarts.init(el, null, { renderer: "canvas" }); live.add(chart); }
  chart.setOption({
    animation: false,
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    grid: { left: 96, right: 24, top: 16, bottom: 24 },
    xAxis: { type: "value", name },
    yAxis: { type: "category", data: [...labels].reverse() },
    series: [{ type: "bar", name, data: [...values].reverse() }],
  }, true);
}
