// Package generate writes deterministic, realistic CloudTrail trails in the S3 layout CloudTrail
// delivers (gzipped {"Records":[…]} log files and digest files), and records as it goes the ground
// truth a query over the trail must find (Truth). The demo, the benchmark and the end-to-end tests
// use it where no AWS account is at hand.
//
// The trail holds three kinds of identities in several accounts of an organization: named ones
// in Accounts[0] (users alice, bob, carol, ci-deploy and old-admin, idle for more than 30 days;
// roles Admin, ReadOnly, MonitoringRole, app-lambda-role, ec2-web-role; the root user), the same
// roles in every account, and a long tail of generated users and roles that grows with the trail.
// Each identity has habits (what it calls, from which IPs and clients, at which hours, how often
// it is throttled or denied), and a few scripted stories are written among the regular traffic: a
// privilege escalation by carol from a new IP (CreatePolicyVersion, AttachUserPolicy
// AdministratorAccess, CreateAccessKey and CreateLoginProfile for other users,
// UpdateAssumeRolePolicy, PassRole through CreateFunction and RunInstances), root console
// sign-ins and actions, failed sign-ins, and alice switching into Admin of the other accounts
// (logged in both accounts with one sharedEventID).
//
// Output depends only on Options: the same options give byte-identical files whatever the number
// of workers. Files are written concurrently, each from its own random stream seeded from
// (Seed, file index); identifiers that several files must agree on (session keys, instance ids)
// are derived by hashing instead of drawn from a shared stream.
package generate

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
)

// Options say what trail to generate. Zero values take the documented defaults.
type Options struct {
	// Seed selects the trail: the same seed and options give byte-identical output.
	Seed int64
	// Events is the exact number of events written (digest files hold none). Required.
	Events int
	// End is the newest eventTime (truncated to the second); events spread over the Days before
	// it. Required: the demo passes time.Now(), tests a fixed time.
	End time.Time
	// Days is how many days before End events spread over. Default 45, so that the trail covers
	// the "last 30 days" and "last 7 days" questions and still holds users idle for more than 30
	// days.
	Days int
	// Accounts is the number of member accounts. Default 3.
	Accounts int
	// OrgID is the organization id of the layout AWSLogs/<OrgID>/<account>/…. Default "o-"
	// followed by 10 characters derived from Seed.
	OrgID string
	// NoOrg writes the single-account layout AWSLogs/<account>/… (no organization id).
	NoOrg bool
	// Regions lists the regions events are written for. Default us-east-1, eu-west-1,
	// ap-southeast-2. Global-service events (IAM, sign-in) are written to us-east-1, or to
	// Regions[0] when us-east-1 is not listed.
	Regions []string
	// EventsPerFile is the mean number of events per log file. Default 42, so 1M events make
	// about 24,000 files.
	EventsPerFile int
	// Workers is the number of files written at once. Default GOMAXPROCS. It does not change
	// the output.
	Workers int
	// Level is the gzip level (see compress/gzip). Default gzip.DefaultCompression.
	Level int
}

const (
	defaultDays          = 45
	defaultAccounts      = 3
	defaultEventsPerFile = 42
	maxAccounts          = 100
)

// DefaultRegions are the regions written when Options.Regions is empty.
func DefaultRegions() []string { return []string{"us-east-1", "eu-west-1", "ap-southeast-2"} }

