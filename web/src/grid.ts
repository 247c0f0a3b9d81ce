// The results grid: virtualised (only the rows in view are in the DOM), sorted by a click on a
// column's header, columns resized by dragging a header's right edge, a cell copied with its
// button or Ctrl-C, JSON payloads expanded in a panel.

import type { Column } from "./api";
import { el, cellText, compare } from "./format";

const rowHeight = 26;
const overscan = 10;

/** Grid shows a result's rows. */
export class Grid {
  readonly root: HTMLElement;
  private body: HTMLElement;
  private spacer: HTMLElement;
  private rowsEl: HTMLElement;
  private header: HTMLElement;
  private detail: HTMLElement;
  private columns: Column[] = [];
  private rows: unknown[][] = [];
  private order: number[] = [];
  private sortCol = -1;
  private sortDesc = false;
  private selected: { row: number; col: number } | null = null;
  private widths: number[] = [];

  constructor() {
    this.header = el("div", { class: "grid-header", role: "row" });
    this.rowsEl = el("div", { class: "grid-rows" });
    this.spacer = el("div", { class: "grid-spacer" }, this.rowsEl);
    this.body = el("div", { class: "grid-body", tabindex: "0" }, this.spacer);
    this.detail = el("div", { class: "grid-detail", hidden: "" });
    this.root = el("div", { class: "grid", role: "grid" }, el("div", { class: "grid-scroll" }, this.header, this.body), this.detail);
    this.body.addEventListener("scroll", () => {
      this.header.style.transform = `translateX(${-this.body.scrollLeft}px)`;
      this.paint();
    });
    this.body.addEventListener("keydown", (e) => {
      if ((e.ctrlKey || e.metaKey) && e.key === "c" && this.selected) {
        e.preventDefault();
        this.copySelected();
      }
    });
    new ResizeObserver(() => this.paint()).observe(this.body);
  }

  /** show replaces the grid's result. */
  show(columns: Column[], rows: unknown[][]) {
    this.columns = columns;
    this.rows = rows;
    this.order = rows.map((_, i) => i);
    this.sortCol = -1;
    this.selected = null;
    this.detail.hidden = true;
    this.widths = columns.map((c, i) => {
      let w = c.name.length;
      for (let r = 0; r < Math.min(rows.length, 200); r++) w = Math.max(w, Math.min(cellText(rows[r][i]).length, 60));
      return Math.max(60, Math.min(480, w * 8 + 20));
    });
    this.header.replaceChildren(
      ...columns.map((c, i) => {
        const grip = el("span", { class: "grid-resize", title: "drag to resize", "data-col": String(i) });
        const h = el("div", { class: "grid-cell grid-head", role: "columnheader", title: `${c.name} ${c.type} (click to sort)` }, c.name, el("span", { class: "sort" }), grip);
        h.style.width = `${this.widths[i]}px`;
        h.addEventListener("click", () => this.sort(i));
        grip.addEventListener("click", (e) => e.stopPropagation());
        grip.addEventListener("pointerdown", (e) => this.startResize(i, e));
        return h;
      }),
    );
    this.layout();
    this.spacer.style.height = `${rows.length * rowHeight}px`;
    this.body.scrollTop = 0;
    this.paint();
  }

  /** layout sets the header's and the rows' widths from the columns'. */
  private layout() {
    const total = this.widths.reduce((a, b) => a + b, 0);
    this.header.style.width = `${total}px`;
    this.spacer.style.width = `${total}px`;
    this.header.querySelectorAll<HTMLElement>(".grid-head").forEach((h, i) => (h.style.width = `${this.widths[i]}px`));
  }

  /** resize sets a column's width (at least 40 px). */
  resize(col: number, width: number) {
    this.widths[col] = Math.max(40, Math.round(width));
    this.layout();
    this.paint();
  }

  /** width is a column's width in pixels. */
  width(col: number): number {
    return this.widths[col];
  }

