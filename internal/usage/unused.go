package usage

import (
	"context"

	"github.com/trailsql/trailsql/internal/answer"
	"github.com/trailsql/trailsql/internal/authz"
)

// UnusedQuery is what Unused compares: the calls of the window (Query: From, To, Region,
// IncludeDenied) against the grants of the inventory's principals.
type UnusedQuery struct {
	Query
	// DataEvents are the IAM prefixes (s3, lambda, …, * for all) whose data events the trail
	// logs; nil means those whose data events are in the lake in the window.
	DataEvents []string
	// AssumeRecorded counts the actions no source says CloudTrail records as unused rather than
	// unknown.
	AssumeRecorded bool
}

// Unused compares, for each principal of the inventory, what its policies grant with what its
// calls in the window used (authz.Details.Unused), and returns the reports and the data-event
// prefixes it counted as logged.
func Unused(ctx context.Context, query answer.QueryFunc, d *authz.Details, principals []*authz.Principal, q UnusedQuery) ([]*authz.Report, []string, error) {
	opt := authz.DiffOptions{AssumeRecorded: q.AssumeRecorded, DataEvents: q.DataEvents}
	if opt.DataEvents == nil {
		var err error
		if opt.DataEvents, err = DataEventPrefixes(ctx, query, q.From, q.To); err != nil {
			return nil, nil, err
		}
	}
	used, err := CollectByIdentity(ctx, query, q.Query)
	if err != nil {
		return nil, nil, err
	}
	return d.Unused(principals, used.Used, opt), opt.DataEvents, nil
}
