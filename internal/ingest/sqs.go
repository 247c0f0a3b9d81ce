package ingest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/lake"
	"github.com/trailsql/trailsql/internal/s3src"
	"github.com/trailsql/trailsql/internal/sqs"
)

// SQSAPI is what the SQS source uses of a queue (*sqs.Client implements it).
type SQSAPI interface {
	Receive(ctx context.Context, n int, wait, visibility time.Duration) ([]sqs.Message, error)
	Delete(ctx context.Context, msgs []sqs.Message) (map[string]error, error)
	ChangeVisibility(ctx context.Context, m sqs.Message, d time.Duration) error
}

// SQSOptions configure reading an SQS queue of S3 event notifications.
type SQSOptions struct {
	Queue SQSAPI
	// S3 are the options of the S3 clients that read the objects named (one client per bucket).
	S3 s3src.ClientOptions
	// Stats, when set, counts the S3 requests.
	Stats *s3src.Counters
	// Watch: the first receive of a pass waits up to 20 s for a message (long polling), and a
	// pass ends after PassTime so that what it read is committed and acknowledged.
	Watch bool
	// Wait is how long a receive waits for messages once the pass has some (default 1 s): a
	// receive that gets none ends the pass (the queue is drained).
	Wait time.Duration
	// Visibility is how long a received message stays hidden from other consumers; it is
	// renewed (ChangeMessageVisibility) every third of it while the message's objects are read
	// and committed (default 2 min).
	Visibility time.Duration
	// PassTime bounds a pass of a watching run (default 1 min); 0 when not watching: a pass
	// drains the queue.
	PassTime time.Duration
	// Poison is told of each message left in the queue for its redrive policy (once per message
	// per run): a message that is not a notification, or names an object that cannot be
	// ingested.
	Poison func(Poison)
	Logger *slog.Logger
}

// Poison is a message left in the queue.
type Poison struct {
	MessageID    string
	ReceiveCount int // as the queue says (0: unknown)
	Reason       string
}

// SQSStats count what a queue source did.
type SQSStats struct {
	Received   int // messages received (a message received again counts again)
	Deleted    int // messages deleted, after the commit that holds their objects
	Poison     int // messages left in the queue (distinct)
	Ignored    int // messages that named nothing to ingest (s3:TestEvent, removals, digest files): deleted at once
	Duplicates int // objects named by a message while already being read for another
	Renewed    int // visibility renewals
	// DeleteFailed are messages whose deletion failed: they come back, and their objects are
	// recognised in the ledger then.
	DeleteFailed int
}

// SQSQueue reads a queue of S3 event notifications: Lister is the run's Lister, AfterCommit
// its Options.AfterCommit. A message is deleted only once every object it names is settled
// and committed; a message naming an object that fails is left in the queue (and reported),
// never blocking the others.
type SQSQueue struct {
	opt SQSOptions
	log *slog.Logger

	mu       sync.Mutex
	held     map[string]*heldMessage // by message id: messages whose objects are being read
	objects  map[string]*pendingObject
	reported map[string]bool // poison messages reported
	trails   map[string]*s3src.Trail
	st       SQSStats

	stopBeat context.CancelFunc
	beatDone chan struct{}
}

type heldMessage struct {
	msg     sqs.Message
	pending map[string]bool // object names not yet settled
	reasons []string        // why objects failed
	renewed time.Time
}

type pendingObject struct {
	waiters []*heldMessage
}

