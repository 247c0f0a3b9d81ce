// A chart of any result with a time or numeric column, drawn as inline SVG by our own code (no
// package, works offline): a time column gives events (or the sum of the first numeric column)
// per time bucket; a text column with a numeric one gives the top-N values as bars.

import type { Column } from "./api";

/** Bar is one bar of a chart: its label and value. */
export interface Bar {
  label: string;
  value: number;
}

/** ChartSpec is what chartOf makes of a result. */
export interface ChartSpec {
  kind: "time" | "top";
  title: string;
  bars: Bar[];
  /** bucket is the time bucket's length in milliseconds (time charts). */
  bucket?: number;
}

const numericType = /^(tinyint|smallint|integer|int|bigint|hugeint|real|float|double|decimal|numeric|ubigint|uinteger|usmallint|utinyint)/i;
const timeType = /^(timestamp|date)/i;
// An ISO 8601 day or time, as CloudTrail's eventtime and the engine's timestamps are written.
const isoTime = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** timeOf reads a cell as a time in milliseconds, or NaN. */
export function timeOf(v: unknown): number {
  if (typeof v !== "string" || !isoTime.test(v)) return NaN;
  let s = v.replace(" ", "T");
  if (s.length === 10) s += "T00:00:00Z";
  else if (!/(Z|[+-]\d{2}:?\d{2})$/.test(s)) s += "Z";
  return Date.parse(s);
}

function sample(rows: unknown[][], col: number): unknown[] {
  const out: unknown[] = [];
  for (const r of rows) {
    if (r[col] !== null && r[col] !== undefined) out.push(r[col]);
    if (out.length >= 200) break;
  }
  return out;
}

/** isTimeColumn: a TIMESTAMP or DATE column, or text whose values are all ISO times. */
export function isTimeColumn(c: Column, rows: unknown[][], i: number): boolean {
  const s = sample(rows, i);
  if (s.length === 0) return false;
  if (timeType.test(c.type)) return s.every((v) => !Number.isNaN(timeOf(v)));
  return /^(varchar|text|string)/i.test(c.type) && s.every((v) => !Number.isNaN(timeOf(v)));
}

/** isNumericColumn: a numeric column whose values are numbers (JSON may carry big ones as text). */
export function isNumericColumn(c: Column, rows: unknown[][], i: number): boolean {
  const s = sample(rows, i);
  return numericType.test(c.type) && s.length > 0 && s.every((v) => typeof v === "number" || (typeof v === "string" && v.trim() !== "" && !Number.isNaN(Number(v))));
}

const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;
/** The bucket lengths a time chart chooses from: the smallest giving at most maxBuckets. */
export const buckets = [minute, 5 * minute, 15 * minute, hour, 6 * hour, day, 7 * day, 30 * day];
const maxBuckets = 120;

/** bucketLabel names a bucket by its start, as much of the time as the bucket needs. */
export function bucketLabel(t: number, bucket: number): string {
  const iso = new Date(t).toISOString();
  return bucket >= day ? iso.slice(0, 10) : iso.slice(0, 16).replace("T", " ");
}

