package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// OutboxDir is the folder of the outboxes in the notifier's folder (<lake>/notify).
const OutboxDir = "outbox"

// Match chooses the messages of a route; every field set must pass.
type Match struct {
	// Rules are globs of rule ids (root-*, cis-3.*); any may match.
	Rules []string
	// MinSeverity keeps messages of this severity or above.
	MinSeverity string
	// Accounts are account ids; any may match.
	Accounts []string
	// Tags: the message has at least one of them.
	Tags []string
}

// Matches reports whether m passes.
func (mt *Match) Matches(m *Message) bool {
	if len(mt.Rules) > 0 && !slices.ContainsFunc(mt.Rules, func(g string) bool { ok, _ := path.Match(g, m.Rule); return ok }) {
		return false
	}
	if mt.MinSeverity != "" && severityRank(m.Severity) < severityRank(mt.MinSeverity) {
		return false
	}
	if len(mt.Accounts) > 0 && !slices.Contains(mt.Accounts, m.Account) {
		return false
	}
	if len(mt.Tags) > 0 && !slices.ContainsFunc(mt.Tags, func(t string) bool { return slices.Contains(m.Tags, t) }) {
		return false
	}
	return true
}

// Route sends the messages it matches to its destinations, grouped and repeated as Alertmanager
// does (simplified): messages with the same values of the GroupBy labels are one notification,
// sent GroupWait after the group's first message, then at most every GroupInterval; a message
// with the rule and dedup key of one delivered within RepeatInterval is not sent again.
type Route struct {
	Name           string
	Match          Match
	Destinations   []string
	GroupBy        []string
	GroupWait      time.Duration
	GroupInterval  time.Duration
	RepeatInterval time.Duration
	// Continue goes on to the next routes after a match (otherwise the first match wins).
	Continue bool
}

// Options tune a Notifier; zero values take the defaults.
type Options struct {
	Logger *slog.Logger
	// QueueCapacity is the messages per destination held in memory (default 10000); more wait in
	// the outbox file.
	QueueCapacity int
	// MaxBatch is the messages per Send (default 64).
	MaxBatch int
	// MinBackoff and MaxBackoff bound the exponential backoff between retries (1s, 5m).
	MinBackoff, MaxBackoff time.Duration
	// MaxRetryAfter caps a receiver's Retry-After (default 1h).
	MaxRetryAfter time.Duration
	// SendTimeout bounds one Send (a batch) so that a receiver that hangs is retried like one
	// that fails (default 1m).
	SendTimeout time.Duration
	// DrainTimeout is how long Run goes on sending after its context ends (default 10s); what is
	// left waits in the outbox for the next start.
	DrainTimeout time.Duration
	// Now is the clock (nil: time.Now).
	Now func() time.Time

	// Hooks for tests: sleep waits (nil: a timer); afterSend runs after each Send returns, and a
	// non-nil error from it stops the notifier at once without recording the outcome (a crash).
	sleep     func(ctx context.Context, d time.Duration) error
	afterSend func(dest string, msgs []Message, err error) error
}

// Stats counts what a destination's loop did.
type Stats struct {
	Queued, Delivered, Failed, Silenced, Repeats int
	// Sends is the Send calls, Retries those after a failure.
	Sends, Retries int
	// Pending is what waits (queued or in flight) now.
	Pending int
}

// Notifier routes messages to destinations through their outboxes.
type Notifier struct {
	dir      string
	opts     Options
	log      *slog.Logger
	routes   []Route
	byName   map[string]*Route
	loops    map[string]*loop
	names    []string
	silences *Silences

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every change of state (tests wait on it)
	unlock  func()        // releases the folder (one notifier per lake)
}

// loop is one destination's sender.
type loop struct {
	n     *Notifier
	name  string
	dest  Destination
	box   *outbox
	wake  chan struct{}
	flush map[string]time.Time // group key -> last flush
	stats Stats
}

var destNameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`) })

// New opens the outboxes in dir (<lake>/notify) of dests and returns a notifier that routes with
// routes. A Jira destination without a TicketStore records its tickets in its outbox.
func New(dir string, dests map[string]Destination, routes []Route, opts Options) (*Notifier, error) {
	if opts.QueueCapacity <= 0 {
		opts.QueueCapacity = 10000
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 64
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Minute
	}
	if opts.MaxRetryAfter <= 0 {
		opts.MaxRetryAfter = time.Hour
	}
	if opts.SendTimeout <= 0 {
		opts.SendTimeout = time.Minute
	}
	if opts.DrainTimeout <= 0 {
		opts.DrainTimeout = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.sleep == nil {
		opts.sleep = sleepCtx
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	n := &Notifier{dir: dir, opts: opts, unlock: unlock, log: log.With("component", "notify"), routes: routes, byName: map[string]*Route{},
		loops: map[string]*loop{}, silences: OpenSilences(dir), changed: make(chan struct{})}
	for i := range routes {
		r := &n.routes[i]
		if r.Name == "" {
			r.Name = fmt.Sprintf("route-%d", i+1)
		}
		if n.byName[r.Name] != nil {
			return nil, fmt.Errorf("route %q: two routes have this name", r.Name)
		}
		n.byName[r.Name] = r
		for _, d := range r.Destinations {
			if dests[d] == nil {
				return nil, fmt.Errorf("route %q: no destination %q", r.Name, d)
			}
		}
	}
	for name, d := range dests {
		if !destNameRE().MatchString(name) {
			return nil, fmt.Errorf("destination %q: use lower-case letters, digits, - and _", name)
		}
		box, err := openOutbox(filepath.Join(dir, OutboxDir, name+".jsonl"), opts.QueueCapacity, opts.Now())
		if err != nil {
			n.Close()
			return nil, fmt.Errorf("destination %s: %w", name, err)
		}
		if j, ok := d.(*Jira); ok && j.Tickets == nil {
			j.Tickets = box
		}
		n.loops[name] = &loop{n: n, name: name, dest: d, box: box, wake: make(chan struct{}, 1), flush: map[string]time.Time{}}
		n.names = append(n.names, name)
	}
	sort.Strings(n.names)
	return n, nil
}

// Open returns the notifier of the lake at root (its folder DirOf(root)) with the destinations,
// routes and queue options of cfg, logging to log.
func Open(root string, cfg *Config, log *slog.Logger) (*Notifier, error) {
	opts := cfg.Options
	opts.Logger = log
	return New(DirOf(root), cfg.Destinations, cfg.Routes, opts)
}

// Close closes the outboxes (after Run returned).
func (n *Notifier) Close() error {
	var errs []error
	for _, l := range n.loops {
		errs = append(errs, l.box.close())
	}
	if n.unlock != nil {
		n.unlock()
		n.unlock = nil
	}
	return errors.Join(errs...)
}

// signal tells waiters that the state changed.
func (n *Notifier) signal() {
	n.mu.Lock()
	close(n.changed)
	n.changed = make(chan struct{})
	n.mu.Unlock()
}

// watch returns a channel closed at the next change of state.
func (n *Notifier) watch() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.changed
}

// Stats returns each destination's counts.
func (n *Notifier) Stats() map[string]Stats {
	out := map[string]Stats{}
	for name, l := range n.loops {
		l.box.mu.Lock()
		s := l.stats
		s.Pending = len(l.box.pending) + len(l.box.inflight)
		if l.box.spilled {
			s.Pending++ // at least one more in the file
		}
		l.box.mu.Unlock()
		out[name] = s
	}
	return out
}

// Enqueue routes msgs to their destinations' outboxes and wakes the send loops; it waits on the
// outbox files only (one write and fsync per destination), never on a destination. A message
// already queued (the same ID) is not queued twice.
func (n *Notifier) Enqueue(msgs ...Message) error {
	now := n.opts.Now().UTC()
	per := map[string][]*item{}
	for _, m := range msgs {
		if m.Labels == nil {
			m.Labels = map[string]string{}
		} else {
			m.Labels = maps(m.Labels)
		}
		for k, v := range map[string]string{"rule": m.Rule, "severity": m.Severity, "account": m.Account} {
			if _, ok := m.Labels[k]; !ok && v != "" {
				m.Labels[k] = v
			}
		}
		if m.ID == "" {
			m.ID = m.Key()
		}
		routed := false
		for i := range n.routes {
			r := &n.routes[i]
			if !r.Match.Matches(&m) {
				continue
			}
			routed = true
			for _, d := range r.Destinations {
				per[d] = append(per[d], &item{msg: m, route: r.Name, queued: now})
			}
			if !r.Continue {
				break
			}
		}
		if !routed {
			n.log.Debug("no route matches the message", "message", m.ID, "rule", m.Rule, "severity", m.Severity)
		}
	}
	// one write and fsync per destination, all at once
	errs := make([]error, 0, len(per))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for d, items := range per {
		l := n.loops[d]
		wg.Go(func() {
			if err := l.push(items); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("queue for %s: %w", d, err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// EnqueueTo queues msgs for the destinations named, past the routes (a scheduled report says
// whom it goes to), under the route name route; like Enqueue, a message ID is queued once.
func (n *Notifier) EnqueueTo(dests []string, route string, msgs ...Message) error {
	now := n.opts.Now().UTC()
	var errs []error
	for _, d := range dests {
		l := n.loops[d]
		if l == nil {
			errs = append(errs, fmt.Errorf("no destination %q", d))
			continue
		}
		var items []*item
		for _, m := range msgs {
			if m.ID == "" {
				m.ID = m.Key()
			}
			items = append(items, &item{msg: m, route: route, queued: now})
		}
		if err := l.push(items); err != nil {
			errs = append(errs, fmt.Errorf("queue for %s: %w", d, err))
		}
	}
	return errors.Join(errs...)
}

// push queues items in the destination's outbox, counts what was new, and wakes its loop.
func (l *loop) push(items []*item) error {
	added, err := l.box.enqueue(items)
	if err != nil {
		return err
	}
	l.box.mu.Lock()
	l.stats.Queued += added
	l.box.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
	return nil
}

func maps(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// errCrashed stops the loops when a test's afterSend hook simulates a crash.
var errCrashed = errors.New("notifier crashed (test hook)")

// Run runs one send loop per destination until ctx ends, then drains for DrainTimeout; it
// returns when every loop has stopped.
func (n *Notifier) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	var crashed sync.Once
	var crash error
	for _, name := range n.names {
		l := n.loops[name]
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.run(ctx); errors.Is(err, errCrashed) {
				crashed.Do(func() { crash = err })
				cancel(err)
			}
		}()
	}
	wg.Wait()
	return crash
}

// lockDir takes the notifier's folder for this process: two notifiers over one outbox would
// both send everything.
func lockDir(dir string) (func(), error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("open the notifier's folder: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock the notifier's folder: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s is in use by another notifier (another 'trailsql' sending this lake's notifications): stop it first", dir)
	}
	return func() { f.Close() }, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (l *loop) run(ctx context.Context) error {
	err := l.cycle(ctx, false)
	if err != nil || context.Cause(ctx) == errCrashed {
		return err
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.n.opts.DrainTimeout)
	defer cancel()
	return l.cycle(dctx, true)
}

// cycle sends what is ready until ctx ends (drain: until nothing is left, without waiting for
// groups).
func (l *loop) cycle(ctx context.Context, drain bool) error {
	for ctx.Err() == nil {
		sends, next, err := l.prepare(l.n.opts.Now().UTC(), drain)
		if err != nil {
			l.n.log.Error("prepare the sends", "destination", l.name, "err", err)
		}
		if len(sends) > 0 {
			if err := l.deliver(ctx, sends); errors.Is(err, errCrashed) {
				return err
			} else if err != nil {
				// The outbox could not be written (a full disk): say so, and try again later.
				l.n.log.Error("record a delivery in the outbox", "destination", l.name, "err", err)
				if l.n.opts.sleep(ctx, l.n.opts.MaxBackoff) != nil {
					break
				}
			}
			l.n.signal()
			continue
		}
		if drain {
			return nil
		}
		l.n.signal()
		var timer <-chan time.Time
		var t *time.Timer
		if !next.IsZero() {
			t = time.NewTimer(max(next.Sub(l.n.opts.Now()), time.Millisecond))
			timer = t.C
		}
		select {
		case <-ctx.Done():
		case <-l.wake:
		case <-timer:
		}
		if t != nil {
			t.Stop()
		}
	}
	return nil
}

// prepare takes up to MaxBatch sends: those in flight (recovered after a crash) first, then new
// ones made of the pending items that are ready, recorded as attempts. It also returns when the
// next group will be ready (zero: none waits).
func (l *loop) prepare(now time.Time, drain bool) ([]*send, time.Time, error) {
	if err := l.box.reload(); err != nil {
		return nil, time.Time{}, err
	}
	if err := l.box.maybeCompact(now); err != nil {
		return nil, time.Time{}, err
	}
	silences, silErr := l.n.silences.active(now)
	o := l.box
	o.mu.Lock()
	defer o.mu.Unlock()
	max := l.n.opts.MaxBatch
	var sends []*send
	sends = append(sends, o.inflight[:min(len(o.inflight), max)]...)
	if len(sends) >= max {
		return sends, time.Time{}, silErr
	}
	var recs []record
	var fresh []*send
	taken := map[*item]bool{} // items sent, silenced or held back as repeats
	type group struct {
		key   string
		items []*item
	}
	var groups []*group
	byKey := map[string]*group{}
	for _, it := range o.pending {
		if len(sends)+len(fresh) >= max {
			break // the batch is full: the rest waits, in order
		}
		r := l.n.byName[it.route]
		if r == nil {
			r = &Route{Name: it.route}
		}
		if sil := silencedBy(silences, it.msg.Labels); sil != nil {
			recs = append(recs, record{Op: "silenced", ID: it.msg.ID, At: now, Route: it.route, Error: "silence " + sil.ID})
			l.stats.Silenced++
			taken[it] = true
			continue
		}
		rk := repeatKey(it.route, &it.msg)
		if last, ok := o.lastSent[rk]; ok && r.RepeatInterval > 0 && now.Sub(last) < r.RepeatInterval {
			recs = append(recs, record{Op: "repeat", ID: it.msg.ID, At: now, Route: it.route, Error: "sent at " + last.Format(time.RFC3339)})
			l.stats.Repeats++
			taken[it] = true
			continue
		}
		if len(r.GroupBy) == 0 {
			fresh = append(fresh, &send{msg: it.msg, members: []string{it.msg.ID}, keys: []string{rk}, route: it.route})
			taken[it] = true
			continue
		}
		key := groupKey(r, &it.msg)
		g := byKey[key]
		if g == nil {
			g = &group{key: key}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.items = append(g.items, it)
	}
	var next time.Time
	for _, g := range groups {
		r := l.n.byName[g.items[0].route]
		ready := g.items[0].queued.Add(r.GroupWait)
		if last, ok := l.flush[g.key]; ok {
			ready = last.Add(r.GroupInterval)
		}
		if !drain && now.Before(ready) || len(sends)+len(fresh) >= max {
			if next.IsZero() || ready.Before(next) {
				next = ready
			}
			continue
		}
		l.flush[g.key] = now
		fresh = append(fresh, groupSend(r, g.key, g.items))
		for _, it := range g.items {
			taken[it] = true
		}
	}
	for _, s := range fresh {
		m := s.msg
		recs = append(recs, record{Op: "attempt", ID: m.ID, At: now, Route: s.route, Msg: &m, Members: s.members, Keys: s.keys})
	}
	if len(recs) > 0 {
		if err := o.append(recs...); err != nil {
			return sends, next, err
		}
	}
	if len(taken) > 0 {
		o.pending = slices.DeleteFunc(o.pending, func(it *item) bool { return taken[it] })
	}
	o.inflight = append(o.inflight, fresh...)
	return append(sends, fresh...), next, silErr
}

func silencedBy(silences []Silence, labels map[string]string) *Silence {
	for i := range silences {
		if silences[i].Matches(labels) {
			return &silences[i]
		}
	}
	return nil
}

// groupKey is the route and the values of its group_by labels.
func groupKey(r *Route, m *Message) string {
	var b strings.Builder
	b.WriteString(r.Name)
	for _, l := range r.GroupBy {
		b.WriteString("\x00" + l + "=" + m.Labels[l])
	}
	return b.String()
}

// groupSend is the one message of a group's items: the item itself when alone.
func groupSend(r *Route, key string, items []*item) *send {
	s := &send{route: r.Name}
	for _, it := range items {
		s.members = append(s.members, it.msg.ID)
		s.keys = append(s.keys, repeatKey(r.Name, &it.msg))
	}
	if len(items) == 1 {
		s.msg = items[0].msg
		return s
	}
	first := items[0].msg
	m := Message{Rule: first.Rule, Account: first.Account, Severity: first.Severity, Labels: map[string]string{}, Time: first.Time, Link: first.Link}
	for _, l := range r.GroupBy {
		m.Labels[l] = first.Labels[l]
	}
	ids := slices.Clone(s.members)
	slices.Sort(ids)
	m.ID = "grp_" + hash(ids...)
	m.DedupKey = "group:" + key
	titles := map[string]bool{}
	rulesOf := map[string]bool{}
	var lines []string
	for _, it := range items {
		x := it.msg
		rulesOf[x.Rule] = true
		if x.Rule != m.Rule {
			m.Rule = ""
		}
		if x.Account != m.Account {
			m.Account = ""
		}
		if severityRank(x.Severity) > severityRank(m.Severity) {
			m.Severity = x.Severity
		}
		titles[x.Title] = true
		m.EventIDs = append(m.EventIDs, x.EventIDs...)
		if len(lines) < 20 {
			line := x.Title
			if x.Summary != "" {
				line += ": " + x.Summary
			}
			lines = append(lines, "• "+line)
		}
	}
	switch {
	case len(titles) == 1:
		m.Title = fmt.Sprintf("%d alerts: %s", len(items), first.Title)
	case m.Rule != "":
		m.Title = fmt.Sprintf("%d alerts: %s", len(items), m.Rule)
	default:
		m.Title = fmt.Sprintf("%d alerts of %d rules", len(items), len(rulesOf))
	}
	if len(items) > len(lines) {
		lines = append(lines, fmt.Sprintf("… and %d more", len(items)-len(lines)))
	}
	m.Summary = strings.Join(lines, "\n")
	for _, l := range r.GroupBy {
		m.Fields = append(m.Fields, Field{Name: l, Value: first.Labels[l]})
	}
	m.Fields = append(m.Fields, Field{Name: "Alerts", Value: fmt.Sprint(len(items))})
	s.msg = m
	return s
}

// deliver sends until every send is delivered or refused, backing off between retries as the
// receiver asks; it returns (leaving the rest in flight, in the outbox) when ctx ends. A
// destination that is not Idempotent is sent one message at a time, each recorded before the
// next (a crash repeats at most the one in flight).
func (l *loop) deliver(ctx context.Context, sends []*send) error {
	if isIdempotent(l.dest) {
		return l.deliverBatch(ctx, sends)
	}
	for i := range sends {
		if err := l.deliverBatch(ctx, sends[i:i+1]); err != nil || ctx.Err() != nil {
			return err
		}
	}
	return nil
}

// deliverBatch sends a batch (see deliver).
func (l *loop) deliverBatch(ctx context.Context, sends []*send) error {
	attempt := 0
	for len(sends) > 0 {
		msgs := make([]Message, len(sends))
		for i, s := range sends {
			msgs[i] = s.msg
		}
		sctx, cancel := context.WithTimeout(ctx, l.n.opts.SendTimeout)
		err := l.dest.Send(sctx, msgs)
		cancel()
		l.box.mu.Lock()
		l.stats.Sends++
		l.box.mu.Unlock()
		if hook := l.n.opts.afterSend; hook != nil {
			if herr := hook(l.name, msgs, err); herr != nil {
				return errCrashed
			}
		}
		n := delivered(err, len(sends))
		if err := l.finish("delivered", sends[:n], ""); err != nil {
			return err
		}
		sends = sends[n:]
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
		retry, after := Retryable(err)
		if !retry {
			l.n.log.Error("a message was refused for good", "destination", l.name, "message", sends[0].msg.ID, "title", sends[0].msg.Title, "err", err)
			if err := l.finish("failed", sends[:1], err.Error()); err != nil {
				return err
			}
			sends = sends[1:]
			attempt = 0
			continue
		}
		attempt++
		wait := l.n.opts.MinBackoff << min(attempt-1, 30)
		if wait > l.n.opts.MaxBackoff || wait <= 0 {
			wait = l.n.opts.MaxBackoff
		}
		if after > wait {
			wait = min(after, l.n.opts.MaxRetryAfter)
		}
		if err := l.recordRetry(sends, err); err != nil {
			return err
		}
		l.n.log.Warn("send failed, will retry", "destination", l.name, "messages", len(sends), "attempt", attempt, "wait", wait, "err", err)
		l.n.signal()
		if l.n.opts.sleep(ctx, wait) != nil {
			return nil
		}
	}
	return nil
}

// finish records sends as delivered or failed and takes them out of flight.
func (l *loop) finish(op string, sends []*send, errText string) error {
	if len(sends) == 0 {
		return nil
	}
	now := l.n.opts.Now().UTC()
	refs := make([]string, len(sends))
	if r, ok := l.dest.(referencer); ok && op == "delivered" {
		for i, s := range sends {
			refs[i] = r.Reference(&s.msg) // before o.mu: Jira's reads its tickets, in o
		}
	}
	o := l.box
	o.mu.Lock()
	defer o.mu.Unlock()
	var recs []record
	done := map[*send]bool{}
	for i, s := range sends {
		recs = append(recs, record{Op: op, ID: s.msg.ID, At: now, Route: s.route, Msg: &Message{ID: s.msg.ID, Title: s.msg.Title, Rule: s.msg.Rule}, Members: s.members, Keys: s.keys, Error: errText, Ref: refs[i]})
		done[s] = true
		if op == "delivered" {
			for _, k := range s.keys {
				o.lastSent[k] = now
			}
			l.stats.Delivered += len(s.members)
		} else {
			l.stats.Failed += len(s.members)
		}
	}
	if err := o.append(recs...); err != nil {
		return err
	}
	o.inflight = slices.DeleteFunc(o.inflight, func(s *send) bool { return done[s] })
	return nil
}

// recordRetry records that a send of sends failed with err and will be retried (the record of
// failed attempts 'trailsql notify status' shows), and counts it.
func (l *loop) recordRetry(sends []*send, err error) error {
	now := l.n.opts.Now().UTC()
	o := l.box
	o.mu.Lock()
	defer o.mu.Unlock()
	l.stats.Retries++
	return o.append(record{Op: "retry", ID: sends[0].msg.ID, At: now, Error: err.Error()})
}
