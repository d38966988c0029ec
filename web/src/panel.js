// The mahalla panel: names, population, category with reasons and
// indicators, comparisons, a 12-month chart, what-if and report (analysts).
import { t, label, num, signed, percent, count, periodText, unitName } from "./i18n.js";
import { chart } from "./chart.js";

function h(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v; else if (k.startsWith("on")) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v === true ? "" : v);
  }
  for (const k of kids) if (k !== null && k !== undefined && k !== false) e.append(k);
  return e;
}

const indicatorValue = (ind) => {
  const d = ind.unit === "count" ? 0 : ind.unit === "share" || ind.unit === "z" ? 2 : 1;
  return (v) => (v === null || v === undefined ? "–" : num(v, d));
};

function comparisonRow(key, c) {
  if (!c) return null;
  const sig = c.significant === null || c.significant === undefined ? "–" : c.significant ? t("ui.yes") : t("ui.no");
  return h("tr", {},
    h("th", { scope: "row" }, t("ui.compare." + key), h("br"), h("small", {}, c.period ? periodText(c.period.label) : "")),
    h("td", { class: "num" }, count(c.base, c.base_lo, c.base_hi)),
    h("td", { class: "num" }, signed(c.diff)),
    h("td", { class: "num" }, percent(c.percent)),
    h("td", { class: "num" }, c.z === null || c.z === undefined ? "–" : signed(c.z, 2)),
    h("td", { class: c.significant ? "fired" : "" }, sig));
}

