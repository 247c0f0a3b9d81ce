package main

import (
	"errors"
	"fmt"

	"github.com/trailsql/trailsql/internal/principal"
)

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
