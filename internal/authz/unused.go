package authz

import "github.com/trailsql/trailsql/internal/iam"

// UsedFunc returns the actions the user or role with that ARN used (for a role, all its
// sessions), as CloudTrail shows them: usage.ByIdentity.Used reads them from the lake. A
// principal without calls gets none.
type UsedFunc func(arn string) map[iam.Action]Usage

// Unused returns the used-versus-granted report (Diff) of each principal, in the order given:
// d.Principals() for every user and role of the inventory, or those principal.Inventory picks.
func (d *Details) Unused(principals []*Principal, used UsedFunc, opt DiffOptions) []*Report {
	reports := make([]*Report, 0, len(principals))
	for _, p := range principals {
		reports = append(reports, Diff(d.Grants(p), used(p.ARN), opt))
	}
	return reports
}
