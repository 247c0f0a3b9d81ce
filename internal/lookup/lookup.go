// Package lookup reads the CloudTrail LookupEvents API — Event history, the last 90 days of
// management events of an account, region by region — page by page and within the API's quota
// of 2 requests per second per account and region.
package lookup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/smithy-go"

	"github.com/trailsql/trailsql/internal/awsconfig"
)

// API is what lookup uses of a CloudTrail client (*cloudtrail.Client implements it).
type API interface {
	LookupEvents(ctx context.Context, in *cloudtrail.LookupEventsInput, opts ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error)
}

// History is how long Event history keeps events.
const History = 90 * 24 * time.Hour

// Quota is LookupEvents' rate limit: requests per second, per account and region.
const Quota = 2

// regions are the commercial regions; optIn are those an account must enable first.
var (
	regions = []string{
		"us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "ca-west-1", "mx-central-1", "sa-east-1",
		"eu-central-1", "eu-central-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-south-1", "eu-south-2", "eu-north-1",
		"il-central-1", "me-south-1", "me-central-1", "af-south-1",
		"ap-east-1", "ap-east-2", "ap-south-1", "ap-south-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
		"ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-7",
	}
	optIn = []string{
		"ca-west-1", "mx-central-1", "eu-central-2", "eu-south-1", "eu-south-2", "il-central-1", "me-south-1",
		"me-central-1", "af-south-1", "ap-east-1", "ap-east-2", "ap-south-2", "ap-southeast-3", "ap-southeast-4",
		"ap-southeast-5", "ap-southeast-7",
	}
)

// Regions returns the commercial AWS regions, the default set to read.
func Regions() []string { return slices.Clone(regions) }

// OptIn reports whether a region must be enabled by the account before use: such a region
// refusing the credentials is skipped rather than failed.
func OptIn(region string) bool { return slices.Contains(optIn, region) }

// ClientOptions say how to reach CloudTrail. Zero values take the defaults.
type ClientOptions struct {
	Profile string
	// EndpointURL replaces CloudTrail's regional endpoints (tests, VPC endpoints).
	EndpointURL string
	// Credentials replace the standard chain when set.
	Credentials aws.CredentialsProvider
	// Rate is the requests per second per region (default Quota); retries count too.
	Rate float64
	// MaxAttempts bounds the attempts of one request (default 10): ThrottlingException, 5xx and
	// broken connections are retried with exponential backoff up to MaxBackoff (default 20 s).
	MaxAttempts int
	MaxBackoff  time.Duration
}

// NewClients returns a function giving the client of a region. Each region's client waits
// between requests so that it stays within opt.Rate, retries included.
func NewClients(ctx context.Context, opt ClientOptions) (func(region string) API, error) {
	if opt.Rate <= 0 {
		opt.Rate = Quota
	}
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = 10
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = 20 * time.Second
	}
	cfg, err := awsconfig.Load(ctx, awsconfig.Options{Profile: opt.Profile, Credentials: opt.Credentials, MaxAttempts: opt.MaxAttempts, MaxBackoff: opt.MaxBackoff})
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	clients := map[string]API{}
	return func(region string) API {
		mu.Lock()
		defer mu.Unlock()
		if c, ok := clients[region]; ok {
			return c
		}
		lim := &awsconfig.Limiter{Every: time.Duration(float64(time.Second) / opt.Rate)}
		c := cloudtrail.NewFromConfig(cfg, func(o *cloudtrail.Options) {
			o.Region = region
			if opt.EndpointURL != "" {
				o.BaseEndpoint = aws.String(opt.EndpointURL)
			}
			o.APIOptions = append(o.APIOptions, awsconfig.Limited(lim))
		})
		clients[region] = c
		return c
	}, nil
}

// Page is one answer of LookupEvents.
type Page struct {
	Region string
	Number int // from 1
	Events []types.Event
}

// Pages calls fn with each page of a region's events between from and to (newest first, as the
// API gives them), following NextToken to the end.
func Pages(ctx context.Context, api API, region string, from, to time.Time, fn func(Page) error) error {
	in := &cloudtrail.LookupEventsInput{StartTime: aws.Time(from), EndTime: aws.Time(to), MaxResults: aws.Int32(50)}
	for n := 1; ; n++ {
		out, err := api.LookupEvents(ctx, in)
		if err != nil {
			return fmt.Errorf("LookupEvents in %s (page %d): %w", region, n, err)
		}
		if err := fn(Page{Region: region, Number: n, Events: out.Events}); err != nil {
			return err
		}
		if aws.ToString(out.NextToken) == "" {
			return nil
		}
		in.NextToken = out.NextToken
	}
}

// NotEnabled reports whether err says the region refused the credentials, which is what an
// opt-in region not enabled for the account answers.
func NotEnabled(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "UnrecognizedClientException", "InvalidClientTokenId", "AuthFailure", "OptInRequired":
			return true
		}
	}
	var re *awshttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == 403
}
