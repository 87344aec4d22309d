package estimate

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"syscall"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/psmeval/psmeval/psm"
)

// sfiScale builds an SFI-sized sample without the per-unit cost of
// synthSample: n1 treated, n0 controls (own persons), nOut outcomes with
// H = 21 (22 event months), scores with density 2x (treated) and uniform
// (controls), 0/1 outcomes.
func sfiScale(n1, n0, nOut int) (*Sample, []float64) {
	const H = 21
	n := n1 + n0
	r := rand.New(rand.NewPCG(1, 2))
	s := &Sample{Treated: make([]bool, n), Person: make([]int64, n)}
	x := make([]float64, n)
	for u := range n {
		s.Person[u] = int64(u)*2 + 1
		if u < n1 {
			s.Treated[u] = true
			x[u] = 1 - r.Float64()*r.Float64()
		} else {
			x[u] = r.Float64()
		}
	}
	for k := range nOut {
		y := make([]float64, n*(H+1))
		for i := range y {
			if r.Uint64()&3 == 0 {
				y[i] = 1
			}
		}
		s.Outcomes = append(s.Outcomes, EventOutcome{Name: "y" + strconv.Itoa(k), H: H, Y: y})
	}
	return s, x
}

// BenchmarkBootstrapFixed runs 999 fixed-score replicates per op (and 2,
// to show the one-off cost: checks, sort, gathering rows, point estimate) at
// n₁ = 6,487 treated, 4 outcomes × 22 months, over a grid of control
// counts. The SFI size (3.3 M controls) runs only with
// PSMEVAL_BENCH_SFI=1 (it needs ~2.5 GB for the outcomes).
//
//	go test ./estimate -run '^$' -bench BootstrapFixed -benchtime 1x
func BenchmarkBootstrapFixed(b *testing.B) {
	sizes := []int{33_000, 330_000}
	if os.Getenv("PSMEVAL_BENCH_SFI") != "" {
		sizes = append(sizes, 3_300_000)
	}
	for _, n0 := range sizes {
		s, x := sfiScale(6487, n0, 4)
		for _, c := range []struct {
			scheme Scheme
			reps   int
		}{{Poisson, 2}, {Poisson, 999}, {Multinomial, 999}} {
			scheme := c.scheme
			b.Run(fmt.Sprintf("n0=%d/%v/reps=%d", n0, scheme, c.reps), func(b *testing.B) {
				b.ResetTimer()
				b.ReportAllocs()
				c0 := cpuSeconds()
				for range b.N {
					_, err := Bootstrap(context.Background(), s, unitsFor(b, s, x, nil), &BootstrapOptions{Scheme: scheme, Replicates: c.reps, Seed: 1})
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric((cpuSeconds()-c0)/float64(b.N), "cpu-s/op")
			})
		}
	}
}

// BenchmarkOtsuRai: 999 Otsu–Rai replicates at n₁ = 6,487 with 4
// outcomes × 22 months.
func BenchmarkOtsuRai(b *testing.B) {
	s, x := sfiScale(6487, 330_000, 4)
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuSeconds()
	for range b.N {
		if _, err := OtsuRai(context.Background(), s, unitsFor(b, s, x, nil), &OtsuRaiOptions{Replicates: 999, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric((cpuSeconds()-c0)/float64(b.N), "cpu-s/op")
}

// BenchmarkBootstrapRefit: replicates that re-fit a 40-covariate logit
// with psm.FitLogit (warm start at the full-sample fit) and re-match, at
// n₁ = 6,487 and n₀ = 330,000 (a tenth of SFI; the cost is linear in
// n₀), or 3.3 M with PSMEVAL_BENCH_SFI=1. One op = 4 replicates.
func BenchmarkBootstrapRefit(b *testing.B) {
	const p = 40
	n0 := 330_000
	if os.Getenv("PSMEVAL_BENCH_SFI") != "" {
		n0 = 3_300_000
	}
	s, _ := sfiScale(6487, n0, 4)
	n := s.Len()
	r := rand.New(rand.NewPCG(5, 6))
	xd := make([]float64, n*p)
	d := make([]float64, n)
	for u := range n {
		lin := -4.0
		for j := range p {
			v := r.NormFloat64()
			xd[u*p+j] = v
			if j < 5 {
				lin += 0.3 * v
			}
		}
		if s.Treated[u] {
			d[u] = 1
		}
		_ = lin
	}
	X := mat.NewDense(n, p, xd)
	ctx := context.Background()
	fit, err := psm.FitLogit(ctx, X, d, nil, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	scores := fit.Predict(X, nil)
	refit := func(ctx context.Context, w []float64) ([]float64, error) {
		f, err := psm.FitLogit(ctx, X, d, w, nil, &psm.LogitOptions{Start: fit.Coef})
		if err != nil {
			return nil, err
		}
		return f.Predict(X, nil), nil
	}
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuSeconds()
	for range b.N {
		if _, err := Bootstrap(ctx, s, unitsFor(b, s, scores, nil), &BootstrapOptions{Replicates: 4, Seed: 1, Refit: refit}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric((cpuSeconds()-c0)/float64(b.N), "cpu-s/op")
}

// cpuSeconds is the user+system CPU time of the process so far: on a
// shared machine it measures the work where wall time measures the
// neighbours.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return math.NaN()
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}
