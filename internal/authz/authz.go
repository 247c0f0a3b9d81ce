// Package authz answers "which permissions does each IAM user and role hold, and which of them
// does it use?" from the output of `aws iam get-account-authorization-details` and the actions
// seen in CloudTrail.
//
// Parse reads the file (policy documents as JSON objects or URL-encoded strings, every
// string-or-array element in either form); Details.Grants resolves one principal's identity
// policies — inline, attached managed (the default version held in the file's Policies) and, for
// users, those of their groups — into documented IAM actions, with wildcards expanded against
// package iam's reference, NotAction, Deny and permissions boundaries honoured, and the statements
// behind every action kept; Diff sorts every granted or used action into used, granted but
// unused, used but not granted, and unknown (granted, but CloudTrail cannot show its use).
//
// How the evaluation departs from IAM's, deliberately:
//
//   - An action counts as granted when any Allow statement names it, whatever its Resource or
//     Condition: "may use it somewhere" is what a used-versus-granted diff needs. Grant.Narrowed
//     says when every such statement is narrowed.
//   - A Deny removes an action only when it applies to every resource ("*") without a Condition.
//     A Deny narrowed by resource or condition cannot be decided from the policies alone; the
//     action stays granted and Grant.PartialDeny names the statement.
//   - A permissions boundary whose document is in the file limits the grants to the actions its
//     Allow statements name (narrowed or not) and its unconditional Denies remove; the actions it
//     cuts are listed apart (Grants.OutsideBoundary). A boundary policy missing from the file is
//     reported and not applied, so that nothing is hidden.
//   - Policies the file does not hold (an attached AWS-managed policy left out by --filter, a
//     missing group) are reported as Problems, never taken as empty silently.
//   - Resource-based policies (bucket, key, queue policies), service control policies and
//     session policies are not in the file and are not considered.
//
// Whether CloudTrail can show an action used (VisibilityOf) comes from a table generated from
// the shared datasets (zz_recorded.txt.gz, see ATTRIBUTION.md) and hand-written rules: recorded
// as a management event, a data event (counted as recorded only for the prefixes
// DiffOptions.DataEvents names), not recorded, permission-only, or unverified (no source says;
// unknown unless DiffOptions.AssumeRecorded).
package authz

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// Details is a parsed get-account-authorization-details document.
type Details struct {
	// File is the name given to Parse, used in messages.
	File string
	// Users, Roles, Groups and Policies are the entries of UserDetailList, RoleDetailList,
	// GroupDetailList and Policies, in file order.
	Users, Roles []*Principal
	Groups       []*Group
	Policies     []*ManagedPolicy
	// Truncated is set when the document says IsTruncated: it is one page of a longer answer.
	// The AWS CLI gathers every page itself; a truncated file misses principals and policies.
	Truncated bool

	groups   map[string]*Group         // by lower-case name
	policies map[string]*ManagedPolicy // by ARN
}

// PrincipalType is "user" or "role".
type PrincipalType string

// The principal types of the file.
const (
	User PrincipalType = "user"
	Role PrincipalType = "role"
)

// Principal is an IAM user or role of the file.
type Principal struct {
	Type PrincipalType
	Name string
	ARN  string
	// ID is the unique id (AIDA… for users, AROA… for roles).
	ID string
	// Path is the IAM path ("/", "/service-role/").
	Path string
	// Account is the account id, from the ARN.
	Account    string
	CreateDate time.Time
	// RoleLastUsed is when and where a role was last used, as IAM tracks it; nil for users and
	// for roles the file says nothing about.
	RoleLastUsed *LastUsed
	// InstanceProfiles are the EC2 instance profiles that hold a role (InstanceProfileList).
	InstanceProfiles []PolicyRef
	// Groups are the names of a user's groups.
	Groups []string
	Tags   []Tag
	// Boundary is the permissions boundary, nil when there is none.
	Boundary *PolicyRef
	// Inline are the principal's own inline policies.
	Inline []*InlinePolicy
	// Attached are its attached managed policies.
	Attached []PolicyRef

	path string // JSON path of the entry, for messages
}

// LastUsed is a role's RoleLastUsed.
type LastUsed struct {
	Date   time.Time
	Region string
}

// Tag is an IAM tag.
type Tag struct{ Key, Value string }

