package psm

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

// subsetFit is the reference for FitLogit with DropSeparated: FitLogit on the
// rows not excluded and the columns kept, the data physically removed
// (Stata's logit after "x dropped and N obs not used").
func subsetFit(t *testing.T, x *mat.Dense, y []float64, names []string, dropRows map[int]bool, keepCols []int) *Logit {
	t.Helper()
	n, _ := x.Dims()
	var rows [][]float64
	var ys []float64
	for i := 0; i < n; i++ {
		if dropRows[i] {
			continue
		}
		var r []float64
		for _, j := range keepCols {
			r = append(r, x.At(i, j))
		}
		rows = append(rows, r)
		ys = append(ys, y[i])
	}
	xs := mat.NewDense(len(rows), len(keepCols), nil)
	for i, r := range rows {
		xs.SetRow(i, r)
	}
	var kn []string
	for _, j := range keepCols {
		kn = append(kn, names[j])
	}
	fit, err := FitLogit(context.Background(), xs, ys, nil, kn, nil)
	require.NoError(t, err)
	return fit.Logit
}

// requireSameFit compares coefficients and standard errors of two fits
// of the same model on the same units, once with excluded rows at weight
// 0 and once with them removed: equal to rounding (1e-9 relative; the
// row blocks of the passes differ).
func requireSameFit(t *testing.T, want, got *Logit) {
	t.Helper()
	require.Equal(t, want.Names, got.Names)
	for j := range want.Coef {
		require.InEpsilon(t, want.Coef[j], got.Coef[j], 1e-9, "coef %s", want.Names[j])
		require.InEpsilon(t, want.SE[j], got.SE[j], 1e-9, "se %s", want.Names[j])
	}
}

// TestFitLogitDropSeparated: a dummy that is 1 only for treated units
// separates quasi-completely; FitLogit refuses, FitLogit with DropSeparated
// drops it and the units it predicts perfectly (the limit of the
// likelihood, and Stata's rule), and the fit equals FitLogit on the other
// columns and the remaining rows.
func TestFitLogitDropSeparated(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 4))
	n := 2000
	x := mat.NewDense(n, 4, nil)
	y := make([]float64, n)
	onlyT, onlyC := map[int]bool{}, map[int]bool{}
	for i := 0; i < n; i++ {
		a, b := r.NormFloat64(), r.NormFloat64()
		if r.Float64() < 1/(1+2.7*2.7*(1+a*a)) {
			y[i] = 1
		}
		sep, sepC := 0.0, 0.0
		if y[i] == 1 && r.Float64() < 0.3 {
			sep = 1
			onlyT[i] = true
		}
		if y[i] == 0 && r.Float64() < 0.05 {
			sepC = 1 // 1 predicts "control" perfectly
			onlyC[i] = true
		}
		x.SetRow(i, []float64{a, sep, b, sepC})
	}
	names := []string{"a", "only_treated", "b", "only_controls"}
	_, err := FitLogit(ctx, x, y, nil, names, nil)
	var se *SeparationError
	require.ErrorAs(t, err, &se)
	require.Equal(t, []string{"only_treated", "only_controls"}, se.Columns)

	got, err := fitDropSep(ctx, x, y, nil, names, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"only_treated", "only_controls"}, got.Dropped)
	require.Equal(t, []string{"a", "b"}, got.Covariates)
	require.Len(t, got.Excluded, len(onlyT)+len(onlyC))
	for _, i := range got.Excluded {
		require.True(t, onlyT[i] || onlyC[i], "unit %d", i)
	}
	drop := map[int]bool{}
	for i := range onlyT {
		drop[i] = true
	}
	for i := range onlyC {
		drop[i] = true
	}
	requireSameFit(t, subsetFit(t, x, y, names, drop, []int{0, 2}), got.Logit)
	x2 := mat.NewDense(n, 2, nil)
	for i := 0; i < n; i++ {
		x2.SetRow(i, []float64{x.At(i, 0), x.At(i, 2)})
	}
	require.Equal(t, x2.RawMatrix().Data, mat.DenseCopyOf(got.X).RawMatrix().Data)

	// Scores: the limit probabilities 1 and 0 for the excluded units.
	sc := got.Scores(nil)
	pr := got.Logit.Predict(x2, nil)
	for i := range sc {
		switch {
		case onlyT[i]:
			require.Equal(t, 1.0, sc[i])
		case onlyC[i]:
			require.Equal(t, 0.0, sc[i])
		default:
			require.Equal(t, pr[i], sc[i])
		}
	}

	// Weights: a unit with weight 0 is not counted in the boundary, and
	// the caller's weights are not modified.
	w := make([]float64, n)
	for i := range w {
		w[i] = 1 + float64(i%3)
	}
	wCopy := append([]float64(nil), w...)
	gw, err := fitDropSep(ctx, x, y, w, names, nil)
	require.NoError(t, err)
	require.Equal(t, wCopy, w)
	require.Equal(t, got.Excluded, gw.Excluded)

	// A warm start loses the dropped columns' coefficients.
	gs, err := fitDropSep(ctx, x, y, nil, names, &LogitOptions{Start: []float64{-1, 0.1, 5, 0.2, -5}})
	require.NoError(t, err)
	for j := range got.Coef { // another start: the same MLE to the convergence tolerance
		require.InDelta(t, got.Coef[j], gs.Coef[j], 1e-6, got.Logit.Names[j])
	}

	// nil names: the default names x1, x2, ... are dropped
	got, err = fitDropSep(ctx, x, y, nil, nil, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"x2", "x4"}, got.Dropped)

	// nothing to drop: x itself is used
	got, err = fitDropSep(ctx, x2, y, nil, nil, nil)
	require.NoError(t, err)
	require.Same(t, x2, got.X)
	require.Empty(t, got.Dropped)
	require.Empty(t, got.Excluded)

	// other errors pass through
	_, err = fitDropSep(ctx, nil, y, nil, nil, nil)
	require.ErrorIs(t, err, ErrBadOption)
}

