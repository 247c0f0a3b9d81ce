package cloudtrail

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
)

// Item is one JSON value the Decoder found where events are: an element of a "Records" or
// "Events" array, of a top-level array, or a top-level value of a JSON-lines stream.
type Item struct {
	Raw   []byte // the value's JSON; valid until the next call to Next
	Index int    // 0-based position among the input's items
	Line  int    // 1-based line of the value's first byte in the (decompressed) input
	// InRecords is true for elements of a "Records" array: CloudTrail log files hold events
	// there, so such an element is an event whatever fields it has.
	InRecords bool
	// spans are where the members of an object in a Records array lie (offsets into Raw), found
	// while validating it.
	spans []span
}

// DecodeError is invalid input at a position of the (decompressed) input.
type DecodeError struct {
	Line   int
	Offset int64
	Err    error
	// Fatal is true when decoding cannot go on after this error (the rest of the input is not
	// read); otherwise the decoder skipped to the next line.
	Fatal bool
}

func (e *DecodeError) Error() string {
	var se *SyntaxError
	if errors.As(e.Err, &se) {
		// The syntax error's own offset is within the decoder's buffer: the position is here.
		return fmt.Sprintf("line %d (byte %d): invalid JSON: %s", e.Line, e.Offset, se.Msg)
	}
	return fmt.Sprintf("line %d (byte %d): %v", e.Line, e.Offset, e.Err)
}

// ErrTruncatedGzip is matched (errors.Is) by the error of a gzip stream that ends before its
// compressed data does.
var ErrTruncatedGzip = errors.New("truncated gzip stream: the file ends before its compressed data does (an interrupted download or upload: fetch it again)")

func (e *DecodeError) Unwrap() error { return e.Err }

// ErrTooLarge is returned for a single JSON value larger than the decoder's limit.
var ErrTooLarge = errors.New("a single JSON value is larger than the decoder's limit")

const (
	stTop = iota
	stArray
	stObjRest // inside a top-level container object, after its events array
)

// Decoder streams items out of one input. Memory is bounded by the largest single item (and, for
// a top-level object that is not a container, that object), never by the input's size.
type Decoder struct {
	r        io.Reader
	br       *bufio.Reader
	zr       *gzip.Reader
	buf      []byte
	pos, end int
	eof      bool
	err      error
	maxValue int

	state     int
	inRecords bool // the array being streamed is a "Records"/"Events" array
	spans     []span
	needComma bool
	index     int

	// line accounting: lineAt is the line number at buffer offset linePos
	lineAt  int
	linePos int
	base    int64 // input offset of buf[0]
	mark    int   // offset to keep buffered, or -1

	// Digest is set when a top-level object had the fields of a CloudTrail digest file.
	Digest bool
	// Container is set when the input held a "Records" or "Events" array.
	Container bool
	// Gzip is set when the input is gzip-compressed.
	Gzip bool
	// padded is set once the newline that ends the input (see fill) was appended: it is not
	// input, so positions stop before it.
	padded bool
}

// NewDecoder returns a Decoder reading r, which may be gzip-compressed (detected by its magic
// bytes, not its name).
func NewDecoder(r io.Reader) (*Decoder, error) {
	d := &Decoder{}
	return d, d.Reset(r)
}

// Reset makes the decoder read r from its start, keeping its buffers.
func (d *Decoder) Reset(r io.Reader) error {
	if d.br == nil {
		d.br = bufio.NewReaderSize(r, 64<<10)
	} else {
		d.br.Reset(r)
	}
	buf := d.buf
	if cap(buf) == 0 || cap(buf) > 4<<20 {
		buf = make([]byte, 0, 64<<10)
	}
	zr, spans := d.zr, d.spans
	*d = Decoder{r: d.br, br: d.br, zr: zr, buf: buf[:0], maxValue: 256 << 20, lineAt: 1, mark: -1, spans: spans[:0]}
	magic, _ := d.br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		var err error
		if d.zr == nil {
			d.zr, err = gzip.NewReader(d.br)
		} else {
			err = d.zr.Reset(d.br)
		}
		if err != nil {
			return fmt.Errorf("open gzip stream: %w", err)
		}
		d.r = d.zr
		d.Gzip = true
	}
	return nil
}

