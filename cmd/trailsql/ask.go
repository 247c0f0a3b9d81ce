package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailsql/trailsql/internal/answer"
	"github.com/trailsql/trailsql/internal/authz"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/principal"
	"github.com/trailsql/trailsql/internal/questions"
	"github.com/trailsql/trailsql/internal/render"
)

func (m *Main) askCommand() *cobra.Command {
	var q queryFlags
	w := windowFlags{now: m.now}
	var format, who, authzFile string
	var printSQL, stats bool
	var baselineDays int
	cmd := &cobra.Command{
		Use:   "ask [NAME] [--days N | --from T --to T] [--principal X] [--account A] [--region R]",
		Short: "Answer a named security question (list them with no NAME)",
		Long: `Answer one of the catalogue's security questions over the lake. Without NAME, list them.

Each question is an Athena SQL statement embedded in trailsql; its values (window, principal,
account, region) are bound as parameters, never pasted into the SQL. --sql prints the statement
with the values filled in, ready to paste into Athena's editor or 'trailsql query'.

The window is the last --days days (default 90, as for policy and unused) up to now, or --from …
--to … (the end excluded, but a day given as --to is in the window; a day, an RFC 3339 time, or
an age such as 7d or 12h, as for ingest).

--principal names an identity as an IAM user name, role name, role session name, ARN (user, role,
assumed-role session, root) or access key id. A role covers all its sessions; a session ARN only
that session. Bare names are looked up in the lake and the answer says how the name was resolved:
the console's event history filters roles by session name, not role name, and a name that is both
is reported instead of guessed.`,
		Example: `  trailsql ask
  trailsql ask active-users --days 90
  trailsql ask identity-activity --principal deploy-role --days 7
  trailsql ask access-key --principal AKIAIOSFODNN7EXAMPLE --days 90
  trailsql ask new-behaviour --days 1 --baseline-days 30
  trailsql ask inactive-identities --authz authorization-details.json --days 90
  trailsql ask console-logins --sql`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				all, err := questions.Catalog()
				if err != nil {
					return err
				}
				var rows [][]any
				for _, qq := range all {
					rows = append(rows, []any{qq.Name, qq.Description})
				}
				f := format
				if f == "" {
					f = "table"
				}
				return m.writeTable(cmd, f, []string{"question", "answers"}, rows)
			}
			question, err := questions.Get(args[0])
			if err != nil {
				return err
			}
			if format, err = render.Choose(format, m.IsTerminal); err != nil {
				return fmt.Errorf("--format: %w", err)
			}
			from, to, err := w.window(cmd)
			if err != nil {
				return err
			}
			p := questions.Params{From: from, To: to, Account: w.account, Region: w.region}
			if err := question.Check(questions.Request{Principal: who, BaselineDays: baselineDays, BaselineGiven: cmd.Flags().Changed("baseline-days"), Inventory: authzFile != ""}); err != nil {
				return askParamError(err, baselineDays)
			}
			if question.Needs("baseline_from") {
				p.BaselineFrom = from.Add(-time.Duration(baselineDays) * 24 * time.Hour)
			}
			if question.Needs("inventory") {
				if p.Inventory, err = loadInventory(authzFile, w.account); err != nil {
					return err
				}
			}
			// Printing the SQL needs no lake unless a name must be looked up in it.
			var lk *openedLake
			var query answer.QueryFunc // one snapshot for the name and the answer
			if !printSQL || who != "" {
				var done func()
				if query, lk, _, done, err = m.answerQuery(cmd, &q); err != nil {
					return err
				}
				defer done()
			}
			var how string
			if who != "" {
				pr, err := principal.Resolve(cmd.Context(), query, who, w.account)
				if err != nil {
					return principalFlag(err)
				}
				if err := question.CheckPrincipal(string(pr.Kind), pr.How); err != nil {
					return fmt.Errorf("question access-key needs an access key id (AKIA… or ASIA…); %q is %s", who, pr.How)
				}
				p.Principal, how = pr.Value, pr.How
			}
			sqlText, sqlArgs, err := question.Build(p)
			if err != nil {
				return err
			}
			a := answerHeader{Question: question.Name, Title: question.Title, Window: w.describe(from, to), Principal: how}
			header := []string{question.Title, "window: " + a.Window}
			if question.Needs("baseline_from") {
				a.Baseline = p.BaselineFrom.Format(time.RFC3339) + " to " + from.Format(time.RFC3339)
				header = append(header, "baseline: "+a.Baseline)
			}
			if how != "" {
				header = append(header, "principal: "+how)
			}
			if lk != nil {
				partial := ""
				if question.Name == "inactive-identities" {
					partial = "identities active only before the lake's first event are reported inactive"
				}
				c := lk.Snap.Coverage(w.account, w.region)
				a.Lake, a.Coverage = lk.Dir, &c
				header = append(header, "lake: "+c.String())
				a.Warnings = c.WindowWarnings(from, to, p.BaselineFrom, partial)
			}
			if printSQL {
				for _, h := range header {
					fmt.Fprintln(m.Stdout, "-- "+h)
				}
				for _, wn := range a.Warnings {
					fmt.Fprintln(m.Stdout, "-- warning: "+wn)
				}
				fmt.Fprintln(m.Stdout, "-- question: trailsql ask "+question.Name+"; the table is Athena's CloudTrail table (rename cloudtrail_logs to yours)")
				fmt.Fprintln(m.Stdout, questions.Inline(sqlText, sqlArgs))
				return nil
			}
			res, err := question.Answer(cmd.Context(), query, p)
			if err != nil {
				return err
			}
			if len(res.Rows) == 0 && len(a.Warnings) == 0 && a.Coverage != nil {
				// An empty answer says what the lake holds, so that "nothing" is read against it.
				a.Warnings = append(a.Warnings, "no rows; the lake holds "+a.Coverage.String())
			}
			for _, wn := range a.Warnings {
				fmt.Fprintln(m.Stderr, "warning: "+wn)
			}
			if format == "json" {
				err = writeAnswerJSON(m.Stdout, a, res.Columns, res.Rows)
			} else {
				// The header goes where people read it; piped formats keep stdout to the data.
				hw := m.Stderr
				if format == "table" || format == "markdown" {
					hw = m.Stdout
				}
				for _, h := range header {
					if format == "markdown" {
						fmt.Fprintln(hw, "> "+h+"  ")
					} else {
						fmt.Fprintln(hw, h)
					}
				}
				if hw == m.Stdout {
					fmt.Fprintln(hw)
				}
				err = m.writeTable(cmd, format, res.Columns, res.Rows)
			}
			if stats {
				q.engine.writeStats(m.Stderr, res.Scan, res.Elapsed)
			}
			return err
		},
	}
	w.register(cmd)
	cmd.Flags().StringVarP(&who, "principal", "p", "", "the identity: user, role or session name, ARN, or access key id")
	cmd.Flags().StringVarP(&format, "format", "o", "", "output format: table, csv, json, jsonl, markdown (default: table on a terminal, else csv)")
	cmd.Flags().BoolVar(&printSQL, "sql", false, "print the statement with its values, ready for Athena or 'trailsql query', instead of answering")
	cmd.Flags().BoolVar(&stats, "stats", false, "print to stderr the files and bytes read and what Athena would have charged")
	cmd.Flags().IntVar(&baselineDays, "baseline-days", 30, "new-behaviour: the baseline is this many days before the window")
	cmd.Flags().StringVar(&authzFile, "authz", "", "inactive-identities: the IAM inventory, output of 'aws iam get-account-authorization-details'")
	q.register(cmd)
	q.engine.register(cmd)
	return cmd
}

