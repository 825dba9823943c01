// The merge page's plots as SVG drawn here from the report's numbers: the objective per step and the λ heatmap
// (layers × tasks, each cell naming its layer, task and value on hover and to screen readers).
import { h, svg } from "./dom.js";

const fixed = (v, digits = 3) => Number(v).toFixed(digits);

function ticks(low, high, count) {
  if (!(high > low)) return [low];
  const step = Math.pow(10, Math.floor(Math.log10((high - low) / count)));
  const nice = [1, 2, 5, 10].map(m => m * step).find(s => (high - low) / s <= count) ?? step * 10;
  const first = Math.ceil(low / nice) * nice;
  return Array.from({ length: Math.floor((high - first) / nice) + 1 }, (_, i) => first + i * nice);
}

// points are [step, value] pairs in step order; update() redraws with more of them.
export function lineChart(points, { title = "entropy", width = 640, height = 260 } = {}) {
  const pad = { left: 56, right: 12, top: 12, bottom: 36 };
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", class: "chart", "aria-label": `${title} per step` });
  const draw = series => {
    chart.replaceChildren();
    if (series.length === 0) return;
    const data = series.map(p => p[1]);
    const first = series[0][0], lastStep = series[series.length - 1][0];
    const low = Math.min(...data), high = Math.max(...data);
    const span = high - low || Math.abs(high) || 1;
    const y0 = low - 0.05 * span, y1 = high + 0.05 * span;
    const x = step => pad.left + (lastStep === first ? 0 : ((step - first) / (lastStep - first)) * (width - pad.left - pad.right));
    const y = v => pad.top + (1 - (v - y0) / (y1 - y0)) * (height - pad.top - pad.bottom);
    for (const t of ticks(y0, y1, 5))
      chart.append(svg("line", { x1: pad.left, x2: width - pad.right, y1: y(t), y2: y(t), class: "grid" }),
        svg("text", { x: pad.left - 6, y: y(t) + 4, "text-anchor": "end" }, String(Number(t.toPrecision(4)))));
    for (const t of ticks(first, lastStep, 6).filter(Number.isInteger))
      chart.append(svg("text", { x: x(t), y: height - pad.bottom + 16, "text-anchor": "middle" }, String(t)));
    chart.append(svg("text", { x: (width + pad.left) / 2, y: height - 4, "text-anchor": "middle" }, "step"));
    chart.append(svg("polyline", { points: series.map(([s, v]) => `${fixed(x(s), 1)},${fixed(y(v), 1)}`).join(" "), class: "line" }));
    const [step, value] = series[series.length - 1];
    chart.append(svg("circle", { cx: x(step), cy: y(value), r: 3, class: "point" }, svg("title", {}, `step ${step}: ${title} ${fixed(value, 4)}`)));
  };
  draw(points);
  return { element: chart, update: draw };
}

// λ per layer (rows) and task (columns), 0 white to 1 dark; hovering a cell names it below the plot as well.
export function heatmap(coefficients, taskNames) {
  const cellWidth = Math.max(28, Math.min(80, Math.floor(560 / taskNames.length))), cellHeight = coefficients.length > 80 ? 4 : 12;
  const left = 8, top = 64;
  const width = left + cellWidth * taskNames.length + 8, height = top + cellHeight * coefficients.length + 8;
  const label = h("p", { class: "hover-label", "aria-live": "polite" }, "Point at a cell to see its layer.");
  const plot = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", class: "heatmap", "aria-label": `λ for ${coefficients.length} layers × ${taskNames.length} tasks` });
  taskNames.forEach((name, k) => plot.append(svg("text", {
    x: left + (k + 0.5) * cellWidth, y: top - 6, transform: `rotate(-35 ${left + (k + 0.5) * cellWidth} ${top - 6})`,
  }, name)));
  coefficients.forEach((row, i) => row.lambda.forEach((value, k) => {
    const text = `${row.layer} · ${taskNames[k]}: λ = ${fixed(value)}`;
    const cell = svg("rect", {
      x: left + k * cellWidth, y: top + i * cellHeight, width: cellWidth, height: cellHeight, class: "cell",
      fill: `hsl(215, 70%, ${fixed(97 - 65 * Math.max(0, Math.min(1, value)), 1)}%)`, "data-layer": row.layer,
    }, svg("title", {}, text));
    cell.addEventListener("mouseenter", () => { label.textContent = text; });
    plot.append(cell);
  }));
  return h("figure", { class: "heatmap-figure" }, plot, label,
    h("figcaption", {}, "Learned λ (clamped to [0, 1]): one row per layer, one column per task; darker is larger."));
}
