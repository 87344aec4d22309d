package psm

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

// refitData: covariates a, b (continuous) and a dummy d that is 1 for
// 2 % of the units, 1 unit in 12 treated; unit weights w of 1 or 2.
func refitData(n int) (*mat.Dense, []float64, []float64) {
	r := rand.New(rand.NewPCG(8, 1))
	x := mat.NewDense(n, 3, nil)
	y := make([]float64, n)
	w := make([]float64, n)
	for i := 0; i < n; i++ {
		a, b := r.NormFloat64(), r.NormFloat64()
		d := 0.0
		if r.Float64() < 0.02 {
			d = 1
		}
		if r.Float64() < 1/(1+math.Exp(2.4-0.5*a+0.3*b)) {
			y[i] = 1
		}
		x.SetRow(i, []float64{a, b, d})
		w[i] = float64(1 + r.IntN(2))
	}
	return x, y, w
}

// Refit with all replicate weights 1 is the original fit; with counts it
// equals FitLogit on the rows repeated that many times (an independent
// path: no weights, a cold start); a replicate in which the dummy meets
// no treated unit separates and is handled as DropSeparated does; one
// with complete separation gets the ridge fit.
func TestLogitFitRefit(t *testing.T) {
	ctx := context.Background()
	n := 3000
	x, y, w := refitData(n)
	names := []string{"a", "b", "d"}
	f, err := FitLogit(ctx, x, y, w, names, &LogitOptions{DropSeparated: true})
	require.NoError(t, err)
	require.Empty(t, f.Dropped, "the full sample must not separate")
	want := f.Scores(nil)

	ones := make([]float64, n)
	for i := range ones {
		ones[i] = 1
	}
	got, info, err := f.Refit(ctx, ones, nil, nil)
	require.NoError(t, err)
	require.Equal(t, RefitInfo{}, info)
	// tolerance: IRLS stops at a relative deviance change of 1e-8 (R's
	// glm.control), so fits from different starts agree to about 1e-8
	for i := range want {
		require.InDelta(t, want[i], got[i], 1e-7, "unit %d", i)
	}

	// counts: 0, 1 or 2 per unit, never 0 on a treated unit with d = 1
	r := rand.New(rand.NewPCG(2, 2))
	cnt := make([]float64, n)
	var rows []int
	for i := range cnt {
		cnt[i] = float64(r.IntN(3))
		if y[i] == 1 && x.At(i, 2) == 1 && cnt[i] == 0 {
			cnt[i] = 1
		}
		for range int(cnt[i] * w[i]) {
			rows = append(rows, i)
		}
	}
	got, info, err = f.Refit(ctx, cnt, nil, nil)
	require.NoError(t, err)
	require.False(t, info.Ridge)
	xe := mat.NewDense(len(rows), 3, nil)
	ye := make([]float64, len(rows))
	for k, i := range rows {
		xe.SetRow(k, x.RawRowView(i))
		ye[k] = y[i]
	}
	ref, err := FitLogit(ctx, xe, ye, nil, names, &LogitOptions{DropSeparated: true})
	require.NoError(t, err)
	refScores := ref.Predict(x, nil)
	for i := range got {
		require.InDelta(t, refScores[i], got[i], 1e-7, "unit %d", i)
	}

	// no treated unit with d = 1 in the replicate: d separates
	for i := range cnt {
		if y[i] == 1 && x.At(i, 2) == 1 {
			cnt[i] = 0
		}
	}
	got, info, err = f.Refit(ctx, cnt, nil, nil)
	require.NoError(t, err)
	require.Equal(t, RefitInfo{Separated: true}, info)
	for i := range got {
		if x.At(i, 2) == 1 && cnt[i] > 0 {
			require.Equal(t, 0.0, got[i], "unit %d, predicted a control", i)
		}
	}

	// complete separation by a: ridge
	for i := range cnt {
		cnt[i] = 0
		if (y[i] == 1) == (x.At(i, 0) > 0) {
			cnt[i] = 1
		}
	}
	got, info, err = f.Refit(ctx, cnt, nil, &RefitOptions{RidgeL2: 2})
	require.NoError(t, err)
	require.True(t, info.Ridge)
	for i, v := range got {
		require.True(t, v > 0 && v < 1, "unit %d: %v", i, v)
	}

	_, _, err = f.Refit(ctx, cnt[:5], nil, nil)
	var ie *InputError
	require.True(t, errors.As(err, &ie) && ie.Field == "r" && errors.Is(err, ErrBadOption), "%v", err)
}
