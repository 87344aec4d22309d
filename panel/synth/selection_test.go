package synth

import (
	"math"
	"testing"

	"github.com/psmeval/psmeval/panel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stratifiedGap compares the untreated employment (share of months 6..18
// after start) of the persons starting in the SFI window with that of
// everyone whose first spell is not in January–July 2012 (never-starters
// and later starters, the pool window starters are drawn from) at
// simulated start days drawn from the treated start days, after exact
// stratification on the selection features. It returns the treated minus
// control mean and its standard error.
func stratifiedGap(t *testing.T, p *Population) (gap, se float64, matched int) {
	return stratifiedGapOf(t, p, 0, 6, 18, true)
}

// stratifiedGapOf is stratifiedGap for untreated outcome k (index into
// OutcomeNames), the mean over event months lo..hi (months past the
// outcome's cut-off count as 0), with controls the never-starters or,
// with later, every person whose first spell is not in January–July 2012
// (the SFI's potential controls: later starters included).
func stratifiedGapOf(t *testing.T, p *Population, k, lo, hi int, later bool) (gap, se float64, matched int) {
	t.Helper()
	r := &p.Register
	persons, _ := p.Starters(windowFirst, windowLast)
	emp := &p.Untreated[0]
	out := &p.Untreated[k]
	key := func(i int, d panel.Day) (int64, bool) {
		w := r.Status.WeekOf(d)
		c := r.Status.Row(i)[w]
		if codeBenefitGroup[c] < 0 {
			return 0, false
		}
		mo := panel.MonthOf(d)
		wm := emp.Count(i, mo-48, mo-1)
		wb := 0
		switch {
		case wm == 0:
		case wm >= 48:
			wb = 5
		default:
			wb = min(1+(wm-1)/12, 4)
		}
		ws := 0
		if v, _ := emp.Get(i, mo); v {
			ws = 1
		}
		k := int64(codeBenefitGroup[c])
		for _, x := range []int{int(codeActGroup[c]), ageBand(ageYears(r.Birth[i], d)), int(r.Attrs[0].Codes[i]), int(r.Attrs[1].Codes[i]),
			int(r.Attrs[2].Codes[i]), int(r.Attrs[3].Codes[i]), supportBin(r.Status.Row(i), w), wb, ws} {
			k = k*16 + int64(x)
		}
		return k, true
	}
	y := func(i int, d panel.Day) float64 {
		mo := panel.MonthOf(d)
		return float64(out.Count(i, mo+panel.Month(lo), mo+panel.Month(hi))) / float64(hi-lo+1)
	}
	type cell struct{ nt, yt, nc, yc, yc2 float64 }
	cells := map[int64]*cell{}
	days := make([]panel.Day, len(persons))
	for j, i := range persons {
		days[j] = p.FirstStart[i]
		k, ok := key(int(i), days[j])
		require.True(t, ok)
		if cells[k] == nil {
			cells[k] = &cell{}
		}
		cells[k].nt++
		cells[k].yt += y(int(i), days[j])
	}
	for i := range r.IDs {
		if fs := p.FirstStart[i]; fs != NoStart && (!later || fs <= windowLast) {
			continue
		}
		d := days[(i*7919)%len(days)]
		k, ok := key(i, d)
		if !ok || cells[k] == nil {
			continue
		}
		v := y(i, d)
		cells[k].nc++
		cells[k].yc += v
		cells[k].yc2 += v * v
	}
	var nt, diff, v float64
	for _, c := range cells {
		if c.nc < 2 {
			continue
		}
		nt += c.nt
		mc := c.yc / c.nc
		diff += c.yt - c.nt*mc
		vc := c.yc2/c.nc - mc*mc
		v += c.nt*vc + c.nt*c.nt*vc/c.nc // treated outcome variance ~ control's
	}
	return diff / nt, math.Sqrt(v) / nt, int(nt)
}

// Selection is on the observable features only: after exact
// stratification on them the untreated outcomes of the treated equal the
// controls' (within sampling error) without unobserved confounding, and
// are lower with it. Two populations at Scale 1 (about 10 s).
func TestSelectionOnObservables(t *testing.T) {
	if testing.Short() {
		t.Skip("generates two populations")
	}
	for _, c := range []float64{0, 2} {
		p := gen(t, Options{Scale: 1, Seed: 3, ControlFraction: 0.25, Confounding: c})
		gap, se, n := stratifiedGap(t, p)
		t.Logf("Confounding %v: treated minus matched controls, untreated employment months 6-18: %+.4f (SE %.4f, %d treated matched)", c, gap, se, n)
		if c == 0 {
			assert.InDelta(t, 0, gap, 4*se)
		} else {
			assert.Less(t, gap, -4*se)
		}
	}
}

// The SFI's controls include persons who start a spell after the window,
// selected on their features at their own start; window starters are
// drawn from that same pool (see starterDraw), so without unobserved
// confounding exact stratification on the features at start recovers the
// untreated outcomes of the treated over months 1..21 with all of them
// as controls. With never-starters only as controls the gap is not zero
// by construction (about a fifth of the window starters are later-starter
// candidates, whose employment after the window is lower given the
// features): logged, not asserted. A population at Scale 1 (about 6 s).
func TestLaterStartersInPool(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a population")
	}
	p := gen(t, Options{Scale: 1, Seed: 5, ControlFraction: 0.25})
	for _, k := range []int{0, 1, 2} {
		for _, later := range []bool{false, true} {
			gap, se, n := stratifiedGapOf(t, p, k, 1, 21, later)
			t.Logf("%s, later starters as controls %v: treated minus controls, months 1-21: %+.4f (SE %.4f, %d treated matched)", OutcomeNames[k], later, gap, se, n)
			if later {
				assert.InDelta(t, 0, gap, 4*se, OutcomeNames[k])
			}
		}
	}
}
