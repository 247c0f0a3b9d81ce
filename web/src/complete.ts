// Completion of cloudtrail_logs' columns and their nested fields, from GET /schema.

import type { CompletionContext, CompletionResult, Completion } from "@codemirror/autocomplete";
import type { SchemaColumn } from "./api";

/** FieldPath is a column or nested field as a dotted path, with its type and note. */
export interface FieldPath {
  path: string;
  type: string;
  doc?: string;
}

/**
 * fieldPaths lists every column and nested field of the schema as a dotted path. The schema
 * lists the leaves of a struct column (useridentity.sessioncontext.sessionissuer.arn); the
 * structs between (useridentity.sessioncontext) are added, so that each level completes.
 */
export function fieldPaths(cols: SchemaColumn[]): FieldPath[] {
  const out: FieldPath[] = [];
  const seen = new Set<string>();
  const add = (p: FieldPath) => {
    if (seen.has(p.path.toLowerCase())) return;
    seen.add(p.path.toLowerCase());
    out.push(p);
  };
  for (const c of cols) {
    add({ path: c.name, type: c.type, doc: c.doc });
    for (const f of c.fields ?? []) {
      const path = f.name.startsWith(c.name + ".") ? f.name : `${c.name}.${f.name}`;
      const segs = path.split(".");
      for (let i = 2; i < segs.length; i++) add({ path: segs.slice(0, i).join("."), type: "struct" });
      add({ path, type: f.type, doc: f.doc });
    }
  }
  return out;
}

/**
 * columnCompletion completes the column or nested field being typed: after
 * "useridentity.sessioncontext." it offers that struct's fields. A leading table alias
 * ("t.useridentity.") is skipped.
 */
export function columnCompletion(paths: FieldPath[]) {
  const lower = paths.map((p) => ({ ...p, key: p.path.toLowerCase() }));
  const top = new Set(lower.filter((p) => !p.key.includes(".")).map((p) => p.key));
  return (ctx: CompletionContext): CompletionResult | null => {
    const word = ctx.matchBefore(/[\w$.]*/);
    if (!word || (word.from === word.to && !ctx.explicit)) return null;
    let typed = word.text.toLowerCase();
    const segs = typed.split(".");
    if (segs.length > 1 && !top.has(segs[0])) typed = segs.slice(1).join(".");
    const dot = typed.lastIndexOf(".");
    const prefix = dot >= 0 ? typed.slice(0, dot + 1) : "";
    const seen = new Set<string>();
    const options: Completion[] = [];
    for (const p of lower) {
      if (!p.key.startsWith(prefix)) continue;
      const rest = p.key.slice(prefix.length);
      if (rest === "" || rest.includes(".")) continue;
      if (seen.has(rest)) continue;
      seen.add(rest);
      options.push({ label: rest, type: "property", detail: p.type.length > 40 ? "struct" : p.type, info: p.doc || undefined, boost: 1 });
    }
    if (options.length === 0) return null;
    return { from: word.from + word.text.length - (typed.length - prefix.length), options, validFor: /^[\w$]*$/ };
  };
}

