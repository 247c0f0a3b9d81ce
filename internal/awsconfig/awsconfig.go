// Package awsconfig loads the standard AWS configuration the way trailsql's AWS clients (S3,
// CloudTrail) share it.
package awsconfig

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
)

// Options select the profile, region and credentials, and the retries of every request.
type Options struct {
	Profile, Region string
	// Credentials replace the standard chain when set.
	Credentials aws.CredentialsProvider
	MaxAttempts int
	MaxBackoff  time.Duration
}

// Load returns the standard configuration (environment, shared files, SSO, container and instance
// roles) with opt applied. Requests are retried up to MaxAttempts with exponential backoff up to
// MaxBackoff, without the SDK's token bucket: it gives up retrying after a burst of failures,
// which a long ingest meets when a server sheds load, and every request should get its attempts.
func Load(ctx context.Context, opt Options, more ...func(*config.LoadOptions) error) (aws.Config, error) {
	loads := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = opt.MaxAttempts
				o.MaxBackoff = opt.MaxBackoff
				o.RateLimiter = ratelimit.None
			})
		}),
	}
	if opt.Profile != "" {
		loads = append(loads, config.WithSharedConfigProfile(opt.Profile))
	}
	if opt.Region != "" {
		loads = append(loads, config.WithRegion(opt.Region))
	}
	if opt.Credentials != nil {
		loads = append(loads, config.WithCredentialsProvider(opt.Credentials))
	}
	cfg, err := config.LoadDefaultConfig(ctx, append(loads, more...)...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("AWS configuration: %w", err)
	}
	return cfg, nil
}
