package authz

// zz_recorded.txt.gz is generated from ../shared/datasets (see ATTRIBUTION.md); the generator
// leaves the committed file alone when that directory is absent.
//go:generate go run ./internal/gen -src ../../../shared/datasets -out .
