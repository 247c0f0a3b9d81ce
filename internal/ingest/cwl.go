package ingest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/cespare/xxhash/v2"

	"github.com/trailsql/trailsql/internal/cwlsrc"
	"github.com/trailsql/trailsql/internal/lake"
)

// DefaultCWLLateness is CWLOptions.Lateness when not set.
const DefaultCWLLateness = 15 * time.Minute

// CWLOptions select what CWLLister reads.
type CWLOptions struct {
	// API is the CloudWatch Logs client of Region, the log group's region.
	API    cwlsrc.API
	Region string
	Group  string
	// From and To bound the event times of streams not read before (default: all the group
	// holds); a stream read before goes on from its cursor, up to To.
	From, To time.Time
	// Lake is the lake whose ledger holds the streams' cursors.
	Lake string
	// Lateness is how far before a stream's cursor each read starts again, for events that
	// arrive late (CloudTrail delivers within about 5 minutes, without a promise); default 15
	// minutes. Events read before are recognised by their ingestion time, not handed on again.
	Lateness time.Duration
	Logger   *slog.Logger
}

// The cursor of a log stream. FilterLogEvents selects events by their timestamp with startTime
// included, and many CloudTrail events share one (eventTime has whole seconds): a cursor is the
// last timestamp read, T, with the event IDs read at T, so that a read from T skips exactly those.
// A read starts Lateness before T, and an event older than T is new when its ingestion time is
// after I, the latest ingestion time of the last read that reached the stream's end: it arrived
// after that read. (GetLogEvents, with 5 times the quota, gives no event IDs.)
//
// One read never returns an event twice, so its pages are judged by the cursor it started from.
// Only its last page raises I: the cursor of a page in the middle keeps the one the read started
// from, so that a run resuming there hands on again, rather than skips, the late events of the
// pages it lost (the lake recognises those it holds). Pages are yielded one behind, so that the
// last is known when it is yielded.
//
// Each page of events is one Object whose Source records the cursor after it (ETag) and the
// cursor before it (in its Name), and is committed with the page's rows: the pipeline takes
// objects out of order, so a run that stops may have committed a page and not the one before.
// The next run follows the chain of cursors from the stream's start and reads again from where
// it breaks; what was stored beyond is recognised as present.
//
// A stream that received nothing since a read that reached its end (lastIngestionTime, from
// DescribeLogStreams, not after I) is not asked again: a re-run costs one request per 50 streams.
type cwlCursor struct {
	T, I int64    // epoch milliseconds
	IDs  []uint64 // xxhash of the event IDs at T, sorted
	// End: the read reached the stream's end (not a --to), so events ingested at I are all read.
	End bool
}

// cwlStart is the cursor before a stream's first page.
const cwlStart = "start"

func (c cwlCursor) encode() string {
	var b strings.Builder
	end := 0
	if c.End {
		end = 1
	}
	fmt.Fprintf(&b, "cwl1 t=%d i=%d end=%d ids=", c.T, c.I, end)
	for i, id := range c.IDs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatUint(id, 16))
	}
	return b.String()
}

func (c cwlCursor) digest() string {
	return strconv.FormatUint(xxhash.Sum64String(c.encode()), 16)
}

func parseCursor(s string) (cwlCursor, error) {
	var c cwlCursor
	f := strings.Fields(s)
	if len(f) != 5 || f[0] != "cwl1" {
		return c, fmt.Errorf("%q is not a CloudWatch Logs cursor", s)
	}
	var err error
	t, ok1 := strings.CutPrefix(f[1], "t=")
	i, ok2 := strings.CutPrefix(f[2], "i=")
	end, ok4 := strings.CutPrefix(f[3], "end=")
	ids, ok3 := strings.CutPrefix(f[4], "ids=")
	c.End = end == "1"
	if !ok1 || !ok2 || !ok3 || !ok4 || end != "0" && end != "1" {
		return c, fmt.Errorf("%q is not a CloudWatch Logs cursor", s)
	}
	if c.T, err = strconv.ParseInt(t, 10, 64); err != nil {
		return c, fmt.Errorf("cursor %q: t: %w", s, err)
	}
	if c.I, err = strconv.ParseInt(i, 10, 64); err != nil {
		return c, fmt.Errorf("cursor %q: i: %w", s, err)
	}
	if ids != "" {
		for _, h := range strings.Split(ids, ",") {
			v, err := strconv.ParseUint(h, 16, 64)
			if err != nil {
				return c, fmt.Errorf("cursor %q: ids: %w", s, err)
			}
			c.IDs = append(c.IDs, v)
		}
	}
	return c, nil
}

