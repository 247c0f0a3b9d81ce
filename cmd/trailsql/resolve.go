package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/trailsql/trailsql/internal/answer/local"
	"github.com/trailsql/trailsql/internal/engine"
	"github.com/trailsql/trailsql/internal/principal"
)

// resolvePrincipal resolves --principal over the lake (principal.Resolve), its errors in the
// flags' words.
func resolvePrincipal(ctx context.Context, e *engine.Engine, name, account string) (principal.Principal, error) {
	p, err := principal.Resolve(ctx, local.Engine(e), name, account)
	var pe *principal.Error
	if errors.As(err, &pe) {
		return p, fmt.Errorf("--principal %s%s", pe.NameText(), strings.ReplaceAll(pe.Detail, "give "+principal.AccountWord+" or", "give --account or"))
	}
	return p, err
}
