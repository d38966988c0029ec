// The analysts' web map: wiring of state, controls, map and panel.
import maplibregl from "maplibre-gl";
import "maplibre-gl/dist/maplibre-gl.css";
import "./styles.css";
import { api, auth, isAbort, setRetryHook, saveBlob } from "./api.js";
import * as i18n from "./i18n.js";
import { t, label, num, count, signed, percent, periodText, unitName } from "./i18n.js";
import * as P from "./periods.js";
import { readURL, writeURL, LAYERS, METRICS, COMPARES } from "./state.js";
import { baseStyle, tileURL, mahallaPaint, hexPaint, hotspotPaint, eventLayers, basemapLayers, quantileBreaks } from "./layers.js";
import { renderLegend } from "./legend.js";
import { renderPanel } from "./panel.js";

const $ = (id) => document.getElementById(id);
const root = document.documentElement;

// ---------------------------------------------------------------- alerts
const alerts = new Map();
function showAlert(key, text) { alerts.set(key, text); drawAlerts(); }
function clearAlert(key) { if (alerts.delete(key)) drawAlerts(); }
function drawAlerts() {
  $("alert").replaceChildren(...[...alerts.values()].map((s) => { const p = document.createElement("p"); p.textContent = s; return p; }));
}
function reportError(key, e) {
  if (isAbort(e)) return;
  const msg = e && e.message ? e.message : String(e);
  showAlert(key, e && e.status === 0 ? t("ui.error_network") : t("ui.error", msg));
}
setRetryHook((s) => showAlert("retry", t("ui.busy_retry", s)));

// ---------------------------------------------------------------- loading state
let map = null;
let pending = 0;
let gen = 0;
const readyHooks = [];
function setState(s) {
  if (root.dataset.state === s) return;
  root.dataset.state = s;
  if (s === "ready") { clearAlert("retry"); for (const f of [...readyHooks]) f(); }
}
function begin() {
  pending++; gen++; setState("loading");
  let done = false;
  return () => { if (done) return; done = true; pending--; settle(); };
}
function touch() { gen++; setState("loading"); settle(); }
function settle() {
  if (pending > 0 || !map) return;
  const g = gen;
  map.once("idle", () => { if (g === gen && pending === 0) setState("ready"); });
  map.triggerRepaint();
}

// ---------------------------------------------------------------- state
const S = { period: "", compare: "previous", layer: "mahallas", metric: "count", unit: "", district: "", lang: "uz", kind: "" };
const ctx = {
  meta: null, role: "public", scope: "", exact: false, canEvents: false,
  lists: {}, months: [], districts: [], regions: [], byCode: new Map(), mahallas: null,
  rows: new Map(), breaks: { count: [1, 2, 5, 10, 20], rate: [1, 2, 5, 10, 20] },
  profile: null, hasCategory: false,
};
const ctrl = {}; // AbortControllers by purpose
function abortable(key) { if (ctrl[key]) ctrl[key].abort(); ctrl[key] = new AbortController(); return ctrl[key].signal; }
function syncURL() { writeURL({ ...S, unit: S.unit || S.district }); }

function defaultLang() {
  for (const l of navigator.languages || []) {
    const m = i18n.LANGS.find((x) => x.toLowerCase() === l.toLowerCase() || x === l.split("-")[0]);
    if (m) return m;
  }
  return "uz";
}

// ---------------------------------------------------------------- access and periods
async function loadMeta() {
  try {
    return await api("/v1/meta");
  } catch (e) {
    if (e.status === 401 && auth.token) {
      auth.clear();
      showAlert("auth", t("ui.token_invalid"));
      return loadMeta();
    }
    throw e;
  }
}

async function setAccess(meta) {
  const zone = (meta && meta.zone) || "Asia/Tashkent";
  const nowMonth = P.monthInZone((meta && meta.now) || new Date().toISOString(), zone);
  const role = (meta && meta.role) || "public";
  ctx.meta = meta || {};
  ctx.role = role;
  ctx.scope = (meta && meta.scope) || "";
  ctx.exact = (role === "analyst" || role === "admin") && !ctx.scope;
  ctx.canEvents = ctx.exact;
  const periods = (meta && meta.periods) || P.periodsFor(nowMonth);
  let from = meta && meta.data_from ? P.monthInZone(meta.data_from, zone) : "";
  if (!from) { const y = Number(nowMonth.slice(0, 4)) - 3; from = `${y}${nowMonth.slice(4)}`; }
  for (const k of P.KINDS) {
    const pk = periods[k] || P.periodsFor(nowMonth)[k];
    const newest = ctx.exact && pk.running ? pk.running : pk.latest_closed;
    ctx.lists[k] = P.list(newest, from);
    ctx.running = ctx.running || {};
    ctx.running[k] = pk.running;
  }
  ctx.defaultPeriod = (periods.quarter && periods.quarter.latest_closed) || ctx.lists.quarter[0];
  ctx.months = ctx.lists.month.slice().reverse();
  // The notice of synthetic data, and what the role allows.
  const notice = meta && meta.notice;
  if (notice) { $("notice").textContent = notice; $("notice").hidden = false; }
  const ev = $("layer").querySelector('option[value="events"]');
  ev.hidden = !ctx.canEvents; ev.disabled = !ctx.canEvents;
  if (!validPeriod(S.period)) S.period = ctx.defaultPeriod;
  if (S.layer === "events" && !ctx.canEvents) S.layer = "mahallas";
  $("signin").hidden = !!auth.token;
  $("signout").hidden = !auth.token;
  renderRole();
}
function validPeriod(p) { const k = P.kindOf(p); return !!k && (ctx.lists[k] || []).includes(p); }
function renderRole() { $("role").textContent = t("ui.role." + ctx.role); }

