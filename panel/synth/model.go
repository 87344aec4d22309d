package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/psmeval/psmeval/panel"
)

// Calendar of the generated register.
const (
	// GridWeeks is the number of weeks of the status grid, from Monday
	// 1 January 2007 to Sunday 22 June 2014.
	GridWeeks = 390
	empMonths = 88 // employed, employed_no_benefit, su: 2007-01 .. 2014-04
	eduMonths = 81 // education: 2007-01 .. 2013-09
)

var (
	// GridFirstWeek is the first day (a Monday) of the status grid.
	GridFirstWeek = panel.DayFromDate(2007, 1, 1)
	// OutcomeFirstMonth is the first month of every outcome.
	OutcomeFirstMonth = panel.MonthFromDate(2007, 1)
	gridLastDay       = GridFirstWeek + 7*GridWeeks - 1
	month2012         = int(panel.MonthFromDate(2012, 1) - OutcomeFirstMonth)
	// monthWeekLo/Hi: the weeks whose Thursday lies in outcome month t.
	monthWeekLo, monthWeekHi [empMonths]int16
)

func init() {
	for t := range monthWeekLo {
		monthWeekLo[t] = -1
	}
	for w := 0; w < GridWeeks; w++ {
		t := int(panel.MonthOf(GridFirstWeek+panel.Day(7*w+3)) - OutcomeFirstMonth)
		if t < 0 || t >= empMonths {
			continue
		}
		if monthWeekLo[t] < 0 {
			monthWeekLo[t] = int16(w)
		}
		monthWeekHi[t] = int16(w + 1)
	}
}

// weekOf returns the grid week of day d (may be out of range).
func weekOf(d panel.Day) int {
	x := int(d - GridFirstWeek)
	if x < 0 {
		return -((-x + 6) / 7)
	}
	return x / 7
}

// tables holds the calibrated sampling distributions (cumulative).
type tables struct {
	popAge   []float64   // population age band (at 2012-01-01)
	popOrig  [][]float64 // by age band
	popEdu   [][]float64 // by age band*nOrigin + origin
	starterP float64     // probability that a person is a starter
	startMon []float64   // cumulative over startVolume
	laterMon []float64   // cumulative over startVolume from August 2012
	laterP   float64     // share of later starters among persons not starting in Jan–Jul 2012
	muniCum  []float64   // municipality
	muniRate []float64   // unemployment rate (percent) of each municipality's commuting area
	muniArea []int       // commuting area of each municipality
	instrMix [nBenefits][]float64
	dpRate   []float64 // yearly disability-pension hazard by age band (times the person's multiplier)
	flexRate []float64 // yearly flex-job hazard by age band
}

var (
	tabOnce sync.Once
	tab     tables
)

func getTables() *tables {
	tabOnce.Do(buildTables)
	return &tab
}

// Tilts (relative odds) used with ipf; the margins come from targets.go.
var (
	originAgeTilt = [][]float64{
		{1, 3, 0.5, 0.6}, {1, 2, 0.7, 0.8}, {1, 1, 1, 1.1}, {1, 0.5, 1.2, 1.3}, {1, 0.3, 1.2, 1.4},
		{1, 0.2, 1.2, 1.3}, {1, 0.1, 1.1, 1.2}, {1, 0.05, 1, 1}, {1, 0.05, 1, 0.8}, {1, 0.05, 1, 0.6},
	}
	eduAgeTilt = [][]float64{
		{1, 10, 1, 0.03, 0, 0, 0},
		{1, 2.5, 4, 0.5, 0.3, 0.15, 0.02},
		{1, 1, 1.3, 0.9, 1.1, 1.1, 1},
		{1, 0.8, 0.8, 1, 1.2, 1.2, 1.4},
		{1, 0.8, 0.6, 1, 1.2, 1.2, 1.3},
		{1, 0.8, 0.5, 1.1, 1, 1.1, 1.1},
		{1, 0.9, 0.4, 1.1, 1, 1.1, 1},
		{1, 1, 0.35, 1.1, 0.9, 1, 0.9},
		{1, 1.2, 0.3, 1.1, 0.9, 1, 0.8},
		{1.2, 1.4, 0.25, 1, 0.8, 0.9, 0.7},
	}
	eduOriginTilt = [][]float64{
		{0.5, 1, 1, 1, 1, 1, 1},
		{1, 1.5, 1.2, 0.7, 0.8, 0.8, 0.8},
		{6, 0.6, 1, 0.6, 1, 1, 2},
		{8, 1.4, 0.8, 0.5, 0.6, 0.6, 0.6},
	}
)

