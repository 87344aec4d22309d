package synth

import (
	"math"
	"math/rand/v2"

	"github.com/psmeval/psmeval/panel"
)

// Model parameters of the population (non-starters). The regular
// process's class follows an ordered logit on a risk score.
var (
	riskEdu      = [nEdu]float64{0.7, 0.9, 0.2, 0.2, -0.2, -0.4, -0.6}
	riskOrigin   = [nOrigin]float64{0, 0.5, 0.3, 1.1}
	riskAge      = []float64{0.3, 0.5, 0.3, 0, 0, 0, 0, 0, 0, -0.2}
	riskCut      = [3]float64{-0.6, 1.45, 3.1}
	classPiLo    = [4]float64{0, 0.01, 0.06, 0.3}
	classPiHi    = [4]float64{0, 0.06, 0.3, 0.9}
	dpAge        = []float64{0.006, 0.012, 0.02, 0.03, 0.04, 0.055, 0.07, 0.09, 0.12, 0.16}
	dpEdu        = [nEdu]float64{1.5, 1.8, 0.6, 1.0, 0.7, 0.6, 0.4}
	flexAge      = []float64{0.002, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.035, 0.04, 0.04}
	flexEdu      = [nEdu]float64{1, 1.3, 0.8, 1.2, 0.7, 0.7, 0.5}
	dpMeanMult   = 0.35
	flexMeanMult = 0.5
	earlyRetEdu  = [nEdu]float64{0.3, 0.55, 0.42, 0.6, 0.55, 0.55, 0.25}
	uiEdu        = [nEdu]float64{0.4, 0.6, 1.0, 1.5, 1.5, 1.5, 1.5}
	cashEdu      = [nEdu]float64{1.5, 1.5, 0.8, 0.3, 0.3, 0.3, 0.3}
	cashOrigin   = [nOrigin]float64{1, 1.5, 1.2, 2}
	secPop       = cumulative([]float64{0.4, 0.2, 0.35, 0.05})
	// Starters.
	stDon0     = 20.0
	stDon1     = 220.0
	stEA, stEB = 2.0, 1.2
	// Match group of non-starters by the last activated benefit before
	// (else after) March 2013: never, UI, cash, sickness, rehabilitation,
	// flex-job benefit; and for disability pensioners.
	matchPop = [][]float64{
		cumulative([]float64{0.93, 0.07, 0, 0}),
		cumulative([]float64{0.13, 0.82, 0.04, 0.01}),
		cumulative([]float64{0.1, 0.57, 0.23, 0.10}),
		cumulative([]float64{0.2, 0.65, 0.1, 0.05}),
		cumulative([]float64{0.2, 0.3, 0.35, 0.15}),
		cumulative([]float64{0.3, 0.5, 0.15, 0.05}),
	}
	matchDP = cumulative([]float64{0.55, 0.22, 0.1, 0.13})
)

// Codes of single-level benefits; set by initLevels.
var codeSE, codeSU, codeDP, codeFlexJob byte

var pubWeek = weekOf(panel.DayFromDate(2013, 3, 1))

func (s *sim) fill(a, b int, c byte) {
	if a < 0 {
		a = 0
	}
	if b > GridWeeks {
		b = GridWeeks
	}
	for w := a; w < b; w++ {
		s.row[w] = c
	}
}

func (g *regime) drawType(r *rand.Rand) int {
	if r.Float64() < g.primP {
		return g.prim
	}
	return pick(g.sec, r.Float64())
}

// forward runs the renewal process on weeks [a, b), starting with an on
// spell when on is true.
func (s *sim) forward(a, b int, on bool, g *regime) {
	r := s.r
	for w := a; w < b; on = !on {
		if on {
			ti := g.drawType(r)
			e := min(w+geo(r, g.don*onTypeDur[ti]), b)
			s.fillOn(w, e, onTypes[ti], r.Float64())
			w = e
			continue
		}
		if g.pi <= 0 {
			s.fill(w, b, codeSE)
			return
		}
		e := min(w+geo(r, g.doff), b)
		s.fill(w, e, codeSE)
		w = e
	}
}

