// Package athenaapi runs the answers' statements on Amazon Athena: an answer.QueryFunc that sends
// each statement as it is (it is already Athena SQL) through StartQueryExecution, polls
// GetQueryExecution, and pages GetQueryResults, speaking Athena's JSON 1.1 protocol directly with
// SigV4-signed requests. It is the one package that talks to Athena.
//
// Positional parameters (?) go as ExecutionParameters, each a SQL literal. Athena returns every
// value as text; values are turned back into the Go values the local engine returns, by the
// column types of the result's metadata, and the result's Types are named as DuckDB names them
// (nested columns' from the shape of their values) so that both engines' answers render alike.
package athenaapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/trailsql/trailsql/internal/answer"
	"github.com/trailsql/trailsql/internal/athena"
	"github.com/trailsql/trailsql/internal/awsconfig"
)

// PageSize is how many rows one GetQueryResults returns, Athena's most.
const PageSize = 1000

// Options say where statements run and how patiently.
type Options struct {
	// Region is Athena's region; Endpoint replaces https://athena.<region>.amazonaws.com (a VPC
	// endpoint, or a test's fake).
	Region, Endpoint string
	// Profile names the shared-config profile whose credentials sign requests; Credentials,
	// when set, replace the standard chain.
	Profile     string
	Credentials aws.CredentialsProvider
	// WorkGroup, Database (the database holding cloudtrail_logs), Catalog (default
	// AwsDataCatalog) and OutputLocation (s3://… for the results; the workgroup's when empty).
	WorkGroup, Database, Catalog, OutputLocation string
	// MaxRows bounds an answer's rows (0: no bound).
	MaxRows int
	// MinPoll and MaxPoll bound the wait between two GetQueryExecution (defaults 100 ms, 2 s):
	// the wait doubles from MinPoll while the query runs.
	MinPoll, MaxPoll time.Duration
	// MaxAttempts is how many times a throttled or failed request is sent (default 8), waiting
	// from MinPoll, doubling, up to MaxBackoff (default 10 s) between.
	MaxAttempts int
	MaxBackoff  time.Duration
	HTTPClient  *http.Client
	Logger      *slog.Logger
}

// Client runs statements on Athena.
type Client struct {
	opt Options
	api *awsconfig.JSONAPI
	log *slog.Logger
}

// Open returns a Client over opt, its credentials and region taken from the standard AWS
// configuration (profile, environment, SSO, instance roles) where opt does not give them.
func Open(ctx context.Context, opt Options) (*Client, error) {
	cfg, err := awsconfig.Load(ctx, awsconfig.Options{Profile: opt.Profile, Region: opt.Region, Credentials: opt.Credentials, Logger: opt.Logger})
	if err != nil {
		return nil, err
	}
	if opt.Region == "" {
		opt.Region = cfg.Region
	}
	if opt.Region == "" {
		return nil, errors.New("athena: no region: give --athena-region (or set AWS_REGION, or region in the profile)")
	}
	if opt.Database == "" {
		return nil, errors.New("athena: no database: give --database, the Glue database holding the table cloudtrail_logs (see trailsql ddl)")
	}
	if opt.Endpoint == "" {
		opt.Endpoint = "https://athena." + opt.Region + ".amazonaws.com"
	}
	if opt.MinPoll <= 0 {
		opt.MinPoll = 100 * time.Millisecond
	}
	if opt.MaxPoll <= 0 {
		opt.MaxPoll = 2 * time.Second
	}
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = 8
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = 10 * time.Second
	}
	if opt.HTTPClient == nil {
		opt.HTTPClient = &http.Client{Timeout: time.Minute}
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "athena")
	api := &awsconfig.JSONAPI{
		Signed:   awsconfig.Signed{HTTP: opt.HTTPClient, Creds: cfg.Credentials, Signer: v4.NewSigner(), Service: "athena", Region: opt.Region},
		Endpoint: opt.Endpoint, Target: "AmazonAthena", Name: "athena",
		MaxAttempts: opt.MaxAttempts, MinBackoff: opt.MinPoll, MaxBackoff: opt.MaxBackoff,
		Hint: "retry later, or ask for a higher Athena quota for the account", Log: log,
	}
	return &Client{opt: opt, api: api, log: log}, nil
}

