package estimate

// Rosenbaum bounds: how large a hidden bias in treatment assignment would
// have to be to explain away the matched estimate. This file holds the
// options, the result, the Gamma grid, Gamma* and the entry point on a
// Sample with its Matches; rosenbaum_binary.go, rosenbaum_rank.go and
// rosenbaum_sets.go hold the three tests.

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/psmeval/psmeval/psm"
)

// Alternative is the direction of the one-sided test.
type Alternative int

const (
	// AltAuto tests in the direction of the observed effect: Greater when
	// the statistic is at least its expectation without hidden bias
	// (Gamma = 1), else Less (as rbounds::binarysens, which tests the
	// larger of the two discordant counts, and rbounds::hlsens, which
	// swaps the groups for a negative effect).
	AltAuto Alternative = iota
	// AltGreater tests "treated outcomes are higher".
	AltGreater
	// AltLess tests "treated outcomes are lower" (the outcomes are
	// negated, or a 0/1 outcome turned into 1 − y, and the Greater test
	// is run).
	AltLess
)

func (a Alternative) String() string {
	switch a {
	case AltAuto:
		return "auto"
	case AltGreater:
		return "greater"
	case AltLess:
		return "less"
	}
	return fmt.Sprintf("Alternative(%d)", int(a))
}

// RosenbaumMethod names the test behind a RosenbaumResult.
type RosenbaumMethod int

const (
	// MantelHaenszel: 0/1 outcome; the number of treated responders,
	// exact (binomial or Poisson-binomial) or by the normal approximation
	// (rosenbaum_binary.go).
	MantelHaenszel RosenbaumMethod = iota
	// SignedRank: 1:1 pairs; Wilcoxon's signed-rank statistic and the
	// Hodges–Lehmann estimate (rosenbaum_rank.go).
	SignedRank
	// MeanDifference: matched sets of any size; the treated-minus-mean-of-
	// controls statistic with the separable approximation, and its point
	// estimate (rosenbaum_sets.go).
	MeanDifference
)

func (m RosenbaumMethod) String() string {
	switch m {
	case MantelHaenszel:
		return "mantel-haenszel"
	case SignedRank:
		return "signed-rank"
	case MeanDifference:
		return "mean-difference"
	}
	return fmt.Sprintf("RosenbaumMethod(%d)", int(m))
}

// RosenbaumOptions configures the Rosenbaum bounds. The zero value (or a
// nil pointer) is the default.
type RosenbaumOptions struct {
	// Gammas is the grid of Gamma values, the bound on the odds ratio of
	// treatment between two units of a matched set that look alike on the
	// covariates. Values must be finite, at least 1 and strictly
	// increasing. Default (nil): 1, 1.1, ..., 3 (DefaultGammas).
	Gammas []float64
	// Level is the significance level of GammaStar; default (0) 0.05.
	Level float64
	// Alternative is the direction of the test; default AltAuto.
	Alternative Alternative
	// ExactMax bounds the exact Poisson-binomial computation of the
	// Mantel–Haenszel bounds for matched sets of mixed shapes, O(S²) in
	// the number S of sets whose treated outcome is not fixed: with more
	// such sets the normal approximation is used. 1:1 pairs (and any sets
	// of one shape) are always exact (binomial). Default (0) 1000; a
	// negative value is an error.
	ExactMax int
}

// DefaultGammas returns the default Gamma grid 1, 1.1, ..., 3.
func DefaultGammas() []float64 {
	g := make([]float64, 21)
	for i := range g {
		g[i] = 1 + float64(i)/10
	}
	return g
}

// resolved returns the options with defaults filled in, or an *Error
// wrapping ErrInvalid.
func (o *RosenbaumOptions) resolved() (RosenbaumOptions, error) {
	var r RosenbaumOptions
	if o != nil {
		r = *o
	}
	if o == nil || o.Gammas == nil {
		r.Gammas = DefaultGammas()
	}
	if err := CheckGammas(r.Gammas); err != nil {
		return r, err
	}
	switch {
	case r.Level == 0:
		r.Level = 0.05
	case !(r.Level > 0 && r.Level < 1):
		return r, invalid("RosenbaumOptions.Level", "%v, want 0 < Level < 1", r.Level)
	}
	if r.Alternative < AltAuto || r.Alternative > AltLess {
		return r, invalid("RosenbaumOptions.Alternative", "unknown Alternative %d", int(r.Alternative))
	}
	switch {
	case r.ExactMax == 0:
		r.ExactMax = 1000
	case r.ExactMax < 0:
		return r, invalid("RosenbaumOptions.ExactMax", "%d, want >= 0", r.ExactMax)
	}
	return r, nil
}

