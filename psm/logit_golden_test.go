package psm

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

// The golden bits of FitLogit: testdata/logit_bits.json holds every
// float64 of the results (as hexadecimal bits) of the fits of
// lgGoldenCases, with the assembly kernels (key "fma") and with the
// portable Go kernels ("go"), as computed by FitLogit before the IRLS
// passes were split into shard partials (logit_partial.go). The test
// requires the same bits: a change of the order of any sum shows up here.
// The bits are those of amd64 with GOAMD64=v1 (the Go compiler fuses
// multiply-adds elsewhere), so the test is skipped on other targets.
//
//	go test ./psm -run TestFitLogitGoldenBits -update

var update = flag.Bool("update", false, "rewrite testdata/logit_bits.json from the current FitLogit")

// lgGolden is one fit's results, floats as hexadecimal bits.
type lgGolden struct {
	Err                                            string   `json:",omitempty"`
	Coef, SE, Z, Cov                               []string `json:",omitempty"`
	Deviance, NullDeviance, LogLik, AIC, WeightSum string   `json:",omitempty"`
	Rank, Iterations, N, NTreated, Boundary        int
	Converged                                      bool
	Aliased, Dropped                               []string `json:",omitempty"`
	Excluded                                       []int    `json:",omitempty"`
}

func lgHex(v float64) string { return fmt.Sprintf("%016x", math.Float64bits(v)) }

func lgHexes(v []float64) []string {
	out := make([]string, len(v))
	for i, x := range v {
		out[i] = lgHex(x)
	}
	return out
}

func lgGoldenOf(fit *LogitFit, err error) lgGolden {
	var g lgGolden
	if err != nil {
		g.Err = err.Error()
	}
	if fit == nil {
		return g
	}
	g.Coef, g.SE, g.Z = lgHexes(fit.Coef), lgHexes(fit.SE), lgHexes(fit.Z)
	q := len(fit.Coef)
	for i := range q {
		for j := range q {
			g.Cov = append(g.Cov, lgHex(fit.Cov.At(i, j)))
		}
	}
	g.Deviance, g.NullDeviance, g.LogLik, g.AIC = lgHex(fit.Deviance), lgHex(fit.NullDeviance), lgHex(fit.LogLik), lgHex(fit.AIC)
	g.WeightSum = lgHex(fit.WeightSum)
	g.Rank, g.Iterations, g.N, g.NTreated, g.Boundary = fit.Rank, fit.Iterations, fit.N, fit.NTreated, fit.Boundary
	g.Converged = fit.Converged
	g.Aliased, g.Dropped, g.Excluded = fit.Aliased, fit.Dropped, fit.Excluded
	return g
}

// lgGoldenCase is a fit of the golden file: data, options and the pass
// forced (lgPathOverride).
type lgGoldenCase struct {
	name  string
	x     *mat.Dense
	y, w  []float64
	names []string
	opts  LogitOptions
	path  int
}

