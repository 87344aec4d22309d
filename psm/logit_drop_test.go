package psm

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

// TestFitLogitDropSeparated: a dummy that is 1 only for treated units
// separates (quasi-completely); FitLogit refuses, FitLogitDropSeparated
// drops it and returns exactly FitLogit's fit on the other columns (the
// reference: the same fit without the column).
func TestFitLogitDropSeparated(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 4))
	n := 2000
	x := mat.NewDense(n, 3, nil)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		a, b := r.NormFloat64(), r.NormFloat64()
		if r.Float64() < 1/(1+2.7*2.7*(1+a*a)) {
			y[i] = 1
		}
		sep := 0.0
		if y[i] == 1 && r.Float64() < 0.3 {
			sep = 1
		}
		x.SetRow(i, []float64{a, sep, b})
	}
	names := []string{"a", "only_treated", "b"}
	_, err := FitLogit(ctx, x, y, nil, names, nil)
	var se *SeparationError
	require.ErrorAs(t, err, &se)
	require.Equal(t, []string{"only_treated"}, se.Columns)

	got, err := FitLogitDropSeparated(ctx, x, y, nil, names, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"only_treated"}, got.Dropped)
	require.Equal(t, []string{"a", "b"}, got.Names)
	x2 := mat.NewDense(n, 2, nil)
	for i := 0; i < n; i++ {
		x2.SetRow(i, []float64{x.At(i, 0), x.At(i, 2)})
	}
	require.Equal(t, x2.RawMatrix().Data, got.X.RawMatrix().Data)
	want, err := FitLogit(ctx, x2, y, nil, []string{"a", "b"}, nil)
	require.NoError(t, err)
	require.Equal(t, want.Coef, got.Coef)
	require.Equal(t, want.SE, got.SE)

	// nil names: the default names x1, x2, ... are dropped
	got, err = FitLogitDropSeparated(ctx, x, y, nil, nil, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"x2"}, got.Dropped)

	// nothing to drop: x itself is used
	got, err = FitLogitDropSeparated(ctx, x2, y, nil, nil, nil)
	require.NoError(t, err)
	require.Same(t, x2, got.X)
	require.Empty(t, got.Dropped)

	// other errors pass through
	_, err = FitLogitDropSeparated(ctx, nil, y, nil, nil, nil)
	require.ErrorIs(t, err, ErrLogitArgs)
}
