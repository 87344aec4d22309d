package psm

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Diagnose on a matching small enough to count by hand (dyadic scores,
// so distances are exact): treated at 1/8, 1/2, 7/8 and 31/32 (above
// every control: trimmed); controls at 1/16, 1/4, 7/16, 9/16, 29/32.
// 1/8 takes 1/16; 1/2 ties 7/16 and 9/16 (½ each); 7/8 takes 29/32.
// Control weights 1, 0, ½, ½, 1: Σw = 3, Σw² = 2.5, ESS = 9/2.5 = 3.6; the
// largest share 1/3 (control 0, the first of the two).
func TestDiagnoseByHand(t *testing.T) {
	m, err := Match([]float64{0.125, 0.5, 0.875, 0.96875}, []float64{0.0625, 0.25, 0.4375, 0.5625, 0.90625}, &MatchOptions{Trim: true})
	require.NoError(t, err)
	require.Equal(t, []MatchStatus{StatusMatched, StatusMatched, StatusMatched, StatusTrimmed}, m.Status)
	d := Diagnose(m)
	assert.Equal(t, 4, d.Treated)
	assert.Equal(t, 3, d.Matched)
	assert.Equal(t, 1, d.Trimmed)
	assert.Equal(t, 4, d.Controls)
	assert.InDelta(t, 0.25, d.UnmatchedShare, 1e-15)
	assert.InDelta(t, 3, d.ControlWeight, 1e-15)
	assert.InDelta(t, 3.6, d.ESS, 1e-14)
	assert.InDelta(t, 1.2, d.ESSShare, 1e-14)
	assert.InDelta(t, 1.0/3, d.MaxShare, 1e-15)
	assert.Equal(t, 0, d.MaxShareControl)
	// 25 % unmatched and one control with a third of the weight: two flags
	assert.Len(t, d.Flags, 2, "%q", d.Flags)
}

// A matching with every treated unit its own control has ESS equal to
// the number matched and no flag.
func TestDiagnoseNoFlags(t *testing.T) {
	var tr, co []float64
	for i := 0; i < 40; i++ {
		tr = append(tr, float64(i)/40)
		co = append(co, float64(i)/40+1e-6)
	}
	m, err := Match(tr, co, nil)
	require.NoError(t, err)
	d := Diagnose(m)
	assert.InDelta(t, 40, d.ESS, 1e-12)
	assert.Empty(t, d.Flags)
}

// The preference score of a unit whose propensity equals the treated
// share is 0.5 (Walker et al. 2013, by construction); the deciles are R's
// quantile(type = 7): for 1 treated in 5 units, P = 0.2, and scores p with
// logit(p) = logit(0.2) + z give F = logistic(z).
func TestPreferenceScores(t *testing.T) {
	lg := func(z float64) float64 { return 1 / (1 + math.Exp(-z)) }
	logit := func(p float64) float64 { return math.Log(p / (1 - p)) }
	P := 0.2
	tr := []float64{lg(logit(P) + 0)}
	var co []float64
	for _, z := range []float64{-2, -0.5, 0.5, 3} {
		co = append(co, lg(logit(P)+z))
	}
	pr, err := PreferenceScores(tr, co)
	require.NoError(t, err)
	assert.InDelta(t, P, pr.P, 1e-15)
	for k := range pr.Treated {
		assert.InDelta(t, 0.5, pr.Treated[k], 1e-12)
	}
	// controls' F sorted: lg(-2), lg(-0.5), lg(0.5), lg(3); the 10 %
	// quantile is at h = 0.3 between the first two.
	assert.InDelta(t, lg(-2)+0.3*(lg(-0.5)-lg(-2)), pr.Control[1], 1e-12)
	assert.InDelta(t, lg(3), pr.Control[10], 1e-12)
	// F in [0.3, 0.7]: lg(±0.5) = 0.378, 0.622 (2 of 4); lg(-2) = 0.119 and lg(3) = 0.953 not
	assert.InDelta(t, 0.5, pr.EquipoiseControl, 1e-15)
	assert.InDelta(t, 1, pr.EquipoiseTreated, 1e-15)
	assert.True(t, pr.Equipoise)

	_, err = PreferenceScores(nil, co)
	assert.ErrorIs(t, err, ErrEmptyGroup)
	_, err = PreferenceScores(tr, []float64{0.5, 1.5})
	assert.ErrorIs(t, err, ErrBadScore)
	assert.ErrorContains(t, err, "control[1] = 1.5: not in [0, 1]")
}

// With one cohort, BalanceByCohort's SMD is Balance's (SMDTreated,
// checked against MatchIt); with two cohorts each cohort's SMD is that of
// its treated against their own match sets, computed here by hand.
func TestBalanceByCohort(t *testing.T) {
	names, tcols, ccols, pt, _, m := contMatched(t)
	one := func(n int) []int32 { return make([]int32, n) }
	tm, cm := colsMatrix(tcols), colsMatrix(ccols)
	cb, err := BalanceByCohort(names, tm, cm, one(len(pt)), m)
	require.NoError(t, err)
	tab, err := balanceColumns(names, tcols, ccols, m, nil)
	require.NoError(t, err)
	require.Len(t, cb.SMD, 1)
	worst := 0.0
	for v, row := range tab.Rows {
		assert.InDelta(t, row.After.SMD, cb.SMD[0][v], 1e-12, names[v])
		worst = math.Max(worst, math.Abs(row.After.SMD))
	}
	assert.InDelta(t, worst, cb.Worst, 1e-12)

	// two cohorts by parity of the treated unit's index
	tc := make([]int32, len(pt))
	for i := range tc {
		tc[i] = int32(i % 2)
	}
	cb, err = BalanceByCohort(names, tm, cm, tc, m)
	require.NoError(t, err)
	require.Equal(t, []int32{0, 1}, cb.Cohorts)
	for k := int32(0); k < 2; k++ {
		for v := range names {
			var st, wt, sc, wc float64
			for i := range pt {
				if tc[i] == k && m.Matched[i] {
					st += tcols[v][i]
					wt++
				}
			}
			for i := range pt {
				if tc[i] != k {
					continue
				}
				for e := m.Start[i]; e < m.Start[i+1]; e++ {
					sc += m.Weight[e] * ccols[v][m.Control[e]]
					wc += m.Weight[e]
				}
			}
			sd := sdOf(tcols[v])
			if names[v] == "x2" { // 0/1: MatchIt's p(1-p)
				p := 0.0
				for _, x := range tcols[v] {
					p += x
				}
				p /= float64(len(tcols[v]))
				sd = math.Sqrt(p * (1 - p))
			}
			assert.InDelta(t, (st/wt-sc/wc)/sd, cb.SMD[k][v], 1e-12, "cohort %d %s", k, names[v])
		}
	}
	// the flag: some |SMD| above max(MaxCohortSMD, CohortSMDNoise·sqrt(2/n))
	flag := false
	for k := range cb.Cohorts {
		lim := math.Max(MaxCohortSMD, CohortSMDNoise*math.Sqrt(2/cb.N[k]))
		for _, v := range cb.SMD[k] {
			flag = flag || math.Abs(v) > lim
		}
	}
	assert.Equal(t, flag, cb.Flagged)
	_, err = BalanceByCohort(names, tm, cm, tc[1:], m)
	assert.Error(t, err)
	shifted := mat.DenseCopyOf(cm)
	for e := 0; e < m.Start[len(pt)]; e++ {
		shifted.Set(int(m.Control[e]), 0, shifted.At(int(m.Control[e]), 0)+5) // x1 of every used control
	}
	cb, err = BalanceByCohort(names, tm, shifted, one(len(pt)), m)
	require.NoError(t, err)
	assert.True(t, cb.Flagged)
	assert.Equal(t, 0, cb.FlagVar)
	small := make([]int32, len(pt))
	for i := range small {
		small[i] = int32(i) // every treated its own cohort: n = 1, limit 4·sqrt(2)
	}
	cb, err = BalanceByCohort(names, tm, cm, small, m)
	require.NoError(t, err)
	assert.False(t, cb.Flagged, "|SMD| %v in a cohort of one", cb.Worst)
}

func sdOf(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	mean, ss := s/float64(len(x)), 0.0
	for _, v := range x {
		ss += (v - mean) * (v - mean)
	}
	return math.Sqrt(ss / float64(len(x)-1))
}

// colsMatrix is the n×len(cols) matrix with the given columns.
func colsMatrix(cols [][]float64) *mat.Dense {
	x := mat.NewDense(len(cols[0]), len(cols), nil)
	for j, c := range cols {
		x.SetCol(j, c)
	}
	return x
}