// fill reads more input. It keeps the buffer from d.pos, or from d.mark when that is set (the
// start of a value that may still have to be returned whole); offsets shift accordingly.
func (d *Decoder) fill() {
	if d.eof {
		return
	}
	keep := d.pos
	if d.mark >= 0 && d.mark < keep {
		keep = d.mark
	}
	if keep > 0 {
		if d.mark >= 0 {
			d.mark -= keep
		}
		d.advanceLines(keep)
		n := copy(d.buf[:cap(d.buf)], d.buf[keep:d.end])
		d.buf = d.buf[:n]
		d.pos -= keep
		d.end = n
		d.linePos -= keep
		d.base += int64(keep)
	}
	if d.end == cap(d.buf) {
		if cap(d.buf) >= d.maxValue {
			d.err = ErrTooLarge
			d.eof = true
			return
		}
		nb := make([]byte, d.end, 2*cap(d.buf))
		copy(nb, d.buf[:d.end])
		d.buf = nb
	}
	n, err := d.r.Read(d.buf[d.end:cap(d.buf)])
	d.end += n
	d.buf = d.buf[:d.end]
	if err != nil {
		if err != io.EOF {
			switch {
			case d.zr != nil && errors.Is(err, io.ErrUnexpectedEOF):
				err = ErrTruncatedGzip
			case d.zr != nil:
				err = fmt.Errorf("damaged gzip stream: %w (fetch the file again)", err)
			case errors.Is(err, io.ErrUnexpectedEOF):
				err = fmt.Errorf("input ends early (truncated file): %w", err)
			}
			d.err = err
		}
		d.eof = true
		// A trailing newline lets a number at the very end of the input terminate.
		d.buf = append(d.buf, '\n')
		d.end = len(d.buf)
		d.padded = true
	}
}

func (d *Decoder) advanceLines(to int) {
	if to > d.linePos {
		d.lineAt += bytes.Count(d.buf[d.linePos:to], []byte{'\n'})
		d.linePos = to
	}
}

func (d *Decoder) lineOf(p int) int {
	d.advanceLines(p)
	return d.lineAt
}

func (d *Decoder) errAt(p int, err error, fatal bool) error {
	if d.padded && p > d.end-1 {
		p = d.end - 1 // the end of the input, not of the newline appended to it
	}
	return &DecodeError{Line: d.lineOf(p), Offset: d.base + int64(p), Err: err, Fatal: fatal}
}

// skipSpace advances past white space, reading more input as needed; false at end of input.
func (d *Decoder) skipSpace() bool {
	for {
		d.pos = skipWS(d.buf[:d.end], d.pos)
		if d.pos < d.end {
			return true
		}
		if d.eof || d.err != nil {
			return false
		}
		d.fill()
	}
}

// value reads the complete JSON value at d.pos and returns its end (d.pos itself does not move,
// but may shift when the buffer is compacted).
func (d *Decoder) value() (int, error) { return d.valueSpans(nil) }

// valueSpans is value that also sets *spans to where the members of an object value lie,
// relative to its start.
func (d *Decoder) valueSpans(spans *[]span) (int, error) {
	for {
		if spans != nil {
			*spans = (*spans)[:0]
		}
		end, err := skipValueSpans(d.buf[:d.end], d.pos, spans)
		if err == nil {
			if spans != nil {
				for i := range *spans {
					sp := &(*spans)[i]
					at := int32(d.pos)
					sp.key, sp.keyEnd, sp.val, sp.valEnd = sp.key-at, sp.keyEnd-at, sp.val-at, sp.valEnd-at
				}
			}
			return end, nil
		}
		if err != errShort && d.padded && end >= d.end-1 {
			// Found at the newline appended to the input (a string cut off by the end of the
			// input meets a control character there): the input ends inside the value.
			err = errShort
		}
		if err != errShort || d.eof {
			if err == errShort {
				if d.err != nil {
					return end, d.err
				}
				return end, fmt.Errorf("input ends inside a JSON value: %w", io.ErrUnexpectedEOF)
			}
			return end, err
		}
		d.fill()
	}
}

