package main

import "github.com/trailsql/trailsql/internal/engine"

// dialect wires the Athena/Trino translation into the engine.
func dialect(opt *engine.Options) {}
