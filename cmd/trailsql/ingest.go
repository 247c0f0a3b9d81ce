package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/trailsql/trailsql/internal/cwlsrc"
	"github.com/trailsql/trailsql/internal/daemon"
	"github.com/trailsql/trailsql/internal/ingest"
	"github.com/trailsql/trailsql/internal/lookup"
	"github.com/trailsql/trailsql/internal/s3src"
	"github.com/trailsql/trailsql/internal/sqs"
	"github.com/trailsql/trailsql/internal/window"
)

// ingestFlags are the options of trailsql ingest.
type ingestFlags struct {
	workers      int
	fetches      int
	commitRows   int64
	showAll      bool
	profile      string
	region       string
	endpointURL  string
	from, to     string
	accounts     []string
	regions      []string
	watch        bool
	interval     time.Duration
	lookupEvents bool
	noDetect     bool
	s3Endpoint   string
	visibility   time.Duration
	cwlLateness  time.Duration
	rules        ruleFlags
}

func (m *Main) ingestCommand() *cobra.Command {
	var f ingestFlags
	cmd := &cobra.Command{
		Use:   "ingest [--lake DIR] PATH|-|s3://BUCKET[/PREFIX]|cwl://LOG_GROUP... | sqs://QUEUE_URL | --lookup-events",
		Short: "Read CloudTrail logs from files, folders, S3 trails, CloudWatch Logs, S3 notifications in SQS or the LookupEvents API into the lake",
		Long: `Read CloudTrail logs into the lake. PATH is a file or a folder (read recursively). Understood:
  - CloudTrail log files {"Records":[…]} (.json or .json.gz, pretty or one line, any size), also in
    the S3 trail layout AWSLogs/[o-xxxx/]<account>/CloudTrail/<region>/YYYY/MM/DD/…: the account
    comes from the path; digest files are skipped;
  - JSON arrays of events, JSON lines (one event per line), single events;
  - 'aws cloudtrail lookup-events' output and the console's Event history downloads (JSON, and CSV
    with the "CloudTrail event" column).
Files already ingested (same path, size and time) are not read again, and an event identical to one
in the lake (equal as JSON, whatever the order of its keys) is stored once. A file named on the
command line that yields no events is an error.

- reads standard input (gzip or JSON, told by its content), named "standard input" in messages;
the same bytes piped again are recognised by their SHA-256 and not read again. Bad input is reported with its file, record and line, and the rest is
still ingested; the exit status is 1 when anything could not be ingested.

s3://BUCKET[/PREFIX] reads a trail straight from S3, with the standard AWS credentials (environment,
~/.aws files, --profile, SSO, instance and container roles). The layout is discovered with a few
LIST requests (organization, accounts, regions) and only the day folders between --from and --to
are listed, so a bucket with years of logs costs a handful of requests for a week. Objects already
ingested (same key, size and ETag) are not read again; an object that fails is reported, the
exit status is 1, and the next run reads it. --endpoint-url reaches an S3-compatible server.

cwl://LOG_GROUP reads the CloudWatch Logs log group a trail delivers to (in --region), every log
stream, with FilterLogEvents at 5 requests per second (the API's quota; throttled requests are
retried with backoff). Each stream's position is kept in the lake's ledger with the events it
led to: the next run reads only what arrived since, including events that arrive up to
--cwl-lateness (15 minutes) behind the newest read from their stream, and an event the lake holds
from S3 is recognised and kept once; an event later than that is missed, so widen it when a
stream's events are delivered out of order by more. --from and --to bound the streams not read
before.

sqs://QUEUE_URL reads an SQS queue of S3 event notifications (sent by S3 directly, through SNS,
or by EventBridge) for new trail objects: sqs://sqs.eu-west-1.amazonaws.com/111122223333/trail-queue
(https:// implied; sqs://http://… for a server without TLS). The objects named are read from S3 and
stored in one commit; only then are their messages deleted, so a run that is killed loses nothing
(the messages come back after their visibility timeout, renewed while the run holds them, and
objects already stored are recognised). A message that is not a notification, or names an object
that cannot be read or holds no CloudTrail events, is reported with its message id and left in the
queue for its redrive policy; the others go on. Without --watch the queue is drained, then the run
ends; --endpoint-url reaches a compatible SQS server, --s3-endpoint-url an S3-compatible one.

--lookup-events reads the CloudTrail LookupEvents API instead (Event history: the management
events of the last 90 days), in every region or --regions, at 2 requests per second per region
(the API's quota). An event the lake already holds from an S3 log file is recognised, and kept once.

--watch goes on collecting new objects (or events) every --interval until interrupted; Ctrl-C or
SIGTERM stops it after committing what was read whole.`,
		Example: `  trailsql ingest ~/Downloads/AWSLogs
  trailsql ingest --lake ./lake trail/*.json.gz lookup-events.json
  aws s3 cp s3://my-trail-bucket/AWSLogs/…/file.json.gz - | trailsql ingest -
  trailsql ingest s3://my-trail-bucket --from 7d
  trailsql ingest s3://org-trail/prefix --accounts 111122223333 --regions us-east-1,eu-west-1 --from 2024-03-01 --to 2024-03-31
  trailsql ingest s3://my-trail-bucket --watch --interval 5m
  trailsql ingest s3://logs --endpoint-url http://localhost:9000
  trailsql ingest --lookup-events --regions us-east-1 --from 24h
  trailsql ingest cwl://aws-cloudtrail-logs-111122223333 --region eu-west-1 --watch --interval 1m
  trailsql ingest sqs://sqs.eu-west-1.amazonaws.com/111122223333/trail-notifications --watch`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return m.ingest(cmd, args, &f)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&f.workers, "workers", 0, "objects decoded in parallel (default: number of CPUs)")
	fl.IntVar(&f.fetches, "fetches", 0, "S3: objects fetched at a time, ahead of the decoders (default: 64 per CPU)")
	fl.BoolVar(&f.showAll, "all-problems", false, "list every problem, not only the first 20")
	fl.Int64Var(&f.commitRows, "commit-rows", 0, "commit after this many new events (default 1,000,000); smaller commits lose less work to an interruption")
	fl.StringVar(&f.profile, "profile", "", "AWS profile of the shared configuration files (default $AWS_PROFILE)")
	fl.StringVar(&f.region, "region", "", "region of the S3 bucket (default: asked of S3; with --endpoint-url, the configured region), of the cwl:// log group (default: the configured region), or of the sqs:// queue (default: from its URL)")
	fl.StringVar(&f.endpointURL, "endpoint-url", "", "S3 (or CloudTrail with --lookup-events, CloudWatch Logs with cwl://, SQS with sqs://) endpoint of a compatible server, e.g. http://localhost:9000")
	fl.StringVar(&f.from, "from", "", "oldest day or time to read: 2024-03-01, an RFC 3339 time, or an age such as 7d or 12h")
	fl.StringVar(&f.to, "to", "", "newest day or time to read (a day includes all of it; default: now)")
	fl.StringSliceVar(&f.accounts, "accounts", nil, "S3 trails: read only these account ids")
	fl.StringSliceVar(&f.regions, "regions", nil, "read only these regions (S3 trails and --lookup-events)")
	fl.BoolVar(&f.watch, "watch", false, "keep collecting new objects every --interval until interrupted")
	fl.DurationVar(&f.interval, "interval", 5*time.Minute, "time between two passes of --watch")
	fl.BoolVar(&f.lookupEvents, "lookup-events", false, "read the CloudTrail LookupEvents API (the last 90 days of management events)")
	fl.StringVar(&f.s3Endpoint, "s3-endpoint-url", "", "sqs://: S3 endpoint of a compatible server holding the objects the notifications name")
	fl.DurationVar(&f.visibility, "visibility-timeout", 2*time.Minute, "sqs://: how long a received message stays hidden; renewed every third of it while its objects are read")
	fl.DurationVar(&f.cwlLateness, "cwl-lateness", ingest.DefaultCWLLateness, "cwl://: how far behind a stream's newest event read an event may arrive and still be collected (each read starts that much earlier)")
	fl.BoolVar(&f.noDetect, "no-detect", false, "do not run the detection rules on the new events (they run on the next ingest that detects)")
	f.rules.register(cmd, false)
	return cmd
}

