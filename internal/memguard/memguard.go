// Package memguard compares a memory estimate with what the process may
// still use, so that a program refuses a run that cannot fit before it
// spends minutes growing towards the kernel's out-of-memory killer.
package memguard

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
)

// Available returns the bytes the process may still allocate, and what
// bounds it: the least of the cgroup limit less the cgroup's usage
// (cgroup v2 memory.max and memory.current, or v1 memory.limit_in_bytes
// and memory.usage_in_bytes), MemAvailable of /proc/meminfo, and the Go
// memory limit (GOMEMLIMIT) less the Go runtime's memory. ok is false
// when none is known (not Linux, /proc and /sys not mounted).
func Available() (bytes int64, source string, ok bool) {
	bytes = math.MaxInt64
	take := func(v int64, s string) {
		if v < bytes {
			bytes, source, ok = max(v, 0), s, true
		}
	}
	if lim, ok1 := readInt("/sys/fs/cgroup/memory.max"); ok1 {
		cur, _ := readInt("/sys/fs/cgroup/memory.current")
		take(lim-cur, "the cgroup limit (memory.max)")
	} else if lim, ok1 := readInt("/sys/fs/cgroup/memory/memory.limit_in_bytes"); ok1 && lim < 1<<60 {
		cur, _ := readInt("/sys/fs/cgroup/memory/memory.usage_in_bytes")
		take(lim-cur, "the cgroup limit (memory.limit_in_bytes)")
	}
	if v, ok1 := memAvailable(); ok1 {
		take(v, "MemAvailable in /proc/meminfo")
	}
	if lim := debug.SetMemoryLimit(-1); lim < math.MaxInt64 {
		s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
		metrics.Read(s)
		take(lim-int64(s[0].Value.Uint64()), "the Go memory limit (GOMEMLIMIT)")
	}
	return bytes, source, ok
}

// readInt reads a file holding one integer ("max" is not one).
func readInt(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return v, err == nil
}

func memAvailable() (int64, bool) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemAvailable:"); ok {
			fs := strings.Fields(rest)
			if len(fs) >= 1 {
				kb, err := strconv.ParseInt(fs[0], 10, 64)
				return kb << 10, err == nil
			}
		}
	}
	return 0, false
}

// Error is a refusal: the estimate, what is available and what bounds
// it, and what to do instead.
type Error struct {
	Need, Available int64
	Source          string
	Detail          string // what the estimate is made of
	Advice          string // what to do instead, and how to override
}

func (e *Error) Error() string {
	return fmt.Sprintf("needs about %s of memory (%s), but %s is available (%s): %s",
		GB(e.Need), e.Detail, GB(e.Available), e.Source, e.Advice)
}

// Check returns an *Error when need exceeds what Available reports, nil
// when it fits or nothing is known.
func Check(need int64, detail, advice string) error {
	avail, src, ok := Available()
	if !ok || need <= avail {
		return nil
	}
	return &Error{Need: need, Available: avail, Source: src, Detail: detail, Advice: advice}
}

// GB formats bytes in GB with one decimal (MB below 1 GB).
func GB(b int64) string {
	if b < 1e9 {
		return fmt.Sprintf("%.0f MB", float64(b)/1e6)
	}
	return fmt.Sprintf("%.1f GB", float64(b)/1e9)
}

// PeakRSS returns the peak resident set of the process so far (VmHWM of
// /proc/self/status) in bytes; ok is false when it is not known (not
// Linux, /proc not mounted).
func PeakRSS() (bytes int64, ok bool) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, found := strings.CutPrefix(sc.Text(), "VmHWM:"); found {
			fs := strings.Fields(rest)
			if len(fs) >= 1 {
				kb, err := strconv.ParseInt(fs[0], 10, 64)
				return kb << 10, err == nil
			}
		}
	}
	return 0, false
}
