"""A small client for the crimemap HTTP API, shared by the notebooks.

    from crimemap_api import Client
    api = Client()                      # CRIMEMAP_URL, CRIMEMAP_TOKEN
    meta = api.get("/v1/meta")
    rows = api.frame("/v1/stats", "rows", level="mahalla", unit="1710224", period="2026-Q3")
    gdf = api.geo("/v1/stats", level="mahalla", unit="1710224", period="2026-Q3")

The service is the one `make run` serves (http://127.0.0.1:8080) unless
CRIMEMAP_URL names another. CRIMEMAP_TOKEN is an API token
(`crimemap token create --role analyst`); it is sent only as an
`Authorization: Bearer` header, never in a URL. Without one the answers are
the public view (closed periods, counts with intervals).

Errors raise APIError, whose message names the method, the route and the
API's own message (the JSON `error` of every error answer).
"""

import io
import os

import pandas as pd
import requests

DEFAULT_URL = "http://127.0.0.1:8080"

__all__ = ["APIError", "Client", "flatten_comparisons", "shift_month", "shift_quarter", "unit_name"]


class APIError(RuntimeError):
    """An answer other than 2xx: the route, the HTTP status and the API's message."""

    def __init__(self, method, route, status, message, param=None):
        self.method, self.route, self.status, self.message, self.param = method, route, status, message, param
        text = f"{method} {route}: HTTP {status}: {message}"
        if param:
            text += f" (parameter {param!r})"
        super().__init__(text)


class Client:
    """Calls one crimemap service. url and token default to the environment
    (CRIMEMAP_URL, CRIMEMAP_TOKEN); timeout is per request, in seconds."""

    def __init__(self, url=None, token=None, timeout=120):
        self.url = (url or os.environ.get("CRIMEMAP_URL") or DEFAULT_URL).rstrip("/")
        token = token if token is not None else os.environ.get("CRIMEMAP_TOKEN", "")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["Accept"] = "application/json"
        self.has_token = bool(token.strip())
        if self.has_token:
            # The token goes in a header only: URLs end up in logs and histories.
            self.session.headers["Authorization"] = "Bearer " + token.strip()

    def __repr__(self):
        return f"Client({self.url!r}, token={'set' if self.has_token else 'none: the public view'})"

    # ---- requests ----

    def request(self, method, route, params=None, json=None):
        """Sends one request and returns the requests.Response of a 2xx
        answer; anything else raises APIError with the API's message."""
        params = {k: v for k, v in (params or {}).items() if v is not None}
        for secret in ("token", "access_token", "api_key", "key"):
            if secret in params:
                raise ValueError(f"{route}: never put a token in a URL (parameter {secret!r}); Client sends it as a header")
        url = route if route.startswith("http") else self.url + route
        try:
            resp = self.session.request(method, url, params=params, json=json, timeout=self.timeout)
        except requests.RequestException as err:
            raise APIError(method, route, "-", f"cannot reach {self.url}: {err} "
                           "(is the service running? `make run` serves the demo; CRIMEMAP_URL names another)") from err
        if resp.status_code >= 400:
            message, param = resp.text.strip()[:500] or resp.reason, None
            try:
                body = resp.json()
                message, param = body.get("error", message), body.get("param")
            except ValueError:
                pass
            if resp.status_code == 401 and not self.has_token:
                message += " (set CRIMEMAP_TOKEN to a token: crimemap token create --role analyst)"
            raise APIError(method, route, resp.status_code, message, param)
        return resp

    def get(self, route, **params):
        """GET route?params and return the decoded JSON."""
        return self.request("GET", route, params).json()

    def post(self, route, body):
        """POST body (a dict, sent as JSON) to route and return the decoded JSON."""
        return self.request("POST", route, json=body).json()

    def content(self, route, **params):
        """GET route?params and return the raw bytes (CSV, XLSX, PDF, Arrow)."""
        return self.request("GET", route, params).content

    # ---- shapes ----

    def frame(self, route, key, **params):
        """GET a JSON answer and return its list `key` (rows, cells, bins,
        points, results, ...) as a DataFrame; nested objects become dotted
        columns (previous.z, last_year.base)."""
        body = self.get(route, **params)
        if key not in body:
            raise APIError("GET", route, 200, f"the answer has no {key!r} (keys: {sorted(body)})")
        return pd.json_normalize(body[key]) if body[key] else pd.DataFrame()

    def pages(self, route, key, **params):
        """Follows the `next` links of a paged answer (/v1/events) and
        returns every item of `key` as one DataFrame."""
        items, nxt = [], None
        body = self.get(route, **params)
        while True:
            items.extend(body.get(key, []))
            nxt = body.get("next")
            if not nxt:
                break
            body = self.request("GET", nxt).json()  # next carries the query, never the token
        return pd.json_normalize(items) if items else pd.DataFrame()

    def geo(self, route, **params):
        """GET route with format=geojson and return a GeoDataFrame (EPSG:4326)
        whose columns are the features' properties (a FeatureCollection, or
        one Feature as /v1/units/{code} answers); the feature id is kept
        as column `id` when the properties do not have one."""
        import geopandas as gpd

        params["format"] = "geojson"
        body = self.get(route, **params)
        features = [body] if body.get("type") == "Feature" else body.get("features", [])
        if not features:
            return gpd.GeoDataFrame({"geometry": []}, geometry="geometry", crs="EPSG:4326")
        gdf = gpd.GeoDataFrame.from_features(features, crs="EPSG:4326")
        if "id" not in gdf.columns:
            gdf.insert(0, "id", [f.get("id") for f in features])
        return gdf

    def excel(self, route, **params):
        """GET an XLSX answer (format=xlsx) and return its sheets as a dict
        of DataFrames (pandas reads it with openpyxl)."""
        params["format"] = "xlsx"
        data = self.content(route, **params)
        return pd.read_excel(io.BytesIO(data), sheet_name=None, header=None)

    # ---- what most notebooks ask first ----

    def meta(self):
        """/v1/meta: role, zone, the latest closed and the running periods."""
        return self.get("/v1/meta")

    def units(self, level, parent=None):
        """Units of a level (optionally inside parent) as a DataFrame indexed by code."""
        df = self.frame("/v1/units", "units", level=level, parent=parent)
        return df.set_index("code") if not df.empty else df


def unit_name(unit, lang="en"):
    """A unit's name (a /v1/units row or answer) in lang, else its own name."""
    names = unit.get("names") or {}
    return names.get(lang) or unit.get("name") or unit.get("code", "")


def flatten_comparisons(df):
    """Renames the dotted comparison columns of json_normalize
    (previous.z, last_year.base) to the GeoJSON property names
    (previous_z, last_year_base), so JSON and GeoJSON frames read alike."""
    return df.rename(columns=lambda c: c.replace(".", "_"))


def shift_quarter(label, n):
    """'2026-Q3' shifted by n quarters: shift_quarter('2026-Q1', -1) == '2025-Q4'."""
    year, q = label.split("-Q")
    i = int(year) * 4 + int(q) - 1 + n
    return f"{i // 4}-Q{i % 4 + 1}"


def shift_month(label, n):
    """'2026-11' shifted by n months: shift_month('2026-01', -1) == '2025-12'."""
    year, m = label.split("-")
    i = int(year) * 12 + int(m) - 1 + n
    return f"{i // 12}-{i % 12 + 1:02d}"
