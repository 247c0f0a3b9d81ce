package rules

import (
	"embed"
	"path"
)

//go:embed builtin/*.yml
var builtinFiles embed.FS

// Builtin returns the rules shipped with trailsql: the CIS AWS Foundations monitoring controls
// as CloudWatch filter patterns, and trailsql's own detections. Their errors are defects of
// trailsql, which a test keeps at none.
func Builtin() ([]*Rule, []error) {
	ents, err := builtinFiles.ReadDir("builtin")
	if err != nil {
		return nil, []error{err}
	}
	var out []*Rule
	var errs []error
	for _, e := range ents {
		name := path.Join("builtin", e.Name())
		data, err := builtinFiles.ReadFile(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rs, es := Parse(name, data)
		for _, r := range rs {
			r.Builtin, r.File, r.Line = true, "", 0
		}
		out, errs = append(out, rs...), append(errs, es...)
	}
	return out, errs
}
