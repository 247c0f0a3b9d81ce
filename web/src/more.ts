// The pages of the policy and unused answers, saved queries, history, rules and silences.

import { APIError, call, Result } from "./api";
import { bytes, el } from "./format";
import type { SavedQuery } from "./query";

/** openSQL opens a statement in a new editor tab (with a saved query's name and id). */
export type OpenSQL = (sql: string, title?: string, saved?: string) => void;

function errorBox(e: unknown): HTMLElement {
  const msg = e instanceof APIError ? `${e.type}: ${e.message}` : (e as Error).message;
  return el("p", { class: "error", role: "alert" }, msg);
}

function table(heads: string[], rows: HTMLElement[], attrs: Record<string, string> = {}): HTMLElement {
  return el("table", attrs, el("thead", {}, el("tr", {}, ...heads.map((h) => el("th", {}, h)))), el("tbody", {}, ...rows));
}

function td(text: string | number, cls = ""): HTMLElement {
  return el("td", cls ? { class: cls } : {}, String(text));
}

/** downloadLink offers text as a file (a data: URL: the page's CSP lets a download navigate to it). */
function downloadLink(text: string, name: string, type: string, label: string, id: string): HTMLAnchorElement {
  const a = el("a", { class: "button", id, download: name }, label);
  a.href = `data:${type};charset=utf-8,${encodeURIComponent(text)}`;
  return a;
}

/** copyButton copies text to the clipboard, falling back to a selection outside secure contexts. */
function copyButton(text: () => string, id: string): HTMLButtonElement {
  const b = el("button", { type: "button", id }, "Copy");
  b.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text());
    } catch {
      const ta = el("textarea", {}, text());
      document.body.append(ta);
      ta.select();
      document.execCommand("copy");
      ta.remove();
    }
    b.textContent = "Copied";
    setTimeout(() => (b.textContent = "Copy"), 1500);
  });
  return b;
}

/** principals lists the identities that called most, for the pickers (a role's sessions as the role). */
async function principals(): Promise<string[]> {
  const sql =
    "SELECT coalesce(useridentity.sessioncontext.sessionissuer.arn, useridentity.arn) AS principal, count(*) AS calls " +
    "FROM cloudtrail_logs WHERE coalesce(useridentity.sessioncontext.sessionissuer.arn, useridentity.arn) IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 200";
  try {
    const res = await call<Result>("GET", `/query?_shape=arrays&sql=${encodeURIComponent(sql)}`);
    return res.rows.map((r) => String(r[0]));
  } catch {
    return []; // the picker still takes a typed name
  }
}

/** PolicyAnswer is GET /policy's answer. */
interface PolicyAnswer {
  principal?: string;
  window: { from: string; to: string; warnings: string[] | null };
  policy: unknown;
  notes: string[] | null;
  denied_calls_left_out: number;
  unmapped: { event_source: string; event_name: string; calls: number; reason: string }[];
  actions: { action: string; events: string[]; resources?: string[] }[];
  commit: number;
}

