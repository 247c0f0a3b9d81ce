package ingest

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/cespare/xxhash/v2"
	"github.com/parquet-go/parquet-go"

	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/lake"
)

// The lake knows an event by the hash of its content (cloudtrail.Hash): two deliveries of one
// event in S3 log files hash alike, while the distinct records that share an eventID (test
// fixtures, addendum re-deliveries) are all kept. The CloudTrail API's copy of an event is not
// always the S3 one byte for byte, though. LookupEvents returns the record as a JSON string
// (CloudTrailEvent) built for Event history: the real items in
// ../shared/datasets/plaso-lookup-events give IAM users a sessionContext with empty
// "sessionIssuer":{} and "webIdFederationData":{}, where the S3 records of IAM users that AWS
// documents (awsdocs-cloudtrail-user-guide, the record-contents page) hold only "attributes";
// empty objects are kept as they are, so the content hashes differ. Nothing promises either that
// fields added to a record later, or the key order inside requestParameters, agree.
//
// So an event from the API is also known by its identity — eventID, eventSource, eventName and
// eventTime, within its partition (account, region, day) — and is stored under the hash of that
// identity: whichever copy comes first is kept and the other is recognised, in either order.
// Events from files are still added by content, so records that share an eventID are kept.

// identitySalt keeps identity hashes apart from content hashes, which hash a JSON object.
const identitySalt = "\x01cloudtrail-event-identity\x00"

// identity returns the hash of an event's identity, or 0 when it has no eventID.
func identity(r *cloudtrail.Record) uint64 {
	if r.EventID == nil || *r.EventID == "" {
		return 0
	}
	return identityOf(*r.EventID, str(r.EventSource), str(r.EventName), str(r.EventTime))
}

func identityOf(id, source, name, time string) uint64 {
	var d xxhash.Digest
	d.Reset()
	d.WriteString(identitySalt)
	d.WriteString(id)
	d.WriteString("\x00")
	d.WriteString(source)
	d.WriteString("\x00")
	d.WriteString(name)
	d.WriteString("\x00")
	d.WriteString(time)
	if h := d.Sum64(); h != 0 {
		return h
	}
	return 1
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// lakeIdentities holds the identities of the events in the lake's committed files, partition by
// partition, read from the Parquet files on first use. Only API events need them: events from
// files are known by their content, and API events stored earlier by their identity hash.
type lakeIdentities struct {
	root string
	snap *lake.Snapshot
	sets map[lake.Partition]map[uint64]struct{}
}

// reset forgets what was read, so that the next pass sees the commits made since.
func (li *lakeIdentities) reset() { li.snap, li.sets = nil, nil }

func (li *lakeIdentities) has(p lake.Partition, id uint64) (bool, error) {
	if li.sets == nil {
		snap, err := lake.OpenSnapshot(li.root)
		if err != nil {
			return false, err
		}
		li.snap, li.sets = snap, map[lake.Partition]map[uint64]struct{}{}
	}
	set, ok := li.sets[p]
	if !ok {
		set = map[uint64]struct{}{}
		for _, f := range li.snap.Files {
			if f.Partition != p {
				continue
			}
			if err := readIdentities(filepath.Join(li.root, filepath.FromSlash(f.Path)), set); err != nil {
				return false, err
			}
		}
		li.sets[p] = set
	}
	_, ok = set[id]
	return ok, nil
}

// identityColumns are the columns of an event's identity, in identityOf's order.
var identityColumns = [...]string{"eventid", "eventsource", "eventname", "eventtime"}

// readIdentities adds the identities of a lake file's events to set, reading only the four
// columns they are made of.
func readIdentities(path string, set map[uint64]struct{}) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read identities: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	pf, err := parquet.OpenFile(f, info.Size())
	if err != nil {
		return fmt.Errorf("read identities of %s: %w", path, err)
	}
	var idx [len(identityColumns)]int
	for i, name := range identityColumns {
		leaf, ok := pf.Schema().Lookup(name)
		if !ok {
			return fmt.Errorf("read identities of %s: no column %s", path, name)
		}
		idx[i] = leaf.ColumnIndex
	}
	for _, rg := range pf.RowGroups() {
		var cols [len(identityColumns)][]parquet.Value
		for i, c := range idx {
			vals, err := columnValues(rg.ColumnChunks()[c])
			if err != nil {
				return fmt.Errorf("read identities of %s: %w", path, err)
			}
			cols[i] = vals
		}
		for row := range cols[0] {
			id := cols[0][row]
			if id.IsNull() || len(id.ByteArray()) == 0 {
				continue
			}
			var s [len(identityColumns)]string
			for i := range cols {
				if row < len(cols[i]) && !cols[i][row].IsNull() {
					s[i] = string(cols[i][row].ByteArray())
				}
			}
			set[identityOf(s[0], s[1], s[2], s[3])] = struct{}{}
		}
	}
	return nil
}

// columnValues reads a (non-repeated) column chunk's values, one per row, NULLs included.
func columnValues(cc parquet.ColumnChunk) ([]parquet.Value, error) {
	pages := cc.Pages()
	defer pages.Close()
	var out []parquet.Value
	for {
		p, err := pages.ReadPage()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		vals := make([]parquet.Value, p.NumValues())
		n, err := p.Values().ReadValues(vals)
		if err != nil && err != io.EOF {
			parquet.Release(p)
			return nil, err
		}
		for i := range vals[:n] {
			vals[i] = vals[i].Clone()
		}
		out = append(out, vals[:n]...)
		parquet.Release(p)
	}
}