// fillOn fills an on spell of benefit b on weeks [a, e); activated
// benefits alternate passive and activated sub-spells, starting in the
// stationary phase chosen by u.
func (s *sim) fillOn(a, e int, b int, u float64) {
	if !isActivated(b) {
		s.fill(a, e, codeOf[b][0])
		return
	}
	pm, am := passiveMean[b], activeMean[b]
	s.actForward(a, e, b, u >= pm/(pm+am))
}

func (s *sim) actForward(a, e, b int, active bool) {
	r := s.r
	for w := a; w < e; active = !active {
		var d, inst int
		if active {
			inst = s.instrument(b)
			d = geo(r, activeMean[b])
		} else {
			d = geo(r, passiveMean[b])
		}
		x := min(w+d, e)
		s.fill(w, x, codeOf[b][inst])
		w = x
	}
}

// instrument draws an activation instrument for benefit b; persons
// without work capacity (e < 0.05) get no wage subsidy.
func (s *sim) instrument(b int) int {
	i := 1 + pick(s.t.instrMix[b], s.r.Float64())
	if i == iWageSub && s.e < 0.05 {
		i = iGuidance
	}
	return i
}

// flexForward alternates flex job and flex-job benefit on [a, e),
// starting with a flex job when job is true.
func (s *sim) flexForward(a, e int, job bool) {
	r := s.r
	for w := a; w < e; job = !job {
		if job {
			x := min(w+geo(r, 150), e)
			s.fill(w, x, codeFlexJob)
			w = x
			continue
		}
		x := min(w+geo(r, 20), e)
		s.fillOn(w, x, bFlexBen, r.Float64())
		w = x
	}
}

// popRegime draws a non-starter's regular process and employability.
func (s *sim) popRegime() int {
	r, t := s.r, s.t
	u := r.Float64()
	score := riskEdu[s.edu] + riskOrigin[s.origin] + 0.25*(t.muniRate[s.muni]-5.5) + riskAge[s.band] +
		math.Log(u/(1-u+1e-300)+1e-300)
	if !s.male {
		score += 0.15
	}
	cls := 0
	for cls < 3 && score >= riskCut[cls] {
		cls++
	}
	g := &s.g
	g.pi = classPiLo[cls] + r.Float64()*(classPiHi[cls]-classPiLo[cls])
	g.don = durOn(g.pi)
	if g.pi > 0 {
		g.doff = g.don * (1 - g.pi) / g.pi
	}
	// primary on-type
	wUI := uiEdu[s.edu]
	if s.age < 25 || s.age >= 60 {
		wUI *= 0.4
	}
	wCash := cashEdu[s.edu] * cashOrigin[s.origin] * [4]float64{0.3, 0.3, 1, 2.5}[cls]
	if s.age < 30 {
		wCash *= 1.5
	}
	wSick := 0.8
	if !s.male {
		wSick *= 3
	}
	if s.age >= 40 {
		wSick *= 1.5
	}
	wRehab := 0.05
	if cls >= 2 {
		wRehab = 0.1
	}
	tot := wUI + wCash + wSick + wRehab
	x := r.Float64() * tot
	switch {
	case x < wUI:
		g.prim = 0
	case x < wUI+wCash:
		g.prim = 1
	case x < wUI+wCash+wSick:
		g.prim = 2
	default:
		g.prim = 3
	}
	g.primP = 0.6
	g.sec = secPop
	s.e = employability(r, g.pi)
	return cls
}

// nonStarterPath simulates the weekly status of a person who never
// starts a mentor spell: the regular process over the whole grid, flex
// job and disability pension from their onsets (hazards from age 18),
// then the overlays.
func (s *sim) nonStarterPath() {
	r := s.r
	cls := s.popRegime()
	s.track = trackRegular
	s.forward(0, GridWeeks, r.Float64() < s.g.pi, &s.g)
	s.transitions(s.w18)
	s.overlays(cls)
	s.popMatch()
}

