package iam

import (
	_ "embed"
	"fmt"
	"regexp"
	"strings"
	"sync"
)

//go:embed zz_resources.txt.gz
var resourcesGz []byte

// ResourceType is a resource type of a service in the Service Authorization Reference: a name
// ("object", "role") and the form of its ARNs
// ("arn:${Partition}:s3:::${BucketName}/${ObjectName}").
type ResourceType struct {
	Service string
	Name    string
	ARN     string
	// Required is set in the resource types of an action: the action always names a resource of
	// this type.
	Required bool
	re       *regexp.Regexp
}

// Matches reports whether an ARN as a policy's Resource element writes it (maybe with "*" and
// "?" wildcards) is of this type: "arn:aws:s3:::bucket/*" is an object ARN, "arn:aws:s3:::bucket"
// a bucket ARN and not an object one.
func (rt ResourceType) Matches(arn string) bool { return rt.re != nil && rt.re.MatchString(arn) }

// actionInfo is what the reference says of one action beyond its name and access level.
type actionInfo struct {
	types []ResourceType
	keys  []*regexp.Regexp // condition keys valid for the action, case-insensitive
}

type resourceRef struct {
	actions map[string]actionInfo // lower-case "prefix:name"
}

// resRef parses the embedded resource table once, on first use; it is never modified afterwards.
var resRef = sync.OnceValue(func() *resourceRef {
	r, err := parseResources(resourcesGz)
	if err != nil {
		// Generated and embedded: a damaged table is a build defect, not an input error.
		panic(fmt.Sprintf("iam: embedded resource reference: %v", err))
	}
	return r
})