// CheckGammas reports whether g is a valid Gamma grid: not empty, every
// value finite and at least 1, strictly increasing. The error is an
// *Error wrapping ErrInvalid (Field "RosenbaumOptions.Gammas") that
// names the first bad value.
func CheckGammas(g []float64) error {
	if len(g) == 0 {
		return invalid("RosenbaumOptions.Gammas", "empty grid")
	}
	for i, v := range g {
		switch {
		case math.IsNaN(v) || math.IsInf(v, 0):
			return invalidValue("RosenbaumOptions.Gammas", v, "Gamma %v (grid entry %d) is not finite", v, i)
		case v < 1:
			return invalidValue("RosenbaumOptions.Gammas", v, "Gamma %v (grid entry %d) is below 1", v, i)
		case i > 0 && !(v > g[i-1]):
			return invalidValue("RosenbaumOptions.Gammas", v, "Gamma grid not strictly increasing at entry %d (%v after %v)", i, v, g[i-1])
		}
	}
	return nil
}

// GammaBound holds the bounds at one Gamma.
type GammaBound struct {
	Gamma float64
	// PUpper and PLower are the upper and lower bounds on the one-sided
	// p-value of the test in the direction RosenbaumResult.Alternative,
	// over all assignment probabilities whose odds within a matched set
	// differ by at most Gamma. At Gamma = 1 both are the randomization
	// p-value.
	PUpper, PLower float64
	// EstLow and EstHigh bound the point estimate of an additive effect
	// (treated minus control, on the outcome's scale, whatever the
	// Alternative): the Hodges–Lehmann estimate for SignedRank, the
	// m-estimate of the mean difference for MeanDifference; NaN for
	// MantelHaenszel.
	EstLow, EstHigh float64
}

// RosenbaumResult holds the bounds over the Gamma grid.
type RosenbaumResult struct {
	Method RosenbaumMethod
	// Alternative is the direction tested (AltGreater or AltLess; AltAuto
	// resolved).
	Alternative Alternative
	// Sets is the number of matched sets (pairs) used; Informative the
	// number whose treated outcome is not fixed by the set (binary: the
	// discordant pairs, sets with a responder and a non-responder; signed
	// rank: the pairs with a non-zero difference; mean difference: the
	// sets whose outcomes are not all equal).
	Sets, Informative int
	// Statistic is the test statistic in the direction tested: the
	// number of treated responders (of 1 − y for AltLess), the sum of the
	// ranks of the positive (negative) differences, or the sum over sets
	// of the treated-minus-mean-of-controls difference (negated).
	Statistic float64
	// Exact reports whether the p-values are exact (binomial or
	// Poisson-binomial tails) rather than normal approximations.
	Exact bool
	// Bounds holds one entry per Gamma of the grid.
	Bounds []GammaBound
	// GammaStar is the Gamma at which significance at Level is lost: the
	// root of PUpper(Gamma) = Level in the first grid interval
	// (starting from Gamma = 1) at whose end PUpper exceeds Level, found
	// by bisection to a relative width of 1e-9. It is 1 when the
	// randomization p-value (Gamma = 1) already exceeds Level, and +Inf
	// when significance holds over the whole grid.
	GammaStar float64
}

// boundsFunc returns the upper and lower p-value bounds at gamma.
type boundsFunc func(gamma float64) (pUpper, pLower float64)

// estFunc returns the point-estimate bounds at gamma.
type estFunc func(gamma float64) (lo, hi float64)

// fill evaluates p (and est, when not nil) on the grid of o and finds
// GammaStar.
func (r *RosenbaumResult) fill(o *RosenbaumOptions, p boundsFunc, est estFunc) {
	r.Bounds = make([]GammaBound, len(o.Gammas))
	for i, g := range o.Gammas {
		b := GammaBound{Gamma: g, EstLow: math.NaN(), EstHigh: math.NaN()}
		b.PUpper, b.PLower = p(g)
		if est != nil {
			b.EstLow, b.EstHigh = est(g)
		}
		r.Bounds[i] = b
	}
	r.GammaStar = gammaStar(o, p, r.Bounds)
}

