package synth

import (
	"fmt"
	"math"
	"runtime"

	"github.com/psmeval/psmeval/panel"
)

// Outcome names of the generated register, in Register.Outcomes order.
const (
	Employed          = "employed"            // any wage income in the month
	EmployedNoBenefit = "employed_no_benefit" // wage income and no public benefit in the month
	Education         = "education"           // enrolled in an ordinary education in the month
	SUOutcome         = "su"                  // receiving SU in the month
)

// OutcomeNames lists the outcomes in Register.Outcomes order.
var OutcomeNames = []string{Employed, EmployedNoBenefit, Education, SUOutcome}

// EffectCurves is the true effect of starting a mentor spell, per outcome
// and event month (index 0 = the calendar month of the person's first
// start). A value is a shift of the monthly probability of the outcome
// (percentage points / 100): a treated person's outcome in event month m is
// Y(1) = 1{V < clamp(p0 + e[m], 0, 1)} where Y(0) = 1{V < p0} uses the same
// uniform V. Beyond the end of a curve its last value applies; a nil curve
// is no effect. The zero value is no effect on any outcome.
type EffectCurves struct {
	Employed          []float64
	EmployedNoBenefit []float64
	Education         []float64
	SU                []float64
}

// Zero returns no effect on any outcome (the zero value).
func Zero() EffectCurves { return EffectCurves{} }

// LockInCurve returns a curve that is depth for event months
// 0..months-1, then returns linearly to 0 over recovery months and stays
// at 0. Depth is a probability shift (-0.03 = three points fewer).
func LockInCurve(depth float64, months, recovery int) []float64 {
	if months < 0 {
		months = 0
	}
	if recovery < 0 {
		recovery = 0
	}
	c := make([]float64, 0, months+recovery+1)
	for m := 0; m < months; m++ {
		c = append(c, depth)
	}
	for k := 1; k <= recovery; k++ {
		c = append(c, depth*float64(recovery-k)/float64(recovery))
	}
	return append(c, 0)
}

// LockIn returns the lock-in curve LockInCurve(depth, months, recovery)
// on employment, employment without benefit and education, and no effect
// on SU: a typical active-labour-market-programme pattern.
func LockIn(depth float64, months, recovery int) EffectCurves {
	c := LockInCurve(depth, months, recovery)
	return EffectCurves{Employed: c, EmployedNoBenefit: c, Education: c}
}

// Constant returns the effect e in every event month on employment,
// employment without benefit and education, none on SU.
func Constant(e float64) EffectCurves {
	c := []float64{e}
	return EffectCurves{Employed: c, EmployedNoBenefit: c, Education: c}
}

// Curve returns the curve of the named outcome (nil for none or an
// unknown name).
func (e *EffectCurves) Curve(outcome string) []float64 {
	switch outcome {
	case Employed:
		return e.Employed
	case EmployedNoBenefit:
		return e.EmployedNoBenefit
	case Education:
		return e.Education
	case SUOutcome:
		return e.SU
	}
	return nil
}

// IsZero reports whether every value of every curve is 0.
func (e *EffectCurves) IsZero() bool {
	for _, c := range [][]float64{e.Employed, e.EmployedNoBenefit, e.Education, e.SU} {
		for _, v := range c {
			if v != 0 {
				return false
			}
		}
	}
	return true
}

// at returns curve c at event month m (m >= 0).
func at(c []float64, m int) float64 {
	if len(c) == 0 {
		return 0
	}
	if m >= len(c) {
		return c[len(c)-1]
	}
	return c[m]
}

// SFIPersons is the size of the SFI population at Scale 1 ("a good 3.3
// million" potential controls plus the treated).
const SFIPersons = 3_300_000