// loadInventory reads the users and roles of an authorization-details file.
func loadInventory(file, account string) ([]questions.Identity, error) {
	details, err := authz.Load(file)
	if err != nil {
		return nil, err
	}
	out := questions.Inventory(details, account)
	if len(out) == 0 {
		return nil, fmt.Errorf("--authz %s: no users or roles in it%s", file, map[bool]string{true: " for account " + account}[account != ""])
	}
	return out, nil
}

// answerHeader is what an answer is about, printed above the rows and held by its JSON output.
type answerHeader struct {
	Question  string         `json:"question"`
	Title     string         `json:"title"`
	Window    string         `json:"window"`
	Baseline  string         `json:"baseline,omitempty"`
	Principal string         `json:"principal,omitempty"`
	Lake      string         `json:"lake"`
	Coverage  *lake.Coverage `json:"coverage"`
	// Warnings say where the window reaches outside what the lake holds (also on stderr).
	Warnings []string `json:"warnings"`
}

// writeAnswerJSON writes an answer as one JSON object: the header fields and the rows, each row
// an object as 'query --format json' writes it.
func writeAnswerJSON(w io.Writer, a answerHeader, columns []string, rows [][]any) error {
	var b bytes.Buffer
	if err := render.Write(&b, "json", columns, rows); err != nil {
		return err
	}
	if a.Warnings == nil {
		a.Warnings = []string{}
	}
	out, err := json.MarshalIndent(struct {
		answerHeader
		Columns []string        `json:"columns"`
		Rows    json.RawMessage `json:"rows"`
	}{a, columns, json.RawMessage(b.Bytes())}, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", out)
	return err
}

// askParamError words a question's parameter error with the flags that set them.
func askParamError(err error, baselineDays int) error {
	var pe *questions.ParamError
	if !errors.As(err, &pe) {
		return err
	}
	switch pe.Param + "/" + pe.Problem {
	case "baseline/" + questions.Invalid:
		return fmt.Errorf("--baseline-days %d: give a positive number of days", baselineDays)
	case "baseline/" + questions.NotTaken:
		return fmt.Errorf("question %s has no baseline (--baseline-days is for new-behaviour)", pe.Question)
	case "principal/" + questions.Missing:
		return fmt.Errorf("question %s needs --principal (a user, role or session name, an ARN, or an access key id)", pe.Question)
	case "principal/" + questions.NotTaken:
		return fmt.Errorf("question %s does not take --principal", pe.Question)
	case "inventory/" + questions.Missing:
		return fmt.Errorf("question %s needs --authz FILE, the output of 'aws iam get-account-authorization-details'", pe.Question)
	case "inventory/" + questions.NotTaken:
		return fmt.Errorf("question %s takes no --authz (it is for inactive-identities)", pe.Question)
	}
	return err
}