// gammaStar finds the Gamma at which PUpper crosses o.Level (see
// RosenbaumResult.GammaStar).
func gammaStar(o *RosenbaumOptions, p boundsFunc, b []GammaBound) float64 {
	up := func(g float64) float64 { u, _ := p(g); return u }
	if up(1) > o.Level {
		return 1
	}
	lo := 1.0
	for _, e := range b {
		if !(e.PUpper > o.Level) {
			lo = e.Gamma
			continue
		}
		hi := e.Gamma
		for hi-lo > 1e-9*hi {
			mid := lo + (hi-lo)/2
			if mid <= lo || mid >= hi {
				break
			}
			if up(mid) > o.Level {
				hi = mid
			} else {
				lo = mid
			}
		}
		return hi
	}
	return math.Inf(1)
}

// MatchedSet is one matched set: the outcome of its treated unit and the
// outcomes of its controls (each control once; the controls of a set
// share its weight equally).
type MatchedSet struct {
	Treated  float64
	Controls []float64
}

// checkSets validates sets for the tests: at least one set, every set
// with at least one control, all values finite.
func checkSets(sets []MatchedSet) error {
	if len(sets) == 0 {
		return invalid("sets", "Rosenbaum bounds need at least one matched set")
	}
	for i, s := range sets {
		if len(s.Controls) == 0 {
			return invalid("sets", "matched set %d has no controls", i)
		}
		if notFinite(s.Treated) {
			return invalidValue("sets", s.Treated, "matched set %d: treated outcome %v is not finite", i, s.Treated)
		}
		for _, c := range s.Controls {
			if notFinite(c) {
				return invalidValue("sets", c, "matched set %d: control outcome %v is not finite", i, c)
			}
		}
	}
	return nil
}

// canonicalSets returns a copy of sets with the controls of each set in
// ascending order and the sets ordered by treated outcome, then number of
// controls, then controls: the tests sum over sets in this order, so
// their results depend on the collection of sets only, bit for bit, not
// on the order of the units or of the sets.
func canonicalSets(sets []MatchedSet) []MatchedSet {
	out := make([]MatchedSet, len(sets))
	for i, s := range sets {
		c := slices.Clone(s.Controls)
		slices.Sort(c)
		out[i] = MatchedSet{Treated: s.Treated, Controls: c}
	}
	slices.SortFunc(out, func(a, b MatchedSet) int {
		if c := cmp.Compare(a.Treated, b.Treated); c != 0 {
			return c
		}
		if c := cmp.Compare(len(a.Controls), len(b.Controls)); c != 0 {
			return c
		}
		return slices.Compare(a.Controls, b.Controls)
	})
	return out
}

// RosenbaumSets computes the Rosenbaum bounds appropriate to the
// outcomes of sets: the Mantel–Haenszel bounds (RosenbaumBinary) when
// every outcome is 0 or 1; else the Wilcoxon signed-rank and
// Hodges–Lehmann bounds (RosenbaumSignedRank) when every set is a 1:1
// pair; else the mean-difference bounds for matched sets
// (RosenbaumMeanDiff).
func RosenbaumSets(sets []MatchedSet, opts *RosenbaumOptions) (*RosenbaumResult, error) {
	if err := checkSets(sets); err != nil {
		return nil, err
	}
	binary, pairs := true, true
	is01 := func(v float64) bool { return v == 0 || v == 1 }
	for _, s := range sets {
		pairs = pairs && len(s.Controls) == 1
		if binary && !is01(s.Treated) {
			binary = false
		}
		for _, c := range s.Controls {
			binary = binary && is01(c)
		}
	}
	switch {
	case binary:
		return RosenbaumBinary(sets, opts)
	case pairs:
		t := make([]float64, len(sets))
		c := make([]float64, len(sets))
		for i, s := range sets {
			t[i], c[i] = s.Treated, s.Controls[0]
		}
		return RosenbaumSignedRank(t, c, opts)
	}
	return RosenbaumMeanDiff(sets, opts)
}

// WindowKind says how a Window turns an outcome into one value per unit.
type WindowKind int

const (
	// WindowMonth takes the outcome in event month From (To is ignored).
	WindowMonth WindowKind = iota
	// WindowEver is 1 when the outcome is non-zero in any event month of
	// From..To, else 0 ("ever employed in months a..b").
	WindowEver
	// WindowSum sums the outcome over event months From..To (a count,
	// e.g. months employed).
	WindowSum
)

