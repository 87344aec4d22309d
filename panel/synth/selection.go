package synth

import (
	"math"

	"github.com/psmeval/psmeval/panel"
)

// Selection into a mentor spell. A starter is a person of the population
// law (attributes, status path, outcomes: exactly what a non-starter is)
// accepted, on the start day, with a probability that depends on its
// observable features f only:
//
//	P(accept | f) = exp(x1(f)) · min(1, exp(x2(f) − Cap)),  x_s(f) = Σ_{j in stage s} λ_j[f_j]
//
// (rejection sampling from the population law; stage 1 holds the
// attributes, stage 2 the status and history features, and the cap keeps
// the number of candidates per starter near 120). So, given the features,
// starters and non-starters have the same law of everything unobserved
// (the latent benefit propensity, employability, future path), except
// the factor U (Options.Confounding). The λ and Cap are fitted by raking
// (iterative proportional fitting on the margins, with the cap inside)
// so that the starters' margins are the report's 2012-starter figures
// (SFI-METHOD.md §4); see TestFitSelection, which writes
// selection_weights.go. About half of the starters have stage-2 weights
// at the cap, so the true propensity is log-linear in the feature dummies
// below the cap and flat above it.
//
// The features, each measured at the start day (week, month) as the
// report does: benefit at start (10 groups; the states excluded by the
// SFI rule 3 have weight 0), activation at start (8 groups), age band
// (completed years), sex, origin, education, match group, years on
// public support in the 260 weeks before (7 bins), months with wage
// income in the 48 months before (6 bins), wage income in the start month.
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
	fWageStart
	nFeat
)

// featureNames name the selection features (for tests and the fit).
var featureNames = [nFeat]string{"benefit", "activation", "age", "sex", "origin", "education", "match_group", "support", "wage", "wage_start"}

// featureTargets are the report's margins of each feature (percent).
func featureTargets() [nFeat][]float64 {
	men := tgtTreatedMenPct
	return [nFeat][]float64{
		tgtTreatedBenefit, tgtTreatedAct, tgtTreatedAge, {100 - men, men}, tgtTreatedOrigin,
		tgtTreatedEdu, tgtTreatedMatch, tgtTreatedSupport, tgtTreatedWage,
		{100 - tgtTreatedWageStart, tgtTreatedWageStart},
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
	if sm < empMonths && s.vEmp[sm] < s.pEmp[sm] { // starts after the outcome cut-off count as without
		f[fWageStart] = 1
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
		if j == fWage || j == fWageStart {
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

// starterDraw draws population candidates for the start day s.start
// until one is accepted; see the comment on the selection features.
func (s *sim) starterDraw() {
	r := s.r
	sw := &selectionWeights
	for s.attempts = 1; ; s.attempts++ {
		s.attributes()
		var f [nFeat]int
		f[fAge] = ageBand(ageYears(s.birth, s.start))
		if s.male {
			f[fSex] = 1
		}
		f[fOrigin], f[fEdu] = s.origin, s.edu
		last := s.attempts >= maxAttempts
		if u := r.Float64(); !last && u >= math.Exp(sw.stage(&f, true)) {
			continue
		}
		s.resetPath()
		s.nonStarterPath()
		// Early rejection: the status features are known now; bound the
		// wage features by their largest weights before simulating the
		// outcomes (accepting iff u < accept2 either way).
		u := r.Float64()
		c := s.row[weekOf(s.start)]
		if !last {
			if codeBenefitGroup[c] < 0 {
				continue
			}
			f[fBenefit], f[fAct], f[fMatch] = int(codeBenefitGroup[c]), int(codeActGroup[c]), s.match
			f[fSupport] = supportBin(s.row[:], weekOf(s.start))
			if u >= math.Min(1, math.Exp(sw.stage2Bound(&f)-sw.Cap)) {
				continue
			}
		}
		s.monthly()
		f2, ok := s.features(s.start)
		if !last && (!ok || u >= sw.accept2(&f2)) {
			continue
		}
		return
	}
}

func (s *sim) resetPath() { s.appLo, s.appHi = -1, -1 }
