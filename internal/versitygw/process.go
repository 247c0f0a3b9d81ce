package versitygw

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is a server program this project runs for its tests and benchmarks (versitygw,
// GoAws): its output goes to a log, and its first lines are kept for the error should it exit
// at start.
type Process struct {
	cmd  *exec.Cmd
	done chan struct{}
	mu   sync.Mutex
	tail strings.Builder
}

// StartProcess starts cmd, copying its output to log, and waits until addr accepts connections;
// if the program exits first, or timeout passes, it fails (and the program is killed).
func StartProcess(ctx context.Context, cmd *exec.Cmd, log io.Writer, addr string, timeout time.Duration) (*Process, error) {
	name := cmd.Path
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Process{cmd: cmd, done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(log, line)
			p.mu.Lock()
			if p.tail.Len() < 4096 {
				p.tail.WriteString(line + "\n")
			}
			p.mu.Unlock()
		}
		io.Copy(io.Discard, pr)
	}()
	go func() { cmd.Wait(); pw.Close(); close(p.done) }()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return p, nil
		}
		select {
		case <-p.done:
			p.mu.Lock()
			defer p.mu.Unlock()
			return nil, fmt.Errorf("%s exited at start:\n%s", name, p.tail.String())
		case <-deadline.C:
			p.Kill()
			return nil, fmt.Errorf("%s did not start listening on %s within %s", name, addr, timeout)
		case <-ctx.Done():
			p.Kill()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop stops the program (SIGTERM, then SIGKILL after grace) and waits for it to exit.
func (p *Process) Stop(grace time.Duration) {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.Kill()
	}
}

// Kill stops the program at once (SIGKILL), as a crash would, and waits for it to exit.
func (p *Process) Kill() {
	p.cmd.Process.Kill()
	<-p.done
}

// FreePort returns a loopback address whose port was free a moment ago.
func FreePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
