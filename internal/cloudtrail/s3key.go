package cloudtrail

import (
	"path"
	"strings"
)

// KeyKind tells what a CloudTrail S3 object holds.
type KeyKind int

// The kinds of object found under AWSLogs/.
const (
	KeyOther   KeyKind = iota // not in the CloudTrail layout
	KeyLog                    // a log file of events (CloudTrail/ or CloudTrail-Insight/)
	KeyDigest                 // a digest file (CloudTrail-Digest/): integrity data, no events
	KeyUnknown                // under AWSLogs/<account>/ but not a CloudTrail log (e.g. vpcflowlogs)
)

// Key is what the S3 trail layout says about one object:
// [prefix/]AWSLogs/[o-xxxxxxxxxx/]<account>/CloudTrail/<region>/YYYY/MM/DD/<file>.
type Key struct {
	Prefix  string // anything before AWSLogs/
	OrgID   string
	Account string
	Region  string
	Year    string
	Month   string
	Day     string
	Kind    KeyKind
}

// ParseKey parses an S3 key or local path in the trail layout. A path that is not in the layout
// gives Kind KeyOther (its name may still say it is a digest file).
func ParseKey(p string) Key {
	p = strings.ReplaceAll(p, "\\", "/")
	var k Key
	i := strings.LastIndex(p, "AWSLogs/")
	if i < 0 {
		if isDigestName(path.Base(p)) {
			k.Kind = KeyDigest
		}
		return k
	}
	k.Prefix = strings.TrimSuffix(p[:i], "/")
	parts := strings.Split(p[i+len("AWSLogs/"):], "/")
	if len(parts) > 0 && strings.HasPrefix(parts[0], "o-") {
		k.OrgID, parts = parts[0], parts[1:]
	}
	if len(parts) < 2 || !ValidAccount(parts[0]) {
		if isDigestName(path.Base(p)) {
			k.Kind = KeyDigest
		}
		return k
	}
	k.Account = parts[0]
	switch parts[1] {
	case "CloudTrail", "CloudTrail-Insight":
		k.Kind = KeyLog
	case "CloudTrail-Digest":
		k.Kind = KeyDigest
	default:
		k.Kind = KeyUnknown
	}
	if len(parts) >= 6 {
		k.Region = parts[2]
		if digits(parts[3]) && digits(parts[4]) && digits(parts[5]) {
			k.Year, k.Month, k.Day = parts[3], parts[4], parts[5]
		}
	}
	return k
}

func isDigestName(name string) bool { return strings.Contains(name, "CloudTrail-Digest") }
