// Tests of the editor's tabs and their storage (node --test, bundled by esbuild).

import { test } from "node:test";
import assert from "node:assert/strict";
import { storageKey, Tabs, titleOf } from "../src/tabs";

class MapStore {
  m = new Map<string, string>();
  getItem(k: string) {
    return this.m.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.m.set(k, v);
  }
}

test("tabs start with the default statement and come back from storage", () => {
  const store = new MapStore();
  const a = new Tabs(store, "SELECT 1");
  assert.equal(a.list.length, 1);
  assert.equal(a.active.sql, "SELECT 1");
  a.add("SELECT eventname FROM cloudtrail_logs");
  a.update("SELECT eventname, eventsource FROM cloudtrail_logs");
  a.add("SELECT 3", "my query", "0123456789abcdef");
  a.select(a.list[1].id);
  const b = new Tabs(store, "ignored");
  assert.deepEqual(b.list.map((t) => t.sql), ["SELECT 1", "SELECT eventname, eventsource FROM cloudtrail_logs", "SELECT 3"]);
  assert.equal(b.active.sql, "SELECT eventname, eventsource FROM cloudtrail_logs");
  assert.equal(b.list[2].title, "my query");
  assert.equal(b.list[2].saved, "0123456789abcdef");
  // New ids do not reuse the stored ones.
  const t = b.add("SELECT 4");
  assert.equal(new Set(b.list.map((x) => x.id)).size, 4);
  assert.equal(b.active.id, t.id);
});

test("closing tabs: the next one becomes active, the last one is emptied", () => {
  const tabs = new Tabs(new MapStore(), "A");
  tabs.add("B");
  tabs.add("C");
  tabs.select(tabs.list[1].id);
  tabs.close(tabs.list[1].id);
  assert.deepEqual(tabs.list.map((t) => t.sql), ["A", "C"]);
  assert.equal(tabs.active.sql, "C");
  tabs.close(tabs.list[0].id);
  tabs.close(tabs.list[0].id);
  assert.equal(tabs.list.length, 1);
  assert.equal(tabs.active.sql, "");
});

test("a broken stored entry starts anew", () => {
  for (const bad of ["{", "null", '{"tabs":[]}', '{"tabs":[{"id":1}]}']) {
    const store = new MapStore();
    store.setItem(storageKey, bad);
    const tabs = new Tabs(store, "SELECT 1");
    assert.equal(tabs.list.length, 1, bad);
    assert.equal(tabs.active.sql, "SELECT 1", bad);
  }
});

test("a tab's title is its statement's first line, cut short; a saved one keeps its name", () => {
  assert.equal(titleOf("  SELECT   a\nFROM b"), "SELECT a");
  assert.equal(titleOf("SELECT eventname, eventsource, awsregion FROM x"), "SELECT eventname, eventsour…");
  assert.equal(titleOf(""), "empty");
  const tabs = new Tabs(new MapStore(), "x");
  tabs.rename("kept", "0123456789abcdef");
  tabs.update("SELECT 2");
  assert.equal(tabs.active.title, "kept");
});
