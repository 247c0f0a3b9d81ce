// Package sqs is the one package that talks to Amazon SQS: a small client of the SQS query
// protocol (form-encoded requests, XML answers, SigV4-signed) with the calls a queue consumer
// needs (ReceiveMessage with long polling, DeleteMessageBatch, ChangeMessageVisibility,
// GetQueueAttributes, and SendMessageBatch), and the decoding of the S3 event notifications such a queue carries:
// direct, wrapped by SNS, or sent by EventBridge.
//
// The query protocol is what every SQS endpoint speaks, AWS's and compatible servers' (GoAws,
// which the tests run); the JSON protocol of newer SDKs is not needed for these calls.
package sqs

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/trailsql/trailsql/internal/awsconfig"
)

// apiVersion is the SQS query API's version.
const apiVersion = "2012-11-05"

// Options say which queue to use and how to reach it.
type Options struct {
	// QueueURL is the queue's URL, https://sqs.<region>.amazonaws.com/<account>/<name>.
	QueueURL string
	// EndpointURL, when set, replaces the scheme and host of QueueURL (a VPC endpoint, a
	// compatible server).
	EndpointURL string
	// Region signs the requests (default: the queue URL's, else the configured region, else
	// us-east-1).
	Region string
	// Profile names the shared-config profile; Credentials, when set, replace the standard chain.
	Profile     string
	Credentials aws.CredentialsProvider
	// MaxAttempts is how many times a throttled, failed (5xx) or unanswered request is sent
	// (default 8), waiting from 100 ms, doubling, up to MaxBackoff (default 10 s) between.
	MaxAttempts int
	MaxBackoff  time.Duration
	HTTPClient  *http.Client
	Logger      *slog.Logger
}

// Client calls one queue.
type Client struct {
	opt    Options
	url    string // where requests go: the queue URL, on the endpoint when given
	creds  aws.CredentialsProvider
	signer *v4.Signer
	log    *slog.Logger
}