// Group is an IAM group of the file.
type Group struct {
	Name, ARN, ID, Path string
	CreateDate          time.Time
	Inline              []*InlinePolicy
	Attached            []PolicyRef
}

// InlinePolicy is a policy embedded in a user, group or role.
type InlinePolicy struct {
	Name     string
	Document *Document
}

// PolicyRef names a managed policy attached to a principal or group, or used as a boundary.
type PolicyRef struct{ Name, ARN string }

// ManagedPolicy is an entry of the file's Policies list.
type ManagedPolicy struct {
	Name, ARN, ID, Path string
	// AWSManaged is set for policies AWS owns (arn:aws:iam::aws:policy/…).
	AWSManaged bool
	// DefaultVersion is the DefaultVersionId ("v3").
	DefaultVersion string
	// Document is the default version's document, nil when the file does not hold it.
	Document *Document
	// Versions counts the versions the file lists.
	Versions               int
	AttachmentCount        int
	CreateDate, UpdateDate time.Time
}

// Load reads and parses a get-account-authorization-details file (gzip-compressed or not).
func Load(path string) (*Details, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read authorization details: %w", err)
	}
	return Parse(data, path)
}

// Parse parses the output of `aws iam get-account-authorization-details` (or several of its
// pages gathered in a JSON array). file names the input in errors. The returned errors are
// *Error values naming the file and the JSON path of the defect.
func Parse(data []byte, file string) (*Details, error) {
	d := &decoder{file: file}
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, d.errf("", "bad gzip data: %v", err)
		}
		if data, err = io.ReadAll(zr); err != nil {
			return nil, d.errf("", "bad gzip data: %v", err)
		}
	}
	out := &Details{File: file, groups: map[string]*Group{}, policies: map[string]*ManagedPolicy{}}
	// The document is walked token by token and decoded one list element at a time, so that a
	// large account's file is never held whole as generic values.
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, d.syntax(data, "", err)
	}
	switch tok {
	case json.Delim('{'):
		if err := d.page(dec, data, out, ""); err != nil {
			return nil, err
		}
	case json.Delim('['):
		for i := 0; dec.More(); i++ {
			tok, err := dec.Token()
			if err != nil {
				return nil, d.syntax(data, index("", i), err)
			}
			if tok != json.Delim('{') {
				return nil, d.errf(index("", i), "want an object, got %s", tokenName(tok))
			}
			if err := d.page(dec, data, out, index("", i)); err != nil {
				return nil, err
			}
		}
		if _, err := dec.Token(); err != nil {
			return nil, d.syntax(data, "", err)
		}
	default:
		return nil, d.errf("", "want the JSON object printed by aws iam get-account-authorization-details, got %s", tokenName(tok))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, d.errf("", "unexpected data after the JSON value at offset %d", dec.InputOffset())
	}
	return out, nil
}

var pageKeys = []string{"UserDetailList", "GroupDetailList", "RoleDetailList", "Policies"}

// page reads the members of one page object, its opening brace consumed.
func (d *decoder) page(dec *json.Decoder, data []byte, out *Details, path string) error {
	found := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return d.syntax(data, path, err)
		}
		key, _ := tok.(string)
		canon := key
		for _, k := range append(pageKeys, "IsTruncated") {
			if strings.EqualFold(key, k) {
				canon = k
			}
		}
		kp := join(path, canon)
		if canon == "IsTruncated" || !slices.Contains(pageKeys, canon) {
			var v any
			if err := dec.Decode(&v); err != nil {
				return d.syntax(data, kp, err)
			}
			if canon == "IsTruncated" {
				trunc, err := d.boolean(map[string]any{canon: v}, canon, path)
				if err != nil {
					return err
				}
				out.Truncated = out.Truncated || trunc
			}
			continue
		}
		found = true
		tok, err = dec.Token()
		if err != nil {
			return d.syntax(data, kp, err)
		}
		if tok == nil {
			continue
		}
		if tok != json.Delim('[') {
			return d.errf(kp, "want an array, got %s", tokenName(tok))
		}
		for i := 0; dec.More(); i++ {
			var v any
			if err := dec.Decode(&v); err != nil {
				return d.syntax(data, index(kp, i), err)
			}
			if err := d.entry(out, canon, v, index(kp, i)); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return d.syntax(data, kp, err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return d.syntax(data, path, err)
	}
	if !found {
		return d.errf(path, "not the output of aws iam get-account-authorization-details: none of %s", strings.Join(pageKeys, ", "))
	}
	return nil
}

