// Package server is trailsql's HTTP API, /api/v1, over the answers layer: Athena SQL, the
// catalogue of questions, least-privilege policies, granted-vs-used reports, the lake's coverage,
// rules and alerts, saved queries and their history. After Datasette (read-only SQL over files as
// an API, a row cap and a time limit by default, 127.0.0.1 by default) and Prometheus's
// web/api/v1 (one API value over the engine, typed errors mapped to statuses in one place,
// writeError). It computes no answer itself: every endpoint calls the package the CLI's command
// of the same name calls.
//
// Security: it listens on loopback unless bearer tokens exist, checks the Host header against
// DNS rebinding, refuses cross-origin writes (http.CrossOriginProtection), and serves the
// console's session cookie (SameSite=Strict, HttpOnly) only in exchange for a token.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/trailsql/trailsql/internal/engine"
	"github.com/trailsql/trailsql/internal/rules"
)

// Options configure a Server. Zero values take the defaults.
type Options struct {
	// Lake is the lake's folder; the server keeps its own files beside it, in <lake>/server
	// (saved queries, history, acknowledgements) and <lake>/_trailsql/tokens.
	Lake string
	// Engine answers the SQL, opened over Lake (local.Open); its own limits (concurrency, queue
	// wait, timeout, memory) apply to every statement.
	Engine *engine.Engine
	Logger *slog.Logger
	// MaxRows caps the rows of a response (default 10,000): a request may ask for fewer
	// (max_rows), never more; a result with more says truncated.
	MaxRows int
	// Timeout caps a request's answer (default: the engine's timeout); a request may ask for
	// less (timeout).
	Timeout time.Duration
	// Concurrency is how many asynchronous queries run at once (default 4; set it to the
	// engine's concurrency); the others wait, QUEUED.
	Concurrency int
	// AllowedHosts are host names (with or without a port) the Host header may carry besides
	// localhost, 127.0.0.1 and [::1] on the listening port.
	AllowedHosts []string
	// Authz is an IAM inventory file (aws iam get-account-authorization-details) for unused and
	// for the inactive-identities question; "" leaves them unavailable.
	Authz string
	// Rules say which rules GET /api/v1/rules lists (default: the built-in rules).
	Rules rules.Sources
	// TLSCert and TLSKey, both set, serve HTTPS.
	TLSCert, TLSKey string
	// UI serves everything outside /api/ (the web console); nil serves a page saying the
	// console is coming.
	UI http.Handler
	// Now is the clock (nil: time.Now), for windows ending now.
	Now func() time.Time
}

// DefaultMaxRows is the default of Options.MaxRows.
const DefaultMaxRows = 10_000

// Server is the API over one lake.
type Server struct {
	opt      Options
	log      *slog.Logger
	tokens   *Tokens
	sessions *sessions
	files    *files
	jobs     *jobs
	handler  http.Handler
	// ports are the ports Serve listens on, for the Host check (guarded by mu).
	mu    sync.Mutex
	ports map[string]bool
}

// New returns the server for opt.
func New(opt Options) (*Server, error) {
	if opt.Engine == nil {
		return nil, errors.New("server: no engine (open one over the lake with local.Open)")
	}
	if opt.Lake == "" {
		return nil, errors.New("server: no lake folder")
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.MaxRows <= 0 {
		opt.MaxRows = DefaultMaxRows
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if (opt.TLSCert == "") != (opt.TLSKey == "") {
		return nil, errors.New("give both a TLS certificate and its key, or neither")
	}
	s := &Server{
		opt:      opt,
		log:      opt.Logger.With("component", "server"),
		tokens:   OpenTokens(opt.Lake),
		sessions: newSessions(opt.Now),
		files:    &files{dir: filepath.Join(opt.Lake, "server")},
		ports:    map[string]bool{},
	}
	s.jobs = newJobs(s)
	s.handler = s.routes()
	return s, nil
}

// Handler is the server's whole HTTP handler: Host check, cross-origin protection,
// authentication, then the API and the UI.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve answers on ln until ctx ends, then shuts down gracefully: requests under way get up to
// 10 seconds to finish, running asynchronous queries are cancelled. It refuses a non-loopback
// listener while no token exists.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if err := s.CheckListen(ln.Addr()); err != nil {
		return err
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	s.mu.Lock()
	s.ports[port] = true
	s.mu.Unlock()
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	done := make(chan error, 1)
	go func() {
		if s.opt.TLSCert != "" {
			done <- srv.ServeTLS(ln, s.opt.TLSCert, s.opt.TLSKey)
		} else {
			done <- srv.Serve(ln)
		}
	}()
	s.log.Info("serving", "addr", ln.Addr().String(), "tls", s.opt.TLSCert != "")
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	s.jobs.cancelAll()
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(shut)
	<-done
	return err
}

// CheckListen refuses an address other than loopback while no token exists: without tokens,
// anyone who reaches the port could read the lake.
func (s *Server) CheckListen(addr net.Addr) error {
	host := addr.String()
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	ip := net.ParseIP(host)
	if ip != nil && ip.IsLoopback() {
		return nil
	}
	list, err := s.tokens.List()
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return fmt.Errorf("listen %s: not a loopback address, and no token exists: anyone who reaches it could read the lake. Create one first (trailsql token create --role read|admin), or listen on 127.0.0.1", addr)
	}
	return nil
}

// limits are a request's own limits, within the server's.
type limits struct {
	timeout time.Duration
	maxRows int
}

// limitsOf reads max_rows and timeout from the request (query string or form), capped by the
// server's options.
func (s *Server) limitsOf(maxRows, timeout string) (limits, error) {
	lim := limits{timeout: s.opt.Timeout, maxRows: s.opt.MaxRows}
	if maxRows != "" {
		n, err := strconv.Atoi(maxRows)
		if err != nil || n <= 0 {
			return lim, &paramError{"max_rows", maxRows, "give a positive number of rows"}
		}
		lim.maxRows = min(n, s.opt.MaxRows)
	}
	if timeout != "" {
		d, err := time.ParseDuration(timeout)
		if err != nil {
			if n, nerr := strconv.ParseFloat(timeout, 64); nerr == nil {
				d, err = time.Duration(n*float64(time.Second)), nil
			}
		}
		if err != nil || d <= 0 {
			return lim, &paramError{"timeout", timeout, "give a duration such as 30s or 2m, or seconds"}
		}
		if lim.timeout <= 0 || d < lim.timeout {
			lim.timeout = d
		}
	}
	return lim, nil
}

// context bounds ctx by the request's timeout.
func (lim limits) context(ctx context.Context) (context.Context, context.CancelFunc) {
	if lim.timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, lim.timeout)
}
