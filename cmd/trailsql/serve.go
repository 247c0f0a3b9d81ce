package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailsql/trailsql/internal/answer/local"
	"github.com/trailsql/trailsql/internal/daemon"
	"github.com/trailsql/trailsql/internal/engine"
	"github.com/trailsql/trailsql/internal/report"
	"github.com/trailsql/trailsql/internal/server"
	"github.com/trailsql/trailsql/web"
)

func (m *Main) serveCommand() *cobra.Command {
	var q queryFlags
	var rf ruleFlags
	var listen, tlsCert, tlsKey, authzFile, config string
	var allowHosts []string
	var concurrency int
	var queueWait time.Duration
	cmd := &cobra.Command{
		Use:   "serve [--listen 127.0.0.1:8080] [--tls-cert FILE --tls-key FILE] [--max-rows N] [--timeout D] [--concurrency N]",
		Short: "Serve the HTTP API (/api/v1: SQL, questions, policies, alerts) over the lake",
		Long: `Serve the lake over HTTP: Athena SQL (GET or POST /api/v1/query; JSON, NDJSON or CSV), asynchronous
queries (/api/v1/queries), the catalogue of questions, least-privilege policies, granted-vs-used
reports (--authz), the schema, what the lake holds, rules and alerts, saved queries and the history.
docs/api.md documents every endpoint.

It listens on 127.0.0.1 unless told otherwise, and refuses another address while no token exists:
create tokens first with 'trailsql token create --role read|admin'. Once a token exists, every API
request needs one (Authorization: Bearer …, or the console's session cookie from POST
/api/v1/login). Requests whose Host header is not this server's are refused (DNS rebinding):
--allow-host adds the names it is reached by. Browsers' cross-origin writes are refused.

Each response holds at most --max-rows rows (a request may ask for fewer: max_rows) and says when
it was truncated; each request runs within --timeout (a request may ask for less: timeout). At most
--concurrency statements run at once; one more waits up to --queue-wait, then is refused (503).
SIGTERM or Ctrl-C shuts the server down gracefully.

With --config FILE (the config of 'trailsql run'), the same process also runs what 'trailsql run'
runs: collection, detection, delivery and the scheduled reports, with the server in one group:
SIGTERM stops the server and the collection, and lets the notifier drain.`,
		Example: `  trailsql serve
  trailsql token create --role read --name laptop
  trailsql serve --listen 0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem --allow-host trailsql.example.com
  trailsql serve --config /etc/trailsql/trailsql.yml --lake /var/lib/trailsql/lake`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var cfg *daemon.Config
			if config != "" {
				c, err := daemon.LoadConfig(config, m.Getenv, m.now())
				if err != nil {
					return err
				}
				cfg = c
			}
			if _, err := m.existingLake(cmd); err != nil {
				return err
			}
			if concurrency <= 0 {
				return fmt.Errorf("--concurrency %d: give a positive number of statements", concurrency)
			}
			if q.maxRows <= 0 {
				return fmt.Errorf("--max-rows %d: give a positive number of rows", q.maxRows)
			}
			opt, err := m.engineOptions(cmd, &q)
			if err != nil {
				return err
			}
			// One more row than a response holds tells the server the result was truncated.
			opt.MaxRows, opt.MaxConcurrent, opt.MaxQueueWait = q.maxRows+1, concurrency, queueWait
			e, err := local.Open(cmd.Context(), opt)
			if err != nil {
				return err
			}
			defer e.Close()
			rs := rf.sources()
			if cfg != nil {
				rs = cfg.Rules // the rules the run evaluates
			}
			srv, err := server.New(server.Options{
				Lake: opt.Lake, Engine: e, Logger: m.serverLogger(cmd), MaxRows: q.maxRows, Timeout: q.timeout,
				Concurrency: concurrency, AllowedHosts: allowHosts, Authz: authzFile, TLSCert: tlsCert, TLSKey: tlsKey, Now: m.Now,
				Rules: rs,
				UI:    web.Handler(),
			})
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("--listen %s: %w", listen, err)
			}
			if err := srv.CheckListen(ln.Addr()); err != nil {
				ln.Close()
				return fmt.Errorf("--listen %w", err)
			}
			scheme := "http"
			if tlsCert != "" {
				scheme = "https"
			}
			fmt.Fprintf(m.Stderr, "serving the lake %s on %s://%s/ (API: /api/v1/; Ctrl-C stops)\n", opt.Lake, scheme, ln.Addr())
			if cfg == nil {
				return srv.Serve(cmd.Context(), ln)
			}
			defer ln.Close() // when the run stops before the server starts
			return m.runDaemon(cmd, cfg, opt.Lake, report.Options{}, func(ctx context.Context) error { return srv.Serve(ctx, ln) })
		},
	}
	q.register(cmd)
	f := cmd.Flags().Lookup("max-rows")
	f.Usage, f.DefValue = "most rows a response holds (a request may ask for fewer); a longer result is truncated and says so", strconv.Itoa(server.DefaultMaxRows)
	f.Value.Set(f.DefValue)
	rf.register(cmd, false)
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8080", "address to listen on; other than loopback only once tokens exist")
	cmd.Flags().StringVar(&tlsCert, "tls-cert", "", "serve HTTPS with this certificate (PEM), with --tls-key")
	cmd.Flags().StringVar(&tlsKey, "tls-key", "", "the certificate's private key (PEM)")
	cmd.Flags().StringSliceVar(&allowHosts, "allow-host", nil, "more host names the server is reached by (the Host header), besides localhost, 127.0.0.1 and [::1]")
	cmd.Flags().IntVar(&concurrency, "concurrency", 4, "most statements running at once")
	cmd.Flags().DurationVar(&queueWait, "queue-wait", engine.DefaultMaxQueueWait, "longest a statement waits for a turn before it is refused")
	cmd.Flags().StringVar(&config, "config", "", "also run what 'trailsql run --config FILE' runs (collection, detection, delivery, reports) in this process")
	cmd.Flags().StringVar(&authzFile, "authz", "", "the IAM inventory ('aws iam get-account-authorization-details'), for /api/v1/unused and inactive-identities")
	return cmd
}