// Window selects the outcome of a Rosenbaum analysis on a Sample.
type Window struct {
	// Outcome names an outcome of the Sample.
	Outcome string
	Kind    WindowKind
	// From and To are event months, 0 ≤ From ≤ To ≤ H of the outcome
	// (To is not used by WindowMonth).
	From, To int
}

// Rosenbaum computes Rosenbaum bounds for the outcome window w of s on
// the match sets m (RosenbaumSets on the sets it builds: Mantel–Haenszel
// when the values are all 0 or 1, as for WindowEver and for WindowMonth
// of a 0/1 outcome; signed rank and Hodges–Lehmann when every set is a
// 1:1 pair; the mean-difference form for matched sets otherwise).
//
// Every matched treated unit with a non-empty set forms one matched set
// with its controls; unmatched treated units are left out. The controls
// of a set must have equal weights (1/k, as psm.Match gives: k nearest
// or tied controls); other weights are an error, since the tests count
// units. With matching with replacement a control may sit in several
// sets: each set is treated as an independent stratum and the control's
// outcome is used in every set it belongs to. This is exact for matching
// without replacement; with replacement it approximates the
// randomization distribution by ignoring the dependence that shared
// controls create between sets (their outcomes are counted more than
// once, so the bounds are too narrow when a few controls are reused
// heavily). docs/rosenbaum.md discusses it.
//
// A NaN or infinite outcome of a unit in a set within the months read is
// an *Error wrapping ErrNaNOutcome. Cost: O(match-set entries · window
// length) to build the sets, then that of the test.
func Rosenbaum(s *Sample, m *psm.UnitMatching, w Window, opts *RosenbaumOptions) (*RosenbaumResult, error) {
	ms, err := setsFromUnits(s, m, "Rosenbaum")
	if err != nil {
		return nil, err
	}
	return rosenbaum(s, ms, w, opts)
}

// rosenbaum is Rosenbaum on match sets in unit space.
func rosenbaum(s *Sample, m *matchSets, w Window, opts *RosenbaumOptions) (*RosenbaumResult, error) {
	if err := m.validate(s); err != nil {
		return nil, err
	}
	var o *EventOutcome
	for k := range s.Outcomes {
		if s.Outcomes[k].Name == w.Outcome {
			o = &s.Outcomes[k]
		}
	}
	if o == nil {
		return nil, invalid("Window.Outcome", "no outcome %q in the sample", w.Outcome)
	}
	from, to := w.From, w.To
	if w.Kind == WindowMonth {
		to = from
	}
	switch {
	case w.Kind < WindowMonth || w.Kind > WindowSum:
		return nil, invalid("Window.Kind", "unknown WindowKind %d", int(w.Kind))
	case from < 0 || to > o.H:
		return nil, invalid("Window", "window %d..%d of outcome %q is outside its horizon 0..%d", from, to, o.Name, o.H)
	case to < from:
		return nil, invalid("Window", "window %d..%d of outcome %q is empty (To < From)", from, to, o.Name)
	}
	value := func(u int) (float64, error) {
		v := 0.0
		for mo := from; mo <= to; mo++ {
			x := o.at(u, o.Pre+mo)
			if notFinite(x) {
				return 0, outcomeError(s, o, u, mo, x)
			}
			if w.Kind == WindowEver {
				if x != 0 {
					v = 1
				}
				continue
			}
			v += x
		}
		return v, nil
	}
	var sets []MatchedSet
	for k, u := range m.Treated {
		lo, hi := m.Start[k], m.Start[k+1]
		if lo == hi {
			continue
		}
		for p := lo + 1; p < hi; p++ {
			if math.Abs(m.Weight[p]-m.Weight[lo]) > 1e-9 {
				return nil, invalidUnit(s, "sets.Weight", int(u), m.Weight[p],
					"the controls of this treated unit have unequal weights (%v, %v); the tests need equal weights within a set", m.Weight[lo], m.Weight[p])
			}
		}
		yt, err := value(int(u))
		if err != nil {
			return nil, err
		}
		set := MatchedSet{Treated: yt, Controls: make([]float64, hi-lo)}
		for p := lo; p < hi; p++ {
			if set.Controls[p-lo], err = value(int(m.Control[p])); err != nil {
				return nil, err
			}
		}
		sets = append(sets, set)
	}
	if len(sets) == 0 {
		return nil, noMatchesError(s)
	}
	return RosenbaumSets(sets, opts)
}

// upperNormal is 1 − Φ(z), the upper tail of the standard normal.
func upperNormal(z float64) float64 { return 0.5 * math.Erfc(z/math.Sqrt2) }
