package engine

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/trailsql/trailsql/internal/athena"
	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/lake"
)

func openTestEngine(t testing.TB, root string, prune bool) *Engine {
	t.Helper()
	opt := Options{Lake: root, Setup: athena.Setup(), Aliases: []string{"cloudtrail"}}
	opt.Translate = func(sql string) (string, func(error) error, error) {
		tr, err := athena.TranslateMapped(sql)
		if err != nil {
			return "", nil, err
		}
		return tr.SQL, tr.MapError, nil
	}
	if prune {
		opt.Bounds = func(sql string, tables map[string][]string) *Bounds {
			b := athena.FindBounds(sql, tables)
			if b == nil {
				return nil
			}
			eb := Bounds(*b)
			return &eb
		}
	}
	e, err := Open(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// Pruning reads only the files that can hold matching rows, and never changes an answer.
func TestPruning(t *testing.T) {
	root := t.TempDir()
	var lines []string
	for day := 1; day <= 3; day++ {
		for _, region := range []string{"us-east-1", "eu-west-1"} {
			for h := 0; h < 24; h += 6 {
				lines = append(lines, fmt.Sprintf(`{"eventTime":"2024-03-%02dT%02d:00:00Z","eventName":"E%d","awsRegion":"%s","recipientAccountId":"111122223333","eventID":"%d-%s-%d"}`, day, h, h, region, day, region, h))
			}
		}
	}
	lines = append(lines, `{"eventTime":"garbage","eventName":"X","awsRegion":"us-east-1","recipientAccountId":"111122223333","eventID":"bad"}`)
	w, err := lake.OpenWriter(context.Background(), root, lake.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cloudtrail.ReadEvents(strings.NewReader(strings.Join(lines, "\n")), false, func(ev cloudtrail.Event) error {
		_, err := w.Add(lake.Partition(cloudtrail.PartitionOf(ev.Record, "")), ev.Record, cloudtrail.Hash(ev.Record))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.Close()
	pruned, full := openTestEngine(t, root, true), openTestEngine(t, root, false)
	cases := []struct {
		sql   string
		files int
	}{
		{"SELECT count(*) FROM cloudtrail_logs WHERE day = '02'", 2},
		{"SELECT count(*) FROM cloudtrail_logs WHERE region = 'us-east-1' AND day IN ('01', '03')", 2},
		{"SELECT count(*) FROM cloudtrail_logs WHERE eventtime BETWEEN '2024-03-02T00:00:00Z' AND '2024-03-02T23:59:59Z'", 2},
		{"SELECT count(*) FROM cloudtrail_logs WHERE eventtime >= '2024-03-03T00:00:00Z'", 3},
		{"SELECT eventid FROM cloudtrail_logs t WHERE from_iso8601_timestamp(t.eventtime) > from_iso8601_timestamp('2024-03-03T06:00:00Z') ORDER BY 1", 2},
		{"SELECT count(*) FROM cloudtrail WHERE from_iso8601_timestamp(eventtime) < date_add('day', -1, from_iso8601_timestamp('2024-03-03T00:00:00Z'))", 4},
		{"SELECT count(*) FROM cloudtrail_logs WHERE day = '02' OR region = 'eu-west-1'", 7},
		{"SELECT count(*) FROM cloudtrail_logs WHERE eventname = 'X'", 7},
		{"SELECT count(*) FROM cloudtrail_logs a JOIN cloudtrail_logs b ON a.eventid = b.eventid WHERE a.day = '01'", 7},
		{"WITH x AS (SELECT * FROM cloudtrail_logs WHERE account = '111122223333' AND day = '01') SELECT count(*) FROM x", 2},
	}
	for _, c := range cases {
		got, err := pruned.Query(context.Background(), c.sql)
		if err != nil {
			t.Fatalf("%s: %v", c.sql, err)
		}
		want, err := full.Query(context.Background(), c.sql)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Rows, want.Rows) {
			t.Errorf("%s: pruned answer %v differs from %v", c.sql, got.Rows, want.Rows)
		}
		if got.Stats.FilesRead != c.files || got.Stats.FilesTotal != 7 {
			t.Errorf("%s: read %d of %d files, want %d", c.sql, got.Stats.FilesRead, got.Stats.FilesTotal, c.files)
		}
	}
}

// Bounds given as parameters prune too.
func TestPruningParameters(t *testing.T) {
	root := t.TempDir()
	w, err := lake.OpenWriter(context.Background(), root, lake.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for day := 1; day <= 4; day++ {
		r := &cloudtrail.Record{}
		et, id := fmt.Sprintf("2024-03-%02dT10:00:00Z", day), fmt.Sprint(day)
		r.EventTime, r.EventID = &et, &id
		if _, err := w.Add(lake.Partition(cloudtrail.PartitionOf(r, "111122223333")), r, cloudtrail.Hash(r)); err != nil {
			t.Fatal(err)
		}
	}
	w.Commit(context.Background())
	w.Close()
	e := openTestEngine(t, root, true)
	res, err := e.Query(context.Background(), "SELECT count(*) FROM cloudtrail_logs WHERE eventtime >= ? AND eventtime < ?", "2024-03-02T00:00:00Z", "2024-03-04T00:00:00Z")
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows[0][0] != int64(2) || res.Stats.FilesRead != 2 {
		t.Fatalf("count %v from %d files, want 2 from 2", res.Rows[0][0], res.Stats.FilesRead)
	}
}

// A partition column compared with a parameter prunes like one compared with a literal.
func TestPruningPartitionParameter(t *testing.T) {
	root := t.TempDir()
	w, err := lake.OpenWriter(context.Background(), root, lake.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, acct := range []string{"111122223333", "444455556666", "777788889999"} {
		r := &cloudtrail.Record{}
		et, id := "2024-03-01T10:00:00Z", fmt.Sprint(i)
		r.EventTime, r.EventID = &et, &id
		if _, err := w.Add(lake.Partition(cloudtrail.PartitionOf(r, acct)), r, cloudtrail.Hash(r)); err != nil {
			t.Fatal(err)
		}
	}
	w.Commit(context.Background())
	w.Close()
	e := openTestEngine(t, root, true)
	res, err := e.Query(context.Background(), "SELECT count(*) FROM cloudtrail_logs WHERE account = ? AND eventtime >= ?", "444455556666", "2024-01-01T00:00:00Z")
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows[0][0] != int64(1) || res.Stats.FilesRead != 1 {
		t.Fatalf("count %v from %d files, want 1 from 1", res.Rows[0][0], res.Stats.FilesRead)
	}
}
