// Package bench measures trailsql against anchors run on the same corpus in the same invocation:
// the physical floor of reading the corpus (gzip decompression on one core and on all cores, in
// Go as the ingest does it, and GNU zcat), DuckDB building its own native table from the same
// files with read_json (what a user would do instead of trailsql), and DuckDB answering the same
// SQL over that table. Absolute times on a shared machine vary from hour to hour; the ratios
// between figures measured in one run are what the bench reports.
//
// It is the second package that opens DuckDB (internal/engine owns the lake's databases); it
// opens only databases of its own, for measurement.
package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/klauspost/compress/gzip"
)

// Usage is what a measured step cost.
type Usage struct {
	Wall time.Duration
	// CPU is user and system time, all threads (and, for a child process, all its threads).
	CPU time.Duration
	// MaxRSS is the peak resident set of the child process that ran the step (0 when the step
	// ran in the bench's own process, whose peak is not the step's).
	MaxRSS int64
}

// Cores is the average number of cores busy during the step.
func (u Usage) Cores() float64 {
	if u.Wall <= 0 {
		return 0
	}
	return u.CPU.Seconds() / u.Wall.Seconds()
}

// String renders the figures, e.g. "12.31 s wall, 23.90 s CPU = 1.94 cores, peak RSS 812 MiB".
func (u Usage) String() string {
	s := fmt.Sprintf("%.2f s wall, %.2f s CPU = %.2f cores", u.Wall.Seconds(), u.CPU.Seconds(), u.Cores())
	if u.MaxRSS > 0 {
		s += fmt.Sprintf(", peak RSS %.0f MiB", float64(u.MaxRSS)/(1<<20))
	}
	return s
}

// selfCPU is the CPU time the process has used so far, all threads.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ChildUsage reads a finished child process's rusage.
func ChildUsage(ps *os.ProcessState, wall time.Duration) Usage {
	u := Usage{Wall: wall}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		u.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		u.MaxRSS = ru.Maxrss * 1024
	}
	return u
}

// CorpusFiles lists the CloudTrail log files of a trail in the S3 layout under root (the
// .json.gz files under a CloudTrail/ folder; digest files are left out), sorted.
func CorpusFiles(root string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && strings.HasSuffix(p, ".json.gz") && strings.Contains(filepath.ToSlash(p), "/CloudTrail/") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list the corpus %s: %w", root, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("list the corpus %s: no .json.gz files under a CloudTrail/ folder", root)
	}
	sort.Strings(files)
	return files, nil
}

// Decompress gunzips every file with workers goroutines (klauspost/compress, the library the
// ingest decodes with) and discards the bytes: the floor under any reader of the corpus. It
// returns what it cost, CPU included (the bench's process does nothing else meanwhile), and
// the uncompressed bytes.
func Decompress(ctx context.Context, files []string, workers int) (Usage, int64, error) {
	workers = max(workers, 1)
	var next, raw atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, workers)
	cpu0, start := selfCPU(), time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var zr gzip.Reader
			br := bufio.NewReaderSize(nil, 256<<10)
			buf := make([]byte, 256<<10)
			for {
				i := int(next.Add(1)) - 1
				if i >= len(files) || ctx.Err() != nil {
					return
				}
				n, err := gunzip(files[i], &zr, br, buf)
				if err != nil {
					errs[w] = err
					return
				}
				raw.Add(n)
			}
		}()
	}
	wg.Wait()
	u := Usage{Wall: time.Since(start), CPU: selfCPU() - cpu0}
	for _, err := range errs {
		if err != nil {
			return u, 0, err
		}
	}
	return u, raw.Load(), ctx.Err()
}

func gunzip(name string, zr *gzip.Reader, br *bufio.Reader, buf []byte) (int64, error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	br.Reset(f)
	if err := zr.Reset(br); err != nil {
		return 0, fmt.Errorf("decompress %s: %w", name, err)
	}
	var n int64
	for {
		k, err := zr.Read(buf)
		n += int64(k)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("decompress %s: %w", name, err)
		}
	}
}

// Zcat decompresses every file with GNU gzip (`gzip -dc`, zcat), one process at a time (one
// core), output discarded: the reference of the project's targets. It reports ErrNoZcat when
// gzip is not installed.
func Zcat(ctx context.Context, files []string) (Usage, error) {
	bin, err := exec.LookPath("gzip")
	if err != nil {
		return Usage{}, ErrNoZcat
	}
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return Usage{}, err
	}
	defer null.Close()
	var u Usage
	start := time.Now()
	const batch = 500 // files per process, well within the argument limit
	for i := 0; i < len(files); i += batch {
		args := append([]string{"-dc", "--"}, files[i:min(i+batch, len(files))]...)
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Stdout = null
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return u, fmt.Errorf("gzip -dc: %w: %s", err, strings.TrimSpace(stderr.String()))
		}
		cu := ChildUsage(cmd.ProcessState, 0)
		u.CPU += cu.CPU
		u.MaxRSS = max(u.MaxRSS, cu.MaxRSS)
	}
	u.Wall = time.Since(start)
	return u, nil
}

// ErrNoZcat is returned by Zcat when GNU gzip is not on the PATH.
var ErrNoZcat = errors.New("gzip is not installed: no zcat anchor (install the gzip package)")