/** policyPage: pick a principal, get its least-privilege policy (copy, download) and the calls behind it. */
export async function policyPage(): Promise<HTMLElement> {
  const root = el("section", { class: "page policy-page" }, el("h2", {}, "Least-privilege policy"));
  const list = el("datalist", { id: "principals" });
  const who = el("input", { name: "principal", id: "policy-principal", list: "principals", placeholder: "a user, role or session name, an ARN or an access key id", required: "", size: "60" });
  const days = el("input", { name: "days", id: "policy-days", type: "number", min: "1", placeholder: "90" });
  const resources = el("input", { name: "resources", id: "policy-resources", type: "checkbox" });
  const submit = el("button", { type: "submit", class: "primary" }, "Build policy");
  const form = el("form", { class: "params", id: "policy-form" }, el("label", {}, "Principal *", who), el("label", {}, "Days", days), el("label", {}, "Resources", resources), submit, list);
  const out = el("div", { id: "policy-out" });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const p = new URLSearchParams({ principal: who.value.trim() });
    if (days.value) p.set("days", days.value);
    if (resources.checked) p.set("resources", "true");
    submit.disabled = true;
    out.replaceChildren(el("p", { class: "muted" }, "Building…"));
    try {
      const a = await call<PolicyAnswer>("GET", `/policy?${p}`);
      const json = JSON.stringify(a.policy, null, 2);
      const file = `policy-${(a.principal ?? who.value).replace(/[^\w.-]+/g, "_").slice(0, 80)}.json`;
      out.replaceChildren(
        el("p", {}, `${a.principal ?? ""} · ${a.window.from} – ${a.window.to} · commit ${a.commit}`),
        ...(a.window.warnings ?? []).map((w) => el("p", { class: "warning" }, w)),
        el("div", { class: "toolbar" }, copyButton(() => json, "policy-copy"), downloadLink(json + "\n", file, "application/json", "Download", "policy-download")),
        el("pre", { class: "json policy-json", id: "policy-json" }, json),
        ...(a.notes ?? []).map((n) => el("p", { class: "muted" }, n)),
        a.denied_calls_left_out ? el("p", { class: "muted" }, `${a.denied_calls_left_out} denied calls left out.`) : "",
        el("h3", {}, `${a.actions.length} actions and the calls behind them`),
        table(["action", "events", "resources"], a.actions.map((x) => el("tr", {}, td(x.action), td(x.events.join(", ")), td((x.resources ?? []).join(", ")))), { id: "policy-actions" }),
        a.unmapped.length
          ? el("div", {}, el("h3", {}, "Calls no action was found for"), table(["event", "calls", "why"], a.unmapped.map((u) => el("tr", {}, td(`${u.event_source}:${u.event_name}`), td(u.calls, "num"), td(u.reason)))))
          : "",
      );
    } catch (e) {
      out.replaceChildren(errorBox(e));
    } finally {
      submit.disabled = false;
    }
  });
  root.append(form, out);
  const params = new URLSearchParams(location.hash.split("?")[1] ?? "");
  principals().then((ps) => list.replaceChildren(...ps.map((x) => el("option", { value: x }))));
  if (params.get("principal")) {
    who.value = params.get("principal")!;
    form.requestSubmit();
  }
  return root;
}

/** Report is an entry of GET /unused's reports. */
interface Report {
  principal: { type: string; name: string; arn: string; account: string };
  summary: { granted: number; used: number; unused: number; not_granted: number; unknown: number };
  actions: { action: string; class: string; access_level?: string; reason: string; calls?: number; last?: string }[];
  problems?: unknown[];
}

