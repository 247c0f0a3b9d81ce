package server

import (
	"net/http"
	"time"

	"github.com/trailsql/trailsql/internal/notify"
)

// SilenceJSON is a silence of the lake's notifier (<lake>/notify/silences.json, the file
// trailsql silence edits) with its state at the server's now: active, pending or expired.
type SilenceJSON struct {
	notify.Silence
	State string `json:"state"`
}

func (s *Server) silences() *notify.Silences {
	return notify.OpenSilences(notify.DirOf(s.opt.Lake))
}

func silenceState(sil notify.Silence, now time.Time) string {
	switch {
	case !now.Before(sil.EndsAt):
		return "expired"
	case now.Before(sil.StartsAt):
		return "pending"
	}
	return "active"
}

// listSilences answers GET /api/v1/silences[?all=true]: the silences not expired (all: every
// one), newest first, as trailsql silence list [--all].
func (s *Server) listSilences(w http.ResponseWriter, r *http.Request) {
	list, err := s.silences().List()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	all := r.URL.Query().Get("all") == "true"
	now := s.opt.Now()
	out := []SilenceJSON{}
	for i := len(list) - 1; i >= 0; i-- {
		sj := SilenceJSON{Silence: list[i], State: silenceState(list[i], now)}
		if sj.State == "expired" && !all {
			continue
		}
		out = append(out, sj)
	}
	writeJSON(w, http.StatusOK, map[string]any{"silences": out})
}

// silenceRequest is POST /api/v1/silences' body: matchers as trailsql silence add reads them
// (rule=root-activity, 'rule=~cis-.*'), a comment, and an end (ends_at) or a duration.
type silenceRequest struct {
	Matchers  []string `json:"matchers"`
	Comment   string   `json:"comment"`
	Duration  string   `json:"duration"`
	EndsAt    string   `json:"ends_at"`
	StartsAt  string   `json:"starts_at"`
	CreatedBy string   `json:"created_by"`
}

// addSilence answers POST /api/v1/silences (admin), as trailsql silence add.
func (s *Server) addSilence(w http.ResponseWriter, r *http.Request) {
	var req silenceRequest
	if err := decodeBody(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	sil, err := s.silenceOf(r, req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	now := s.opt.Now()
	added, err := s.silences().Add(sil, now)
	if err != nil {
		// Add's errors are the silence's: no matcher, a bad matcher, an end in the past.
		s.writeError(w, r, &APIError{Type: ErrorParameter, Message: err.Error(), Status: http.StatusBadRequest})
		return
	}
	w.Header().Set("Location", "/api/v1/silences/"+added.ID)
	writeJSON(w, http.StatusCreated, SilenceJSON{Silence: added, State: silenceState(added, now)})
}

func (s *Server) silenceOf(r *http.Request, req silenceRequest) (notify.Silence, error) {
	var sil notify.Silence
	if len(req.Matchers) == 0 {
		return sil, &paramError{"matchers", "", "give at least one matcher, such as rule=root-activity"}
	}
	for _, m := range req.Matchers {
		mt, err := notify.ParseMatcher(m)
		if err != nil {
			return sil, &paramError{"matchers", m, err.Error()}
		}
		sil.Matchers = append(sil.Matchers, mt)
	}
	if req.Comment == "" {
		return sil, &paramError{"comment", "", "say why (it is shown with the silence)"}
	}
	now := s.opt.Now()
	if req.StartsAt != "" {
		t, err := time.Parse(time.RFC3339, req.StartsAt)
		if err != nil {
			return sil, &paramError{"starts_at", req.StartsAt, "write a time like 2026-07-01T00:00:00Z"}
		}
		sil.StartsAt = t
	}
	switch {
	case req.EndsAt != "" && req.Duration != "":
		return sil, &paramError{"duration", req.Duration, "give duration or ends_at, not both"}
	case req.EndsAt != "":
		t, err := time.Parse(time.RFC3339, req.EndsAt)
		if err != nil {
			return sil, &paramError{"ends_at", req.EndsAt, "write a time like 2026-07-01T00:00:00Z"}
		}
		sil.EndsAt = t
	default:
		d := 2 * time.Hour // trailsql silence add's default
		if req.Duration != "" {
			var err error
			if d, err = time.ParseDuration(req.Duration); err != nil || d <= 0 {
				return sil, &paramError{"duration", req.Duration, "give a duration such as 4h or 30m"}
			}
		}
		start := now
		if !sil.StartsAt.IsZero() {
			start = sil.StartsAt
		}
		sil.EndsAt = start.Add(d)
	}
	sil.Comment, sil.CreatedBy = req.Comment, req.CreatedBy
	if sil.CreatedBy == "" {
		c := callerOf(r.Context())
		sil.CreatedBy = c.Name
		if sil.CreatedBy == "" {
			sil.CreatedBy = c.TokenID
		}
	}
	return sil, nil
}

// expireSilence answers DELETE /api/v1/silences/{id} (admin): the silence ends now, as
// trailsql silence expire; it stays in the list (all=true) as expired.
func (s *Server) expireSilence(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !idRE().MatchString(id) {
		s.writeError(w, r, &notFound{"no silence " + id + " (GET /api/v1/silences?all=true lists them with their ids)"})
		return
	}
	list, err := s.silences().List()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	found := false
	for _, sil := range list {
		found = found || sil.ID == id
	}
	if !found {
		s.writeError(w, r, &notFound{"no silence " + id + " (GET /api/v1/silences?all=true lists them with their ids)"})
		return
	}
	now := s.opt.Now()
	sil, err := s.silences().Expire(id, now)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, SilenceJSON{Silence: sil, State: silenceState(sil, now)})
}
