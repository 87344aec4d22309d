package main

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"
)

// stageResult is the measurement of one stage.
type stageResult struct {
	Stage string  `json:"stage"`
	Wall  float64 `json:"wall_s"`
	CPU   float64 `json:"cpu_s"`
	// PeakRSS is the peak resident set during the stage (VmHWM after it
	// was reset at the stage's start), or the process's peak so far when
	// the kernel cannot reset it (PeakIsProcess).
	PeakRSS float64 `json:"peak_rss_mb"`
	// PeakIsProcess is true when the peak could not be reset.
	PeakIsProcess bool `json:"peak_is_process,omitempty"`
}

// meter measures stages: wall time, CPU time (user + system of all
// threads, from getrusage) and peak resident memory. Before each stage it
// collects garbage and returns free memory to the OS (not timed), then
// resets the kernel's high-water mark by writing "5" to
// /proc/self/clear_refs (Linux 4.0 and later), so that a stage's peak is
// what the live data of the earlier stages and the stage itself hold.
type meter struct {
	stages    []stageResult
	canReset  bool
	checked   bool
	noCollect bool // skip the GC between stages (benchmarks)
}

// cpuSeconds returns the user + system CPU time of the process.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

// statusKB returns a field of /proc/self/status in kB (0 if unreadable).
func statusKB(field string) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	prefix := []byte(field + ":")
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.HasPrefix(line, prefix) {
			continue
		}
		fields := bytes.Fields(line[len(prefix):])
		if len(fields) == 0 {
			return 0
		}
		v, err := strconv.ParseFloat(string(fields[0]), 64)
		if err != nil {
			return 0
		}
		return v
	}
	return 0
}

// resetPeak resets VmHWM to the current RSS; it reports whether that
// worked (the peak went down to at most the current RSS, or already was).
func resetPeak() bool {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return false
	}
	hwm, rss := statusKB("VmHWM"), statusKB("VmRSS")
	return hwm > 0 && hwm <= rss+1024 // allow for pages touched in between
}

// run measures f as the stage name and records it.
func (m *meter) run(name string, f func() error) error {
	if !m.noCollect {
		runtime.GC()
		debug.FreeOSMemory()
	}
	reset := resetPeak()
	if !m.checked {
		m.canReset, m.checked = reset, true
	}
	c0, t0 := cpuSeconds(), time.Now()
	err := f()
	wall, cpu := time.Since(t0).Seconds(), cpuSeconds()-c0
	if err != nil {
		return err
	}
	m.stages = append(m.stages, stageResult{
		Stage: name, Wall: wall, CPU: cpu,
		PeakRSS:       statusKB("VmHWM") / 1024,
		PeakIsProcess: !reset,
	})
	return nil
}
