package panel

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat/distuv"
)

// gofRegister has 40 treated persons starting on the Thursday of weeks
// 4..11 of a 20-week grid (from Monday 2012-01-02) with the unequal
// counts 1, 2, ..., 7, 12, and nControls persons without spells.
func gofRegister(nControls int) (*Register, []int) {
	counts := []int{1, 2, 3, 4, 5, 6, 7, 12}
	first := DayFromDate(2012, time.January, 2)
	n := 40 + nControls
	r := &Register{IDs: make([]int64, n)}
	r.Status = NewStatusGrid(n, first, 20, []string{"none"})
	p := 0
	for k, c := range counts {
		for range c {
			r.Spells = append(r.Spells, Spell{Person: int32(p), Start: first + Day(7*(k+4)+3), End: first + Day(7*(k+4)+30), Hours: 1})
			p++
		}
	}
	for i := range r.IDs {
		r.IDs[i] = int64(1_000_003 * (i + 1) % 9_999_991) // not in order
	}
	r.Outcomes = []Outcome{NewOutcome("y", n, MonthFromDate(2012, time.January), 6)}
	return r, counts
}

// TestSimulatedStartsFollowTreated: the simulated start weeks of the
// controls follow the treated start-week distribution. Pearson's
// chi-square goodness-of-fit statistic over the 8 weeks, with expected
// counts draws·c_k/40, has 7 degrees of freedom; the critical value at
// the 0.001 level is 24.322 (χ²₇ 0.999 quantile; gonum distuv agrees).
// At seed 7 with 30,000 controls × 1 draw the statistic is 3.567 (with 3
// draws each, 90,000 draws, 4.978): no rejection. Drawing weeks uniformly
// instead (expected 3,750 per week) would give a statistic in the
// thousands.
func TestSimulatedStartsFollowTreated(t *testing.T) {
	const nControls = 30000
	crit := distuv.ChiSquared{K: 7}.Quantile(0.999)
	require.InDelta(t, 24.322, crit, 1e-3)
	for _, draws := range []int{1, 3} {
		r, counts := gofRegister(nControls)
		d := &Design{
			WindowStart:     DayFromDate(2012, time.February, 1),
			WindowEnd:       DayFromDate(2012, time.March, 31),
			DrawsPerControl: draws,
			Seed:            7,
		}
		p, err := Build(context.Background(), r, d)
		require.NoError(t, err)
		require.Equal(t, 40, p.Counts.Treated)
		require.Equal(t, nControls*draws, p.Counts.Controls)
		require.Equal(t, nControls, p.Counts.ControlPersons)
		obs := make([]float64, 8)
		for u := 40; u < p.Len(); u++ {
			k := int(p.StartWeek[u]) - 4
			require.True(t, k >= 0 && k < 8, "week %d", p.StartWeek[u])
			// the start day is one of the treated start days (a Thursday)
			require.Equal(t, time.Thursday, p.StartDay[u].Weekday())
			obs[k]++
		}
		chi2 := 0.0
		for k, c := range counts {
			e := float64(nControls*draws) * float64(c) / 40
			chi2 += (obs[k] - e) * (obs[k] - e) / e
		}
		t.Logf("draws %d: chi-square %.3f (df 7, critical %.3f), observed %v", draws, chi2, crit, obs)
		assert.Less(t, chi2, crit)
		// Every control person has draws 0..draws-1, in order.
		for u := 40; u < p.Len(); u++ {
			assert.Equal(t, int32((u-40)%draws), p.Draw[u])
		}
	}
}

func TestDrawIndex(t *testing.T) {
	// Reproducible, and a function of (seed, id, draw) only.
	a := DrawIndex(1, 12345, 0, 10)
	assert.Equal(t, a, DrawIndex(1, 12345, 0, 10))
	// Uniform on 0..n-1: chi-square over 50,000 ids with n = 10 (df 9,
	// critical value 27.877 at 0.001).
	const n, ids = 10, 50000
	obs := make([]float64, n)
	for id := range int64(ids) {
		k := DrawIndex(99, id, 2, n)
		require.True(t, k >= 0 && k < n)
		obs[k]++
	}
	chi2 := 0.0
	for _, o := range obs {
		chi2 += (o - ids/n) * (o - ids/n) / (ids / n)
	}
	assert.Less(t, chi2, distuv.ChiSquared{K: n - 1}.Quantile(0.999))
	// Streams differ by draw and by seed.
	same := 0
	for id := range int64(1000) {
		if DrawIndex(99, id, 0, 1000) == DrawIndex(99, id, 1, 1000) {
			same++
		}
		if DrawIndex(98, id, 0, 1000) == DrawIndex(99, id, 0, 1000) {
			same++
		}
	}
	assert.Less(t, same, 10) // about 2 expected by chance
	assert.Panics(t, func() { DrawIndex(1, 1, 0, 0) })
}
