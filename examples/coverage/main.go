// Command coverage is a seeded Monte Carlo of the interval methods of
// package estimate: over many simulated datasets in which selection is on
// observables only and the true effect is known, it reports how often the
// nominal 95 percent intervals of each method cover the truth, for a few
// event months and for the accumulated effect.
//
//	go run ./examples/coverage                       # 200 datasets, 199 replicates
//	go run ./examples/coverage -datasets 500 -reps 499
//
// # The simulation (documented here because it is the program's own)
//
// Each dataset has N units (default 2,000), each its own person, with
// covariates x1 ~ N(0,1) and x2 ~ Bernoulli(0.4). Treatment is
// D ~ Bernoulli(logistic(−1.6 + 0.8 x1 + 0.6 x2)) (about 23 percent
// treated): selection on the observables only, and the logit model fitted
// below is correctly specified. Outcomes are monthly 0/1 indicators in
// event months 0..H (default 12) with
//
//	P(Y_m(0) = 1 | x) = 0.1 + 0.6 logistic(−0.5 + 0.7 x1 + 0.5 x2 + 0.04 m)
//	P(Y_m(1) = 1 | x) = P(Y_m(0) = 1 | x) + τ_m,  τ_m = −0.06 + 0.01 m
//
// and persistence over months (a person effect: Y_m = 1[Φ(ρ z + √(1−ρ²)
// e_m) < P], ρ = 0.6), so the true ATT in month m is τ_m exactly, for the
// population and conditional on the covariates, and the true accumulated
// effect (months 1..m) is Σ τ_k. (panel/synth generates SFI-like register
// populations; this program needs thousands of small datasets with a
// closed-form truth, so it simulates directly.)
//
// Per dataset the propensity score is the fitted logit of D on (1, x1,
// x2) (psm.FitLogit, with frequency weights in the re-fitted bootstrap),
// matched with one nearest neighbour with replacement on the score, ties
// averaged. Methods:
//
//   - bootstrap, re-fitted: Bootstrap with Refit re-estimating the logit
//     with the replicate's weights (warm start) and re-matching;
//   - bootstrap, fixed scores: Bootstrap without Refit;
//   - Abadie–Imbens: AbadieImbens on psm.Match (analytic SE, normal
//     intervals only; percentile and band columns show "-");
//   - Otsu–Rai: OtsuRai (weighted bootstrap of the linear form).
//
// Percentile ("pct") and normal ("norm") intervals are reported, and for
// the whole curve of monthly effects the simultaneous band ("band":
// the share of datasets in which the band covers τ_0..τ_H at once).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/psmeval/psmeval/estimate"
	"github.com/psmeval/psmeval/psm"
	"gonum.org/v1/gonum/mat"
)

func tau(m int) float64 { return -0.06 + 0.01*float64(m) }

