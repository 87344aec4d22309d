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

// lgRegisterBenchData draws a register-like design as in the SFI data:
// mostly zeros. Of the p columns, nd = 8 (p < 60) or 10 are dense (integer
// age 18..64, age²/100, a rate in [0, 1] to 3 decimals, a year 2000..2020,
// and dummies with 55 to 90 percent ones); the other p - nd are sparse:
// alternately dummies and counts of weeks on a benefit (1..52 when not
// zero), nonzero with a probability log-uniform on [0.002, 0.4]. A row
// has about nd - 1 + 0.075(p - nd) nonzero values (13.5 at p = 74). About
// 0.2 percent treated. Seeded; the same (n, p) gives the same data.
func lgRegisterBenchData(n, p int) (*mat.Dense, []float64, []string) {
	rng := rand.New(rand.NewPCG(2025, uint64(p)))
	nd := 8
	if p >= 60 {
		nd = 10
	}
	prob := make([]float64, p) // nonzero probability of sparse / dummy columns
	beta := make([]float64, p)
	names := make([]string, p)
	for j := range p {
		switch {
		case j < 4:
			names[j] = [...]string{"age", "age2", "rate", "year"}[j]
		case j < nd:
			names[j] = fmt.Sprintf("d%d", j+1)
			prob[j] = 0.55 + 0.35*rng.Float64()
			beta[j] = 0.4 * (rng.Float64() - 0.5)
		case j%2 == 0:
			names[j] = fmt.Sprintf("dummy%d", j+1)
			prob[j] = 0.002 * math.Pow(200, rng.Float64())
			beta[j] = 0.6 * (rng.Float64() - 0.5)
		default:
			names[j] = fmt.Sprintf("weeks%d", j+1)
			prob[j] = 0.002 * math.Pow(200, rng.Float64())
			beta[j] = 0.02 * (rng.Float64() - 0.5)
		}
	}
	data := make([]float64, n*p)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		row := data[i*p : (i+1)*p]
		age := float64(18 + rng.IntN(47))
		row[0], row[1] = age, age*age/100
		row[2] = math.Round(rng.Float64()*1000) / 1000
		row[3] = float64(2000 + rng.IntN(21))
		eta := -7.2 + 0.03*(age-40) - 0.5*row[2] + 0.02*(row[3]-2010)
		for j := 4; j < p; j++ {
			if rng.Float64() >= prob[j] {
				continue
			}
			v := 1.0
			if j >= nd && j%2 == 1 {
				v = float64(1 + rng.IntN(52))
			}
			row[j] = v
			eta += beta[j] * v
		}
		if rng.Float64() < 1/(1+math.Exp(-eta)) {
			y[i] = 1
		}
	}
	return mat.NewDense(n, p, data), y, names
}

// BenchmarkFitLogit fits the SFI-scale propensity model (about 0.2
// percent treated) over a size grid: p=40 has dense gaussian covariates
// (lgBenchData; FitLogit takes the dense pass), register-p=40 and
// register-p=74 mostly-zero register-like ones (lgRegisterBenchData, at
// n = 3.3 million only: the rarest dummies have about 13 treated there
// and separate in smaller samples; FitLogit takes the sparse pass of
// logit_sparse.go; the SFI design has 74 columns). s/iter is the time per
// IRLS iteration. Compare R: testdata/logit/bench_glm.R.
func BenchmarkFitLogit(b *testing.B) {
	type design struct {
		name string
		p    int
		gen  func(n, p int) (*mat.Dense, []float64, []string)
	}
	designs := []design{{"p=40", 40, lgBenchData}, {"register-p=40", 40, lgRegisterBenchData}, {"register-p=74", 74, lgRegisterBenchData}}
	for _, n := range []int{33_000, 330_000, 1_000_000, 3_300_000} {
		if n > 400_000 && testing.Short() {
			continue
		}
		for _, d := range designs {
			if n < 3_000_000 && d.name != "p=40" {
				continue
			}
			b.Run(fmt.Sprintf("n=%d/%s", n, d.name), func(b *testing.B) {
				lgBenchFit(b, d.gen, n, d.p)
			})
		}
	}
}

// lgBenchFit times FitLogit on gen(n, p), reporting CPU seconds per fit
// (all threads) next to wall time: on a shared machine the wall time
// depends on the other load, CPU time less so.
func lgBenchFit(b *testing.B, gen func(n, p int) (*mat.Dense, []float64, []string), n, p int) {
	x, y, names := gen(n, p)
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
	b.ReportMetric((lgCPUTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(b.Elapsed().Seconds()/float64(iters), "s/iter")
	b.ReportMetric(float64(iters)/float64(b.N), "iters")
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

// BenchmarkLogitPass times one IRLS pass (new eta, deviance and X'WX) with
// the dense and the sparse pass forced, on 330,000 rows of each design
// (workers 1): the per-row cost behind the choice in lgPlanSparse.
func BenchmarkLogitPass(b *testing.B) {
	const n = 330_000
	designs := []struct {
		name string
		p    int
		gen  func(n, p int) (*mat.Dense, []float64, []string)
	}{{"p=40", 40, lgBenchData}, {"register-p=40", 40, lgRegisterBenchData}, {"register-p=74", 74, lgRegisterBenchData}}
	for _, d := range designs {
		var x *mat.Dense
		var y []float64
		for path, pname := range []string{"auto", "dense", "sparse"} {
			b.Run(d.name+"/"+pname, func(b *testing.B) {
				if x == nil {
					x, y, _ = d.gen(n, d.p)
				}
				pr, beta := lgBenchProblem(b, x, y, path)
				g := make([]float64, lgGramLen(pr.q+1))
				eta := make([]float64, n)
				b.ReportAllocs()
				b.ResetTimer()
				cpu0 := lgCPUTime()
				for range b.N {
					if _, err := pr.pass(context.Background(), beta, eta, g); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64((lgCPUTime()-cpu0).Nanoseconds())/float64(b.N)/n, "cpu-ns/row")
			})
		}
	}
}

// lgBenchProblem sets up FitLogit's problem for x, y as FitLogit does
// (scan, centres, the pass chosen by path as lgPathOverride) and returns
// it with small coefficients in internal coordinates.
func lgBenchProblem(b *testing.B, x *mat.Dense, y []float64, path int) (*lgProblem, []float64) {
	n, p := x.Dims()
	pr := newLgProblem(newLgX(x), n, p, y, nil, 0, n, 0, true, 1)
	sc, err := pr.scan(context.Background(), nil)
	if err != nil {
		b.Fatal(err)
	}
	fixed := make([]bool, p)
	for j := range p {
		pr.center[j] = sc.sumWX[j] / sc.sumW
		fixed[j] = math.Min(sc.min0[j], sc.min1[j]) == math.Max(sc.max0[j], sc.max1[j])
	}
	defer func(v int) { lgPathOverride = v }(lgPathOverride)
	lgPathOverride = path
	pr.sp = lgPlanSparse(pr, sc, fixed)
	beta := make([]float64, pr.q)
	beta[0] = -6
	for j := 1; j < pr.q; j++ {
		beta[j] = 0.001 * float64(j%7-3)
	}
	return pr, beta
}