// ---------------------------------------------------------------- controls
function option(value, text) { const o = document.createElement("option"); o.value = value; o.textContent = text; return o; }

function renderPeriodControls() {
  const kind = P.kindOf(S.period);
  $("period-kind").value = kind;
  $("period").replaceChildren(...ctx.lists[kind].map((p) => option(p, p === ctx.running[kind] ? t("ui.running", periodText(p)) : periodText(p))));
  $("period").value = S.period;
  const s = $("time-slider");
  s.max = String(Math.max(0, ctx.months.length - 1));
  const last = P.monthsOf(S.period)[1];
  let i = ctx.months.indexOf(last);
  if (i < 0) i = ctx.months.length - 1;
  s.value = String(i);
  s.setAttribute("aria-valuetext", periodText(ctx.months[i] || ""));
}

function renderDistrictSelect() {
  const sel = $("district");
  const kids = [option("", t("ui.all_districts"))];
  const regs = ctx.regions.slice().sort((a, b) => unitName(a).localeCompare(unitName(b)));
  for (const r of regs) {
    const g = document.createElement("optgroup");
    g.label = unitName(r);
    const ds = ctx.districts.filter((d) => d.parent_code === r.code).sort((a, b) => unitName(a).localeCompare(unitName(b)));
    g.append(...ds.map((d) => option(d.code, unitName(d))));
    if (ds.length) kids.push(g);
  }
  const orphans = ctx.districts.filter((d) => !ctx.regions.some((r) => r.code === d.parent_code));
  kids.push(...orphans.map((d) => option(d.code, unitName(d))));
  sel.replaceChildren(...kids);
  sel.value = S.district;
}

function renderCrumbs() {
  const nav = $("crumbs");
  const kids = [];
  const btn = (text, fn) => { const b = document.createElement("button"); b.type = "button"; b.textContent = text; b.addEventListener("click", fn); return b; };
  const sep = () => { const s = document.createElement("span"); s.textContent = "›"; s.setAttribute("aria-hidden", "true"); return s; };
  const d = ctx.byCode.get(S.district);
  if (!d) {
    const s = document.createElement("span"); s.textContent = t("ui.all_regions"); s.setAttribute("aria-current", "location"); kids.push(s);
  } else {
    kids.push(btn(t("ui.all_regions"), () => setDistrict("", { fit: ctx.meta.bbox || null })));
    const r = ctx.byCode.get(d.parent_code);
    if (r) kids.push(sep(), btn(unitName(r), () => setDistrict("", { fit: r.bbox })));
    const s = document.createElement("span"); s.textContent = unitName(d); s.setAttribute("aria-current", "location");
    kids.push(sep(), s);
  }
  nav.replaceChildren(...kids);
}

function renderStatic() {
  i18n.apply();
  document.title = t("ui.title");
  $("download-csv").textContent = t("ui.download_as", "CSV");
  $("download-geojson").textContent = t("ui.download_as", "GeoJSON");
  $("play").textContent = playing ? t("ui.pause") : t("ui.play");
  $("lang").value = S.lang;
  renderRole();
  renderPeriodControls();
  renderDistrictSelect();
  renderCrumbs();
  $("layer").value = S.layer;
  $("metric").value = S.metric;
  $("metric").disabled = S.layer !== "mahallas";
  $("compare").value = S.compare;
  $("event-kind").value = S.kind;
  const evDl = S.layer === "events";
  for (const id of ["download-csv", "download-geojson"]) { $(id).disabled = evDl; $(id).title = evDl ? t("ui.download_events") : ""; }
  if (map) localiseMapControls();
}

function localiseMapControls() {
  const set = (sel, key) => { const b = map.getContainer().querySelector(sel); if (b) { b.title = t(key); b.setAttribute("aria-label", t(key)); } };
  set(".maplibregl-ctrl-zoom-in", "ui.zoom_in");
  set(".maplibregl-ctrl-zoom-out", "ui.zoom_out");
  set(".maplibregl-ctrl-compass", "ui.reset_bearing");
  map.getCanvas().setAttribute("aria-label", t("ui.map"));
}

function renderLegendNow() {
  renderLegend($("legend"), {
    layer: S.layer, metric: S.metric, compare: S.compare, breaks: ctx.breaks[S.metric] || [], exact: ctx.exact,
    zoom: map ? map.getZoom() : 0, district: S.district, hasCategory: ctx.hasCategory,
  });
}

