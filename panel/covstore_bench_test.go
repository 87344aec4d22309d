package panel_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/psmeval/psmeval/panel"
	"github.com/psmeval/psmeval/psm"
)

// covBenchData draws a register-like n×p design: an age 18..64 (uint8
// chunk columns), age²/100 (float64), a year 2000..2020 (int16), then
// alternately 0/1 dummies and counts of weeks 1..52, nonzero with a
// probability log-uniform on [0.01, 0.6] (uint8); about 2 percent
// treated. Seeded.
func covBenchData(n, p int) (*mat.Dense, []float64) {
	rng := rand.New(rand.NewPCG(2026, uint64(p)))
	prob, beta := make([]float64, p), make([]float64, p)
	for j := 3; j < p; j++ {
		prob[j] = 0.01 * math.Pow(60, rng.Float64())
		beta[j] = 0.4 * (rng.Float64() - 0.5)
		if j%2 == 0 {
			beta[j] /= 20
		}
	}
	x := mat.NewDense(n, p, nil)
	y := make([]float64, n)
	for i := range n {
		row := x.RawRowView(i)
		age := float64(18 + rng.IntN(47))
		row[0], row[1], row[2] = age, age*age/100, float64(2000+rng.IntN(21))
		eta := -4 + 0.03*(age-40) + 0.02*(row[2]-2010)
		for j := 3; j < p; j++ {
			if rng.Float64() >= prob[j] {
				continue
			}
			v := 1.0
			if j%2 == 0 {
				v = float64(1 + rng.IntN(52))
			}
			row[j] = v
			eta += beta[j] * v
		}
		if rng.Float64() < 1/(1+math.Exp(-eta)) {
			y[i] = 1
		}
	}
	return x, y
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCovStoreRows: CovStore.Rows of all rows, 256 at a time (as
// psm's logit reads them), of 1 million register-like rows × 40 columns,
// and the same through a view of the first 20 columns.
func BenchmarkCovStoreRows(b *testing.B) {
	const n, p = 1_000_000, 40
	x, _ := covBenchData(n, p)
	s := panel.NewCovStore(x)
	dst := make([]float64, 256*p)
	for _, c := range []int{p, p / 2} {
		v := s.Slice(0, n, 0, c).(psm.RowBlocker)
		b.Run(fmt.Sprintf("cols=%d", c), func(b *testing.B) {
			cpu0 := cpuTime()
			for b.Loop() {
				for lo := 0; lo < n; lo += 256 {
					v.Rows(dst, lo, min(n, lo+256))
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N)/float64(n*c), "cpu-ns/value")
		})
	}
}

// BenchmarkFitLogitCovStore: psm.FitLogit on 1 million register-like
// rows × 40 columns (covBenchData) as a *mat.Dense and as a CovStore
// (the same bits), reporting CPU seconds per fit.
func BenchmarkFitLogitCovStore(b *testing.B) {
	const n, p = 1_000_000, 40
	x, y := covBenchData(n, p)
	s := panel.NewCovStore(x)
	for _, m := range []struct {
		name string
		x    mat.Matrix
	}{{"dense", x}, {"store", s}} {
		b.Run(m.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				if _, err := psm.FitLogit(context.Background(), m.x, y, nil, nil, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}
