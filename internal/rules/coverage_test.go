package rules

import (
	"os"

	"go.yaml.in/yaml/v3"
)

// Coverage is coverage, for the tests of package rules_test.
var Coverage = coverage

// RuleCoverage counts, for one rule, the events of a test file's cases that name it under
// 'rules': those it must fire on, and those it must not.
type RuleCoverage struct{ Fires, Quiet int }

// Coverage reads a rule test file and counts, per rule named under a case's 'rules', the events
// it must fire on and the events it must not (an unreadable file counts nothing: RunTests says
// why).
func coverage(file string) map[string]RuleCoverage {
	out := map[string]RuleCoverage{}
	data, err := os.ReadFile(file)
	if err != nil {
		return out
	}
	var tf testFile
	if yaml.Unmarshal(data, &tf) != nil {
		return out
	}
	for _, tc := range tf.Tests {
		for _, id := range tc.Rules {
			fired := map[string]bool{}
			for _, a := range tc.Alerts {
				if a.Rule == id {
					fired[a.EventID] = true
				}
			}
			c := out[id]
			c.Fires += len(fired)
			c.Quiet += len(tc.Events) - len(fired)
			out[id] = c
		}
	}
	return out
}
