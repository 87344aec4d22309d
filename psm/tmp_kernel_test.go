package psm

import (
	"syscall"
	"testing"
	"time"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestTmpKernel(t *testing.T) {
	m := 42
	g := make([]float64, lgPackedLen(m))
	var a, u [4][]float64
	for r := range a {
		a[r] = make([]float64, m)
		u[r] = make([]float64, m)
		for j := range a[r] {
			a[r][j] = float64(j+r) * 1e-3
			u[r][j] = float64(j-r) * 1e-3
		}
	}
	rows := 1_000_000
	c0 := cpuTime()
	t0 := time.Now()
	for i := 0; i < rows/4; i++ {
		lgRank4(g, m, &a, &u)
	}
	cpu := cpuTime() - c0
	fl := float64(rows) * float64(lgPackedLen(m))
	t.Logf("wall %v cpu %v: %.2f GFMA/s (cpu time)", time.Since(t0), cpu, fl/cpu.Seconds()/1e9)
}
