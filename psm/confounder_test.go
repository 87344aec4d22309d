package psm

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/psmeval/psmeval/internal/rng"
)

// confData: covariate a, a binary confounder v that raises both the
// treatment and the binary outcome, and no treatment effect (y does not
// depend on the treatment: the true ATT is 0).
func confData(n int) (a, v, tr, y []float64) {
	r := rand.New(rand.NewPCG(5, 5))
	lg := func(z float64) float64 { return 1 / (1 + math.Exp(-z)) }
	for i := 0; i < n; i++ {
		ai := r.NormFloat64()
		vi := 0.0
		if r.Float64() < 0.4 {
			vi = 1
		}
		ti, yi := 0.0, 0.0
		if r.Float64() < lg(-1+0.5*ai+1.2*vi) {
			ti = 1
		}
		if r.Float64() < lg(-0.5+0.6*ai+1.5*vi) {
			yi = 1
		}
		a, v, tr, y = append(a, ai), append(v, vi), append(tr, ti), append(y, yi)
	}
	return
}

// pipelineATT is FitLogit + Match + ATT on the columns given.
func pipelineATT(t *testing.T, cols [][]float64, tr, y []float64) float64 {
	n := len(tr)
	x := mat.NewDense(n, len(cols), nil)
	for j, c := range cols {
		for i, v := range c {
			x.Set(i, j, v)
		}
	}
	fit, err := FitLogit(context.Background(), x, tr, nil, nil, nil)
	require.NoError(t, err)
	sc := fit.Scores(nil)
	var st, scn, yt, yc []float64
	for i := range tr {
		if tr[i] == 1 {
			st, yt = append(st, sc[i]), append(yt, y[i])
		} else {
			scn, yc = append(scn, sc[i]), append(yc, y[i])
		}
	}
	m, err := Match(st, scn, nil)
	require.NoError(t, err)
	r, err := ATT(yt, yc, m, nil)
	require.NoError(t, err)
	return r.ATT
}

// cellsOf returns the empirical P(v = 1 | T, Y).
func cellsOf(v, tr, y []float64) ConfounderCells {
	var s, c [2][2]float64
	for i := range v {
		s[int(tr[i])][int(y[i])] += v[i]
		c[int(tr[i])][int(y[i])]++
	}
	return ConfounderCells{P11: s[1][1] / c[1][1], P10: s[1][0] / c[1][0], P01: s[0][1] / c[0][1], P00: s[0][0] / c[0][0]}
}

// A simulated U with the cells of a real omitted confounder v moves the
// estimate most of the way from the naive ATT (without v) to the ATT
// with v (Ichino, Mealli and Nannicini 2008, the method's premise), and
// its odds ratios show a strong U; a U independent of T and Y leaves odds
// ratios of 1. Workers do not change the bits.
func TestSimulatedConfounderRecoversOmittedConfounder(t *testing.T) {
	ctx := context.Background()
	a, v, tr, y := confData(4000)
	naive := pipelineATT(t, [][]float64{a}, tr, y)
	withV := pipelineATT(t, [][]float64{a, v}, tr, y)
	require.Greater(t, naive-withV, 0.05, "the omitted confounder must bias the naive estimate")
	x := mat.NewDense(len(a), 1, a)
	cells := cellsOf(v, tr, y)
	opts := &SimulatedConfounderOptions{Draws: 40, Seed: 3, Workers: 1}
	res, err := SimulatedConfounder(ctx, x, []string{"a"}, tr, y, cells, opts)
	require.NoError(t, err)
	t.Logf("naive %.4f, with v %.4f, simulated U %.4f (se %.4f), Γ %.2f, Λ %.2f", naive, withV, res.ATT, res.SE, res.OutcomeOddsRatio, res.SelectionOddsRatio)
	// tolerance: U is v's cell-level copy, not v itself, so it removes
	// most, not all, of the bias
	require.Less(t, math.Abs(res.ATT-withV), 0.5*math.Abs(naive-withV))
	require.Greater(t, res.OutcomeOddsRatio, 2.0)
	require.Greater(t, res.SelectionOddsRatio, 2.0)
	require.Greater(t, res.SE, res.WithinSE)

	opts.Workers = 2
	res2, err := SimulatedConfounder(ctx, x, []string{"a"}, tr, y, cells, opts)
	require.NoError(t, err)
	require.Equal(t, res.Draws, res2.Draws)
	require.Equal(t, res.ATT, res2.ATT)

	// U independent of T and Y: odds ratios near 1 (the log odds ratio
	// of one draw has a standard error of about 0.07 here, its mean over
	// 40 draws about 0.012)
	ind, err := SimulatedConfounder(ctx, x, []string{"a"}, tr, y, ConfounderCells{0.3, 0.3, 0.3, 0.3}, opts)
	require.NoError(t, err)
	require.InDelta(t, 1, ind.OutcomeOddsRatio, 0.05)
	require.InDelta(t, 1, ind.SelectionOddsRatio, 0.05)
}