func logistic(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

type dataset struct {
	s *estimate.Sample
	x *mat.Dense // covariates (x1, x2); the logit adds the intercept
	d []float64  // treatment 0/1
}

func simulate(seed uint64, k, n, H int) *dataset {
	r := rand.New(rand.NewPCG(seed, uint64(k)))
	ds := &dataset{s: &estimate.Sample{Treated: make([]bool, n), Person: make([]int64, n)},
		x: mat.NewDense(n, 2, nil), d: make([]float64, n)}
	y := make([]float64, n*(H+1))
	const rho = 0.6
	for u := 0; u < n; u++ {
		x1 := r.NormFloat64()
		x2 := 0.0
		if r.Float64() < 0.4 {
			x2 = 1
		}
		ds.x.Set(u, 0, x1)
		ds.x.Set(u, 1, x2)
		ds.s.Person[u] = int64(u)
		if r.Float64() < logistic(-1.6+0.8*x1+0.6*x2) {
			ds.s.Treated[u] = true
			ds.d[u] = 1
		}
		z := r.NormFloat64()
		for m := 0; m <= H; m++ {
			p := 0.1 + 0.6*logistic(-0.5+0.7*x1+0.5*x2+0.04*float64(m))
			if ds.s.Treated[u] {
				p += tau(m)
			}
			v := rho*z + math.Sqrt(1-rho*rho)*r.NormFloat64()
			if phi(v) < p {
				y[u*(H+1)+m] = 1
			}
		}
	}
	ds.s.Outcomes = []estimate.EventOutcome{{Name: "y", H: H, Y: y}}
	return ds
}

func phi(v float64) float64 { return 0.5 * math.Erfc(-v/math.Sqrt2) }

// fitLogit fits logit(P(D=1)) = β0 + β1 x1 + β2 x2 with frequency
// weights w (nil = 1), starting from start (nil = 0), by the library's
// IRLS (psm.FitLogit, = R glm), and returns the fitted probabilities.
func fitLogit(ctx context.Context, ds *dataset, w, start []float64) (scores, coef []float64, err error) {
	fit, err := psm.FitLogit(ctx, ds.x, ds.d, w, []string{"x1", "x2"}, &psm.LogitOptions{Start: start, Workers: 1})
	if err != nil {
		return nil, nil, err
	}
	if !fit.Converged {
		return nil, nil, fmt.Errorf("logit: no convergence in %d iterations", fit.Iterations)
	}
	return fit.Predict(ds.x, nil), fit.Coef, nil
}

// tally counts coverage per method and target.
type tally struct {
	mu  sync.Mutex
	hit map[string]map[string]int
	n   map[string]int
	w   map[string]map[string]float64 // summed widths
	// summed estimate − truth and replicate mean − estimate (month 6)
	bias, bbias map[string]float64
}

func (t *tally) add(method, target string, iv estimate.Interval, truth float64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.hit[method] == nil {
		t.hit[method] = map[string]int{}
		t.w[method] = map[string]float64{}
	}
	if iv.Contains(truth) {
		t.hit[method][target]++
	}
	t.w[method][target] += iv.Hi - iv.Lo
}

func main() {
	nData := flag.Int("datasets", 200, "number of simulated datasets")
	reps := flag.Int("reps", 199, "bootstrap replicates per method and dataset")
	n := flag.Int("n", 2000, "units per dataset")
	H := flag.Int("h", 12, "last event month")
	seed := flag.Uint64("seed", 2015, "seed of the Monte Carlo")
	workers := flag.Int("workers", runtime.GOMAXPROCS(0), "datasets run at once")
	flag.Parse()
	months := []int{0, 3, 6, *H}

	t := &tally{hit: map[string]map[string]int{}, n: map[string]int{}, w: map[string]map[string]float64{},
		bias: map[string]float64{}, bbias: map[string]float64{}}
	methods := []string{"bootstrap re-fitted", "bootstrap fixed", "Abadie-Imbens", "Otsu-Rai"}
	start := time.Now()
	var next int64 = -1
	var mu sync.Mutex
	var wg sync.WaitGroup
	var firstErr error
	for range *workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				next++
				k := int(next)
				mu.Unlock()
				if k >= *nData {
					return
				}
				if err := runOne(t, *seed, k, *n, *H, *reps, months); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		log.Fatal(firstErr)
	}
	fmt.Printf("Coverage of nominal 95%% intervals, %d datasets of %d units, %d replicates, seed %d (%.0f s on %d cores)\n",
		*nData, *n, *reps, *seed, time.Since(start).Seconds(), runtime.GOMAXPROCS(0))
	fmt.Printf("MC standard error of a coverage near 95%%: %.1f points\n\n", 100*math.Sqrt(0.95*0.05/float64(*nData)))
	var targets []string
	for _, m := range months {
		targets = append(targets, fmt.Sprintf("m%d", m))
	}
	targets = append(targets, fmt.Sprintf("acc%d", *H))
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "method\tinterval\t%s\tband m0-%d\t\n", strings.Join(targets, "\t"), *H)
	for _, meth := range methods {
		for _, kind := range []string{"pct", "norm"} {
			fmt.Fprintf(tw, "%s\t%s\t", meth, kind)
			if kind == "pct" && meth == "Abadie-Imbens" {
				fmt.Fprintf(tw, "%s-\t\n", strings.Repeat("-\t", len(targets)))
				continue
			}
			for _, tg := range targets {
				fmt.Fprintf(tw, "%.1f\t", 100*float64(t.hit[meth][kind+" "+tg])/float64(*nData))
			}
			if kind == "pct" {
				fmt.Fprintf(tw, "%.1f\t\n", 100*float64(t.hit[meth]["band"])/float64(*nData))
			} else {
				fmt.Fprintf(tw, "\t\n")
			}
		}
	}
	tw.Flush()
	fmt.Printf("\nmean width of the intervals (percentage points; accumulated: months)\n")
	tw = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "method\tinterval\t%s\t\n", strings.Join(targets, "\t"))
	for _, meth := range methods {
		for _, kind := range []string{"pct", "norm"} {
			if kind == "pct" && meth == "Abadie-Imbens" {
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t", meth, kind)
			for _, tg := range targets {
				f := 100.0
				if strings.HasPrefix(tg, "acc") {
					f = 1
				}
				fmt.Fprintf(tw, "%.3g\t", f*t.w[meth][kind+" "+tg]/float64(*nData))
			}
			fmt.Fprintf(tw, "\n")
		}
	}
	tw.Flush()
	fmt.Printf("\nmonth 6, mean over datasets (percentage points): estimate − truth %+.3f;", 100*t.bias["bootstrap fixed"]/float64(*nData))
	fmt.Printf(" replicate mean − estimate:")
	for _, meth := range []string{"bootstrap re-fitted", "bootstrap fixed", "Otsu-Rai"} {
		fmt.Printf(" %s %+.3f", meth, 100*t.bbias[meth]/float64(*nData))
	}
	fmt.Println()
}

