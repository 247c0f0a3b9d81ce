package server

import (
	"net/http"
	"slices"

	"github.com/trailsql/trailsql/internal/answer/local"
	"github.com/trailsql/trailsql/internal/notify"
	"github.com/trailsql/trailsql/internal/report"
	"github.com/trailsql/trailsql/internal/rules"
)

// AlertDetail is GET /api/v1/alerts/{id}: the alert, its event in plain language (the sentence
// and fields notifications carry, notify.Readable over the lake), its labels (what routes and
// silences match), its rule, and the active silences that hold its notifications back.
type AlertDetail struct {
	AlertJSON
	Summary string            `json:"summary"`
	Fields  []notify.Field    `json:"fields"`
	Labels  map[string]string `json:"labels"`
	// SummaryError says why the event could not be read back (the summary is then the title).
	SummaryError string    `json:"summary_error,omitempty"`
	RuleDetail   *ruleJSON `json:"rule_detail,omitempty"`
	SilencedBy   []string  `json:"silenced_by"`
	Commit       int64     `json:"commit"`
}

// alert answers GET /api/v1/alerts/{id}.
func (s *Server) alert(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	all, err := rules.OpenStore(s.opt.Lake).Alerts()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	i := slices.IndexFunc(all, func(a rules.Alert) bool { return AlertID(a) == id })
	if i < 0 {
		s.writeError(w, r, &notFound{"no alert " + id + " (GET /api/v1/alerts lists them with their ids)"})
		return
	}
	a := all[i]
	d := &AlertDetail{AlertJSON: AlertJSON{ID: id, Alert: a}, SilencedBy: []string{}}
	acks, err := s.files.acks()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if ack, ok := acks[id]; ok {
		d.Ack = &ack
	}
	var rs []*rules.Rule
	if loaded, err := rules.Load(s.opt.Rules); err == nil {
		rs = loaded.Rules
		if j := slices.IndexFunc(rs, func(ru *rules.Rule) bool { return ru.ID == a.Rule }); j >= 0 {
			rj := ruleOf(rs[j])
			d.RuleDetail = &rj
		}
	}
	lim, err := s.limitsOf("", "")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ctx, cancel := lim.context(r.Context())
	defer cancel()
	pinned, release, err := s.opt.Engine.Pin(ctx)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer release()
	d.Commit = pinned.Snapshot().Seq
	msgs, err := notify.Readable(ctx, local.Engine(pinned), []rules.Alert{a}, rs, report.Options{})
	if err != nil {
		// The message is still made, with the title as its summary: say why.
		d.SummaryError = apiError(err).Message
	}
	m := msgs[0]
	d.Summary, d.Fields, d.Labels = m.Summary, m.Fields, m.Labels
	if d.Fields == nil {
		d.Fields = []notify.Field{}
	}
	silences, err := s.silences().List()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	now := s.opt.Now()
	for _, sil := range silences {
		if sil.Active(now) && sil.Matches(m.Labels) {
			d.SilencedBy = append(d.SilencedBy, sil.ID)
		}
	}
	writeJSON(w, http.StatusOK, d)
}
