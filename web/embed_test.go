package web_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/trailsql/trailsql/web"
)

// TestHandler serves the embedded console over a real listener: the page, its script and style
// with their types and the console's security headers; other paths are not found.
func TestHandler(t *testing.T) {
	srv := httptest.NewServer(web.Handler())
	defer srv.Close()
	for _, tc := range []struct {
		path, status, ctype, holds string
	}{
		{"/", "200", "text/html", `<script src="app.js">`},
		{"/index.html", "301", "", ""}, // FileServer's canonical address of index.html is /
		{"/app.js", "200", "text/javascript", "cloudtrail_logs"},
		{"/app.css", "200", "text/css", ".grid-row"},
		{"/THIRD_PARTY_LICENSES.txt", "200", "text/plain", "== @codemirror/view "},
		{"/nope.js", "404", "", ""},
		{"/../go.mod", "404", "", ""},
	} {
		t.Run(tc.path, func(t *testing.T) {
			c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			res, err := c.Get(srv.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			if got := res.Status[:3]; got != tc.status {
				t.Fatalf("status %s, want %s", res.Status, tc.status)
			}
			if tc.status != "200" {
				return
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, tc.ctype) {
				t.Errorf("Content-Type %q, want %s", ct, tc.ctype)
			}
			if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("Content-Security-Policy %q: want same-origin scripts only and no framing", csp)
			}
			if !bytes.Contains(body, []byte(tc.holds)) {
				t.Errorf("%s lacks %q", tc.path, tc.holds)
			}
		})
	}
}

// TestBundleBudget keeps the committed bundle within 250 KB gzipped and free of addresses
// outside the server (the console works offline: no CDN).
func TestBundleBudget(t *testing.T) {
	total := 0
	for _, name := range []string{"dist/index.html", "dist/app.js", "dist/app.css"} {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatalf("%v: build the console (cd web && npm ci && npm run build)", err)
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(data)
		zw.Close()
		total += buf.Len()
		for _, ext := range []string{`src="http`, `href="http`, "@import", "//cdn", "googleapis"} {
			if bytes.Contains(data, []byte(ext)) {
				t.Errorf("%s refers to %q: the console must load nothing from outside the server", name, ext)
			}
		}
	}
	t.Logf("bundle: %d bytes gzipped", total)
	if total > 250*1024 {
		t.Errorf("bundle is %d bytes gzipped, over 250 KB", total)
	}
}
