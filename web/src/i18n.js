// UI text: every word comes from GET /v1/labels (the message catalogues);
// a missing key shows its own name.
import { api } from "./api.js";

export const LANGS = ["uz", "uz-Cyrl", "ru", "en", "kk", "ky"];
let labels = {};
let current = "uz";
const cache = new Map();

export const lang = () => current;

export async function loadLabels(l, signal) {
  if (!cache.has(l)) {
    const j = await api(`/v1/labels?lang=${encodeURIComponent(l)}`, { signal, token: "" });
    cache.set(l, (j && j.labels) || {});
  }
  labels = cache.get(l);
  current = l;
  document.documentElement.lang = l;
}

export const has = (key) => Object.prototype.hasOwnProperty.call(labels, key);

/** t formats a catalogue message: %s %d %v %.1f and %[n]s verbs, %% a percent sign. */
export function t(key, ...args) {
  const text = has(key) ? labels[key] : key;
  if (!args.length) return text.replace(/%%/g, "%");
  let next = 0;
  return text.replace(/%%|%(?:\[(\d+)\])?([-+# 0]*)(\d*)(?:\.(\d+))?([vdsfegqxXc])/g, (m, idx, _flags, _w, prec, verb) => {
    if (m === "%%") return "%";
    const i = idx ? Number(idx) - 1 : next;
    next = i + 1;
    const v = args[i];
    if (v === undefined) return m;
    if (typeof v === "number" && (verb === "f" || verb === "g" || verb === "e")) return num(v, prec ? Number(prec) : 1);
    if (typeof v === "number" && verb === "d") return String(Math.trunc(v));
    return String(v);
  });
}

/** label of a family's name, e.g. label("kind", "crime"); the raw name when missing. */
export function label(family, name) {
  const k = `${family}.${name}`;
  return has(k) ? t(k) : name;
}

function seps() {
  const dec = has("number.decimal_separator") ? labels["number.decimal_separator"] : current === "en" ? "." : ",";
  const grp = has("number.group_separator") ? labels["number.group_separator"] : current === "en" ? "," : "\u00a0";
  return { dec, grp };
}

/** num formats a number as the catalogue says (1 234,5; English 1,234.5). */
export function num(v, decimals = 0) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  const { dec, grp } = seps();
  const neg = v < 0 && Math.abs(v).toFixed(decimals) !== (0).toFixed(decimals);
  const [int, frac] = Math.abs(v).toFixed(decimals).split(".");
  const g = int.replace(/\B(?=(\d{3})+(?!\d))/g, grp === " " ? "\u00a0" : grp);
  return (neg ? "−" : "") + g + (frac ? dec + frac : "");
}

export function signed(v, decimals = 0) {
  if (v === null || v === undefined) return "–";
  return (v > 0 ? "+" : "") + num(v, decimals);
}

export function percent(v, decimals = 1) {
  if (v === null || v === undefined) return "–";
  const s = signed(v, decimals);
  return has("number.percent") ? labels["number.percent"].replace("%s", s).replace(/%%/g, "%") : s + "%";
}

/**
 * count shows a count as the API gives it: exact ("130"), public with its
 * interval ("130 (125–135)"), or withheld ("≤ 7").
 */
export function count(c, lo, hi) {
  if (c === null || c === undefined) {
    if (hi === null || hi === undefined) return "–";
    return "≤\u00a0" + num(hi);
  }
  if (lo === null || lo === undefined || hi === null || hi === undefined || (lo === c && hi === c)) return num(c);
  return `${num(c)} (${num(lo)}–${num(hi)})`;
}

/** periodText reads a period label (2026, 2026-H1, 2026-Q3, 2026-07, 2026-W28) in the language. */
export function periodText(p) {
  let m;
  if ((m = /^(\d{4})$/.exec(p))) return has("period.year") ? t("period.year", Number(m[1])) : p;
  if ((m = /^(\d{4})-H([12])$/.exec(p))) return has(`period.half.${m[2]}`) ? t(`period.half.${m[2]}`, Number(m[1])) : p;
  if ((m = /^(\d{4})-Q([1-4])$/.exec(p))) return has(`period.quarter.${m[2]}`) ? t(`period.quarter.${m[2]}`, Number(m[1])) : p;
  if ((m = /^(\d{4})-(\d{2})$/.exec(p))) {
    const month = label("month", String(Number(m[2])));
    return has("format.month_year") ? t("format.month_year", month, Number(m[1])) : `${month} ${m[1]}`;
  }
  return p;
}

export function monthShort(p) {
  const m = /^(\d{4})-(\d{2})$/.exec(p);
  return m ? label("month_short", String(Number(m[2]))) : p;
}

/** apply translates the static DOM: data-i18n (text), data-i18n-aria (aria-label). */
export function apply(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-aria]")) el.setAttribute("aria-label", t(el.dataset.i18nAria));
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
}

/** unitName gives a unit's name in the UI language when the store has it. */
export function unitName(u) {
  if (!u) return "";
  const n = u.names || {};
  return n[current] || u.name || u.code || "";
}
