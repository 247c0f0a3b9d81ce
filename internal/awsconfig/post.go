package awsconfig

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Signed is what a small AWS API client needs to send signed requests: the HTTP client, the
// credentials, a SigV4 signer, and the service and region to sign for.
type Signed struct {
	HTTP    aws.HTTPClient // an *http.Client, or the SDK configuration's
	Creds   aws.CredentialsProvider
	Signer  *v4.Signer
	Service string
	Region  string
}

// Post sends body to url with the headers, signed with SigV4, and returns the response (its body
// closed) with what it held, at most 64 MiB. Its errors say which step failed: the credentials,
// the signature, the connection, or reading the answer; a status other than 200 is not one.
func (s Signed) Post(ctx context.Context, url string, header http.Header, body []byte) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	creds, err := s.Creds.Retrieve(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("AWS credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := s.Signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), s.Service, s.Region, time.Now()); err != nil {
		return nil, nil, fmt.Errorf("sign: %w", err)
	}
	resp, err := s.HTTP.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return resp, nil, fmt.Errorf("read the answer: %w", err)
	}
	return resp, data, nil
}
