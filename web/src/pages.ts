// The pages besides the editor: questions (a form, the answer, "open as SQL"), alerts (list,
// details in plain language, acknowledge, silence) and lake status.

import { APIError, call, Result } from "./api";
import { Grid } from "./grid";
import { bytes, el, summary } from "./format";

/** Question is an entry of GET /questions. */
interface Question {
  name: string;
  title: string;
  description: string;
  needs: string[] | null;
  accepts: string[] | null;
}

/** Answer is POST /questions/{name}'s answer. */
interface Answer extends Result {
  question: string;
  title: string;
  sql: string;
  principal?: string;
  window: { from: string; to: string; warnings: string[] | null; coverage: { events: number; first_event?: string; last_event?: string } };
}

function errorBox(e: unknown): HTMLElement {
  const msg = e instanceof APIError ? `${e.type}: ${e.message}` : (e as Error).message;
  return el("p", { class: "error", role: "alert" }, msg);
}

/** questionList renders the catalogue of questions. */
export async function questionList(): Promise<HTMLElement> {
  const root = el("section", { class: "page" }, el("h2", {}, "Questions"));
  try {
    const { questions } = await call<{ questions: Question[] }>("GET", "/questions");
    const list = el("ul", { class: "questions" });
    for (const q of questions) {
      list.append(
        el(
          "li",
          {},
          el("a", { href: `#/questions/${encodeURIComponent(q.name)}`, "data-question": q.name }, q.title || q.name),
          el("code", {}, ` ${q.name}`),
          el("div", { class: "muted" }, q.description),
        ),
      );
    }
    root.append(list);
  } catch (e) {
    root.append(errorBox(e));
  }
  return root;
}

/** The form's fields for each parameter a question needs or accepts. */
const paramFields: Record<string, { label: string; type: string; hint: string }> = {
  principal: { label: "Principal", type: "text", hint: "a name, ARN or access key id" },
  days: { label: "Days", type: "number", hint: "90 unless a from/to is given" },
  from: { label: "From", type: "text", hint: "a day, an RFC 3339 time or an age such as 7d" },
  to: { label: "To", type: "text", hint: "a day, an RFC 3339 time or an age" },
  account: { label: "Account", type: "text", hint: "12 digits" },
  region: { label: "Region", type: "text", hint: "us-east-1" },
  baseline_days: { label: "Baseline days", type: "number", hint: "days of behaviour before the window" },
};

/** questionPage renders one question's form and, once run, its answer. */
export async function questionPage(name: string, openSQL: (sql: string) => void): Promise<HTMLElement> {
  const root = el("section", { class: "page question-page" });
  let q: Question & { sql?: string };
  try {
    q = await call<Question & { sql?: string }>("GET", `/questions/${encodeURIComponent(name)}`);
  } catch (e) {
    root.append(errorBox(e));
    return root;
  }
  // The API's argument names, as the form's fields: the window has defaults (90 days), a
  // baseline is given in days, the IAM inventory is the server's --authz.
  const asField = (p: string) => (p === "baseline_from" ? "baseline_days" : p);
  const needs = new Set<string>((q.needs ?? []).map(asField).filter((p) => p === "principal" || p === "baseline_days"));
  const params: string[] = [...needs];
  for (const p of [...(q.accepts ?? []).map(asField), "days", "from", "to"]) {
    if (p !== "inventory" && !params.includes(p)) params.push(p);
  }
  const form = el("form", { class: "params", id: "question-form" });
  for (const p of params) {
    const f = paramFields[p] ?? { label: p, type: "text", hint: "" };
    const input = el("input", { name: p, type: f.type, placeholder: f.hint, id: `param-${p}` });
    if (needs.has(p)) input.required = true;
    form.append(el("label", {}, `${f.label}${needs.has(p) ? " *" : ""}`, input));
  }
  const submit = el("button", { type: "submit", class: "primary" }, "Answer");
  form.append(submit);
  const out = el("div", { class: "answer", id: "answer" });
  const grid = new Grid();
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body: Record<string, unknown> = { shape: "arrays" };
    for (const [k, v] of new FormData(form)) {
      if (typeof v !== "string" || v.trim() === "") continue;
      body[k] = paramFields[k]?.type === "number" ? Number(v) : v.trim();
    }
    submit.disabled = true;
    out.replaceChildren(el("p", { class: "muted" }, "Answering…"));
    try {
      const a = await call<Answer>("POST", `/questions/${encodeURIComponent(name)}`, body);
      const open = el("button", { type: "button", id: "open-sql" }, "Open as SQL");
      open.addEventListener("click", () => openSQL(a.sql));
      const w = a.window;
      out.replaceChildren(
        el("p", {}, `${w.from} – ${w.to}`, a.principal ? ` · principal ${a.principal}` : "", " ", open),
        el("p", { class: "muted" }, summary(a)),
        ...(w.warnings ?? []).map((x) => el("p", { class: "warning" }, x)),
        grid.root,
      );
      grid.show(a.columns, a.rows as unknown[][]);
    } catch (e) {
      out.replaceChildren(errorBox(e));
    } finally {
      submit.disabled = false;
    }
  });
  const sqlOpen = el("button", { type: "button" }, "Open its SQL");
  sqlOpen.addEventListener("click", () => q.sql && openSQL(q.sql));
  root.append(
    el("p", {}, el("a", { href: "#/questions" }, "← Questions")),
    el("h2", {}, q.title || q.name),
    el("p", { class: "muted" }, q.description),
    form,
    q.sql ? el("details", {}, el("summary", {}, "SQL template"), el("pre", {}, q.sql), sqlOpen) : "",
    out,
  );
  return root;
}

