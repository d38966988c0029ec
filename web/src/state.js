// The view's state, kept in the URL's query (history.replaceState on every
// change); the map position is MapLibre's #map=z/lat/lon.
export const KEYS = ["period", "compare", "layer", "metric", "unit", "lang", "kind"];
export const LAYERS = ["mahallas", "hexbins", "hotspots", "emerging", "events"];
export const METRICS = ["count", "rate", "change", "category"];
export const COMPARES = ["previous", "last_year"];

export function readURL() {
  const q = new URLSearchParams(location.search);
  const s = {};
  for (const k of KEYS) if (q.get(k)) s[k] = q.get(k);
  return s;
}

export function writeURL(s) {
  const q = new URLSearchParams();
  for (const k of KEYS) if (s[k]) q.set(k, s[k]);
  const qs = q.toString().replace(/%2C/gi, ",");
  const url = location.pathname + (qs ? "?" + qs : "") + location.hash;
  if (url !== location.pathname + location.search + location.hash) history.replaceState(history.state, "", url);
}
