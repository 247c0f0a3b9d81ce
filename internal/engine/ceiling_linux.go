package engine

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// The process ceiling. DuckDB's memory limit covers its buffer manager only: a value a function
// builds (repeat('x', 1e9), lpad, replace, a list from range) is allocated outside it and can
// take the machine. The one wall that holds for every such allocation is the kernel's: while an
// engine with Options.ProcessCeiling is open, the process's data limit (RLIMIT_DATA, which counts
// the private writable memory malloc and Go's heap map) is lowered to what the process held
// before plus each open engine's budget. DuckDB turns a refused allocation into an
// "Out of Memory Error" for that statement and goes on; Go's own heap stays far below the
// ceiling (results are bounded by MaxResultBytes and the CLI sets a soft Go memory limit).

// rlimInfinity is RLIM_INFINITY as the kernel stores it.
const rlimInfinity = ^uint64(0)

var ceiling struct {
	mu     sync.Mutex
	open   int
	budget int64
	base   int64
	saved  syscall.Rlimit
}

// acquireCeiling adds budget bytes to the ceiling and returns the ceiling now in force (0 when it
// cannot be set: no /proc, or a data limit already lower) and the function that gives the budget
// back; the last one restores the limit the process had.
func acquireCeiling(budget int64) (int64, func()) {
	ceiling.mu.Lock()
	defer ceiling.mu.Unlock()
	if ceiling.open == 0 {
		base := dataBytes()
		if base <= 0 || syscall.Getrlimit(syscall.RLIMIT_DATA, &ceiling.saved) != nil {
			return 0, func() {}
		}
		ceiling.base = base
	}
	limit := ceiling.base + ceiling.budget + budget
	if ceiling.saved.Cur != rlimInfinity && uint64(limit) >= ceiling.saved.Cur {
		// Someone set a lower limit already: keep theirs.
		if ceiling.open == 0 {
			return 0, func() {}
		}
		limit = int64(ceiling.saved.Cur)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_DATA, &syscall.Rlimit{Cur: uint64(limit), Max: ceiling.saved.Max}); err != nil {
		return 0, func() {}
	}
	ceiling.open++
	ceiling.budget += budget
	var once sync.Once
	return limit, func() {
		once.Do(func() {
			ceiling.mu.Lock()
			defer ceiling.mu.Unlock()
			ceiling.open--
			ceiling.budget -= budget
			if ceiling.open == 0 {
				syscall.Setrlimit(syscall.RLIMIT_DATA, &ceiling.saved)
				return
			}
			cur := uint64(ceiling.base + ceiling.budget)
			if ceiling.saved.Cur != rlimInfinity {
				cur = min(cur, ceiling.saved.Cur)
			}
			syscall.Setrlimit(syscall.RLIMIT_DATA, &syscall.Rlimit{Cur: cur, Max: ceiling.saved.Max})
		})
	}
}

// dataBytes is the process's data size as the kernel counts it against RLIMIT_DATA (VmData).
func dataBytes() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmData:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
