package psm

// Distance selects the scale on which nearest neighbours are found.
type Distance int

const (
	// ProbabilityDistance matches on the score itself (the default; the SFI
	// rule "nearest neighbour on the estimated probability"). Any finite
	// score is accepted.
	ProbabilityDistance Distance = iota
	// LogitDistance matches on log(p/(1-p)) (R qlogis, the linear predictor
	// of the logit); scores must lie in (0, 1).
	LogitDistance
)

// TieRule selects how TieTolerance decides that a control is tied with
// the K-th nearest one.
type TieRule int

const (
	// TieDistance (the default): with d the absolute score difference on
	// the distance scale, every control with d <= d_K + TieTolerance belongs
	// to the match set. With TieTolerance 0 this is exact equality of the
	// computed distances (psmatch2's ties rule and the SFI rule).
	TieDistance TieRule = iota
	// TieRMatching reproduces R Matching::Match(distance.tolerance =
	// TieTolerance): the score is standardized, z = (x - mean)/sd over all
	// treated and control units (frequency weighted; sd with the
	// divisor W-1, W the total weight, computed as Matching does, from
	// sum(w x^2)/W - mean^2), and every control with
	// (z_j - z_i)^2 <= ((z_K - z_i)^2 + TieTolerance) + 1e-10 belongs to
	// the set: the 1e-10 is the TOL that Matching's C code adds to every
	// such comparison (LessEqualTestScalar in matching.cc), so TieTolerance
	// is Match's distance.tolerance (use 1e-12 to match
	// Match(..., distance.tolerance = 1e-12)). Without replacement the
	// 1e-10 is not added.
	// The sums run over the units in sorted order (compensated, scaled by
	// a power of two), so the result is the same for any row order; they
	// may differ from R's data-order sums in the last bits. Scores so
	// large that sum(w x^2) or a squared standardized distance overflows
	// (|x| above about 1e146) are rejected with a *InputError naming
	// TieRule (ErrBadScore); use TieDistance for them.
	TieRMatching
)

// rMatchingTOL is the TOL of R Matching's C code (matching.h): its
// LessEqualTestScalar keeps a control when Dist <= (Distmax + cdd) + TOL,
// so Match(distance.tolerance = t) ties within t + 1e-10 on the squared
// standardized distance.
const rMatchingTOL = 1e-10

// MatchStatus says why a treated unit was or was not matched.
type MatchStatus uint8

const (
	// StatusMatched: the unit has a non-empty match set.
	StatusMatched MatchStatus = iota
	// StatusAbsent: the unit's frequency weight is 0.
	StatusAbsent
	// StatusTrimmed: the score lies outside [min, max] of the (positive
	// weight) control scores and MatchOptions.Trim is set.
	StatusTrimmed
	// StatusCaliper: fewer than K controls (by weight) lie within the caliper.
	StatusCaliper
	// StatusNoControls: the unit's stratum holds less than K control
	// weight (without replacement: fewer than K unused controls are left).
	StatusNoControls
)

func (s MatchStatus) String() string {
	switch s {
	case StatusMatched:
		return "matched"
	case StatusAbsent:
		return "absent"
	case StatusTrimmed:
		return "trimmed"
	case StatusCaliper:
		return "outside caliper"
	case StatusNoControls:
		return "no controls"
	}
	return "unknown"
}

// MatchOptions configures nearest-neighbour matching of treated to
// control units on a propensity score. The zero value (or a nil pointer)
// is the SFI rule: one nearest neighbour on the probability, with
// replacement, ties at exactly equal distance averaged, no caliper, no
// trimming, no strata, unit weights.
type MatchOptions struct {
	// K is the number of neighbours; default (0) 1. The match set of a
	// treated unit is every control whose distance is at most d_K, the
	// distance of the K-th nearest control (counted by frequency weight),
	// plus those tied with it (TieTolerance, TieRule). Every control in
	// the set gets the same weight, 1/|set| (with frequency weights
	// w_j / sum of w in the set); this is the rule of R Matching::Match
	// (ties = TRUE) and of psmatch2 (ties). With K = 1 it is the SFI rule:
	// k controls tied at the nearest distance get 1/k each.
	K int
	// NoReplacement matches without replacement (default false: with
	// replacement). Treated units are processed in input order (as R
	// Matching::Match does); each takes the K nearest controls not yet
	// used. Ties are broken deterministically instead of averaged: within
	// a block of equal scores controls are used in input order, and at
	// exactly equal distance below and above the treated score the lower
	// score is used first (R breaks such ties at random). TieTolerance is
	// ignored. Frequency weights must be whole numbers: a control with
	// weight 2 can be used twice, a treated unit with weight 2 is matched
	// twice in a row.
	NoReplacement bool
	// Distance is the matching scale; default ProbabilityDistance.
	Distance Distance
	// Caliper, when > 0, is the largest allowed distance in standard
	// deviations of the distance measure: a control j is excluded for
	// treated i when |x_i - x_j| > Caliper * sd, with x the score on the
	// Distance scale and sd = sqrt(sum w (x - mean)^2 / sum w) over all
	// treated and control units with their frequency weights (the
	// population sd, divisor W, before trimming) - the caliper of R
	// Matching::Match. A treated unit with fewer than K controls (by
	// weight) inside its caliper is not matched (StatusCaliper), as in
	// Matching::Match. The sd is a function of the exact sums of w, w x
	// and w x² alone (kept without rounding, the sd computed from them to
	// 256 bits and rounded), so the width is the same for any row order
	// and, in MatchUnitsShards, any split of the controls, for any finite
	// scores (no overflow or underflow); when all scores with positive
	// weight are equal the sd is 0 and all
	// distances are 0 (within the caliper). A Caliper so small that
	// Caliper*sd underflows to 0 is an error naming Caliper. Default 0: no
	// caliper.
	Caliper float64
	// TieTolerance widens the tie rule (see TieRule); default 0 = exact
	// equality of distances. Ties can lie on both sides of the treated
	// score.
	TieTolerance float64
	// TieRule selects the scale of TieTolerance; default TieDistance.
	TieRule TieRule
	// Trim drops treated units whose score lies outside [min, max] of the
	// scores of the controls with positive weight (over all strata);
	// default false.
	Trim bool
	// TreatedStrata and ControlStrata, when non-nil, restrict matches to
	// controls of the same stratum (exact matching, e.g. on start month
	// or sex). Both or neither must be given; default nil = one stratum.
	TreatedStrata, ControlStrata []int32
	// TreatedWeights and ControlWeights are frequency weights (nil = all
	// 1). A unit with weight w counts as w copies of itself; weight 0
	// means absent. The bootstrap reweights instead of copying data.
	TreatedWeights, ControlWeights []float64
	// SkipSets leaves Matching.Start, Control and Weight nil when matching
	// with replacement; the sets are then only available as index block
	// ranges (BlockLo, BlockHi). Use it when tie blocks are large: 6,487
	// treated units tied with 50,000 controls each would need 324 million
	// entries. Default false: the sets are expanded.
	SkipSets bool
}

