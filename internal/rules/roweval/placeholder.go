// Package roweval: PLACEHOLDER until branch roweval lands (delete this file then).
package roweval

import (
	"errors"

	"github.com/trailsql/trailsql/internal/cloudtrail"
	"github.com/trailsql/trailsql/internal/lake"
)

type Row struct {
	Rec  *cloudtrail.Record
	Part lake.Partition
}

var ErrUnsupported = errors.New("not evaluated in Go")

type Expr struct{}

func Compile(expr string) (*Expr, error)              { return nil, ErrUnsupported }
func (e *Expr) Holds(r *Row) (bool, error)            { return false, ErrUnsupported }
func (e *Expr) Text(r *Row) (string, bool, error)     { return "", false, ErrUnsupported }