// withDefaults validates opt and fills in the defaults.
func (opt Options) withDefaults() (Options, error) {
	if opt.Events <= 0 {
		return opt, fmt.Errorf("options: events must be positive, got %d", opt.Events)
	}
	if opt.End.IsZero() {
		return opt, errors.New("options: end time is required (pass time.Now() for a trail ending now)")
	}
	opt.End = opt.End.UTC().Truncate(time.Second)
	if opt.Days == 0 {
		opt.Days = defaultDays
	}
	if opt.Days < 1 {
		return opt, fmt.Errorf("options: days must be positive, got %d", opt.Days)
	}
	if opt.Accounts == 0 {
		opt.Accounts = defaultAccounts
	}
	if opt.Accounts < 1 || opt.Accounts > maxAccounts {
		return opt, fmt.Errorf("options: accounts must be between 1 and %d, got %d", maxAccounts, opt.Accounts)
	}
	if len(opt.Regions) == 0 {
		opt.Regions = DefaultRegions()
	}
	opt.Regions = slices.Clone(opt.Regions)
	for _, r := range opt.Regions {
		if r == "" || strings.ContainsAny(r, "/\\ ") {
			return opt, fmt.Errorf("options: bad region %q", r)
		}
	}
	if opt.EventsPerFile == 0 {
		opt.EventsPerFile = defaultEventsPerFile
	}
	if opt.EventsPerFile < 1 {
		return opt, fmt.Errorf("options: events per file must be positive, got %d", opt.EventsPerFile)
	}
	if opt.NoOrg {
		opt.OrgID = ""
	} else if opt.OrgID == "" {
		opt.OrgID = "o-" + charsFrom(hashOf(uint64(opt.Seed), 0x0e9), "abcdefghijklmnopqrstuvwxyz0123456789", 10)
	} else if !strings.HasPrefix(opt.OrgID, "o-") || strings.ContainsAny(opt.OrgID, "/\\ ") {
		return opt, fmt.Errorf("options: organization id %q does not look like o-xxxxxxxxxx", opt.OrgID)
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	if opt.Level == 0 {
		opt.Level = gzip.DefaultCompression
	}
	return opt, nil
}

// logFile is the plan of one log file, and after writing, what digests need to know of it.
type logFile struct {
	idx              int
	acct             *account
	region           string
	winStart, winEnd int64
	deliver          int64
	n                int
	scripted         []evSpec
	pinEnd           bool
	digest           bool
	part             Partition
	key              string
	// Set by the worker that writes the file.
	sha            string
	oldest, newest int64
}

// Generate writes a trail of opt.Events events under outDir in the S3 layout
// (outDir/AWSLogs/<OrgID>/<account>/CloudTrail/<region>/YYYY/MM/DD/…json.gz, plus a few digest
// files under CloudTrail-Digest/) and returns what it wrote. Memory stays bounded: each worker
// holds one file at a time and the truth grows with the number of principals, not events.
func Generate(ctx context.Context, outDir string, opt Options) (*Truth, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	w := newWorld(opt)
	files := w.plan()
	w.script(files)

	var (
		wg                 sync.WaitGroup
		mu                 sync.Mutex
		firstErr           error
		truths             []*Truth
		jsonBytes, gzBytes int64
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan *logFile)
	for range opt.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wr := newFileWriter(w, outDir)
			for f := range jobs {
				if err := wr.write(f); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
				}
			}
			mu.Lock()
			truths = append(truths, wr.b.truth)
			jsonBytes += wr.jsonBytes
			gzBytes += wr.gzBytes
			mu.Unlock()
		}()
	}
feed:
	for _, f := range files {
		select {
		case jobs <- f:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("generate trail: %w", err)
	}

	t := newTruth()
	for _, u := range truths {
		t.merge(u)
	}
	t.finish()
	t.Seed, t.OrgID, t.Regions, t.LogFiles = opt.Seed, opt.OrgID, opt.Regions, len(files)
	t.LogBytes, t.LogGzipBytes = jsonBytes, gzBytes
	for _, a := range w.accounts {
		t.Accounts = append(t.Accounts, a.id)
	}
	t.Identities = w.identities()
	t.Escalation = w.escalation(files)
	n, err := w.writeDigests(ctx, outDir, files)
	if err != nil {
		return nil, err
	}
	t.DigestFiles = n
	return t, nil
}

// stream is one (account, region) sequence of log files.
type stream struct {
	acct   *account
	region string
	files  []*logFile
}