// NewSQSQueue returns the source; Close stops the renewal of visibility.
func NewSQSQueue(opt SQSOptions) *SQSQueue {
	if opt.Wait <= 0 {
		opt.Wait = time.Second
	}
	if opt.Visibility <= 0 {
		opt.Visibility = 2 * time.Minute
	}
	if opt.Watch && opt.PassTime <= 0 {
		opt.PassTime = time.Minute
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Stats == nil {
		opt.Stats = &s3src.Counters{}
	}
	q := &SQSQueue{opt: opt, log: opt.Logger.With("component", "sqs"), held: map[string]*heldMessage{},
		objects: map[string]*pendingObject{}, reported: map[string]bool{}, trails: map[string]*s3src.Trail{}}
	ctx, cancel := context.WithCancel(context.Background())
	q.stopBeat, q.beatDone = cancel, make(chan struct{})
	go q.heartbeat(ctx)
	return q
}

// Close stops renewing the visibility of the messages held: those not deleted come back to
// the queue when it expires.
func (q *SQSQueue) Close() {
	q.stopBeat()
	<-q.beatDone
}

// Stats returns the counts so far.
func (q *SQSQueue) Stats() SQSStats {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.st
}

// Lister returns the run's Lister: a pass receives messages until the queue has none to give
// (or, watching, PassTime is over) and lists the objects they name.
func (q *SQSQueue) Lister() Lister {
	return func(ctx context.Context, yield func(Object) error) error {
		start := time.Now()
		wait := q.opt.Wait
		if q.opt.Watch {
			wait = 20 * time.Second
		}
		for {
			if q.opt.PassTime > 0 && time.Since(start) >= q.opt.PassTime {
				return nil
			}
			msgs, err := q.opt.Queue.Receive(ctx, 10, wait, q.opt.Visibility)
			if err != nil {
				return err
			}
			wait = q.opt.Wait
			work := 0
			for _, m := range msgs {
				isWork, err := q.take(ctx, m, yield)
				if err != nil {
					return err
				}
				if isWork {
					work++
				}
			}
			// Drained: nothing came, or only poison messages back from their visibility timeout
			// (they keep coming back until the redrive policy moves them).
			if work == 0 {
				return nil
			}
		}
	}
}

// take handles one message received; it reports false for a poison message already reported.
func (q *SQSQueue) take(ctx context.Context, m sqs.Message, yield func(Object) error) (bool, error) {
	q.mu.Lock()
	q.st.Received++
	if q.reported[m.ID] {
		q.mu.Unlock()
		return false, nil // poison, back after its visibility timeout: left for the redrive policy
	}
	if h, ok := q.held[m.ID]; ok {
		// Received again while held (its visibility lapsed before a renewal): only the latest
		// receipt handle deletes it. Its objects are already on their way.
		h.msg.ReceiptHandle = m.ReceiptHandle
		h.renewed = time.Now()
		q.mu.Unlock()
		return true, nil
	}
	q.mu.Unlock()
	n, err := sqs.Parse(m.Body)
	if err != nil {
		q.poison(m, err.Error())
		return true, nil
	}
	var refs []sqs.ObjectRef
	for _, o := range n.Objects {
		switch cloudtrail.ParseKey(o.Key).Kind {
		case cloudtrail.KeyDigest, cloudtrail.KeyUnknown:
			continue // a digest file, another service's logs: nothing to ingest
		}
		refs = append(refs, o)
	}
	if len(refs) == 0 {
		q.log.Debug("nothing to ingest", "message", m.ID, "via", n.Via, "ignored", n.Ignored+len(n.Objects))
		q.mu.Lock()
		q.st.Ignored++
		q.mu.Unlock()
		q.delete(ctx, []sqs.Message{m})
		return true, nil
	}
	h := &heldMessage{msg: m, pending: map[string]bool{}, renewed: time.Now()}
	var objs []Object
	q.mu.Lock()
	q.held[m.ID] = h
	for _, ref := range refs {
		tr, err := q.trail(ctx, ref.Bucket)
		if err != nil {
			h.reasons = append(h.reasons, err.Error())
			continue
		}
		name := tr.URL(ref.Key)
		if h.pending[name] {
			continue // named twice by the same message
		}
		h.pending[name] = true
		if p, ok := q.objects[name]; ok {
			q.st.Duplicates++
			p.waiters = append(p.waiters, h)
			continue
		}
		q.objects[name] = &pendingObject{waiters: []*heldMessage{h}}
		objs = append(objs, q.object(tr, ref))
	}
	done := len(h.pending) == 0 // every bucket failed
	q.mu.Unlock()
	if done {
		q.release(ctx, h)
		return true, nil
	}
	for _, o := range objs {
		if err := yield(o); err != nil {
			return true, err
		}
	}
	return true, nil
}

// object is the run's Object for an object a notification names. It is identified in the
// ledger as the S3 lister identifies it (s3://bucket/key, size, quoted ETag), so an object
// ingested by either is recognised by the other.
func (q *SQSQueue) object(tr *s3src.Trail, ref sqs.ObjectRef) Object {
	etag := ""
	if ref.ETag != "" {
		etag = `"` + ref.ETag + `"`
	}
	so := s3src.Object{Key: ref.Key, Size: ref.Size, ETag: etag}
	return Object{
		Source: lake.Source{Name: tr.URL(ref.Key), Size: ref.Size, ETag: etag},
		Key:    ref.Key,
		Open:   func(ctx context.Context) (io.ReadCloser, error) { return tr.Open(ctx, so) },
		// A notification names the object: one that yields no events is a failure (the
		// message is left in the queue), not a skip.
		Named: true,
	}
}

// trail returns the reader of a bucket, making its client once; the caller holds q.mu.
func (q *SQSQueue) trail(ctx context.Context, bucket string) (*s3src.Trail, error) {
	if tr, ok := q.trails[bucket]; ok {
		return tr, nil
	}
	client, err := s3src.NewClient(ctx, q.opt.S3, bucket)
	if err != nil {
		return nil, fmt.Errorf("s3://%s: %w", bucket, err)
	}
	tr := &s3src.Trail{API: client, Bucket: bucket, Stats: q.opt.Stats, Logger: q.opt.S3.Logger}
	q.trails[bucket] = tr
	return tr, nil
}

// AfterCommit is the run's Options.AfterCommit: the messages whose objects are all settled are
// deleted, or reported and left in the queue when one of their objects failed.
func (q *SQSQueue) AfterCommit(ctx context.Context, settled []Outcome) {
	var ready []*heldMessage
	q.mu.Lock()
	for _, o := range settled {
		name := o.Object.Source.Name
		p, ok := q.objects[name]
		if !ok {
			continue // not named by a message held (a failed object the run retries by itself)
		}
		delete(q.objects, name)
		for _, h := range p.waiters {
			if !h.pending[name] {
				continue
			}
			delete(h.pending, name)
			if o.Err != nil {
				h.reasons = append(h.reasons, name+": "+o.Err.Error())
			}
			if len(h.pending) == 0 {
				ready = append(ready, h)
			}
		}
	}
	q.mu.Unlock()
	var del []sqs.Message
	for _, h := range ready {
		if len(h.reasons) > 0 {
			q.release(ctx, h)
			continue
		}
		q.mu.Lock()
		delete(q.held, h.msg.ID)
		q.mu.Unlock()
		del = append(del, h.msg)
	}
	q.delete(ctx, del)
}

// release stops holding a message that cannot be ingested and reports it as poison.
func (q *SQSQueue) release(ctx context.Context, h *heldMessage) {
	q.mu.Lock()
	delete(q.held, h.msg.ID)
	q.mu.Unlock()
	sort.Strings(h.reasons)
	q.poison(h.msg, strings.Join(h.reasons, "; "))
}

func (q *SQSQueue) poison(m sqs.Message, reason string) {
	q.mu.Lock()
	first := !q.reported[m.ID]
	q.reported[m.ID] = true
	if first {
		q.st.Poison++
	}
	q.mu.Unlock()
	if !first {
		return
	}
	q.log.Warn("poison message left in the queue", "message", m.ID, "receive_count", m.ReceiveCount, "reason", reason)
	if q.opt.Poison != nil {
		q.opt.Poison(Poison{MessageID: m.ID, ReceiveCount: m.ReceiveCount, Reason: reason})
	}
}

func (q *SQSQueue) delete(ctx context.Context, msgs []sqs.Message) {
	if len(msgs) == 0 {
		return
	}
	failed, err := q.opt.Queue.Delete(ctx, msgs)
	q.mu.Lock()
	q.st.Deleted += len(msgs) - len(failed)
	q.st.DeleteFailed += len(failed)
	q.mu.Unlock()
	if len(failed) > 0 {
		// Not lost: the messages come back, and their objects are recognised in the ledger.
		q.log.Warn("messages not deleted; they come back and are acknowledged then", "count", len(failed), "err", err)
	}
}

// renewals is how many visibility renewals are in flight at a time.
const renewals = 8

// heartbeat renews the visibility of the messages held, every third of Visibility, so that a
// long pass does not let them come back to other consumers (or to this one) while their
// objects are read.
func (q *SQSQueue) heartbeat(ctx context.Context) {
	defer close(q.beatDone)
	every := q.opt.Visibility / 3
	t := time.NewTicker(max(every/4, 100*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		var due []*heldMessage
		q.mu.Lock()
		for _, h := range q.held {
			if now.Sub(h.renewed) >= every {
				due = append(due, h)
			}
		}
		q.mu.Unlock()
		// A few at a time: one request per message (ChangeMessageVisibilityBatch is not
		// spoken by every compatible server), and a pass may hold thousands.
		sem := make(chan struct{}, renewals)
		var wg sync.WaitGroup
		for _, h := range due {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				q.mu.Lock()
				m := h.msg
				q.mu.Unlock()
				err := q.opt.Queue.ChangeVisibility(ctx, m, q.opt.Visibility)
				q.mu.Lock()
				h.renewed = now // a failure is not retried at once either
				if err == nil {
					q.st.Renewed++
				}
				q.mu.Unlock()
				if err != nil && ctx.Err() == nil {
					// Its visibility lapsed: it comes back, and is recognised then.
					q.log.Debug("visibility not renewed", "message", m.ID, "err", err)
				}
			}()
		}
		wg.Wait()
	}
}

// SQSSource is an SQS queue of S3 event notifications to read, and how to reach it and the
// objects it names: what trailsql ingest sqs:// and the sqs sources of trailsql run both open.
type SQSSource struct {
	// Queue are the SQS client's options (queue URL, endpoint, region, profile).
	Queue sqs.Options
	// S3 are the options of the S3 clients that read the objects named (its Region is left to
	// each bucket).
	S3 s3src.ClientOptions
	// Stats, Watch, Visibility, Poison and Logger are those of SQSOptions.
	Stats      *s3src.Counters
	Watch      bool
	Visibility time.Duration
	Poison     func(Poison)
	Logger     *slog.Logger
}

// MinSQSVisibility is the shortest visibility timeout: it is renewed every third of it.
const MinSQSVisibility = 3 * time.Second

// OpenSQS opens the queue and returns its source (NewSQSQueue): the run's Lister is its
// Lister, and its AfterCommit must be called by the run's Options.AfterCommit, so that the
// messages are deleted after the commit that holds their objects. Close it after the run.
func OpenSQS(ctx context.Context, src SQSSource) (*SQSQueue, error) {
	if src.Visibility != 0 && src.Visibility < MinSQSVisibility {
		return nil, fmt.Errorf("visibility timeout %s: give %s or more (it is renewed every third of it)", src.Visibility, MinSQSVisibility)
	}
	if src.Queue.Logger == nil {
		src.Queue.Logger = src.Logger
	}
	qc, err := sqs.Open(ctx, src.Queue)
	if err != nil {
		return nil, err
	}
	return NewSQSQueue(SQSOptions{Queue: qc, S3: src.S3, Stats: src.Stats, Watch: src.Watch, Visibility: src.Visibility, Poison: src.Poison, Logger: src.Logger}), nil
}

// AfterCommits is an Options.AfterCommit that tells each of queues (nil when there is none).
func AfterCommits(queues []*SQSQueue) func(context.Context, []Outcome) {
	if len(queues) == 0 {
		return nil
	}
	return func(ctx context.Context, settled []Outcome) {
		for _, q := range queues {
			q.AfterCommit(ctx, settled)
		}
	}
}
