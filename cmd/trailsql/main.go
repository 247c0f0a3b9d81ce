// Command trailsql answers security and compliance questions about AWS accounts from their
// CloudTrail logs: it ingests the logs into a local Parquet lake and runs Athena SQL over it.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// For performance work: TRAILSQL_CPUPROFILE=FILE writes a CPU profile of the whole run.
	if p := os.Getenv("TRAILSQL_CPUPROFILE"); p != "" {
		if f, err := os.Create(p); err == nil && pprof.StartCPUProfile(f) == nil {
			defer f.Close()
			defer pprof.StopCPUProfile()
		} else {
			fmt.Fprintln(os.Stderr, "trailsql: TRAILSQL_CPUPROFILE: cannot write", p)
		}
	}
	code := NewMain().Run(ctx, os.Args[1:])
	stop()
	if code != 0 {
		pprof.StopCPUProfile()
		os.Exit(code)
	}
}