// tuneGCForIngest sets the garbage collector for an ingest, unless the user chose otherwise: it
// allocates many short-lived records, so collect less often (GOGC 300), with the heap, and so
// RSS, bounded by a soft limit instead (768 MiB). Measured on the 1M-event benchmark: 9.4 s →
// 8.8 s wall, peak RSS 749 → 774 MiB. Queries are DuckDB's memory, not Go's: they keep Go's
// defaults.
func (m *Main) tuneGCForIngest() {
	if m.Getenv("GOGC") == "" {
		debug.SetGCPercent(300)
	}
	if m.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(768 << 20)
	}
}

func (m *Main) ingest(cmd *cobra.Command, args []string, f *ingestFlags) error {
	ctx := cmd.Context()
	m.tuneGCForIngest()
	dir, err := m.lakeDir(cmd)
	if err != nil {
		return err
	}
	now := window.Now(m.now())
	from, to := time.Time{}, time.Time{}
	if f.from != "" {
		if from, err = window.ParseTime("from", f.from, now, false); err != nil {
			return windowError(err)
		}
	}
	if f.to != "" {
		if to, err = window.ParseTime("to", f.to, now, true); err != nil {
			return windowError(err)
		}
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return fmt.Errorf("--to %s is before --from %s", f.to, f.from)
	}
	var paths, urls, groups, queues []string
	stdin := 0
	for _, a := range args {
		switch {
		case a == "-":
			stdin++
		case strings.HasPrefix(a, "sqs://"):
			queues = append(queues, a)
		case strings.HasPrefix(a, "s3://"):
			urls = append(urls, a)
		case strings.HasPrefix(a, cwlsrc.Scheme):
			g, err := cwlsrc.ParseURL(a)
			if err != nil {
				return err
			}
			groups = append(groups, g)
		default:
			paths = append(paths, a)
		}
	}
	switch {
	case f.lookupEvents && len(args) > 0:
		return errors.New("--lookup-events reads the API only: ingest files and S3 trails in another run")
	case !f.lookupEvents && len(args) == 0:
		return errors.New("give files, folders, s3:// or cwl:// URLs to ingest, or --lookup-events")
	case len(queues) > 0 && len(args) > 1:
		return errors.New("sqs:// is read alone: give one queue, and ingest other inputs in another run")
	case len(groups) == 0 && cmd.Flags().Changed("cwl-lateness"):
		return errors.New("--cwl-lateness goes with a cwl:// log group")
	case f.cwlLateness <= 0:
		return fmt.Errorf("--cwl-lateness %s: give a positive duration, such as 30m or 2h", f.cwlLateness)
	case len(queues) == 0 && (f.s3Endpoint != "" || cmd.Flags().Changed("visibility-timeout")):
		return errors.New("--s3-endpoint-url and --visibility-timeout go with an sqs:// queue (for s3:// use --endpoint-url)")
	case len(queues) > 0 && (len(f.accounts) > 0 || len(f.regions) > 0 || f.from != "" || f.to != ""):
		return errors.New("--from, --to, --accounts and --regions do not apply to sqs://: every object notified is read")
	case stdin > 1:
		return errors.New("- (standard input) is given more than once")
	case stdin > 0 && f.watch:
		return errors.New("--watch lists its sources again and again; standard input (-) can be read only once")
	case len(groups) > 0 && len(urls) == 0 && !f.lookupEvents && (len(f.accounts) > 0 || len(f.regions) > 0):
		return errors.New("--accounts and --regions select what to read from S3 trails or the API; a cwl:// log group is read whole, in --region")
	case len(urls) == 0 && len(groups) == 0 && !f.lookupEvents && (len(f.accounts) > 0 || len(f.regions) > 0 || f.from != "" || f.to != ""):
		return errors.New("--from, --to, --accounts and --regions select what to read from S3 trails or the API; local files are read whole")
	}
	opt := ingest.Options{Lake: dir, Logger: m.logger(cmd), Workers: f.workers, CommitRows: f.commitRows}
	if f.watch {
		if f.interval <= 0 {
			return errors.New("--interval must be positive")
		}
		opt.Watch = f.interval
	}
	var listers []ingest.Lister
	var s3stats *s3src.Counters
	if len(paths) > 0 {
		for _, p := range paths {
			if _, err := os.Stat(p); err != nil {
				return fmt.Errorf("read %s: %w", p, err)
			}
		}
		listers = append(listers, ingest.PathLister(paths))
	}
	if stdin > 0 {
		spool, err := ingest.SpoolInput(ctx, m.Stdin, "")
		if err != nil {
			return err
		}
		defer spool.Close()
		listers = append(listers, spool.Lister())
	}
	if len(urls) > 0 {
		s3stats = &s3src.Counters{}
		// GETs wait on the network (tens of milliseconds each from S3): many objects are fetched
		// at a time, ahead of one decoder per CPU.
		opt.Prefetch = f.fetches
		if opt.Prefetch <= 0 {
			opt.Prefetch = 64 * runtime.NumCPU()
		}
		for _, u := range urls {
			l, err := ingest.OpenS3(ctx, ingest.S3Source{URL: u, Stats: s3stats, Filter: s3src.Filter{From: from, To: to, Accounts: f.accounts, Regions: f.regions},
				Client: s3src.ClientOptions{Profile: f.profile, Region: f.region, EndpointURL: f.endpointURL, Connections: max(64, opt.Prefetch), Logger: opt.Logger}})
			if err != nil {
				return err
			}
			listers = append(listers, l)
		}
	}
	if len(groups) > 0 {
		ls, err := ingest.OpenCWL(ctx, ingest.CWLSource{Groups: groups, From: from, To: to, Lake: dir, Lateness: f.cwlLateness,
			Client: cwlsrc.ClientOptions{Profile: f.profile, Region: f.region, EndpointURL: f.endpointURL, Logger: opt.Logger}})
		if err != nil {
			return err
		}
		listers = append(listers, ls...)
	}
	if f.lookupEvents {
		clients, err := lookup.NewClients(ctx, lookup.ClientOptions{Profile: f.profile, EndpointURL: f.endpointURL})
		if err != nil {
			return err
		}
		if !from.IsZero() && from.Before(now.Add(-lookup.History)) {
			fmt.Fprintf(m.Stderr, "note: Event history keeps 90 days: nothing older than %s is returned\n", now.Add(-lookup.History).Format(time.DateOnly))
		}
		listers = append(listers, ingest.LookupLister(ingest.LookupOptions{Regions: f.regions, From: from, To: to, Client: clients, Logger: opt.Logger}))
	}

	var queue *ingest.SQSQueue
	var stderrMu sync.Mutex // poison messages are reported from the lister and the committer
	if len(queues) > 0 {
		if f.visibility < ingest.MinSQSVisibility {
			return errors.New("--visibility-timeout must be 3s or more: it is renewed every third of it")
		}
		s3stats = &s3src.Counters{}
		opt.Prefetch = f.fetches
		if opt.Prefetch <= 0 {
			opt.Prefetch = 64 * runtime.NumCPU()
		}
		if f.watch && !cmd.Flags().Changed("interval") {
			opt.Watch = time.Second // a pass long-polls the queue itself
		}
		queue, err = ingest.OpenSQS(ctx, ingest.SQSSource{Stats: s3stats, Watch: f.watch, Visibility: f.visibility, Logger: opt.Logger,
			Queue: sqs.Options{QueueURL: sqsQueueURL(queues[0]), EndpointURL: f.endpointURL, Region: f.region, Profile: f.profile},
			S3:    s3src.ClientOptions{Profile: f.profile, EndpointURL: f.s3Endpoint, Connections: max(64, opt.Prefetch), Logger: opt.Logger},
			Poison: func(p ingest.Poison) {
				stderrMu.Lock()
				defer stderrMu.Unlock()
				fmt.Fprintf(m.Stderr, "poison message %s (received %d times): %s; left in the queue for its redrive policy\n", p.MessageID, p.ReceiveCount, p.Reason)
			}})
		if err != nil {
			return err
		}
		defer queue.Close()
		opt.AfterCommit = ingest.AfterCommits([]*ingest.SQSQueue{queue})
		listers = append(listers, queue.Lister())
	}

	if !f.noDetect {
		loaded, err := f.rules.load(m.Stderr)
		if err != nil {
			return err
		}
		d := &ingestDetection{m: m, d: &daemon.Detection{Lake: dir, Rules: loaded.Rules, Logger: opt.Logger,
			Invalid: func(err error) { fmt.Fprintln(m.Stderr, "rule not evaluated: "+err.Error()) }}}
		defer d.close()
		opt.AfterPass, opt.AfterPassDue, opt.Observer = d.run, d.d.Due, d.d.Observer()
	}
	bar := m.progress(&opt, f.watch)
	st, err := ingest.RunObjects(ctx, opt, ingest.Chain(listers...))
	if bar != nil {
		bar.Finish()
	}
	interrupted := errors.Is(err, context.Canceled) && st != nil
	if err != nil && !interrupted {
		if st != nil {
			writeIngestSummary(m.Stdout, st, dir, f.showAll)
		}
		return err
	}
	writeIngestSummary(m.Stdout, st, dir, f.showAll)
	if s3stats != nil {
		fmt.Fprintf(m.Stdout, "s3: %d LIST and %d GET requests, %d reads resumed\n", s3stats.Lists.Load(), s3stats.Gets.Load(), s3stats.Resumes.Load())
	}
	var qs ingest.SQSStats
	if queue != nil {
		qs = queue.Stats()
		fmt.Fprintf(m.Stdout, "sqs: %d messages received, %d deleted after their commit, %d with nothing to ingest (deleted), %d left in the queue (poison), %d objects notified twice while in flight\n",
			qs.Received, qs.Deleted, qs.Ignored, qs.Poison, qs.Duplicates)
		if qs.DeleteFailed > 0 {
			fmt.Fprintf(m.Stdout, "sqs: %d messages could not be deleted: they come back, and their objects are recognised as stored\n", qs.DeleteFailed)
		}
	}
	switch {
	case interrupted && !f.watch:
		return &exitError{code: 130, err: errors.New("interrupted: what was read whole is committed; run the same command again to go on")}
	case qs.Poison > 0:
		return &exitError{code: 1, err: fmt.Errorf("%d messages could not be ingested and were left in the queue (see above); everything else was stored and its messages deleted", qs.Poison)}
	case st.Failed():
		return &exitError{code: 1, err: fmt.Errorf("some input could not be ingested (see the problems above); everything else was stored")}
	}
	return nil
}

