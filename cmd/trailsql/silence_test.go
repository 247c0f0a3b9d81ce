package main

import (
	"strings"
	"testing"
)

func TestSilenceCommands(t *testing.T) {
	lake := t.TempDir()
	out := mustRun(t, 0, "silence", "add", "--lake", lake, "rule=root-activity", "account=111122223333", "--duration", "4h", "--comment", "break-glass drill", "--created-by", "ops")
	if !strings.HasPrefix(out, "silence ") || !strings.Contains(out, " added, until ") {
		t.Fatalf("add: %q", out)
	}
	id := strings.Fields(out)[1]
	out = mustRun(t, 0, "silence", "list", "--lake", lake, "--format", "csv")
	if !strings.Contains(out, id+",active,rule=root-activity account=111122223333,") || !strings.Contains(out, "ops,break-glass drill") {
		t.Fatalf("list:\n%s", out)
	}
	mustRun(t, 0, "silence", "expire", "--lake", lake, id[:5])
	if out = mustRun(t, 0, "silence", "list", "--lake", lake, "--format", "csv"); strings.Contains(out, id) {
		t.Errorf("an expired silence is listed without --all:\n%s", out)
	}
	if out = mustRun(t, 0, "silence", "list", "--all", "--lake", lake, "--format", "csv"); !strings.Contains(out, id+",expired,") {
		t.Errorf("list --all:\n%s", out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"silence", "add", "--lake", lake, "rule", "--comment", "x"}, "matcher \"rule\""},
		{[]string{"silence", "add", "--lake", lake, "rule=x"}, "--comment"},
		{[]string{"silence", "add", "--lake", lake, "rule=x", "--comment", "c", "--ends-at", "2001-01-01T00:00:00Z"}, "in the past"},
		{[]string{"silence", "expire", "--lake", lake, "nope"}, "no such silence"},
	} {
		code, _, errOut := run(t, "", tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, %q: want an error with %q", tc.args, code, errOut, tc.want)
		}
	}
}
