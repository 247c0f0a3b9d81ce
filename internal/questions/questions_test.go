package questions

import (
	"testing"
	"time"
)

func TestCatalogParses(t *testing.T) {
	all, err := Catalog()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 6 {
		t.Fatalf("%d questions", len(all))
	}
	for _, q := range all {
		if q.Title == "" || q.Description == "" {
			t.Errorf("%s lacks a title or description", q.Name)
		}
		args, err := q.Bind(Params{From: time.Unix(0, 0), To: time.Unix(1, 0), Principal: "arn:aws:iam::1:user/a"})
		if err != nil || len(args) != len(q.Args) {
			t.Errorf("%s: bind: %v", q.Name, err)
		}
	}
	if _, err := Get("nope"); err == nil {
		t.Error("unknown question found")
	}
}