// Options configure Generate. The zero value is the default: the SFI size,
// seed 0, no true effect, no unobserved confounding, all persons kept.
type Options struct {
	// Scale is the size relative to the SFI population: round(3.3e6·Scale)
	// persons, of whom about 6,487·Scale start a mentor spell in
	// Feb–Jul 2012 and about 16,000·Scale in 2012. 0 means 1. Must be
	// finite and >= 0.
	Scale float64
	// Seed seeds every random stream (0 is a valid seed). Person k's
	// draws come from rand.NewPCG(Seed, mix(k, part)), so the data are
	// the same for any Workers.
	Seed uint64
	// Workers bounds the goroutines; 0 means runtime.GOMAXPROCS(0).
	Workers int
	// Effect is the true effect of starting a spell (see EffectCurves);
	// the zero value is no effect, and then TrueATT is exactly 0.
	Effect EffectCurves
	// Confounding is the strength of unobserved selection: the mean of
	// the unobserved factor U among persons who start a spell, in
	// standard deviations (U ~ N(0,1) for everyone else). U lowers the
	// monthly odds of wage income and of (non-SU) education by
	// UnobservedEffect per SD, weighted by UnobservedShape over calendar
	// months (by default from August 2012 on, after the SFI window), so a
	// positive value makes starters' untreated outcomes worse than those
	// of observably identical non-starters: a negative bias for any
	// estimator that conditions on observables only. U does not act on
	// the status grid. 0 (default) means no unobserved confounding: then
	// selection is on observables only (see the package documentation).
	Confounding float64
	// UnobservedEffect is the decrease in the log-odds of the monthly
	// probabilities of wage income and of education per standard
	// deviation of U at full weight (with UnobservedPersistent: the slope
	// β of the trait's level z(U)). 0 means the default 0.5; negative
	// values are an error.
	UnobservedEffect float64
	// UnobservedShape is the weight (0..1 typically) of U's effect by
	// calendar month, index 0 = January 2012; beyond its end the last
	// value applies; months before 2012 have weight 0. nil means the
	// default DefaultUnobservedShape (0 until July 2012, rising linearly
	// to 1 in January 2013, then 1). Ignored when UnobservedPersistent is
	// set.
	UnobservedShape []float64
	// UnobservedPersistent makes U a stable trait with an additive
	// effect on the probability scale: the monthly probabilities p of
	// wage income and of education become
	//
	//	p' = (1 − r) p + r z(U),  z(U) = 1 / (1 + exp(β U)),
	//
	// r = UnobservedShare, β = UnobservedEffect (a share r of each month
	// is set by the person's own level z(U), lower for higher U), in every
	// month of the data except February 2008 to January 2012, the months
	// that the history covariates of a start in the SFI window summarise
	// (the 48 months before the start month); UnobservedShape is then
	// ignored. Default false (U acts after the window only).
	//
	// What the scenario means. Two groups with the same distribution of p
	// whose distributions of U differ have untreated outcome means that
	// differ by r·(E z(U₁) − E z(U₀)) in every month where the trait acts,
	// before the start as after it: parallel trends hold on the
	// probability scale, a pre-programme placebo test in months before
	// February 2008 (event months −61..−54 hold no pause month for any
	// start in the window) sees the gap, and conditional
	// difference-in-differences on such a window removes it. The pause
	// keeps U out of most of the wage history that the selection and the
	// matching use: a history that proxied U would also, given the
	// history, unbalance the other latent traits, whose effect on p is not
	// constant over event time. (Starts from March 2012 still see U in
	// their last months of history and in the month before the start:
	// the features of a window starter are drawn given its U, so
	// selection stays on observables only, through the features U moved.)
	// Probabilities of 0 or 1 (school age, the statuses that imply wage
	// income) move too, so that the gap is the same in every month: the
	// scenario tests identification, not realism. TrueATT stays exact: it
	// re-simulates each person with the same U and the same draws.
	UnobservedPersistent bool
	// UnobservedShare is r of UnobservedPersistent, in (0, 1); 0 means
	// the default 0.25. Ignored without UnobservedPersistent.
	UnobservedShare float64
	// ControlFraction keeps each person whose first spell does not start
	// in the SFI window (1 Feb – 31 Jul 2012) with this probability;
	// persons starting in the window are kept by WindowFraction. The kept
	// non-window persons are a random sample of the SFI's potential
	// controls (later starters included, at the same rate), so a smaller
	// population still supports the analysis. 0 means 1 (keep all); must
	// be in (0, 1].
	ControlFraction float64
	// WindowFraction keeps each person whose first spell starts in the
	// SFI window with this probability, drawn from the person's own
	// stream (Seed, a hash of the person and a part of its own), so every
	// kept person's data are the same as without thinning and the same
	// for any Workers. With ControlFraction it sets the number treated
	// (about 6,487·Scale·WindowFraction) and of the others (about
	// (3.3e6 − 6,487)·Scale·ControlFraction) independently, e.g. fewer
	// treated than in proportion to the population. 0 means 1 (keep
	// all); must be in (0, 1].
	WindowFraction float64
	// StatusFrom, when not zero, drops the weeks of the status grid
	// before the week containing StatusFrom (Register.Status.FirstWeek
	// and Weeks say which remain; the grid still ends with the last
	// week, June 2014, where the last spells start). Every person's whole
	// path is simulated either way, so everything else (outcomes,
	// spells, attributes, truths) is the same bit for bit; a design whose
	// covariates read a shorter history (windows before a start in a
	// window) then holds N bytes per week it may read instead of 390
	// weeks. Zero means the grid's first week (Monday 1 January 2007);
	// it must lie in the grid and not after the first spell start
	// (1 January 2012).
	StatusFrom panel.Day
	// Progress, when not nil, is called from the generating goroutines
	// with the number of persons done and the total (not in order, and
	// possibly concurrently: it must be safe for concurrent use).
	Progress func(done, total int)
}