// ---------------------------------------------------------------- map
const tileParams = () => ({ period: S.period, kind: S.kind });
const tileURLs = {};
function setTiles(source, layer) {
  const src = map.getSource(source);
  if (!src) return;
  const url = tileURL(layer, tileParams());
  if (tileURLs[source] === url) return;
  tileURLs[source] = url;
  src.setTiles([url]);
}
function reloadTiles() {
  for (const k of Object.keys(tileURLs)) tileURLs[k] = "";
  applyMap();
}

const THEMATIC = { mahallas: ["mahallas-fill"], hexbins: ["hexbins-fill"], hotspots: ["hotspots-fill"], emerging: ["emerging-fill"], events: ["events-clusters", "events-points"] };

function applyMap() {
  if (!map || !ctx.mapReady) return;
  // Events: only with the right token, else the source does not exist.
  const wantEvents = S.layer === "events" && ctx.canEvents;
  if (wantEvents && !map.getSource("events")) {
    map.addSource("events", { type: "vector", tiles: [tileURL("events", tileParams())], minzoom: 0, maxzoom: 14 });
    tileURLs.events = tileURL("events", tileParams());
    for (const l of eventLayers()) map.addLayer(l, "district-selected");
  } else if (!wantEvents && map.getSource("events")) {
    for (const l of eventLayers()) map.removeLayer(l.id);
    map.removeSource("events");
    delete tileURLs.events;
  }
  setTiles("mahallas", "mahallas");
  if (S.layer === "hexbins") setTiles("hexbins", "hexbins");
  if (S.layer === "hotspots") setTiles("hotspots", "hotspots");
  if (wantEvents) setTiles("events", "events");
  for (const [layer, ids] of Object.entries(THEMATIC)) {
    for (const id of ids) if (map.getLayer(id)) map.setLayoutProperty(id, "visibility", layer === S.layer ? "visible" : "none");
  }
  if (S.layer === "mahallas") {
    const { colour, opacity } = mahallaPaint(S.metric, ctx.breaks[S.metric] || [1], S.district);
    map.setPaintProperty("mahallas-fill", "fill-color", colour);
    map.setPaintProperty("mahallas-fill", "fill-opacity", opacity);
  }
  if (S.layer === "hexbins") {
    const [a, b] = P.monthsOf(S.period);
    const months = (Number(b.slice(0, 4)) - Number(a.slice(0, 4))) * 12 + Number(b.slice(5)) - Number(a.slice(5)) + 1;
    map.setPaintProperty("hexbins-fill", "fill-color", hexPaint(months));
  }
  if (S.layer === "hotspots") {
    const { colour, opacity } = hotspotPaint();
    map.setPaintProperty("hotspots-fill", "fill-color", colour);
    map.setPaintProperty("hotspots-fill", "fill-opacity", opacity);
  }
  map.setFilter("district-selected", ["==", ["get", "code"], S.district || ""]);
  map.setFilter("mahalla-selected", ["==", ["get", "code"], S.unit || ""]);
  renderLegendNow();
}

// ---------------------------------------------------------------- data for the view
function statsURL(format) {
  const q = new URLSearchParams({ level: "mahalla", period: S.period, compare: "previous,last_year" });
  if (S.district) q.set("unit", S.district);
  if (S.kind) q.set("kind", S.kind);
  if (format) q.set("format", format);
  return "/v1/stats?" + q.toString().replace(/%2C/gi, ",");
}

async function loadStats() {
  if (S.layer !== "mahallas") return;
  const signal = abortable("stats");
  const done = begin();
  try {
    const j = await api(statsURL(), { signal });
    ctx.rows = new Map((j.rows || []).map((r) => [r.unit, r]));
    ctx.breaks.count = quantileBreaks(j.rows.map((r) => r.count), 0);
    ctx.breaks.rate = quantileBreaks(j.rows.map((r) => r.rate_per_1000), 1);
    applyFeatureState();
    clearAlert("stats");
    applyMap();
  } catch (e) {
    reportError("stats", e);
  } finally {
    if (!signal.aborted) done(); else done();
  }
}

function applyFeatureState() {
  if (!map || !map.getSource("mahallas")) return;
  map.removeFeatureState({ source: "mahallas", sourceLayer: "mahallas" });
  for (const [code, r] of ctx.rows) {
    const c = r[S.compare] || {};
    map.setFeatureState({ source: "mahallas", sourceLayer: "mahallas", id: code }, {
      count: r.count, rate: r.rate_per_1000, z: c.z ?? null, sig: c.significant === true, diff: c.diff ?? null,
    });
  }
}

function loadCategories() {
  // Whether the period has a classification run: the tiles carry the
  // category of its latest run (asking /v1/classification would log a 404).
  ctx.categoryCheck = true;
}
readyHooks.push(() => {
  if (!ctx.categoryCheck || !map || S.layer !== "mahallas") return;
  ctx.categoryCheck = false;
  const has = map.querySourceFeatures("mahallas", { sourceLayer: "mahallas" }).some((f) => f.properties && f.properties.category);
  if (has !== ctx.hasCategory) { ctx.hasCategory = has; renderLegendNow(); }
});

