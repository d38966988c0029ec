// A 12-month SVG line chart of a profile's series, with the interval band
// that holds the true values when they are published with one.
import { t, num, monthShort, periodText } from "./i18n.js";

const NS = "http://www.w3.org/2000/svg";
const el = (name, attrs = {}, text) => {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
};

export function chart(series) {
  const W = 340, H = 170, L = 36, R = 8, T = 10, B = 26;
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "data-testid": "panel-chart" });
  const title = el("title", {}, t("ui.chart"));
  svg.appendChild(title);
  const s = (series || []).slice(-12);
  const desc = s.map((p) => `${periodText(p.month)}: ${p.count === null ? "≤ " + num(p.count_hi) : num(p.count)}`).join("; ");
  svg.appendChild(el("desc", {}, desc));
  if (!s.length) return svg;
  const hi = Math.max(1, ...s.map((p) => Math.max(p.count_hi ?? 0, p.count ?? 0)));
  const step = niceStep(hi / 4);
  const top = Math.ceil(hi / step) * step;
  const x = (i) => L + (s.length === 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (s.length - 1));
  const y = (v) => T + (H - T - B) * (1 - v / top);
  for (let v = 0; v <= top + 1e-9; v += step) {
    svg.appendChild(el("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: v === 0 ? "axis" : "grid" }));
    svg.appendChild(el("text", { x: L - 4, y: y(v) + 3, "text-anchor": "end" }, num(v)));
  }
  const banded = s.some((p) => p.count_lo !== p.count_hi);
  if (banded) {
    const up = s.map((p, i) => `${x(i)},${y(p.count_hi ?? 0)}`);
    const down = s.map((p, i) => `${x(i)},${y(p.count_lo ?? 0)}`).reverse();
    const band = el("polygon", { points: up.concat(down).join(" "), class: "band" });
    band.appendChild(el("title", {}, t("ui.chart_band")));
    svg.appendChild(band);
  }
  let d = "";
  s.forEach((p, i) => {
    if (p.count === null || p.count === undefined) { d += " "; return; }
    d += (d.trim() === "" || d.endsWith(" ") ? "M" : "L") + `${x(i)},${y(p.count)}`;
  });
  if (d.trim()) svg.appendChild(el("path", { d: d.trim().replace(/\s+/g, " "), class: "line" }));
  s.forEach((p, i) => {
    if (p.count !== null && p.count !== undefined) {
      const c = el("circle", { cx: x(i), cy: y(p.count), r: 2.5, class: "pt" });
      c.appendChild(el("title", {}, `${periodText(p.month)}: ${num(p.count)}`));
      svg.appendChild(c);
    }
    if (s.length <= 12 || i % 2 === 0) svg.appendChild(el("text", { x: x(i), y: H - B + 13, "text-anchor": "middle" }, monthShort(p.month)));
  });
  svg.appendChild(el("text", { x: L, y: H - 2, "text-anchor": "start" }, periodText(s[0].month.slice(0, 4))));
  return svg;
}

function niceStep(x) {
  const p = 10 ** Math.floor(Math.log10(Math.max(x, 1e-9)));
  for (const m of [1, 2, 5, 10]) if (m * p >= x) return Math.max(1, m * p);
  return Math.max(1, 10 * p);
}