/** renderPanel fills the panel. opts: {analyst, onClose, onReport} */
export function renderPanel(root, p, opts) {
  const st = p.stats || {};
  const u = p.unit || {};
  const cls = p.classification && p.classification.result;
  const kids = [];
  kids.push(h("header", {},
    h("h2", { id: "panel-name", "data-testid": "panel-name", tabindex: "-1" }, unitName(u)),
    h("button", { type: "button", "data-testid": "panel-close", "aria-label": t("ui.close"), title: t("ui.close"), onclick: opts.onClose }, "×")));
  const others = Object.entries(u.names || {}).filter(([l, n]) => n && n !== unitName(u)).map(([, n]) => n);
  kids.push(h("p", { class: "sub" }, [unitName(p.district), p.period ? periodText(p.period.label) : ""].filter(Boolean).join(" · ")));
  if (others.length) kids.push(h("p", { class: "sub", "aria-label": t("ui.other_names") }, [...new Set(others)].join(" / ")));

  const popLabel = u.population_year ? t("ui.population_year", u.population_year) : t("ui.population");
  kids.push(h("dl", {},
    h("dt", {}, popLabel), h("dd", {}, u.population ? num(u.population) : "–"),
    h("dt", {}, t("ui.count")), h("dd", {}, h("span", { "data-testid": "panel-count", "data-value": st.count === null || st.count === undefined ? "null" : String(st.count) }, count(st.count, st.count_lo, st.count_hi))),
    h("dt", {}, t("ui.metric.rate")), h("dd", {}, st.rate_per_1000 === null || st.rate_per_1000 === undefined ? "–" : num(st.rate_per_1000, 1))));
  if (st.count !== null && st.count_lo !== st.count_hi) kids.push(h("p", { class: "sub" }, t("ui.legend.public_note")));
  if (st.count === null && st.count_hi !== undefined) kids.push(h("p", { class: "sub" }, t("ui.withheld", num(st.count_hi))));

  // Category, reasons, indicators.
  kids.push(h("h3", {}, t("ui.category")));
  const catP = h("p", { "data-testid": "panel-category", "data-category": cls ? cls.category : "" });
  if (cls && cls.category) {
    catP.append(h("span", { class: `cat ${cls.category}` }, label("mahalla_category", cls.category)), " ", label("mahalla_category_note", cls.category));
  } else {
    catP.append(t("ui.legend.no_classification"));
  }
  kids.push(catP);
  if (cls) {
    const inds = cls.indicators || [];
    const reasons = [];
    if (cls.rule) reasons.push(label("reason", cls.rule));
    for (const ind of inds.filter((i) => i.fired)) {
      const f = indicatorValue(ind);
      reasons.push(t("reason.indicator_fired", label("indicator", ind.name), f(ind.value), f(ind.threshold)));
    }
    if (reasons.length) kids.push(h("h3", {}, t("ui.reasons")), h("ul", { class: "reasons" }, ...reasons.map((r) => h("li", {}, r))));
    if (inds.length) {
      kids.push(h("h3", {}, t("ui.indicators")), h("table", {},
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("ui.indicator")), h("th", { scope: "col", class: "num" }, t("ui.value")), h("th", { scope: "col", class: "num" }, t("ui.threshold")), h("th", { scope: "col" }, t("ui.fired")))),
        h("tbody", {}, ...inds.map((ind) => {
          const f = indicatorValue(ind);
          return h("tr", { class: ind.fired ? "fired" : "" }, h("td", {}, label("indicator", ind.name)), h("td", { class: "num" }, f(ind.value)), h("td", { class: "num" }, f(ind.threshold)), h("td", {}, ind.fired ? t("ui.yes") : t("ui.no")));
        }))));
    }
    const extra = [];
    if (cls.rank) extra.push(h("dt", {}, t("ui.rank")), h("dd", {}, num(cls.rank)));
    if (cls.streak) extra.push(h("dt", {}, t("ui.streak")), h("dd", {}, num(cls.streak)));
    if (extra.length) kids.push(h("dl", {}, ...extra));
    if (!inds.length && !opts.analyst) kids.push(h("p", { class: "sub" }, t("ui.classification_public")));
  }

  // Comparisons.
  kids.push(h("h3", {}, t("ui.comparisons")), h("table", {},
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, ""), h("th", { scope: "col", class: "num" }, t("ui.base")), h("th", { scope: "col", class: "num" }, t("ui.diff")), h("th", { scope: "col", class: "num" }, t("ui.percent")), h("th", { scope: "col", class: "num" }, "z"), h("th", { scope: "col" }, t("ui.significant")))),
    h("tbody", {}, comparisonRow("previous", st.previous), comparisonRow("last_year", st.last_year))));

  if (Array.isArray(st.by_kind) && st.by_kind.length) {
    kids.push(h("h3", {}, t("ui.by_kind")), h("table", {}, h("tbody", {}, ...st.by_kind.map((r) =>
      h("tr", {}, h("th", { scope: "row" }, label("kind", r.group)), h("td", { class: "num" }, count(r.count, r.count_lo, r.count_hi)))))));
  }

  kids.push(h("h3", {}, t("ui.chart")), chart(p.series));

  const hs = p.hotspots;
  if (hs && Array.isArray(hs.cells)) kids.push(h("p", { class: "sub" }, t("ui.hot_cells", hs.cells.length)));

  if (opts.analyst) {
    const wf = h("section", { "data-testid": "panel-whatif", "aria-labelledby": "whatif-h" }, h("h3", { id: "whatif-h" }, t("ui.whatif")));
    const w = cls && cls.what_if;
    if (w && Array.isArray(w.changes) && w.changes.length) {
      wf.append(h("p", {}, t("ui.whatif_target", label("mahalla_category", w.target))),
        h("ul", {}, ...w.changes.map((c) => h("li", {}, t("ui.whatif_change", label("indicator", c.indicator), num(c.from, Number.isInteger(c.from) ? 0 : 2), num(c.to, Number.isInteger(c.to) ? 0 : 2))))));
    } else {
      wf.append(h("p", { class: "sub" }, t("ui.whatif_none")));
    }
    kids.push(wf);
    kids.push(h("p", {}, h("button", { type: "button", "data-testid": "panel-report", onclick: opts.onReport }, t("ui.report", "PDF"))));
  }
  root.replaceChildren(...kids);
}
