package server

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/engine"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/rules"
	"github.com/trailsql/trailsql/internal/window"
)

// SchemaColumn is a column of cloudtrail_logs, with its nested fields (dotted paths), for an
// editor's completion.
type SchemaColumn struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Doc  string `json:"doc,omitempty"`
	// Athena is false for the columns Athena's DDL lacks (not in SELECT *; read them by name).
	Athena bool           `json:"athena"`
	Fields []SchemaColumn `json:"fields,omitempty"`
}

// schema answers GET /api/v1/schema: the columns trailsql schema lists.
func (s *Server) schema(w http.ResponseWriter, r *http.Request) {
	var cols []SchemaColumn
	for _, c := range cloudtrail.Columns() {
		sc := SchemaColumn{Name: c.Name, Type: c.Type, Doc: c.Doc, Athena: c.Athena}
		if strings.HasPrefix(c.Type, "STRUCT(") || strings.Contains(c.Type, "STRUCT(") {
			for _, f := range cloudtrail.Fields(c.Name) {
				sc.Fields = append(sc.Fields, SchemaColumn{Name: f.Name, Type: f.Type, Doc: f.Doc, Athena: c.Athena})
			}
		}
		cols = append(cols, sc)
	}
	cols = append(cols, SchemaColumn{Name: engine.PathColumn, Type: "VARCHAR", Doc: "pseudo-column (not in SELECT *): the lake file the row was read from; in Athena, its S3 object"})
	writeJSON(w, http.StatusOK, map[string]any{"table": "cloudtrail_logs", "columns": cols})
}

// lakeInfo answers GET /api/v1/lake: what trailsql info says.
func (s *Server) lakeInfo(w http.ResponseWriter, r *http.Request) {
	info, err := lake.ReadInfo(s.opt.Lake)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

// ruleJSON is a rule as GET /api/v1/rules lists it.
type ruleJSON struct {
	ID          string         `json:"id"`
	Title       string         `json:"title"`
	Severity    rules.Severity `json:"severity"`
	Description string         `json:"description,omitempty"`
	Runbook     string         `json:"runbook,omitempty"`
	Tags        []string       `json:"tags,omitempty"`
	Kind        rules.Kind     `json:"kind"`
	Text        string         `json:"text"`
	Condition   string         `json:"condition"`
	Threshold   *thresholdJSON `json:"threshold,omitempty"`
	Where       string         `json:"where"`
	Builtin     bool           `json:"builtin"`
}

type thresholdJSON struct {
	Count   int      `json:"count"`
	Window  string   `json:"window"`
	GroupBy []string `json:"group_by,omitempty"`
}

// listRules answers GET /api/v1/rules: the rules the server's sources load, and the errors of
// those that cannot be used.
func (s *Server) listRules(w http.ResponseWriter, r *http.Request) {
	loaded, err := rules.Load(s.opt.Rules)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]ruleJSON, len(loaded.Rules))
	for i, ru := range loaded.Rules {
		out[i] = ruleOf(ru)
	}
	errs := make([]string, len(loaded.Errors))
	for i, e := range loaded.Errors {
		errs[i] = e.Error()
	}
	writeJSON(w, http.StatusOK, map[string]any{"rules": out, "errors": errs})
}

// ruleOf is a rule as the API shows it.
func ruleOf(ru *rules.Rule) ruleJSON {
	out := ruleJSON{ID: ru.ID, Title: ru.Title, Severity: ru.Severity, Description: ru.Description, Runbook: ru.Runbook, Tags: ru.Tags,
		Kind: ru.Kind, Text: ru.Text, Condition: ru.Condition, Where: ru.Where(), Builtin: ru.Builtin}
	if t := ru.Threshold; t != nil {
		out.Threshold = &thresholdJSON{Count: t.Count, Window: t.Window.String(), GroupBy: t.GroupBy}
	}
	return out
}

// AlertJSON is a stored alert with its id and acknowledgement.
type AlertJSON struct {
	ID string `json:"id"`
	rules.Alert
	Ack *Ack `json:"ack,omitempty"`
}

// AlertID is an alert's id in URLs: from its rule and deduplication key, which identify it in
// the store.
func AlertID(a rules.Alert) string {
	h := sha256.Sum256([]byte(a.Rule + "\x00" + a.Dedup))
	return hex.EncodeToString(h[:8])
}