// seen reports whether a read up to c handed on the event already.
func (c cwlCursor) seen(ts, ingested int64, id uint64) bool {
	switch {
	case ts > c.T:
		return false
	case ts == c.T:
		_, found := slices.BinarySearch(c.IDs, id)
		return found
	}
	return ingested <= c.I
}

// advance returns the cursor after a new event (its position; I is the read's, see cwlRead).
func (c cwlCursor) advance(ts int64, id uint64) cwlCursor {
	switch {
	case ts > c.T:
		c.T, c.IDs = ts, []uint64{id}
	case ts == c.T:
		if i, found := slices.BinarySearch(c.IDs, id); !found {
			c.IDs = slices.Insert(slices.Clone(c.IDs), i, id)
		}
	}
	return c
}

// cwlStream is what a lister knows of a stream: its cursor, and the digest of the cursor the
// next page follows.
type cwlStream struct {
	cur  cwlCursor
	prev string
}

// cwlPrefix is the start of the ledger names of a group's pages: cwl://REGION/GROUP:STREAM@PREV,
// PREV the digest of the cursor the page follows. Names are unique per page, as the pipeline
// wants; neither a group nor a stream name may hold a colon.
func cwlPrefix(region, group string) string { return cwlsrc.Scheme + region + "/" + group + ":" }

// cwlCursors rebuilds each stream's cursor from the ledger: the end of the chain of pages from
// the stream's start (see cwlCursor).
func cwlCursors(root, prefix string, log *slog.Logger) (map[string]*cwlStream, error) {
	sources, err := lake.ReadSources(root, prefix)
	if err != nil {
		return nil, fmt.Errorf("read the CloudWatch Logs cursors of lake %s: %w", root, err)
	}
	next := map[string]map[string]cwlCursor{} // stream -> previous cursor's digest -> cursor
	for _, s := range sources {
		rest := strings.TrimPrefix(s.Name, prefix)
		at := strings.LastIndexByte(rest, '@')
		c, err := parseCursor(s.ETag)
		if at < 0 || err != nil {
			log.Warn("a ledger entry of the log group is not a page trailsql wrote: ignored", "source", s.Name, "err", err)
			continue
		}
		stream, prev := rest[:at], rest[at+1:]
		m := next[stream]
		if m == nil {
			m = map[string]cwlCursor{}
			next[stream] = m
		}
		// Two pages after one cursor: a run read again after an interruption; the one that got
		// further wins.
		if o, ok := m[prev]; !ok || c.T > o.T || c.T == o.T && c.I > o.I {
			m[prev] = c
		}
	}
	out := map[string]*cwlStream{}
	for stream, m := range next {
		d, seen := cwlStart, map[string]bool{}
		var st *cwlStream
		for !seen[d] {
			seen[d] = true
			c, ok := m[d]
			if !ok {
				break
			}
			st = &cwlStream{cur: c, prev: c.digest()}
			d = st.prev
		}
		if st != nil {
			out[stream] = st
		}
	}
	return out, nil
}

