package cloudtrail

import (
	"testing"

	"github.com/trailsql/trailsql/internal/testshared"
)

func sharedDatasets(t testing.TB) string { return testshared.Dir(t, "datasets") }
