package synth

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/psmeval/psmeval/internal/rng"
	"github.com/psmeval/psmeval/panel"
)

// Parts of a person's random streams.
const (
	streamPerson   = 0 // class, attributes, status path, spells
	streamOutcomes = 1 // monthly uniforms of the outcomes
	streamWindow   = 2 // the WindowFraction draw of a window starter
)

// Regular (renewal) on-spell types and their relative durations.
var (
	onTypes   = []int{bUI, bCash, bSick, bRehab}
	onTypeDur = []float64{0.8, 1.3, 0.6, 2.0}
	// Mean passive and activated sub-spell durations (weeks) by benefit.
	passiveMean = [nBenefits]float64{bUI: 14, bCash: 16, bSick: 20, bRehab: 8, bFlexBen: 14}
	activeMean  = [nBenefits]float64{bUI: 8, bCash: 12, bSick: 8, bRehab: 26, bFlexBen: 8}
	// wageRate is the probability of wage income in a week of each
	// benefit for a person with employability 1; -1 means always.
	wageRate = [nBenefits]float64{bSE: 1, bSU: 0.55, bUI: 0.15, bCash: 0.06, bRehab: 0.1, bSick: 0.12,
		bFlexBen: 0.08, bFlexJob: -1, bDP: 0.03, bFlexRet: 0.05, bEarlyRet: 0.10, bStatePen: 0.10,
		bVUS: 0.9, bService: -1, bApprentice: -1, bOther: 0.95}
)

// regime is a person's alternating renewal process of off (self-
// supporting) and on (benefit) spells with geometric durations.
type regime struct {
	pi, don, doff float64
	prim          int // primary on-type (index into onTypes)
	primP         float64
	sec           []float64 // cumulative over onTypes
}

// sim holds one worker's scratch state for simulating a person.
type sim struct {
	o   *Options
	t   *tables
	pcg *rand.PCG
	r   *rand.Rand
	pcB *rand.PCG
	rB  *rand.Rand
	sel *selWeights // selection weights (selectionWeights; the fit swaps in its own)

	// person
	k        int
	starter  bool
	keep     bool
	start    panel.Day
	startW   int
	startMon int // outcome month index of the first start
	birth    panel.Day
	age      int // completed years at 2012-01-01
	band     int
	male     bool
	origin   int
	edu      int
	match    int
	cohab    int
	children int
	muni     int
	attempts int // candidates drawn for a starter
	// candStart is the first start the person would have had without the
	// start s.start: for a window starter drawn as a later-starter
	// candidate its later start day, else NoStart (set by acceptedAt).
	candStart               panel.Day
	laterStart              panel.Day // scratch: the day of the later starter being drawn
	u                       float64
	e                       float64
	g                       regime
	track                   int
	w15, w16, w18, w60, w65 int
	appLo, appHi            int // vocational apprenticeship weeks (education)

	row  [GridWeeks]byte
	pEmp [empMonths]float64
	pEdu [empMonths]float64
	nb   [empMonths]bool
	su   [empMonths]bool
	// trait is r·z(U) of the persistent trait (Options.UnobservedPersistent;
	// 0 without it): in a month where the trait acts, the probability of
	// a month of work without benefit that the trait sets
	trait  float64
	vEmp   [empMonths]float64
	vEdu   [empMonths]float64
	spells []panel.Spell
	kids   []float64 // children's ages (years) on 2012-01-01
}

const (
	trackRegular = iota
	trackDP
	trackFlex
)

func newSim(o *Options) *sim {
	s := &sim{o: o, t: getTables(), sel: &selectionWeights}
	s.pcg = rand.NewPCG(0, 0)
	s.r = rand.New(s.pcg)
	s.pcB = rand.NewPCG(0, 0)
	s.rB = rand.New(s.pcB)
	return s
}

// geo draws a geometric duration in weeks (>= 1) with mean about m.
func geo(r *rand.Rand, m float64) int {
	if m <= 1 {
		return 1
	}
	return 1 + int(r.ExpFloat64()*(m-0.5))
}

// kumaraswamy draws from the Kumaraswamy(a, b) distribution on (0, 1),
// a closed-form stand-in for Beta(a, b).
func kumaraswamy(r *rand.Rand, a, b float64) float64 {
	u := r.Float64()
	return math.Pow(1-math.Pow(1-u, 1/b), 1/a)
}

// startMonthFirst and startMonthLen are the first day and the number of
// possible start days of each start-volume month (from January 2012);
// starts end a week before the grid does.
var startMonthFirst, startMonthLen = func() ([]panel.Day, []int) {
	f := make([]panel.Day, len(startVolume))
	n := make([]int, len(startVolume))
	for i := range f {
		m := panel.MonthFromDate(startVolumeFirstMonth[0], time.Month(startVolumeFirstMonth[1])) + panel.Month(i)
		f[i] = m.FirstDay()
		n[i] = int((m + 1).FirstDay() - f[i])
		if last := f[i] + panel.Day(n[i]) - 1; last > gridLastDay-7 {
			n[i] = int(gridLastDay - 7 - f[i] + 1)
		}
	}
	return f, n
}()