// transitions draws the onsets of a flex job and of disability pension
// from week from on (hazards by age band, scaled by 0.1 + 2·pi and the
// person's education, origin and sex) and writes them.
func (s *sim) transitions(from int) {
	r := s.r
	m := (0.1 + 2*s.g.pi)
	mDP := m * dpEdu[s.edu]
	if s.origin == orNonWestern {
		mDP *= 1.4
	}
	if !s.male {
		mDP *= 1.7
	}
	eDP, eFlex := r.ExpFloat64(), r.ExpFloat64()
	jobFirst := r.Float64() < 0.85
	tDP, tFlex := GridWeeks, GridWeeks
	if s.track == trackRegular {
		tDP = s.onsetWeek(from, s.t.dpRate, mDP, eDP)
		tFlex = s.onsetWeek(from, s.t.flexRate, m*flexEdu[s.edu], eFlex)
	}
	if tFlex < tDP && tFlex < GridWeeks {
		s.track = trackFlex
		s.flexForward(max(tFlex, 0), GridWeeks, tFlex < 0 && jobFirst)
	}
	if tDP < GridWeeks {
		s.track = trackDP
		s.fill(tDP, GridWeeks, codeDP)
	}
}

// onsetWeek returns the first week >= from (not before age 18) at which
// an event with yearly hazard rate[age band]·mult happens, given the
// unit exponential draw e; GridWeeks when none before age 65 or the grid
// end.
func (s *sim) onsetWeek(from int, rate []float64, mult, e float64) int {
	from = max(from, s.w18)
	const wy = 365.2425 / 7
	for b := range ageBandLo {
		lo := weekOf(s.birth + panel.Day(float64(ageBandLo[b])*365.2425+0.5))
		hi := s.w65
		if b+1 < len(ageBandLo) {
			hi = weekOf(s.birth + panel.Day(float64(ageBandLo[b+1])*365.2425+0.5))
		}
		lo = max(lo, from)
		if hi <= lo {
			continue
		}
		if lo >= GridWeeks {
			break
		}
		h := rate[b] * mult / wy
		if h <= 0 {
			continue
		}
		if n := float64(hi - lo); h*n >= e {
			return lo + int(e/h)
		} else {
			e -= h * n
		}
	}
	return GridWeeks
}

