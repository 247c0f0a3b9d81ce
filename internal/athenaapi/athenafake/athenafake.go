// Package athenafake is a FAKE Amazon Athena endpoint for tests: no real Athena can run here. It
// speaks Athena's wire format, JSON 1.1 (POST /, Content-Type application/x-amz-json-1.1,
// X-Amz-Target AmazonAthena.<Operation>), checks each request's SigV4 signature, and answers
// StartQueryExecution, GetQueryExecution, GetQueryResults (pages of at most 1000 rows, NextToken,
// the column names as the first row of a query's first page) and StopQueryExecution with
// Athena's shapes and error bodies ({"__type": "InvalidRequestException", "Message": …}).
//
// What a query returns is the test's to say (Server.Answer); the fake records every statement
// it received, its parameters substituted as Athena substitutes them.
package athenafake

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Fake credentials and region the fake accepts.
const (
	AccessKey = "AKIAFAKEATHENAKEY000"
	SecretKey = "fake-secret"
	Region    = "eu-west-1"
)

// Column is a result column: its name and Athena type (varchar, bigint, array, row, …).
type Column struct{ Name, Type string }

// Answer is what the fake returns for a statement.
type Answer struct {
	Columns []Column
	// Rows are values as Athena's text; nil is NULL.
	Rows [][]*string
	// Scanned is Statistics.DataScannedInBytes.
	Scanned int64
	// Fail ends the query FAILED with this StateChangeReason; Cancel ends it CANCELLED.
	Fail   string
	Cancel bool
	// Running is how many GetQueryExecution see the query RUNNING before it ends.
	Running int
	// StatementType is DML unless set.
	StatementType string
}

// Received is a statement the fake was sent.
type Received struct {
	QueryString string
	Parameters  []string
	// Statement is QueryString with the parameters substituted, as Athena runs it.
	Statement                           string
	WorkGroup, Database, OutputLocation string
	ClientRequestToken                  string
}

// Server is the fake endpoint.
type Server struct {
	*httptest.Server
	// Answer returns what a statement answers; nil answers no rows.
	Answer func(statement string) Answer
	// WorkGroups, when set, are the workgroups that exist; a query in another is refused.
	WorkGroups []string
	// OnRequest, when set, is called with each request's operation before it is answered.
	OnRequest func(op string)
	// Throttle is how many requests, counted from the first, answer ThrottlingException.
	Throttle int

	mu       sync.Mutex
	received []Received
	queries  map[string]*query
	calls    map[string]int
	stopped  []string
	n        int
}

type query struct {
	answer Answer
	polls  int
}

