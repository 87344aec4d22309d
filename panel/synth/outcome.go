package synth

import (
	"math"

	"github.com/psmeval/psmeval/panel"
)

// Outcome probabilities of a week's status for a person with
// employability e; see wageRate.
var (
	codeWage [256]float64 // wageRate by code; -1 = always
	codeNB   [256]bool    // no public benefit (self-supporting or SU)
	codeSUw  [256]bool
	codeEdu  [256]bool // in ordinary education
	// codeActivated: a benefit with activation variants.
	codeActivated [256]bool
)

func initCodeTables() {
	for c := range statusLevels {
		b, i := int(benefitOf[c]), int(instrOf[c])
		codeWage[c] = wageRate[b]
		if i == iWageSub {
			codeWage[c] = -1
		}
		codeNB[c] = b == bSE || b == bSU
		codeSUw[c] = b == bSU
		codeEdu[c] = b == bSU || i == iOrdEdu || b == bApprentice
		codeActivated[c] = isActivated(b)
	}
}

// monthly computes the untreated monthly probabilities p0 and draws the
// uniforms V from stream B (two per month, always in the same order, so
// they do not depend on any option but Seed; a starter's candidates
// draw fresh uniforms from the continuing stream).
func (s *sim) monthly() { s.monthlyP(true) }

// monthlyP computes p0 and, with draw, draws V (without: keeps V, for a
// change of U only).
func (s *sim) monthlyP(draw bool) {
	rB := s.rB
	e := s.e
	beta := s.o.UnobservedEffect * s.u
	shape := s.o.UnobservedShape
	persistent := s.o.UnobservedPersistent
	share := s.o.UnobservedShare
	level := 1 / (1 + math.Exp(beta)) // z(U) = F(−β U)
	s.trait = 0
	if persistent {
		s.trait = share * level
	}
	// U's odds factor by distinct shape weight (usually few).
	var kLast, wLast float64 = 1, 0
	for t := 0; t < empMonths; t++ {
		lo, hi := int(monthWeekLo[t]), int(monthWeekHi[t])
		pe, pd := 0.0, 0.0
		nb, su := true, false
		same := true
		c0 := s.row[lo]
		for w := lo + 1; w < hi; w++ {
			same = same && s.row[w] == c0
		}
		if same { // the common case: one status all month
			pe = codeWage[c0] * e
			if codeWage[c0] < 0 {
				pe = 1
			}
			nb, su = codeNB[c0], codeSUw[c0]
			if codeEdu[c0] {
				pd = 1
			}
		} else {
			for w := lo; w < hi; w++ {
				c := s.row[w]
				r := codeWage[c]
				if r < 0 {
					r = 1
				} else {
					r *= e
				}
				if r > pe {
					pe = r
				}
				nb = nb && codeNB[c]
				su = su || codeSUw[c]
				if codeEdu[c] {
					pd = 1
				}
			}
		}
		// age: no wage before 15, half the rate at 15-17; school.
		if hi <= s.w15 {
			pe = 0
		} else if hi <= s.w18 {
			pe *= 0.5
		}
		if pd < 1 {
			switch {
			case hi <= s.w16:
				pd = 1
			case hi <= s.w18:
				pd = 0.85
			case lo >= s.appLo && lo < s.appHi:
				pd = 1
				if pe < 0.95 {
					pe = 0.95
				}
			default:
				pd = 0.01
			}
		}
		if persistent && traitMonth(t) {
			// a stable trait: a share r of the month's probability is
			// the person's own level z(U)
			pe = (1-share)*pe + share*level
			pd = (1-share)*pd + share*level
		} else if !persistent && beta != 0 && t >= month2012 {
			j := t - month2012
			wt := shape[len(shape)-1]
			if j < len(shape) {
				wt = shape[j]
			}
			if wt != wLast {
				kLast, wLast = math.Exp(-beta*wt), wt
			}
			if wt != 0 {
				pe = oddsShift(pe, kLast)
				if pd < 1 {
					pd = oddsShift(pd, kLast)
				}
			}
		}
		s.pEmp[t], s.pEdu[t], s.nb[t], s.su[t] = pe, pd, nb, su
		if draw {
			s.vEmp[t] = rB.Float64()
			s.vEdu[t] = rB.Float64()
		}
	}
}

// The months of the persistent trait's pause (index from January 2007):
// February 2008 to January 2012, the months of history of every start in
// the SFI window (see Options.UnobservedPersistent).
var (
	persistentGapFirst = int(panel.MonthFromDate(2008, 2) - OutcomeFirstMonth)
	persistentGapLast  = int(panel.MonthFromDate(2012, 1) - OutcomeFirstMonth)
)