/** unusedPage: for each user and role of the server's IAM inventory, what is granted and what was used. */
export async function unusedPage(): Promise<HTMLElement> {
  const root = el("section", { class: "page unused-page" }, el("h2", {}, "Granted vs used"));
  const who = el("input", { name: "principal", id: "unused-principal", placeholder: "all users and roles, or one name or ARN", size: "50" });
  const days = el("input", { name: "days", id: "unused-days", type: "number", min: "1", placeholder: "90" });
  const cls = el("select", { id: "unused-class" }, ...["", "used", "unused", "not granted", "unknown"].map((c) => el("option", { value: c }, c || "every class")));
  const submit = el("button", { type: "submit", class: "primary" }, "Compare");
  const form = el("form", { class: "params", id: "unused-form" }, el("label", {}, "Principal", who), el("label", {}, "Days", days), el("label", {}, "Show", cls), submit);
  const out = el("div", { id: "unused-out" });
  let reports: Report[] = [];
  // Each report is a section that opens on a click (the first is open): an inventory's users and
  // roles with hundreds of granted actions each are too many rows for one page.
  const paint = () => {
    const sections = reports.map((r, i) => {
      const s = r.summary;
      const body = el("div", {});
      const fill = () => {
        const rows = r.actions
          .filter((a) => !cls.value || a.class === cls.value)
          .map((a) => el("tr", { class: `class-${a.class.replace(/\s+/g, "-")}` }, td(a.action), td(a.class), td(a.access_level ?? ""), td(a.calls ?? "", "num"), td(a.last ?? ""), td(a.reason)));
        body.replaceChildren(rows.length ? table(["action", "class", "access", "calls", "last", "why"], rows) : el("p", { class: "muted" }, "No action of this class."));
      };
      const d = el(
        "details",
        { class: "unused-report", "data-principal": r.principal.name },
        el(
          "summary",
          {},
          el("strong", { class: "unused-principal" }, `${r.principal.type} ${r.principal.name}`),
          " ",
          el("span", { class: "unused-summary" }, `${s.granted} granted: ${s.used} used, ${s.unused} unused, ${s.unknown} unknown; ${s.not_granted} used but not granted`),
          el("div", { class: "muted" }, r.principal.arn),
        ),
        body,
      );
      d.addEventListener("toggle", () => d.open && fill());
      if (i === 0) {
        d.open = true;
        fill();
      }
      return d;
    });
    out.replaceChildren(...(sections.length ? sections : [el("p", { class: "muted" }, "No user or role matches.")]));
  };
  const load = async () => {
    const p = new URLSearchParams();
    if (who.value.trim()) p.set("principal", who.value.trim());
    if (days.value) p.set("days", days.value);
    submit.disabled = true;
    out.replaceChildren(el("p", { class: "muted" }, "Comparing…"));
    try {
      reports = (await call<{ reports: Report[] | null }>("GET", `/unused?${p}`)).reports ?? [];
      paint();
    } catch (e) {
      out.replaceChildren(errorBox(e));
    } finally {
      submit.disabled = false;
    }
  };
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    load();
  });
  cls.addEventListener("change", paint);
  root.append(form, out);
  await load();
  return root;
}

/** savedPage lists the saved queries: open one in the editor, copy its link, delete it. */
export async function savedPage(openSQL: OpenSQL): Promise<HTMLElement> {
  const root = el("section", { class: "page saved-page" }, el("h2", {}, "Saved queries"));
  const body = el("div", {});
  const load = async () => {
    try {
      const { saved } = await call<{ saved: SavedQuery[] }>("GET", "/saved");
      const rows = [...saved].reverse().map((q) => {
        const open = el("button", { type: "button", class: "open" }, "Open");
        open.addEventListener("click", () => openSQL(q.sql, q.name, q.id));
        const url = `${location.origin}${location.pathname}#/saved/${q.id}`;
        const link = el("a", { href: `#/saved/${q.id}`, class: "share" }, "link");
        const del = el("button", { type: "button", class: "delete" }, "Delete");
        del.addEventListener("click", async () => {
          if (!confirm(`Delete the saved query “${q.name}”?`)) return;
          try {
            await call("DELETE", `/saved/${q.id}`);
            await load();
          } catch (e) {
            body.prepend(errorBox(e));
          }
        });
        return el("tr", { "data-saved": q.id }, td(q.name), el("td", {}, el("code", {}, q.sql.length > 120 ? q.sql.slice(0, 119) + "…" : q.sql)), td(q.created), td(q.by ?? ""), el("td", { class: "actions", title: url }, open, link, copyButton(() => url, `copy-${q.id}`), del));
      });
      body.replaceChildren(rows.length ? table(["name", "SQL", "saved", "by", ""], rows, { id: "saved-list" }) : el("p", { class: "muted" }, "Nothing saved yet: name a statement in the editor and press Save."));
    } catch (e) {
      body.replaceChildren(errorBox(e));
    }
  };
  root.append(body);
  await load();
  return root;
}

/** openSaved opens a saved query (#/saved/ID, a shareable link) in a new editor tab. */
export async function openSaved(id: string, openSQL: OpenSQL): Promise<HTMLElement | null> {
  try {
    const q = await call<SavedQuery>("GET", `/saved/${encodeURIComponent(id)}`);
    openSQL(q.sql, q.name, q.id);
    return null;
  } catch (e) {
    return el("section", { class: "page" }, el("h2", {}, "Saved query"), errorBox(e), el("p", {}, el("a", { href: "#/saved" }, "← Saved queries")));
  }
}