func parseResources(gz []byte) (*resourceRef, error) {
	r := &resourceRef{actions: map[string]actionInfo{}}
	types := map[string]ResourceType{}
	last := ""
	err := ReadTable(gz, func(prefix string, code byte, rest string) error {
		if prefix != last {
			clear(types)
			last = prefix
		}
		f := strings.Split(rest, "\t")
		if len(f) != 3 {
			return fmt.Errorf("want 3 fields")
		}
		switch code {
		case 'r':
			re, err := arnPattern(f[1])
			if err != nil {
				return err
			}
			types[strings.ToLower(f[0])] = ResourceType{Service: prefix, Name: f[0], ARN: f[1], re: re}
		case 'a':
			var info actionInfo
			for _, n := range split(f[1]) {
				name, req := strings.CutSuffix(n, "*")
				rt, ok := types[strings.ToLower(name)]
				if !ok {
					return fmt.Errorf("unknown resource type %q", name)
				}
				rt.Required = req
				info.types = append(info.types, rt)
			}
			for _, k := range split(f[2]) {
				re, err := keyPattern(k)
				if err != nil {
					return err
				}
				info.keys = append(info.keys, re)
			}
			r.actions[strings.ToLower(prefix+":"+f[0])] = info
		default:
			return fmt.Errorf("unknown line kind %q", code)
		}
		return nil
	})
	return r, err
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

var placeholder = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\$\{[^}]*\}|<[^>]*>`) })

// arnPattern turns a reference ARN form into a regular expression over policy ARNs. A
// ${Variable} stands for one value: in the partition, service, region and account fields any
// text without a colon; in the resource part, text without a slash until the first slash (a
// bucket name, a function name), and anything after one (an object key, a role name with its
// path). So "bucket/*" is an object and not a bucket. A "*" in the form is any text.
func arnPattern(form string) (*regexp.Regexp, error) {
	parts := strings.SplitN(form, ":", 6)
	if len(parts) != 6 {
		// A few forms are not ARNs (e.g. bare names); they match themselves only.
		return regexp.Compile("^" + regexp.QuoteMeta(form) + "$")
	}
	var b strings.Builder
	b.WriteString("^")
	for i, p := range parts[:5] {
		if i > 0 {
			b.WriteString(":")
		}
		b.WriteString(fill(p, "[^:]+", "[^:]+"))
	}
	b.WriteString(":")
	b.WriteString(fill(parts[5], "[^/]+", ".+"))
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// fill quotes the literal text of a form and replaces its variables: by first until the first
// slash, by after once one was seen.
func fill(form, first, after string) string {
	var b strings.Builder
	slash := false
	lit := func(s string) {
		for i, part := range strings.Split(s, "*") {
			if i > 0 {
				b.WriteString(".*")
			}
			b.WriteString(regexp.QuoteMeta(part))
		}
		slash = slash || strings.Contains(s, "/")
	}
	rest := form
	for {
		loc := placeholder().FindStringIndex(rest)
		if loc == nil {
			lit(rest)
			return b.String()
		}
		lit(rest[:loc[0]])
		if slash {
			b.WriteString(after)
		} else {
			b.WriteString(first)
		}
		rest = rest[loc[1]:]
	}
}

// keyPattern turns a condition key of the reference ("aws:RequestTag/${TagKey}",
// "s3:RequestObjectTag/<key>") into a case-insensitive expression for keys as policies write them.
func keyPattern(key string) (*regexp.Regexp, error) {
	parts := placeholder().Split(key, -1)
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return regexp.Compile("(?i)^" + strings.Join(parts, ".+") + "$")
}

// ResourceTypes returns the resource types an action accepts in a policy's Resource element, or
// none when it accepts only "*".
func ResourceTypes(a Action) []ResourceType {
	info := resRef().actions[strings.ToLower(a.String())]
	return append([]ResourceType(nil), info.types...)
}

// MatchResource returns the resource type of the action that an ARN (maybe with wildcards) is of.
func MatchResource(a Action, arn string) (ResourceType, bool) {
	for _, rt := range resRef().actions[strings.ToLower(a.String())].types {
		if rt.Matches(arn) {
			return rt, true
		}
	}
	return ResourceType{}, false
}

// globalKeys are the condition keys every action takes (AWS's "global condition context keys";
// aws:RequestTag, aws:ResourceTag and aws:TagKeys are not among them: the reference lists them for
// the actions that take them). They are compiled when first needed, not when the program starts
// (1.8 ms that every command paid, a query included).
var globalKeys = sync.OnceValue(func() []*regexp.Regexp {
	var out []*regexp.Regexp
	for _, k := range []string{
		"aws:CalledVia", "aws:CalledViaFirst", "aws:CalledViaLast", "aws:CurrentTime", "aws:EpochTime",
		"aws:FederatedProvider", "aws:MultiFactorAuthAge", "aws:MultiFactorAuthPresent", "aws:PrincipalAccount",
		"aws:PrincipalArn", "aws:PrincipalIsAWSService", "aws:PrincipalOrgID", "aws:PrincipalOrgPaths",
		"aws:PrincipalServiceName", "aws:PrincipalServiceNamesList", "aws:PrincipalTag/${TagKey}", "aws:PrincipalType",
		"aws:Referer", "aws:RequestedRegion", "aws:ResourceAccount", "aws:ResourceOrgID", "aws:ResourceOrgPaths",
		"aws:SecureTransport", "aws:SourceAccount", "aws:SourceArn", "aws:SourceIdentity", "aws:SourceIp",
		"aws:SourceOrgID", "aws:SourceOrgPaths", "aws:SourceVpc", "aws:SourceVpcArn", "aws:SourceVpce",
		"aws:TokenIssueTime", "aws:UserAgent", "aws:userid", "aws:username", "aws:ViaAWSService", "aws:VpcSourceIp",
		"aws:Ec2InstanceSourceVpc", "aws:Ec2InstanceSourcePrivateIPv4", "aws:IsMcpServiceAction",
	} {
		re, err := keyPattern(k)
		if err != nil {
			panic(err)
		}
		out = append(out, re)
	}
	return out
})

// ConditionKeyValid reports whether a policy condition on key can apply to the action: a key the
// reference lists for the action or its resource types, or a global key. Case is ignored, as IAM
// does.
func ConditionKeyValid(a Action, key string) bool {
	for _, re := range resRef().actions[strings.ToLower(a.String())].keys {
		if re.MatchString(key) {
			return true
		}
	}
	for _, re := range globalKeys() {
		if re.MatchString(key) {
			return true
		}
	}
	return false
}