// Matching is the result of matching treated to control units.
//
// The match set of treated unit i (input order) is
// Control[Start[i]:Start[i+1]] with weights Weight[Start[i]:Start[i+1]]
// summing to 1 (an empty set when unmatched). Controls in a set are listed
// in order of score, then input index; controls with weight 0 are left out.
//
// Per control, ControlWeight[j] = sum over matched treated i of
// MatchedWeight[i] * (weight of j in the set of i), so the weighted mean
// of a control outcome, sum_j ControlWeight[j] y_j / WeightedControls, is
// the matched-control mean of the ATT.
type Matching struct {
	Start   []int
	Control []int32
	Weight  []float64

	// Matched[i] is Status[i] == StatusMatched.
	Matched []bool
	Status  []MatchStatus
	// MatchedWeight[i] is the treated frequency weight of a matched unit
	// and 0 for an unmatched one (without replacement: the number of its
	// copies that found controls).
	MatchedWeight []float64
	// KthDistance[i] is |x_i - x_K| on the Distance scale, the distance of
	// the K-th nearest control (NaN when unmatched; without replacement the
	// largest distance used).
	KthDistance []float64

	// With replacement only: the match set of treated i is the controls
	// in the index blocks [BlockLo[i], BlockHi[i]) (see Index.Block),
	// each with weight w_j / SetWeight[i], where SetWeight[i] is the sum of
	// the control weights in those blocks. Unmatched: BlockLo = BlockHi.
	BlockLo, BlockHi []int32
	SetWeight        []float64

	// ControlWeight is the total matching weight of each control.
	ControlWeight []float64
	// MatchedControls lists the controls with ControlWeight > 0 in
	// ascending order (iterate over it instead of all N controls).
	MatchedControls []int32
	// NMatched counts matched treated units; NDistinctControls counts
	// controls with ControlWeight > 0; WeightedControls is the sum of
	// ControlWeight, which equals the sum of MatchedWeight (the weighted
	// number of matched treated; "6,487 (weighted)" in SFI Table 5.1).
	NMatched          int
	NDistinctControls int
	WeightedControls  float64

	ix      *Index
	cw      []float64 // control weights used (nil = 1); not copied
	tw      []float64 // treated weights used (nil = 1); not copied
	noRepl  bool
	scratch *matchScratch
}

// Index returns the control index the matching was made with.
func (m *Matching) Index() *Index { return m.ix }

// Match matches each treated score to the control scores with the
// options in opts (nil = defaults). It builds an Index (sort, O(N log N)
// in the number of controls N) and calls (*Index).Match; to match many
// times against the same controls (the bootstrap) build the Index once.
//
// With TieRule = TieRMatching and TieTolerance = 1e-12 the match sets and
// weights equal those of R Matching::Match(Y, Tr, X = score, estimand =
// "ATT", M = K, caliper = Caliper, ties = TRUE, replace = TRUE,
// distance.tolerance = 1e-12) (checked on testdata/match for K = 1 and 2,
// with and without caliper, on both scales); see ATT for the estimate and
// its standard errors. With the default TieDistance rule and tolerance 0
// only exactly equal distances tie (the SFI and psmatch2 rule), which
// differs from Matching::Match only when two distances differ by less
// than its tolerance.
func Match(treated, control []float64, opts *MatchOptions) (*Matching, error) {
	ix, err := NewIndex(control, opts)
	if err != nil {
		return nil, err
	}
	return ix.Match(treated, opts)
}
