// Package cwlsrc reads a CloudWatch Logs log group, the destination a trail can deliver to
// besides S3: its log streams (DescribeLogStreams) and their events (FilterLogEvents), page by
// page and within the API's quota of 5 requests per second per account and region.
package cwlsrc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/trailsql/trailsql/internal/awsconfig"
)

// API is what cwlsrc uses of CloudWatch Logs (Client's, over the API's JSON 1.1 protocol).
type API interface {
	DescribeLogStreams(ctx context.Context, in *DescribeLogStreamsInput) (*DescribeLogStreamsOutput, error)
	FilterLogEvents(ctx context.Context, in *FilterLogEventsInput) (*FilterLogEventsOutput, error)
}

// The requests and answers of the two operations, with the members cwlsrc uses, named as the API
// names them (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/).
type (
	DescribeLogStreamsInput struct {
		LogGroupName *string `json:"logGroupName,omitempty"`
		OrderBy      string  `json:"orderBy,omitempty"` // LogStreamName or LastEventTime
		NextToken    *string `json:"nextToken,omitempty"`
	}
	DescribeLogStreamsOutput struct {
		LogStreams []LogStream `json:"logStreams"`
		NextToken  *string     `json:"nextToken"`
	}
	// LogStream is a log stream; its times are in milliseconds since the epoch.
	LogStream struct {
		LogStreamName       *string `json:"logStreamName"`
		CreationTime        *int64  `json:"creationTime"`
		FirstEventTimestamp *int64  `json:"firstEventTimestamp"`
		LastEventTimestamp  *int64  `json:"lastEventTimestamp"`
		LastIngestionTime   *int64  `json:"lastIngestionTime"`
	}
	FilterLogEventsInput struct {
		LogGroupName   *string  `json:"logGroupName,omitempty"`
		LogStreamNames []string `json:"logStreamNames,omitempty"`
		StartTime      *int64   `json:"startTime,omitempty"`
		EndTime        *int64   `json:"endTime,omitempty"`
		NextToken      *string  `json:"nextToken,omitempty"`
	}
	FilterLogEventsOutput struct {
		Events    []FilteredLogEvent `json:"events"`
		NextToken *string            `json:"nextToken"`
	}
	// FilteredLogEvent is a log event; its times are in milliseconds since the epoch.
	FilteredLogEvent struct {
		EventID       *string `json:"eventId"`
		LogStreamName *string `json:"logStreamName"`
		Message       *string `json:"message"`
		Timestamp     *int64  `json:"timestamp"`
		IngestionTime *int64  `json:"ingestionTime"`
	}
)

// Quota is the rate limit of FilterLogEvents and DescribeLogStreams: requests per second, per
// account and region (the default quotas; GetLogEvents has 25).
const Quota = 5

// Scheme starts the URL of a log group: cwl://LOG_GROUP.
const Scheme = "cwl://"

// ParseURL returns the log group of a cwl://LOG_GROUP URL.
func ParseURL(u string) (string, error) {
	g, ok := strings.CutPrefix(u, Scheme)
	if !ok {
		return "", fmt.Errorf("%s is not a cwl://LOG_GROUP URL", u)
	}
	if err := ValidGroup(g); err != nil {
		return "", fmt.Errorf("%s: %w", u, err)
	}
	return g, nil
}

// ValidGroup checks a log group name as CloudWatch Logs does: 1 to 512 characters among
// letters, digits and _ - / . #.
func ValidGroup(g string) error {
	if g == "" || len(g) > 512 {
		return errors.New("a log group name has 1 to 512 characters")
	}
	for _, c := range g {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_-/.#", c)) {
			return fmt.Errorf("log group name %q holds %q: only letters, digits and _ - / . # are allowed", g, c)
		}
	}
	return nil
}

// ClientOptions say how to reach CloudWatch Logs. Zero values take the defaults.
type ClientOptions struct {
	Profile, Region string
	// EndpointURL replaces the regional endpoint (tests, VPC endpoints).
	EndpointURL string
	// Credentials replace the standard chain when set.
	Credentials aws.CredentialsProvider
	// Rate is the requests per second (default Quota); retries count too.
	Rate float64
	// MaxAttempts bounds the attempts of one request (default 10): ThrottlingException, 5xx and
	// broken connections are retried with exponential backoff up to MaxBackoff (default 20 s).
	MaxAttempts int
	MaxBackoff  time.Duration
	Logger      *slog.Logger
}

// Client is a CloudWatch Logs client of one region.
type Client struct {
	API    API
	Region string
}

// logsAPI is API over the JSON 1.1 protocol.
type logsAPI struct{ *awsconfig.JSONAPI }

func (a logsAPI) DescribeLogStreams(ctx context.Context, in *DescribeLogStreamsInput) (*DescribeLogStreamsOutput, error) {
	out := &DescribeLogStreamsOutput{}
	return out, a.Call(ctx, "DescribeLogStreams", in, out)
}