// traitMonth reports whether the persistent trait acts in month t
// (index from January 2007): outside its pause.
func traitMonth(t int) bool { return t < persistentGapFirst || t > persistentGapLast }

func oddsShift(p, k float64) float64 {
	if p <= 0 || p >= 1 {
		return p
	}
	return p * k / (1 - p + p*k)
}

func clampP(p float64) float64 {
	if p < 0 {
		return 0
	}
	if p > 1 {
		return 1
	}
	return p
}

// outcomeBits holds one person's four outcomes for months 0..empMonths-1.
type outcomeBits [4][2]uint64

func (b *outcomeBits) set(k, t int) { b[k][t/64] |= 1 << (uint(t) % 64) }
func (b *outcomeBits) get(k, t int) bool {
	return b[k][t/64]>>(uint(t)%64)&1 == 1
}

// outcomes returns the outcome bits when treated from outcome month sm
// (sm < 0: never treated), using the p0 and V of monthly. Y(1) in
// event month m is 1{V < clamp(p0 + effect[m])}; employed_no_benefit
// shares employed's uniform and requires employed, su shares
// education's uniform and implies education.
func (s *sim) outcomes(sm int, eff *EffectCurves) outcomeBits {
	var y outcomeBits
	for t := 0; t < empMonths; t++ {
		pe, pd, ve, vd := s.pEmp[t], s.pEdu[t], s.vEmp[t], s.vEdu[t]
		pn, ps := 0.0, 0.0
		if s.nb[t] {
			pn = pe
		} else if s.trait != 0 && traitMonth(t) {
			// the months the persistent trait sets (V < r·z) are months
			// of work without benefit, whatever the status grid's
			// benefit: the trait's gap is then the same for employment
			// with and without benefit
			pn = s.trait
		}
		if s.su[t] {
			ps = 1
		}
		var emp, enb, edu, su bool
		if sm >= 0 && t >= sm {
			m := t - sm
			emp = ve < clampP(pe+at(eff.Employed, m))
			enb = emp && ve < clampP(pn+at(eff.EmployedNoBenefit, m))
			su = vd < clampP(ps+at(eff.SU, m))
			edu = su || vd < clampP(pd+at(eff.Education, m))
		} else {
			emp = ve < pe
			enb = ve < pn
			su = vd < ps
			edu = vd < pd
		}
		if emp {
			y.set(0, t)
		}
		if enb {
			y.set(1, t)
		}
		if edu && t < eduMonths {
			y.set(2, t)
		}
		if su {
			y.set(3, t)
		}
	}
	return y
}

// outcomeMonths is the number of observed months of each outcome, in
// OutcomeNames order.
var outcomeMonths = [4]int{empMonths, empMonths, eduMonths, empMonths}

// spellsGen draws the mentor spells of a starter from the first start:
// merged spells of lognormal length (median 91 days, mean 163), some
// split into directly consecutive sub-spells with different weekly hours,
// and repeat spells after a gap.
func (s *sim) spellsGen(person int32) {
	r := s.r
	s.spells = s.spells[:0]
	start := s.start
	for {
		n := int(math.Exp(math.Log(91)+1.22*r.NormFloat64()) + 0.5)
		if n < 1 {
			n = 1
		}
		end := start + panel.Day(n) - 1
		if end > gridLastDay {
			end = gridLastDay
		}
		pieces := 1
		if u := r.Float64(); u < spellSplitP {
			pieces = 2
			if u < spellSplitP*0.25 {
				pieces = 3
			}
		}
		if int(end-start+1) < 14*pieces {
			pieces = 1
		}
		h := drawHours(r.Float64())
		a := start
		for p := 0; p < pieces; p++ {
			b := end
			if p < pieces-1 {
				rest := int(end - a + 1)
				b = a + panel.Day(7+r.IntN(rest-7*(pieces-p)+1)) - 1
			}
			s.spells = append(s.spells, panel.Spell{Person: person, Start: a, End: b, Hours: h})
			nh := drawHours(r.Float64())
			for nh == h {
				nh = drawHours(r.Float64())
			}
			h = nh
			a = b + 1
		}
		if r.Float64() >= spellAgainP {
			break
		}
		start = end + 15 + panel.Day(r.ExpFloat64()*90)
		if start > gridLastDay-7 {
			break
		}
	}
}

const (
	spellSplitP = 0.42
	spellAgainP = 0.45
)

var (
	hoursValues = []float32{1, 2, 3, 4, 5, 6, 8, 10, 15, 20}
	hoursCum    = cumulative([]float64{0.08, 0.24, 0.26, 0.15, 0.08, 0.07, 0.06, 0.04, 0.015, 0.005})
)

func drawHours(u float64) float32 { return hoursValues[pick(hoursCum, u)] }
