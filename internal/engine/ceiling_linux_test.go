package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// A value DuckDB builds outside its buffer manager (replace of 100,000 x's by 100,000 y's each
// is 10 GB) fails the statement at the process ceiling; the engine goes on answering, peak RSS
// stays under the ceiling, and Close gives the process its old limit back. The ceiling is the
// process's, so the test runs in a child process of its own.
func TestProcessCeiling(t *testing.T) {
	if os.Getenv("TRAILSQL_CEILING_CHILD") == "1" {
		ceilingChild(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestProcessCeiling$", "-test.count=1")
	cmd.Env = append(os.Environ(), "TRAILSQL_CEILING_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var ceiling int64
	for _, line := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(line, "CEILING "); ok {
			ceiling, _ = strconv.ParseInt(rest, 10, 64)
		}
	}
	if ceiling <= 0 {
		t.Fatalf("child set no ceiling:\n%s", out)
	}
	peak := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10
	t.Logf("ceiling %d MiB, peak RSS %d MiB", ceiling>>20, peak>>20)
	if peak > ceiling {
		t.Fatalf("peak RSS %d MiB passed the ceiling %d MiB", peak>>20, ceiling>>20)
	}
}

func ceilingChild(t *testing.T) {
	var before syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_DATA, &before); err != nil {
		t.Fatal(err)
	}
	e := openWith(t, Options{Lake: t.TempDir(), MemoryLimit: "256MiB", MaxResultBytes: 64 << 20, ProcessCeiling: true})
	if e.ceiling <= 0 {
		t.Fatal("no ceiling set")
	}
	fmt.Printf("CEILING %d\n", e.ceiling)
	var now syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_DATA, &now); err != nil || int64(now.Cur) != e.ceiling {
		t.Fatalf("data limit %d, want %d (%v)", now.Cur, e.ceiling, err)
	}
	ctx := context.Background()
	_, err := e.Query(ctx, "SELECT length(replace(lpad('', 100000, 'x'), 'x', lpad('', 100000, 'y')))")
	checkLimit(t, "10 GB value", err, ErrOutOfMemory, LimitMemory, "256MiB")
	var le *LimitError
	if errors.As(err, &le) && (le.Ceiling == "" || !strings.Contains(err.Error(), le.Ceiling)) {
		t.Fatalf("10 GB value: %v, want the process ceiling %q named", err, le.Ceiling)
	}
	res, err := e.Query(ctx, "SELECT length(repeat('x', 100000000)) AS n")
	if err != nil || fmt.Sprint(res.Rows) != "[[100000000]]" {
		t.Fatalf("after the refusal: %v %v", res, err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Getrlimit(syscall.RLIMIT_DATA, &now); err != nil || now != before {
		t.Fatalf("data limit after Close %+v, want %+v (%v)", now, before, err)
	}
}
