// Tests of the chart's choice of columns, buckets and sums (node --test, bundled by esbuild).

import { test } from "node:test";
import assert from "node:assert/strict";
import { chartOf, timeOf, compact } from "../src/chart";

test("a text time column gives rows per hour, empty hours included", () => {
  const cols = [
    { name: "eventtime", type: "VARCHAR" },
    { name: "eventname", type: "VARCHAR" },
  ];
  const rows = [
    ["2026-02-01T10:05:00Z", "A"],
    ["2026-02-01T10:59:59Z", "B"],
    ["2026-02-01T12:00:00Z", "C"],
    ["2026-02-01T13:30:00Z", "D"],
    [null, "E"],
  ];
  const c = chartOf(cols, rows)!;
  assert.equal(c.kind, "time");
  // 10:05 to 13:30 is 206 minutes: 5-minute buckets are the smallest that fit in 120.
  assert.equal(c.bucket, 5 * 60_000);
  assert.equal(c.bars.reduce((s, b) => s + b.value, 0), 4);
  assert.equal(c.bars[0].label, "2026-02-01 10:05");
  assert.equal(c.bars[0].value, 1);
  assert.equal(c.bars.at(-1)!.label, "2026-02-01 13:30");
  assert.match(c.title, /rows per 5 minutes of eventtime/);
});

test("a timestamp with a count sums the count per day over a month", () => {
  const cols = [
    { name: "day", type: "TIMESTAMP" },
    { name: "n", type: "BIGINT" },
  ];
  const rows: unknown[][] = [];
  for (let d = 1; d <= 28; d++) rows.push([`2026-02-${String(d).padStart(2, "0")} 00:00:00`, d]);
  rows.push(["2026-02-03 12:00:00", 100]);
  const c = chartOf(cols, rows)!;
  assert.equal(c.kind, "time");
  assert.equal(c.bucket, 6 * 3600_000); // 28 days are 109 buckets of 6 hours
  const byLabel = new Map(c.bars.map((b) => [b.label, b.value]));
  assert.equal(byLabel.get("2026-02-03 12:00"), 100);
  assert.equal(byLabel.get("2026-02-28 00:00"), 28);
  assert.equal(c.bars.reduce((s, b) => s + b.value, 0), (28 * 29) / 2 + 100);
  assert.match(c.title, /sum of n per 6 hours of day/);
});

test("one text and one numeric column give the top N bars, summed and ordered", () => {
  const cols = [
    { name: "eventsource", type: "VARCHAR" },
    { name: "n", type: "BIGINT" },
  ];
  const rows = [
    ["s3", 5],
    ["iam", 9],
    ["ec2", 7],
    ["s3", 6],
    [null, 1],
  ];
  const c = chartOf(cols, rows, 3)!;
  assert.equal(c.kind, "top");
  assert.deepEqual(c.bars, [
    { label: "s3", value: 11 },
    { label: "iam", value: 9 },
    { label: "ec2", value: 7 },
  ]);
  assert.equal(c.title, "top 3 eventsource by n");
});

test("no chart without a time or numeric column, or without rows", () => {
  assert.equal(chartOf([{ name: "eventname", type: "VARCHAR" }], [["A"]]), null);
  assert.equal(chartOf([{ name: "n", type: "BIGINT" }], [[1]]), null);
  assert.equal(chartOf([{ name: "t", type: "TIMESTAMP" }], []), null);
  // A VARCHAR column with one value that is not a time is not a time column.
  assert.equal(chartOf([{ name: "x", type: "VARCHAR" }], [["2026-02-01T00:00:00Z"], ["soon"]]), null);
});

test("times and numbers read and written", () => {
  assert.equal(timeOf("2026-02-01"), Date.UTC(2026, 1, 1));
  assert.equal(timeOf("2026-02-01 10:00:00.5"), Date.UTC(2026, 1, 1, 10, 0, 0, 500));
  assert.equal(timeOf("2026-02-01T10:00:00+02:00"), Date.UTC(2026, 1, 1, 8));
  assert.ok(Number.isNaN(timeOf("yesterday")));
  assert.ok(Number.isNaN(timeOf(12)));
  assert.equal(compact(12345), "12.3k");
  assert.equal(compact(999), "999");
  assert.equal(compact(2.5e6), "2.5M");
});
