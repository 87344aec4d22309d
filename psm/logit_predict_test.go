package psm

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

// lgLinearRef is the linear predictor formed row by row from At, one
// goroutine, the sum in column order: the numbers linearPredictor must
// give. With prob, R's plogis of it.
func lgLinearRef(l *Logit, x mat.Matrix, prob bool) []float64 {
	n, p := x.Dims()
	off, b0 := 0, 0.0
	if l.Intercept {
		off, b0 = 1, l.Coef[0]
	}
	out := make([]float64, n)
	for i := range n {
		s := b0
		for j := range p {
			b := l.Coef[off+j]
			if math.IsNaN(b) {
				b = 0
			}
			s += b * x.At(i, j)
		}
		if prob {
			if s >= 0 {
				s = 1 / (1 + math.Exp(-s))
			} else {
				t := math.Exp(s)
				s = t / (1 + t)
			}
		}
		out[i] = s
	}
	return out
}

// TestLogitLinearPredictorWorkers: linearPredictor and predict on any
// number of goroutines equal the one-goroutine row-by-row reference bit
// for bit, on random uint8, int16 and float64 columns read from a
// *mat.Dense, from typed columns in chunks of several sizes (aligned with
// the blocks of lgBlock rows and not) and through random column
// selections, with aliased (NaN) coefficients, on row counts from 1 to
// several blocks, and with dst reused (its old values must not show).
func TestLogitLinearPredictorWorkers(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 5))
	for trial := range 12 {
		n := 1 + rng.IntN(3*lgBlock+500)
		if trial == 0 {
			n = 1
		}
		p := 1 + rng.IntN(12)
		x := mat.NewDense(n, p, nil)
		for j := range p {
			kind, sparse := rng.IntN(3), rng.IntN(2) == 0
			for i := range n {
				if sparse && rng.IntN(5) > 0 {
					continue
				}
				switch kind {
				case 0:
					x.Set(i, j, float64(rng.IntN(256)))
				case 1:
					x.Set(i, j, float64(rng.IntN(65536)-32768))
				default:
					x.Set(i, j, rng.NormFloat64()*50)
				}
			}
		}
		var cols []int
		q := p
		if trial%3 != 0 {
			cols, q = tsRandomCols(rng, p, func() bool { return rng.IntN(2) == 0 })
		}
		icpt := trial%2 == 0
		l := &Logit{Intercept: icpt}
		for range q + map[bool]int{true: 1, false: 0}[icpt] {
			l.Coef = append(l.Coef, rng.NormFloat64())
		}
		if len(l.Coef) > 1 {
			l.Coef[rng.IntN(len(l.Coef))] = math.NaN()
		}
		var ref mat.Matrix = x
		if cols != nil {
			ref = lgCols(x, cols)
		}
		wantEta, wantP := lgLinearRef(l, ref, false), lgLinearRef(l, ref, true)
		for _, ch := range []int{lgBlock, 1000, lgSub, 5000, 2 * lgBlock} {
			var src mat.Matrix = x
			if ch != 2*lgBlock { // 2*lgBlock: the *mat.Dense itself
				src = newTypedStore(x, ch)
			}
			if cols != nil {
				src = selectColumns(src, cols)
			}
			for _, workers := range []int{1, 2, 3, 8, 0} {
				msg := fmt.Sprintf("trial %d n %d p %d cols %v chunk %d workers %d", trial, n, p, cols, ch, workers)
				dst := make([]float64, n)
				for i := range dst {
					dst[i] = math.NaN()
				}
				got := l.linearPredictor(src, dst, workers, false)
				for i := range wantEta {
					require.Equal(t, math.Float64bits(wantEta[i]), math.Float64bits(got[i]), "%s: eta row %d", msg, i)
				}
				for i := range dst {
					dst[i] = math.NaN()
				}
				got = l.predict(src, dst, workers)
				for i := range wantP {
					require.Equal(t, math.Float64bits(wantP[i]), math.Float64bits(got[i]), "%s: prob row %d", msg, i)
				}
			}
		}
	}
}

// TestLogitFitScoresWorkers: LogitFit.Scores, whose linear predictor runs
// on the fit's Workers, gives the same bits for every Workers and equals
// Predict on one goroutine (no unit is excluded here).
func TestLogitFitScoresWorkers(t *testing.T) {
	n := 2*lgBlock + 77
	x, y, names := lgSparseDesign(95, n)
	st := newTypedStore(x, lgBlock)
	var want []float64
	for _, workers := range []int{1, 2, 5, 0} {
		fit, err := FitLogit(context.Background(), st, y, nil, names, &LogitOptions{Workers: workers})
		require.NoError(t, err)
		require.Empty(t, fit.Excluded)
		got := fit.Scores(nil)
		ref := fit.Logit.Predict(x, nil)
		for i := range ref {
			require.Equal(t, math.Float64bits(ref[i]), math.Float64bits(got[i]), "workers %d row %d", workers, i)
		}
		if want == nil {
			want = got
		}
		require.Equal(t, want, got, "workers %d", workers)
	}
}