// sqsQueueURL turns sqs://QUEUE_URL into the queue's URL: https:// unless given.
func sqsQueueURL(arg string) string {
	rest := strings.TrimPrefix(arg, "sqs://")
	if strings.HasPrefix(rest, "https://") || strings.HasPrefix(rest, "http://") {
		return rest
	}
	return "https://" + rest
}

// progress shows a progress bar on a terminal; elsewhere a watching run prints one line a pass.
func (m *Main) progress(opt *ingest.Options, watch bool) *progressbar.ProgressBar {
	if !m.IsTerminal {
		if watch {
			var prev ingest.Stats
			opt.PassDone = func(s ingest.Stats) {
				fmt.Fprintf(m.Stdout, "%s pass %d: %d objects read, %d events added, %d failed (total %d events added)\n",
					time.Now().UTC().Format(time.RFC3339), s.Passes, s.FilesRead-prev.FilesRead, s.EventsAdded-prev.EventsAdded, s.FilesFailed, s.EventsAdded)
				prev = s
			}
		}
		return nil
	}
	bar := progressbar.NewOptions64(-1, progressbar.OptionSetWriter(m.Stderr),
		progressbar.OptionSetDescription("ingesting"), progressbar.OptionShowCount(), progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("objects"), progressbar.OptionSpinnerType(14), progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish())
	var total int64
	opt.Progress = func(s ingest.Stats) {
		if q := int64(s.Queued); q > total {
			total = q
			bar.ChangeMax64(total)
		}
		bar.Describe(fmt.Sprintf("%d events (%d added), %.1f MB", s.EventsRead, s.EventsAdded, float64(s.Bytes)/1e6))
		bar.Set64(int64(s.FilesRead + s.FilesSkipped + s.FilesFailed))
	}
	if watch {
		opt.PassDone = func(s ingest.Stats) {
			bar.Describe(fmt.Sprintf("watching: %d events added in %d passes; next pass at %s", s.EventsAdded, s.Passes, time.Now().Add(opt.Watch).Format(time.TimeOnly)))
		}
	}
	return bar
}

