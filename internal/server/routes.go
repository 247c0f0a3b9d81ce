package server

import (
	"net/http"
	"time"
)

// routes returns the handler: the Host check first (DNS rebinding), then Go's cross-origin
// protection (a page of another site cannot POST here with the session cookie), then each
// route with the role it needs.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	read := func(pattern string, h http.HandlerFunc) { mux.HandleFunc(pattern, s.require(RoleRead, h)) }
	admin := func(pattern string, h http.HandlerFunc) { mux.HandleFunc(pattern, s.require(RoleAdmin, h)) }

	mux.HandleFunc("POST /api/v1/login", s.login)
	mux.HandleFunc("POST /api/v1/logout", s.logout)
	read("GET /api/v1/whoami", s.whoami)

	read("GET /api/v1/query", s.query)
	read("POST /api/v1/query", s.query)
	read("POST /api/v1/queries", s.submit)
	read("GET /api/v1/queries/{id}", s.jobStatus)
	read("GET /api/v1/queries/{id}/results", s.jobResults)
	read("DELETE /api/v1/queries/{id}", s.cancelJob)

	read("GET /api/v1/questions", s.listQuestions)
	read("GET /api/v1/questions/{name}", s.getQuestion)
	read("POST /api/v1/questions/{name}", s.answerQuestion)
	read("GET /api/v1/policy", s.policy)
	read("GET /api/v1/unused", s.unused)
	read("GET /api/v1/schema", s.schema)
	read("GET /api/v1/lake", s.lakeInfo)

	read("GET /api/v1/rules", s.listRules)
	read("GET /api/v1/alerts", s.alerts)
	read("GET /api/v1/alerts/{id}", s.alert)
	admin("POST /api/v1/alerts/{id}/ack", s.ack)
	admin("DELETE /api/v1/alerts/{id}/ack", s.ack)
	read("GET /api/v1/silences", s.listSilences)
	admin("POST /api/v1/silences", s.addSilence)
	admin("DELETE /api/v1/silences/{id}", s.expireSilence)

	read("GET /api/v1/saved", s.listSaved)
	read("POST /api/v1/saved", s.createSaved)
	read("GET /api/v1/saved/{id}", s.getSaved)
	read("DELETE /api/v1/saved/{id}", s.deleteSaved)
	read("GET /api/v1/history", s.listHistory)
	read("GET /api/v1/history/{id}", s.getHistory)

	admin("GET /api/v1/tokens", s.listTokens)
	admin("POST /api/v1/tokens", s.createToken)
	admin("DELETE /api/v1/tokens/{id}", s.revokeToken)

	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, &notFound{"no endpoint " + r.Method + " " + r.URL.Path + " (see docs/api.md)"})
	})
	ui := s.opt.UI
	if ui == nil {
		ui = http.HandlerFunc(placeholder)
	}
	mux.Handle("/", ui)

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.log.Info("cross-origin request refused", "method", r.Method, "path", r.URL.Path, "origin", r.Header.Get("Origin"))
		s.writeError(w, r, &APIError{Type: ErrorForbidden, Message: "cross-origin request refused: the API takes writes from its own pages and from clients that are not browsers", Status: http.StatusForbidden})
	}))
	return s.checkHost(cop.Handler(s.logRequests(mux)))
}

// logRequests logs each request: its method, path (never its query string, which may hold
// values, nor its headers, which hold tokens), status and time.
func (s *Server) logRequests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "elapsed", time.Since(start))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// placeholder is the page at / until the web console is built in (Options.UI).
func placeholder(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write([]byte(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>trailsql</title></head>
<body><h1>trailsql</h1>
<p>The web console is coming. The API is at <code>/api/v1/</code>: for example
<code>curl -H "Authorization: Bearer $TOKEN" 'http://127.0.0.1:8080/api/v1/query?sql=SELECT+count(*)+FROM+cloudtrail_logs'</code>.
See docs/api.md.</p></body></html>
`))
}