/** Alert is an entry of GET /alerts. */
interface Alert {
  id: string;
  rule: string;
  severity: string;
  title: string;
  event_time: string;
  event_name: string;
  event_source: string;
  principal: string;
  source_ip: string;
  account: string;
  region: string;
  count: number;
  ack?: { at: string; by?: string; note?: string };
  [k: string]: unknown;
}

/** AlertDetail is GET /alerts/{id}: the alert with its plain-language summary. */
interface AlertDetail extends Alert {
  summary: string;
  summary_error?: string;
  fields: { name: string; value: string }[];
  labels: Record<string, string>;
  rule_detail?: { id: string; title: string; description?: string; runbook?: string };
  silenced_by: string[];
}

/** alertsPage renders the alerts, filters, details (the event in plain language), acknowledgement and silencing. */
export async function alertsPage(): Promise<HTMLElement> {
  const root = el("section", { class: "page alerts-page" }, el("h2", {}, "Alerts"));
  const sev = el("select", { name: "severity" }, ...["", "info", "low", "medium", "high", "critical"].map((s) => el("option", { value: s }, s || "any severity")));
  const acked = el("select", { name: "acked" }, el("option", { value: "false" }, "not acknowledged"), el("option", { value: "true" }, "acknowledged"), el("option", { value: "" }, "all"));
  const table = el("div", { class: "alerts" });
  const detail = el("div", { class: "alert-detail" });
  const load = async () => {
    const p = new URLSearchParams({ limit: "500" });
    if (sev.value) p.set("severity", sev.value);
    if (acked.value) p.set("acked", acked.value);
    try {
      const { alerts } = await call<{ alerts: Alert[] | null }>("GET", `/alerts?${p}`);
      const rows = (alerts ?? []).map((a) => {
        const tr = el(
          "tr",
          { "data-alert": a.id },
          el("td", {}, el("span", { class: `sev sev-${a.severity}` }, a.severity)),
          el("td", {}, a.title || a.rule),
          el("td", {}, a.principal),
          el("td", {}, a.event_time),
          el("td", { class: "num" }, String(a.count)),
          el("td", {}, a.ack ? "✓" : ""),
        );
        tr.addEventListener("click", () => {
          table.querySelectorAll("tr.selected").forEach((x) => x.classList.remove("selected"));
          tr.classList.add("selected");
          showAlert(a);
        });
        return tr;
      });
      table.replaceChildren(
        rows.length === 0
          ? el("p", { class: "muted" }, "No alerts match.")
          : el("table", {}, el("thead", {}, el("tr", {}, ...["severity", "alert", "principal", "time", "events", "ack"].map((h) => el("th", {}, h)))), el("tbody", {}, ...rows)),
      );
    } catch (e) {
      table.replaceChildren(errorBox(e));
    }
  };
  const showAlert = async (a: Alert) => {
    detail.replaceChildren(el("h3", {}, a.title || a.rule), el("p", { class: "muted" }, "Reading the event…"));
    let d: AlertDetail;
    try {
      d = await call<AlertDetail>("GET", `/alerts/${a.id}`);
    } catch (e) {
      detail.replaceChildren(el("h3", {}, a.title || a.rule), errorBox(e));
      return;
    }
    const note = el("input", { type: "text", placeholder: "note (why this is expected)", id: "ack-note" });
    const ack = el("button", { type: "button", class: "primary" }, d.ack ? "Withdraw acknowledgement" : "Acknowledge");
    const msg = el("span", {});
    ack.addEventListener("click", async () => {
      try {
        await call(d.ack ? "DELETE" : "POST", `/alerts/${a.id}/ack`, d.ack ? undefined : { note: note.value });
        detail.replaceChildren();
        await load();
      } catch (e) {
        msg.replaceChildren(errorBox(e));
      }
    });
    // Silence its notifications: its rule and principal, for a while (admin).
    const matchers = el("input", { type: "text", id: "alert-silence-matchers", size: "40", value: [`rule=${d.rule}`, d.principal ? `principal=${d.principal}` : ""].filter(Boolean).join(" ") });
    const duration = el("input", { type: "text", id: "alert-silence-duration", size: "5", value: "4h" });
    const why = el("input", { type: "text", id: "alert-silence-comment", placeholder: "why (required)" });
    const silence = el("button", { type: "button", id: "alert-silence" }, "Silence");
    const silenceMsg = el("span", { id: "alert-silence-msg" });
    silence.addEventListener("click", async () => {
      try {
        const s = await call<{ id: string; ends_at: string }>("POST", "/silences", { matchers: matchers.value.trim().split(/\s+/).filter(Boolean), comment: why.value.trim(), duration: duration.value.trim() });
        silenceMsg.replaceChildren(`Silence ${s.id} until ${s.ends_at}. `, el("a", { href: "#/silences" }, "Silences"));
      } catch (e) {
        silenceMsg.replaceChildren(errorBox(e));
      }
    });
    const rule = d.rule_detail;
    detail.replaceChildren(
      el("h3", {}, a.title || a.rule),
      el("p", { class: "alert-summary", id: "alert-summary" }, d.summary),
      d.summary_error ? el("p", { class: "warning" }, d.summary_error) : "",
      el("dl", {}, ...d.fields.flatMap((f) => [el("dt", {}, f.name), el("dd", {}, f.value)]), el("dt", {}, "rule"), el("dd", {}, el("code", {}, d.rule))),
      rule?.description ? el("p", { class: "muted" }, rule.description) : "",
      rule?.runbook ? el("p", {}, "Runbook: ", rule.runbook) : "",
      d.silenced_by.length ? el("p", { class: "warning", id: "alert-silenced" }, `Its notifications are held back by silence ${d.silenced_by.join(", ")}.`) : "",
      d.ack ? el("p", {}, `Acknowledged ${d.ack.at}${d.ack.by ? ` by ${d.ack.by}` : ""}${d.ack.note ? `: ${d.ack.note}` : ""}`) : "",
      el("div", { class: "toolbar" }, d.ack ? null : note, ack, msg),
      el("details", {}, el("summary", {}, "Silence its notifications"), el("div", { class: "toolbar" }, matchers, duration, why, silence), silenceMsg),
    );
  };
  sev.addEventListener("change", load);
  acked.addEventListener("change", load);
  root.append(el("div", { class: "toolbar" }, sev, acked), el("div", { class: "alerts-body" }, table, detail));
  await load();
  return root;
}

