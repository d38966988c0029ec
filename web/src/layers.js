// The map's sources and layers: boundaries always, one thematic layer at a
// time. No symbol layers (no glyphs or sprites: the page is offline).
import { NODATA, VIRIDIS, RDBU, CATEGORY, HOTSPOT, EMERGING, EVENT_KIND, CLUSTER } from "./palettes.js";

const ORIGIN = location.origin;

export function tileURL(layer, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v) q.set(k, v);
  const qs = q.toString();
  return `${ORIGIN}/tiles/${layer}/{z}/{x}/{y}.mvt${qs ? "?" + qs : ""}`;
}

const vector = (layer, params, extra = {}) => ({ type: "vector", tiles: [tileURL(layer, params)], minzoom: 0, maxzoom: 14, ...extra });

export function baseStyle(params) {
  return {
    version: 8,
    // A data map: a new period's colours appear at once (and "idle" is
    // not held back by paint transitions).
    transition: { duration: 0, delay: 0 },
    sources: {
      regions: vector("regions", {}, { maxzoom: 12 }),
      districts: vector("districts", {}, { maxzoom: 12, promoteId: { districts: "code" } }),
      mahallas: vector("mahallas", params, { promoteId: { mahallas: "code" } }),
      hexbins: vector("hexbins", params, { maxzoom: 14 }),
      hotspots: vector("hotspots", params, { minzoom: 8, maxzoom: 14 }),
      emerging: { type: "geojson", data: { type: "FeatureCollection", features: [] } },
    },
    layers: [
      { id: "background", type: "background", paint: { "background-color": "#eceae4" } },
      { id: "mahallas-fill", type: "fill", source: "mahallas", "source-layer": "mahallas", paint: { "fill-color": NODATA, "fill-opacity": 0.85 } },
      { id: "mahallas-line", type: "line", source: "mahallas", "source-layer": "mahallas", minzoom: 9, paint: { "line-color": "#ffffff", "line-width": 0.6, "line-opacity": 0.8 } },
      { id: "hexbins-fill", type: "fill", source: "hexbins", "source-layer": "hexbins", layout: { visibility: "none" }, paint: { "fill-color": NODATA, "fill-opacity": 0.8, "fill-outline-color": "rgba(255,255,255,0.5)" } },
      { id: "hotspots-fill", type: "fill", source: "hotspots", "source-layer": "hotspots", minzoom: 8, layout: { visibility: "none" }, paint: { "fill-color": NODATA, "fill-opacity": 0.85, "fill-outline-color": "rgba(255,255,255,0.4)" } },
      { id: "emerging-fill", type: "fill", source: "emerging", layout: { visibility: "none" }, paint: emergingPaint() },
      { id: "districts-hit", type: "fill", source: "districts", "source-layer": "districts", paint: { "fill-color": "#000000", "fill-opacity": 0 } },
      { id: "districts-line", type: "line", source: "districts", "source-layer": "districts", paint: { "line-color": "#3b3b40", "line-width": ["interpolate", ["linear"], ["zoom"], 5, 0.5, 10, 1.4], "line-opacity": 0.75 } },
      { id: "regions-line", type: "line", source: "regions", "source-layer": "regions", paint: { "line-color": "#1d1d1f", "line-width": ["interpolate", ["linear"], ["zoom"], 5, 1.2, 10, 2.6] } },
      { id: "district-selected", type: "line", source: "districts", "source-layer": "districts", filter: ["==", ["get", "code"], ""], paint: { "line-color": "#1f4e99", "line-width": 3 } },
      { id: "mahalla-selected", type: "line", source: "mahallas", "source-layer": "mahallas", filter: ["==", ["get", "code"], ""], paint: { "line-color": "#000000", "line-width": 3 } },
      { id: "mahalla-hover", type: "line", source: "mahallas", "source-layer": "mahallas", filter: ["==", ["get", "code"], ""], paint: { "line-color": "#ffbf00", "line-width": 2 } },
    ],
  };
}

function emergingPaint() {
  const m = ["match", ["get", "category"]];
  for (const [k, c] of Object.entries(EMERGING)) m.push(k, c);
  m.push("#ffffff");
  return { "fill-color": m, "fill-opacity": ["case", ["has", ["get", "category"], ["literal", EMERGING]], 0.85, 0.15], "fill-outline-color": "rgba(90,90,90,0.35)" };
}

const isNum = (e) => ["==", ["typeof", e], "number"];

