package synth

import (
	"math"
	"slices"

	"github.com/psmeval/psmeval/panel"
)

// Selection into a mentor spell. A starter is a candidate accepted, on
// the start day, with a probability that depends on its observable
// features f only. A candidate is a person of the population law
// (attributes, status path, outcomes: exactly what a never-starter is)
// or, for a start in the SFI window (Feb–Jul 2012), with probability
// laterP a later starter (first spell from August 2012, itself selected
// at its own start day; see starterDraw):
//
//	P(accept | f) = exp(x1(f)) · min(1, exp(x2(f) − Cap)),  x_s(f) = Σ_{j in stage s} λ_j[f_j]
//
// (rejection sampling from the candidate law; stage 1 holds the
// attributes, stage 2 the status and history features, and the cap keeps
// the number of candidates per starter near 120). So, given the features,
// window starters and their potential controls (never-starters and later
// starters) have the same law of everything unobserved (the latent
// benefit propensity, employability, future path), except the factor U
// (Options.Confounding). The λ and Cap are fitted by raking (iterative
// proportional fitting on the margins, with the cap inside) on
// candidates drawn from the same mixture, the later starters through
// laterCandidate with the weights being fitted (fixed-point rounds), so
// that the window starters' margins are the report's 2012-starter
// figures (docs/method.md §4); see TestFitSelection, which writes
// selection_weights.go. About a third of the starters have stage-2 weights
// at the cap, so the true propensity is log-linear in the feature dummies
// below the cap and flat above it.
//
// The features, each measured at the start day (week, month) as the
// report does: benefit at start (10 groups; the states excluded by the
// SFI rule 3 have weight 0), activation at start (8 groups), age band
// (completed years), sex, origin, education, match group, years on
// public support in the 260 weeks before (7 bins), months with wage
// income in the 48 months before (6 bins), wage income in the month before
// the start month. Every feature is measured strictly before the start or
// is a state of the start week itself, which the programme does not
// change (it acts on the monthly outcomes from the start month on): so
// the window starters' features are what their controls' features are,
// and a design that measures its covariates the same way can balance
// them. (The report's descriptive chapter gives wage income in the start
// month, 16 %; that month already carries the programme's effect, so the
// generator selects on the month before and calibrates it to the same
// 16 %.)
const (
	fBenefit = iota
	fAct
	fAge
	fSex
	fOrigin
	fEdu
	fMatch
	fSupport
	fWage
	fWagePrev
	nFeat
)

// featureNames name the selection features (for tests and the fit).
var featureNames = [nFeat]string{"benefit", "activation", "age", "sex", "origin", "education", "match_group", "support", "wage", "wage_prev"}

// featureTargets are the report's margins of each feature (percent), in
// fresh slices the caller may change.
func featureTargets() [nFeat][]float64 {
	men := tgtTreatedMenPct
	return [nFeat][]float64{
		slices.Clone(tgtTreatedBenefit), slices.Clone(tgtTreatedAct), slices.Clone(tgtTreatedAge),
		{100 - men, men}, slices.Clone(tgtTreatedOrigin), slices.Clone(tgtTreatedEdu),
		slices.Clone(tgtTreatedMatch), slices.Clone(tgtTreatedSupport), slices.Clone(tgtTreatedWage),
		{100 - tgtTreatedWagePrev, tgtTreatedWagePrev},
	}
}

// stage1 features are known before the status path is simulated.
var stage1 = [nFeat]bool{fAge: true, fSex: true, fOrigin: true, fEdu: true}

var (
	// codeBenefitGroup is the benefit-at-start group of each code
	// (index into startBenefitNames), -1 for the excluded states.
	codeBenefitGroup [256]int8
	// codeActGroup is the activation-at-start group (startActNames).
	codeActGroup [256]int8
	codeSupport  [256]bool
)

func initFeatureTables() {
	for c := range statusLevels {
		b, i := int(benefitOf[c]), int(instrOf[c])
		codeSupport[c] = b != bSE && b != bSU
		codeBenefitGroup[c] = -1
		for j, bi := range startBenefitIndex {
			if bi == b {
				codeBenefitGroup[c] = int8(j)
			}
		}
		switch {
		case b == bSE || b == bSU:
			codeActGroup[c] = 7
		case b == bFlexJob:
			codeActGroup[c] = 5
		case !isActivated(b) || i == iPassive:
			codeActGroup[c] = 6
		default:
			codeActGroup[c] = int8(i - 1)
		}
	}
}