/** HistoryEntry is an entry of GET /history. */
interface HistoryEntry {
  id: string;
  time: string;
  by?: string;
  sql?: string;
  saved?: string;
  state: string;
  rows: number;
  truncated?: boolean;
  bytes_read: number;
  elapsed_ms: number;
  commit?: number;
  error?: string;
}

/** historyPage lists the statements run (newest first, kept without expiry); a click re-opens one. */
export async function historyPage(openSQL: OpenSQL): Promise<HTMLElement> {
  const root = el("section", { class: "page history-page" }, el("h2", {}, "History"));
  const filter = el("input", { type: "search", id: "history-filter", placeholder: "filter by text of the SQL", size: "40" });
  const body = el("div", {});
  let entries: HistoryEntry[] = [];
  const paint = () => {
    const f = filter.value.toLowerCase();
    const rows = entries
      .filter((h) => !f || (h.sql ?? "").toLowerCase().includes(f))
      .map((h) => {
        const sql = h.sql ?? (h.saved ? `(saved query ${h.saved})` : "");
        const open = el("button", { type: "button", class: "open" }, "Open");
        open.addEventListener("click", async () => {
          if (h.sql) openSQL(h.sql);
          else if (h.saved) {
            const q = await call<SavedQuery>("GET", `/saved/${h.saved}`).catch(() => null);
            if (q) openSQL(q.sql, q.name, q.id);
          }
        });
        return el(
          "tr",
          { "data-history": h.id, class: `state-${h.state.toLowerCase()}` },
          td(h.time.slice(0, 19).replace("T", " "), "nowrap"),
          td(h.state),
          td(`${h.elapsed_ms.toFixed(0)} ms`, "num nowrap"),
          td(`${h.rows}${h.truncated ? "+" : ""}`, "num"),
          td(bytes(h.bytes_read), "num nowrap"),
          td(h.by ?? ""),
          el("td", { class: "sql", title: h.error ?? sql }, el("code", {}, sql.length > 140 ? sql.slice(0, 139) + "…" : sql), h.error ? el("div", { class: "error" }, h.error) : ""),
          el("td", {}, open),
        );
      });
    body.replaceChildren(rows.length ? table(["time (UTC)", "state", "took", "rows", "read", "by", "SQL", ""], rows, { id: "history-list" }) : el("p", { class: "muted" }, "No statement run yet."));
  };
  filter.addEventListener("input", paint);
  root.append(el("div", { class: "toolbar" }, filter), body);
  try {
    entries = (await call<{ history: HistoryEntry[] }>("GET", "/history?limit=500")).history;
    paint();
  } catch (e) {
    body.replaceChildren(errorBox(e));
  }
  return root;
}

/** Rule is an entry of GET /rules. */
interface Rule {
  id: string;
  title: string;
  severity: string;
  description?: string;
  runbook?: string;
  tags?: string[];
  kind?: string;
  text?: string;
  condition?: string;
  where?: string;
  builtin?: boolean;
  threshold?: { count: number; window: string; group_by?: string[] };
}

/** rulesPage lists the detection rules the server loads, with their conditions. */
export async function rulesPage(): Promise<HTMLElement> {
  const root = el("section", { class: "page rules-page" }, el("h2", {}, "Rules"));
  try {
    const { rules, errors } = await call<{ rules: Rule[]; errors: string[] }>("GET", "/rules");
    const detail = el("div", { class: "rule-detail", id: "rule-detail" });
    const rows = rules.map((r) => {
      const tr = el(
        "tr",
        { "data-rule": r.id },
        el("td", {}, el("span", { class: `sev sev-${r.severity}` }, r.severity)),
        el("td", {}, el("code", {}, r.id)),
        td(r.title),
        td(r.kind ?? ""),
        td(r.threshold ? `≥ ${r.threshold.count} in ${r.threshold.window}` : ""),
        td(r.builtin ? "built-in" : "yours"),
      );
      tr.addEventListener("click", () => {
        root.querySelectorAll("tr.selected").forEach((x) => x.classList.remove("selected"));
        tr.classList.add("selected");
        detail.replaceChildren(
          el("h3", {}, r.title || r.id),
          el("p", {}, r.description ?? ""),
          r.runbook ? el("p", {}, "Runbook: ", r.runbook) : "",
          r.tags?.length ? el("p", { class: "muted" }, r.tags.join(" · ")) : "",
          r.text ? el("pre", {}, r.text) : "",
          r.where ? el("div", {}, el("h4", {}, "SQL condition"), el("pre", {}, r.where)) : "",
        );
      });
      return tr;
    });
    root.append(
      el("p", { class: "muted", id: "rules-count" }, `${rules.length} rules`),
      ...errors.map((e) => el("p", { class: "error" }, e)),
      el("div", { class: "alerts-body" }, el("div", { class: "alerts" }, table(["severity", "id", "title", "kind", "threshold", "source"], rows, { id: "rules-list" })), detail),
    );
  } catch (e) {
    root.append(errorBox(e));
  }
  return root;
}