func (a logsAPI) FilterLogEvents(ctx context.Context, in *FilterLogEventsInput) (*FilterLogEventsOutput, error) {
	out := &FilterLogEventsOutput{}
	return out, a.Call(ctx, "FilterLogEvents", in, out)
}

// NewClient returns a client that stays within opt.Rate, retries included.
func NewClient(ctx context.Context, opt ClientOptions) (*Client, error) {
	if opt.Rate <= 0 {
		opt.Rate = Quota
	}
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = 10
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = 20 * time.Second
	}
	cfg, err := awsconfig.Load(ctx, awsconfig.Options{Profile: opt.Profile, Region: opt.Region, Credentials: opt.Credentials, MaxAttempts: opt.MaxAttempts, MaxBackoff: opt.MaxBackoff, Logger: opt.Logger})
	if err != nil {
		return nil, err
	}
	if cfg.Region == "" {
		return nil, errors.New("no AWS region for CloudWatch Logs: give --region (a log group lives in one region) or set AWS_REGION")
	}
	endpoint := opt.EndpointURL
	if endpoint == "" {
		endpoint = "https://logs." + cfg.Region + ".amazonaws.com"
		if strings.HasPrefix(cfg.Region, "cn-") {
			endpoint += ".cn"
		}
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	api := &awsconfig.JSONAPI{
		Signed:   awsconfig.Signed{HTTP: cfg.HTTPClient, Creds: cfg.Credentials, Signer: v4.NewSigner(), Service: "logs", Region: cfg.Region},
		Endpoint: strings.TrimSuffix(endpoint, "/"), Target: "Logs_20140328", Name: "CloudWatch Logs",
		MaxAttempts: opt.MaxAttempts, MinBackoff: 100 * time.Millisecond, MaxBackoff: opt.MaxBackoff,
		Limit: &awsconfig.Limiter{Every: time.Duration(float64(time.Second) / opt.Rate)},
		Hint:  fmt.Sprintf("the account and region of the log group allow %d requests per second to FilterLogEvents and DescribeLogStreams, shared with whatever else reads them: retry later", Quota),
		Log:   log.With("component", "cwl"),
	}
	return &Client{API: logsAPI{api}, Region: cfg.Region}, nil
}

// Streams calls fn with each log stream of group, in name order.
func Streams(ctx context.Context, api API, group string, fn func(LogStream) error) error {
	in := &DescribeLogStreamsInput{LogGroupName: aws.String(group), OrderBy: "LogStreamName"}
	for n := 1; ; n++ {
		out, err := api.DescribeLogStreams(ctx, in)
		if err != nil {
			return explain(fmt.Errorf("DescribeLogStreams of log group %s (page %d): %w", group, n, err))
		}
		for _, s := range out.LogStreams {
			if err := fn(s); err != nil {
				return err
			}
		}
		if aws.ToString(out.NextToken) == "" {
			return nil
		}
		in.NextToken = out.NextToken
	}
}

// Range selects the events of a stream by timestamp, in milliseconds since the epoch: from Start
// to End, both included; End 0: no end.
type Range struct{ Start, End int64 }

// MaxStreams is the most log streams one FilterLogEvents request names.
const MaxStreams = 100

// Events calls fn with each page of the events of streams (at most MaxStreams) in r, oldest
// first and the streams interleaved, as the API gives them, following nextToken to the end; last
// is set on the last page. A page may be empty while more follow.
func Events(ctx context.Context, api API, group string, streams []string, r Range, fn func(evs []FilteredLogEvent, last bool) error) error {
	in := &FilterLogEventsInput{LogGroupName: aws.String(group), LogStreamNames: streams, StartTime: aws.Int64(r.Start)}
	if r.End > 0 {
		in.EndTime = aws.Int64(r.End)
	}
	for n := 1; ; n++ {
		out, err := api.FilterLogEvents(ctx, in)
		if err != nil {
			return explain(fmt.Errorf("FilterLogEvents of log stream %s in log group %s (page %d): %w", streamList(streams), group, n, err))
		}
		last := aws.ToString(out.NextToken) == ""
		if err := fn(out.Events, last); err != nil {
			return err
		}
		if last {
			return nil
		}
		in.NextToken = out.NextToken
	}
}

// explain adds what to do to the errors a user can fix.
func explain(err error) error {
	var ae *awsconfig.APIError
	if errors.As(err, &ae) && ae.Type == "ResourceNotFoundException" {
		return fmt.Errorf("%w (check the log group's name, `aws logs describe-log-groups`, and --region: a log group lives in one region)", err)
	}
	return err
}

// streamList names streams in a message: the first, and how many more.
func streamList(streams []string) string {
	switch len(streams) {
	case 0:
		return "(none)"
	case 1:
		return streams[0]
	}
	return fmt.Sprintf("%s and %d more", streams[0], len(streams)-1)
}