// serverLogger logs the server's requests and events: at info level always (a server's log is
// its record), at debug level with --verbose.
func (m *Main) serverLogger(cmd *cobra.Command) *slog.Logger {
	level := slog.LevelInfo
	if v, _ := cmd.Flags().GetBool("verbose"); v {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: level}))
}

func (m *Main) tokenCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token (create --role read|admin [--name N] | list | revoke ID)",
		Short: "Create, list and revoke the API's bearer tokens",
		Long: `Tokens let clients use trailsql serve's API: role read runs queries and reads answers, rules and
alerts; role admin also acknowledges alerts, defines tables and manages tokens. A token is printed
once, when it is created: only its SHA-256 hash is kept, in <lake>/_trailsql/tokens (mode 0600).
A running server sees tokens created and revoked at once.`,
	}
	var role, name string
	create := &cobra.Command{
		Use:   "create --role read|admin [--name N]",
		Short: "Create a token and print it (the only time it is shown)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			lk, err := m.existingLake(cmd)
			if err != nil {
				return err
			}
			secret, t, err := server.OpenTokens(lk.Dir).Create(role, name)
			if err != nil {
				return fmt.Errorf("--role/--name: %w", err)
			}
			fmt.Fprintln(m.Stdout, secret)
			fmt.Fprintf(m.Stderr, "token %s (role %s) created; it is shown only now: keep it secret\n", t.ID, t.Role)
			return nil
		},
	}
	create.Flags().StringVar(&role, "role", "", "read (queries and answers) or admin (also acknowledgements, tables, tokens)")
	create.Flags().StringVar(&name, "name", "", "a name to recognise it by in lists and logs")
	list := &cobra.Command{
		Use:   "list",
		Short: "List the tokens (ids, names, roles; never the tokens)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			lk, err := m.existingLake(cmd)
			if err != nil {
				return err
			}
			ts, err := server.OpenTokens(lk.Dir).List()
			if err != nil {
				return err
			}
			var rows [][]any
			for _, t := range ts {
				rows = append(rows, []any{t.ID, t.Name, t.Role, t.Created.Format(time.RFC3339)})
			}
			return m.writeTable(cmd, "table", []string{"id", "name", "role", "created"}, rows)
		},
	}
	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a token (by id, or by name when one token has it)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			lk, err := m.existingLake(cmd)
			if err != nil {
				return err
			}
			t, err := server.OpenTokens(lk.Dir).Revoke(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(m.Stderr, "token %s (%s, role %s) revoked\n", t.ID, t.Name, t.Role)
			return nil
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}
