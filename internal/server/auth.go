package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// sessionCookie is the console's session cookie.
const sessionCookie = "trailsql_session"

// sessionTTL bounds a session: the console logs in again after it.
const sessionTTL = 12 * time.Hour

// sessions are the console's logins, in memory (a restart logs everyone out).
type sessions struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[string]session
}

type session struct {
	tokenID string
	expires time.Time
}

func newSessions(now func() time.Time) *sessions {
	return &sessions{now: now, m: map[string]session{}}
}

func (ss *sessions) create(tokenID string) string {
	var b [32]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	ss.mu.Lock()
	defer ss.mu.Unlock()
	now := ss.now()
	for k, v := range ss.m {
		if now.After(v.expires) {
			delete(ss.m, k)
		}
	}
	ss.m[id] = session{tokenID: tokenID, expires: now.Add(sessionTTL)}
	return id
}

func (ss *sessions) get(id string) (string, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	v, ok := ss.m[id]
	if !ok || ss.now().After(v.expires) {
		delete(ss.m, id)
		return "", false
	}
	return v.tokenID, true
}

func (ss *sessions) remove(id string) {
	ss.mu.Lock()
	delete(ss.m, id)
	ss.mu.Unlock()
}

// caller is who made a request.
type caller struct {
	// Token is the token's id and name ("" in open mode: no token exists).
	TokenID, Name string
	Role          string
	Open          bool
}

type callerKey struct{}

func callerOf(ctx context.Context) caller {
	c, _ := ctx.Value(callerKey{}).(caller)
	return c
}

// authenticate finds the caller: a bearer token, else the session cookie; with no token at
// all, everyone is admin (open mode, which Serve allows on loopback only).
func (s *Server) authenticate(r *http.Request) (caller, error) {
	list, err := s.tokens.List()
	if err != nil {
		return caller{}, err
	}
	if secret := bearer(r.Header.Get("Authorization")); secret != "" {
		tok, ok, err := s.tokens.Check(secret)
		if err != nil {
			return caller{}, err
		}
		if !ok {
			return caller{}, &APIError{Type: ErrorUnauthenticated, Message: "the bearer token is not known (revoked, or mistyped)", Status: http.StatusUnauthorized}
		}
		return caller{TokenID: tok.ID, Name: tok.Name, Role: tok.Role}, nil
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		if id, ok := s.sessions.get(c.Value); ok {
			if tok, ok := s.tokens.byID(id); ok {
				return caller{TokenID: tok.ID, Name: tok.Name, Role: tok.Role}, nil
			}
		}
	}
	if len(list) == 0 {
		return caller{Role: RoleAdmin, Open: true}, nil
	}
	return caller{}, &APIError{Type: ErrorUnauthenticated, Message: "give a token: Authorization: Bearer <token> (trailsql token create makes one), or log in with POST /api/v1/login", Status: http.StatusUnauthorized}
}

// require wraps h so that it runs for callers of role (admin satisfies read).
func (s *Server) require(role string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := s.authenticate(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if role == RoleAdmin && c.Role != RoleAdmin {
			s.writeError(w, r, &APIError{Type: ErrorForbidden, Message: "this needs a token of role admin; yours is " + c.Role, Status: http.StatusForbidden})
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, c)))
	}
}

// login exchanges a token for the console's session cookie.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Token string `json:"token"`
	}
	secret := bearer(r.Header.Get("Authorization"))
	if secret == "" {
		if err := decodeBody(r, &body); err != nil {
			s.writeError(w, r, err)
			return
		}
		secret = body.Token
	}
	tok, ok, err := s.tokens.Check(secret)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !ok {
		s.log.Info("login refused", "remote", r.RemoteAddr)
		s.writeError(w, r, &APIError{Type: ErrorUnauthenticated, Message: "the token is not known (revoked, or mistyped)", Status: http.StatusUnauthorized})
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: s.sessions.create(tok.ID), Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil, MaxAge: int(sessionTTL / time.Second),
	})
	s.log.Info("login", "token", tok.ID, "name", tok.Name)
	writeJSON(w, http.StatusOK, map[string]string{"token_id": tok.ID, "name": tok.Name, "role": tok.Role})
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.sessions.remove(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) whoami(w http.ResponseWriter, r *http.Request) {
	c := callerOf(r.Context())
	writeJSON(w, http.StatusOK, map[string]any{"token_id": c.TokenID, "name": c.Name, "role": c.Role, "open": c.Open})
}

// checkHost refuses a Host header that is not this server's: a page of another site whose name
// resolves to 127.0.0.1 (DNS rebinding) would otherwise read the API as same-origin.
func (s *Server) checkHost(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.hostAllowed(r.Host) {
			s.log.Info("host refused", "host", r.Host, "remote", r.RemoteAddr)
			s.writeError(w, r, &APIError{Type: ErrorForbidden, Message: "Host " + r.Host + " is not this server's: add it with trailsql serve --allow-host", Status: http.StatusMisdirectedRequest})
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (s *Server) hostAllowed(host string) bool {
	name, port, err := net.SplitHostPort(host)
	if err != nil {
		name, port = host, ""
	}
	name = strings.ToLower(strings.TrimSuffix(strings.Trim(name, "[]"), "."))
	for _, a := range s.opt.AllowedHosts {
		a = strings.ToLower(a)
		if a == strings.ToLower(host) || a == name {
			return true
		}
	}
	switch name {
	case "localhost", "127.0.0.1", "::1":
	default:
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ports[port]
}

// decodeBody reads a JSON request body into v, strictly (unknown fields are errors).
func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 4<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if err == io.EOF {
			return &paramError{"body", "", "give a JSON object"}
		}
		return &paramError{"body", "", "not the JSON expected: " + err.Error()}
	}
	return nil
}
