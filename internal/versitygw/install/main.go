// Command install builds the pinned versitygw (the S3 server of the tests and of bench --s3)
// into <repo>/.tools once; the tests do the same on demand, CI calls it first so that the build
// is not charged to a test package's time limit.
//
//	go run ./internal/versitygw/install
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/trailsql/trailsql/internal/versitygw"
)

func main() {
	wd, err := os.Getwd()
	if err == nil {
		var repo, bin string
		if repo, err = versitygw.RepoRoot(wd); err == nil {
			if bin, err = versitygw.Install(context.Background(), repo, os.Stderr); err == nil {
				fmt.Println(bin)
				return
			}
		}
	}
	fmt.Fprintln(os.Stderr, "install versitygw:", err)
	os.Exit(1)
}