// APIError is an error answer of Athena's API: its type (InvalidRequestException,
// ThrottlingException, …) and message.
type APIError = awsconfig.APIError

// QueryError is a query that ended FAILED or CANCELLED, with Athena's reason.
type QueryError struct {
	ID, State, Reason string
	// ErrorType and Category are Athena's AthenaError codes (Category 1 system, 2 user, 3 other).
	ErrorType, Category int
}

func (e *QueryError) Error() string {
	return fmt.Sprintf("athena query %s %s: %s", e.ID, e.State, e.Reason)
}

// Query runs one statement; it is an answer.QueryFunc.
func (c *Client) Query(ctx context.Context, sql string, args ...any) (*answer.Result, error) {
	start := time.Now()
	params, err := Literals(args)
	if err != nil {
		return nil, err
	}
	token, err := requestToken()
	if err != nil {
		return nil, err
	}
	in := startInput{QueryString: sql, ClientRequestToken: token, WorkGroup: c.opt.WorkGroup, ExecutionParameters: params,
		QueryExecutionContext: &queryContext{Database: c.opt.Database, Catalog: c.opt.Catalog}}
	if c.opt.OutputLocation != "" {
		in.ResultConfiguration = &resultConfiguration{OutputLocation: c.opt.OutputLocation}
	}
	var started startOutput
	if err := c.call(ctx, "StartQueryExecution", in, &started); err != nil {
		return nil, err
	}
	id := started.QueryExecutionID
	exec, err := c.wait(ctx, id)
	if err != nil {
		return nil, err
	}
	res, err := c.results(ctx, id, exec.StatementType)
	if err != nil {
		return nil, err
	}
	res.Elapsed = time.Since(start)
	if exec.Statistics != nil {
		res.Scan = answer.Scan{BytesRead: exec.Statistics.DataScannedInBytes}
	}
	c.log.Info("query done", "id", id, "rows", len(res.Rows), "scanned_bytes", res.Scan.BytesRead,
		"cost_usd", athena.ScanPrice(res.Scan.BytesRead), "elapsed", res.Elapsed)
	return res, nil
}

// wait polls the query until it ends; a query the caller gives up on is stopped.
func (c *Client) wait(ctx context.Context, id string) (*queryExecution, error) {
	delay := c.opt.MinPoll
	for {
		var out getExecutionOutput
		if err := c.call(ctx, "GetQueryExecution", idInput{QueryExecutionID: id}, &out); err != nil {
			c.stop(ctx, id)
			return nil, err
		}
		ex := &out.QueryExecution
		switch ex.Status.State {
		case "SUCCEEDED":
			return ex, nil
		case "FAILED", "CANCELLED":
			qe := &QueryError{ID: id, State: ex.Status.State, Reason: ex.Status.StateChangeReason}
			if e := ex.Status.AthenaError; e != nil {
				qe.ErrorType, qe.Category = e.ErrorType, e.ErrorCategory
				if qe.Reason == "" {
					qe.Reason = e.ErrorMessage
				}
			}
			if qe.Reason == "" {
				qe.Reason = "Athena gave no reason (see the query in the Athena console)"
			}
			return nil, qe
		}
		if err := awsconfig.Sleep(ctx, delay); err != nil {
			c.stop(ctx, id)
			return nil, fmt.Errorf("athena query %s: %w (the query was stopped)", id, err)
		}
		delay = min(2*delay, c.opt.MaxPoll)
	}
}

// stop asks Athena to stop a query the caller no longer waits for, so that it is not billed
// for a scan nobody reads.
func (c *Client) stop(ctx context.Context, id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := c.call(ctx, "StopQueryExecution", idInput{QueryExecutionID: id}, &struct{}{}); err != nil {
		c.log.Warn("stop query", "id", id, "err", err)
	}
}

