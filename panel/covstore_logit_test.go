package panel_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/psmeval/psmeval/panel"
	"github.com/psmeval/psmeval/psm"
)

// TestFitLogitCovStore: psm.FitLogit reads a CovStore block by block and
// gives the same bits as on the equivalent *mat.Dense: coefficients,
// standard errors, deviance, scores, with and without DropSeparated (a
// column selection of the store), with 1 and 2 workers. The data have
// uint8, int16 and float64 chunk columns, mostly-zero dummies (the
// sparse pass) and more rows than one chunk.
func TestFitLogitCovStore(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	n, p := 3*panel.CovChunk+123, 12
	x := mat.NewDense(n, p, nil)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		row := []float64{
			float64(rnd.IntN(2)),                // dummy
			float64(rnd.IntN(60)),               // count (uint8)
			float64(rnd.IntN(700) - 300),        // int16
			rnd.NormFloat64(),                   // float64
			f01(rnd.IntN(20) == 0),              // mostly zero
			f01(rnd.IntN(25) == 0),              // mostly zero
			f01(rnd.IntN(30) == 0),              // mostly zero
			float64(rnd.IntN(3)) * f01(i < n/2), // zero in later chunks
			f01(rnd.IntN(40) == 0),              // mostly zero
			f01(rnd.IntN(45) == 0),              // mostly zero
			f01(rnd.IntN(50) == 0),              // mostly zero
			0,                                   // separating (set below)
		}
		eta := -1 + 0.5*row[0] + 0.02*row[1] + 0.001*row[2] + 0.3*row[3] + 0.4*row[4]
		if rnd.Float64() < 1/(1+math.Exp(-eta)) {
			y[i] = 1
		}
		if y[i] == 1 && rnd.IntN(50) == 0 {
			row[p-1] = 1 // only treated have 1: quasi-separation
		}
		x.SetRow(i, row)
	}
	s := panel.NewCovStore(x)
	for _, drop := range []bool{false, true} {
		for _, workers := range []int{1, 2} {
			opts := &psm.LogitOptions{Workers: workers, DropSeparated: drop}
			xd, xs := mat.Matrix(x), mat.Matrix(s)
			if !drop { // without DropSeparated the last column separates: leave it out
				xd, xs = x.Slice(0, n, 0, p-1), s.Slice(0, n, 0, p-1)
			}
			want, err := psm.FitLogit(context.Background(), xd, y, nil, nil, opts)
			if err != nil {
				t.Fatalf("drop %v workers %d: Dense: %v", drop, workers, err)
			}
			got, err := psm.FitLogit(context.Background(), xs, y, nil, nil, opts)
			if err != nil {
				t.Fatalf("drop %v workers %d: CovStore: %v", drop, workers, err)
			}
			if drop && len(want.Dropped)+len(want.Excluded) == 0 {
				t.Fatalf("drop: nothing dropped or excluded; the test data do not exercise DropSeparated")
			}
			same := func(what string, a, b []float64) {
				t.Helper()
				if len(a) != len(b) {
					t.Fatalf("drop %v workers %d: %s: %d vs %d values", drop, workers, what, len(a), len(b))
				}
				for k := range a {
					if math.Float64bits(a[k]) != math.Float64bits(b[k]) {
						t.Fatalf("drop %v workers %d: %s[%d] = %v on the store, %v on Dense", drop, workers, what, k, b[k], a[k])
					}
				}
			}
			same("Coef", want.Coef, got.Coef)
			same("SE", want.SE, got.SE)
			same("Deviance", []float64{want.Deviance, want.NullDeviance}, []float64{got.Deviance, got.NullDeviance})
			same("Scores", want.Scores(nil), got.Scores(nil))
			same("LinearPredictor", want.LinearPredictor(want.X, nil), got.LinearPredictor(got.X, nil))
			if want.Iterations != got.Iterations || len(want.Excluded) != len(got.Excluded) {
				t.Fatalf("drop %v workers %d: iterations %d/%d, excluded %d/%d", drop, workers,
					want.Iterations, got.Iterations, len(want.Excluded), len(got.Excluded))
			}
		}
	}
}

func f01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
