package engine

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/trailsql/trailsql/internal/render"
)

// Values print as Trino's CLI and Athena's CSV print them, whatever the format: a DATE as a
// date, a TIMESTAMP without " UTC", a ROW with its fields in declared order (tlsdetails: version,
// cipher suite, host header, as Athena's DDL declares them), a DECIMAL with all
// the digits of its scale (trino.io/docs/current/language/types.html).
func TestValuesPrintAsTrino(t *testing.T) {
	e := openTestEngine(t, writeLake(t, `{"eventTime":"2024-03-01T10:00:00Z","eventName":"A","awsRegion":"us-east-1","recipientAccountId":"111122223333","eventID":"1","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"s3.amazonaws.com"}}`), false)
	sql := `SELECT DATE '2026-12-01' AS d,
  TIMESTAMP '2026-12-01 10:11:12.345' AS ts,
  from_iso8601_timestamp('2026-12-01T10:11:12Z') AS tstz,
  TIME '10:11:12' AS tm,
  CAST(1.1 AS DECIMAL(4, 2)) AS dec,
  tlsdetails AS r,
  ARRAY[DATE '2026-12-01', NULL] AS ds,
  MAP(ARRAY['k'], ARRAY[DATE '2026-12-02']) AS m
FROM cloudtrail_logs`
	want := map[string]string{
		"table": "2026-12-01 | 2026-12-01 10:11:12.345 | 2026-12-01 10:11:12.000 UTC | 10:11:12.000 | 1.10 | {tlsversion=TLSv1.3, ciphersuite=TLS_AES_128_GCM_SHA256, clientprovidedhostheader=s3.amazonaws.com} | [2026-12-01, null] | {k=2026-12-02}",
		"csv":   "2026-12-01,2026-12-01 10:11:12.345,2026-12-01 10:11:12.000 UTC,10:11:12.000,1.10,\"{tlsversion=TLSv1.3, ciphersuite=TLS_AES_128_GCM_SHA256, clientprovidedhostheader=s3.amazonaws.com}\",\"[2026-12-01, null]\",{k=2026-12-02}",
		"json":  `"d":"2026-12-01","ts":"2026-12-01T10:11:12.345","tstz":"2026-12-01T10:11:12Z","tm":"10:11:12","dec":1.10,"r":{"tlsversion":"TLSv1.3","ciphersuite":"TLS_AES_128_GCM_SHA256","clientprovidedhostheader":"s3.amazonaws.com"},"ds":["2026-12-01",null],"m":{"k":"2026-12-02"}`,
	}
	for _, format := range render.Formats {
		var out bytes.Buffer
		s, err := render.NewStream(&out, format)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.QueryTo(context.Background(), s, sql); err != nil {
			t.Fatal(err)
		}
		s.Close()
		got := out.String()
		switch format {
		case "table", "markdown":
			got = strings.Join(strings.FieldsFunc(got, func(r rune) bool { return r == '│' || r == '|' || r == '\n' }), "|")
			for _, cell := range strings.Split(want["table"], " | ") {
				if !strings.Contains(got, " "+cell+" ") {
					t.Errorf("%s: no cell %q in\n%s", format, cell, out.String())
				}
			}
		case "csv":
			if !strings.Contains(got, want["csv"]) {
				t.Errorf("csv:\n got %s\nwant %s", got, want["csv"])
			}
		case "json", "jsonl":
			if compact := strings.Join(strings.Fields(got), ""); !strings.Contains(compact, want["json"]) {
				t.Errorf("%s:\n got %s\nwant %s", format, compact, want["json"])
			}
		}
	}
}
