// Package s3src finds and reads CloudTrail log objects in S3: the trail layout
// [prefix/]AWSLogs/[o-xxxxxxxxxx/]<account>/CloudTrail/<region>/YYYY/MM/DD/… is walked with
// delimiter listings (organizations, accounts, regions), and only the day folders inside the
// wanted window are listed, so a bucket holding years of logs costs a few LIST requests for a
// week. Objects are read as streams that resume where they stopped after a transient failure.
package s3src

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trailsql/trailsql/internal/awsconfig"
)

// API is what s3src uses of an S3 client (*s3.Client implements it).
type API interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// ClientOptions say how to reach S3. Zero values take the defaults.
type ClientOptions struct {
	// Profile is the shared configuration profile (default: $AWS_PROFILE, else "default").
	Profile string
	// Region is the bucket's region. Default: the environment's or the profile's region; without
	// one, and without an EndpointURL, the bucket's region is asked of S3.
	Region string
	// EndpointURL is an S3-compatible server (MinIO, versitygw, …), addressed path-style.
	EndpointURL string
	// Credentials replace the standard chain (environment, shared files, SSO, container and
	// instance roles) when set.
	Credentials aws.CredentialsProvider
	// MaxAttempts bounds the attempts of one request (default 8): SlowDown, 5xx, timeouts and
	// broken connections are retried with exponential backoff, up to MaxBackoff (default 20 s).
	MaxAttempts int
	MaxBackoff  time.Duration
	// ReadTimeout fails a response that delivers no data for this long (default 60 s), so that a
	// stalled connection is retried instead of hanging.
	ReadTimeout time.Duration
	// Connections is the number of connections kept open to the server (default 64).
	Connections int
	// Wrap, when set, wraps the HTTP client (tests count or break requests with it).
	Wrap   func(aws.HTTPClient) aws.HTTPClient
	Logger *slog.Logger
}

// NewClient returns an S3 client configured by opt and the standard AWS configuration. bucket,
// when given, is used to find the bucket's region if none is configured.
func NewClient(ctx context.Context, opt ClientOptions, bucket string) (*s3.Client, error) {
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = 8
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = 20 * time.Second
	}
	if opt.ReadTimeout <= 0 {
		opt.ReadTimeout = 60 * time.Second
	}
	if opt.Connections <= 0 {
		opt.Connections = 64
	}
	hc := awshttp.NewBuildableClient().WithReadTimeout(opt.ReadTimeout).WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConns = opt.Connections
		tr.MaxIdleConnsPerHost = opt.Connections
	})
	cfg, err := awsconfig.Load(ctx, awsconfig.Options{Profile: opt.Profile, Region: opt.Region, Credentials: opt.Credentials, MaxAttempts: opt.MaxAttempts, MaxBackoff: opt.MaxBackoff, Logger: opt.Logger}, config.WithHTTPClient(hc))
	if err != nil {
		return nil, err
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if opt.Wrap != nil {
		cfg.HTTPClient = opt.Wrap(cfg.HTTPClient)
	}
	mk := func(region string) *s3.Client {
		return s3.NewFromConfig(cfg, func(o *s3.Options) {
			o.Region = region
			if opt.EndpointURL != "" {
				o.BaseEndpoint = aws.String(opt.EndpointURL)
				o.UsePathStyle = true
			}
			// CloudTrail objects are gzip with their own CRC; checksumming every response again
			// costs CPU for nothing.
			o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		})
	}
	client := mk(cfg.Region)
	if opt.Region == "" && opt.EndpointURL == "" && bucket != "" {
		if r := bucketRegion(ctx, client, bucket); r != "" && r != cfg.Region {
			client = mk(r)
		}
	}
	return client, nil
}

// bucketRegion asks S3 where a bucket lives (HeadBucket answers with x-amz-bucket-region even
// when redirecting); "" when it cannot tell.
func bucketRegion(ctx context.Context, c *s3.Client, bucket string) string {
	out, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)})
	if err == nil {
		return aws.ToString(out.BucketRegion)
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		return re.Response.Header.Get("X-Amz-Bucket-Region")
	}
	return ""
}

// ParseURL splits s3://bucket/prefix.
func ParseURL(u string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(u, "s3://")
	if !ok {
		return "", "", fmt.Errorf("%q is not an s3://bucket/prefix URL", u)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("%q names no bucket: write s3://bucket or s3://bucket/prefix", u)
	}
	return bucket, prefix, nil
}

// Counters count the requests made, for the summary and for tests.
type Counters struct {
	Lists   atomic.Int64 // ListObjectsV2 requests (pages)
	Gets    atomic.Int64 // GetObject requests, resumptions included
	Resumes atomic.Int64 // reads resumed after a failure in the middle of an object
}