// features returns the selection features of the simulated person at
// start day d (week w, outcome month sm); ok is false when the person is
// not eligible (an excluded state in the start week).
func (s *sim) features(d panel.Day) (f [nFeat]int, ok bool) {
	w := weekOf(d)
	c := s.row[w]
	if codeBenefitGroup[c] < 0 {
		return f, false
	}
	f[fBenefit] = int(codeBenefitGroup[c])
	f[fAct] = int(codeActGroup[c])
	f[fAge] = ageBand(ageYears(s.birth, d))
	if s.male {
		f[fSex] = 1
	}
	f[fOrigin] = s.origin
	f[fEdu] = s.edu
	f[fMatch] = s.match
	f[fSupport] = supportBin(s.row[:], w)
	sm := int(panel.MonthOf(d) - OutcomeFirstMonth)
	wm := 0
	for t := max(sm-48, 0); t < min(sm, empMonths); t++ {
		if s.vEmp[t] < s.pEmp[t] {
			wm++
		}
	}
	switch {
	case wm == 0:
		f[fWage] = 0
	case wm >= 48:
		f[fWage] = 5
	default:
		f[fWage] = min(1+(wm-1)/12, 4)
	}
	if p := sm - 1; p >= 0 && p < empMonths && s.vEmp[p] < s.pEmp[p] { // starts after the outcome cut-off count as without
		f[fWagePrev] = 1
	}
	return f, true
}

// supportBin returns the bin of weeks on public support in the 260
// weeks before week w: none, (0,1], (1,2], (2,3], (3,4], (4,5) years, all 5.
func supportBin(row []byte, w int) int {
	sup := 0
	for _, x := range row[max(w-260, 0):w] {
		if codeSupport[x] {
			sup++
		}
	}
	switch {
	case sup == 0:
		return 0
	case sup >= 260:
		return 6
	}
	return min(1+(sup-1)/52, 5)
}

// stage2Bound is the stage-2 log weight with the wage features at their
// largest weights.
func (sw *selWeights) stage2Bound(f *[nFeat]int) float64 {
	x := 0.0
	for j := 0; j < nFeat; j++ {
		if stage1[j] {
			continue
		}
		if j == fWage || j == fWagePrev {
			m := math.Inf(-1)
			for _, v := range sw.logW[j] {
				m = math.Max(m, v)
			}
			x += m
			continue
		}
		x += sw.logW[j][f[j]]
	}
	return x
}

// selWeights holds the fitted λ (log weights). Stage 1 accepts with
// probability exp(x1) (x1 = sum of the stage-1 λ, whose largest value is
// 0), stage 2 with min(1, exp(x2 − Cap)): capping the largest stage-2
// weights keeps the number of candidates per starter in the tens; the
// fit accounts for the cap, and since the acceptance depends on the
// observables only, selection stays on observables.
type selWeights struct {
	logW [nFeat][]float64
	Cap  float64
}

func (sw *selWeights) accept2(f *[nFeat]int) float64 {
	return math.Min(1, math.Exp(sw.stage(f, false)-sw.Cap))
}

// normalize shifts the log weights so that each stage-1 feature's
// largest level is 0, each stage-2 feature's other than benefit and
// activation too, and the largest sum over the benefit and activation
// pairs that a status code can have is 0.
func (sw *selWeights) normalize() {
	for j := range sw.logW {
		if j == fBenefit || j == fAct {
			continue
		}
		m := math.Inf(-1)
		for _, v := range sw.logW[j] {
			m = math.Max(m, v)
		}
		for l := range sw.logW[j] {
			sw.logW[j][l] -= m
		}
	}
	m := math.Inf(-1)
	for c := range statusLevels {
		if b := codeBenefitGroup[c]; b >= 0 {
			m = math.Max(m, sw.logW[fBenefit][b]+sw.logW[fAct][codeActGroup[c]])
		}
	}
	for l := range sw.logW[fBenefit] {
		sw.logW[fBenefit][l] -= m
	}
}

func (sw *selWeights) stage(f *[nFeat]int, first bool) float64 {
	x := 0.0
	for j := 0; j < nFeat; j++ {
		if stage1[j] == first {
			x += sw.logW[j][f[j]]
		}
	}
	return x
}

// maxAttempts bounds the candidates drawn for one starter (a safeguard:
// the expected number is in the tens).
const maxAttempts = 1 << 20