// CWLLister lists the events of a CloudWatch Logs log group a trail delivers to, one object per
// page of a stream's events: each log event's message is one CloudTrail record, which the lake
// knows by its content, as the same record from an S3 log file. Each stream is read from its
// cursor (see cwlCursor), which the ledger keeps with the rows; a stream that received nothing
// since (its lastIngestionTime) is not asked. Streams whose reads start within cwlBatchSpan of
// each other share FilterLogEvents scans (up to 100 streams a request), so that an organization
// trail's thousands of streams cost a few requests a pass, not one each. A scan that fails is
// reported and the other streams are read; a log group that does not exist fails the listing.
func CWLLister(opt CWLOptions) Lister {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Lateness <= 0 {
		opt.Lateness = DefaultCWLLateness
	}
	log := opt.Logger.With("component", "cwl", "group", opt.Group)
	prefix := cwlPrefix(opt.Region, opt.Group)
	var streams map[string]*cwlStream
	return func(ctx context.Context, yield func(Object) error) error {
		if streams == nil {
			var err error
			if streams, err = cwlCursors(opt.Lake, prefix, log); err != nil {
				return err
			}
		}
		var list []cwlsrc.LogStream
		if err := cwlsrc.Streams(ctx, opt.API, opt.Group, func(s cwlsrc.LogStream) error {
			list = append(list, s)
			return nil
		}); err != nil {
			return err
		}
		var reads []*cwlRead
		for _, ls := range list {
			name := aws.ToString(ls.LogStreamName)
			st := streams[name]
			if st != nil && st.cur.End && ls.LastIngestionTime != nil && *ls.LastIngestionTime <= st.cur.I {
				continue // nothing arrived since the last read
			}
			if !opt.To.IsZero() && ls.FirstEventTimestamp != nil && *ls.FirstEventTimestamp > opt.To.UnixMilli() {
				continue
			}
			if st == nil {
				st = &cwlStream{cur: cwlCursor{T: -1 << 62}, prev: cwlStart}
				streams[name] = st
			}
			rd := &cwlRead{name: name, ledgerName: prefix + name, toEnd: opt.To.IsZero(), yield: yield}
			switch {
			case st.prev != cwlStart:
				rd.from = st.cur.T - opt.Lateness.Milliseconds()
			case !opt.From.IsZero():
				rd.from = opt.From.UnixMilli()
			}
			rd.st, rd.base, rd.cur, rd.maxI = st, st.cur, st.cur, st.cur.I
			rd.cur.End = false
			reads = append(reads, rd)
		}
		// Streams whose reads start close together are read by one FilterLogEvents scan.
		slices.SortStableFunc(reads, func(a, b *cwlRead) int { return cmp.Compare(a.from, b.from) })
		var errs []error
		for len(reads) > 0 {
			n := 1
			for n < len(reads) && n < cwlsrc.MaxStreams && reads[n].from-reads[0].from <= cwlBatchSpan.Milliseconds() {
				n++
			}
			batch := reads[:n]
			reads = reads[n:]
			if err := cwlBatch(ctx, opt, batch); err != nil {
				if ctx.Err() != nil {
					return err
				}
				errs = append(errs, err) // the other streams are still read
			}
		}
		return errors.Join(errs...)
	}
}

// cwlBatchSpan is how far apart the starts of the streams read by one scan may be: a stream
// whose read starts later sees again (and skips) the events before its start.
const cwlBatchSpan = time.Hour

