// The page's first API requests, sent before the map's bundle (about 1 MB
// of script) is parsed: on a slow machine that parse takes 0.15-0.3 s, and
// the first view needs these answers first. A classic script, so it runs
// before the deferred module; api.js takes the responses over (earlyFetch).
// Same headers as api.js: the token (sessionStorage) as a Bearer header.
(() => {
  let token = "";
  try { token = sessionStorage.getItem("crimemap.token") || ""; } catch { /* private mode */ }
  const get = (path, tok) => {
    const headers = { Accept: "application/json" };
    if (tok) headers.Authorization = "Bearer " + tok;
    return { token: tok, response: fetch(path, { headers, credentials: "same-origin" }) };
  };
  const early = {
    "/v1/meta": get("/v1/meta", token),
    "/v1/units?level=district&format=json": get("/v1/units?level=district&format=json", token),
    "/v1/units?level=region&format=json": get("/v1/units?level=region&format=json", token),
  };
  const lang = new URLSearchParams(location.search).get("lang");
  if (lang) {
    const p = `/v1/labels?lang=${encodeURIComponent(lang)}`;
    early[p] = get(p, "");
  }
  window.__crimemapEarly = early;
})();