  private startResize(col: number, e: PointerEvent) {
    e.preventDefault();
    e.stopPropagation();
    const grip = e.target as HTMLElement;
    const x0 = e.clientX;
    const w0 = this.widths[col];
    grip.setPointerCapture?.(e.pointerId);
    const move = (m: PointerEvent) => this.resize(col, w0 + m.clientX - x0);
    const up = () => {
      grip.removeEventListener("pointermove", move);
      grip.removeEventListener("pointerup", up);
      grip.removeEventListener("pointercancel", up);
    };
    grip.addEventListener("pointermove", move);
    grip.addEventListener("pointerup", up);
    grip.addEventListener("pointercancel", up);
  }

  /** sort orders the rows by a column; a second click reverses the order. */
  sort(col: number) {
    this.sortDesc = this.sortCol === col ? !this.sortDesc : false;
    this.sortCol = col;
    const dir = this.sortDesc ? -1 : 1;
    this.order.sort((a, b) => dir * compare(this.rows[a][col], this.rows[b][col]) || a - b);
    this.header.querySelectorAll(".sort").forEach((s, i) => (s.textContent = i === col ? (this.sortDesc ? " ▼" : " ▲") : ""));
    this.paint();
  }

  /** paint renders the rows in view, and a few beyond. */
  private paint() {
    const first = Math.max(0, Math.floor(this.body.scrollTop / rowHeight) - overscan);
    const last = Math.min(this.order.length, Math.ceil((this.body.scrollTop + this.body.clientHeight) / rowHeight) + overscan);
    const out: HTMLElement[] = [];
    for (let v = first; v < last; v++) {
      const r = this.order[v];
      const row = el("div", { class: "grid-row", role: "row", "data-row": String(r) });
      row.style.top = `${v * rowHeight}px`;
      this.columns.forEach((_, c) => {
        const value = this.rows[r][c];
        const text = cellText(value);
        const cell = el("div", { class: "grid-cell", role: "gridcell", title: text.length > 60 ? text.slice(0, 2000) : "" }, text);
        if (value === null || value === undefined) cell.classList.add("null");
        if (typeof value === "number") cell.classList.add("num");
        if (this.selected && this.selected.row === r && this.selected.col === c) cell.classList.add("selected");
        cell.style.width = `${this.widths[c]}px`;
        cell.addEventListener("click", () => this.select(r, c));
        cell.addEventListener("dblclick", () => this.expand(r, c));
        row.append(cell);
      });
      out.push(row);
    }
    this.rowsEl.replaceChildren(...out);
  }

  private select(row: number, col: number) {
    this.selected = { row, col };
    this.paint();
    const v = this.rows[row][col];
    if (v !== null && typeof v === "object") this.expand(row, col);
    else if (typeof v === "string" && /^\s*[{[]/.test(v)) this.expand(row, col);
  }

  /** expand shows a cell's value in the panel below the grid, pretty-printed when it is JSON. */
  private expand(row: number, col: number) {
    const v = this.rows[row][col];
    let text = cellText(v);
    let parsed: unknown = v;
    if (typeof v === "string") {
      try {
        parsed = JSON.parse(v);
      } catch {
        parsed = v;
      }
    }
    if (parsed !== null && typeof parsed === "object") text = JSON.stringify(parsed, null, 2);
    const copy = el("button", { type: "button" }, "Copy");
    copy.addEventListener("click", () => this.copySelected());
    const close = el("button", { type: "button" }, "Close");
    close.addEventListener("click", () => (this.detail.hidden = true));
    this.detail.replaceChildren(
      el("div", { class: "detail-bar" }, el("strong", {}, this.columns[col].name), ` row ${row + 1}`, copy, close),
      el("pre", { class: "json" }, text),
    );
    this.detail.hidden = false;
  }

  /** copySelected copies the selected cell's text to the clipboard. */
  copySelected() {
    if (!this.selected) return;
    const text = cellText(this.rows[this.selected.row][this.selected.col]);
    navigator.clipboard?.writeText(text).catch(() => {
      // The clipboard needs a secure context (https or localhost): fall back to a selection.
      const ta = el("textarea", {}, text);
      document.body.append(ta);
      ta.select();
      document.execCommand("copy");
      ta.remove();
    });
  }
}