// First returns the first byte of the input after white space and a UTF-8 byte-order mark, and
// false for an empty input. Inputs that do not start with '{' or '[' are not JSON documents.
func (d *Decoder) First() (byte, bool) {
	if !d.skipSpace() {
		return 0, false
	}
	if d.index == 0 && d.end-d.pos >= 3 && string(d.buf[d.pos:d.pos+3]) == "\ufeff" {
		d.pos += 3
		if !d.skipSpace() {
			return 0, false
		}
	}
	return d.buf[d.pos], true
}

// Next returns the next item, or io.EOF. A *DecodeError that is not Fatal concerns one item only:
// call Next again for the rest.
func (d *Decoder) Next() (Item, error) {
	for {
		switch d.state {
		case stTop:
			if !d.skipSpace() {
				if d.err != nil {
					return Item{}, d.errAt(d.pos, d.err, true)
				}
				return Item{}, io.EOF
			}
			switch d.buf[d.pos] {
			case '[':
				d.pos++
				d.state, d.inRecords, d.needComma = stArray, false, false
				continue
			case '{':
				it, done, err := d.topObject()
				if err != nil || done {
					return it, err
				}
				continue
			}
			return d.topValue()
		case stArray:
			if !d.skipSpace() {
				return Item{}, d.errAt(d.pos, d.endErr("array"), true)
			}
			c := d.buf[d.pos]
			if c == ']' {
				d.pos++
				if d.inRecords {
					d.state = stObjRest
				} else {
					d.state = stTop
				}
				continue
			}
			if d.needComma {
				if c != ',' {
					return Item{}, d.errAt(d.pos, fmt.Errorf("expected ',' or ']' after array element, found %q", c), true)
				}
				d.pos++
				if !d.skipSpace() {
					return Item{}, d.errAt(d.pos, d.endErr("array"), true)
				}
			}
			var spans *[]span
			if d.inRecords && d.buf[d.pos] == '{' {
				spans = &d.spans
			}
			end, err := d.valueSpans(spans)
			start := d.pos
			if err != nil {
				return Item{}, d.errAt(end, err, true)
			}
			d.pos = end
			d.needComma = true
			it := Item{Raw: d.buf[start:end], Index: d.index, Line: d.lineOf(start), InRecords: d.inRecords}
			if spans != nil {
				it.spans = d.spans
			}
			d.index++
			return it, nil
		case stObjRest:
			if err := d.objectMembers(true); err != nil {
				return Item{}, err
			}
			if d.state == stObjRest {
				d.state = stTop
			}
		}
	}
}

func (d *Decoder) endErr(what string) error {
	if d.err != nil {
		return d.err
	}
	return fmt.Errorf("input ends inside a JSON %s: %w", what, io.ErrUnexpectedEOF)
}

// topValue returns a top-level value that is not an array or container object. On a syntax error
// it skips to the next line, so one bad line of a JSON-lines file costs only that line.
func (d *Decoder) topValue() (Item, error) {
	end, err := d.value()
	start := d.pos
	if err != nil {
		return Item{}, d.resync(start, end, err)
	}
	d.pos = end
	it := Item{Raw: d.buf[start:end], Index: d.index, Line: d.lineOf(start)}
	d.index++
	return it, nil
}

