package lake

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fullSnapshot is the snapshot read from every manifest, without the cache.
func fullSnapshot(t *testing.T, root string) *Snapshot {
	t.Helper()
	l, err := loadLedger(root)
	if err != nil || l.err() != nil {
		t.Fatal(err, l.err())
	}
	return l.snapshot(root)
}

// writeCache replaces the cache with body (its MAC computed by mac).
func writeCache(t *testing.T, root string, body []byte, mac []byte) {
	t.Helper()
	data := append(append([]byte(hex.EncodeToString(mac)), '\n'), body...)
	if err := os.WriteFile(filepath.Join(root, snapshotCacheFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// The first reader of a ledger state writes the cache, and the readers after it take the same
// snapshot from it; what is not the cache of this ledger's state, signed with this lake's key, is
// not used, and the snapshot is read from the manifests as before.
func TestSnapshotCache(t *testing.T) {
	root := buildLake(t)
	want := fullSnapshot(t, root)
	if _, err := os.Stat(filepath.Join(root, snapshotCacheFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a cache before any reader: %v", err)
	}
	got, err := OpenSnapshot(root)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("first read: %v\n%+v\nwant %+v", err, got, want)
	}
	names, _ := manifestNames(root)
	_, key := readLedger(t, root)
	cached := cachedSnapshot(root, key, names)
	if !reflect.DeepEqual(cached, want) {
		t.Fatalf("cache holds %+v\nwant %+v", cached, want)
	}
	if got, err := OpenSnapshot(root); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("read from the cache: %v %+v", err, got)
	}
	data, err := os.ReadFile(filepath.Join(root, snapshotCacheFile))
	if err != nil {
		t.Fatal(err)
	}
	_, body, _ := bytes.Cut(data, []byte("\n"))
	fewer := *want
	fewer.Files = fewer.Files[1:]
	fewerBody := encodeSnapshotCache(&fewer, names)
	otherKey := bytes.Repeat([]byte{7}, 32)

	cases := []struct {
		name  string
		write func()
	}{
		{"files changed, MAC kept", func() { writeCache(t, root, fewerBody, snapshotMAC(key, body)) }},
		{"signed with another key", func() { writeCache(t, root, fewerBody, snapshotMAC(otherKey, fewerBody)) }},
		{"signed as a manifest", func() { writeCache(t, root, fewerBody, macOf(key, fewerBody)) }},
		{"cut short", func() { os.WriteFile(filepath.Join(root, snapshotCacheFile), data[:len(data)/2], 0o644) }},
		{"empty", func() { os.WriteFile(filepath.Join(root, snapshotCacheFile), nil, 0o644) }},
		{"not a cache", func() { os.WriteFile(filepath.Join(root, snapshotCacheFile), []byte("{}\n"), 0o644) }},
		{"for other manifests", func() {
			b := encodeSnapshotCache(&fewer, names[1:])
			writeCache(t, root, b, snapshotMAC(key, b))
		}},
		{"a folder", func() {
			os.Remove(filepath.Join(root, snapshotCacheFile))
			os.Mkdir(filepath.Join(root, snapshotCacheFile), 0o755)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.write()
			if s := cachedSnapshot(root, key, names); s != nil {
				t.Fatalf("cache used: %+v", s)
			}
			if got, err := OpenSnapshot(root); err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("%v %+v", err, got)
			}
			os.RemoveAll(filepath.Join(root, snapshotCacheFile))
		})
	}

	// A signed cache of the ledger's current names, holding other files, is used: the cache is
	// trusted as far as its key and its names go (which is why only trailsql writes it).
	writeCache(t, root, fewerBody, snapshotMAC(key, fewerBody))
	if s, err := OpenSnapshot(root); err != nil || len(s.Files) != len(want.Files)-1 {
		t.Fatalf("signed cache not used: %v %+v", err, s)
	}

	// A new commit, and a forged manifest after it, are seen whatever the cache holds. (A cache
	// of the ledger before the commit is brought up to date from the commit alone: see
	// TestSnapshotCacheExtended.)
	os.Remove(filepath.Join(root, snapshotCacheFile))
	addSources(t, root, source{"src-3", 300, 320})
	after := fullSnapshot(t, root)
	if got, err := OpenSnapshot(root); err != nil || !reflect.DeepEqual(got, after) || after.Seq == want.Seq {
		t.Fatalf("after a commit: %v %+v\nwant %+v", err, got, after)
	}
	entry := writeManifest(t, root, &Manifest{Seq: 99, ID: "forged", Time: time.Now()}, nil)
	var le *LedgerError
	if _, err := OpenSnapshot(root); !errors.As(err, &le) || le.Entry != entry {
		t.Fatalf("forged manifest with a cache in place: %v", err)
	}
}

// An unsigned lake, written by an older trailsql, has no key to sign a cache with: its readers
// read every manifest, and write nothing.
func TestSnapshotCacheUnsignedLake(t *testing.T) {
	root := buildLake(t)
	ms, _ := readLedger(t, root)
	for _, m := range ms {
		writeManifest(t, root, &m, nil)
	}
	os.Remove(filepath.Join(root, keyFile))
	want := fullSnapshot(t, root)
	for range 2 {
		if got, err := OpenSnapshot(root); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("%v %+v", err, got)
		}
	}
	if _, err := os.Stat(filepath.Join(root, snapshotCacheFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("cache written for an unsigned lake: %v", err)
	}
}

// FuzzSnapshotCache feeds the cache reader any content, signed with the lake's key so that its
// decoding is reached: it never panics, and what it accepts names the ledger's manifests.
func FuzzSnapshotCache(f *testing.F) {
	f.Add(encodeSnapshotCache(&Snapshot{Seq: 3, Files: []File{{Path: "cloudtrail_logs/a\n.parquet", Rows: 1, Commit: "c", Origins: []int64{1, 2}, Values: map[string][]string{"errorcode": {}, "eventname": {"A", "B"}}}, {Path: "x"}}}, []string{"0000000000000001-a.json.gz"}))
	f.Add([]byte("trailsql snapshot v3 x 1 1 1\n\"c\"\n\"p\" \"\" \"\" \"\" \"\" \"\" 1 2 \"\" \"\" \"\" 0 0 0 0 \"1,2\" \"{\\\"eventname\\\":[\\\"A\\\"]}\"\n"))
	f.Add([]byte("\x00\n\n"))
	key := bytes.Repeat([]byte{1}, 32)
	f.Fuzz(func(t *testing.T, body []byte) {
		root := t.TempDir()
		os.MkdirAll(filepath.Join(root, metaDir), 0o755)
		writeCache(t, root, body, snapshotMAC(key, body))
		s := cachedSnapshot(root, key, []string{"0000000000000001-a.json.gz"})
		if s == nil {
			return
		}
		if s.Root != root {
			t.Fatalf("root %q", s.Root)
		}
		// What is accepted is written back the same.
		again, ledger, err := decodeSnapshotCache(string(encodeSnapshotCache(s, []string{"0000000000000001-a.json.gz"})))
		again.Root = root
		if err != nil || ledger.ledger != ledgerID([]string{"0000000000000001-a.json.gz"}) || !reflect.DeepEqual(again, s) {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, again, s)
		}
	})
}

