package psm

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/psmeval/psmeval/internal/flatfile"
	"gonum.org/v1/gonum/mat"
)

// lgBenchData draws an SFI-like design: n units, p covariates (a third
// 0/1 dummies with prevalence 0.3, the rest standard normal rounded to 3
// decimals so a CSV copy is exact), and a treatment with about 0.2 percent
// treated. Seeded; the same (n, p) gives the same data.
func lgBenchData(n, p int) (*mat.Dense, []float64, []string) {
	rng := rand.New(rand.NewPCG(2024, uint64(p)))
	beta := make([]float64, p)
	for j := range beta {
		beta[j] = 0.3 * (rng.Float64() - 0.5)
	}
	beta[0], beta[1] = 0.8, -0.5
	data := make([]float64, n*p)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		row := data[i*p : (i+1)*p]
		eta := -6.6
		for j := range row {
			var v float64
			if j%3 == 2 {
				if rng.Float64() < 0.3 {
					v = 1
				}
			} else {
				v = math.Round(rng.NormFloat64()*1000) / 1000
			}
			row[j] = v
			eta += beta[j] * v
		}
		if rng.Float64() < 1/(1+math.Exp(-eta)) {
			y[i] = 1
		}
	}
	names := make([]string, p)
	for j := range names {
		names[j] = fmt.Sprintf("x%d", j+1)
	}
	return mat.NewDense(n, p, data), y, names
}

// BenchmarkFitLogit fits the SFI-scale propensity model (40 covariates,
// about 0.2 percent treated) over a size grid; s/iter is the time per IRLS
// iteration. Compare R: testdata/logit/bench_glm.R.
func BenchmarkFitLogit(b *testing.B) {
	for _, n := range []int{33_000, 330_000, 1_000_000, 3_300_000} {
		if n > 400_000 && testing.Short() {
			continue
		}
		b.Run(fmt.Sprintf("n=%d/p=40", n), func(b *testing.B) {
			x, y, names := lgBenchData(n, 40)
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := lgCPUTime()
			iters := 0
			for range b.N {
				fit, err := FitLogit(context.Background(), x, y, nil, names, nil)
				if err != nil {
					b.Fatal(err)
				}
				iters += fit.Iterations
			}
			// CPU time (all threads) next to wall time: on a shared machine
			// the wall time depends on the other load, CPU time less so.
			b.ReportMetric((lgCPUTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(b.Elapsed().Seconds()/float64(iters), "s/iter")
			b.ReportMetric(float64(iters)/float64(b.N), "iters")
		})
	}
}

// TestWriteLogitBenchData writes the 3.3-million-row benchmark data set as
// CSV for timing R's glm on the same data (testdata/logit/bench_glm.R):
//
//	PSM_LOGIT_BENCH_CSV=/tmp/logit_bench.csv go test ./psm -run TestWriteLogitBenchData -v
//
// It also fits the model and prints the coefficients and timing, for
// comparison with R's output. Skipped unless the variable is set.
func TestWriteLogitBenchData(t *testing.T) {
	path := os.Getenv("PSM_LOGIT_BENCH_CSV")
	if path == "" {
		t.Skip("set PSM_LOGIT_BENCH_CSV to write the benchmark data")
	}
	n, p := 3_300_000, 40
	x, y, names := lgBenchData(n, p)
	cols := [][]float64{y}
	for j := 0; j < p; j++ {
		c := make([]float64, n)
		mat.Col(c, j, x)
		cols = append(cols, c)
	}
	if err := flatfile.Write(path, flatfile.NewTable(append([]string{"y"}, names...), cols)); err != nil {
		t.Fatal(err)
	}
	t0, cpu0 := time.Now(), lgCPUTime()
	fit, err := FitLogit(context.Background(), x, y, nil, names, nil)
	if err != nil {
		t.Fatal(err)
	}
	el, cpu := time.Since(t0), lgCPUTime()-cpu0
	t.Logf("FitLogit n=%d p=%d treated=%d: %v total (CPU %v), %d iterations, %v per iteration",
		n, p, fit.NTreated, el, cpu, fit.Iterations, el/time.Duration(fit.Iterations))
	for j, nm := range fit.Names {
		t.Logf("%-12s %.15g (se %.15g)", nm, fit.Coef[j], fit.SE[j])
	}
}