func buildTables() {
	t := &tab
	nb := len(ageBandLo)
	// Population: ages at 2012-01-01, margins fitted for ages 17-63 (18-64 in 2013).
	t.popAge = cumulative(popAgeWeights2012)
	popW := normalize(append([]float64(nil), popAgeWeights2012...))
	popW[0] *= 0.75
	popW[nb-1] *= 0.8
	normalize(popW)
	b := ipf(popW, originAgeTilt, tgtPopOrigin)
	t.popOrig = conditional(b, originAgeTilt)
	t.popEdu = eduTables(popW, t.popOrig, tgtPopEdu)
	// Volumes.
	total := 0.0
	for _, v := range startVolume {
		total += v
	}
	t.starterP = total / SFIPersons
	t.startMon = cumulative(startVolume)
	later := 0.0
	for _, v := range startVolume[laterFirstMonth:] {
		later += v
	}
	t.laterMon = cumulative(startVolume[laterFirstMonth:])
	t.laterP = later / (SFIPersons - total + later)
	buildMunicipalities(t)
	t.dpRate = hazardFromPrevalence(dpAge, dpMeanMult)
	t.flexRate = hazardFromPrevalence(flexAge, flexMeanMult)
	t.instrMix[bUI] = cumulative([]float64{0.5, 0.25, 0.05, 0.1, 0.1})
	t.instrMix[bCash] = cumulative([]float64{0.4, 0.3, 0.15, 0.05, 0.1})
	t.instrMix[bSick] = cumulative([]float64{0.3, 0.5, 0.1, 0.05, 0.05})
	t.instrMix[bRehab] = cumulative([]float64{0.2, 0.2, 0.1, 0.4, 0.1})
	t.instrMix[bFlexBen] = cumulative([]float64{0.5, 0.3, 0.1, 0.05, 0.05})
}

// eduTables fits education by (age band, origin) to the target margin.
func eduTables(ageW []float64, origCum [][]float64, target []float64) [][]float64 {
	jw := jointWeights(ageW, origCum)
	var w []float64
	var tilt [][]float64
	for a := range ageW {
		for o := 0; o < nOrigin; o++ {
			w = append(w, jw[a][o])
			row := make([]float64, nEdu)
			for k := range row {
				row[k] = eduAgeTilt[a][k] * eduOriginTilt[o][k]
			}
			tilt = append(tilt, row)
		}
	}
	return conditional(ipf(w, tilt, target), tilt)
}

// Municipalities: 98, in 12 commuting areas. Sizes and unemployment rates
// are fixed (drawn once from a fixed internal seed, not from Options.Seed).
const nMunicipalities = 98

func buildMunicipalities(t *tables) {
	r := rand.New(rand.NewPCG(20120201, 98))
	const nAreas = 12
	areaRate := make([]float64, nAreas)
	for a := range areaRate {
		areaRate[a] = 3.5 + 5*float64(a)/float64(nAreas-1) + 0.3*r.NormFloat64()
	}
	size := make([]float64, nMunicipalities)
	t.muniRate = make([]float64, nMunicipalities)
	t.muniArea = make([]int, nMunicipalities)
	for m := range size {
		size[m] = 20 + 60*r.ExpFloat64()
		a := r.IntN(nAreas)
		t.muniArea[m] = a
		t.muniRate[m] = float64(int(areaRate[a]*10+0.5)) / 10
	}
	t.muniCum = cumulative(size)
}

func municipalityLevels() []string {
	l := make([]string, nMunicipalities)
	for i := range l {
		l[i] = fmt.Sprintf("municipality_%02d", i+1)
	}
	return l
}

// hazardFromPrevalence returns yearly hazards by age band from 18 such
// that a person with multiplier meanMult has probability prev[b] of an
// onset by the middle of band b.
func hazardFromPrevalence(prev []float64, meanMult float64) []float64 {
	mid := []float64{19, 22, 27, 32, 37, 42, 47, 52, 57, 62}
	out := make([]float64, len(prev))
	cPrev, aPrev := 0.0, 18.0
	for b, p := range prev {
		c := -math.Log(1-p) / meanMult
		out[b] = math.Max(c-cPrev, 0) / (mid[b] - aPrev)
		cPrev, aPrev = math.Max(c, cPrev), mid[b]
	}
	return out
}