// Every field of a snapshot's files comes back from the cache as it was, whatever its text holds.
func TestSnapshotCacheRoundTrip(t *testing.T) {
	names := []string{"0000000000000001-a.json.gz", "0000000000000002-b.json.gz"}
	s := &Snapshot{Seq: 2, Files: []File{
		{Path: "cloudtrail_logs/account=1/region=r/year=2024/month=01/day=02/x \"y\".parquet", Partition: Partition{Account: "1", Region: "r", Year: "2024", Month: "01", Day: "02"},
			Rows: 3, Bytes: 4, SHA256: "ab", MinTime: "2024-01-02T00:00:00Z", MaxTime: "2024-01-02T23:00:00Z", HashOffset: 5, HashBytes: 6, HashVersion: 2,
			Values: map[string][]string{"useridentity.type": {"Root", "IAMUser"}, "errorcode": {}}, Origins: []int64{1, 2}, Commit: names[1]},
		{Path: "cloudtrail_logs/b\n.parquet", Commit: names[0]},
	}}
	got, ledger, err := decodeSnapshotCache(string(encodeSnapshotCache(s, names)))
	if err != nil || ledger.ledger != ledgerID(names) || ledger.manifests != 2 || !reflect.DeepEqual(got, s) {
		t.Fatalf("%v %+v\n%+v\nwant %+v", err, ledger, got, s)
	}
}

