package main

import (
	"encoding/csv"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trailsql/trailsql/internal/answer/answertest"
	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/generate"
)

// Every query of ../shared/athena-corpus runs unchanged over a lake holding every event of
// ../shared/datasets plus a generated trail, and its answer agrees with an independent
// computation in Go over the same events (decoded again here, without SQL).
func TestAthenaCorpus(t *testing.T) {
	corpus := sharedDir(t, "athena-corpus")
	datasets := sharedDir(t, "datasets")
	dir := t.TempDir()
	trail := filepath.Join(dir, "trail")
	if _, err := generate.Generate(t.Context(), trail, generate.Options{Seed: 3, Events: 20000, End: time.Now().UTC().Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	lakeDir := filepath.Join(dir, "lake")
	run(t, "", "ingest", "--lake", lakeDir, datasets, trail) // exit 1: the invalid fixture

	recs := decodeAll(t, datasets, trail)
	total := scalar(t, lakeDir, "SELECT count(*) FROM cloudtrail_logs")
	if total != fmt.Sprint(len(recs)) {
		t.Fatalf("lake holds %s events, the independent decode %d", total, len(recs))
	}

	files, _ := filepath.Glob(filepath.Join(corpus, "*.sql"))
	ddl, _ := filepath.Glob(filepath.Join(corpus, "ddl", "*.sql"))
	if len(files) < 40 || len(ddl) < 3 {
		t.Fatalf("corpus has %d queries and %d DDL statements", len(files), len(ddl))
	}
	for _, f := range ddl {
		out := mustRun(t, 0, "query", "--lake", lakeDir, "-f", f)
		if !strings.Contains(out, "not needed") {
			t.Errorf("%s: %s", filepath.Base(f), out)
		}
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".sql")
		t.Run(name, func(t *testing.T) {
			before := time.Now()
			code, out, errOut := run(t, "", "query", "--lake", lakeDir, "--format", "csv", "-f", f)
			after := time.Now()
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			got := len(rows) - 1
			check, ok := corpusChecks[name[:strings.IndexByte(name+"-", '-')]]
			if !ok {
				t.Fatalf("no independent check for %s", name)
			}
			// Queries relative to now() are checked against the window at both ends of the run.
			w1, w2 := check(recs, before), check(recs, after)
			if got != w1 && got != w2 {
				t.Errorf("%d rows, the independent computation gives %d", got, w1)
			}
		})
	}
}

// decodeAll decodes every event under the folders, once per distinct record, as the lake keeps.
func decodeAll(t *testing.T, dirs ...string) []*cloudtrail.Record {
	return answertest.Decode(t, dirs...)
}

// Null-safe accessors of a record's fields.
var (
	sv         = answertest.Str
	uid        = answertest.User
	issuer     = answertest.Issuer
	jsonScalar = answertest.JSONScalar
)

func eventTime(r *cloudtrail.Record) (time.Time, bool) {
	if r.EventTime == nil {
		return time.Time{}, false
	}
	return cloudtrail.ParseTime(*r.EventTime)
}

// between is SQL's string BETWEEN on a nullable column.
func between(p *string, lo, hi string) bool { return p != nil && *p >= lo && *p <= hi }

func count(recs []*cloudtrail.Record, keep func(r *cloudtrail.Record) bool) int {
	n := 0
	for _, r := range recs {
		if keep(r) {
			n++
		}
	}
	return n
}

// groups counts the distinct keys (NULL is a key of its own) of the kept records.
func groups(recs []*cloudtrail.Record, keep func(r *cloudtrail.Record) bool, key func(r *cloudtrail.Record) string) int {
	set := map[string]bool{}
	for _, r := range recs {
		if keep(r) {
			set[key(r)] = true
		}
	}
	return len(set)
}

func nk(ps ...*string) string {
	var b strings.Builder
	for _, p := range ps {
		if p == nil {
			b.WriteString("\x00NULL")
		} else {
			b.WriteString("\x00" + *p)
		}
	}
	return b.String()
}

func minInt(a, b int) int {
	if a < b {
		return a
	}
	return b
}

func partDate(r *cloudtrail.Record) (y, m, d string) {
	p := cloudtrail.PartitionOf(r, "")
	return p.Year, p.Month, p.Day
}

// likeRe turns a SQL LIKE pattern into an anchored regexp.
func likeRe(pat string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("(?s)^")
	for _, c := range pat {
		switch c {
		case '%':
			b.WriteString(".*")
		case '_':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

func like(p *string, pat string) bool { return p != nil && likeRe(pat).MatchString(*p) }

func is(p *string, v string) bool { return p != nil && *p == v }

// corpusChecks compute, for each corpus query (by its number), the number of rows Trino returns,
// from the decoded events and the query's text as documented in the file.
var corpusChecks = map[string]func(recs []*cloudtrail.Record, now time.Time) int{
	"01": func(recs []*cloudtrail.Record, _ time.Time) int {
		return minInt(10, count(recs, func(r *cloudtrail.Record) bool { return issuer(r).ARN != nil }))
	},
	"02": func(recs []*cloudtrail.Record, _ time.Time) int {
		return resourceRows(recs, nil, "%example/datafile.txt")
	},
	"03": func(recs []*cloudtrail.Record, _ time.Time) int {
		return resourceRows(recs, func(r *cloudtrail.Record) bool { return is(r.EventName, "DeleteBucket") }, "%")
	},
	"04": func(recs []*cloudtrail.Record, _ time.Time) int {
		return count(recs, func(r *cloudtrail.Record) bool {
			return is(r.EventSource, "s3.amazonaws.com") && is(r.EventName, "GetObject") && is(uid(r).AccountID, "anonymous") && uid(r).ARN == nil && like(r.RequestParameters, "%[your bucket name ]%")
		})
	},
	"05": func(recs []*cloudtrail.Record, _ time.Time) int { return minInt(100, len(recs)) },
	"08": func(recs []*cloudtrail.Record, _ time.Time) int {
		return minInt(2, count(recs, func(r *cloudtrail.Record) bool { return is(r.EventSource, "s3.amazonaws.com") }))
	},
	"09": func(recs []*cloudtrail.Record, _ time.Time) int { return minInt(10, count(recs, sigV2)) },
	"10": func(recs []*cloudtrail.Record, _ time.Time) int {
		return groups(recs, sigV2, func(r *cloudtrail.Record) string { return nk(uid(r).ARN) })
	},
	"11": func(recs []*cloudtrail.Record, _ time.Time) int {
		return groups(recs, func(r *cloudtrail.Record) bool {
			y, m, d := partDate(r)
			return sigV2(r) && is(r.AWSRegion, "us-east-1") && y == "2019" && m == "02" && d == "19"
		}, func(r *cloudtrail.Record) string { return nk(uid(r).ARN) })
	},
	"12": func(recs []*cloudtrail.Record, _ time.Time) int {
		return count(recs, func(r *cloudtrail.Record) bool {
			return is(r.EventName, "PutObject") && between(r.EventTime, "2019-07-05T00:00:00Z", "2019-07-06T00:00:00Z")
		})
	},
	"14": func(recs []*cloudtrail.Record, _ time.Time) int {
		return count(recs, func(r *cloudtrail.Record) bool {
			return is(uid(r).AccountID, "ANONYMOUS_PRINCIPAL") && between(r.EventTime, "2019-07-05T00:00:00Z", "2019-07-06T00:00:00Z")
		})
	},
	"15": func(recs []*cloudtrail.Record, _ time.Time) int {
		return groups(recs, func(r *cloudtrail.Record) bool {
			return is(r.ErrorCode, "ThrottlingException") && between(r.EventTime, "2018-10-14T03:00:08Z", "2018-10-23T07:15:08Z")
		}, func(r *cloudtrail.Record) string {
			return nk(r.ErrorCode, r.AWSRegion, r.EventSource, r.UserAgent, r.EventName)
		})
	},
	"15b": func(recs []*cloudtrail.Record, _ time.Time) int {
		return groups(recs, func(r *cloudtrail.Record) bool {
			return is(r.ErrorCode, "ThrottlingException") && between(r.EventTime, "2020-03-01T00:00:00Z", "2030-03-27T00:00:00Z")
		}, func(r *cloudtrail.Record) string {
			return nk(uid(r).PrincipalID, r.ErrorCode, r.AWSRegion, r.EventSource, r.UserAgent, r.EventName)
		})
	},
	"16": keyInWindow, "17": keyInWindow, "18": keyInWindow, "20": func([]*cloudtrail.Record, time.Time) int { return 0 },
	"19": func(recs []*cloudtrail.Record, _ time.Time) int {
		// BETWEEN 'START_TIME' AND 'END_TIME' is empty: 'START_TIME' > 'END_TIME'.
		return 0
	},
	"22": func(recs []*cloudtrail.Record, now time.Time) int {
		return count(recs, func(r *cloudtrail.Record) bool {
			return is(r.EventSource, "quicksight.amazonaws.com") && is(r.EventName, "GetDashboard")
		})
	},
	"23": func(recs []*cloudtrail.Record, _ time.Time) int {
		return minInt(50, groups(recs, func(r *cloudtrail.Record) bool {
			y, m, d := partDate(r)
			return y == "2019" && m == "09" && d == "30" && r.ErrorCode != nil && *r.ErrorCode != ""
		}, func(r *cloudtrail.Record) string { return nk(r.ErrorCode, uid(r).ARN) }))
	},
	"24": func(recs []*cloudtrail.Record, _ time.Time) int {
		return groups(recs, func(r *cloudtrail.Record) bool {
			y, m, d := partDate(r)
			return y == "2019" && m == "09" && d == "30" && like(uid(r).ARN, "%alice%")
		}, func(r *cloudtrail.Record) string { return nk(r.EventName) })
	},
	"25": func(recs []*cloudtrail.Record, _ time.Time) int {
		return groups(recs, func(r *cloudtrail.Record) bool {
			y, m, _ := partDate(r)
			return y == "2019" && m == "09" && is(r.SourceIPAddress, "1.2.3.4")
		}, func(r *cloudtrail.Record) string { return nk(r.RecipientAccountID) })
	},
	// year = '####': no partition has that value.
	"26": none, "27": none, "28": none, "29": none, "30": none, "31": none, "40": none,
	"32": func(recs []*cloudtrail.Record, _ time.Time) int {
		return groups(recs, func(r *cloudtrail.Record) bool { return r.ErrorCode == nil }, func(r *cloudtrail.Record) string { return nk(issuer(r).UserName) })
	},
	"33": func(recs []*cloudtrail.Record, _ time.Time) int {
		return groups(recs, func(r *cloudtrail.Record) bool {
			return is(issuer(r).ARN, "arn:aws:iam::111111111111:role/example") && r.ErrorCode == nil
		}, func(r *cloudtrail.Record) string { return nk(r.EventSource, r.EventName) })
	},
	"34": func(recs []*cloudtrail.Record, _ time.Time) int {
		re := regexp.MustCompile(`"publiclyAccessible":"([^"]+)"`)
		return count(recs, func(r *cloudtrail.Record) bool {
			if !is(r.EventSource, "rds.amazonaws.com") || !is(r.EventName, "RestoreDBInstanceFromDBSnapshot") || r.ResponseElements == nil {
				return false
			}
			m := re.FindStringSubmatch(*r.ResponseElements)
			return m != nil && m[1] == "true"
		})
	},
	"35": func(recs []*cloudtrail.Record, _ time.Time) int {
		return count(recs, func(r *cloudtrail.Record) bool {
			return is(uid(r).Type, "Root") && r.EventType != nil && *r.EventType != "AwsServiceEvent"
		})
	},
	"36": func(recs []*cloudtrail.Record, now time.Time) int {
		return count(recs, func(r *cloudtrail.Record) bool {
			t, ok := eventTime(r)
			return ok && t.After(now.Add(-48*time.Hour)) && (is(r.EventName, "CreateVpc") || is(r.EventName, "DeleteVpc"))
		})
	},
	"37": func(recs []*cloudtrail.Record, _ time.Time) int {
		return groups(recs, func(r *cloudtrail.Record) bool { return uid(r).AccountID != nil }, func(r *cloudtrail.Record) string { return nk(uid(r).AccountID) })
	},
	"38": recon,
	"39": func(recs []*cloudtrail.Record, _ time.Time) int {
		set := map[string]bool{}
		for _, r := range recs {
			p := cloudtrail.PartitionOf(r, "")
			if !(p.Day > "01" && like(uid(r).ARN, "%assumed-role%") && p.Account == "111111111111" && p.Region == "us-east-1" && (r.ErrorCode == nil || *r.ErrorCode == "")) {
				continue
			}
			src := sv(r.EventSource)
			if i := strings.IndexByte(src, '.'); i >= 0 {
				src = src[:i]
			}
			for _, res := range r.Resources {
				set[nk(issuer(r).ARN, &src, r.EventName, res.ARN)] = true
			}
		}
		return len(set)
	},
	"41": func([]*cloudtrail.Record, time.Time) int { return 1 },
	"42": func(recs []*cloudtrail.Record, _ time.Time) int {
		return count(recs, func(r *cloudtrail.Record) bool { return is(uid(r).Type, "IAMUser") && is(uid(r).UserName, "Alice") })
	},
	"43": func(recs []*cloudtrail.Record, _ time.Time) int {
		return count(recs, func(r *cloudtrail.Record) bool {
			return like(issuer(r).ARN, "%role-name%") && is(issuer(r).Type, "Role")
		})
	},
	"44": func(recs []*cloudtrail.Record, _ time.Time) int {
		return count(recs, func(r *cloudtrail.Record) bool { return is(uid(r).AccessKeyID, "AKIAIOSFODNN7EXAMPLE") })
	},
	"45": func(recs []*cloudtrail.Record, now time.Time) int {
		return groups(recs, func(r *cloudtrail.Record) bool {
			t, ok := eventTime(r)
			return is(r.EventName, "ConsoleLogin") && ok && t.After(now.Add(-30*24*time.Hour))
		}, func(r *cloudtrail.Record) string { return nk(uid(r).ARN) })
	},
	"46": func(recs []*cloudtrail.Record, now time.Time) int {
		return groups(recs, func(r *cloudtrail.Record) bool {
			t, ok := eventTime(r)
			n := sv(r.EventName)
			return is(r.EventSource, "bedrock.amazonaws.com") && ok && !t.Before(now.Add(-24*time.Hour)) &&
				(n == "InvokeModel" || n == "InvokeModelWithResponseStream" || n == "Converse" || n == "ConverseStream" || n == "CallWithBearerToken")
		}, func(r *cloudtrail.Record) string {
			t, _ := eventTime(r)
			w := fmt.Sprint(t.Unix() / 300)
			return nk(uid(r).PrincipalID, &w, r.AWSRegion)
		})
	},
}

func none([]*cloudtrail.Record, time.Time) int { return 0 }

// keyInWindow: eventTime BETWEEN 'START_TIME' AND 'END_TIME' holds for no string.
func keyInWindow([]*cloudtrail.Record, time.Time) int { return 0 }

func sigV2(r *cloudtrail.Record) bool {
	v, ok := jsonScalar(r.AdditionalEventData, "SignatureVersion")
	return is(r.EventSource, "s3.amazonaws.com") && ok && v == "SigV2"
}

// resourceRows counts (event, resource) pairs of CROSS JOIN UNNEST(resources) whose ARN is LIKE pat.
func resourceRows(recs []*cloudtrail.Record, keep func(r *cloudtrail.Record) bool, pat string) int {
	n := 0
	for _, r := range recs {
		if keep != nil && !keep(r) {
			continue
		}
		for _, res := range r.Resources {
			if like(res.ARN, pat) {
				n++
			}
		}
	}
	return n
}

// recon is corpus 38: per (arn, type, hour) of read-only-looking calls in the last 30 days by
// people (not services), the groups with >= 30 distinct APIs and >= 5 services.
func recon(recs []*cloudtrail.Record, now time.Time) int {
	type agg struct{ names, sources map[string]bool }
	from := now.UTC().AddDate(0, 0, -30).Format("2006-01-02")
	re := regexp.MustCompile(`^(List|Describe|Get)`)
	g := map[string]*agg{}
	for _, r := range recs {
		ty := sv(uid(r).Type)
		if r.EventTime == nil || *r.EventTime < from || !re.MatchString(sv(r.EventName)) ||
			!(ty == "IAMUser" || ty == "AssumedRole" || ty == "Root" || ty == "FederatedUser") ||
			r.SourceIPAddress == nil || like(r.SourceIPAddress, "%.amazonaws.com") || uid(r).InvokedBy != nil {
			continue
		}
		t, ok := eventTime(r)
		if !ok {
			continue
		}
		h := t.Truncate(time.Hour).Format(time.RFC3339)
		k := nk(uid(r).ARN, uid(r).Type, &h)
		if g[k] == nil {
			g[k] = &agg{map[string]bool{}, map[string]bool{}}
		}
		g[k].names[sv(r.EventName)] = true
		g[k].sources[sv(r.EventSource)] = true
	}
	n := 0
	for _, a := range g {
		if len(a.names) >= 30 && len(a.sources) >= 5 {
			n++
		}
	}
	return minInt(500, n)
}
