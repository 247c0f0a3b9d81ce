// Command install builds the pinned test servers into <repo>/.tools once: versitygw (the S3
// server of the tests and of bench --s3) and GoAws (the SQS server of the sqs:// tests). The
// tests do the same on demand; CI calls it first so that the builds are not charged to a test
// package's time limit.
//
//	go run ./internal/versitygw/install
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/trailsql/trailsql/internal/goaws"
	"github.com/trailsql/trailsql/internal/versitygw"
)

func main() {
	if err := install(); err != nil {
		fmt.Fprintln(os.Stderr, "install:", err)
		os.Exit(1)
	}
}

func install() error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	repo, err := versitygw.RepoRoot(wd)
	if err != nil {
		return err
	}
	for _, t := range []versitygw.Tool{versitygw.VersityGW, goaws.Tool} {
		bin, err := t.Install(context.Background(), repo, os.Stderr)
		if err != nil {
			return fmt.Errorf("%s: %w", t.Name, err)
		}
		fmt.Println(bin)
	}
	return nil
}
