package engine

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// ErrNotReadOnly is returned for statements that could change anything: only SELECT, WITH,
// VALUES, EXPLAIN, DESCRIBE and SHOW run.
var ErrNotReadOnly = errors.New("only read-only statements run")

// segments splits SQL into code, literals ('strings' and "identifiers", with their doubled-quote
// escapes) and comments, and calls fn for each in order.
func segments(s string, fn func(text string, kind segKind)) {
	start := 0
	flush := func(i int) {
		if i > start {
			fn(s[start:i], segCode)
		}
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'' || c == '"':
			flush(i)
			j := i + 1
			for j < len(s) && !(s[j] == c && (j+1 >= len(s) || s[j+1] != c)) {
				if s[j] == c {
					j++ // a doubled quote
				}
				j++
			}
			j = min(j+1, len(s))
			fn(s[i:j], segLiteral)
			i, start = j-1, j
		case c == '-' && i+1 < len(s) && s[i+1] == '-', c == '/' && i+1 < len(s) && s[i+1] == '*':
			flush(i)
			j := len(s)
			if c == '-' {
				if k := strings.IndexByte(s[i:], '\n'); k >= 0 {
					j = i + k
				}
			} else if k := strings.Index(s[i+2:], "*/"); k >= 0 {
				j = i + 2 + k + 2
			}
			fn(s[i:j], segComment)
			i, start = j-1, j
		}
	}
	flush(len(s))
}

type segKind int

const (
	segCode segKind = iota
	segLiteral
	segComment
)

// splitSingle strips white space and trailing semicolons, and refuses input that holds more
// than one statement.
func splitSingle(s string) (string, error) {
	var stmts []string
	var cur, meaning strings.Builder
	end := func() {
		if strings.TrimSpace(meaning.String()) != "" {
			stmts = append(stmts, strings.TrimSpace(cur.String()))
		}
		cur.Reset()
		meaning.Reset()
	}
	segments(s, func(text string, kind segKind) {
		if kind != segCode {
			cur.WriteString(text)
			if kind == segLiteral {
				meaning.WriteString(text)
			}
			return
		}
		parts := strings.Split(text, ";")
		for i, p := range parts {
			if i > 0 {
				end()
			}
			cur.WriteString(p)
			meaning.WriteString(p)
		}
	})
	end()
	switch len(stmts) {
	case 0:
		return "", errors.New("no SQL statement given")
	case 1:
		return stmts[0], nil
	}
	return "", fmt.Errorf("%d statements given: run one statement at a time", len(stmts))
}

// stripComments replaces comments (outside literals) by a space, for keyword checks.
func stripComments(s string) string {
	var b strings.Builder
	segments(s, func(text string, kind segKind) {
		if kind == segComment {
			b.WriteByte(' ')
		} else {
			b.WriteString(text)
		}
	})
	return b.String()
}

// leadingWords returns the first n keywords of a statement, upper-cased, skipping comments and
// opening parentheses.
func leadingWords(s string, n int) []string {
	s = stripComments(s)
	var out []string
	for len(out) < n {
		s = strings.TrimLeft(s, " \t\r\n(")
		if s == "" {
			break
		}
		end := strings.IndexFunc(s, func(r rune) bool {
			return !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
		})
		if end == 0 {
			break
		}
		if end < 0 {
			end = len(s)
		}
		out = append(out, strings.ToUpper(s[:end]))
		s = s[end:]
	}
	return out
}

var (
	alterAddPartition = regexp.MustCompile(`(?is)^\s*ALTER\s+TABLE\s+\S+\s+ADD\s+(IF\s+NOT\s+EXISTS\s+)?PARTITION\b`)
	createExternal    = regexp.MustCompile(`(?is)^\s*CREATE\s+EXTERNAL\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?(\S+).*?\bLOCATION\s+'([^']*)'`)
	msckRepair        = regexp.MustCompile(`(?is)^\s*MSCK\s+REPAIR\s+TABLE\b`)
)

// ddlNotice answers the Athena DDL users paste from the docs: partitions and table definitions
// are automatic here, so these statements are accepted and explained rather than run.
func ddlNotice(stmt string) (string, bool) {
	s := stripComments(stmt)
	switch {
	case alterAddPartition.MatchString(s):
		return "ALTER TABLE … ADD PARTITION is not needed: trailsql finds partitions by itself (account, region, year, month, day). Nothing was changed.", true
	case msckRepair.MatchString(s):
		return "MSCK REPAIR TABLE is not needed: trailsql finds partitions by itself. Nothing was changed.", true
	case createExternal.MatchString(s):
		m := createExternal.FindStringSubmatch(s)
		return fmt.Sprintf("CREATE EXTERNAL TABLE is not needed: the table cloudtrail_logs already has Athena's CloudTrail columns. To load the logs at that location, run:\n  trailsql ingest %s\n(table %s: query it as cloudtrail_logs, or declare the name as an alias with --alias %s)", m[3], m[2], strings.Trim(m[2], "`\"")), true
	}
	return "", false
}

// checkReadOnly refuses anything but queries. DuckDB's own parser decides what a statement is:
// json_serialize_sql accepts SELECT statements only (VALUES, WITH and FROM-first included).
func (e *Engine) checkReadOnly(ctx context.Context, stmt string) error {
	words := leadingWords(stmt, 2)
	if len(words) == 0 {
		return fmt.Errorf("%w: could not find a statement keyword", ErrNotReadOnly)
	}
	inner := stmt
	switch words[0] {
	case "DESCRIBE", "SHOW", "SUMMARIZE":
		return nil
	case "EXPLAIN":
		// EXPLAIN ANALYZE runs its statement: what follows must be a query too.
		rest := strings.TrimSpace(stripComments(stmt))
		rest = strings.TrimSpace(rest[len("EXPLAIN"):])
		if len(words) > 1 && words[1] == "ANALYZE" {
			rest = strings.TrimSpace(rest[len("ANALYZE"):])
		}
		inner = rest
	}
	var out string
	if err := e.conn.QueryRowContext(ctx, "SELECT json_serialize_sql(CAST($1 AS VARCHAR))::VARCHAR", inner).Scan(&out); err != nil {
		return fmt.Errorf("check statement: %w", err)
	}
	if strings.Contains(out, `"error":true`) {
		if strings.Contains(out, "Only SELECT statements") {
			return fmt.Errorf("%w (SELECT, WITH, VALUES, EXPLAIN, DESCRIBE, SHOW): %s is refused, the lake is read-only from SQL. To export results use --format csv|json and redirect the output", ErrNotReadOnly, leadingWords(inner, 1)[0])
		}
		// A syntax error: let DuckDB report it with its position when the statement runs.
		return nil
	}
	return nil
}