// Draw r is FitLogit + Match + ATT with U drawn as documented: uniform
// 53-bit doubles from the PCG keyed by (rng.ReplicateKey(Seed, r),
// "confound"), one per unit in order, U = 1 below the cell's
// probability; here fitted from a cold start (an independent path; the
// draws start at the fit without U, so the scores agree to the IRLS
// tolerance, about 1e-8).
func TestSimulatedConfounderDrawIsPipeline(t *testing.T) {
	a, _, tr, y := confData(1500)
	cells := ConfounderCells{0.7, 0.5, 0.4, 0.2}
	x := mat.NewDense(len(a), 1, a)
	res, err := SimulatedConfounder(context.Background(), x, nil, tr, y, cells, &SimulatedConfounderOptions{Draws: 3, Seed: 9})
	require.NoError(t, err)
	for r := range 3 {
		g := rand.NewPCG(rng.ReplicateKey(9, r), 0x636f6e666f756e64)
		u := make([]float64, len(a))
		for i := range u {
			if float64(g.Uint64()>>11)*0x1p-53 < cells.p(tr[i] == 1, y[i] == 1) {
				u[i] = 1
			}
		}
		require.InDelta(t, pipelineATT(t, [][]float64{a, u}, tr, y), res.Draws[r], 1e-6, "draw %d", r)
	}
	// Rubin's rules
	mean := (res.Draws[0] + res.Draws[1] + res.Draws[2]) / 3
	var b2, w2 float64
	for r := range 3 {
		b2 += (res.Draws[r] - mean) * (res.Draws[r] - mean) / 2
		w2 += res.DrawSE[r] * res.DrawSE[r] / 3
	}
	require.InDelta(t, mean, res.ATT, 1e-15)
	require.InDelta(t, math.Sqrt(w2+(1+1.0/3)*b2), res.SE, 1e-15)
}

func TestSimulatedConfounderBadInput(t *testing.T) {
	a, _, tr, y := confData(200)
	x := mat.NewDense(len(a), 1, a)
	ok := ConfounderCells{0.5, 0.5, 0.5, 0.5}
	y2 := slices.Clone(y)
	y2[7] = 2
	tr2 := slices.Clone(tr)
	tr2[3] = 0.5
	th := 1.5
	cases := []struct {
		name  string
		cells ConfounderCells
		tr, y []float64
		opts  *SimulatedConfounderOptions
		field string
		err   error
	}{
		{"probability above 1", ConfounderCells{1.2, 0.5, 0.5, 0.5}, tr, y, nil, "cells.P11", ErrBadOption},
		{"NaN probability", ConfounderCells{0.5, 0.5, math.NaN(), 0.5}, tr, y, nil, "cells.P01", ErrBadOption},
		{"one draw", ok, tr, y, &SimulatedConfounderOptions{Draws: 1}, "Draws", ErrBadOption},
		{"non-binary outcome", ok, tr, y2, nil, "y", ErrBadValue},
		{"treatment 0.5", ok, tr2, y, nil, "treated", ErrNotBinary},
		{"outcome length", ok, tr, y[:9], nil, "y", ErrBadOption},
		{"weights length", ok, tr, y, &SimulatedConfounderOptions{Match: MatchOptions{ControlWeights: []float64{1}}}, "ControlWeights", ErrBadOption},
	}
	for _, c := range cases {
		_, err := SimulatedConfounder(context.Background(), x, nil, c.tr, c.y, c.cells, c.opts)
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != c.field || !errors.Is(err, c.err) {
			t.Errorf("%s: %v, want an InputError on %s wrapping %v", c.name, err, c.field, c.err)
		}
	}
	// a threshold makes a count outcome binary
	_, err := SimulatedConfounder(context.Background(), x, nil, tr, y2, ok, &SimulatedConfounderOptions{Draws: 2, Threshold: &th})
	require.NoError(t, err)
}