// yearFirst[y-1900] is 1 January of year y.
var yearFirst = func() []panel.Day {
	d := make([]panel.Day, 201)
	for i := range d {
		d[i] = panel.DayFromDate(1900+i, 1, 1)
	}
	return d
}()

// class draws the person's class from the start of stream A: whether and
// when the person first starts a spell, and whether the person is kept
// (ControlFraction; for a window starter, WindowFraction from its own
// stream, so that stream A and every other person are unchanged).
func (s *sim) class(k int) {
	s.k = k
	s.pcg.Seed(s.o.Seed, rng.SplitMix64(uint64(k)<<2|streamPerson))
	r := s.r
	s.starter = r.Float64() < s.t.starterP
	mi := pick(s.t.startMon, r.Float64())
	day := startMonthFirst[mi] + panel.Day(r.IntN(startMonthLen[mi]))
	keepU := r.Float64()
	s.keep = keepU < s.o.ControlFraction
	if s.starter {
		if day >= windowFirst && day <= windowLast {
			s.keep = s.o.WindowFraction >= 1 || s.windowU(k) < s.o.WindowFraction
		}
		s.start = day
		s.startW = weekOf(day)
		s.startMon = int(panel.MonthOf(day) - OutcomeFirstMonth)
	} else {
		s.start = NoStart
		s.startW = -1
		s.startMon = -1
	}
}

// windowU is the uniform of person k's WindowFraction draw, from its own
// stream (Seed, part streamWindow). It uses s.pcB, which simulate
// re-seeds for the outcomes after class.
func (s *sim) windowU(k int) float64 {
	s.pcB.Seed(s.o.Seed, rng.SplitMix64(uint64(k)<<2|streamWindow))
	return s.rB.Float64()
}

// NoStart marks a person without a mentor spell in Population.FirstStart.
const NoStart = panel.Day(math.MaxInt32)

var (
	// windowFirst and windowLast delimit the SFI treatment window.
	windowFirst = panel.DayFromDate(2012, 2, 1)
	windowLast  = panel.DayFromDate(2012, 7, 31)
	day2012     = panel.DayFromDate(2012, 1, 1)
	// firstSpellDay is the earliest day a spell can start: the first day
	// of the first month of the start distribution.
	firstSpellDay = startMonthFirst[0]
)

// attributes draws the static attributes from the population law (for
// everyone: starters are population persons selected on observables).
func (s *sim) attributes() {
	r, t := s.r, s.t
	s.band = pick(t.popAge, r.Float64())
	w := 5
	if s.band == 0 {
		w = 4
	}
	s.age = ageBandLo[s.band] + r.IntN(w)
	lo := yearFirst[2011-s.age-1900] + 1
	hi := yearFirst[2012-s.age-1900]
	s.birth = lo + panel.Day(r.IntN(int(hi-lo+1)))
	s.origin = pick(t.popOrig[s.band], r.Float64())
	s.edu = pick(t.popEdu[s.band*nOrigin+s.origin], r.Float64())
	s.male = r.Float64() < tgtPopMenPct/100
	// Birthdays as grid weeks (365.2425-day years: a day off at most).
	bw := func(n float64) int { return weekOf(s.birth + panel.Day(n*365.2425+0.5)) }
	s.w15, s.w16, s.w18, s.w60, s.w65 = bw(15), bw(16), bw(18), bw(60), bw(65)
	// Household.
	a := float64(int(day2012-s.birth)) / 365.2425
	pm := clamp01((a-22)/20) * 0.55
	pc := 0.0
	if a >= 20 {
		pc = 0.25 - clamp01((a-30)/30)*0.15
	}
	u := r.Float64()
	switch {
	case u < pm:
		s.cohab = 1
	case u < pm+pc:
		s.cohab = 2
	default:
		s.cohab = 0
	}
	shift := 0.0
	if s.male {
		shift = 2
	}
	mu := 1.8 * clamp01((a-20-shift)/15) * (1 - clamp01((a-45-shift)/15))
	s.kids = s.kids[:0]
	// Poisson(mu) by inversion.
	p, c := r.Float64(), 0
	for q := math.Exp(-mu); p > q && c < 6; c++ {
		p -= q
		q *= mu / float64(c+1)
	}
	s.children = c
	for i := 0; i < c; i++ {
		maxAge := math.Min(18, a-18-shift)
		if maxAge < 0.5 {
			maxAge = 0.5
		}
		s.kids = append(s.kids, r.Float64()*maxAge)
	}
	s.muni = pick(t.muniCum, r.Float64())
}

func clamp01(x float64) float64 {
	if x < 0 {
		return 0
	}
	if x > 1 {
		return 1
	}
	return x
}
