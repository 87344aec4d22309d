package psm

import "math"

// SearchOptions are the rule by which a Searcher forms match sets: the
// rule of MatchOptions with replacement and the default tie rule.
type SearchOptions struct {
	// K is the number of neighbours (by weight); 0 means 1.
	K int
	// Width is the largest admissible |score distance| on the index's
	// distance scale; 0 means none. Unlike MatchOptions.Caliper it is not
	// in standard deviations: the caller computes it (for a bootstrap
	// replicate, Caliper × the standard deviation of the replicate's
	// weighted scores, as MatchOptions.Caliper would give on its rows).
	Width float64
	// TieTolerance: controls whose distance is within this of the K-th
	// nearest are ties (MatchOptions.TieTolerance); 0 means exact equality.
	TieTolerance float64
	// Partial accepts a match set whose controls weigh less than K when
	// the stratum has no more within Width; by default such a treated unit
	// is unmatched. (For matching estimators of the outcome regression,
	// e.g. the J nearest controls of a control.)
	Partial bool
}

// Searcher finds match sets one treated score at a time under control
// frequency weights given as a function, read only for the controls a
// search visits. It is the Index's own search (the one Match uses), for
// callers that form many sets under many weightings without a weight
// vector per weighting: a bootstrap over millions of controls whose
// replicate counts are computed on demand.
//
// For a treated score t the match set is every control j of t's stratum
// with weight c_j > 0 and |x_j − t| ≤ min(d_K + TieTolerance, Width),
// where d_K is the smallest distance at which the controls within it
// weigh K or more; each gets the share c_j / Σ c over the set. This is
// the set Match forms (TieDistance, with replacement) on data in which
// control j appears c_j times, and R Matching::Match's (ties = TRUE) on
// such duplicated rows.
//
// A Searcher is not safe for concurrent use; the Index may be shared by
// any number of Searchers.
type Searcher struct {
	ix *Index
	bw blockWeights
	sr searcher
}

// NewSearcher returns a Searcher over ix's controls with the weight
// function weight: sorted position p (0 ≤ p < Len(); the control is
// Control(p)) -> that control's frequency weight, finite and ≥ 0; nil:
// every control weighs 1. Keyed by position so that a caller can lay out
// what the weights are computed from in sorted order, where a search's
// reads are adjacent. The Searcher calls weight from the goroutine that
// calls Find, each time a search needs a weight (a control may be asked
// for more than once).
func (ix *Index) NewSearcher(weight func(p int) float64, opts *SearchOptions) (*Searcher, error) {
	var o SearchOptions
	if opts != nil {
		o = *opts
	}
	if o.K < 0 {
		return nil, optionError("K", "K = %d < 0", o.K)
	}
	if o.K == 0 {
		o.K = 1
	}
	if ix.candidates {
		return nil, errCandidateIndex()
	}
	if !(o.Width >= 0) || math.IsInf(o.Width, 0) {
		return nil, optionError("Width", "Width = %v; want a finite value ≥ 0", o.Width)
	}
	if !(o.TieTolerance >= 0) || math.IsInf(o.TieTolerance, 0) {
		return nil, optionError("TieTolerance", "TieTolerance = %v; want a finite value ≥ 0", o.TieTolerance)
	}
	s := &Searcher{ix: ix}
	s.bw = blockWeights{ix: ix, wf: weight} // nil: block sizes
	s.sr = searcher{ix: ix, bw: &s.bw, k: float64(o.K), tol: o.TieTolerance, rule: TieDistance,
		cal: o.Width, partial: o.Partial}
	return s, nil
}

// Find returns the match set of a treated unit at score t (on the index's
// distance scale) in stratum stratum (ignored when the index has no
// strata): the controls at sorted positions [lo, hi) with positive weight
// (Control maps a position to the control), and their total weight.
// ok is false when no control qualifies (none in the stratum, none within
// Width, or, unless Partial, less than K by weight). Cost: O(log B) for
// B blocks plus the sizes of the blocks visited, each summed at most a
// few times; independent of the number of controls.
func (s *Searcher) Find(t float64, stratum int32) (lo, hi int, total float64, ok bool) {
	return s.FindNear(t, stratum, -1)
}

// FindNear is Find with a hint: block, the block (as LowerBlock returns
// for t and stratum) from which the search for t's place among the
// scores starts. The result does not depend on the hint (out of range:
// none); an exact one, remembered by a caller that searches the same
// scores under many weightings, saves the O(log B) probes, mostly cache
// misses, of locating t among B blocks. Find itself starts from the place
// of the previous search.
func (s *Searcher) FindNear(t float64, stratum int32, block int) (lo, hi int, total float64, ok bool) {
	slo, shi, _, found := s.ix.stratumRange(stratum)
	if !found || slo == shi {
		return 0, 0, 0, false
	}
	g := int32(-1)
	if block >= 0 && block <= len(s.ix.bscore) {
		g = int32(block)
	}
	a, e, wset, _, st := s.sr.findFrom(t, slo, shi, g)
	if st != StatusMatched {
		return 0, 0, 0, false
	}
	return int(s.ix.bstart[a]), int(s.ix.bstart[e]), wset, true
}

// LowerBlock returns the first block of stratum's controls whose score
// (on the index's distance scale) is ≥ t, or the block after the
// stratum's last when none is (NumBlocks() for a stratum the index
// lacks): the hint FindNear takes. Cost: O(log B) for B blocks.
func (ix *Index) LowerBlock(t float64, stratum int32) int {
	slo, shi, _, found := ix.stratumRange(stratum)
	if !found {
		return len(ix.bscore)
	}
	return int(slo) + lowerBound(ix.bscore[slo:shi], t)
}

// Support returns the smallest and largest score of the controls with
// positive weight over all strata (the range MatchOptions.Trim keeps);
// ok is false when every weight is 0. Cost: from each end of each stratum
// the blocks up to the first with positive weight.
func (s *Searcher) Support() (lo, hi float64, ok bool) {
	ix := s.ix
	lo, hi = math.Inf(1), math.Inf(-1)
	ns := 1
	if ix.hasStrata {
		ns = len(ix.strata)
	}
	for k := 0; k < ns; k++ {
		a, e := int32(0), int32(len(ix.bscore))
		if ix.hasStrata {
			a, e = ix.sblock[k], ix.sblock[k+1]
		}
		if b := s.bw.right(a, e); b >= 0 {
			lo = min(lo, ix.bscore[b])
		}
		if b := s.bw.left(e, a); b >= 0 {
			hi = max(hi, ix.bscore[b])
		}
	}
	return lo, hi, lo <= hi
}

// Control returns the control (its index in NewIndex's input order) at
// sorted position p, 0 ≤ p < Len(). Positions run by (stratum, score,
// input index).
func (ix *Index) Control(p int) int { return int(ix.order[p]) }
