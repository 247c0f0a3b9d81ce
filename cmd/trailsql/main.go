// Command trailsql answers security and compliance questions about AWS accounts from their
// CloudTrail logs: it ingests the logs into a local Parquet lake and runs Athena SQL over it.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := NewMain().Run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