// The fast reading of a file's values gives what encoding/json gives for every text
// json.Marshal writes, and declines (0) whatever it does not read, which the cache then decodes
// as JSON.
func TestQuotedValues(t *testing.T) {
	cases := []map[string][]string{
		{},
		{"errorcode": {}},
		{"eventname": {"ConsoleLogin"}, "errorcode": {}, "useridentity.type": {"AssumedRole", "IAMUser", "Root"}},
		{"eventsource": {"s3.amazonaws.com", "sts.amazonaws.com"}, "eventname": {"a b", "", "x,y", "[z]", "{w}", ":", "}"}},
		{"errorcode": {`say "no"`}},                    // an escaped quote
		{"errorcode": {`back\slash`}},                  // an escaped backslash
		{"errorcode": {"<tag>&"}},                      // HTML characters, escaped by json.Marshal
		{"errorcode": {"tab\there", "line\nbreak"}},    // control characters
		{"eventname": {"Überweisung", "日本", "\u2028"}}, // non-ASCII
		{"eventname": {"\xff"}},                        // not UTF-8: JSON reads U+FFFD
		{"eventname": nil},                             // null
		{`a"b`: {"v"}, `c\d`: {"w"}},                   // escapes in a key
	}
	for _, want := range cases {
		js, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		q := strconv.Quote(string(js))
		var dec map[string][]string
		if err := json.Unmarshal(js, &dec); err != nil {
			t.Fatal(err)
		}
		got, n := quotedValues(q + ` "next field"`)
		if n > 0 && (n != len(q) || !reflect.DeepEqual(got, dec)) {
			t.Errorf("%s: read %#v over %d bytes, JSON reads %#v over %d", q, got, n, dec, len(q))
		}
		plain := !strings.Contains(strings.ReplaceAll(q[1:len(q)-1], `\"`, ""), `\`) && !strings.Contains(string(js), "null")
		for _, b := range []byte(q) {
			if b >= 0x7f || b < 0x20 {
				plain = false
			}
		}
		if n == 0 && plain {
			t.Errorf("%s: declined a plain text", q)
		}
	}
	// Texts json.Marshal does not write are declined, never read wrongly.
	for _, q := range []string{``, `"`, `""`, `"{"`, `"{}`, `"{}x"`, `"[]"`, `"{\"a\":[\"b\"]"`, `"{\"a\":[\"b\"],}"`,
		`"{\"a\":[\"b\",]}"`, `"{\"a\":[\"b\"] }"`, `"{\"a\":\"b\"}"`, `"{\"a\":[\"b\\\"]}"`, `"{\"a\":[1]}"`, `"{ }"`,
		`"{\"a\":[\"b\"]}`, `"{\"a\":[\"b"]}"`} {
		if got, n := quotedValues(q); n != 0 || got != nil {
			t.Errorf("%s: read %#v over %d bytes, want it declined", q, got, n)
		}
	}
}

// A cache of the ledger a few commits ago is brought up to date from those commits alone, and
// gives the snapshot the whole ledger gives: after plain commits, a compaction, a quarantine
// and a commit that replaces what the cache does not hold live (which the ledger alone knows:
// then it is read whole).
func TestSnapshotCacheExtended(t *testing.T) {
	root := filepath.Join(t.TempDir(), "lake")
	addSources(t, root, src0)
	if _, err := OpenSnapshot(root); err != nil { // writes the cache
		t.Fatal(err)
	}
	_, key := readLedger(t, root)
	step := func(what string, extends bool) {
		t.Helper()
		want := fullSnapshot(t, root)
		names, _ := manifestNames(root)
		if s := snapshotFromCache(root, key, names); (s != nil) != extends || s != nil && !reflect.DeepEqual(s, want) {
			t.Fatalf("%s: from the cache %+v (extended: want %v)\nwant %+v", what, s, extends, want)
		}
		if got, err := OpenSnapshot(root); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: %v %+v\nwant %+v", what, err, got, want)
		}
		if s := cachedSnapshot(root, key, names); !reflect.DeepEqual(s, want) {
			t.Fatalf("%s: the cache after holds %+v", what, s)
		}
	}
	addSources(t, root, src1)
	step("one commit", true)
	addSources(t, root, src2)
	addSources(t, root, source{"src-3", 300, 320})
	step("two commits", true)
	compactLake(t, root)
	addSources(t, root, source{"src-4", 400, 410})
	step("a compaction and a commit", true)

	ms, _ := readLedger(t, root)
	last := ms[len(ms)-1].Seq
	live := liveFile(t, root, part)
	writeManifest(t, root, &Manifest{Seq: last + 1, ID: "quarantine", Time: time.Now(), Quarantined: []string{live.Path}}, key)
	step("a quarantine", true)
	// Replacing the file quarantined a commit ago: the ledger knows it, the cache does not.
	writeManifest(t, root, &Manifest{Seq: last + 2, ID: "replace", Time: time.Now(), Replaces: []string{live.Path}}, key)
	step("a replacement of a file not live", false)

	// The extension reads the new commits only: a manifest damaged in place before them is not
	// read again (as with the cache of the same ledger; writers and check report it).
	addSources(t, root, source{"src-5", 500, 510})
	want := fullSnapshot(t, root)
	first := filepath.Join(root, commitsDir, manifestName(ms[0].Seq, ms[0].ID))
	if err := os.WriteFile(first, []byte("damaged"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := OpenSnapshot(root); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("extended past a damaged manifest: %v %+v", err, got)
	}
}