// cwlBatch reads streams with one FilterLogEvents scan from the earliest start, each page's
// events handed to their stream's read; what was read before a failure is kept.
func cwlBatch(ctx context.Context, opt CWLOptions, batch []*cwlRead) error {
	names := make([]string, len(batch))
	byName := make(map[string]*cwlRead, len(batch))
	for i, rd := range batch {
		names[i] = rd.name
		byName[rd.name] = rd
	}
	r := cwlsrc.Range{Start: max(batch[0].from, 0)}
	if !opt.To.IsZero() {
		r.End = opt.To.UnixMilli()
	}
	err := cwlsrc.Events(ctx, opt.API, opt.Group, names, r, func(evs []cwlsrc.FilteredLogEvent, last bool) error {
		by := map[string][]cwlsrc.FilteredLogEvent{}
		for _, ev := range evs {
			s := aws.ToString(ev.LogStreamName)
			if byName[s] != nil {
				by[s] = append(by[s], ev)
			}
		}
		for _, rd := range batch {
			if err := rd.page(by[rd.name], last); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && ctx.Err() != nil {
		return err // an interrupted run stores nothing more
	}
	for _, rd := range batch {
		if ferr := rd.flush(false); err == nil {
			err = ferr
		}
	}
	return err
}

// cwlRead is one read of a stream, from the cursor it started at (base).
type cwlRead struct {
	name       string // the stream's name
	ledgerName string // its ledger name, without the page's @PREV
	from       int64  // the read's start: earlier events of a batch's scan are not the stream's
	st         *cwlStream
	base, cur  cwlCursor // cur: the position after the events taken so far
	maxI       int64     // the latest ingestion time of the events taken, and base.I
	toEnd      bool      // the range has no end: the last page is the stream's end
	pending    *bytes.Buffer
	pendingN   int
	pendingCur cwlCursor
	yield      func(Object) error
}

// page takes the events of a page that the read's start has not seen: the page becomes the
// pending one, and the one before is yielded; each message that is not JSON is yielded as an
// object that fails. last marks the read's last page.
func (rd *cwlRead) page(evs []cwlsrc.FilteredLogEvent, last bool) error {
	var b bytes.Buffer
	b.WriteString(`{"Records":[`)
	n, taken := 0, false
	for _, ev := range evs {
		ts, ing := aws.ToInt64(ev.Timestamp), aws.ToInt64(ev.IngestionTime)
		id := xxhash.Sum64String(aws.ToString(ev.EventID))
		if ts < rd.from || rd.base.seen(ts, ing, id) {
			continue
		}
		taken = true
		rd.cur, rd.maxI = rd.cur.advance(ts, id), max(rd.maxI, ing)
		msg := aws.ToString(ev.Message)
		if !json.Valid([]byte(msg)) {
			if err := rd.yield(brokenLogEvent(rd.ledgerName, ev)); err != nil {
				return err
			}
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
		b.WriteString(msg)
		n++
	}
	if taken {
		if err := rd.flush(false); err != nil {
			return err
		}
		b.WriteString("\n]}")
		rd.pending, rd.pendingN, rd.pendingCur = &b, n, rd.cur
	}
	if last {
		return rd.flush(true)
	}
	return nil
}

// flush yields the pending page, if any, with the cursor after it; end marks the read's last
// page, whose cursor takes the read's latest ingestion time (and End, when the read went to the
// stream's end).
func (rd *cwlRead) flush(end bool) error {
	if rd.pending == nil {
		return nil
	}
	c := rd.pendingCur
	if end {
		c.I, c.End = rd.maxI, rd.toEnd
	}
	data := rd.pending.Bytes()
	o := Object{
		Source: lake.Source{Name: rd.ledgerName + "@" + rd.st.prev, Size: int64(len(data)), ETag: c.encode(), Events: rd.pendingN},
		Key:    "cloudwatch-logs.json",
		Open:   func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
	}
	rd.pending = nil
	if err := rd.yield(o); err != nil {
		return err
	}
	rd.st.cur, rd.st.prev = c, c.digest()
	return nil
}

func brokenLogEvent(name string, ev cwlsrc.FilteredLogEvent) Object {
	err := fmt.Errorf("log event %s (timestamp %s) is not JSON: not a CloudTrail record", aws.ToString(ev.EventID), time.UnixMilli(aws.ToInt64(ev.Timestamp)).UTC().Format(time.RFC3339))
	return Object{
		Source:  lake.Source{Name: name},
		FromAPI: true, // not recorded: the page after it carries the cursor past it
		Open:    func(context.Context) (io.ReadCloser, error) { return nil, err },
	}
}

// CWLSource are CloudWatch Logs log groups of one region to read, and how to reach them: what
// trailsql ingest cwl:// and the cloudwatch_logs sources of trailsql run both open.
type CWLSource struct {
	Groups []string
	// Client are the CloudWatch Logs client's options (profile, region, endpoint, logger).
	Client cwlsrc.ClientOptions
	// From, To, Lake and Lateness are those of CWLOptions.
	From, To time.Time
	Lake     string
	Lateness time.Duration
}

// OpenCWL makes one client for the groups (the quota is the account's in the region) and
// returns a lister per group (CWLLister). A negative Lateness is an error.
func OpenCWL(ctx context.Context, src CWLSource) ([]Lister, error) {
	if src.Lateness < 0 {
		return nil, fmt.Errorf("lateness %s must be positive", src.Lateness)
	}
	c, err := cwlsrc.NewClient(ctx, src.Client)
	if err != nil {
		return nil, err
	}
	ls := make([]Lister, 0, len(src.Groups))
	for _, g := range src.Groups {
		ls = append(ls, CWLLister(CWLOptions{API: c.API, Region: c.Region, Group: g, From: src.From, To: src.To, Lake: src.Lake,
			Lateness: src.Lateness, Logger: src.Client.Logger}))
	}
	return ls, nil
}