// Open returns a client of opt.QueueURL, its credentials and region taken from the standard
// AWS configuration where opt does not give them.
func Open(ctx context.Context, opt Options) (*Client, error) {
	u, err := url.Parse(opt.QueueURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || strings.Trim(u.Path, "/") == "" {
		return nil, fmt.Errorf("%q is not a queue URL: give it as https://sqs.REGION.amazonaws.com/ACCOUNT/QUEUE (aws sqs get-queue-url prints it)", opt.QueueURL)
	}
	target := *u
	if opt.EndpointURL != "" {
		e, err := url.Parse(opt.EndpointURL)
		if err != nil || e.Host == "" {
			return nil, fmt.Errorf("--endpoint-url %q is not a URL such as http://localhost:4100", opt.EndpointURL)
		}
		target.Scheme, target.Host = e.Scheme, e.Host
	}
	region := opt.Region
	if region == "" {
		region = RegionOf(u.Host)
	}
	cfg, err := awsconfig.Load(ctx, awsconfig.Options{Profile: opt.Profile, Region: region, Credentials: opt.Credentials, Logger: opt.Logger})
	if err != nil {
		return nil, err
	}
	if opt.Region = region; opt.Region == "" {
		opt.Region = cfg.Region
	}
	if opt.Region == "" {
		opt.Region = "us-east-1"
	}
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = 8
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = 10 * time.Second
	}
	if opt.HTTPClient == nil {
		// Long polls last up to 20 s: the timeout leaves room for them.
		opt.HTTPClient = &http.Client{Timeout: time.Minute}
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{opt: opt, url: target.String(), creds: cfg.Credentials, signer: v4.NewSigner(), log: log.With("component", "sqs")}, nil
}

// RegionOf returns the region in an SQS host name (sqs.eu-west-1.amazonaws.com, the legacy
// eu-west-1.queue.amazonaws.com), or "".
func RegionOf(host string) string {
	host, _, _ = strings.Cut(host, ":")
	parts := strings.Split(host, ".")
	if len(parts) >= 4 && parts[0] == "sqs" && strings.HasPrefix(strings.Join(parts[2:], "."), "amazonaws.com") {
		return parts[1]
	}
	if len(parts) >= 4 && parts[1] == "queue" && parts[2] == "amazonaws" {
		return parts[0]
	}
	return ""
}

// QueueURL returns the queue's URL as given.
func (c *Client) QueueURL() string { return c.opt.QueueURL }

// Message is a message received.
type Message struct {
	ID            string
	ReceiptHandle string
	Body          string
	// ReceiveCount is how many times the queue has handed the message out (this one included);
	// 0 when the server does not say.
	ReceiveCount int
}

// Receive asks for up to n messages (at most 10), waiting up to wait (at most 20 s) for one
// to arrive (long polling). visibility, when positive, is how long the messages stay hidden
// from other consumers (default: the queue's).
func (c *Client) Receive(ctx context.Context, n int, wait, visibility time.Duration) ([]Message, error) {
	v := url.Values{}
	v.Set("MaxNumberOfMessages", strconv.Itoa(min(max(n, 1), 10)))
	v.Set("WaitTimeSeconds", strconv.Itoa(int(min(wait, 20*time.Second)/time.Second)))
	if visibility > 0 {
		v.Set("VisibilityTimeout", strconv.Itoa(int((visibility+time.Second-1)/time.Second)))
	}
	v.Set("AttributeName.1", "ApproximateReceiveCount")
	var out struct {
		Messages []struct {
			MessageID     string `xml:"MessageId"`
			ReceiptHandle string `xml:"ReceiptHandle"`
			Body          string `xml:"Body"`
			Attributes    []struct {
				Name  string `xml:"Name"`
				Value string `xml:"Value"`
			} `xml:"Attribute"`
		} `xml:"ReceiveMessageResult>Message"`
	}
	if err := c.call(ctx, "ReceiveMessage", v, &out); err != nil {
		return nil, err
	}
	msgs := make([]Message, 0, len(out.Messages))
	for _, m := range out.Messages {
		msg := Message{ID: m.MessageID, ReceiptHandle: m.ReceiptHandle, Body: m.Body}
		for _, a := range m.Attributes {
			if a.Name == "ApproximateReceiveCount" {
				msg.ReceiveCount, _ = strconv.Atoi(a.Value)
			}
		}
		msgs = append(msgs, msg)
	}
	return msgs, nil
}

// Delete deletes messages, ten per DeleteMessageBatch. It returns the messages that could not
// be deleted with the reason (an entry the server neither confirms nor refuses counts as not
// deleted); err is set only when a request failed as a whole.
func (c *Client) Delete(ctx context.Context, msgs []Message) (map[string]error, error) {
	failed := map[string]error{}
	for start := 0; start < len(msgs); start += 10 {
		batch := msgs[start:min(start+10, len(msgs))]
		v := url.Values{}
		for i, m := range batch {
			p := "DeleteMessageBatchRequestEntry." + strconv.Itoa(i+1) + "."
			v.Set(p+"Id", strconv.Itoa(i))
			v.Set(p+"ReceiptHandle", m.ReceiptHandle)
		}
		var out struct {
			OK []struct {
				ID string `xml:"Id"`
			} `xml:"DeleteMessageBatchResult>DeleteMessageBatchResultEntry"`
			Failed []struct {
				ID      string `xml:"Id"`
				Code    string `xml:"Code"`
				Message string `xml:"Message"`
			} `xml:"DeleteMessageBatchResult>BatchResultErrorEntry"`
		}
		if err := c.call(ctx, "DeleteMessageBatch", v, &out); err != nil {
			for _, m := range msgs[start:] {
				failed[m.ID] = err
			}
			return failed, err
		}
		done := map[string]bool{}
		for _, e := range out.OK {
			done[e.ID] = true
		}
		reasons := map[string]string{}
		for _, e := range out.Failed {
			reasons[e.ID] = e.Code + ": " + e.Message
		}
		for i, m := range batch {
			id := strconv.Itoa(i)
			switch {
			case reasons[id] != "":
				failed[m.ID] = errors.New(reasons[id])
			case !done[id]:
				failed[m.ID] = errors.New("not confirmed deleted by the server (the receipt handle may have expired)")
			}
		}
	}
	return failed, nil
}

// ChangeVisibility hides a received message for d more, from now (0: makes it visible again).
func (c *Client) ChangeVisibility(ctx context.Context, m Message, d time.Duration) error {
	v := url.Values{}
	v.Set("ReceiptHandle", m.ReceiptHandle)
	v.Set("VisibilityTimeout", strconv.Itoa(int((d+time.Second-1)/time.Second)))
	return c.call(ctx, "ChangeMessageVisibility", v, &struct{}{})
}

// Send sends messages, ten per SendMessageBatch, and returns their ids in order.
func (c *Client) Send(ctx context.Context, bodies []string) ([]string, error) {
	ids := make([]string, 0, len(bodies))
	for start := 0; start < len(bodies); start += 10 {
		batch := bodies[start:min(start+10, len(bodies))]
		v := url.Values{}
		for i, b := range batch {
			p := "SendMessageBatchRequestEntry." + strconv.Itoa(i+1) + "."
			v.Set(p+"Id", strconv.Itoa(i))
			v.Set(p+"MessageBody", b)
		}
		var out struct {
			OK []struct {
				ID        string `xml:"Id"`
				MessageID string `xml:"MessageId"`
			} `xml:"SendMessageBatchResult>SendMessageBatchResultEntry"`
			Failed []struct {
				ID      string `xml:"Id"`
				Code    string `xml:"Code"`
				Message string `xml:"Message"`
			} `xml:"SendMessageBatchResult>BatchResultErrorEntry"`
		}
		if err := c.call(ctx, "SendMessageBatch", v, &out); err != nil {
			return ids, err
		}
		if len(out.Failed) > 0 {
			return ids, fmt.Errorf("sqs SendMessageBatch: entry %s: %s: %s", out.Failed[0].ID, out.Failed[0].Code, out.Failed[0].Message)
		}
		byID := map[string]string{}
		for _, e := range out.OK {
			byID[e.ID] = e.MessageID
		}
		for i := range batch {
			id, ok := byID[strconv.Itoa(i)]
			if !ok {
				return ids, fmt.Errorf("sqs SendMessageBatch: entry %d not confirmed sent", i)
			}
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// Attributes returns the queue attributes named (ApproximateNumberOfMessages,
// ApproximateNumberOfMessagesNotVisible, VisibilityTimeout, RedrivePolicy, …).
func (c *Client) Attributes(ctx context.Context, names ...string) (map[string]string, error) {
	v := url.Values{}
	for i, n := range names {
		v.Set("AttributeName."+strconv.Itoa(i+1), n)
	}
	var out struct {
		Attributes []struct {
			Name  string `xml:"Name"`
			Value string `xml:"Value"`
		} `xml:"GetQueueAttributesResult>Attribute"`
	}
	if err := c.call(ctx, "GetQueueAttributes", v, &out); err != nil {
		return nil, err
	}
	attrs := map[string]string{}
	for _, a := range out.Attributes {
		attrs[a.Name] = a.Value
	}
	return attrs, nil
}

// APIError is an error answer of SQS: its code (AWS.SimpleQueueService.NonExistentQueue,
// ReceiptHandleIsInvalid, …) and message.
type APIError struct {
	Op, Code, Message string
	Status            int
	Attempts          int
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("sqs %s: %s: %s (HTTP %d)", e.Op, e.Code, e.Message, e.Status)
	switch {
	case e.retryable():
		s += fmt.Sprintf(" (still refused after %d attempts: retry later)", e.Attempts)
	case strings.Contains(e.Code, "NonExistentQueue") || strings.Contains(e.Code, "QueueDoesNotExist"):
		s += " (check the queue URL, and the region it is in)"
	case e.Status == http.StatusForbidden:
		s += " (the credentials need sqs:ReceiveMessage, sqs:DeleteMessage and sqs:ChangeMessageVisibility on the queue)"
	}
	return s
}

func (e *APIError) retryable() bool {
	switch e.Code {
	case "ThrottlingException", "RequestThrottled", "ServiceUnavailable", "InternalError", "AWS.SimpleQueueService.InternalError":
		return true
	}
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests
}

func (c *Client) call(ctx context.Context, op string, v url.Values, out any) error {
	v.Set("Action", op)
	v.Set("Version", apiVersion)
	v.Set("QueueUrl", c.opt.QueueURL)
	body := []byte(v.Encode())
	b := awsconfig.Backoff{MaxAttempts: c.opt.MaxAttempts, Min: 100 * time.Millisecond, Max: c.opt.MaxBackoff, Log: c.log}
	var ae *APIError
	attempts, err := b.Retry(ctx, "sqs", op, func() error { return c.send(ctx, op, body, out) },
		func(err error) bool { return errors.As(err, &ae) && ae.retryable() })
	if errors.As(err, &ae) {
		ae.Attempts = attempts
	}
	return err
}

func (c *Client) send(ctx context.Context, op string, body []byte, out any) error {
	signed := awsconfig.Signed{HTTP: c.opt.HTTPClient, Creds: c.creds, Signer: c.signer, Service: "sqs", Region: c.opt.Region}
	resp, data, err := signed.Post(ctx, c.url, http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}}, body)
	if err != nil {
		return fmt.Errorf("sqs %s: %w", op, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Code    string `xml:"Error>Code"`
			Message string `xml:"Error>Message"`
		}
		_ = xml.Unmarshal(data, &e) // a body that is not XML still has its status
		if e.Code == "" {
			e.Code = http.StatusText(resp.StatusCode)
			e.Message = excerpt(data)
		}
		return &APIError{Op: op, Code: e.Code, Message: e.Message, Status: resp.StatusCode}
	}
	if err := xml.Unmarshal(data, out); err != nil {
		return fmt.Errorf("sqs %s: the answer is not SQS's XML (%s): %w", op, excerpt(data), err)
	}
	return nil
}

func excerpt(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