/** Count is a count of events per account, region or day. */
interface Count {
  name: string;
  events: number;
  files: number;
}

/** lakePage renders what GET /lake says the lake holds. */
export async function lakePage(): Promise<HTMLElement> {
  const root = el("section", { class: "page lake-page" }, el("h2", {}, "Lake"));
  try {
    const info = await call<any>("GET", "/lake");
    const c = info.coverage ?? {};
    const counts = (title: string, xs: Count[] | null) =>
      el(
        "div",
        { class: "counts" },
        el("h3", {}, title),
        el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, title.toLowerCase()), el("th", {}, "events"), el("th", {}, "files"))), el("tbody", {}, ...(xs ?? []).map((x) => el("tr", {}, el("td", {}, x.name), el("td", { class: "num" }, String(x.events)), el("td", { class: "num" }, String(x.files)))))),
      );
    root.append(
      el(
        "dl",
        { class: "summary" },
        el("dt", {}, "lake"),
        el("dd", {}, String(info.lake ?? "")),
        el("dt", {}, "events"),
        el("dd", { id: "lake-events" }, String(c.events ?? 0)),
        el("dt", {}, "first / last"),
        el("dd", {}, `${c.first_event ?? "–"} / ${c.last_event ?? "–"}`),
        el("dt", {}, "files"),
        el("dd", {}, `${info.files} (${bytes(info.bytes ?? 0)})`),
        el("dt", {}, "commits"),
        el("dd", {}, String(info.commits ?? 0)),
        el("dt", {}, "last ingest"),
        el("dd", {}, String(info.last_ingest ?? "never")),
      ),
      el("div", { class: "count-tables" }, counts("Accounts", info.accounts), counts("Regions", info.regions), counts("Days", info.days)),
    );
  } catch (e) {
    root.append(errorBox(e));
  }
  return root;
}
