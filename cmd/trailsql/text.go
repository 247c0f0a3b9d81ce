package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailsql/trailsql/internal/answer"
	"github.com/trailsql/trailsql/internal/render"
	"github.com/trailsql/trailsql/internal/report"
	"github.com/trailsql/trailsql/internal/rules"
)

// textFormat is the output format that writes events as plain-language sentences (query and
// detect); the other formats are render's.
const textFormat = "text"

// chooseFormat is render.Choose that also accepts text.
func chooseFormat(format string, terminal bool) (string, error) {
	if format == textFormat {
		return format, nil
	}
	f, err := render.Choose(format, terminal)
	if err != nil {
		return "", fmt.Errorf("%w, or text", err)
	}
	return f, nil
}

// textFlags say how --format text writes sentences.
type textFlags struct {
	tz      string
	aliases []string
}

func (t *textFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&t.tz, "tz", "UTC", "--format text: the time zone times are written in (an IANA name such as Europe/Paris, or Local)")
	cmd.Flags().StringSliceVar(&t.aliases, "account-alias", nil, "--format text: a name for an account, ACCOUNT=ALIAS (e.g. 111122223333=prod); repeat for more")
}

func (t *textFlags) options() (report.Options, error) {
	loc, err := time.LoadLocation(t.tz)
	if err != nil {
		return report.Options{}, fmt.Errorf("--tz %q: %w (give an IANA time zone such as Europe/Paris, UTC or Local)", t.tz, err)
	}
	opt := report.Options{Location: loc}
	for _, a := range t.aliases {
		id, alias, ok := strings.Cut(a, "=")
		id = strings.ReplaceAll(strings.TrimSpace(id), "-", "")
		if !ok || len(id) != 12 || strings.Trim(id, "0123456789") != "" || strings.TrimSpace(alias) == "" {
			return report.Options{}, fmt.Errorf("--account-alias %q: give ACCOUNT=ALIAS with a 12-digit account id, e.g. 111122223333=prod", a)
		}
		if opt.AccountAliases == nil {
			opt.AccountAliases = map[string]string{}
		}
		opt.AccountAliases[id] = strings.TrimSpace(alias)
	}
	return opt, nil
}

// textSink writes each row of a result as its sentence (query --format text): the result must
// have the columns report.Columns (SELECT *).
type textSink struct {
	w       io.Writer
	opt     report.Options
	columns []string
}

func (s *textSink) Begin(columns, types []string) error {
	if missing := report.MissingColumns(columns); missing != nil {
		return fmt.Errorf("--format text writes whole events and needs the columns %s; the result lacks %s: select whole rows (SELECT * FROM cloudtrail_logs …)",
			strings.Join(report.Columns, ", "), strings.Join(missing, ", "))
	}
	s.columns = columns
	return nil
}

func (s *textSink) Row(row []any) error {
	sum := report.Summarize(report.RowMap(s.columns, row), s.opt)
	_, err := io.WriteString(s.w, sum.Sentence+"\n")
	return err
}

func (s *textSink) Close() error { return nil }

// writeAlertSentences writes each alert as the sentence of its event, read from the lake, after
// its severity and rule: one line per alert.
func writeAlertSentences(ctx context.Context, w io.Writer, query answer.QueryFunc, alerts []*rules.Alert, opt report.Options) error {
	refs := make([]report.EventRef, len(alerts))
	for i, a := range alerts {
		refs[i] = alertRef(a)
	}
	rows, err := report.Fetch(ctx, query, refs)
	if err != nil {
		return err
	}
	for i, a := range alerts {
		line := fmt.Sprintf("[%s] %s: ", a.Severity, a.Rule)
		if row, ok := rows[refs[i]]; ok {
			line += report.Summarize(row, opt).Sentence
		} else {
			line += a.Title + fmt.Sprintf(" (event %s of %s is no longer in the lake)", a.EventID, a.EventTime)
		}
		if a.Count > 1 {
			line += fmt.Sprintf(" (%d events in all since %s)", a.Count, a.FirstTime)
		}
		if _, err := io.WriteString(w, line+"\n"); err != nil {
			return err
		}
	}
	return nil
}

func alertRef(a *rules.Alert) report.EventRef {
	return report.EventRef{EventID: a.EventID, Account: a.Account, Region: a.Region, Day: a.Day}
}
