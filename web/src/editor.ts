// The SQL editor: CodeMirror 6 with Athena's (Trino's) dialect, completion of cloudtrail_logs'
// columns and their nested fields, Ctrl-Enter to run, and errors underlined where the API says.

import { Compartment, EditorState, Prec } from "@codemirror/state";
import { EditorView, keymap, lineNumbers, highlightActiveLine, drawSelection, placeholder } from "@codemirror/view";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { syntaxHighlighting, defaultHighlightStyle, bracketMatching } from "@codemirror/language";
import { autocompletion, completionKeymap } from "@codemirror/autocomplete";
import { lintGutter, setDiagnostics } from "@codemirror/lint";
import { sql, SQLDialect } from "@codemirror/lang-sql";
import type { SchemaColumn } from "./api";
import { columnCompletion, fieldPaths } from "./complete";

/** athena is Athena's engine 3 dialect (Trino): its keywords, types and common functions. */
export const athena = SQLDialect.define({
  keywords:
    "all and any array as asc at between by case cast cross cube current_date current_time current_timestamp " +
    "desc describe distinct else end escape except exists explain false fetch filter first following for from full " +
    "grouping group having if ignore in inner intersect interval is join last lateral left like limit map natural " +
    "not null nulls offset on or order outer over partition preceding range recursive right rollup row rows select " +
    "show some table tablesample then ties to true try_cast unbounded union unnest using values when where window with " +
    "zone date timestamp time",
  types:
    "bigint boolean char decimal double integer int ipaddress json real smallint tinyint varbinary varchar uuid",
  builtin:
    "abs approx_distinct approx_percentile array_agg array_join arbitrary avg bool_and bool_or cardinality coalesce " +
    "concat contains count count_if date_add date_diff date_format date_parse date_trunc day element_at " +
    "from_iso8601_timestamp from_unixtime greatest hour if json_extract json_extract_scalar json_format json_parse " +
    "least length lower max max_by min min_by month now regexp_extract regexp_like regexp_replace replace round " +
    "split split_part starts_with strpos substr sum to_iso8601 trim upper url_extract_host year",
  identifierQuotes: '"',
  doubleQuotedStrings: false,
  hashComments: false,
  slashComments: false,
  operatorChars: "*+-%<>!=&|^/|",
});

/** Editor is the SQL editor of the console. */
export class Editor {
  view: EditorView;
  private columns = new Compartment();

  constructor(parent: HTMLElement, doc: string, onRun: () => void, onChange: () => void = () => {}) {
    this.view = new EditorView({
      parent,
      state: EditorState.create({
        doc,
        extensions: [
          lineNumbers(),
          history(),
          drawSelection(),
          highlightActiveLine(),
          bracketMatching(),
          syntaxHighlighting(defaultHighlightStyle),
          sql({ dialect: athena, upperCaseKeywords: false }),
          this.columns.of([]),
          autocompletion(),
          lintGutter(),
          placeholder("SELECT eventname, count(*) AS n FROM cloudtrail_logs GROUP BY 1 ORDER BY n DESC"),
          Prec.highest(keymap.of([{ key: "Mod-Enter", run: () => (onRun(), true) }])),
          keymap.of([...completionKeymap, ...historyKeymap, ...defaultKeymap]),
          EditorView.contentAttributes.of({ "aria-label": "SQL editor" }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) onChange();
          }),
        ],
      }),
    });
  }

  /** setSchema turns on completion of the schema's columns and nested fields. */
  setSchema(cols: SchemaColumn[]) {
    const src = columnCompletion(fieldPaths(cols));
    this.view.dispatch({ effects: this.columns.reconfigure(athena.language.data.of({ autocomplete: src })) });
  }

  get text(): string {
    return this.view.state.doc.toString();
  }

  set text(s: string) {
    this.view.dispatch({ changes: { from: 0, to: this.view.state.doc.length, insert: s } });
  }

  /** markError underlines the word at a 1-based line and column with the message. */
  markError(line: number, column: number, message: string) {
    const doc = this.view.state.doc;
    if (line < 1 || line > doc.lines) return;
    const l = doc.line(line);
    const from = Math.min(l.from + Math.max(column - 1, 0), l.to);
    const m = /^[\w$."]+/.exec(doc.sliceString(from, l.to));
    const to = m ? from + m[0].length : Math.min(from + 1, l.to);
    this.view.dispatch(setDiagnostics(this.view.state, [{ from, to, severity: "error", message }]));
  }

  /** clearError removes the underlined error of the last run. */
  clearError() {
    this.view.dispatch(setDiagnostics(this.view.state, []));
  }
}
