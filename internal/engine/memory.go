package engine

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// defaultMemoryLimit is DuckDB's memory limit unless Options.MemoryLimit says otherwise: a quarter
// of the memory this process may use (the machine's, or its cgroup's if smaller), between 256 MiB
// and 4 GiB. DuckDB's own default, 80%, is too much here: its limit covers its buffer manager
// only (not the strings a vector computes, nor allocator overhead), and the same process holds
// the Go side of results (up to Options.MaxResultBytes, a few times that as Go values) and, in
// `run` and `serve`, ingest. Beyond the limit DuckDB spills joins, sorts and aggregates to its
// temporary folder; CloudTrail scans gain little from more than 4 GiB.
func defaultMemoryLimit() string {
	const minLimit, maxLimit = 256 << 20, 4 << 30
	total := totalMemory()
	if total <= 0 {
		return formatLimit(2 << 30)
	}
	return formatLimit(min(max(total/4, minLimit), maxLimit))
}

func formatLimit(n int64) string { return fmt.Sprintf("%dMiB", n>>20) }

// totalMemory returns the memory available to this process in bytes, 0 if unknown.
func totalMemory() int64 {
	var total int64
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
				total = kb << 10
				break
			}
		}
		f.Close()
	}
	for _, p := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 && (total == 0 || n < total) {
			total = n
		}
	}
	return total
}