// entry adds one element of a page's list.
func (d *decoder) entry(out *Details, list string, v any, path string) error {
	switch list {
	case "UserDetailList", "RoleDetailList":
		typ := User
		if list == "RoleDetailList" {
			typ = Role
		}
		p, err := d.principal(v, path, typ)
		if err != nil {
			return err
		}
		if typ == User {
			out.Users = append(out.Users, p)
		} else {
			out.Roles = append(out.Roles, p)
		}
	case "GroupDetailList":
		g, err := d.group(v, path)
		if err != nil {
			return err
		}
		if _, dup := out.groups[strings.ToLower(g.Name)]; !dup {
			out.groups[strings.ToLower(g.Name)] = g
			out.Groups = append(out.Groups, g)
		}
	case "Policies":
		p, err := d.managed(v, path)
		if err != nil {
			return err
		}
		if _, dup := out.policies[p.ARN]; !dup {
			out.policies[p.ARN] = p
			out.Policies = append(out.Policies, p)
		}
	}
	return nil
}

// names of the members that differ between users and roles.
var memberNames = map[PrincipalType]struct{ name, id, inline string }{
	User: {"UserName", "UserId", "UserPolicyList"},
	Role: {"RoleName", "RoleId", "RolePolicyList"},
}

func (d *decoder) principal(v any, path string, typ PrincipalType) (*Principal, error) {
	m, err := d.object(v, path)
	if err != nil {
		return nil, err
	}
	names := memberNames[typ]
	p := &Principal{Type: typ, path: path}
	if p.Name, err = d.str(m, names.name, path, true); err != nil {
		return nil, err
	}
	if p.ARN, err = d.str(m, "Arn", path, true); err != nil {
		return nil, err
	}
	if p.Account, err = d.account(p.ARN, join(path, "Arn")); err != nil {
		return nil, err
	}
	if p.ID, err = d.str(m, names.id, path, false); err != nil {
		return nil, err
	}
	if p.Path, err = d.str(m, "Path", path, false); err != nil {
		return nil, err
	}
	if p.CreateDate, err = d.date(m, "CreateDate", path); err != nil {
		return nil, err
	}
	if typ == User {
		if p.Groups, _, err = d.stringList(m, "GroupList", path); err != nil {
			return nil, err
		}
	}
	if typ == Role {
		if p.InstanceProfiles, err = d.instanceProfiles(m, path); err != nil {
			return nil, err
		}
		if lu, ok := field(m, "RoleLastUsed"); ok && lu != nil {
			lp := join(path, "RoleLastUsed")
			lm, err := d.object(lu, lp)
			if err != nil {
				return nil, err
			}
			var u LastUsed
			if u.Date, err = d.date(lm, "LastUsedDate", lp); err != nil {
				return nil, err
			}
			if u.Region, err = d.str(lm, "Region", lp, false); err != nil {
				return nil, err
			}
			if !u.Date.IsZero() || u.Region != "" {
				p.RoleLastUsed = &u
			}
		}
	}
	if p.Tags, err = d.tags(m, path); err != nil {
		return nil, err
	}
	if b, ok := field(m, "PermissionsBoundary"); ok && b != nil {
		bp := join(path, "PermissionsBoundary")
		bm, err := d.object(b, bp)
		if err != nil {
			return nil, err
		}
		arn, err := d.str(bm, "PermissionsBoundaryArn", bp, true)
		if err != nil {
			return nil, err
		}
		p.Boundary = &PolicyRef{Name: arnName(arn), ARN: arn}
	}
	if p.Inline, err = d.inlines(m, names.inline, path); err != nil {
		return nil, err
	}
	if p.Attached, err = d.attached(m, path); err != nil {
		return nil, err
	}
	return p, nil
}