// results pages GetQueryResults; the first page of a DML statement's results starts with the
// column names, which are not a row.
func (c *Client) results(ctx context.Context, id, statementType string) (*answer.Result, error) {
	res := &answer.Result{}
	var cols []columnInfo
	var shapes []*shape // of the nested columns' values, for their types
	token := ""
	for page := 0; ; page++ {
		var out getResultsOutput
		if err := c.call(ctx, "GetQueryResults", resultsInput{QueryExecutionID: id, MaxResults: PageSize, NextToken: token}, &out); err != nil {
			return nil, err
		}
		if page == 0 {
			cols = out.ResultSet.ResultSetMetadata.ColumnInfo
			for _, ci := range cols {
				res.Columns = append(res.Columns, ci.Name)
			}
			shapes = make([]*shape, len(cols))
		}
		rows := out.ResultSet.Rows
		if page == 0 && len(rows) > 0 && isHeader(rows[0], cols, statementType) {
			rows = rows[1:]
		}
		for _, r := range rows {
			if len(r.Data) != len(cols) {
				return nil, fmt.Errorf("athena query %s: a row of %d values for %d columns", id, len(r.Data), len(cols))
			}
			row := make([]any, len(cols))
			for i, d := range r.Data {
				if t := strings.ToLower(cols[i].Type); d.VarCharValue != nil && (t == "array" || t == "row" || t == "map") {
					if n, err := parseComplex(*d.VarCharValue); err == nil {
						shapes[i] = merge(shapes[i], n.shape())
					}
				}
				v, err := convert(d.VarCharValue, cols[i].Type)
				if err != nil {
					return nil, fmt.Errorf("athena query %s: column %s: %w", id, cols[i].Name, err)
				}
				row[i] = v
			}
			res.Rows = append(res.Rows, row)
			if c.opt.MaxRows > 0 && len(res.Rows) > c.opt.MaxRows {
				return nil, fmt.Errorf("athena query %s: the answer has more than %d rows: raise --max-rows, or narrow the query (its full results are in the query's output location)", id, c.opt.MaxRows)
			}
		}
		if out.NextToken == "" {
			res.Types = resultTypes(cols, shapes)
			return res, nil
		}
		token = out.NextToken
	}
}

// resultTypes names the columns' types as the local engine does (DuckDB's names), so that a
// result renders the same from either engine: scalars by Athena's type, nested columns by the
// shape their values show (Athena's metadata says only "array", "row" or "map").
func resultTypes(cols []columnInfo, shapes []*shape) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		t := strings.ToLower(c.Type)
		switch {
		case t == "array" || t == "row" || t == "map":
			if shapes[i] == nil {
				out[i] = map[string]string{"array": "VARCHAR[]", "row": "STRUCT()", "map": "MAP(VARCHAR, VARCHAR)"}[t]
			} else {
				out[i] = shapes[i].duckType(t)
			}
		case t == "decimal":
			out[i] = fmt.Sprintf("DECIMAL(%d,%d)", c.Precision, c.Scale)
		case duckTypes[t] != "":
			out[i] = duckTypes[t]
		default:
			out[i] = strings.ToUpper(t)
		}
	}
	return out
}

// isHeader says whether the first row of the first page is the column names Athena puts there
// for a query (DML); when the statement's type is unknown, by comparing it with the names.
func isHeader(r resultRow, cols []columnInfo, statementType string) bool {
	if statementType == "DML" {
		return true
	}
	if statementType != "" || len(r.Data) != len(cols) {
		return false
	}
	for i, d := range r.Data {
		if d.VarCharValue == nil || (*d.VarCharValue != cols[i].Name && *d.VarCharValue != cols[i].Label) {
			return false
		}
	}
	return true
}

// call sends one JSON 1.1 request, retrying throttling and server errors with backoff.
func (c *Client) call(ctx context.Context, op string, in, out any) error {
	return c.api.Call(ctx, op, in, out)
}

// requestToken is StartQueryExecution's idempotency token, so that a retried start does not
// run the query twice.
func requestToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("athena: request token: %w", err)
	}
	return hex.EncodeToString(b), nil
}