// busy is the relative activity at a time: office hours on weekdays are busiest.
func busy(sec int64) float64 {
	t := time.Unix(sec, 0).UTC()
	h, wd := t.Hour(), t.Weekday()
	v := 0.35
	if h >= 7 && h <= 19 {
		v = 1
	}
	if wd == time.Saturday || wd == time.Sunday {
		v *= 0.45
	}
	return v
}

// plan decides every log file: account, region, time window, delivery time and event count.
func (w *world) plan() []*logFile {
	opt := w.opt
	nFiles := (opt.Events + opt.EventsPerFile - 1) / opt.EventsPerFile
	var streams []*stream
	var weights []float64
	for _, a := range w.accounts {
		aw := 1.0
		if a.idx == 0 {
			aw = 2
		}
		for _, r := range opt.Regions {
			rw := 1.0
			if r == w.home {
				rw = 2
			}
			streams = append(streams, &stream{acct: a, region: r})
			weights = append(weights, aw*rw)
		}
	}
	perStream := apportion(nFiles, weights, nFiles >= len(streams))
	var files []*logFile
	for si, s := range streams {
		r := newRand(w.seed, 0x57, uint64(si))
		n := perStream[si]
		ends := make([]int64, 0, n)
		lo := w.start + 600
		if lo > w.end {
			lo = w.start
		}
		for len(ends) < n {
			t := lo + r.Int64N(w.end-lo+1)
			if r.Float64() < busy(t) {
				ends = append(ends, t)
			}
		}
		slices.Sort(ends)
		for i, end := range ends {
			f := &logFile{acct: s.acct, region: s.region, winEnd: end}
			if si == 0 && i == n-1 {
				f.winEnd, f.pinEnd = w.end, true
			}
			f.winStart = max(w.start, f.winEnd-240-r.Int64N(360))
			f.deliver = (f.winEnd + 60 + r.Int64N(240) + 59) / 60 * 60
			s.files = append(s.files, f)
		}
		files = append(files, s.files...)
	}
	// Events per file vary as real deliveries do.
	r := newRand(w.seed, 0xe7)
	fw := make([]float64, len(files))
	for i := range fw {
		fw[i] = 0.4 + 1.2*r.Float64()
	}
	counts := apportion(opt.Events-len(files), fw, false)
	for i, f := range files {
		f.idx = i
		f.n = 1 + counts[i]
	}
	// Digests cover the last three hours of deliveries of each stream.
	for _, s := range streams {
		if len(s.files) == 0 {
			continue
		}
		first := digestEnd(s.files[len(s.files)-1].deliver) - 3*3600
		for _, f := range s.files {
			f.digest = f.deliver >= first
		}
	}
	return files
}

// apportion splits total into len(weights) integers proportional to weights (largest remainder);
// with atLeastOne every share is at least 1 (total must then be >= len(weights)).
func apportion(total int, weights []float64, atLeastOne bool) []int {
	out := make([]int, len(weights))
	if atLeastOne {
		for i := range out {
			out[i] = 1
		}
		total -= len(weights)
	}
	var sum float64
	for _, v := range weights {
		sum += v
	}
	type rem struct {
		i int
		f float64
	}
	rems := make([]rem, len(weights))
	given := 0
	for i, v := range weights {
		x := float64(total) * v / sum
		k := int(math.Floor(x))
		out[i] += k
		given += k
		rems[i] = rem{i, x - float64(k)}
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].f > rems[b].f })
	for k := 0; given < total; k++ {
		out[rems[k%len(rems)].i]++
		given++
	}
	return out
}

// fileWriter writes log files for one worker.
type fileWriter struct {
	w         *world
	jsonBytes int64
	gzBytes   int64
	dir       string
	b         *builder
	gz        *gzip.Writer
	bw        *bufio.Writer
	made      map[string]bool
	secs      []int64
}

func newFileWriter(w *world, dir string) *fileWriter {
	gz, _ := gzip.NewWriterLevel(nil, w.opt.Level) // the level was validated by withDefaults' caller
	return &fileWriter{w: w, dir: dir, b: newBuilder(w), gz: gz, bw: bufio.NewWriterSize(nil, 1<<16), made: map[string]bool{}}
}

