// Package awsconfig loads the standard AWS configuration the way trailsql's AWS clients (S3,
// CloudTrail) share it.
package awsconfig

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/logging"
)

// Options select the profile, region and credentials, and the retries of every request.
type Options struct {
	Profile, Region string
	// Credentials replace the standard chain when set.
	Credentials aws.CredentialsProvider
	MaxAttempts int
	MaxBackoff  time.Duration
	// Logger receives the SDK's own messages (such as "falling back to IMDSv1") at debug level,
	// so that they do not interleave with trailsql's output; nil discards them.
	Logger *slog.Logger
}

// ErrNoCredentials is matched (errors.Is) by the error of Load when the standard chain finds no
// credentials anywhere.
var ErrNoCredentials = errors.New("no AWS credentials found")

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
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	loads = append(loads, config.WithLogger(logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
		log.Debug(fmt.Sprintf(format, v...), "component", "aws-sdk", "class", string(c))
	})))
	cfg, err := config.LoadDefaultConfig(ctx, append(loads, more...)...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("AWS configuration: %w", err)
	}
	if opt.Credentials == nil && cfg.Credentials != nil {
		// Asked once here (the answer is cached for the requests), so that missing credentials
		// are one clear error before any request rather than a failure of each.
		if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
			return aws.Config{}, credentialsError(opt.Profile, err)
		}
	}
	return cfg, nil
}

// credentialsError explains a failure of the standard credential chain in one line: where
// credentials were looked for, and what to do.
func credentialsError(profile string, err error) error {
	if profile == "" {
		profile = os.Getenv("AWS_PROFILE")
	}
	if profile == "" {
		profile = "default"
	}
	files := func(env, def string) string {
		if p := os.Getenv(env); p != "" {
			return p
		}
		return def
	}
	where := fmt.Sprintf("the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), %s and %s (profile %q: keys, SSO, role, credential_process), web identity (AWS_WEB_IDENTITY_TOKEN_FILE), the container role (ECS) and the instance role (EC2 IMDS)",
		files("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"), files("AWS_CONFIG_FILE", "~/.aws/config"), profile)
	msg := strings.Join(strings.Fields(err.Error()), " ")
	if strings.Contains(msg, "no EC2 IMDS role found") {
		// The chain tried everything and ended with the instance role: nothing is configured.
		return fmt.Errorf("%w: looked in %s; configure some (`aws configure`, `aws sso login --profile NAME`, or the environment variables) or choose a profile with --profile", ErrNoCredentials, where)
	}
	return fmt.Errorf("AWS credentials of profile %q could not be loaded: %s (looked in %s)", profile, msg, where)
}
