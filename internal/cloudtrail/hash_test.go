package cloudtrail

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateHash = flag.Bool("update", false, "rewrite testdata/hash.golden (only for a new hash version)")

// The content hash is the dedup key stored in every lake's ledger: it must never change, or
// existing lakes would store again the events they hold. testdata/hash.golden pins the version-1
// hashes (HashV1, which lakes written before version 2 hold) of the events of testdata/hash.jsonl
// (escapes, Unicode, maps, residual fields, every column), testdata/hash-v2.golden the current
// ones. A change of the hash function must come with a new HashVersion, not with `go test -update`.
func TestHashIsStable(t *testing.T) {
	for _, c := range []struct {
		golden string
		hash   func(*Record) uint64
	}{{"hash.golden", HashV1}, {"hash-v2.golden", Hash}} {
		t.Run(c.golden, func(t *testing.T) { checkHashGolden(t, c.golden, c.hash) })
	}
}

func checkHashGolden(t *testing.T, name string, hash func(*Record) uint64) {
	f, err := os.Open(filepath.Join("testdata", "hash.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got strings.Builder
	res, err := ReadEvents(f, false, func(ev Event) error {
		fmt.Fprintf(&got, "%d %016x\n", ev.Index, hash(ev.Record))
		return nil
	})
	if err != nil || res.Fatal != nil || len(res.Errors) > 0 || res.Events != 4 {
		t.Fatalf("%+v %v", res, err)
	}
	golden := filepath.Join("testdata", name)
	if *updateHash {
		if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != string(want) {
		t.Fatalf("content hashes changed:\n%s\nwant:\n%s", got.String(), want)
	}
}

// decodeOne normalises one JSON event.
func decodeOne(t *testing.T, js string) *Record {
	t.Helper()
	var n Normalizer
	r, _, err := n.Normalize([]byte(js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return r
}

// Two records equal as JSON values are one event whatever the order of the keys of their
// objects (AWS's documentation events, reused in Panther's tests, come with the keys of
// requestParameters in another order) or the escapes of their strings: they hash alike. The
// stored text keeps its own order.
func TestHashIgnoresKeyOrder(t *testing.T) {
	a := `{"eventVersion":"1.08","eventTime":"2024-01-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"PutObject",
		"requestParameters":{"bucketName":"b","key":"k","x":{"z":1,"a":[{"q":1,"p":2}],"m":"\u00e9"}},
		"responseElements":{"b":true,"a":null},
		"additionalEventData":{"SignatureVersion":"SigV4","CipherSuite":"ECDHE"},
		"vendorField":{"y":2,"x":1},"otherField":"o","eventID":"e1"}`
	b := `{"otherField":"o","eventID":"e1","vendorField":{"x":1,"y":2},
		"requestParameters":{"x":{"m":"é","a":[{"p":2,"q":1}],"z":1},"key":"k","bucketName":"b"},
		"responseElements":{"a":null,"b":true},
		"eventName":"PutObject","additionalEventData":{"CipherSuite":"ECDHE","SignatureVersion":"SigV4"},
		"eventSource":"s3.amazonaws.com","eventTime":"2024-01-01T00:00:00Z","eventVersion":"1.08"}`
	ra, rb := decodeOne(t, a), decodeOne(t, b)
	if *ra.RequestParameters == *rb.RequestParameters {
		t.Fatal("the stored payloads should keep their own key order")
	}
	if Hash(ra) != Hash(rb) {
		t.Errorf("records equal as JSON values hash apart:\n%s\n%s", a, b)
	}
	if HashV1(ra) == HashV1(rb) {
		t.Errorf("version 1 ignored key order too: the test shows nothing")
	}
	// Different values, array order, or a member moved to another object are other events.
	for _, other := range []string{
		strings.Replace(b, `"z":1`, `"z":2`, 1),
		strings.Replace(b, `{"p":2,"q":1}],"z":1`, `{"p":2,"q":1}],"z":1,"extra":0`, 1),
		strings.Replace(b, `"a":[{"p":2,"q":1}]`, `"a":[{"p":2,"q":1},3]`, 1),
		strings.Replace(b, `"vendorField":{"x":1,"y":2}`, `"vendorField":{"x":1},"y":2`, 1),
	} {
		if Hash(decodeOne(t, other)) == Hash(ra) {
			t.Errorf("a different record hashes like the first:\n%s", other)
		}
	}
	// Keys already in order: the hash of version 1, so nothing changes for such records.
	sorted := `{"eventTime":"2024-01-01T00:00:00Z","requestParameters":{"a":1,"b":{"c":2,"d":[{"e":3}]}},"zz":{"a":1,"b":2}}`
	if r := decodeOne(t, sorted); Hash(r) != HashV1(r) {
		t.Errorf("sorted keys: Hash %x, HashV1 %x", Hash(r), HashV1(r))
	}
}
