package cloudtrail

import (
	"fmt"
	"strings"
)

// Quarantine is the partition value of an account or a region that is not one: a
// recipientAccountId that is not 12 digits, an awsRegion that is not a region's name. Such a
// record is stored whole (its columns keep their true values) under account=__invalid__ or
// region=__invalid__, so that one bad record cannot make a partition folder nobody can create (a
// 5,000-character name) or spread a file over thousands of partitions, and the rest of its file
// is still stored. It is a value no account or region can have, and a string rather than NULL so
// that `account = '__invalid__'` finds these records apart from those that name no account
// (NULL, __HIVE_DEFAULT_PARTITION__ on disk).
//
// An eventTime that is not a real time (2024-13-45T99:99:99Z) is not quarantined: its record goes
// to the NULL date partition with the times that are not ISO-8601, so that no comparison on year,
// month or day selects it (a quarantine year such as '__invalid__' would be >= '2024').
const Quarantine = "__invalid__"

// PartitionWarning says why a partition value of a record was not taken from it.
type PartitionWarning struct {
	Field string // the record's field (or "S3 key") the value came from
	Value string // the value as it was, possibly very long
	Why   string
}

func (w PartitionWarning) String() string {
	return fmt.Sprintf("%s %s %s: stored in the quarantine partition %s", w.Field, Excerpt(w.Value), w.Why, w.partition())
}

func (w PartitionWarning) partition() string {
	if w.Field == "awsRegion" {
		return "region=" + Quarantine
	}
	return "account=" + Quarantine
}

// Excerpt quotes a value for a message, shortened when long so that a 5,000-character value
// does not make a 5,000-character message.
func Excerpt(s string) string {
	const max = 40
	if len(s) <= max {
		return fmt.Sprintf("%q", s)
	}
	cut := max
	for cut > 0 && cut < len(s) && s[cut]&0xC0 == 0x80 {
		cut-- // not in the middle of a UTF-8 sequence
	}
	return fmt.Sprintf("%q… (%d bytes)", s[:cut], len(s))
}

// PartitionOf returns the partition an event belongs in (see CheckPartition), without the
// reasons why a value was quarantined.
func PartitionOf(r *Record, s3Account string) Partition {
	p, _ := CheckPartition(r, s3Account, nil)
	return p
}

// CheckPartition returns the partition an event belongs in, appending to warns what was wrong
// with the values it came from. The account comes from the S3 key when the file had one
// (s3Account), else recipientAccountId, else userIdentity.accountId; the region from awsRegion;
// the date from eventTime, in UTC. A value that is missing leaves its partition value empty (the
// NULL partition); an account or region that is not valid is Quarantine; an eventTime that is not
// a real ISO-8601 time leaves the date empty, which the caller reports (see EventDate).
func CheckPartition(r *Record, s3Account string, warns []PartitionWarning) (Partition, []PartitionWarning) {
	var p Partition
	account := func(field, v string) {
		if ValidAccount(v) {
			p.Account = v
			return
		}
		p.Account = Quarantine
		warns = append(warns, PartitionWarning{Field: field, Value: v, Why: "is not a 12-digit account id"})
	}
	switch {
	case s3Account != "":
		account("S3 key account", s3Account)
	case r.RecipientAccountID != nil && *r.RecipientAccountID != "":
		account("recipientAccountId", *r.RecipientAccountID)
	case r.UserIdentity != nil && r.UserIdentity.AccountID != nil && *r.UserIdentity.AccountID != "":
		account("userIdentity.accountId", *r.UserIdentity.AccountID)
	}
	if r.AWSRegion != nil && *r.AWSRegion != "" {
		if ValidRegion(*r.AWSRegion) {
			p.Region = *r.AWSRegion
		} else {
			p.Region = Quarantine
			warns = append(warns, PartitionWarning{Field: "awsRegion", Value: *r.AWSRegion, Why: "is not an AWS region name"})
		}
	}
	if r.EventTime != nil {
		p.Year, p.Month, p.Day, _ = EventDate(*r.EventTime)
	}
	return p, warns
}

