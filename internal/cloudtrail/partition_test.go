package cloudtrail

import (
	"strings"
	"testing"
)

func TestValidRegion(t *testing.T) {
	for _, tc := range []struct {
		region string
		ok     bool
	}{
		{"us-east-1", true},
		{"us-gov-west-1", true},
		{"cn-north-1", true},
		{"cn-northwest-1", true},
		{"eu-isoe-west-1", true},
		{"us-iso-east-1", true},
		{"us-isob-east-1", true},
		{"us-isof-south-1", true},
		{"ap-southeast-5", true},
		{"mx-central-1", true},
		{"il-central-1", true},
		{"eusc-de-east-1", true},
		{"ca-west-1", true},
		{"", false},
		{"us-east", false},
		{"us-east-", false},
		{"us-east-123", false},
		{"us-east-1r", false},
		{"US-EAST-1", false},
		{"xx-east-1", false},
		{"global", false},
		{"awsRegion1", false},
		{"us-north-2r", false},
		{"sagov-westsouth-1r", false},
		{"us-gov-" + strings.Repeat("w", 17) + "-1", false},
		{strings.Repeat("a", 300), false},
		{"us-east-1/../x", false},
		{"us-e%t-1", false},
	} {
		if got := ValidRegion(tc.region); got != tc.ok {
			t.Errorf("ValidRegion(%q) = %v, want %v", tc.region, got, tc.ok)
		}
	}
}

func TestEventDate(t *testing.T) {
	for _, tc := range []struct {
		time string
		date string // "" when not a real ISO-8601 time
	}{
		{"2024-03-01T12:00:00Z", "2024-03-01"},
		{"2024-02-29T23:59:59Z", "2024-02-29"},
		{"2000-02-29T00:00:00Z", "2000-02-29"},
		{"2024-12-31T00:00:00Z", "2024-12-31"},
		{"2024-03-01T01:00:00+02:00", "2024-02-29"},
		{"2024-03-01 12:00:00", "2024-03-01"},
		{"2024-03-01T12:00:00.123Z", "2024-03-01"},
		{"2024-13-45T99:99:99Z", ""},
		{"2024-13-01T00:00:00Z", ""},
		{"2024-00-01T00:00:00Z", ""},
		{"2024-01-00T00:00:00Z", ""},
		{"2023-02-29T00:00:00Z", ""},
		{"1900-02-29T00:00:00Z", ""},
		{"2024-04-31T00:00:00Z", ""},
		{"2024-03-01T24:00:00Z", ""},
		{"2024-03-01T23:60:00Z", ""},
		{"2024-03-01T23:59:60Z", ""},
		{"2024-13-45T99:99:99.5Z", ""},
		{"2024-03-01X12:00:00Z", ""},
		{"ThisIsAWrongEventTime", ""},
	} {
		y, m, d, ok := EventDate(tc.time)
		got := ""
		if ok {
			got = y + "-" + m + "-" + d
		}
		if got != tc.date {
			t.Errorf("EventDate(%q) = %q, want %q", tc.time, got, tc.date)
		}
	}
}

func TestCheckPartition(t *testing.T) {
	s := func(v string) *string { return &v }
	long := strings.Repeat("1", 5000)
	for _, tc := range []struct {
		name   string
		rec    Record
		s3     string
		want   Partition
		fields []string // of the warnings
	}{
		{"valid", Record{RecipientAccountID: s("111122223333"), AWSRegion: s("eu-west-1"), EventTime: s("2024-03-01T00:00:00Z")},
			"", Partition{"111122223333", "eu-west-1", "2024", "03", "01"}, nil},
		{"S3 key first", Record{RecipientAccountID: s("111122223333")}, "444455556666", Partition{Account: "444455556666"}, nil},
		{"S3 key invalid", Record{RecipientAccountID: s("111122223333")}, "4444", Partition{Account: Quarantine}, []string{"S3 key account"}},
		{"long account", Record{RecipientAccountID: s(long), AWSRegion: s("us-east-1")}, "", Partition{Account: Quarantine, Region: "us-east-1"}, []string{"recipientAccountId"}},
		{"userIdentity account", Record{UserIdentity: &UserIdentity{AccountID: s("111122223333")}}, "", Partition{Account: "111122223333"}, nil},
		{"userIdentity account invalid", Record{UserIdentity: &UserIdentity{AccountID: s("ANONYMOUS_PRINCIPAL")}}, "", Partition{Account: Quarantine}, []string{"userIdentity.accountId"}},
		{"no account", Record{UserIdentity: &UserIdentity{}}, "", Partition{}, nil},
		{"long region", Record{RecipientAccountID: s("111122223333"), AWSRegion: s(strings.Repeat("r", 300))}, "", Partition{Account: "111122223333", Region: Quarantine}, []string{"awsRegion"}},
		{"both", Record{RecipientAccountID: s("x"), AWSRegion: s("y")}, "", Partition{Account: Quarantine, Region: Quarantine}, []string{"recipientAccountId", "awsRegion"}},
		{"bad date", Record{EventTime: s("2024-13-45T99:99:99Z")}, "", Partition{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, warns := CheckPartition(&tc.rec, tc.s3, nil)
			if got != tc.want {
				t.Errorf("partition %+v, want %+v", got, tc.want)
			}
			var fields []string
			for _, w := range warns {
				fields = append(fields, w.Field)
				if len(w.String()) > 200 {
					t.Errorf("warning of %d bytes: %.200s", len(w.String()), w)
				}
			}
			if strings.Join(fields, ",") != strings.Join(tc.fields, ",") {
				t.Errorf("warnings on %v, want %v", fields, tc.fields)
			}
			if PartitionOf(&tc.rec, tc.s3) != got {
				t.Error("PartitionOf differs from CheckPartition")
			}
		})
	}
}

func TestExcerpt(t *testing.T) {
	if got := Excerpt("us-east-1"); got != `"us-east-1"` {
		t.Errorf("short: %s", got)
	}
	got := Excerpt(strings.Repeat("é", 100))
	if !strings.HasSuffix(got, "… (200 bytes)") || strings.Contains(got, `\x`) {
		t.Errorf("long: %s", got)
	}
}
