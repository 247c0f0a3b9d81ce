package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailsql/trailsql/internal/answer"
	"github.com/trailsql/trailsql/internal/answer/local"
	"github.com/trailsql/trailsql/internal/daemon"
	"github.com/trailsql/trailsql/internal/engine"
	"github.com/trailsql/trailsql/internal/generate"
	"github.com/trailsql/trailsql/internal/ingest"
	"github.com/trailsql/trailsql/internal/notify"
	"github.com/trailsql/trailsql/internal/questions"
	"github.com/trailsql/trailsql/internal/render"
	"github.com/trailsql/trailsql/internal/report"
	"github.com/trailsql/trailsql/internal/rules"
)

func (m *Main) demoCommand() *cobra.Command {
	var dir string
	var events int
	var seed int64
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Generate a realistic trail, ingest it, and answer the classic questions (no AWS account needed)",
		Long: `Generate a realistic CloudTrail trail in the S3 layout (3 accounts, 3 regions, 45 days: IAM users
with access keys, roles with many sessions, EC2 instance roles, the root user, AWS services, console
sign-ins with and without MFA, failed sign-ins, throttling and AccessDenied errors, a
privilege-escalation sequence), ingest it into a demo lake, and print the answers to the classic
questions. Nothing leaves the machine. The lake stays in --dir for your own queries.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("lake") {
				// The demo empties its folder first: it must never do that to a lake given for
				// the other commands.
				return fmt.Errorf("demo does not take --lake: it writes a new lake in DIR/lake, DIR being --dir (default $TMPDIR/trailsql-demo), and empties DIR first; give --dir")
			}
			if dir == "" {
				dir = filepath.Join(os.TempDir(), "trailsql-demo")
			}
			m.tuneGCForIngest()
			_, err := runDemo(cmd.Context(), m.Stdout, dir, generate.Options{Seed: seed, Events: events, End: m.now().UTC()})
			return err
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "folder for the generated trail and the demo lake (default: $TMPDIR/trailsql-demo; emptied first)")
	cmd.Flags().IntVar(&events, "events", 20000, "events to generate")
	cmd.Flags().Int64Var(&seed, "seed", 1, "generator seed: the same seed gives the same trail")
	return cmd
}

// demoAnswer is one classic question as the demo asked it.
type demoAnswer struct {
	Question questions.Question
	Params   questions.Params
	Result   *answer.Result
}

// demoQuestions are the classic questions, with their windows relative to the trail's end.
var demoQuestions = []struct {
	name   string
	window time.Duration
}{
	{"active-users", 30 * 24 * time.Hour},
	{"active-roles", 7 * 24 * time.Hour},
	{"root-activity", 30 * 24 * time.Hour},
	{"identity-activity", 30 * 24 * time.Hour},
	{"console-logins", 30 * 24 * time.Hour},
	{"throttling", 30 * 24 * time.Hour},
}

// runDemo generates, ingests and answers; the answers are returned for tests to check.
func runDemo(ctx context.Context, out io.Writer, dir string, gen generate.Options) (map[string]*demoAnswer, error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	trail, lakeDir := filepath.Join(dir, "trail"), filepath.Join(dir, "lake")
	start := time.Now()
	truth, err := generate.Generate(ctx, trail, gen)
	if err != nil {
		return nil, fmt.Errorf("generate the demo trail: %w", err)
	}
	fmt.Fprintf(out, "Generated %d events in %d log files (%d accounts, %d regions, organization %s) under %s in %.1fs.\n",
		truth.Events, truth.LogFiles, len(truth.Accounts), len(truth.Regions), truth.OrgID, trail, time.Since(start).Seconds())
	st, err := ingest.Run(ctx, ingest.Options{Lake: lakeDir}, []string{trail})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "Ingested %d events into the lake %s in %.1fs (%d digest files skipped).\n\n", st.EventsAdded, lakeDir, st.Elapsed.Seconds(), st.FilesSkipped)
	if st.Failed() {
		return nil, fmt.Errorf("the demo trail did not ingest cleanly: %v", st.Problems)
	}

	e, err := local.Open(ctx, engine.Options{Lake: lakeDir})
	if err != nil {
		return nil, err
	}
	defer e.Close()
	end := truth.Newest.Add(time.Second)
	answers := map[string]*demoAnswer{}
	for _, dq := range demoQuestions {
		q, err := questions.Get(dq.name)
		if err != nil {
			return nil, err
		}
		p := questions.Params{From: end.Add(-dq.window), To: end}
		if dq.name == "identity-activity" {
			// The busiest role of the last week, as active-roles found it.
			roles := answers["active-roles"].Result
			if len(roles.Rows) == 0 {
				continue
			}
			p.Principal, _ = roles.Rows[0][0].(string)
		}
		res, err := q.Answer(ctx, local.Engine(e), p)
		if err != nil {
			return nil, err
		}
		answers[q.Name] = &demoAnswer{Question: q, Params: p, Result: res}
		title := q.Title
		if p.Principal != "" {
			title += ": " + p.Principal
		}
		fmt.Fprintf(out, "## %s (last %d days)\n", title, int(dq.window.Hours()/24))
		rows := res.Rows
		if len(rows) > 12 {
			rows = rows[:12]
		}
		if err := render.WriteTotal(out, "table", res.Columns, rows, len(res.Rows)); err != nil {
			return nil, err
		}
		fmt.Fprintln(out)
	}
	shown, rs, err := demoDetections(ctx, out, e, end)
	if err != nil {
		return nil, err
	}
	configFile, err := demoMessages(ctx, out, dir, lakeDir, local.Engine(e), shown, rs)
	if err != nil {
		return nil, err
	}
	// The IAM inventory of the main account, as 'aws iam get-account-authorization-details' would
	// print it, for 'unused' and 'inactive-identities'.
	authzFile := filepath.Join(dir, "authz.json")
	f, err := os.Create(authzFile)
	if err != nil {
		return nil, err
	}
	if _, err := generate.WriteAuthz(f, gen, truth); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "Ask your own questions of this lake. Build the binary first (in the source folder):\n")
	fmt.Fprintf(out, "  go build -o trailsql ./cmd/trailsql\n")
	for _, step := range demoNextSteps(lakeDir, authzFile, truth) {
		fmt.Fprintf(out, "  %s\n", step)
	}
	// Not on a line of its own: it runs until stopped, and the next steps are pasted (and tested) as they are.
	fmt.Fprintf(out, "Then run it as a service: point the webhook of the sample config to your receiver, and: ./trailsql run --config %s --lake %s\n", shellQuote(configFile), shellQuote(lakeDir))
	return answers, nil
}

// demoNextSteps are the commands the demo suggests, written to be pasted as they are (the
// demo's test runs each one): the lake's own identities, a window that the lake covers.
func demoNextSteps(lakeDir, authzFile string, truth *generate.Truth) []string {
	days := int(truth.Newest.Sub(truth.Oldest).Hours() / 24)
	lk := shellQuote(lakeDir)
	return []string{
		"./trailsql info --lake " + lk + "                  # what the lake holds",
		"./trailsql query --lake " + lk + ` "SELECT eventname, count(*) AS calls FROM cloudtrail_logs WHERE useridentity.type = 'Root' GROUP BY 1 ORDER BY 2 DESC"`,
		"./trailsql ask --lake " + lk + "                   # the catalogue of questions",
		fmt.Sprintf("./trailsql ask privilege-escalation --lake %s --days %d", lk, days),
		fmt.Sprintf("./trailsql ask identity-activity --lake %s --principal ci-deploy --account %s --days %d", lk, truth.Accounts[0], days),
		fmt.Sprintf("./trailsql detect --lake %s --days %d                # every detection rule over the window", lk, days),
		fmt.Sprintf("./trailsql policy --lake %s --principal carol --days %d   # least-privilege policy", lk, days),
		fmt.Sprintf("./trailsql unused --lake %s --authz %s --days %d      # granted vs used, per principal", lk, shellQuote(authzFile), days),
	}
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-:+=@,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// demoShown are the detections the demo lists one by one: the escalation, root's and
// MFA-less sign-ins, the failed sign-in burst (the other rules are counted).
var demoShown = map[string]bool{"privilege-escalation": true, "access-key-for-another-user": true, "console-signin-without-mfa": true, "failed-signin-burst": true}

// demoDetections runs the built-in rules over the last 45 days and prints what they found; it
// returns the alerts it lists one by one, and the rules.
func demoDetections(ctx context.Context, out io.Writer, e *engine.Engine, end time.Time) ([]rules.Alert, []*rules.Rule, error) {
	rs, errs := rules.Builtin()
	if len(errs) > 0 {
		return nil, nil, fmt.Errorf("built-in rules: %v", errs)
	}
	query := local.Engine(e)
	ok, problems := rules.Validate(ctx, query, rs)
	if len(problems) > 0 {
		return nil, nil, fmt.Errorf("built-in rules: %v", problems)
	}
	const days = 45
	alerts, err := rules.Evaluate(ctx, query, ok, rules.Scope{From: end.Add(-days * 24 * time.Hour), To: end, Lake: &rules.Local{Snap: e.Snapshot()}})
	if err != nil {
		return nil, nil, err
	}
	count := map[string]int{}
	var order []string
	var shown [][]any
	var shownAlerts []rules.Alert
	for _, a := range alerts {
		if count[a.Rule] == 0 {
			order = append(order, a.Rule)
		}
		count[a.Rule]++
		if demoShown[a.Rule] || a.Rule == "root-activity" && a.EventName == "ConsoleLogin" {
			shown = append(shown, []any{a.EventTime, string(a.Severity), a.Rule, a.Title})
			shownAlerts = append(shownAlerts, *a)
		}
	}
	fmt.Fprintf(out, "## Detections (last %d days): %d alerts from %d of the %d built-in rules\n", days, len(alerts), len(order), len(ok))
	sort.Slice(order, func(i, j int) bool {
		return count[order[i]] > count[order[j]] || count[order[i]] == count[order[j]] && order[i] < order[j]
	})
	var rows [][]any
	for _, id := range order {
		rows = append(rows, []any{id, count[id]})
	}
	if err := render.Write(out, "table", []string{"rule", "alerts"}, rows); err != nil {
		return nil, nil, err
	}
	fmt.Fprintln(out, "\nThe escalation, root's sign-ins, sign-ins without MFA and the failed sign-in burst:")
	if len(shown) > 25 {
		shown, shownAlerts = shown[len(shown)-25:], shownAlerts[len(shownAlerts)-25:]
	}
	if err := render.Write(out, "table", []string{"event_time", "severity", "rule", "title"}, shown); err != nil {
		return nil, nil, err
	}
	fmt.Fprintln(out)
	return shownAlerts, ok, nil
}

// demoSinkURL is the sample config's webhook: a local sink, to point to a real receiver.
const demoSinkURL = "http://127.0.0.1:8787/trailsql"

// demoConfig is the sample run config the demo writes (%s: the trail folder).
const demoConfig = `# A sample config of 'trailsql run' (written by 'trailsql demo'):
#   trailsql run --config trailsql.yml --lake lake
sources:
  interval: 5m
  paths: [%s]
rules:
  no_builtin: false     # the built-in rules; add files: [./rules] and sigma: [./sigma/rules/cloud/aws]
notify:
  destinations:
    local-sink:
      type: webhook     # Standard Webhooks: JSON, signed with the secret (webhook-signature)
      url: ` + demoSinkURL + `   # a local sink: point it to your receiver
      secret_file: webhook.secret
  routes:
    - destinations: [local-sink]
  queue: {drain_timeout: 10s}
start: now              # the first start sends the alerts of new events only (all: the lake's too)
reports:                # scheduled reports (cron, UTC): email, slack, teams or webhook destinations
  - {name: weekly-identity, kind: identity, days: 30, format: html, schedule: "0 8 * * 1", to: [local-sink]}
`

// demoMessages writes the sample run config, then shows the alerts as the messages people
// would receive: the notifier sends them, read from the lake in plain language, to an
// in-process webhook receiver (a real HTTP listener that verifies the signatures) in place of
// the config's sink, and what the receiver got is printed. It returns the config's path.
func demoMessages(ctx context.Context, out io.Writer, dir, lakeDir string, query answer.QueryFunc, alerts []rules.Alert, rs []*rules.Rule) (string, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return "", err
	}
	secret := "whsec_" + base64.StdEncoding.EncodeToString(key)
	if err := os.WriteFile(filepath.Join(dir, "webhook.secret"), []byte(secret+"\n"), 0o600); err != nil {
		return "", err
	}
	configFile := filepath.Join(dir, "trailsql.yml")
	if err := os.WriteFile(configFile, fmt.Appendf(nil, demoConfig, "trail"), 0o644); err != nil {
		return "", err
	}
	cfg, err := daemon.LoadConfig(configFile, func(string) string { return "" }, time.Now())
	if err != nil {
		return "", fmt.Errorf("the demo's sample config: %w", err)
	}
	hook, ok := cfg.Notify.Destinations["local-sink"].(*notify.Webhook)
	if !ok {
		return "", fmt.Errorf("the demo's sample config has no webhook local-sink")
	}

	// The receiver, on a real listener, in place of the sink.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("listen for the demo's webhook: %w", err)
	}
	var mu sync.Mutex
	var got []notify.WebhookBody
	srv := &http.Server{Handler: &notify.WebhookReceiver{Secret: secret, Receive: func(b notify.WebhookBody) {
		mu.Lock()
		got = append(got, b)
		mu.Unlock()
	}}, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	hook.URL = notify.NewSecret("http://" + ln.Addr().String() + "/trailsql")

	msgs, err := notify.Readable(ctx, query, alerts, rs, report.Options{})
	if err != nil {
		return "", err
	}
	n, err := notify.Open(lakeDir, cfg.Notify, nil)
	if err != nil {
		return "", err
	}
	defer n.Close()
	if err := n.Enqueue(msgs...); err != nil {
		return "", err
	}
	// A notifier whose context has ended only drains: it sends what is queued and returns.
	stopped, cancel := context.WithCancel(ctx)
	cancel()
	if err := n.Run(stopped); err != nil {
		return "", err
	}
	st := n.Stats()["local-sink"]
	fmt.Fprintf(out, "## The messages people receive (%d alerts sent to a webhook: %d delivered, %d failed)\n", len(msgs), st.Delivered, st.Failed)
	fmt.Fprintf(out, "A sample config is in %s; its webhook received, signed (the first of them):\n\n", configFile)
	mu.Lock()
	defer mu.Unlock()
	for i, b := range got {
		if i == 6 {
			fmt.Fprintf(out, "… and %d more\n", len(got)-i)
			break
		}
		m := b.Data
		fmt.Fprintf(out, "[%s] %s\n  %s\n", m.Severity, m.Title, m.Summary)
		var fields []string
		for _, f := range m.Fields {
			if f.Name == "How" || f.Name == "Outcome" || f.Name == "Event ID" {
				fields = append(fields, f.Name+": "+f.Value)
			}
		}
		if len(fields) > 0 {
			fmt.Fprintf(out, "  %s\n", strings.Join(fields, " · "))
		}
		fmt.Fprintln(out)
	}
	if len(got) != len(msgs) {
		return "", fmt.Errorf("the demo's webhook received %d of the %d messages (%d failed)", len(got), len(msgs), st.Failed)
	}
	return configFile, nil
}
