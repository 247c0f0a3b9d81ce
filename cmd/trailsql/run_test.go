package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunBadConfig: a malformed config is an error naming its line, and nothing is started
// (no lake, no outbox is made).
func TestRunBadConfig(t *testing.T) {
	dir := t.TempDir()
	lake := filepath.Join(dir, "lake")
	tests := []struct {
		name, text, want string
	}{
		{"unknown setting", "sources:\n  paths: [logs]\n  interval: 1m\n  watch: true\n", "trailsql.yml:4: unknown setting watch"},
		{"bad destination", "sources:\n  paths: [logs]\nnotify:\n  destinations:\n    hook: {type: webhok}\n  routes: [{destinations: [hook]}]\n", `trailsql.yml:5: destination type "webhok"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := filepath.Join(dir, "trailsql.yml")
			if err := os.WriteFile(cfg, []byte(tt.text), 0o644); err != nil {
				t.Fatal(err)
			}
			code, _, errOut := run(t, "", "run", "--config", cfg, "--lake", lake)
			if code != 1 || !strings.Contains(errOut, tt.want) {
				t.Fatalf("exit %d, stderr %q; want 1 and %q", code, errOut, tt.want)
			}
			if _, err := os.Stat(lake); !os.IsNotExist(err) {
				t.Fatalf("the lake was made: %v", err)
			}
		})
	}
	if code, _, errOut := run(t, "", "run", "--lake", lake); code != 1 || !strings.Contains(errOut, "give --config FILE") {
		t.Fatalf("run without --config: exit %d, %q", code, errOut)
	}
}
