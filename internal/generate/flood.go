package generate

import (
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// Flood is a CloudTrail log file ({"Records":[…]}, one event a line) of many small, distinct
// events, made as it is read: the input of the tests and measurements of how ingest memory
// behaves when one file holds millions of events (5,000,000 events gzip to about 25 MB). Its
// events are one account's S3 GetObject calls in us-east-1, one a second from Start, wrapping
// around within the day, each with its own eventID.
type Flood struct {
	n, next int
	start   time.Time
	buf     []byte
	off     int
	opened  bool // the file's opening was made
	done    bool // its end was made
	emitted atomic.Int64
}

// NewFlood returns a Flood of n events whose times begin at start (UTC, whole seconds).
func NewFlood(n int, start time.Time) *Flood {
	return &Flood{n: n, start: start.UTC().Truncate(24 * time.Hour)}
}

// Emitted returns how many events were read whole so far. Safe to call while another goroutine
// reads.
func (f *Flood) Emitted() int { return int(f.emitted.Load()) }

// Read implements io.Reader.
func (f *Flood) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if f.off == len(f.buf) {
			if f.done {
				break
			}
			f.fill()
		}
		c := copy(p[n:], f.buf[f.off:])
		f.off += c
		n += c
		if f.off == len(f.buf) && f.next > 0 {
			f.emitted.Store(int64(f.next))
		}
	}
	if n == 0 && f.done {
		return 0, io.EOF
	}
	return n, nil
}

// fill makes the next event's line (or the file's opening or end).
func (f *Flood) fill() {
	f.buf, f.off = f.buf[:0], 0
	i := f.next
	switch {
	case !f.opened:
		f.buf = append(f.buf, "{\"Records\":[\n"...)
		f.opened = true
		return
	case i == f.n:
		f.buf = append(f.buf, "]}\n"...)
		f.done = true
		return
	}
	if i > 0 {
		f.buf = append(f.buf, ",\n"...)
	}
	t := f.start.Add(time.Duration(i%86400) * time.Second).Format("2006-01-02T15:04:05Z")
	f.buf = fmt.Appendf(f.buf, `{"eventVersion":"1.09","eventTime":%q,"eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","eventID":"%d","eventType":"AwsApiCall","recipientAccountId":"111122223333"}`, t, i)
	f.next++
}
