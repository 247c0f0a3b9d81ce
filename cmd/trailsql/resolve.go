package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/trailsql/trailsql/internal/answer/local"

	"github.com/trailsql/trailsql/internal/engine"
	"github.com/trailsql/trailsql/internal/principal"
)

// resolvePrincipal resolves --principal in the lake (principal.Resolve). It stays for ask.go,
// which calls it; once ask.go calls principal.Resolve and principalFlag itself, it goes.
func resolvePrincipal(ctx context.Context, e *engine.Engine, name, account string) (principal.Principal, error) {
	p, err := principal.Resolve(ctx, local.Engine(e), name, account)
	return p, principalFlag(err)
}

// principalFlag names the flags in the errors of package principal, whose text names none.
func principalFlag(err error) error {
	var amb *principal.AmbiguousError
	if errors.As(err, &amb) {
		return fmt.Errorf("--principal %s", amb.Text("--account"))
	}
	var invalid *principal.InvalidError
	var notFound *principal.NotFoundError
	if errors.As(err, &invalid) || errors.As(err, &notFound) {
		return fmt.Errorf("--principal %w", err)
	}
	return err
}