func runOne(t *tally, seed uint64, k, n, H, reps int, months []int) error {
	ds := simulate(seed, k, n, H)
	ctx := context.Background()
	scores, beta, err := fitLogit(ctx, ds, nil, nil)
	if err != nil {
		return fmt.Errorf("dataset %d: %w", k, err)
	}
	refit := func(ctx context.Context, w []float64) ([]float64, error) {
		sc, _, err := fitLogit(ctx, ds, w, beta) // warm start at the full-sample fit
		return sc, err
	}
	bseed := seed*1_000_003 + uint64(k)
	pm, err := psm.MatchUnits(scores, ds.s.Treated, nil)
	if err != nil {
		return fmt.Errorf("dataset %d: %w", k, err)
	}
	results := map[string]*estimate.Result{}
	results["bootstrap re-fitted"], err = estimate.Bootstrap(ctx, ds.s, pm, &estimate.BootstrapOptions{Replicates: reps, Seed: bseed, Workers: 1, Refit: refit, KeepDraws: true})
	if err != nil {
		return fmt.Errorf("dataset %d: %w", k, err)
	}
	results["bootstrap fixed"], err = estimate.Bootstrap(ctx, ds.s, pm, &estimate.BootstrapOptions{Replicates: reps, Seed: bseed, Workers: 1, KeepDraws: true})
	if err != nil {
		return fmt.Errorf("dataset %d: %w", k, err)
	}
	results["Abadie-Imbens"], err = estimate.AbadieImbens(ds.s, pm, nil)
	if err != nil {
		return fmt.Errorf("dataset %d: %w", k, err)
	}
	results["Otsu-Rai"], err = estimate.OtsuRai(ctx, ds.s, pm, &estimate.OtsuRaiOptions{Replicates: reps, Seed: bseed, Workers: 1, KeepDraws: true})
	if err != nil {
		return fmt.Errorf("dataset %d: %w", k, err)
	}
	acc := 0.0
	for m := 1; m <= H; m++ {
		acc += tau(m)
	}
	for meth, res := range results {
		se := res.Find("y", "", "")
		for _, m := range months {
			b := se.Monthly[m]
			t.add(meth, fmt.Sprintf("pct m%d", m), b.Percentile, tau(m))
			t.add(meth, fmt.Sprintf("norm m%d", m), b.Normal, tau(m))
		}
		a := se.Accumulated[H]
		t.add(meth, fmt.Sprintf("pct acc%d", H), a.Percentile, acc)
		t.add(meth, fmt.Sprintf("norm acc%d", H), a.Normal, acc)
		if se.Draws != nil {
			const m = 6
			H1 := H + 1
			mean := 0.0
			for b := 0; b < se.Valid; b++ {
				mean += se.Draws[b*2*H1+m]
			}
			mean /= float64(se.Valid)
			t.mu.Lock()
			t.bias[meth] += se.Effects[m].ATT - tau(m)
			t.bbias[meth] += mean - se.Effects[m].ATT
			t.mu.Unlock()
		}
		all := true
		for m := 0; m <= H; m++ {
			all = all && se.Monthly[m].Band.Contains(tau(m))
		}
		if all {
			t.add(meth, "band", estimate.Interval{Lo: 0, Hi: 0}, 0)
		} else {
			t.add(meth, "band", estimate.Interval{Lo: 1, Hi: 1}, 0)
		}
	}
	return nil
}
