package estimate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/psmeval/psmeval/psm"
)

// synthZ returns covariates for the units of synthSample: the score x
// itself (which drives the outcome) and a noise column.
func synthZ(x []float64, seed uint64) *mat.Dense {
	r := rand.New(rand.NewPCG(seed, 7))
	z := mat.NewDense(len(x), 2, nil)
	for u, v := range x {
		z.Set(u, 0, v)
		z.Set(u, 1, r.NormFloat64())
	}
	return z
}

// In the whole sample and in every subgroup, every monthly and
// accumulated bias-corrected effect and its SE equal psm.BiasAdjustedATT
// on a matching of the group's treated alone (with replacement the sets
// are the same) and on the monthly or cumulated outcome. psm's estimator
// is checked against R Matching::Match(BiasAdjust = TRUE) in package psm.
// Tolerance 1e-10 absolute (the same computation on other slices; the
// accumulated estimate is a running sum of monthly ones).
//
// With the noise column on a 1e-5 scale the regression gets R's ridge,
// which shrinks its slope visibly; the ridge depends on the number of
// units (the group's treated and all controls), so this checks that a
// subgroup's estimate is R's on the group's treated alone.
func TestBiasAdjustedSubgroupsAndAccumulated(t *testing.T) {
	for _, scale := range []float64{1, 1e-5} {
		t.Run(fmt.Sprint("scale ", scale), func(t *testing.T) { testBiasAdjustedGroups(t, scale) })
	}
}

func testBiasAdjustedGroups(t *testing.T, scale float64) {
	s, x := synthSample(300, 1200, 4, 13)
	z := synthZ(x, 1)
	for u := 0; u < s.Len(); u++ {
		z.Set(u, 1, scale*z.At(u, 1))
	}
	ridge := false
	// coarse scores: ties
	xc := make([]float64, len(x))
	for u, v := range x {
		xc[u] = math.Round(v*200) / 200
	}
	pm, err := psm.MatchUnits(xc, s.Treated, &psm.UnitOptions{Match: psm.MatchOptions{K: 2}})
	tsc, csc, err := pm.Split(xc)
	require.NoError(t, err)
	require.NoError(t, err)
	res, err := BiasAdjusted(s, pm, z, &BiasAdjustedOptions{Names: []string{"x", "noise"}})
	require.NoError(t, err)
	assert.Equal(t, "bias-adjusted", res.Method)
	plain, err := AbadieImbens(s, pm, nil)
	require.NoError(t, err)
	H1 := s.Outcomes[0].H + 1
	tr, co := s.split()
	zc := mat.NewDense(len(co), 2, nil)
	for j, u := range co {
		zc.SetRow(j, z.RawRowView(int(u)))
	}
	yC := func(m int, acc bool) []float64 {
		y := make([]float64, len(co))
		for j, u := range co {
			for k := 0; k < H1; k++ {
				if (!acc && k == m) || (acc && k >= 1 && k <= m) {
					y[j] += s.Outcomes[0].Y[int(u)*H1+k]
				}
			}
		}
		return y
	}
	adjusted := false
	for _, lev := range []int32{-1, 0, 1} { // -1: whole sample
		var ts []float64
		var units []int32
		for k, u := range tr {
			if lev < 0 || s.Subgroups[0].Code[u] == lev {
				ts = append(ts, tsc[k])
				units = append(units, u)
			}
		}
		zt := mat.NewDense(len(units), 2, nil)
		for i, u := range units {
			zt.SetRow(i, z.RawRowView(int(u)))
		}
		ref, err := psm.Match(ts, csc, &psm.MatchOptions{K: 2})
		require.NoError(t, err)
		se, pl := res.Find("y", "", ""), plain.Find("y", "", "")
		if lev >= 0 {
			se = res.Find("y", "half", s.Subgroups[0].Levels[lev])
			pl = plain.Find("y", "half", s.Subgroups[0].Levels[lev])
		}
		for m := 0; m < H1; m++ {
			for _, acc := range []bool{false, true} {
				yT := make([]float64, len(units))
				for i, u := range units {
					for k := 0; k < H1; k++ {
						if (!acc && k == m) || (acc && k >= 1 && k <= m) {
							yT[i] += s.Outcomes[0].Y[int(u)*H1+k]
						}
					}
				}
				r, err := psm.BiasAdjustedATT(yT, yC(m, acc), zt, zc, ref, nil)
				require.NoError(t, err)
				ridge = ridge || r.Ridge > 0
				got, est, unadj := se.Monthly[m], se.Effects[m].ATT, pl.Effects[m].ATT
				if acc {
					got, est, unadj = se.Accumulated[m], se.Effects[m].Accumulated, pl.Effects[m].Accumulated
				}
				assert.InDelta(t, r.SE, got.SE, 1e-10, "level %d month %d acc %v", lev, m, acc)
				assert.InDelta(t, r.ATT, est, 1e-10, "level %d month %d acc %v", lev, m, acc)
				assert.InDelta(t, r.Unadjusted, unadj, 1e-10, "level %d month %d acc %v", lev, m, acc)
				if math.Abs(r.ATT-r.Unadjusted) > 1e-6 {
					adjusted = true
				}
				z := 1.959963984540054
				assert.InDelta(t, est+z*r.SE, got.Normal.Hi, 1e-9)
				assert.True(t, math.IsNaN(got.Percentile.Lo))
			}
			e := se.Effects[m]
			assert.InDelta(t, e.TreatedMean-e.ATT, e.ControlMean, 1e-12)
		}
	}
	assert.True(t, adjusted, "the adjustment changes some estimate")
	assert.Equal(t, scale < 1, ridge, "ridge")
}
