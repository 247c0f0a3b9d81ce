package engine

import (
	"context"
	"testing"
)

// firstRows keeps n rows and then asks for no more.
type firstRows struct {
	n    int
	rows [][]any
}

func (f *firstRows) Begin(columns, types []string) error { return nil }
func (f *firstRows) Row(row []any) error {
	if len(f.rows) == f.n {
		return ErrEnoughRows
	}
	f.rows = append(f.rows, row)
	return nil
}

// TestEnoughRows: a sink that has enough ends the result without failing it, and the result says
// it was truncated; one that takes every row does not.
func TestEnoughRows(t *testing.T) {
	e := openTestEngine(t, writeLake(t, `{"eventTime":"2024-03-01T10:00:00Z","eventName":"A","awsRegion":"us-east-1","recipientAccountId":"111122223333","eventID":"1"}`), false)
	for _, c := range []struct {
		keep      int
		truncated bool
	}{{3, true}, {10, false}, {20, false}} {
		sink := &firstRows{n: c.keep}
		res, err := e.QueryTo(context.Background(), sink, "SELECT * FROM range(10) t(x)")
		if err != nil {
			t.Fatalf("keep %d: %v", c.keep, err)
		}
		if res.Truncated != c.truncated || len(sink.rows) != min(c.keep, 10) || res.Seq == 0 {
			t.Errorf("keep %d: truncated %v, %d rows, commit %d", c.keep, res.Truncated, len(sink.rows), res.Seq)
		}
	}
}
