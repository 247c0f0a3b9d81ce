// Package goaws builds and runs GoAws (github.com/Admiral-Piett/goaws), a real SQS and SNS
// server held in memory, for the tests of `trailsql ingest sqs://`. Like the S3 server of the
// tests (package versitygw, whose installer it shares), the binary is pinned to Version and
// built by the project into <repo>/.tools.
//
// GoAws speaks the SQS and SNS query protocols (form-encoded Action=…, XML answers). It does not
// check signatures, and takes the visibility timeout from the queue's configuration only (the
// VisibilityTimeout of ReceiveMessage is ignored; ChangeMessageVisibility works).
package goaws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/trailsql/trailsql/internal/versitygw"
)

// Version is the GoAws release the tests run.
const Version = "v0.4.5"

// Tool is GoAws as the project builds it (binary .tools/goaws; $GOAWS points at another).
var Tool = versitygw.Tool{
	Name:    "goaws",
	Package: "github.com/Admiral-Piett/goaws/app/cmd",
	Module:  "github.com/Admiral-Piett/goaws",
	Version: Version,
	Env:     "GOAWS",
}

// AccountID is the account in the queues' URLs and the topics' ARNs.
const AccountID = "100010001000"

// Options configure a server. Binary and Dir are required.
type Options struct {
	Binary string
	// Dir holds the server's configuration file.
	Dir string
	// Queues are created at start. Each topic of Topics is created with an SNS subscription
	// (envelope, not raw) for each queue it names.
	Queues []string
	Topics map[string][]string
	// VisibilityTimeout is the queues' visibility timeout in seconds (default 30).
	VisibilityTimeout int
	// Log receives the server's output (nil: discarded).
	Log io.Writer
}

// Server is a running GoAws.
type Server struct {
	opt  Options
	Addr string // 127.0.0.1:port
	URL  string // http://127.0.0.1:port, the endpoint URL

	mu   sync.Mutex
	proc *versitygw.Process
}

// QueueURL returns the URL of a queue named in Options.Queues.
func (s *Server) QueueURL(name string) string { return s.URL + "/" + AccountID + "/" + name }

// TopicARN returns the ARN of a topic named in Options.Topics.
func (s *Server) TopicARN(name string) string { return "arn:aws:sns::" + AccountID + ":" + name }

// Start starts a server on a free port. GoAws listens on all interfaces (it has no option to
// do otherwise); the port is chosen free on the loopback interface and the URLs use it.
func Start(ctx context.Context, opt Options) (*Server, error) {
	if opt.Binary == "" || opt.Dir == "" {
		return nil, errors.New("goaws: binary and dir are required")
	}
	if opt.VisibilityTimeout <= 0 {
		opt.VisibilityTimeout = 30
	}
	if opt.Log == nil {
		opt.Log = io.Discard
	}
	var lastErr error
	for range 5 { // a free port can be taken between choosing it and the server binding it
		addr, err := versitygw.FreePort()
		if err != nil {
			return nil, err
		}
		s := &Server{opt: opt, Addr: addr, URL: "http://" + addr}
		if lastErr = s.start(ctx); lastErr == nil {
			return s, nil
		}
	}
	return nil, lastErr
}

// config writes the server's configuration (YAML; GoAws reads it as JSON-compatible YAML, so
// the port is a string).
func (s *Server) config() (string, error) {
	host, port, _ := net.SplitHostPort(s.Addr)
	var b strings.Builder
	fmt.Fprintf(&b, "Local:\n  Host: %q\n  Port: %q\n  AccountId: %q\n  LogToFile: false\n", host, port, AccountID)
	fmt.Fprintf(&b, "  QueueAttributeDefaults:\n    VisibilityTimeout: %d\n    ReceiveMessageWaitTimeSeconds: 0\n", s.opt.VisibilityTimeout)
	b.WriteString("  Queues:\n")
	for _, q := range s.opt.Queues {
		fmt.Fprintf(&b, "    - Name: %q\n", q)
	}
	if len(s.opt.Topics) > 0 {
		b.WriteString("  Topics:\n")
		for t, qs := range s.opt.Topics {
			fmt.Fprintf(&b, "    - Name: %q\n      Subscriptions:\n", t)
			for _, q := range qs {
				fmt.Fprintf(&b, "        - QueueName: %q\n          Raw: false\n", q)
			}
		}
	}
	p := filepath.Join(s.opt.Dir, "goaws-"+port+".yaml")
	return p, os.WriteFile(p, []byte(b.String()), 0o644)
}

func (s *Server) start(ctx context.Context) error {
	conf, err := s.config()
	if err != nil {
		return err
	}
	cmd := exec.Command(s.opt.Binary, "-config", conf)
	cmd.Dir = s.opt.Dir
	p, err := versitygw.StartProcess(ctx, cmd, s.opt.Log, s.Addr, 30*time.Second)
	if err != nil {
		return err
	}
	s.proc = p
	return nil
}

// Stop stops the server (SIGTERM, then SIGKILL after 5 s) and waits for it to exit. Its
// queues are lost: GoAws keeps them in memory.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		s.proc.Stop(5 * time.Second)
		s.proc = nil
	}
}
