// The query page: tabs of statements (kept in localStorage), the editor, Run (asynchronous, so
// it can be cancelled), the grid and a chart of the result, the scan figures and Athena's
// price, downloads, and saving the statement under a name.

import { APIError, call, JobStatus, queryURL, Result, SchemaColumn } from "./api";
import { chartOf, drawChart } from "./chart";
import { Editor } from "./editor";
import { Grid } from "./grid";
import { el, summary } from "./format";
import { Store, Tabs } from "./tabs";

const defaultSQL = "SELECT eventname, count(*) AS n\nFROM cloudtrail_logs\nGROUP BY 1\nORDER BY n DESC";

/** browserStore is localStorage, or a store for this page only where the browser refuses it. */
function browserStore(): Store {
  try {
    return window.localStorage;
  } catch {
    const m = new Map<string, string>();
    return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => void m.set(k, v) };
  }
}

/** SavedQuery is an entry of GET /saved. */
export interface SavedQuery {
  id: string;
  name: string;
  description?: string;
  sql: string;
  created: string;
  by?: string;
}

/** QueryPage is the SQL editor and its results. */
export class QueryPage {
  readonly root: HTMLElement;
  readonly editor: Editor;
  private grid = new Grid();
  private status: HTMLElement;
  private runBtn: HTMLButtonElement;
  private cancelBtn: HTMLButtonElement;
  private csv: HTMLAnchorElement;
  private json: HTMLAnchorElement;
  // running is the query under way; cancelled is set when Cancel is pressed before the server
  // has given the query's id, so it is cancelled as soon as the id is known.
  private running: { id?: string; abort: AbortController; cancelled?: boolean } | null = null;
  private tabs: Tabs;
  private tabBar: HTMLElement;
  private chartBox: HTMLElement;
  private saveName: HTMLInputElement;
  private saveMsg: HTMLElement;
  // results are the last result of each tab, while the page lives.
  private results = new Map<string, Result>();

  constructor() {
    this.tabs = new Tabs(browserStore(), defaultSQL);
    this.tabBar = el("div", { class: "tabs", id: "tabs", role: "tablist" });
    this.chartBox = el("div", { class: "chart-box", id: "chart", hidden: "" });
    this.saveName = el("input", { type: "text", id: "save-name", placeholder: "name to save as" });
    const saveBtn = el("button", { type: "button", id: "save" }, "Save");
    this.saveMsg = el("span", { class: "muted", id: "save-msg" });
    saveBtn.addEventListener("click", () => this.saveCurrent());
    const editorBox = el("div", { class: "editor", id: "editor" });
    this.runBtn = el("button", { type: "button", class: "primary", id: "run", title: "Ctrl-Enter" }, "Run");
    this.cancelBtn = el("button", { type: "button", id: "cancel", disabled: "" }, "Cancel");
    this.csv = el("a", { class: "button", id: "download-csv", download: "result.csv" }, "CSV");
    this.json = el("a", { class: "button", id: "download-json", download: "result.json" }, "JSON");
    this.status = el("div", { class: "status", id: "status", role: "status" }, "Ctrl-Enter runs the statement.");
    this.runBtn.addEventListener("click", () => this.run());
    this.cancelBtn.addEventListener("click", () => this.cancel());
    this.root = el(
      "section",
      { class: "page query-page" },
      this.tabBar,
      editorBox,
      el("div", { class: "toolbar" }, this.runBtn, this.cancelBtn, el("span", { class: "grow" }), this.saveName, saveBtn, this.saveMsg, "Download: ", this.csv, this.json),
      this.status,
      this.chartBox,
      this.grid.root,
    );
    this.editor = new Editor(editorBox, this.tabs.active.sql, () => this.run(), () => {
      this.tabs.update(this.editor.text);
      this.updateDownloads();
      this.paintTabs();
    });
    this.updateDownloads();
    this.paintTabs();
    call<{ columns: SchemaColumn[] }>("GET", "/schema").then(
      (s) => this.editor.setSchema(s.columns),
      (e) => this.say(`schema: ${(e as Error).message}`, true),
    );
  }

  /** open puts a statement in a new tab (title: a saved query's name). */
  open(sql: string, title?: string, saved?: string) {
    this.tabs.add(sql, title, saved);
    this.showTab();
  }

  /** showTab puts the active tab's statement in the editor, and its last result. */
  private showTab() {
    const t = this.tabs.active;
    if (this.editor.text !== t.sql) this.editor.text = t.sql;
    this.editor.clearError();
    this.saveName.value = t.saved ? t.title : "";
    this.saveMsg.textContent = "";
    const res = this.results.get(t.id);
    if (res) this.show(res);
    else {
      this.grid.show([], []);
      this.chartBox.hidden = true;
      this.say("Ctrl-Enter runs the statement.");
    }
    this.paintTabs();
    this.updateDownloads();
  }

