// The query page: the editor, Run (asynchronous, so it can be cancelled), the grid, the scan
// figures and Athena's price, downloads.

import { APIError, call, JobStatus, queryURL, Result, SchemaColumn } from "./api";
import { Editor } from "./editor";
import { Grid } from "./grid";
import { el, summary } from "./format";

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

  constructor() {
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
      editorBox,
      el("div", { class: "toolbar" }, this.runBtn, this.cancelBtn, el("span", { class: "grow" }), "Download: ", this.csv, this.json),
      this.status,
      this.grid.root,
    );
    this.editor = new Editor(
      editorBox,
      "SELECT eventname, count(*) AS n\nFROM cloudtrail_logs\nGROUP BY 1\nORDER BY n DESC",
      () => this.run(),
      () => this.updateDownloads(),
    );
    this.updateDownloads();
    call<{ columns: SchemaColumn[] }>("GET", "/schema").then(
      (s) => this.editor.setSchema(s.columns),
      (e) => this.say(`schema: ${(e as Error).message}`, true),
    );
  }

  /** open puts a statement in the editor. */
  open(sql: string) {
    this.editor.text = sql;
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
  }

  private fail(e: Error) {
    // The rows of an earlier statement would pass for this one's.
    this.grid.show([], []);
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
