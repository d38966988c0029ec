// Period labels as the API writes them: 2026, 2026-H1, 2026-Q3, 2026-07.
export const KINDS = ["month", "quarter", "half", "year"];

export function kindOf(p) {
  if (/^\d{4}$/.test(p)) return "year";
  if (/^\d{4}-H[12]$/.test(p)) return "half";
  if (/^\d{4}-Q[1-4]$/.test(p)) return "quarter";
  if (/^\d{4}-\d{2}$/.test(p)) return "month";
  return "";
}

/** monthsOf gives the first and last month ("YYYY-MM") of a period. */
export function monthsOf(p) {
  const y = Number(p.slice(0, 4));
  const mm = (m) => `${y}-${String(m).padStart(2, "0")}`;
  switch (kindOf(p)) {
    case "year": return [mm(1), mm(12)];
    case "half": return p.endsWith("1") ? [mm(1), mm(6)] : [mm(7), mm(12)];
    case "quarter": { const q = Number(p.slice(-1)); return [mm(3 * q - 2), mm(3 * q)]; }
    case "month": return [p, p];
    default: return ["", ""];
  }
}

/** periodOf gives the period of a kind that holds a month. */
export function periodOf(kind, month) {
  const y = month.slice(0, 4);
  const m = Number(month.slice(5, 7));
  switch (kind) {
    case "year": return y;
    case "half": return `${y}-H${m <= 6 ? 1 : 2}`;
    case "quarter": return `${y}-Q${Math.ceil(m / 3)}`;
    default: return month;
  }
}

function prev(p) {
  const y = Number(p.slice(0, 4));
  switch (kindOf(p)) {
    case "year": return String(y - 1);
    case "half": return p.endsWith("2") ? `${y}-H1` : `${y - 1}-H2`;
    case "quarter": { const q = Number(p.slice(-1)); return q > 1 ? `${y}-Q${q - 1}` : `${y - 1}-Q4`; }
    case "month": { const m = Number(p.slice(5)); return m > 1 ? `${y}-${String(m - 1).padStart(2, "0")}` : `${y - 1}-12`; }
    default: return "";
  }
}

/** list gives the periods from newest to the one holding firstMonth. */
export function list(newest, firstMonth) {
  const out = [];
  for (let p = newest; p && monthsOf(p)[1] >= firstMonth && out.length < 600; p = prev(p)) out.push(p);
  return out;
}

export function monthInZone(iso, zone) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  try {
    const parts = new Intl.DateTimeFormat("en-CA", { timeZone: zone || "Asia/Tashkent", year: "numeric", month: "2-digit" }).formatToParts(d);
    const get = (t) => parts.find((x) => x.type === t).value;
    return `${get("year")}-${get("month")}`;
  } catch {
    return iso.slice(0, 7);
  }
}

/** fallbackPeriods computes latest closed and running periods from a month ("YYYY-MM" now). */
export function periodsFor(nowMonth) {
  const out = {};
  for (const k of KINDS) {
    const running = periodOf(k, nowMonth);
    out[k] = { running, latest_closed: prev(running) };
  }
  return out;
}