// accountPrefix is AWSLogs/[org/]account/.
func (w *world) accountPrefix(a *account) string {
	if w.opt.OrgID == "" {
		return "AWSLogs/" + a.id + "/"
	}
	return "AWSLogs/" + w.opt.OrgID + "/" + a.id + "/"
}

func (fw *fileWriter) write(f *logFile) error {
	w := fw.w
	r := newRand(w.seed, 0xf11e, uint64(f.idx))
	b := fw.b
	b.r, b.f, b.region = r, f, f.region
	d := time.Unix(f.deliver, 0).UTC()
	f.part = Partition{f.acct.id, f.region, pad(d.Year(), 4), pad(int(d.Month()), 2), pad(d.Day(), 2)}
	name := make([]byte, 0, 96)
	name = append(name, f.acct.id...)
	name = append(name, "_CloudTrail_"...)
	name = append(name, f.region...)
	name = append(name, '_')
	name = d.AppendFormat(name, "20060102T1504Z")
	name = append(name, '_')
	name = appendChars(name, r, mixedAlnum, 16)
	name = append(name, ".json.gz"...)
	f.key = w.accountPrefix(f.acct) + "CloudTrail/" + f.region + "/" + f.part.Year + "/" + f.part.Month + "/" + f.part.Day + "/" + string(name)

	// Event times: random in the window, plus the scripted ones, in order.
	nRandom := f.n - len(f.scripted)
	secs := fw.secs[:0]
	for range nRandom {
		secs = append(secs, f.winStart+r.Int64N(f.winEnd-f.winStart+1))
	}
	if f.pinEnd && nRandom > 0 {
		secs[0] = f.winEnd
	}
	slices.Sort(secs)
	fw.secs = secs
	b.b = append(b.b[:0], `{"Records":[`...)
	si := 0
	for _, sec := range secs {
		for si < len(f.scripted) && f.scripted[si].sec <= sec {
			e := f.scripted[si]
			b.emit(&e)
			si++
		}
		e := b.randomSpec(sec)
		b.emit(&e)
	}
	for ; si < len(f.scripted); si++ {
		e := f.scripted[si]
		b.emit(&e)
	}
	b.b = append(b.b, "]}"...)
	if f.digest {
		sum := sha256.Sum256(b.b)
		f.sha = hex.EncodeToString(sum[:])
	}
	return fw.writeGzip(f.key, b.b)
}

func (fw *fileWriter) writeGzip(key string, data []byte) error {
	path := filepath.Join(fw.dir, filepath.FromSlash(key))
	dir := filepath.Dir(path)
	if !fw.made[dir] {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create directory %s: %w", dir, err)
		}
		fw.made[dir] = true
	}
	out, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	cw := &countingWriter{w: out}
	fw.bw.Reset(cw)
	fw.gz.Reset(fw.bw)
	_, err = fw.gz.Write(data)
	if err == nil {
		err = fw.gz.Close()
	}
	if err == nil {
		err = fw.bw.Flush()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	fw.jsonBytes += int64(len(data))
	fw.gzBytes += cw.n
	return nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func (w *world) identities() Identities {
	a := w.accounts[0]
	id := Identities{Users: map[string]string{}, Roles: map[string]string{}, Root: a.root.arn,
		InactiveSince: time.Unix(w.inactive, 0).UTC(), ExternalAccount: w.ext}
	for _, n := range []string{"alice", "bob", "carol", "ci-deploy", "old-admin"} {
		if p := a.users[n]; p != nil {
			id.Users[n] = p.arn
		}
	}
	for _, n := range []string{"Admin", "ReadOnly", "MonitoringRole", "app-lambda-role", "ec2-web-role"} {
		id.Roles[n] = a.roles[n].arn
	}
	for _, ac := range w.actors {
		if ac.until != 0 && ac.p.kind == pUser {
			id.Inactive = append(id.Inactive, ac.p.arn)
		}
	}
	sort.Strings(id.Inactive)
	return id
}