// instanceProfiles reads a role's InstanceProfileList: the name and ARN of each profile.
func (d *decoder) instanceProfiles(m map[string]any, path string) ([]PolicyRef, error) {
	list, lp, err := d.list(m, "InstanceProfileList", path)
	if err != nil {
		return nil, err
	}
	var out []PolicyRef
	for i, v := range list {
		ip := index(lp, i)
		pm, err := d.object(v, ip)
		if err != nil {
			return nil, err
		}
		var r PolicyRef
		if r.Name, err = d.str(pm, "InstanceProfileName", ip, true); err != nil {
			return nil, err
		}
		if r.ARN, err = d.str(pm, "Arn", ip, true); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (d *decoder) group(v any, path string) (*Group, error) {
	m, err := d.object(v, path)
	if err != nil {
		return nil, err
	}
	g := &Group{}
	if g.Name, err = d.str(m, "GroupName", path, true); err != nil {
		return nil, err
	}
	if g.ARN, err = d.str(m, "Arn", path, false); err != nil {
		return nil, err
	}
	if g.ID, err = d.str(m, "GroupId", path, false); err != nil {
		return nil, err
	}
	if g.Path, err = d.str(m, "Path", path, false); err != nil {
		return nil, err
	}
	if g.CreateDate, err = d.date(m, "CreateDate", path); err != nil {
		return nil, err
	}
	if g.Inline, err = d.inlines(m, "GroupPolicyList", path); err != nil {
		return nil, err
	}
	if g.Attached, err = d.attached(m, path); err != nil {
		return nil, err
	}
	return g, nil
}

func (d *decoder) inlines(m map[string]any, key, path string) ([]*InlinePolicy, error) {
	l, lp, err := d.list(m, key, path)
	if err != nil {
		return nil, err
	}
	var out []*InlinePolicy
	for i, e := range l {
		ep := index(lp, i)
		em, err := d.object(e, ep)
		if err != nil {
			return nil, err
		}
		ip := &InlinePolicy{}
		if ip.Name, err = d.str(em, "PolicyName", ep, true); err != nil {
			return nil, err
		}
		doc, ok := field(em, "PolicyDocument")
		if !ok {
			return nil, d.errf(ep, "inline policy %s has no PolicyDocument", ip.Name)
		}
		if ip.Document, err = d.parseDocument(doc, join(ep, "PolicyDocument")); err != nil {
			return nil, err
		}
		out = append(out, ip)
	}
	return out, nil
}

func (d *decoder) attached(m map[string]any, path string) ([]PolicyRef, error) {
	l, lp, err := d.list(m, "AttachedManagedPolicies", path)
	if err != nil {
		return nil, err
	}
	var out []PolicyRef
	for i, e := range l {
		ep := index(lp, i)
		em, err := d.object(e, ep)
		if err != nil {
			return nil, err
		}
		var r PolicyRef
		if r.ARN, err = d.str(em, "PolicyArn", ep, true); err != nil {
			return nil, err
		}
		if r.Name, err = d.str(em, "PolicyName", ep, false); err != nil {
			return nil, err
		}
		if r.Name == "" {
			r.Name = arnName(r.ARN)
		}
		out = append(out, r)
	}
	return out, nil
}

func (d *decoder) tags(m map[string]any, path string) ([]Tag, error) {
	l, lp, err := d.list(m, "Tags", path)
	if err != nil {
		return nil, err
	}
	var out []Tag
	for i, e := range l {
		ep := index(lp, i)
		em, err := d.object(e, ep)
		if err != nil {
			return nil, err
		}
		var t Tag
		if t.Key, err = d.str(em, "Key", ep, true); err != nil {
			return nil, err
		}
		if t.Value, err = d.str(em, "Value", ep, false); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func (d *decoder) managed(v any, path string) (*ManagedPolicy, error) {
	m, err := d.object(v, path)
	if err != nil {
		return nil, err
	}
	p := &ManagedPolicy{}
	if p.ARN, err = d.str(m, "Arn", path, true); err != nil {
		return nil, err
	}
	if p.Name, err = d.str(m, "PolicyName", path, false); err != nil {
		return nil, err
	}
	if p.Name == "" {
		p.Name = arnName(p.ARN)
	}
	p.AWSManaged = strings.Contains(p.ARN, ":iam::aws:policy/")
	if p.ID, err = d.str(m, "PolicyId", path, false); err != nil {
		return nil, err
	}
	if p.Path, err = d.str(m, "Path", path, false); err != nil {
		return nil, err
	}
	if p.DefaultVersion, err = d.str(m, "DefaultVersionId", path, false); err != nil {
		return nil, err
	}
	if p.AttachmentCount, err = d.integer(m, "AttachmentCount", path); err != nil {
		return nil, err
	}
	if p.CreateDate, err = d.date(m, "CreateDate", path); err != nil {
		return nil, err
	}
	if p.UpdateDate, err = d.date(m, "UpdateDate", path); err != nil {
		return nil, err
	}
	l, lp, err := d.list(m, "PolicyVersionList", path)
	if err != nil {
		return nil, err
	}
	p.Versions = len(l)
	// The default version is the one DefaultVersionId names, else the one marked
	// IsDefaultVersion. Other versions are not parsed: they grant nothing.
	pick, pickPath := -1, ""
	var pickMap map[string]any
	for i, e := range l {
		ep := index(lp, i)
		em, err := d.object(e, ep)
		if err != nil {
			return nil, err
		}
		id, err := d.str(em, "VersionId", ep, false)
		if err != nil {
			return nil, err
		}
		def, err := d.boolean(em, "IsDefaultVersion", ep)
		if err != nil {
			return nil, err
		}
		// DefaultVersionId wins over an IsDefaultVersion seen before it.
		if (p.DefaultVersion != "" && id == p.DefaultVersion) || (def && pick < 0) {
			pick, pickPath, pickMap = i, ep, em
			if p.DefaultVersion == "" {
				p.DefaultVersion = id
			}
		}
	}
	if pick >= 0 {
		doc, ok := field(pickMap, "Document")
		if !ok || doc == nil {
			return nil, d.errf(pickPath, "default version of %s has no Document", p.ARN)
		}
		if p.Document, err = d.parseDocument(doc, join(pickPath, "Document")); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// account returns the account id of an IAM ARN (arn:aws:iam::123456789012:user/alice).
func (d *decoder) account(arn, path string) (string, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return "", d.errf(path, "want an IAM ARN such as arn:aws:iam::123456789012:user/alice, got %q", arn)
	}
	return parts[4], nil
}

// arnName is the last segment of an ARN's resource part (the policy or role name).
func arnName(arn string) string {
	if i := strings.LastIndexAny(arn, "/:"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

// Principals returns the users, then the roles, in file order.
func (d *Details) Principals() []*Principal {
	out := make([]*Principal, 0, len(d.Users)+len(d.Roles))
	out = append(out, d.Users...)
	return append(out, d.Roles...)
}

// Policy returns the managed policy of the file with that ARN, or nil.
func (d *Details) Policy(arn string) *ManagedPolicy { return d.policies[arn] }

// Group returns the group of the file with that name (compared ignoring case, as IAM does), or nil.
func (d *Details) Group(name string) *Group { return d.groups[strings.ToLower(name)] }

// InstanceProfileRoles returns the ARNs of the roles of an EC2 instance profile, named by its
// ARN, or by its name in an account ("" for any): the role an instance launched with the profile
// receives. None when the file does not hold the profile.
func (d *Details) InstanceProfileRoles(profile, account string) []string {
	var out []string
	for _, r := range d.Roles {
		for _, ip := range r.InstanceProfiles {
			if strings.EqualFold(ip.ARN, profile) || strings.EqualFold(ip.Name, profile) && (account == "" || r.Account == account) {
				out = append(out, r.ARN)
			}
		}
	}
	return out
}

// Lookup returns the principals x names: a user or role name, the ARN of a user or role, an
// assumed-role session ARN (arn:aws:sts::123456789012:assumed-role/ROLE/SESSION names ROLE), or a
// unique id (AIDA…, AROA…). Names compare ignoring case, as IAM tells names apart (two users or
// roles of an account cannot differ by case alone); ARNs and ids exactly, as IAM compares ARNs
// (package principal explains the rule). A name can match a user and a role.
func (d *Details) Lookup(x string) []*Principal {
	x = strings.TrimSpace(x)
	var out []*Principal
	if strings.HasPrefix(x, "arn:") {
		parts := strings.SplitN(x, ":", 6)
		if len(parts) == 6 && parts[2] == "sts" && strings.HasPrefix(parts[5], "assumed-role/") {
			role, _, _ := strings.Cut(strings.TrimPrefix(parts[5], "assumed-role/"), "/")
			for _, p := range d.Roles {
				if p.Account == parts[4] && p.Name == role {
					out = append(out, p)
				}
			}
			return out
		}
		for _, p := range d.Principals() {
			if p.ARN == x {
				out = append(out, p)
			}
		}
		return out
	}
	for _, p := range d.Principals() {
		if strings.EqualFold(p.Name, x) || (p.ID != "" && p.ID == x) {
			out = append(out, p)
		}
	}
	return out
}