// TestFitLogit with DropSeparatedCombination: no single covariate separates,
// but d - e does (d=1,e=0 only treated; d=0,e=1 only controls): IRLS
// diverges before any fitted probability is numerically 0 or 1, so the
// diverging covariates are dropped and every unit kept (the documented
// fallback): the fit equals FitLogit without d and e.
func TestFitLogitDropSeparatedCombination(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(5, 6))
	n := 3000
	x := mat.NewDense(n, 3, nil)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		a := r.NormFloat64()
		var d, e float64
		switch k := r.IntN(10); {
		case k == 0:
			d, e, y[i] = 1, 0, 1
		case k == 1:
			d, e, y[i] = 0, 1, 0
		default:
			if k >= 6 {
				d, e = 1, 1
			}
			if r.Float64() < 1/(1+3*(1+a*a)) {
				y[i] = 1
			}
		}
		x.SetRow(i, []float64{a, d, e})
	}
	names := []string{"a", "d", "e"}
	_, err := FitLogit(ctx, x, y, nil, names, nil)
	require.ErrorIs(t, err, ErrSeparation)

	got, err := fitDropSep(ctx, x, y, nil, names, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"d", "e"}, got.Dropped)
	require.Empty(t, got.Excluded)
	requireSameFit(t, subsetFit(t, x, y, names, nil, []int{0}), got.Logit)
}

// TestFitLogit with DropSeparatedBoundary: a continuous covariate whose
// treated values all lie above the controls' except at a shared value
// (quasi-complete, found before fitting) leaves out the units off that
// value, as Stata's "x > c predicts data perfectly except for x == c
// subsample".
func TestFitLogitDropSeparatedBoundary(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(7, 8))
	n := 1500
	x := mat.NewDense(n, 2, nil)
	y := make([]float64, n)
	off := map[int]bool{}
	for i := 0; i < n; i++ {
		a := r.NormFloat64()
		if r.Float64() < 0.3 {
			y[i] = 1
		}
		v := 2.0 // the boundary value, both groups
		if r.Float64() < 0.2 {
			off[i] = true
			if y[i] == 1 {
				v = 2 + r.Float64()
			} else {
				v = 2 - r.Float64()
			}
		}
		x.SetRow(i, []float64{a, v})
	}
	names := []string{"a", "v"}
	got, err := fitDropSep(ctx, x, y, nil, names, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"v"}, got.Dropped)
	require.Len(t, got.Excluded, len(off))
	for _, i := range got.Excluded {
		require.True(t, off[i])
	}
	requireSameFit(t, subsetFit(t, x, y, names, off, []int{0}), got.Logit)
}

// Complete separation is an error, as in Stata.
func TestFitLogitDropSeparatedComplete(t *testing.T) {
	x := mat.NewDense(6, 2, []float64{0, 1, 1, 2, 0, 3, 1, 4, 0, 5, 1, 6})
	y := []float64{0, 1, 0, 1, 0, 1}
	_, err := fitDropSep(context.Background(), x, y, nil, []string{"sep", "z"}, nil)
	var se *SeparationError
	require.ErrorAs(t, err, &se)
	require.True(t, se.Complete)
}

// fitDropSep is FitLogit with LogitOptions.DropSeparated set.
func fitDropSep(ctx context.Context, x *mat.Dense, y, w []float64, names []string, opts *LogitOptions) (*LogitFit, error) {
	var o LogitOptions
	if opts != nil {
		o = *opts
	}
	o.DropSeparated = true
	return FitLogit(ctx, x, y, w, names, &o)
}
