package estimate

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psmeval/psmeval/psm"
)

// Subgroup and accumulated Abadie–Imbens SEs equal psm.ATT on a matching
// of the subgroup's treated alone (matching with replacement is per
// treated unit, so the sets are the same) and on the cumulated outcome.
// psm.ATT itself is checked against R Matching::Match in package psm.
func TestAbadieImbensSubgroupsAndAccumulated(t *testing.T) {
	s, x := synthSample(300, 1200, 4, 12)
	pm, err := psm.MatchUnits(x, s.Treated, nil)
	tsc, csc, err := pm.Split(x)
	require.NoError(t, err)
	require.NoError(t, err)
	res, err := AbadieImbens(s, pm, nil)
	require.NoError(t, err)
	assert.Equal(t, "abadie-imbens", res.Method)
	H1 := s.Outcomes[0].H + 1
	tr, co := s.split()
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
	for _, lev := range []int32{-1, 0, 1} { // -1: whole sample
		var ts []float64
		var units []int32
		for k, u := range tr {
			if lev < 0 || s.Subgroups[0].Code[u] == lev {
				ts = append(ts, tsc[k])
				units = append(units, u)
			}
		}
		ref, err := psm.Match(ts, csc, nil)
		require.NoError(t, err)
		se := res.Find("y", "", "")
		if lev >= 0 {
			se = res.Find("y", "half", s.Subgroups[0].Levels[lev])
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
				r, err := psm.ATT(yT, yC(m, acc), ref, nil)
				require.NoError(t, err)
				got, est := se.Monthly[m], se.Effects[m].ATT
				if acc {
					got, est = se.Accumulated[m], se.Effects[m].Accumulated
				}
				assert.InDelta(t, r.SE, got.SE, 1e-12, "level %d month %d acc %v", lev, m, acc)
				assert.InDelta(t, r.ATT, est, 1e-12, "level %d month %d acc %v", lev, m, acc)
				z := 1.959963984540054
				assert.InDelta(t, est+z*r.SE, got.Normal.Hi, 1e-9)
			}
		}
	}
}