async function loadEmerging() {
  const src = map && map.getSource("emerging");
  if (!src) return;
  if (S.layer !== "emerging" || !S.district) { src.setData({ type: "FeatureCollection", features: [] }); return; }
  const signal = abortable("emerging");
  const done = begin();
  try {
    const gj = await api(emergingURL("geojson"), { signal });
    src.setData(gj || { type: "FeatureCollection", features: [] });
    clearAlert("emerging");
  } catch (e) {
    reportError("emerging", e);
  } finally { done(); }
}
function emergingURL(format) {
  const q = new URLSearchParams({ unit: S.district, res: "8", interval: "month", periods: "24", period: S.period, format });
  if (S.kind) q.set("kind", S.kind);
  return "/v1/hotspots/emerging?" + q;
}

/** refresh reloads what the view shows after a change of state. */
function refresh({ stats = true } = {}) {
  syncURL();
  renderStatic();
  if (!map || !ctx.mapReady) return;
  applyMap();
  if (stats) { loadStats(); loadCategories(); loadEmerging(); }
  if (S.unit) openMahalla(S.unit, { fly: false });
  touch();
}

// ---------------------------------------------------------------- district drill-down
function setDistrict(code, { fit } = {}) {
  S.district = code || "";
  const d = ctx.byCode.get(S.district);
  const box = d ? d.bbox : fit;
  if (box && map) map.fitBounds(box, { padding: 30, duration: 600 });
  refresh();
}

// ---------------------------------------------------------------- mahalla panel
let panelOpener = null;
async function openMahalla(code, { fly = true, focus = false } = {}) {
  const signal = abortable("panel");
  const done = begin();
  const wasOpen = !$("panel").hidden;
  if (!wasOpen) panelOpener = document.activeElement;
  S.unit = code;
  syncURL();
  if (map) map.setFilter("mahalla-selected", ["==", ["get", "code"], code]);
  try {
    const p = await api(`/v1/mahallas/${encodeURIComponent(code)}?period=${encodeURIComponent(S.period)}`, { signal });
    ctx.profile = p;
    drawPanel();
    $("panel").hidden = false;
    if (fly && p.unit && p.unit.bbox && map) map.fitBounds(p.unit.bbox, { padding: 60, maxZoom: 14, duration: 800 });
    if (focus || !wasOpen) $("panel-name").focus();
    clearAlert("panel");
  } catch (e) {
    if (!isAbort(e)) {
      reportError("panel", e);
      if (e.status === 404) closePanel();
    }
  } finally { done(); }
}
function drawPanel() {
  if (!ctx.profile) return;
  renderPanel($("panel"), ctx.profile, { analyst: ctx.exact || ctx.role === "analyst" || ctx.role === "admin", onClose: closePanel, onReport: downloadReport });
}
function closePanel() {
  if (ctrl.panel) ctrl.panel.abort();
  $("panel").hidden = true;
  ctx.profile = null;
  S.unit = "";
  syncURL();
  if (map) map.setFilter("mahalla-selected", ["==", ["get", "code"], ""]);
  const back = panelOpener && document.contains(panelOpener) && panelOpener !== document.body ? panelOpener : map && map.getCanvas();
  if (back) back.focus();
  panelOpener = null;
}