// alerts answers GET /api/v1/alerts?from&to&account&region&rule&severity&acked&limit.
func (s *Server) alerts(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	f := rules.Filter{Account: v.Get("account"), Region: v.Get("region"), Rules: listParam(v, "rule")}
	now := window.Now(s.opt.Now())
	var err error
	if x := v.Get("from"); x != "" {
		if f.From, err = window.ParseTime("from", x, now, false); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	if x := v.Get("to"); x != "" {
		if f.To, err = window.ParseTime("to", x, now, true); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	minSev := -1
	if x := v.Get("severity"); x != "" {
		if minSev = rules.Severity(x).Rank(); minSev < 0 {
			s.writeError(w, r, &paramError{"severity", x, "give info, low, medium, high or critical (the least severity shown)"})
			return
		}
	}
	acked := v.Get("acked")
	if acked != "" && acked != "true" && acked != "false" {
		s.writeError(w, r, &paramError{"acked", acked, "give true or false"})
		return
	}
	limit := 0
	if x := v.Get("limit"); x != "" {
		if limit, err = strconv.Atoi(x); err != nil || limit <= 0 {
			s.writeError(w, r, &paramError{"limit", x, "give a positive number"})
			return
		}
	}
	all, err := rules.OpenStore(s.opt.Lake).Alerts()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	acks, err := s.files.acks()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := []AlertJSON{}
	for _, a := range rules.Select(all, f) {
		aj := AlertJSON{ID: AlertID(a), Alert: a}
		if ack, ok := acks[aj.ID]; ok {
			aj.Ack = &ack
		}
		if a.Severity.Rank() < minSev || acked == "true" && aj.Ack == nil || acked == "false" && aj.Ack != nil {
			continue
		}
		out = append(out, aj)
	}
	// Newest first: what a console shows.
	slices.Reverse(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	writeJSON(w, http.StatusOK, map[string]any{"alerts": out})
}

// ack answers POST (acknowledge, body {"note": …}) and DELETE /api/v1/alerts/{id}/ack.
func (s *Server) ack(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	all, err := rules.OpenStore(s.opt.Lake).Alerts()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !slices.ContainsFunc(all, func(a rules.Alert) bool { return AlertID(a) == id }) {
		s.writeError(w, r, &notFound{"no alert " + id + " (GET /api/v1/alerts lists them with their ids)"})
		return
	}
	if r.Method == http.MethodDelete {
		if err := s.files.setAck(id, nil); err != nil {
			s.writeError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	var body struct {
		Note string `json:"note"`
	}
	if r.ContentLength != 0 {
		if err := decodeBody(r, &body); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	c := callerOf(r.Context())
	ack := &Ack{At: s.opt.Now().UTC().Truncate(time.Second), By: c.Name, Note: body.Note}
	if ack.By == "" {
		ack.By = c.TokenID
	}
	if err := s.files.setAck(id, ack); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "ack": ack})
}

func (s *Server) listSaved(w http.ResponseWriter, r *http.Request) {
	list, err := s.files.savedList()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"saved": list})
}

func (s *Server) createSaved(w http.ResponseWriter, r *http.Request) {
	var q SavedQuery
	if err := decodeBody(r, &q); err != nil {
		s.writeError(w, r, err)
		return
	}
	c := callerOf(r.Context())
	q.By = c.Name
	q, err := s.files.save(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/saved/"+q.ID)
	writeJSON(w, http.StatusCreated, q)
}

func (s *Server) getSaved(w http.ResponseWriter, r *http.Request) {
	q, err := s.files.saved(r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, q)
}

func (s *Server) deleteSaved(w http.ResponseWriter, r *http.Request) {
	if err := s.files.deleteSaved(r.PathValue("id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// listHistory answers GET /api/v1/history?limit=N (default 100), newest first.
func (s *Server) listHistory(w http.ResponseWriter, r *http.Request) {
	limit := 100
	if x := r.URL.Query().Get("limit"); x != "" {
		n, err := strconv.Atoi(x)
		if err != nil || n < 0 {
			s.writeError(w, r, &paramError{"limit", x, "give a number (0 for all)"})
			return
		}
		limit = n
	}
	h, err := s.files.history(limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"history": h})
}

func (s *Server) getHistory(w http.ResponseWriter, r *http.Request) {
	h, err := s.files.history(0)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	id := r.PathValue("id")
	if i := slices.IndexFunc(h, func(e historyEntry) bool { return e.ID == id }); i >= 0 {
		writeJSON(w, http.StatusOK, h[i])
		return
	}
	s.writeError(w, r, &notFound{"no query " + id + " in the history"})
}

// tokenJSON is a token as the API shows it: never its hash.
type tokenJSON struct {
	ID      string    `json:"id"`
	Name    string    `json:"name,omitempty"`
	Role    string    `json:"role"`
	Created time.Time `json:"created"`
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) {
	list, err := s.tokens.List()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]tokenJSON, len(list))
	for i, t := range list {
		out[i] = tokenJSON{t.ID, t.Name, t.Role, t.Created}
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": out})
}

// createToken answers POST /api/v1/tokens {"role", "name"}: the token is in this answer only.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Role string `json:"role"`
		Name string `json:"name"`
	}
	if err := decodeBody(r, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	secret, t, err := s.tokens.Create(body.Role, body.Name)
	if err != nil {
		s.writeError(w, r, &paramError{"role", body.Role, err.Error()})
		return
	}
	s.log.Info("token created", "id", t.ID, "name", t.Name, "role", t.Role, "by", callerOf(r.Context()).TokenID)
	writeJSON(w, http.StatusCreated, map[string]any{"token": secret, "id": t.ID, "name": t.Name, "role": t.Role, "created": t.Created})
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	t, err := s.tokens.Revoke(r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.log.Info("token revoked", "id", t.ID, "name", t.Name, "by", callerOf(r.Context()).TokenID)
	w.WriteHeader(http.StatusNoContent)
}