// DefaultUnobservedShape is the default calendar weight of U's effect,
// index 0 = January 2012: 0 until July 2012 (so U leaves everything the
// SFI window's starters are selected on untouched), then a linear rise
// to 1 in January 2013, then 1.
func DefaultUnobservedShape() []float64 {
	s := make([]float64, 13)
	for i := 7; i < len(s); i++ {
		s[i] = float64(i-6) / 6
	}
	return s
}

// resolved returns a copy with defaults filled in, or an error naming the
// bad option.
func (o *Options) resolved() (Options, error) {
	var r Options
	if o != nil {
		r = *o
	}
	if math.IsNaN(r.Scale) || math.IsInf(r.Scale, 0) || r.Scale < 0 {
		return r, fmt.Errorf("synth: Options.Scale %v must be finite and >= 0", r.Scale)
	}
	if r.Scale == 0 {
		r.Scale = 1
	}
	if r.Workers < 0 {
		return r, fmt.Errorf("synth: Options.Workers %d must be >= 0", r.Workers)
	}
	if r.Workers == 0 {
		r.Workers = runtime.GOMAXPROCS(0)
	}
	if math.IsNaN(r.Confounding) || math.IsInf(r.Confounding, 0) {
		return r, fmt.Errorf("synth: Options.Confounding %v must be finite", r.Confounding)
	}
	if math.IsNaN(r.UnobservedEffect) || math.IsInf(r.UnobservedEffect, 0) || r.UnobservedEffect < 0 {
		return r, fmt.Errorf("synth: Options.UnobservedEffect %v must be finite and >= 0", r.UnobservedEffect)
	}
	if r.UnobservedEffect == 0 {
		r.UnobservedEffect = 0.5
	}
	if math.IsNaN(r.UnobservedShare) || r.UnobservedShare < 0 || r.UnobservedShare >= 1 {
		return r, fmt.Errorf("synth: Options.UnobservedShare %v must be in [0, 1) (0 = default 0.25)", r.UnobservedShare)
	}
	if r.UnobservedShare == 0 {
		r.UnobservedShare = 0.25
	}
	if r.UnobservedShape == nil {
		r.UnobservedShape = DefaultUnobservedShape()
	}
	for i, v := range r.UnobservedShape {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return r, fmt.Errorf("synth: Options.UnobservedShape[%d] = %v must be finite", i, v)
		}
	}
	if math.IsNaN(r.ControlFraction) || r.ControlFraction < 0 || r.ControlFraction > 1 {
		return r, fmt.Errorf("synth: Options.ControlFraction %v must be in (0, 1]", r.ControlFraction)
	}
	if r.ControlFraction == 0 {
		r.ControlFraction = 1
	}
	if math.IsNaN(r.WindowFraction) || r.WindowFraction < 0 || r.WindowFraction > 1 {
		return r, fmt.Errorf("synth: Options.WindowFraction %v must be in (0, 1]", r.WindowFraction)
	}
	if r.WindowFraction == 0 {
		r.WindowFraction = 1
	}
	if r.StatusFrom == 0 {
		r.StatusFrom = GridFirstWeek
	}
	if r.StatusFrom < GridFirstWeek || r.StatusFrom > firstSpellDay {
		return r, fmt.Errorf("synth: Options.StatusFrom %v must be in %v..%v (the status grid's first day to the first spell start)", r.StatusFrom, GridFirstWeek, firstSpellDay)
	}
	e := r.Effect
	for _, c := range []struct {
		field string
		curve []float64
	}{{"Employed", e.Employed}, {"EmployedNoBenefit", e.EmployedNoBenefit}, {"Education", e.Education}, {"SU", e.SU}} {
		for m, v := range c.curve {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < -1 || v > 1 {
				return r, fmt.Errorf("synth: Options.Effect.%s[%d] = %v must be in [-1, 1]", c.field, m, v)
			}
		}
	}
	return r, nil
}
