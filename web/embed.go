// Package web is the web console of trailsql serve: an Athena SQL editor with completion of
// cloudtrail_logs' columns, a results grid, the questions, alerts and lake status, built from
// web/src by esbuild into web/dist (committed, so building trailsql needs no Node).
package web

import (
	"embed"
	"net/http"
	"path"
	"strings"
)

//go:embed dist
var dist embed.FS

// Handler serves the built console: index.html at /, app.js and app.css beside it; other paths
// are not found. The console's security headers forbid other origins' scripts and framing.
func Handler() http.Handler {
	files := http.FileServerFS(dist)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'")
		r2 := r.Clone(r.Context())
		r2.URL.Path = path.Join("/dist", r.URL.Path)
		if strings.HasSuffix(r.URL.Path, "/") {
			r2.URL.Path += "/"
		}
		r2.URL.RawPath = ""
		files.ServeHTTP(w, r2)
	})
}
