package estimate

import "math"

// Result holds effects for every outcome and subgroup, with intervals
// when it comes from an inference method.
type Result struct {
	// Method names how the intervals were made: "effects" (none),
	// "bootstrap-fixed", "bootstrap-refit", "abadie-imbens", "otsu-rai",
	// "bias-adjusted".
	Method string
	// Level is the confidence level of the intervals (0 for "effects").
	Level float64
	// Replicates is the number of replicates drawn (0 when analytic).
	Replicates int
	// IncludeMonth0 records whether accumulated effects include month 0.
	IncludeMonth0 bool
	// Series holds one entry per outcome for the whole sample, then per
	// outcome, subgroup attribute and level (outcome-major).
	Series []Series
}

// Series is one outcome in one (sub)group.
type Series struct {
	Outcome string
	// Subgroup names the attribute and Group the level; both "" for the
	// whole sample.
	Subgroup, Group string
	// NTreated is the number of matched treated units, NUnmatched the
	// treated left without a match set (caliper, trimming, too few
	// controls in the stratum). NControls is the number of
	// distinct controls with positive weight in their match sets and
	// WeightedControls the sum of the controls' match weights (equal to
	// NTreated: every match set sums to 1).
	NTreated, NUnmatched, NControls int
	WeightedControls                float64
	// Pre is the number of event months before the start (EventOutcome.Pre):
	// Effects, Monthly, Accumulated, Truth and TruthAccumulated hold
	// months −Pre..H, month m at index Pre+m (see Index). With Pre = 0
	// index and month coincide.
	Pre int
	// Effects holds the point estimates for event months −Pre..H.
	Effects []Effect
	// Monthly and Accumulated hold the intervals for ATT and Accumulated
	// per event month; nil for Method "effects".
	Monthly, Accumulated []Bounds
	// BandCrit holds the critical values of the simultaneous bands over
	// event months (sup-t), for the monthly effects of months 0..H and
	// for the accumulated effects; NaN when the method has none.
	BandCrit [2]float64
	// PreBandCrit is the critical value of the simultaneous band over
	// the monthly effects of the months before the start, −Pre..−1, a
	// band of its own so that adding pre-programme months changes no
	// band after the start; NaN when Pre = 0 or the method has none.
	PreBandCrit float64
	// Valid is the number of replicates in which the group had a
	// positive weight (replicates where it had none are left out).
	Valid int
	// Truth and TruthAccumulated hold the true curves of a synthetic
	// population when set with SetTruth (nil otherwise).
	Truth, TruthAccumulated []float64
	// Draws holds the replicate estimates when requested (KeepDraws):
	// Valid rows of 2(Pre+H+1) values, the monthly effects of months
	// −Pre..H then the accumulated ones.
	Draws []float64
}

// After returns r restricted to the event months from the start on,
// 0..H: every series has Pre 0 and its Effects, Monthly, Accumulated,
// Truth and TruthAccumulated are sub-slices of r's (shared, not copied);
// PreBandCrit is NaN and Draws nil (the replicate rows hold the months
// before the start). Since adding months before the start changes no
// estimate, interval or band after it, After of an estimate on a sample
// with Pre > 0 is the estimate on the same sample without those months.
func (r *Result) After() *Result {
	out := *r
	out.Series = make([]Series, len(r.Series))
	for i, se := range r.Series {
		p := se.Pre
		se.Effects = se.Effects[p:]
		if se.Monthly != nil {
			se.Monthly, se.Accumulated = se.Monthly[p:], se.Accumulated[p:]
		}
		if se.Truth != nil {
			se.Truth, se.TruthAccumulated = se.Truth[p:], se.TruthAccumulated[p:]
		}
		se.Pre, se.PreBandCrit, se.Draws = 0, math.NaN(), nil
		out.Series[i] = se
	}
	return &out
}

// Index returns the index of event month m (−Pre <= m <= H) in Effects,
// Monthly, Accumulated, Truth and TruthAccumulated: Pre+m.
func (se *Series) Index(m int) int { return se.Pre + m }

// Effect is the point estimate for one event month.
type Effect struct {
	Month int
	// TreatedMean and ControlMean are the (weighted) means of the treated
	// and of their matched controls; ATT is their difference.
	TreatedMean, ControlMean, ATT float64
	// Accumulated is the running sum of ATT up to this month (from month 1
	// unless IncludeMonth0; 0 at month 0 then, and 0 in the months before
	// the start).
	Accumulated float64
}

// Bounds are the intervals of one estimate.
type Bounds struct {
	// SE is the standard error: the SD of the replicates, or analytic.
	SE float64
	// Percentile is the percentile interval (R quantile type 7 of the
	// replicates); Normal is estimate ± z·SE; Band is the simultaneous
	// band over event months (estimate ± sup-t critical value · SE).
	// Intervals a method does not give are NaN.
	Percentile, Normal, Band Interval
}

// Interval is a closed interval.
type Interval struct{ Lo, Hi float64 }

// Contains reports whether v lies in [Lo, Hi].
func (iv Interval) Contains(v float64) bool { return iv.Lo <= v && v <= iv.Hi }

// Find returns the series of outcome in subgroup attribute sub and level
// group ("", "" for the whole sample), or nil.
func (r *Result) Find(outcome, sub, group string) *Series {
	for i := range r.Series {
		s := &r.Series[i]
		if s.Outcome == outcome && s.Subgroup == sub && s.Group == group {
			return s
		}
	}
	return nil
}
