// The legend of the selected layer and metric.
import { t, label, num } from "./i18n.js";
import { NODATA, VIRIDIS, RDBU, CATEGORY, HOTSPOT, EMERGING, EVENT_KIND, CLUSTER } from "./palettes.js";
import { HEX_BREAKS } from "./layers.js";

function h(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v; else if (k === "style") e.style.cssText = v; else e.setAttribute(k, v);
  }
  for (const k of kids) if (k !== null && k !== undefined) e.append(k);
  return e;
}
const item = (colour, text, opacity = 1, round = false) =>
  h("li", {}, h("span", { class: "sw" + (round ? " round" : ""), style: `background:${colour};opacity:${opacity}`, "aria-hidden": "true" }), text);

function steps(breaks, colours, decimals) {
  const out = [];
  const f = (v) => num(v, decimals);
  for (let i = 0; i <= breaks.length; i++) {
    let text;
    if (i === 0) text = `< ${f(breaks[0])}`;
    else if (i === breaks.length) text = `≥ ${f(breaks[i - 1])}`;
    else text = `${f(breaks[i - 1])} – < ${f(breaks[i])}`;
    out.push(item(colours[i], text));
  }
  return out;
}

/** render fills the legend element. ctx: {layer, metric, compare, breaks, exact, zoom, district, months, hasCategory} */
export function renderLegend(root, ctx) {
  root.replaceChildren();
  const title = h("h2", { id: "legend-title" });
  const list = h("ul", { "aria-labelledby": "legend-title" });
  const notes = [];
  root.append(title, list);
  switch (ctx.layer) {
    case "mahallas":
      if (ctx.metric === "category") {
        title.textContent = t("ui.legend.category");
        for (const c of ["red", "yellow", "green"]) list.append(item(CATEGORY[c], `${label("mahalla_category", c)} — ${label("mahalla_category_note", c)}`));
        if (!ctx.hasCategory) notes.push(h("p", { class: "hint" }, t("ui.legend.no_classification")));
      } else if (ctx.metric === "change") {
        title.textContent = `${t("ui.legend.change")} (${t("ui.compare." + ctx.compare)})`;
        list.append(item(RDBU.sigUp3, t("ui.legend.sig_up") + " (z ≥ 3)"), item(RDBU.sigUp, t("ui.legend.sig_up") + " (2 ≤ z < 3)"),
          item(RDBU.up, t("ui.legend.ns_up"), 0.5), item(RDBU.down, t("ui.legend.ns_down"), 0.5),
          item(RDBU.sigDown, t("ui.legend.sig_down") + " (−3 < z ≤ −2)"), item(RDBU.sigDown3, t("ui.legend.sig_down") + " (z ≤ −3)"));
        notes.push(h("p", { class: "note" }, t("ui.legend.z_note")));
      } else {
        title.textContent = ctx.metric === "rate" ? t("ui.metric.rate") : t("ui.legend.count");
        list.append(...steps(ctx.breaks, VIRIDIS, ctx.metric === "rate" ? 1 : 0));
      }
      list.append(item(NODATA, t("ui.legend.no_data")));
      break;
    case "hexbins":
      title.textContent = t("ui.legend.hexbins");
      list.append(...steps(HEX_BREAKS, VIRIDIS, 2), item(NODATA, t("ui.legend.no_data")));
      notes.push(h("p", { class: "note" }, t("ui.legend.hexbins_note")));
      break;
    case "hotspots":
      title.textContent = label("map", "hotspots");
      for (const [b, k] of [[3, "hot_99"], [2, "hot_95"], [1, "hot_90"], [0, "not_significant"], [-1, "cold_90"], [-2, "cold_95"], [-3, "cold_99"]])
        list.append(item(HOTSPOT[b], label("hotspot", k), b === 0 ? 0.4 : 1));
      if (ctx.zoom < 8) notes.push(h("p", { class: "hint", id: "zoom-hint" }, t("ui.legend.zoom_hotspots")));
      notes.push(h("p", { class: "note" }, t("ui.legend.hotspots_note")));
      break;
    case "emerging":
      title.textContent = t("ui.layer.emerging");
      for (const [k, c] of Object.entries(EMERGING)) list.append(item(c, label("emerging", k.replace(/ /g, "_"))));
      list.append(item("#ffffff", label("emerging", "no_pattern_detected"), 0.4));
      if (!ctx.district) notes.push(h("p", { class: "hint" }, t("ui.legend.pick_district")));
      break;
    case "events":
      title.textContent = t("ui.layer.events");
      list.append(item(CLUSTER, t("ui.legend.clusters"), 0.75, true));
      for (const [k, c] of Object.entries(EVENT_KIND)) list.append(item(c, label("kind", k), 1, true));
      notes.push(h("p", { class: "note" }, t("ui.legend.events_note")));
      break;
  }
  if (!ctx.exact && ctx.layer !== "events") notes.push(h("p", { class: "note", "data-testid": "legend-public-note" }, t("ui.legend.public_note")));
  root.append(...notes);
}