// ValidAccount reports whether s is an AWS account id: 12 digits.
func ValidAccount(s string) bool { return len(s) == 12 && digits(s) }

// ValidRegion reports whether s has the syntax of an AWS region name: a partition's prefix, a
// direction word and a number, as in us-east-1, us-gov-west-1, cn-north-1, eu-isoe-west-1,
// ap-southeast-5 or eusc-de-east-1; at most 32 bytes. Equivalent to the regular expression
// ^(af|ap|ca|eu|il|me|mx|sa|us|cn|us-gov|us-iso|us-isob|us-isof|eu-isoe|eusc-de)-[a-z]{2,16}-[0-9]{1,2}$.
// Regions AWS opens later match without a change as long as their partition is listed.
func ValidRegion(s string) bool {
	if len(s) > 32 {
		return false
	}
	i := strings.LastIndexByte(s, '-')
	if i < 0 || len(s)-i-1 < 1 || len(s)-i-1 > 2 || !digits(s[i+1:]) {
		return false
	}
	rest := s[:i]
	j := strings.LastIndexByte(rest, '-')
	if j < 0 {
		return false
	}
	word := rest[j+1:]
	if len(word) < 2 || len(word) > 16 {
		return false
	}
	for k := 0; k < len(word); k++ {
		if word[k] < 'a' || word[k] > 'z' {
			return false
		}
	}
	// The beginnings of the region names of every AWS partition, as the SDKs' endpoint rules
	// match them (aws: af|ap|ca|eu|il|me|mx|sa|us; aws-cn: cn; aws-us-gov: us-gov; aws-iso:
	// us-iso; aws-iso-b: us-isob; aws-iso-f: us-isof; aws-iso-e: eu-isoe; aws-eusc: eusc-de).
	switch rest[:j] {
	case "af", "ap", "ca", "eu", "il", "me", "mx", "sa", "us",
		"cn", "us-gov", "us-iso", "us-isob", "us-isof", "eu-isoe", "eusc-de":
		return true
	}
	return false
}

// EventDate returns the UTC calendar date of a CloudTrail eventTime, and false when the time is
// not an ISO-8601 time, or not a real one (month 13, February 30, 25:00).
func EventDate(s string) (y, m, d string, ok bool) {
	// Fast path: CloudTrail writes "YYYY-MM-DDTHH:MM:SSZ".
	if len(s) == 20 && s[19] == 'Z' && s[10] == 'T' && s[4] == '-' && s[7] == '-' && s[13] == ':' && s[16] == ':' &&
		digits(s[0:4]) && digits(s[5:7]) && digits(s[8:10]) && digits(s[11:13]) && digits(s[14:16]) && digits(s[17:19]) {
		if validDate(s[0:4], s[5:7], s[8:10]) && s[11:13] < "24" && s[14:16] < "60" && s[17:19] < "60" {
			return s[0:4], s[5:7], s[8:10], true
		}
		return "", "", "", false
	}
	t, ok := ParseTime(s)
	if !ok {
		return "", "", "", false
	}
	f := t.UTC().Format("2006-01-02")
	return f[0:4], f[5:7], f[8:10], true
}

// validDate reports whether four, two and two digits make a day of the Gregorian calendar.
func validDate(y, m, d string) bool {
	year := int(y[0]-'0')*1000 + int(y[1]-'0')*100 + int(y[2]-'0')*10 + int(y[3]-'0')
	month := int(m[0]-'0')*10 + int(m[1]-'0')
	day := int(d[0]-'0')*10 + int(d[1]-'0')
	if month < 1 || month > 12 || day < 1 {
		return false
	}
	days := [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[month-1]
	if month == 2 && year%4 == 0 && (year%100 != 0 || year%400 == 0) {
		days = 29
	}
	return day <= days
}