// starterDraw draws the starter's person for its start day s.start.
//
// Candidates come from the law of the persons who could be the SFI's
// controls at that day. For a start in the SFI window these are everyone
// whose first spell is not in the window (January starters are excluded
// on both sides by the SFI's rule 4): the never-starters, drawn from the
// population law, and the later starters (first spell from August 2012),
// who are themselves selected on their features at their own start day,
// so their paths around the window differ from the population law given
// the features at a window day. A window starter's candidate is
// therefore a later starter with probability laterP (their share of that
// pool) and a population person otherwise; given its features on the
// start day, a window starter then has the same law of everything else
// as a control does: selection on observables for the SFI estimand
// (starting in the window versus not starting in it). Without the later
// starters in the candidate pool, matched controls over-represent later
// starters, whose outcomes after the window are low, and a PSM estimate
// is biased upwards by about 0.4 months of employment without benefit
// over 21 months (see TestLaterStartersInPool). Other starters draw
// population candidates.
func (s *sim) starterDraw() {
	window := s.start >= windowFirst && s.start <= windowLast
	s.attempts = s.acceptedAt(s.start, window)
}

// acceptedAt draws candidates until one is accepted on day d and returns
// the number of population candidates drawn. With mix, each candidate is
// a later starter (drawn by acceptedAt at a later-start day) with
// probability laterP. s.candStart is set to the accepted candidate's own
// first start (the later starter's start day, NoStart for a population
// candidate): the start the person would have had without starting on d.
func (s *sim) acceptedAt(d panel.Day, mix bool) int {
	r := s.r
	sw := s.sel
	n := 0
	for tries := 1; ; tries++ {
		last := tries >= maxAttempts
		if mix && !last && r.Float64() < s.t.laterP {
			f, ok, m := s.laterCandidate(d)
			n += m
			if ok && r.Float64() < math.Exp(sw.stage(&f, true))*sw.accept2(&f) {
				s.candStart = s.laterStart
				return n
			}
			continue
		}
		n++
		if s.candidate(d, last) {
			s.candStart = NoStart
			return n
		}
	}
}

// laterCandidate draws a later starter (start day by laterDay, selected
// there by acceptedAt) as a candidate for a start on day d, and returns
// its features at d (ok false if it is not eligible at d) and the number
// of population candidates drawn; its start day is left in s.laterStart. The later starter is drawn without the
// Confounding shift of U, so that U leaves a window starter's selection
// untouched; s.u is restored (and p0 recomputed with it) before return.
// The selection fit (TestFitSelection) draws its later-starter
// candidates through this function too.
func (s *sim) laterCandidate(d panel.Day) (f [nFeat]int, ok bool, n int) {
	u := s.u
	s.u -= s.o.Confounding
	s.laterStart = s.laterDay()
	n = s.acceptedAt(s.laterStart, false)
	s.u = u
	s.monthlyP(false)
	f, ok = s.features(d)
	return f, ok, n
}

// laterDay draws a start day of a later starter (first spell from August
// 2012) by the start volumes.
func (s *sim) laterDay() panel.Day {
	mi := laterFirstMonth + pick(s.t.laterMon, s.r.Float64())
	return startMonthFirst[mi] + panel.Day(s.r.IntN(startMonthLen[mi]))
}

// laterFirstMonth is the index into startVolume of August 2012, the first
// month after the SFI window.
const laterFirstMonth = 7

// candidate draws one population candidate and reports whether it is
// accepted on day d (always with force); see the comment on the
// selection features.
func (s *sim) candidate(d panel.Day, force bool) bool {
	r := s.r
	sw := s.sel
	s.attributes()
	var f [nFeat]int
	f[fAge] = ageBand(ageYears(s.birth, d))
	if s.male {
		f[fSex] = 1
	}
	f[fOrigin], f[fEdu] = s.origin, s.edu
	if u := r.Float64(); !force && u >= math.Exp(sw.stage(&f, true)) {
		return false
	}
	s.resetPath()
	s.nonStarterPath()
	// Early rejection: the status features are known now; bound the
	// wage features by their largest weights before simulating the
	// outcomes (accepting iff u < accept2 either way).
	u := r.Float64()
	c := s.row[weekOf(d)]
	if !force {
		if codeBenefitGroup[c] < 0 {
			return false
		}
		f[fBenefit], f[fAct], f[fMatch] = int(codeBenefitGroup[c]), int(codeActGroup[c]), s.match
		f[fSupport] = supportBin(s.row[:], weekOf(d))
		if u >= math.Min(1, math.Exp(sw.stage2Bound(&f)-sw.Cap)) {
			return false
		}
	}
	s.monthly()
	f2, ok := s.features(d)
	return force || (ok && u < sw.accept2(&f2))
}

func (s *sim) resetPath() { s.appLo, s.appHi = -1, -1 }