// ---------------------------------------------------------------- search
const norm = (s) => (s || "").toLowerCase().replace(/[ʻʼ'’‘`]/g, "").normalize("NFC");
async function mahallaIndex() {
  if (!ctx.mahallas) {
    ctx.mahallas = api("/v1/units?level=mahalla&format=json").then((j) => (j.units || []).map((u) => ({ ...u, keys: [u.name, ...Object.values(u.names || {})].map(norm) })));
    ctx.mahallas.catch(() => { ctx.mahallas = null; });
  }
  return ctx.mahallas;
}
let searchHits = [];
let searchActive = -1;
async function onSearchInput() {
  const q = norm($("search").value.trim());
  const list = $("search-list");
  if (!q) { closeSearch(); return; }
  let all;
  try { all = await mahallaIndex(); } catch (e) { reportError("search", e); return; }
  if (norm($("search").value.trim()) !== q) return;
  searchHits = all.filter((u) => u.keys.some((k) => k.includes(q))).slice(0, 30);
  searchActive = searchHits.length ? 0 : -1;
  list.replaceChildren(...(searchHits.length ? searchHits.map((u, i) => {
    const li = document.createElement("li");
    li.id = "search-opt-" + i;
    li.setAttribute("role", "option");
    li.setAttribute("aria-selected", String(i === searchActive));
    li.textContent = unitName(u);
    const d = ctx.byCode.get(u.parent_code);
    if (d) { const s = document.createElement("small"); s.textContent = unitName(d); li.append(s); }
    li.addEventListener("mousedown", (e) => { e.preventDefault(); pickSearch(i); });
    return li;
  }) : [Object.assign(document.createElement("li"), { textContent: t("ui.no_results"), role: "option" })]));
  list.hidden = false;
  $("search").setAttribute("aria-expanded", "true");
  $("search").setAttribute("aria-activedescendant", searchActive >= 0 ? "search-opt-" + searchActive : "");
}
function moveSearch(d) {
  if (!searchHits.length) return;
  searchActive = (searchActive + d + searchHits.length) % searchHits.length;
  for (const li of $("search-list").children) li.setAttribute("aria-selected", String(li.id === "search-opt-" + searchActive));
  $("search").setAttribute("aria-activedescendant", "search-opt-" + searchActive);
  const el = $("search-opt-" + searchActive); if (el) el.scrollIntoView({ block: "nearest" });
}
function pickSearch(i) {
  const u = searchHits[i];
  if (!u) return;
  $("search").value = unitName(u);
  closeSearch();
  if (S.layer !== "mahallas") { S.layer = "mahallas"; refresh(); }
  openMahalla(u.code, { fly: true, focus: true });
}
function closeSearch() {
  $("search-list").hidden = true;
  $("search").setAttribute("aria-expanded", "false");
  $("search").removeAttribute("aria-activedescendant");
}

// ---------------------------------------------------------------- tooltips and clicks
function featureText(f) {
  const p = f.properties || {};
  const lines = [];
  switch (f.layer.id) {
    case "mahallas-fill": {
      const u = ctx.mahallas && ctx.mahallasReady ? ctx.mahallasReady.get(p.code) : null;
      lines.push(u ? unitName(u) : p.name || p.code);
      const r = ctx.rows.get(p.code);
      const c = r ? r.count : p.count, lo = r ? r.count_lo : p.count_lo, hi = r ? r.count_hi : p.count_hi;
      if (S.metric === "category") lines.push(p.category ? label("mahalla_category", p.category) : t("ui.legend.no_data"));
      else if (S.metric === "rate") lines.push(`${t("ui.metric.rate")}: ${num(r ? r.rate_per_1000 : p.rate, 1)}`);
      else if (S.metric === "change") {
        const cmp = r && r[S.compare];
        lines.push(`${t("ui.compare." + S.compare)}: ${cmp ? `${signed(cmp.diff)} (${percent(cmp.percent)}), z ${cmp.z === null ? "–" : signed(cmp.z, 2)}${cmp.significant ? " · " + t("ui.significant") : ""}` : "–"}`);
      }
      lines.push(`${t("ui.count")}: ${count(c ?? null, lo, hi)}`);
      break;
    }
    case "hexbins-fill":
      lines.push(`H3 ${p.h3 || ""} (res ${p.res})`, `${t("ui.count")}: ${count(p.count ?? null, p.count_lo, p.count_hi)}`);
      break;
    case "hotspots-fill": {
      const bins = { 3: "hot_99", 2: "hot_95", 1: "hot_90", 0: "not_significant", "-1": "cold_90", "-2": "cold_95", "-3": "cold_99" };
      lines.push(label("hotspot", bins[p.bin] || "not_significant"), `${t("ui.count")}: ${count(p.count ?? null, p.count_lo, p.count_hi)}`);
      if (p.z !== undefined) lines.push(`z ${num(p.z, 2)}, p ${num(p.p, 3)}`);
      break;
    }
    case "emerging-fill":
      lines.push(label("emerging", String(p.category || "").replace(/ /g, "_")));
      if (p.count_hi !== undefined) lines.push(`${t("ui.count")}: ${count(p.count ?? null, p.count_lo, p.count_hi)}`);
      break;
    case "events-clusters":
      lines.push(t("ui.events_n", num(p.point_count)));
      break;
    case "events-points":
      lines.push(label("kind", p.kind), label("category", p.category));
      if (p.severity) lines.push(label("severity", p.severity));
      if (p.occurred_at) lines.push(String(p.occurred_at).replace("T", " ").slice(0, 16));
      break;
  }
  return lines;
}

function activeLayerIds() { return (THEMATIC[S.layer] || []).filter((id) => map.getLayer(id)); }

function onMove(e) {
  const tip = $("tooltip");
  const ids = activeLayerIds();
  const fs = ids.length ? map.queryRenderedFeatures(e.point, { layers: ids }) : [];
  const f = fs[0];
  map.setFilter("mahalla-hover", ["==", ["get", "code"], f && f.layer.id === "mahallas-fill" ? f.properties.code : ""]);
  if (!f) { tip.hidden = true; map.getCanvas().style.cursor = ""; return; }
  map.getCanvas().style.cursor = "pointer";
  const lines = featureText(f);
  tip.replaceChildren(...lines.map((l, i) => { const el = document.createElement(i === 0 ? "b" : "div"); el.textContent = l; return el; }));
  tip.hidden = false;
  const { width, height } = map.getContainer().getBoundingClientRect();
  tip.style.left = Math.min(e.point.x + 14, width - tip.offsetWidth - 4) + "px";
  tip.style.top = Math.min(e.point.y + 14, height - tip.offsetHeight - 4) + "px";
}

function onClick(e) {
  const z = map.getZoom();
  if (S.layer === "events") {
    const c = map.queryRenderedFeatures(e.point, { layers: ["events-clusters"].filter((id) => map.getLayer(id)) })[0];
    if (c) { map.easeTo({ center: e.lngLat, zoom: Math.min(z + 2, 14) }); return; }
  }
  if (z >= 8 && S.layer === "mahallas") {
    const f = map.queryRenderedFeatures(e.point, { layers: ["mahallas-fill"] })[0];
    if (f) { openMahalla(f.properties.code, { fly: false }); return; }
  }
  if (z < 9) {
    const d = map.queryRenderedFeatures(e.point, { layers: ["districts-hit"] })[0];
    if (d && d.properties.code && d.properties.code !== S.district) setDistrict(d.properties.code);
  }
}

// ---------------------------------------------------------------- downloads
const zoomRes = (z) => (z <= 6 ? 5 : z < 8 ? 6 : z < 9 ? 7 : z < 11 ? 8 : z < 13 ? 9 : 10);
function viewArea(q) {
  if (S.district) { q.set("unit", S.district); return; }
  if (ctx.exact) {
    const b = map.getBounds();
    q.set("bbox", [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(5)).join(","));
    return;
  }
  const c = map.getCenter();
  const r = ctx.regions.find((u) => u.bbox && c.lng >= u.bbox[0] && c.lng <= u.bbox[2] && c.lat >= u.bbox[1] && c.lat <= u.bbox[3]) || ctx.regions[0];
  if (r) q.set("unit", r.code);
}
function downloadTarget(fmt) {
  const base = `crimemap-${S.layer}-${S.period}${S.district ? "-" + S.district : ""}${S.kind ? "-" + S.kind : ""}`;
  const name = `${base}.${fmt === "csv" ? "csv" : "geojson"}`;
  if (S.layer === "mahallas") return { url: statsURL(fmt), name };
  if (S.layer === "emerging") return S.district ? { url: emergingURL(fmt), name } : null;
  const q = new URLSearchParams({ period: S.period });
  let res = zoomRes(map.getZoom());
  if (!ctx.exact) res = Math.min(res, 8);
  if (S.layer === "hotspots") res = Math.min(res, 8);
  q.set("res", String(res));
  if (S.kind) q.set("kind", S.kind);
  viewArea(q);
  q.set("format", fmt);
  if (S.layer === "hexbins") return { url: "/v1/hexbins?" + q.toString().replace(/%2C/gi, ","), name };
  if (S.layer === "hotspots") return { url: "/v1/hotspots?" + q.toString().replace(/%2C/gi, ","), name };
  return null;
}
async function download(fmt, button) {
  const target = downloadTarget(fmt);
  if (!target) { showAlert("download", t(S.layer === "emerging" ? "ui.legend.pick_district" : "ui.download_events")); return; }
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    const blob = await api(target.url, { as: "blob" });
    saveBlob(blob, target.name);
    clearAlert("download");
  } catch (e) {
    reportError("download", e);
  } finally { button.disabled = false; button.removeAttribute("aria-busy"); }
}
async function downloadReport(ev) {
  const p = ctx.profile;
  if (!p) return;
  const b = ev && ev.currentTarget;
  const code = p.unit.code;
  const q = new URLSearchParams({ period: S.period, unit: code, lang: S.lang, format: "pdf" });
  if (b) { b.disabled = true; b.setAttribute("aria-busy", "true"); }
  try {
    const blob = await api("/v1/reports?" + q, { as: "blob" });
    saveBlob(blob, `crimemap-report-${code}-${S.period}-${S.lang}.pdf`);
    clearAlert("report");
  } catch (e) { reportError("report", e); } finally { if (b) { b.disabled = false; b.removeAttribute("aria-busy"); } }
}

// ---------------------------------------------------------------- sign in
function openSignin() {
  $("token-error").textContent = "";
  $("token-input").value = "";
  $("signin-dialog").showModal();
  $("token-input").focus();
}
async function submitSignin(e) {
  e.preventDefault();
  const token = $("token-input").value.trim();
  if (!token) return;
  $("signin-submit").disabled = true;
  try {
    const meta = await api("/v1/meta", { token }); // 401 for a bad token
    auth.set(token);
    $("signin-dialog").close();
    clearAlert("auth");
    await setAccess(meta);
    reloadTiles();
    refresh();
    $("signout").focus();
  } catch (err) {
    $("token-error").textContent = err.status === 401 ? t("ui.token_invalid") : t("ui.error", err.message);
  } finally { $("signin-submit").disabled = false; }
}
async function signOut() {
  auth.clear();
  try { await setAccess(await loadMeta()); } catch (e) { reportError("meta", e); }
  reloadTiles();
  refresh();
  $("signin").focus();
}

// ---------------------------------------------------------------- time slider and play
let playing = false;
let playTimer = 0;
function setMonth(i) {
  const m = ctx.months[i];
  if (!m) return;
  S.period = m;
  refresh();
}
function togglePlay() {
  playing = !playing;
  $("play").setAttribute("aria-pressed", String(playing));
  $("play").textContent = playing ? t("ui.pause") : t("ui.play");
  clearTimeout(playTimer);
  if (playing) {
    let i = Number($("time-slider").value);
    if (P.kindOf(S.period) !== "month" || i >= ctx.months.length - 1) i = P.kindOf(S.period) === "month" ? -1 : ctx.months.indexOf(P.monthsOf(S.period)[0]) - 1;
    setMonth(Math.max(0, i + 1));
  }
}
readyHooks.push(() => {
  if (!playing) return;
  clearTimeout(playTimer);
  playTimer = setTimeout(() => {
    if (!playing) return;
    const i = Number($("time-slider").value);
    if (i >= ctx.months.length - 1) { togglePlay(); return; }
    setMonth(i + 1);
  }, 1200);
});

// ---------------------------------------------------------------- start
async function start() {
  root.dataset.state = "loading";
  // MapLibre's worker starts while the page asks the API what to show.
  maplibregl.prewarm();
  const url = readURL();
  S.lang = i18n.LANGS.includes(url.lang) ? url.lang : defaultLang();
  S.compare = COMPARES.includes(url.compare) ? url.compare : "previous";
  S.layer = LAYERS.includes(url.layer) ? url.layer : "mahallas";
  S.metric = METRICS.includes(url.metric) ? url.metric : "count";
  S.kind = ["crime", "accident", "offence"].includes(url.kind) ? url.kind : "";
  S.period = url.period || "";
  const hadHash = /[#&]map=/.test(location.hash);

  const [meta, , districts, regions] = await Promise.all([
    loadMeta().catch((e) => { reportError("meta", e); return null; }),
    i18n.loadLabels(S.lang).catch((e) => reportError("labels", e)),
    api("/v1/units?level=district&format=json").catch((e) => { reportError("units", e); return { units: [] }; }),
    api("/v1/units?level=region&format=json").catch(() => ({ units: [] })),
  ]);
  ctx.districts = districts.units || [];
  ctx.regions = regions.units || [];
  for (const u of [...ctx.districts, ...ctx.regions]) ctx.byCode.set(u.code, u);
  await setAccess(meta);
  if (url.unit) {
    if (ctx.byCode.get(url.unit) && ctx.byCode.get(url.unit).level === "district") S.district = url.unit;
    else if (!ctx.byCode.get(url.unit)) S.unit = url.unit;
  }
  renderStatic();
  // The choropleth's numbers load while MapLibre starts; they are joined
  // to the features when the map has loaded.
  loadStats();

  const bbox = ctx.meta.bbox || (ctx.regions.length ? ctx.regions.reduce((b, r) => [Math.min(b[0], r.bbox[0]), Math.min(b[1], r.bbox[1]), Math.max(b[2], r.bbox[2]), Math.max(b[3], r.bbox[3])], [180, 90, -180, -90]) : [55, 37, 80, 46]);
  ctx.meta.bbox = bbox;
  const startBox = (S.district && ctx.byCode.get(S.district).bbox) || bbox;
  map = new maplibregl.Map({
    container: "map",
    style: baseStyle(tileParams()),
    hash: "map",
    bounds: startBox,
    fitBoundsOptions: { padding: 20 },
    // Credits the data's sources (licences: ODbL boundaries, CC BY
    // basemaps): /v1/meta's attribution and each source's own.
    attributionControl: { compact: true, customAttribution: ctx.meta.attribution || undefined },
    maxZoom: 18,
    fadeDuration: 0, // no labels to fade in; tiles show when they arrive
    transformRequest: (u) => {
      const tok = auth.token;
      if (tok && (u.startsWith(location.origin + "/") || u.startsWith("/"))) return { url: u, headers: { Authorization: "Bearer " + tok } };
      return { url: u };
    },
    locale: { "NavigationControl.ZoomIn": t("ui.zoom_in"), "NavigationControl.ZoomOut": t("ui.zoom_out"), "NavigationControl.ResetBearing": t("ui.reset_bearing"), "Map.Title": t("ui.map") },
  });
  window.crimemap = { map };
  map.addControl(new maplibregl.NavigationControl({ showCompass: true }), "top-right");
  map.on("error", (e) => {
    const err = e.error || {};
    if (isAbort(err)) return;
    if (err.status === 429 || err.status === 503) {
      showAlert("tiles", t("ui.busy_retry", 5));
      clearTimeout(ctx.tileRetry);
      ctx.tileRetry = setTimeout(() => { clearAlert("tiles"); reloadTiles(); touch(); }, 5000);
      return;
    }
    showAlert("map", t("ui.error", err.message || String(err)));
  });
  map.on("dataloading", () => { if (root.dataset.state === "ready") touch(); });
  map.on("mousemove", onMove);
  map.on("mouseout", () => { $("tooltip").hidden = true; });
  map.on("click", onClick);
  let lastZoomBand = -1;
  map.on("zoomend", () => { const band = map.getZoom() < 8 ? 0 : 1; if (band !== lastZoomBand) { lastZoomBand = band; renderLegendNow(); } });
  // On the style (not "load", which waits for the first tiles): the
  // paint of the first view is set before any tile is laid out, so no
  // tile is laid out twice.
  map.once("style.load", () => {
    ctx.mapReady = true;
    for (const id of ["regions", "districts", "mahallas", "hexbins", "hotspots"]) tileURLs[id] = map.getSource(id).tiles ? map.getSource(id).tiles[0] : "";
    tileURLs.regions = "fixed"; tileURLs.districts = "fixed";
    localiseMapControls();
    applyMap();
    applyFeatureState();
    loadCategories();
    loadEmerging();
    if (S.unit) openMahalla(S.unit, { fly: !hadHash });
    touch();
    if (ctx.meta.basemap) addBasemap(ctx.meta.basemap);
  });
  // The names of every mahalla (search, tooltips in the UI language) are
  // not needed for the first view: fetched once it is on screen.
  readyHooks.push(function names() {
    readyHooks.splice(readyHooks.indexOf(names), 1);
    mahallaIndex().then((all) => { ctx.mahallasReady = new Map(all.map((u) => [u.code, u])); }).catch(() => {});
  });
  wire();
}

// sameOrigin rebases an absolute URL of this service onto the page's own
// origin: the service names itself by --public-url, and the page may be
// reached under another name (localhost, a proxy); the page talks to its
// own origin only (CSP connect-src 'self').
const sameOrigin = (u) => u.replace(/^https?:\/\/[^/]+/, location.origin);

async function addBasemap(url) {
  try {
    const tj = await api(sameOrigin(url));
    map.addSource("basemap", {
      type: "vector", tiles: (tj.tiles || []).map(sameOrigin), minzoom: tj.minzoom ?? 0, maxzoom: tj.maxzoom ?? 14,
      ...(tj.bounds ? { bounds: tj.bounds } : {}), ...(tj.attribution ? { attribution: tj.attribution } : {}),
    });
    for (const l of basemapLayers(tj)) map.addLayer(l, "mahallas-fill");
  } catch (e) { reportError("basemap", e); }
}

function wire() {
  $("lang").addEventListener("change", async () => {
    S.lang = $("lang").value;
    const done = begin();
    try { await i18n.loadLabels(S.lang); } catch (e) { reportError("labels", e); }
    drawPanel();
    refresh({ stats: false });
    done();
  });
  $("period-kind").addEventListener("change", () => {
    const k = $("period-kind").value;
    const p = P.periodOf(k, P.monthsOf(S.period)[1]);
    S.period = ctx.lists[k].includes(p) ? p : ctx.lists[k][0];
    refresh();
  });
  $("period").addEventListener("change", () => { S.period = $("period").value; refresh(); });
  let slideTimer = 0;
  $("time-slider").addEventListener("input", () => {
    const i = Number($("time-slider").value);
    $("time-slider").setAttribute("aria-valuetext", periodText(ctx.months[i] || ""));
    clearTimeout(slideTimer);
    slideTimer = setTimeout(() => setMonth(i), 200);
  });
  $("play").addEventListener("click", togglePlay);
  $("compare").addEventListener("change", () => { S.compare = $("compare").value; applyFeatureState(); syncURL(); renderLegendNow(); touch(); });
  $("event-kind").addEventListener("change", () => { S.kind = $("event-kind").value; refresh(); });
  $("layer").addEventListener("change", () => {
    const v = $("layer").value;
    S.layer = v === "events" && !ctx.canEvents ? "mahallas" : v;
    $("tooltip").hidden = true;
    refresh();
  });
  $("metric").addEventListener("change", () => { S.metric = $("metric").value; syncURL(); applyMap(); touch(); });
  $("district").addEventListener("change", () => setDistrict($("district").value, { fit: ctx.meta.bbox }));
  $("download-csv").addEventListener("click", (e) => download("csv", e.currentTarget));
  $("download-geojson").addEventListener("click", (e) => download("geojson", e.currentTarget));
  $("signin").addEventListener("click", openSignin);
  $("signout").addEventListener("click", signOut);
  $("signin-form").addEventListener("submit", submitSignin);
  $("signin-cancel").addEventListener("click", () => { $("signin-dialog").close(); $("signin").focus(); });
  $("signin-dialog").addEventListener("cancel", () => setTimeout(() => $("signin").focus(), 0));
  const search = $("search");
  search.addEventListener("input", onSearchInput);
  search.addEventListener("focus", () => { mahallaIndex().catch(() => {}); });
  search.addEventListener("blur", () => setTimeout(closeSearch, 100));
  search.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown") { e.preventDefault(); if ($("search-list").hidden) onSearchInput(); else moveSearch(1); }
    else if (e.key === "ArrowUp") { e.preventDefault(); moveSearch(-1); }
    else if (e.key === "Enter") { e.preventDefault(); if (searchActive >= 0) pickSearch(searchActive); }
    else if (e.key === "Escape" && !$("search-list").hidden) { e.preventDefault(); e.stopPropagation(); closeSearch(); }
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !$("panel").hidden && !$("signin-dialog").open) { e.preventDefault(); closePanel(); }
  });
}

start().catch((e) => { reportError("start", e); setState("ready"); });
