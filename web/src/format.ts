// Small formatting helpers shared by the pages.

import type { Result } from "./api";

/** el creates an element with attributes and children. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string | null | undefined)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(typeof c === "string" ? document.createTextNode(c) : c);
  }
  return e;
}

/** bytes formats a byte count as B, KB, MB, GB (powers of 1024). */
export function bytes(n: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** usd formats a price in dollars with enough digits to show fractions of a cent. */
export function usd(n: number): string {
  if (n === 0) return "$0";
  if (n >= 0.01) return `$${n.toFixed(4)}`;
  return `$${n.toPrecision(3)}`;
}

/** cellText is a value as a grid cell shows it: JSON for objects and arrays. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** compare orders two cell values: nulls last, numbers numerically, the rest as text. */
export function compare(a: unknown, b: unknown): number {
  const an = a === null || a === undefined;
  const bn = b === null || b === undefined;
  if (an || bn) return an === bn ? 0 : an ? 1 : -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  const x = cellText(a);
  const y = cellText(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** summary is a result's row count and scan figures: files and bytes read, time, Athena's price. */
export function summary(res: Result): string {
  const s = res.stats;
  const parts = [`${res.row_count} row${res.row_count === 1 ? "" : "s"}${res.truncated ? " (truncated: the server's --max-rows)" : ""}`];
  if (s) {
    parts.push(
      `${s.files_read}/${s.files_total} files`,
      `${bytes(s.bytes_read)} of ${bytes(s.bytes_total)} read`,
      `${s.elapsed_ms.toFixed(0)} ms`,
      `Athena would bill ${usd(s.athena_price_usd)}`,
    );
  }
  if (res.commit !== undefined) parts.push(`commit ${res.commit}`);
  return parts.join(" · ");
}