// overlays adds education (SU), leave, small schemes, retirement and the
// age limits.
func (s *sim) overlays(cls int) {
	r := s.r
	at := func(age float64) int { return weekOf(s.birth + panel.Day(age*365.2425+0.5)) }
	// SU and apprenticeships.
	suLo, suHi := -1, -1
	v := r.Float64()
	switch s.edu {
	case eduShort, eduMedium, eduLong:
		a0 := 20 + 2*r.Float64()
		l := [3]float64{2, 3.5, 5.5}[s.edu-eduShort] + 1.5*r.Float64()
		suLo, suHi = at(a0), at(a0+l)
	case eduUpper:
		if s.age <= 27 && v < 0.65 {
			a0 := 19.5 + r.Float64()
			suLo, suHi = at(a0), at(a0+2+4*r.Float64())
		} else {
			suLo, suHi = at(18), at(19+r.Float64())
		}
	case eduPrimary:
		if s.age <= 22 && v < 0.45 {
			suLo, suHi = at(18), at(19+2*r.Float64())
		}
	case eduVocational:
		if s.age <= 30 {
			s.appLo, s.appHi = at(17), at(20.5+r.Float64())
		}
	}
	if suHi > 0 {
		for w := max(suLo, s.w18, 0); w < min(suHi, GridWeeks); w++ {
			if s.row[w] != codeDP {
				s.row[w] = codeSU
			}
		}
	}
	// Leave around births (children on 2012-01-01 and later births).
	leave := func(w0, n int) {
		for w := max(w0, 0); w < min(w0+n, GridWeeks); w++ {
			b := benefitOf[s.row[w]]
			if b == bSE || b == bUI || b == bCash || b == bSick {
				s.row[w] = codeOf[bOther][0]
			}
		}
	}
	for _, ka := range s.kids {
		w0 := weekOf(day2012 - panel.Day(ka*365.2425))
		if w0 < 0 {
			continue
		}
		if !s.male && r.Float64() < 0.9 {
			leave(w0-r.IntN(3), 46)
		} else if s.male && r.Float64() < 0.4 {
			leave(w0, 4)
		}
	}
	if !s.male && s.age >= 20 && s.age <= 42 && r.Float64() < 0.16 {
		leave(weekOf(day2012)+r.IntN(GridWeeks-weekOf(day2012)), 46)
	} else if s.male && s.age >= 22 && s.age <= 45 && r.Float64() < 0.06 {
		leave(weekOf(day2012)+r.IntN(GridWeeks-weekOf(day2012)), 4)
	}
	// Small schemes: VUS, service jobs, adult apprentices.
	x := r.Float64()
	wk := r.IntN(GridWeeks)
	switch {
	case cls <= 1 && (s.edu == eduPrimary || s.edu == eduVocational) && x < 0.03 && wk >= s.w18:
		for w := wk; w < min(wk+geo(r, 3), GridWeeks); w++ {
			if s.row[w] == codeSE {
				s.row[w] = codeOf[bVUS][0]
			}
		}
	case cls >= 2 && s.age >= 50 && x < 0.02:
		s.fill(wk%150, wk%150+52, codeOf[bService][0])
	case cls >= 2 && s.edu == eduVocational && s.age >= 25 && s.age <= 45 && x < 0.03:
		s.fill(wk, wk+geo(r, 90), codeOf[bApprentice][0])
	}
	// Retirement.
	if s.w60 < GridWeeks {
		y := r.Float64()
		on := s.w60 + geo(r, 40)
		switch s.track {
		case trackRegular:
			if y < earlyRetEdu[s.edu] {
				s.fill(on, s.w65, codeOf[bEarlyRet][0])
			}
		case trackFlex:
			if y < 0.5 {
				s.fill(on, s.w65, codeOf[bFlexRet][0])
			}
		}
	}
	s.ageLimits()
}

// ageLimits: state pension from 65, self-supporting before 18.
func (s *sim) ageLimits() {
	s.fill(s.w65, GridWeeks, codeOf[bStatePen][0])
	s.fill(0, s.w18, codeSE)
}

// popMatch draws a non-starter's match group from the last activated
// benefit before March 2013 (else the first after).
func (s *sim) popMatch() {
	last := -1
	for w := min(pubWeek, GridWeeks-1); w >= 0; w-- {
		if c := s.row[w]; codeActivated[c] {
			last = int(benefitOf[c])
			break
		}
	}
	for w := pubWeek + 1; w < GridWeeks && last < 0; w++ {
		if c := s.row[w]; codeActivated[c] {
			last = int(benefitOf[c])
		}
	}
	u := s.r.Float64()
	if s.track == trackDP && s.row[min(pubWeek, GridWeeks-1)] == codeDP {
		s.match = pick(matchDP, u)
		return
	}
	k := 0
	switch last {
	case bUI:
		k = 1
	case bCash:
		k = 2
	case bSick:
		k = 3
	case bRehab:
		k = 4
	case bFlexBen:
		k = 5
	}
	s.match = pick(matchPop[k], u)
}

// durOn is the mean duration (weeks) of benefit spells of a person whose
// long-run share of weeks on benefit is pi; the same for everyone, so
// that persons with the same pi have the same dynamics whether or not
// they start a mentor spell.
func durOn(pi float64) float64 { return stDon0 + stDon1*pi*pi }

// employability draws the probability of wage income in a self-
// supporting month (benefit months scale it by wageRate) given pi, the
// same law for everyone: 0 (no work capacity) with probability
// 0.10 + 0.36·pi, else min(1, 1.7·x^(0.35+2.65·pi)) with x ~
// Kumaraswamy(2, 1.2).
func employability(r *rand.Rand, pi float64) float64 {
	v, x := r.Float64(), kumaraswamy(r, stEA, stEB)
	if v < 0.10+0.36*pi {
		return 0
	}
	return math.Min(1, 1.7*math.Pow(x, 0.35+2.65*pi))
}
