package estimate

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/psmeval/psmeval/psm"
)

// With EstimatedScore every SE of the whole sample equals
// psm.ScoreAdjuster's on the month's outcome (monthly) and on the
// cumulated outcome (accumulated), to 1e-12; a subgroup's equals the
// adjuster restricted to its units. psm.ScoreAdjuster is checked by
// hand and by Monte Carlo in package psm.
func TestAbadieImbensEstimatedScore(t *testing.T) {
	s, x := synthSample(300, 1200, 3, 16)
	X := mat.NewDense(s.Len(), 1, x)
	w := make([]float64, s.Len())
	for u, tr := range s.Treated {
		if tr {
			w[u] = 1
		}
	}
	fit, err := psm.FitLogit(context.Background(), X, w, nil, nil, nil)
	require.NoError(t, err)
	score := fit.Predict(X, nil)
	pm, err := psm.MatchUnits(score, s.Treated, nil)
	require.NoError(t, err)
	plain, err := AbadieImbens(s, pm, nil)
	require.NoError(t, err)
	res, err := AbadieImbens(s, pm, &AbadieImbensOptions{EstimatedScore: &EstimatedScore{X: X, Fit: fit.Logit}})
	require.NoError(t, err)
	assert.Equal(t, "abadie-imbens-2016", res.Method)
	H1 := s.Outcomes[0].H + 1
	for _, lev := range []int32{-1, 1} {
		var inc []bool
		sub, grp := "", ""
		if lev >= 0 {
			sub, grp = "half", s.Subgroups[0].Levels[lev]
			inc = make([]bool, s.Len())
			for u := range inc {
				inc[u] = s.Subgroups[0].Code[u] == lev
			}
		}
		a, err := psm.NewScoreAdjuster(X, s.Treated, fit.Logit, &psm.ScoreAdjustOptions{Include: inc})
		require.NoError(t, err)
		got, pl := res.Find("y", sub, grp), plain.Find("y", sub, grp)
		acc := make([]float64, s.Len())
		for m := 0; m < H1; m++ {
			y := make([]float64, s.Len())
			for u := range y {
				y[u] = s.Outcomes[0].Y[u*H1+m]
				if m > 0 {
					acc[u] += y[u]
				}
			}
			r := psm.ATTResult{ATT: pl.Effects[m].ATT, SE: pl.Monthly[m].SE}
			want, err := a.Adjust(y, r)
			require.NoError(t, err)
			assert.InDelta(t, want.SE, got.Monthly[m].SE, 1e-12, "group %d month %d", lev, m)
			r = psm.ATTResult{ATT: pl.Effects[m].Accumulated, SE: pl.Accumulated[m].SE}
			want, err = a.Adjust(acc, r)
			require.NoError(t, err)
			if m == 0 {
				assert.Equal(t, 0.0, got.Accumulated[m].SE)
				continue
			}
			assert.InDelta(t, want.SE, got.Accumulated[m].SE, 1e-12, "group %d accumulated month %d", lev, m)
			assert.False(t, math.IsNaN(got.Accumulated[m].Normal.Lo))
		}
	}

	// exact strata in the matching: the adjuster searches neighbours
	// within them (psm.ScoreAdjustOptions.Strata)
	strata := make([]int32, s.Len())
	for u := range strata {
		strata[u] = int32(u % 3)
	}
	sm, err := psm.MatchUnits(score, s.Treated, &psm.UnitOptions{Strata: strata})
	require.NoError(t, err)
	splain, err := AbadieImbens(s, sm, nil)
	require.NoError(t, err)
	sres, err := AbadieImbens(s, sm, &AbadieImbensOptions{EstimatedScore: &EstimatedScore{X: X, Fit: fit.Logit}})
	require.NoError(t, err)
	sa, err := psm.NewScoreAdjuster(X, s.Treated, fit.Logit, &psm.ScoreAdjustOptions{Strata: strata})
	require.NoError(t, err)
	got := sres.Find("y", "", "")
	sameMonthlySE(t, s, sa, got, splain.Find("y", "", ""), "strata")
	for m := 0; m < H1; m++ {
		assert.NotEqual(t, res.Find("y", "", "").Monthly[m].SE, got.Monthly[m].SE, "strata, month %d", m)
	}

	// PlugIn and NoDerivativeTerm reach the adjuster
	for _, es := range []EstimatedScore{{PlugIn: true}, {NoDerivativeTerm: true}} {
		es.X, es.Fit = X, fit.Logit
		ores, err := AbadieImbens(s, pm, &AbadieImbensOptions{EstimatedScore: &es})
		require.NoError(t, err)
		oa, err := psm.NewScoreAdjuster(X, s.Treated, fit.Logit, &psm.ScoreAdjustOptions{PlugIn: es.PlugIn, NoDerivativeTerm: es.NoDerivativeTerm})
		require.NoError(t, err)
		sameMonthlySE(t, s, oa, ores.Find("y", "", ""), plain.Find("y", "", ""), fmt.Sprintf("%+v", es))
	}

	// bad input: wrong rows, missing fit, bad L
	for _, es := range []*EstimatedScore{
		{X: mat.NewDense(3, 1, nil), Fit: fit.Logit},
		{X: X},
		{X: X, Fit: fit.Logit, L: 1},
	} {
		_, err := AbadieImbens(s, pm, &AbadieImbensOptions{EstimatedScore: es})
		assert.ErrorIs(t, err, ErrInvalid)
	}
}

// sameMonthlySE checks every monthly SE of got (outcome "y" of s) against
// the adjuster a on the month's outcome, with the ATT and SE of the
// unadjusted series plain, to 1e-12.
func sameMonthlySE(t *testing.T, s *Sample, a *psm.ScoreAdjuster, got, plain *Series, what string) {
	t.Helper()
	H1 := s.Outcomes[0].H + 1
	for m := 0; m < H1; m++ {
		y := make([]float64, s.Len())
		for u := range y {
			y[u] = s.Outcomes[0].Y[u*H1+m]
		}
		want, err := a.Adjust(y, psm.ATTResult{ATT: plain.Effects[m].ATT, SE: plain.Monthly[m].SE})
		require.NoError(t, err)
		assert.InDelta(t, want.SE, got.Monthly[m].SE, 1e-12, "%s, month %d", what, m)
	}
}
