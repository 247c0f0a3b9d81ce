package iam

// The reference tables are generated from ../shared/datasets/iam (see ATTRIBUTION.md); the
// generator leaves the committed files alone when that directory is absent.
//go:generate go run ./internal/gen -src ../../../shared/datasets/iam -out .