// The killer search: on the data with an omitted confounder the naive
// effect is significant; growing simulated confounders explain it away
// at some grid point, which is the first in the documented order whose
// interval covers 0 or whose sign flips; the grid skips cells above 1.
func TestSearchConfounder(t *testing.T) {
	a, _, tr, y := confData(3000)
	x := mat.NewDense(len(a), 1, a)
	res, err := SearchConfounder(context.Background(), x, []string{"a"}, tr, y, &ConfounderSearchOptions{
		Base: 0.3, Steps: []float64{0, 0.2, 0.4}, Confounder: SimulatedConfounderOptions{Draws: 10, Seed: 2}})
	require.NoError(t, err)
	require.Greater(t, math.Abs(res.ATT), 1.96*res.SE, "the naive effect must be significant")
	require.True(t, res.Significant)
	// 0.3 + 0.4 + 0.4 > 1: that point is skipped
	require.Len(t, res.Results, 8)
	for i := 1; i < len(res.D); i++ {
		prev, cur := res.D[i-1]+res.S[i-1], res.D[i]+res.S[i]
		require.True(t, prev < cur || (prev == cur && res.D[i-1] <= res.D[i]), "order at %d", i)
	}
	require.GreaterOrEqual(t, res.Killer, 0, "no confounder on the grid explains the effect away")
	k := res.Results[res.Killer]
	require.True(t, math.Abs(k.ATT) <= 1.959963984540054*k.SE || k.ATT*res.ATT < 0)
	for _, r := range res.Results[:res.Killer] {
		require.False(t, math.Abs(r.ATT) <= 1.959963984540054*r.SE || r.ATT*res.ATT < 0)
	}
	// U independent of T and Y (d = s = 0) first
	require.Equal(t, 0.0, res.D[0]+res.S[0])
	_, err = SearchConfounder(context.Background(), x, nil, tr, y, &ConfounderSearchOptions{Base: 1.2})
	var ie *InputError
	require.True(t, errors.As(err, &ie) && ie.Field == "Base", "%v", err)
}

// Weights: a unit with weight 0 is out of both logits and not matched;
// draw r equals that pipeline done by hand (cold start, IRLS tolerance).
func TestSimulatedConfounderWeights(t *testing.T) {
	a, _, tr, y := confData(1500)
	n := len(a)
	w := make([]float64, n)
	for i := range w {
		w[i] = 1
		if i%5 == 0 {
			w[i] = 0
		}
	}
	cells := ConfounderCells{0.7, 0.5, 0.4, 0.2}
	x := mat.NewDense(n, 1, a)
	res, err := SimulatedConfounder(context.Background(), x, nil, tr, y, cells, &SimulatedConfounderOptions{Draws: 2, Seed: 4, Weights: w})
	require.NoError(t, err)
	for r := range 2 {
		g := rand.NewPCG(rng.ReplicateKey(4, r), 0x636f6e666f756e64)
		xa := mat.NewDense(n, 2, nil)
		for i := range n {
			u := 0.0
			if float64(g.Uint64()>>11)*0x1p-53 < cells.p(tr[i] == 1, y[i] == 1) {
				u = 1
			}
			xa.Set(i, 0, a[i])
			xa.Set(i, 1, u)
		}
		fit, err := FitLogit(context.Background(), xa, tr, w, nil, nil)
		require.NoError(t, err)
		sc := fit.Scores(nil)
		var st, scn, yt, yc, wt, wcn []float64
		for i := range n {
			if tr[i] == 1 {
				st, yt, wt = append(st, sc[i]), append(yt, y[i]), append(wt, w[i])
			} else {
				scn, yc, wcn = append(scn, sc[i]), append(yc, y[i]), append(wcn, w[i])
			}
		}
		m, err := Match(st, scn, &MatchOptions{TreatedWeights: wt, ControlWeights: wcn})
		require.NoError(t, err)
		want, err := ATT(yt, yc, m, nil)
		require.NoError(t, err)
		require.InDelta(t, want.ATT, res.Draws[r], 1e-6, "draw %d", r)
	}
	_, err = SimulatedConfounder(context.Background(), x, nil, tr, y, cells, &SimulatedConfounderOptions{Weights: w[:9]})
	var ie *InputError
	require.True(t, errors.As(err, &ie) && ie.Field == "Weights", "%v", err)
}
