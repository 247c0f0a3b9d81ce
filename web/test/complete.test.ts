// Tests of the completion of columns and nested fields (node --test, bundled by esbuild).

import { test } from "node:test";
import assert from "node:assert/strict";
import { EditorState } from "@codemirror/state";
import { CompletionContext } from "@codemirror/autocomplete";
import { columnCompletion, fieldPaths } from "../src/complete";
import type { SchemaColumn } from "../src/api";

// A part of GET /schema's answer, as the server gives it: struct leaves as dotted paths.
const schema: SchemaColumn[] = [
  { name: "eventname", type: "VARCHAR", athena: true },
  { name: "eventtime", type: "VARCHAR", athena: true },
  {
    name: "useridentity",
    type: 'STRUCT("type" VARCHAR, "arn" VARCHAR, "sessioncontext" STRUCT(...))',
    athena: true,
    fields: [
      { name: "useridentity.type", type: "VARCHAR", athena: true },
      { name: "useridentity.arn", type: "VARCHAR", athena: true, doc: "the caller's ARN" },
      { name: "useridentity.sessioncontext.attributes.mfaauthenticated", type: "VARCHAR", athena: true },
      { name: "useridentity.sessioncontext.sessionissuer.arn", type: "VARCHAR", athena: true },
      { name: "useridentity.sessioncontext.sessionissuer.username", type: "VARCHAR", athena: true },
    ],
  },
];

// complete returns the labels offered with the cursor at the end of doc, and where they apply.
function complete(doc: string, explicit = false): { labels: string[]; from: number } | null {
  const source = columnCompletion(fieldPaths(schema));
  const res = source(new CompletionContext(EditorState.create({ doc }), doc.length, explicit));
  if (!res) return null;
  return { labels: res.options.map((o) => o.label).sort(), from: res.from };
}

test("each level of a struct completes", () => {
  const cases: [string, string[]][] = [
    ["SELECT useridentity.", ["arn", "sessioncontext", "type"]],
    ["SELECT useridentity.sessioncontext.", ["attributes", "sessionissuer"]],
    ["SELECT useridentity.sessioncontext.sessionissuer.", ["arn", "username"]],
    ["SELECT USERIDENTITY.SessionContext.", ["attributes", "sessionissuer"]],
    ["SELECT t.useridentity.sessioncontext.sessionissuer.", ["arn", "username"]],
    ["SELECT even", ["eventname", "eventtime", "useridentity"]],
  ];
  for (const [doc, want] of cases) {
    const got = complete(doc);
    assert.ok(got, `${doc}: no completion`);
    assert.deepEqual(got.labels, want, doc);
  }
});

test("the completion replaces only the segment being typed", () => {
  const doc = "SELECT useridentity.sessioncontext.sess";
  const got = complete(doc);
  assert.ok(got);
  assert.equal(doc.slice(got.from), "sess");
});

test("nothing is offered for an unknown struct or an empty word unless asked", () => {
  assert.equal(complete("SELECT eventname.nosuch."), null);
  assert.equal(complete("SELECT "), null);
  assert.ok(complete("SELECT ", true));
});

test("fieldPaths adds the structs between a column and its leaves once", () => {
  const paths = fieldPaths(schema).map((p) => p.path);
  assert.equal(paths.filter((p) => p === "useridentity.sessioncontext").length, 1);
  assert.ok(paths.includes("useridentity.sessioncontext.sessionissuer"));
  assert.equal(new Set(paths).size, paths.length);
});