function stepColour(value, breaks, colours) {
  const s = ["step", ["to-number", value]];
  s.push(colours[0]);
  breaks.forEach((b, i) => s.push(b, colours[i + 1]));
  return s;
}

/** mahallaPaint gives the fill colour and opacity of the mahalla layer. */
export function mahallaPaint(metric, breaks, district) {
  let colour;
  let opacity = 0.85;
  if (metric === "category") {
    colour = ["match", ["get", "category"], "red", CATEGORY.red, "yellow", CATEGORY.yellow, "green", CATEGORY.green, NODATA];
  } else if (metric === "change") {
    const z = ["feature-state", "z"];
    colour = ["case", isNum(z), stepColour(z, [-3, -2, 0, 2, 3], [RDBU.sigDown3, RDBU.sigDown, RDBU.down, RDBU.up, RDBU.sigUp, RDBU.sigUp3]), NODATA];
    opacity = ["case", ["==", ["feature-state", "sig"], true], 0.92, isNum(z), 0.5, 0.6];
  } else {
    const v = ["coalesce", ["feature-state", metric], ["get", metric]];
    colour = ["case", isNum(v), stepColour(v, breaks, VIRIDIS), NODATA];
  }
  if (district) opacity = ["case", ["==", ["get", "parent"], district], opacity, 0.25];
  return { colour, opacity };
}

/** scaledHexCount: events per month in a resolution-8 cell's area. */
export function hexPaint(months) {
  const v = ["/", ["to-number", ["get", "count"]], ["*", months, ["^", 7, ["-", 8, ["to-number", ["get", "res"], 8]]]]];
  return ["case", ["has", "count"], stepColour(v, HEX_BREAKS, VIRIDIS), NODATA];
}
export const HEX_BREAKS = [0.25, 0.5, 1, 2, 4];

export function hotspotPaint() {
  const m = ["match", ["to-number", ["get", "bin"], 0]];
  for (const b of [3, 2, 1, -1, -2, -3]) m.push(b, HOTSPOT[b]);
  m.push(HOTSPOT[0]);
  return { colour: m, opacity: ["case", ["==", ["to-number", ["get", "bin"], 0], 0], 0.3, 0.85] };
}

export function eventLayers() {
  return [
    { id: "events-clusters", type: "circle", source: "events", "source-layer": "events", filter: ["has", "point_count"],
      paint: { "circle-color": CLUSTER, "circle-opacity": 0.75, "circle-stroke-color": "#ffffff", "circle-stroke-width": 1,
        "circle-radius": ["interpolate", ["linear"], ["sqrt", ["to-number", ["get", "point_count"], 1]], 1, 5, 10, 14, 40, 30] } },
    { id: "events-points", type: "circle", source: "events", "source-layer": "events", filter: ["!", ["has", "point_count"]],
      paint: { "circle-color": ["match", ["get", "kind"], "crime", EVENT_KIND.crime, "accident", EVENT_KIND.accident, "offence", EVENT_KIND.offence, "#555555"],
        "circle-radius": 5, "circle-stroke-color": "#ffffff", "circle-stroke-width": 1 } },
  ];
}

/** basemapLayers draws every layer of a TileJSON as thin fills and lines. */
export function basemapLayers(tj) {
  const out = [];
  for (const vl of tj.vector_layers || []) {
    out.push({ id: `basemap-fill-${vl.id}`, type: "fill", source: "basemap", "source-layer": vl.id, filter: ["==", ["geometry-type"], "Polygon"], paint: { "fill-color": "#dcd9d0", "fill-opacity": 0.5 } });
    out.push({ id: `basemap-line-${vl.id}`, type: "line", source: "basemap", "source-layer": vl.id, filter: ["!=", ["geometry-type"], "Point"], paint: { "line-color": "#b5b1a6", "line-width": 0.5 } });
  }
  return out;
}

/** quantileBreaks gives up to five class breaks of values (six classes). */
export function quantileBreaks(values, decimals) {
  const v = values.filter((x) => typeof x === "number" && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length < 2) return [1, 2, 5, 10, 20];
  const f = 10 ** decimals;
  const out = [];
  for (let i = 1; i < 6; i++) {
    const q = v[Math.min(v.length - 1, Math.floor((i * v.length) / 6))];
    const r = Math.round(q * f) / f;
    if (r > (out.length ? out[out.length - 1] : -Infinity) && r > v[0]) out.push(r);
  }
  return out.length ? out : [v[v.length - 1]];
}