/** Silence is an entry of GET /silences. */
interface Silence {
  id: string;
  matchers: { name: string; op: string; value: string }[];
  starts_at: string;
  ends_at: string;
  comment: string;
  created_by: string;
  state: string;
}

/** silencesPage lists the notifier's silences, adds one and expires one (admin). */
export async function silencesPage(): Promise<HTMLElement> {
  const root = el("section", { class: "page silences-page" }, el("h2", {}, "Silences"));
  const matchers = el("input", { id: "silence-matchers", placeholder: "rule=root-activity account=111122223333", size: "40", required: "" });
  const comment = el("input", { id: "silence-comment", placeholder: "why (required)", size: "30", required: "" });
  const duration = el("input", { id: "silence-duration", value: "2h", size: "6" });
  const submit = el("button", { type: "submit", class: "primary" }, "Add silence");
  const msg = el("div", {});
  const form = el("form", { class: "params", id: "silence-form" }, el("label", {}, "Matchers *", matchers), el("label", {}, "Comment *", comment), el("label", {}, "Duration", duration), submit);
  const all = el("input", { type: "checkbox", id: "silences-all" });
  const body = el("div", {});
  const load = async () => {
    try {
      const { silences } = await call<{ silences: Silence[] }>("GET", `/silences${all.checked ? "?all=true" : ""}`);
      const rows = silences.map((s) => {
        const expire = el("button", { type: "button", class: "expire" }, "Expire");
        expire.addEventListener("click", async () => {
          try {
            await call("DELETE", `/silences/${s.id}`);
            await load();
          } catch (e) {
            msg.replaceChildren(errorBox(e));
          }
        });
        return el(
          "tr",
          { "data-silence": s.id, class: `state-${s.state}` },
          el("td", {}, el("code", {}, s.id)),
          td(s.state),
          td(s.matchers.map((m) => `${m.name}${m.op}${m.value}`).join(" ")),
          td(s.starts_at),
          td(s.ends_at),
          td(s.created_by),
          td(s.comment),
          el("td", {}, s.state === "expired" ? "" : expire),
        );
      });
      body.replaceChildren(rows.length ? table(["id", "state", "matchers", "starts", "ends", "by", "comment", ""], rows, { id: "silences-list" }) : el("p", { class: "muted" }, "No silence holds notifications back."));
    } catch (e) {
      body.replaceChildren(errorBox(e));
    }
  };
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await call("POST", "/silences", { matchers: matchers.value.trim().split(/\s+/).filter(Boolean), comment: comment.value.trim(), duration: duration.value.trim() });
      msg.replaceChildren();
      matchers.value = comment.value = "";
      await load();
    } catch (e) {
      msg.replaceChildren(errorBox(e));
    }
  });
  all.addEventListener("change", load);
  root.append(
    el("p", { class: "muted" }, "A silence holds back the notifications whose labels (rule, severity, account, region, principal, source_ip, event_name) match all its matchers, until it ends; the same list as trailsql silence list."),
    form,
    msg,
    el("label", {}, all, " show expired"),
    body,
  );
  await load();
  return root;
}