// New starts a fake endpoint; Close stops it.
func New(answer func(statement string) Answer) *Server {
	s := &Server{Answer: answer, queries: map[string]*query{}, calls: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Credentials are the credentials whose signatures the fake accepts.
func Credentials() aws.CredentialsProvider {
	return aws.CredentialsProviderFunc(func(ctx context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: AccessKey, SecretAccessKey: SecretKey, Source: "athenafake"}, nil
	})
}

// Received returns the statements received so far.
func (s *Server) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

// Calls returns how many requests of an operation were answered (throttled ones included).
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// Stopped returns the ids of the queries StopQueryExecution was asked to stop.
func (s *Server) Stopped() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.stopped...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("X-Amzn-Errortype", typ)
	writeJSON(w, status, map[string]string{"__type": typ, "Message": msg})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "InvalidRequestException", err.Error())
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/" || r.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
		writeError(w, http.StatusBadRequest, "InvalidRequestException", "athenafake: want POST / with Content-Type application/x-amz-json-1.1")
		return
	}
	if msg := checkSignature(r, body); msg != "" {
		writeError(w, http.StatusForbidden, "InvalidSignatureException", msg)
		return
	}
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AmazonAthena.")
	if !ok {
		writeError(w, http.StatusBadRequest, "UnknownOperationException", "athenafake: X-Amz-Target must be AmazonAthena.<Operation>")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[op]++
	if s.OnRequest != nil {
		s.OnRequest(op)
	}
	if s.Throttle > 0 {
		s.Throttle--
		writeError(w, http.StatusBadRequest, "ThrottlingException", "Rate exceeded")
		return
	}
	var in struct {
		QueryString           string
		ClientRequestToken    string
		ExecutionParameters   []string
		WorkGroup             string
		QueryExecutionId      string
		MaxResults            int
		NextToken             string
		QueryExecutionContext struct{ Database, Catalog string }
		ResultConfiguration   struct{ OutputLocation string }
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	switch op {
	case "StartQueryExecution":
		if in.QueryString == "" {
			writeError(w, http.StatusBadRequest, "InvalidRequestException", "QueryString must not be empty")
			return
		}
		if len(s.WorkGroups) > 0 && !slices.Contains(s.WorkGroups, in.WorkGroup) {
			writeError(w, http.StatusBadRequest, "InvalidRequestException", "WorkGroup "+in.WorkGroup+" is not found.")
			return
		}
		stmt, err := substitute(in.QueryString, in.ExecutionParameters)
		if err != nil {
			writeError(w, http.StatusBadRequest, "InvalidRequestException", err.Error())
			return
		}
		s.received = append(s.received, Received{QueryString: in.QueryString, Parameters: in.ExecutionParameters, Statement: stmt,
			WorkGroup: in.WorkGroup, Database: in.QueryExecutionContext.Database, OutputLocation: in.ResultConfiguration.OutputLocation, ClientRequestToken: in.ClientRequestToken})
		var a Answer
		if s.Answer != nil {
			a = s.Answer(stmt)
		}
		if a.StatementType == "" {
			a.StatementType = "DML"
		}
		s.n++
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", s.n)
		s.queries[id] = &query{answer: a}
		writeJSON(w, http.StatusOK, map[string]string{"QueryExecutionId": id})
	case "GetQueryExecution":
		q := s.queries[in.QueryExecutionId]
		if q == nil {
			writeError(w, http.StatusBadRequest, "InvalidRequestException", "QueryExecution "+in.QueryExecutionId+" was not found")
			return
		}
		q.polls++
		status := map[string]any{"State": "SUCCEEDED"}
		switch {
		case q.polls <= q.answer.Running:
			status["State"] = "RUNNING"
		case q.answer.Fail != "":
			status = map[string]any{"State": "FAILED", "StateChangeReason": q.answer.Fail,
				"AthenaError": map[string]any{"ErrorCategory": 2, "ErrorType": 1006, "Retryable": false, "ErrorMessage": q.answer.Fail}}
		case q.answer.Cancel:
			status = map[string]any{"State": "CANCELLED", "StateChangeReason": "Query was cancelled by the user"}
		}
		writeJSON(w, http.StatusOK, map[string]any{"QueryExecution": map[string]any{
			"QueryExecutionId": in.QueryExecutionId, "StatementType": q.answer.StatementType, "Status": status,
			"Statistics": map[string]any{"DataScannedInBytes": q.answer.Scanned, "EngineExecutionTimeInMillis": 1200, "TotalExecutionTimeInMillis": 1500},
		}})
	case "GetQueryResults":
		s.results(w, in.QueryExecutionId, in.MaxResults, in.NextToken)
	case "StopQueryExecution":
		s.stopped = append(s.stopped, in.QueryExecutionId)
		writeJSON(w, http.StatusOK, map[string]any{})
	default:
		writeError(w, http.StatusBadRequest, "UnknownOperationException", "athenafake does not answer "+op)
	}
}

func (s *Server) results(w http.ResponseWriter, id string, max int, token string) {
	q := s.queries[id]
	switch {
	case q == nil:
		writeError(w, http.StatusBadRequest, "InvalidRequestException", "QueryExecution "+id+" was not found")
		return
	case q.answer.Fail != "" || q.answer.Cancel || q.polls <= q.answer.Running:
		writeError(w, http.StatusBadRequest, "InvalidRequestException", "Query has not yet finished. Current state: RUNNING")
		return
	case max > 1000:
		writeError(w, http.StatusBadRequest, "InvalidRequestException", "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000")
		return
	}
	if max <= 0 {
		max = 1000
	}
	// A query's first page starts with the column names.
	rows := q.answer.Rows
	if q.answer.StatementType == "DML" {
		header := make([]*string, len(q.answer.Columns))
		for i, c := range q.answer.Columns {
			header[i] = aws.String(c.Name)
		}
		rows = append([][]*string{header}, rows...)
	}
	from := 0
	if token != "" {
		n, err := strconv.Atoi(token)
		if err != nil || n < 0 || n > len(rows) {
			writeError(w, http.StatusBadRequest, "InvalidRequestException", "NextToken is invalid")
			return
		}
		from = n
	}
	to := min(from+max, len(rows))
	var cols []map[string]any
	for _, c := range q.answer.Columns {
		cols = append(cols, map[string]any{"CatalogName": "hive", "Name": c.Name, "Label": c.Name, "Type": c.Type, "Nullable": "UNKNOWN", "CaseSensitive": c.Type == "varchar"})
	}
	var data []map[string]any
	for _, r := range rows[from:to] {
		var ds []map[string]any
		for _, v := range r {
			if v == nil {
				ds = append(ds, map[string]any{})
			} else {
				ds = append(ds, map[string]any{"VarCharValue": *v})
			}
		}
		data = append(data, map[string]any{"Data": ds})
	}
	out := map[string]any{"UpdateCount": 0, "ResultSet": map[string]any{"Rows": data, "ResultSetMetadata": map[string]any{"ColumnInfo": cols}}}
	if to < len(rows) {
		out["NextToken"] = strconv.Itoa(to)
	}
	writeJSON(w, http.StatusOK, out)
}

// substitute puts the parameters in place of the statement's ? outside quotes, as Athena does.
func substitute(sql string, params []string) (string, error) {
	var b strings.Builder
	n := 0
	inString := false
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		switch {
		case c == '\'':
			inString = !inString
		case c == '?' && !inString:
			if n >= len(params) {
				return "", fmt.Errorf("the statement has more ? than the %d ExecutionParameters", len(params))
			}
			b.WriteString(params[n])
			n++
			continue
		}
		b.WriteByte(c)
	}
	if n != len(params) {
		return "", fmt.Errorf("%d ExecutionParameters for %d ? in the statement", len(params), n)
	}
	return b.String(), nil
}

// checkSignature signs the request again with the fake's secret and compares: a request signed
// with other credentials, for another region or service, or changed after signing, is refused.
func checkSignature(r *http.Request, body []byte) string {
	auth := r.Header.Get("Authorization")
	want := "AWS4-HMAC-SHA256 Credential=" + AccessKey + "/"
	if !strings.HasPrefix(auth, want) {
		return "athenafake: the request is not signed with the fake's access key"
	}
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return "athenafake: X-Amz-Date is missing"
	}
	_, signed, _ := strings.Cut(auth, "SignedHeaders=")
	signed, _, _ = strings.Cut(signed, ",")
	req, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	for _, h := range strings.Split(signed, ";") {
		if h != "host" {
			req.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: AccessKey, SecretAccessKey: SecretKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "athena", Region, at); err != nil {
		return "athenafake: " + err.Error()
	}
	if req.Header.Get("Authorization") != auth {
		return "The request signature we calculated does not match the signature you provided."
	}
	return ""
}