  private paintTabs() {
    const active = this.tabs.active.id;
    const items = this.tabs.list.map((t) => {
      const close = el("button", { type: "button", class: "tab-close", title: "Close the tab", "aria-label": "close" }, "×");
      const tab = el("div", { class: `tab${t.id === active ? " active" : ""}`, role: "tab", "data-tab": t.id, title: t.sql }, el("span", { class: "tab-title" }, t.title), close);
      tab.addEventListener("click", () => {
        if (this.running || t.id === this.tabs.active.id) return;
        this.tabs.select(t.id);
        this.showTab();
      });
      close.addEventListener("click", (ev) => {
        ev.stopPropagation();
        if (this.running) return;
        this.results.delete(t.id);
        this.tabs.close(t.id);
        this.showTab();
      });
      return tab;
    });
    const add = el("button", { type: "button", class: "tab-new", id: "new-tab", title: "New tab" }, "+");
    add.addEventListener("click", () => {
      if (this.running) return;
      this.open("");
      this.editor.view.focus();
    });
    this.tabBar.replaceChildren(...items, add);
  }

  /** saveCurrent saves the editor's statement under the name given (POST /saved). */
  private async saveCurrent() {
    const name = this.saveName.value.trim();
    if (!name) {
      this.saveMsg.textContent = "Give a name to save the statement under.";
      this.saveName.focus();
      return;
    }
    try {
      const q = await call<SavedQuery>("POST", "/saved", { name, sql: this.editor.text });
      this.tabs.rename(q.name, q.id);
      this.paintTabs();
      const link = el("a", { href: `#/saved/${q.id}`, id: "saved-link" }, "link");
      this.saveMsg.replaceChildren(`Saved as “${q.name}” · `, link);
    } catch (e) {
      this.saveMsg.textContent = (e as Error).message;
    }
  }

  private updateDownloads() {
    this.csv.href = queryURL(this.editor.text, "csv");
    this.json.href = queryURL(this.editor.text, "json");
  }

  private say(text: string, error = false) {
    this.status.textContent = text;
    this.status.classList.toggle("error", error);
  }

  /** run submits the statement as an asynchronous query, waits for it, and shows its rows. */
  async run() {
    if (this.running) return;
    const sql = this.editor.text.trim();
    if (!sql) return;
    this.updateDownloads();
    this.editor.clearError();
    const abort = new AbortController();
    this.running = { abort };
    this.runBtn.disabled = true;
    this.cancelBtn.disabled = false;
    this.say("Submitting…");
    const tab = this.tabs.active.id;
    this.results.delete(tab);
    try {
      const job = await call<JobStatus>("POST", "/queries", { sql: this.editor.text, shape: "arrays" }, abort.signal);
      this.running.id = job.id;
      if (this.running.cancelled) {
        await call("DELETE", `/queries/${job.id}`);
        throw new DOMException("cancelled", "AbortError");
      }
      let st = job;
      for (let wait = 100; st.state === "QUEUED" || st.state === "RUNNING"; wait = Math.min(wait * 1.5, 1000)) {
        this.say(`${st.state === "QUEUED" ? "Queued" : "Running"}… (${job.id})`);
        await new Promise((r) => setTimeout(r, wait));
        st = await call<JobStatus>("GET", `/queries/${job.id}`, undefined, abort.signal);
      }
      if (st.state === "FAILED" && st.error) {
        throw new APIError(422, st.error.type, st.error.message, st.error.line ?? 0, st.error.column ?? 0);
      }
      if (st.state === "CANCELLED") {
        this.say("Cancelled.");
        return;
      }
      const res = await call<Result>("GET", `/queries/${job.id}/results?_shape=arrays`, undefined, abort.signal);
      this.results.set(tab, res);
      this.show(res);
    } catch (e) {
      if ((e as Error).name === "AbortError") {
        this.say("Cancelled.");
      } else {
        this.fail(e as Error);
      }
    } finally {
      this.running = null;
      this.runBtn.disabled = false;
      this.cancelBtn.disabled = true;
    }
  }

  /** show puts a result in the grid with its figures. */
  show(res: Result) {
    this.grid.show(res.columns, res.rows as unknown[][]);
    this.say(summary(res));
    const spec = chartOf(res.columns, res.rows as unknown[][]);
    this.chartBox.hidden = spec === null;
    this.chartBox.replaceChildren(...(spec ? [drawChart(spec)] : []));
  }

  private fail(e: Error) {
    // The rows of an earlier statement would pass for this one's.
    this.grid.show([], []);
    this.chartBox.hidden = true;
    if (e instanceof APIError) {
      const where = e.line ? ` (line ${e.line}, column ${e.column})` : "";
      this.say(`${e.type} error${where}: ${e.message}${e.limit ? ` (limit: ${e.limit})` : ""}`, true);
      if (e.line) this.editor.markError(e.line, e.column, e.message);
    } else {
      this.say(e.message, true);
    }
  }

  /** cancel stops the running query on the server (DELETE /queries/{id}). */
  async cancel() {
    const r = this.running;
    if (!r) return;
    r.cancelled = true;
    this.say("Cancelling…");
    // Without an id yet, run cancels the query once the server gives it (aborting the
    // submission would leave the query running on the server).
    if (!r.id) return;
    try {
      await call("DELETE", `/queries/${r.id}`);
    } catch (e) {
      this.fail(e as Error);
    }
    r.abort.abort();
  }
}
