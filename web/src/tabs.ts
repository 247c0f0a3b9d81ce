// The editor's tabs: several statements open at once, kept in the browser's localStorage so a
// reload (or tomorrow) finds them again.

/** Tab is an open statement. */
export interface Tab {
  id: string;
  title: string;
  sql: string;
  /** saved is the id of the saved query the tab was opened from, if any. */
  saved?: string;
}

interface State {
  tabs: Tab[];
  active: string;
}

/** Store is the part of localStorage the tabs use (a Map-backed one in tests). */
export interface Store {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export const storageKey = "trailsql.tabs";

/** titleOf names a tab by its statement: its first line, cut short. */
export function titleOf(sql: string): string {
  const line = sql.trim().split("\n")[0].trim().replace(/\s+/g, " ");
  if (!line) return "empty";
  return line.length > 28 ? line.slice(0, 27) + "…" : line;
}

/** Tabs are the open statements and which one is in the editor. */
export class Tabs {
  private s: State;
  private next = 1;

  constructor(
    private store: Store,
    defaultSQL: string,
  ) {
    let st: State | null = null;
    try {
      const raw = store.getItem(storageKey);
      const v = raw ? JSON.parse(raw) : null;
      if (v && Array.isArray(v.tabs) && v.tabs.length > 0 && v.tabs.every((t: Tab) => typeof t.id === "string" && typeof t.sql === "string")) st = v;
    } catch {
      st = null; // a broken entry: start anew
    }
    this.s = st ?? { tabs: [], active: "" };
    for (const t of this.s.tabs) {
      const n = Number(t.id.replace(/^t/, ""));
      if (n >= this.next) this.next = n + 1;
    }
    if (this.s.tabs.length === 0) this.add(defaultSQL);
    if (!this.s.tabs.some((t) => t.id === this.s.active)) this.s.active = this.s.tabs[0].id;
  }

  get list(): readonly Tab[] {
    return this.s.tabs;
  }

  get active(): Tab {
    return this.s.tabs.find((t) => t.id === this.s.active)!;
  }

  /** add opens a statement in a new tab and makes it active. */
  add(sql: string, title?: string, saved?: string): Tab {
    const t: Tab = { id: `t${this.next++}`, title: title ?? titleOf(sql), sql };
    if (saved) t.saved = saved;
    this.s.tabs.push(t);
    this.s.active = t.id;
    this.save();
    return t;
  }

  /** select makes a tab active. */
  select(id: string) {
    if (this.s.tabs.some((t) => t.id === id)) {
      this.s.active = id;
      this.save();
    }
  }

  /** update sets the active tab's statement (its title follows, unless it was named). */
  update(sql: string) {
    const t = this.active;
    if (t.sql === sql) return;
    if (!t.saved) t.title = titleOf(sql);
    t.sql = sql;
    this.save();
  }

  /** rename names the active tab (when saved under a name). */
  rename(title: string, saved?: string) {
    this.active.title = title;
    if (saved) this.active.saved = saved;
    this.save();
  }

  /** close closes a tab; the last one left is emptied rather than closed. */
  close(id: string) {
    const i = this.s.tabs.findIndex((t) => t.id === id);
    if (i < 0) return;
    if (this.s.tabs.length === 1) {
      this.s.tabs[0] = { id: `t${this.next++}`, title: titleOf(""), sql: "" };
      this.s.active = this.s.tabs[0].id;
    } else {
      this.s.tabs.splice(i, 1);
      if (this.s.active === id) this.s.active = this.s.tabs[Math.min(i, this.s.tabs.length - 1)].id;
    }
    this.save();
  }

  private save() {
    try {
      this.store.setItem(storageKey, JSON.stringify(this.s));
    } catch {
      // Storage full or refused (private mode): the tabs live until the page closes.
    }
  }
}