func writeIngestSummary(w io.Writer, st *ingest.Stats, lake string, all bool) {
	secs := st.Elapsed.Seconds()
	fmt.Fprintf(w, "lake %s\n", lake)
	fmt.Fprintf(w, "files: %d read, %d unchanged since the last ingest, %d skipped, %d failed", st.FilesRead, st.FilesUnchanged, st.FilesSkipped, st.FilesFailed)
	if st.FilesRecovered > 0 {
		fmt.Fprintf(w, " (%d more failed once and were read on a later pass)", st.FilesRecovered)
	}
	fmt.Fprintln(w)
	if len(st.SkipReasons) > 0 {
		var rs []string
		for r, n := range st.SkipReasons {
			rs = append(rs, fmt.Sprintf("%d %s", n, r))
		}
		sort.Strings(rs)
		fmt.Fprintf(w, "  skipped: %s\n", strings.Join(rs, "; "))
	}
	fmt.Fprintf(w, "events: %d read, %d added, %d already present", st.EventsRead, st.EventsAdded, st.EventsPresent)
	if st.EventsNoTime > 0 {
		fmt.Fprintf(w, ", %d without a usable eventTime", st.EventsNoTime)
	}
	if st.RecordErrors > 0 {
		fmt.Fprintf(w, ", %d could not be stored", st.RecordErrors)
	}
	if st.Warnings > 0 {
		fmt.Fprintf(w, ", %d stored with a converted value", st.Warnings)
	}
	fmt.Fprintln(w)
	rate := 0.0
	if secs > 0 {
		rate = float64(st.EventsRead) / secs
	}
	fmt.Fprintf(w, "input: %.1f MB in %.2fs (%.0f events/s), %d commit(s)", float64(st.Bytes)/1e6, secs, rate, st.Commits)
	if st.Passes > 1 {
		fmt.Fprintf(w, ", %d passes", st.Passes)
	}
	if st.Interrupted {
		fmt.Fprint(w, ", interrupted")
	}
	fmt.Fprintln(w)
	if len(st.Problems) == 0 {
		return
	}
	// Errors before warnings: they are what made the exit status non-zero.
	probs := append([]ingest.Problem(nil), st.Problems...)
	sort.SliceStable(probs, func(i, j int) bool { return !probs[i].Warning && probs[j].Warning })
	limit := len(probs)
	if !all && limit > 20 {
		limit = 20
	}
	total := len(probs) + st.MoreProblems
	fmt.Fprintf(w, "problems (%d):\n", total)
	for _, p := range probs[:limit] {
		kind := "error"
		if p.Warning {
			kind = "warning"
		}
		fmt.Fprintf(w, "  %s: %s\n", kind, p)
	}
	if total > limit {
		fmt.Fprintf(w, "  … %d more (--all-problems lists them)\n", total-limit)
	}
}