// lgGoldenCases are dense and sparse designs over several blocks with
// ragged last blocks, weights with zeros, aliased columns, no intercept,
// ridge, warm start, non-convergence and separation.
func lgGoldenCases() []lgGoldenCase {
	rng := rand.New(rand.NewPCG(77, 1))
	zeros := func(n int) []float64 {
		w := make([]float64, n)
		for i := range w {
			w[i] = float64(rng.IntN(4)) // a quarter zeros
		}
		return w
	}
	frac := func(n int) []float64 {
		w := make([]float64, n)
		for i := range w {
			if rng.IntN(5) > 0 {
				w[i] = 0.25 + 2*rng.Float64()
			}
		}
		return w
	}
	n := 3*lgBlock + 777
	xd, yd := lgSynth(101, n, []float64{-1.5, 0.5, -0.25, 1, 0, 0.3, -0.7})
	// Aliased: a constant and a linear combination of two columns.
	xa := mat.NewDense(n, 5, nil)
	for i := range n {
		a, b := xd.At(i, 0), xd.At(i, 1)
		xa.SetRow(i, []float64{a, 3, b, a - 2*b, xd.At(i, 2)})
	}
	ns := 4*lgBlock + 100
	xs, ys, nms := lgSparseDesign(7, ns)
	xsep, ysep, nsep := lgSeparated("quasi joint")
	xsep1, ysep1, nsep1 := lgSeparated("quasi single")
	wd, wf, ws := zeros(n), frac(n), zeros(ns)
	return []lgGoldenCase{
		{name: "dense", x: xd, y: yd},
		{name: "dense zero weights", x: xd, y: yd, w: wd},
		{name: "dense fractional weights", x: xd, y: yd, w: wf},
		{name: "dense no intercept", x: xd, y: yd, w: wd, opts: LogitOptions{NoIntercept: true}},
		{name: "dense ridge", x: xd, y: yd, w: wd, opts: LogitOptions{L2: 3}},
		{name: "dense warm start", x: xd, y: yd, w: wd, opts: LogitOptions{Start: []float64{-1, 0.4, math.NaN(), 0.9, 0.1, 0.2, -0.5}}},
		{name: "dense not converged", x: xd, y: yd, opts: LogitOptions{MaxIter: 2}},
		{name: "aliased", x: xa, y: yd, w: wd, names: []string{"a", "const", "b", "c", "d"}},
		{name: "sparse", x: xs, y: ys, w: ws, names: nms},
		{name: "sparse unweighted", x: xs, y: ys, names: nms},
		{name: "sparse no intercept", x: xs, y: ys, w: ws, names: nms, opts: LogitOptions{NoIntercept: true}},
		{name: "sparse forced dense", x: xs, y: ys, w: ws, names: nms, path: 1},
		{name: "dense forced sparse", x: xd, y: yd, w: wd, path: 2},
		{name: "separated", x: xsep, y: ysep, names: nsep},
		{name: "separated single", x: xsep1, y: ysep1, names: nsep1},
		{name: "drop separated", x: xsep, y: ysep, names: nsep, opts: LogitOptions{DropSeparated: true}},
		{name: "drop separated single", x: xsep1, y: ysep1, names: nsep1, opts: LogitOptions{DropSeparated: true}},
	}
}

// lgGoldenKernels returns the kernels to check: "fma" (when the CPU has
// them) and "go", or none off amd64/GOAMD64=v1.
func lgGoldenKernels(t *testing.T) map[string]bool {
	if runtime.GOARCH != "amd64" {
		t.Skipf("golden bits are for amd64, not %s", runtime.GOARCH)
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "GOAMD64" && s.Value != "v1" {
				t.Skipf("golden bits are for GOAMD64=v1, not %s", s.Value)
			}
		}
	}
	k := map[string]bool{"go": false}
	if lgUseFMA {
		k["fma"] = true
	}
	return k
}

func TestFitLogitGoldenBits(t *testing.T) {
	kernels := lgGoldenKernels(t)
	path := filepath.Join("testdata", "logit_bits.json")
	defer func(v bool, o int) { lgUseFMA, lgPathOverride = v, o }(lgUseFMA, lgPathOverride)
	got := map[string]map[string]lgGolden{}
	for kname, fma := range kernels {
		lgUseFMA = fma
		got[kname] = map[string]lgGolden{}
		for _, c := range lgGoldenCases() {
			lgPathOverride = c.path
			for _, workers := range []int{1, 3} {
				o := c.opts
				o.Workers = workers
				fit, err := FitLogit(context.Background(), c.x, c.y, c.w, c.names, &o)
				g := lgGoldenOf(fit, err)
				if workers == 1 {
					got[kname][c.name] = g
				} else {
					assert.Equal(t, got[kname][c.name], g, "%s %s: workers 3", kname, c.name)
				}
			}
		}
	}
	if *update {
		old := map[string]map[string]lgGolden{}
		if b, err := os.ReadFile(path); err == nil {
			require.NoError(t, json.Unmarshal(b, &old))
		}
		for k, v := range got {
			old[k] = v
		}
		b, err := json.MarshalIndent(old, "", " ")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, append(b, '\n'), 0o644))
		return
	}
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var want map[string]map[string]lgGolden
	require.NoError(t, json.Unmarshal(b, &want))
	for kname, cases := range got {
		require.Contains(t, want, kname)
		require.Len(t, cases, len(want[kname]))
		for name, g := range cases {
			assert.Equal(t, want[kname][name], g, "%s %s", kname, name)
		}
	}
}