/** chartOf makes a chart of a result, or null when it has no column to chart. */
export function chartOf(columns: Column[], rows: unknown[][], topN = 20): ChartSpec | null {
  if (rows.length === 0) return null;
  const time = columns.findIndex((c, i) => isTimeColumn(c, rows, i));
  const num = columns.findIndex((c, i) => i !== time && isNumericColumn(c, rows, i));
  if (time >= 0) {
    const ts: [number, number][] = [];
    for (const r of rows) {
      const t = timeOf(r[time]);
      if (Number.isNaN(t)) continue;
      ts.push([t, num >= 0 ? Number(r[num] ?? 0) : 1]);
    }
    if (ts.length === 0) return null;
    let lo = Infinity;
    let hi = -Infinity;
    for (const [t] of ts) {
      lo = Math.min(lo, t);
      hi = Math.max(hi, t);
    }
    const bucket = buckets.find((b) => Math.floor(hi / b) - Math.floor(lo / b) + 1 <= maxBuckets) ?? buckets[buckets.length - 1];
    const first = Math.floor(lo / bucket);
    const n = Math.floor(hi / bucket) - first + 1;
    const values = new Array<number>(n).fill(0);
    for (const [t, v] of ts) values[Math.floor(t / bucket) - first] += v;
    const what = num >= 0 ? `sum of ${columns[num].name}` : "rows";
    return {
      kind: "time",
      title: `${what} per ${bucketName(bucket)} of ${columns[time].name}`,
      bucket,
      bars: values.map((value, i) => ({ label: bucketLabel((first + i) * bucket, bucket), value })),
    };
  }
  if (num < 0) return null;
  const text = columns.findIndex((c, i) => i !== num && !isNumericColumn(c, rows, i));
  if (text < 0) return null;
  const sums = new Map<string, number>();
  for (const r of rows) {
    const k = r[text] === null || r[text] === undefined ? "NULL" : typeof r[text] === "object" ? JSON.stringify(r[text]) : String(r[text]);
    sums.set(k, (sums.get(k) ?? 0) + Number(r[num] ?? 0));
  }
  const bars = [...sums].map(([label, value]) => ({ label, value }));
  bars.sort((a, b) => b.value - a.value || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
  return { kind: "top", title: `top ${Math.min(topN, bars.length)} ${columns[text].name} by ${columns[num].name}`, bars: bars.slice(0, topN) };
}

function bucketName(b: number): string {
  const names: [number, string][] = [[30 * day, "30 days"], [7 * day, "week"], [day, "day"], [6 * hour, "6 hours"], [hour, "hour"], [15 * minute, "15 minutes"], [5 * minute, "5 minutes"], [minute, "minute"]];
  return names.find(([n]) => n === b)?.[1] ?? `${b / 1000} s`;
}

/** compact writes a number short: 1234 → 1.2k. */
export function compact(n: number): string {
  const a = Math.abs(n);
  if (a >= 1e9) return `${(n / 1e9).toFixed(1)}G`;
  if (a >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

const svgNS = "http://www.w3.org/2000/svg";

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const e = document.createElementNS(svgNS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** drawChart draws a spec as SVG: vertical bars over time (with a line), horizontal bars for top-N. */
export function drawChart(spec: ChartSpec): SVGSVGElement {
  return spec.kind === "time" ? drawTime(spec) : drawTop(spec);
}

function drawTime(spec: ChartSpec): SVGSVGElement {
  const W = 900;
  const H = 260;
  const left = 56;
  const bottom = 40;
  const top = 24;
  const max = Math.max(1, ...spec.bars.map((b) => b.value));
  const plotW = W - left - 10;
  const plotH = H - top - bottom;
  const bw = plotW / spec.bars.length;
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart chart-time", role: "img", "aria-label": spec.title });
  root.append(svg("text", { x: left, y: 15, class: "chart-title" }, spec.title));
  for (const f of [0, 0.5, 1]) {
    const y = top + plotH * (1 - f);
    root.append(svg("line", { x1: left, x2: W - 10, y1: y, y2: y, class: "chart-grid" }), svg("text", { x: left - 6, y: y + 4, "text-anchor": "end", class: "chart-axis" }, compact(max * f)));
  }
  const points: string[] = [];
  spec.bars.forEach((b, i) => {
    const h = (b.value / max) * plotH;
    const x = left + i * bw;
    const rect = svg("rect", { x: x + bw * 0.1, y: top + plotH - h, width: Math.max(1, bw * 0.8), height: h, class: "chart-bar", "data-label": b.label, "data-value": b.value });
    rect.append(svg("title", {}, `${b.label}: ${b.value}`));
    root.append(rect);
    points.push(`${(x + bw / 2).toFixed(1)},${(top + plotH - h).toFixed(1)}`);
  });
  root.append(svg("polyline", { points: points.join(" "), class: "chart-line" }));
  const every = Math.max(1, Math.ceil(spec.bars.length / 8));
  spec.bars.forEach((b, i) => {
    if (i % every !== 0) return;
    root.append(svg("text", { x: left + i * bw + bw / 2, y: H - bottom + 16, "text-anchor": "middle", class: "chart-axis" }, b.label));
  });
  return root;
}

function drawTop(spec: ChartSpec): SVGSVGElement {
  const W = 900;
  const row = 22;
  const top = 24;
  const labelW = 260;
  const H = top + row * spec.bars.length + 8;
  const max = Math.max(1, ...spec.bars.map((b) => b.value));
  const plotW = W - labelW - 70;
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart chart-top", role: "img", "aria-label": spec.title });
  root.append(svg("text", { x: 4, y: 15, class: "chart-title" }, spec.title));
  spec.bars.forEach((b, i) => {
    const y = top + i * row;
    const w = (Math.max(0, b.value) / max) * plotW;
    const label = b.label.length > 38 ? b.label.slice(0, 37) + "…" : b.label;
    root.append(svg("text", { x: labelW - 6, y: y + 15, "text-anchor": "end", class: "chart-label" }, label));
    const rect = svg("rect", { x: labelW, y: y + 3, width: Math.max(1, w), height: row - 6, class: "chart-bar", "data-label": b.label, "data-value": b.value });
    rect.append(svg("title", {}, `${b.label}: ${b.value}`));
    root.append(rect, svg("text", { x: labelW + w + 6, y: y + 15, class: "chart-value" }, compact(b.value)));
  });
  return root;
}