// resync reports a syntax error in a top-level value and skips to the next line, so that one bad
// line of a JSON-lines file costs only that line. At the end of the input the error is fatal.
func (d *Decoder) resync(start, at int, err error) error {
	if d.padded && at > d.end-1 {
		at = d.end - 1
	}
	derr := &DecodeError{Line: d.lineOf(start), Offset: d.base + int64(at), Err: err}
	var se *SyntaxError
	if !errors.As(err, &se) || d.err != nil {
		derr.Fatal = true
		d.pos = d.end
		d.state = stTop
		return derr
	}
	for {
		if nl := bytes.IndexByte(d.buf[at:d.end], '\n'); nl >= 0 {
			d.pos = at + nl + 1
			break
		}
		if d.eof {
			d.pos = d.end
			break
		}
		d.pos = at
		d.fill()
		at = d.pos
	}
	d.state = stTop
	return derr
}

// topObject handles a top-level object: a container whose "Records"/"Events" array is streamed,
// or an ordinary value (a single event) returned whole. done reports an item was produced.
func (d *Decoder) topObject() (Item, bool, error) {
	d.mark = d.pos
	d.pos++
	err := d.objectMembers(false)
	start := d.mark
	d.mark = -1
	if err != nil {
		var de *DecodeError
		if d.state == stTop && errors.As(err, &de) {
			// Not a container: a bad line of JSON lines, or a bad single event.
			return Item{}, true, d.resync(start, int(de.Offset-d.base), de.Err)
		}
		return Item{}, true, err
	}
	if d.state == stArray {
		return Item{}, false, nil // streaming the container's array
	}
	it := Item{Raw: d.buf[start:d.pos], Index: d.index, Line: d.lineOf(start)}
	d.index++
	return it, true, nil
}

var digestKeys = map[string]bool{"digeststarttime": true, "digestendtime": true, "digests3object": true, "previousdigesthashvalue": true}

// objectMembers scans the members of the object whose '{' was consumed, starting at d.pos. It
// stops at the object's end, or at a "Records"/"Events" array, switching to stArray;
// after is true when resuming behind the container's array.
func (d *Decoder) objectMembers(after bool) error {
	first := !after
	var kb []byte
	for {
		if !d.skipSpace() {
			return d.errAt(d.pos, d.endErr("object"), true)
		}
		c := d.buf[d.pos]
		if c == '}' {
			d.pos++
			return nil
		}
		if !first {
			if c != ',' {
				return d.errAt(d.pos, fmt.Errorf("expected ',' or '}' in object, found %q", c), true)
			}
			d.pos++
			if !d.skipSpace() {
				return d.errAt(d.pos, d.endErr("object"), true)
			}
		}
		first = false
		if d.buf[d.pos] != '"' {
			return d.errAt(d.pos, fmt.Errorf("expected a string key in object, found %q", d.buf[d.pos]), true)
		}
		kend, err := d.value()
		if err != nil {
			return d.errAt(kend, err, true)
		}
		kstart := d.pos
		_, kesc, _ := skipString(d.buf[:d.end], kstart)
		kb = lowerKey(kb, []byte(fmt.Sprintf("%q", unquote(d.buf[kstart:kend], kesc))))
		d.pos = kend
		if !d.skipSpace() {
			return d.errAt(d.pos, d.endErr("object"), true)
		}
		if d.buf[d.pos] != ':' {
			return d.errAt(d.pos, fmt.Errorf("expected ':' after object key, found %q", d.buf[d.pos]), true)
		}
		d.pos++
		if !d.skipSpace() {
			return d.errAt(d.pos, d.endErr("object"), true)
		}
		key := string(kb)
		if digestKeys[key] {
			d.Digest = true
		}
		if (key == "records" || key == "events") && d.buf[d.pos] == '[' && !after {
			d.pos++
			d.mark = -1
			d.Container = true
			d.state, d.inRecords, d.needComma = stArray, true, false
			return nil
		}
		vend, err := d.value()
		if err != nil {
			return d.errAt(vend, err, true)
		}
		d.pos = vend
	}
}
