// The console's entry: the session (login with a token when the server has tokens, open mode
// otherwise), the navigation and the pages (hash routes: #/query, #/questions[/NAME], #/policy,
// #/unused, #/alerts, #/silences, #/rules, #/saved[/ID] (a saved query's shareable link opens it
// in the editor), #/history, #/lake).

import "./style.css";
import { APIError, call } from "./api";
import { el } from "./format";
import { QueryPage } from "./query";
import { alertsPage, lakePage, questionList, questionPage } from "./pages";
import { historyPage, openSaved, policyPage, rulesPage, savedPage, silencesPage, unusedPage } from "./more";

interface WhoAmI {
  name?: string;
  role: string;
  open: boolean;
}

const app = document.getElementById("app")!;

async function whoami(): Promise<WhoAmI | null> {
  try {
    return await call<WhoAmI>("GET", "/whoami");
  } catch (e) {
    if (e instanceof APIError && e.status === 401) return null;
    throw e;
  }
}

/** login shows the token form and resolves once a session exists. */
function login(): Promise<void> {
  return new Promise((resolve) => {
    const input = el("input", { type: "password", name: "token", id: "token", placeholder: "tsql_…", autocomplete: "current-password", required: "" });
    const msg = el("p", { class: "error", role: "alert" });
    const form = el(
      "form",
      { class: "login" },
      el("h1", {}, "trailsql"),
      el("p", {}, "This server needs a token: create one with ", el("code", {}, "trailsql token create --role read"), "."),
      el("label", {}, "Token ", input),
      el("button", { type: "submit", class: "primary" }, "Sign in"),
      msg,
    );
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        await call("POST", "/login", { token: input.value.trim() });
        resolve();
      } catch (e) {
        msg.textContent = (e as Error).message;
      }
    });
    app.replaceChildren(form);
    input.focus();
  });
}

async function start() {
  let me = await whoami();
  while (!me) {
    await login();
    me = await whoami();
  }
  const query = new QueryPage();
  const main = el("main", {});
  const nav = el(
    "nav",
    {},
    el("strong", {}, "trailsql"),
    el("a", { href: "#/query" }, "Query"),
    el("a", { href: "#/questions" }, "Questions"),
    el("a", { href: "#/policy" }, "Policy"),
    el("a", { href: "#/unused" }, "Unused"),
    el("a", { href: "#/alerts" }, "Alerts"),
    el("a", { href: "#/silences" }, "Silences"),
    el("a", { href: "#/rules" }, "Rules"),
    el("a", { href: "#/saved" }, "Saved"),
    el("a", { href: "#/history" }, "History"),
    el("a", { href: "#/lake" }, "Lake"),
    el("span", { class: "grow" }),
    el("span", { class: "muted" }, me.open ? "open mode (no tokens)" : `${me.name || "token"} (${me.role})`),
  );
  if (!me.open) {
    const out = el("button", { type: "button" }, "Sign out");
    out.addEventListener("click", async () => {
      await call("POST", "/logout").catch(() => undefined);
      location.reload();
    });
    nav.append(out);
  }
  app.replaceChildren(nav, main);
  const openSQL = (sql: string, title?: string, saved?: string) => {
    query.open(sql, title, saved);
    location.hash = "#/query";
  };
  let seq = 0;
  const route = async () => {
    const n = ++seq;
    const [, page, arg] = location.hash.replace(/^#/, "").replace(/\?.*$/, "").split("/");
    nav.querySelectorAll("a").forEach((a) => a.classList.toggle("active", a.getAttribute("href") === `#/${page || "query"}`));
    let view: HTMLElement;
    switch (page) {
      case "questions":
        view = arg ? await questionPage(decodeURIComponent(arg), openSQL) : await questionList();
        break;
      case "alerts":
        view = await alertsPage();
        break;
      case "lake":
        view = await lakePage();
        break;
      case "policy":
        view = await policyPage();
        break;
      case "unused":
        view = await unusedPage();
        break;
      case "silences":
        view = await silencesPage();
        break;
      case "rules":
        view = await rulesPage();
        break;
      case "history":
        view = await historyPage(openSQL);
        break;
      case "saved":
        if (arg) {
          // A shared link: the saved query opens in a new tab of the editor (openSQL moves to #/query).
          const failed = await openSaved(decodeURIComponent(arg), openSQL);
          if (!failed) return;
          view = failed;
        } else {
          view = await savedPage(openSQL);
        }
        break;
      default:
        view = query.root;
    }
    if (n === seq) main.replaceChildren(view);
  };
  window.addEventListener("hashchange", route);
  await route();
  query.editor.view.focus();
}

start().catch((e) => app.replaceChildren(el("p", { class: "error" }, (e as Error).message)));
