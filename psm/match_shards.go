package psm

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
)

// MatchShard is one part of the control units of a matching, in its own
// process or on another machine: MatchUnitsShards asks every shard for
// its candidates (MatchCandidates) and merges them. A matching makes one
// round, or two with a caliper or trimming: Moments (the shard's score
// range and exact moments), then Candidates for the query the
// coordinator computed from them. Control units are numbered in the whole
// data (the units of MatchUnits); every control unit is in exactly one
// shard. MatchControls is the in-memory shard; a shard on another machine
// can send the encodings of the query and of its answers (MarshalBinary).
type MatchShard interface {
	// Moments returns the moments of the shard's control scores on the
	// distance scale d.
	Moments(ctx context.Context, d Distance) (*MatchMoments, error)
	// Candidates returns the shard's candidates for the query q, which
	// it must not modify.
	Candidates(ctx context.Context, q *MatchQuery) (*MatchCandidates, error)
}

// MatchControlsOptions configure NewMatchControls: the controls'
// frequency weights and strata, one per control (nil: all 1, and no
// strata).
type MatchControlsOptions struct {
	Weights []float64
	Strata  []int32
}

// MatchControls is the in-memory MatchShard: control units with their
// scores, frequency weights and strata. It keeps a copy in order of
// units and builds an Index of them (about 70 bytes per control) for
// each distance scale on first use. A MatchControls is safe for
// concurrent use.
type MatchControls struct {
	units  []int // increasing
	scores []float64
	w      []float64 // nil: all 1
	strata []int32   // nil: none
	mu     sync.Mutex
	ix     [2]*Index
	ixErr  [2]error
}

// NewMatchControls returns the shard of the control units units (their
// numbers in the whole data, distinct, in any order) with scores scores
// (one per unit, on the probability scale of MatchOptions: transformed
// to the query's distance scale as Match does). Errors (*InputError):
// lengths that differ; a negative or repeated unit (ErrBadOption, Field
// "units", Index its place in units); a bad weight (ErrBadWeight, Field
// "Weights", Index the unit). Scores are checked
// when an index is built (Moments, Candidates): a bad score is an
// *InputError with ErrBadScore, Field "scores" and Index the unit.
func NewMatchControls(units []int, scores []float64, opts *MatchControlsOptions) (*MatchControls, error) {
	var o MatchControlsOptions
	if opts != nil {
		o = *opts
	}
	n := len(units)
	switch {
	case len(scores) != n:
		return nil, optionError("scores", "%d scores for %d units", len(scores), n)
	case o.Weights != nil && len(o.Weights) != n:
		return nil, optionError("Weights", "%d weights for %d units", len(o.Weights), n)
	case o.Strata != nil && len(o.Strata) != n:
		return nil, optionError("Strata", "%d strata for %d units", len(o.Strata), n)
	case n > math.MaxInt32-1:
		return nil, optionError("units", "%d controls; at most %d supported", n, math.MaxInt32-1)
	}
	perm := make([]int, n)
	for k := range perm {
		perm[k] = k
	}
	slices.SortFunc(perm, func(a, b int) int { return cmp.Compare(units[a], units[b]) })
	s := &MatchControls{units: make([]int, n), scores: make([]float64, n)}
	if o.Weights != nil {
		s.w = make([]float64, n)
	}
	if o.Strata != nil {
		s.strata = make([]int32, n)
	}
	for p, k := range perm {
		u := units[k]
		switch {
		case u < 0 || u >= lgMaxRow:
			return nil, &InputError{Field: "units", Index: k, Value: float64(u), Msg: "want a unit number 0 to 2^62-1", Err: ErrBadOption}
		case p > 0 && u == s.units[p-1]:
			return nil, &InputError{Field: "units", Index: k, Value: float64(u), Msg: "unit repeated", Err: ErrBadOption}
		}
		s.units[p], s.scores[p] = u, scores[k]
		if s.w != nil {
			if err := weightError("Weights", u, o.Weights[k], false); err != nil {
				return nil, err
			}
			s.w[p] = o.Weights[k]
		}
		if s.strata != nil {
			s.strata[p] = o.Strata[k]
		}
	}
	return s, nil
}

// Len returns the number of controls.
func (s *MatchControls) Len() int { return len(s.units) }

// index returns the index of the controls on the distance scale d (nil
// without controls).
func (s *MatchControls) index(d Distance) (*Index, error) {
	if d != ProbabilityDistance && d != LogitDistance {
		return nil, optionError("Distance", "unknown distance %d", d)
	}
	if len(s.units) == 0 {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ix[d] == nil && s.ixErr[d] == nil {
		x, err := transformInto(nil, "control", s.scores, d)
		if err != nil {
			ie := *err.(*InputError)
			ie.Field, ie.Index = "scores", s.units[ie.Index]
			s.ixErr[d] = &ie
		} else {
			s.ix[d] = buildIndex(x, s.strata, d)
		}
	}
	return s.ix[d], s.ixErr[d]
}

// Moments implements MatchShard: one pass over the controls (an index is
// built on the first call for d).
func (s *MatchControls) Moments(ctx context.Context, d Distance) (*MatchMoments, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ix, err := s.index(d)
	if err != nil {
		return nil, err
	}
	if ix == nil {
		return &MatchMoments{dist: d, set: true, min: math.Inf(1), max: math.Inf(-1)}, nil
	}
	return newMatchMoments(d, ix.x, s.w), nil
}

// Candidates implements MatchShard: the engine's search (Index, with
// Partial) for every treated unit of q among the shard's controls,
// O(log B) plus the blocks visited per treated unit, and O(N) for the
// shard's N controls (their block weights and the table of candidates).
// It is an error (*InputError, ErrBadOption) when q is invalid or has
// strata and the shard none, or the other way round.
func (s *MatchControls) Candidates(ctx context.Context, q *MatchQuery) (*MatchCandidates, error) {
	if q == nil {
		return nil, optionError("MatchQuery", "nil")
	}
	if err := q.check(); err != nil {
		return nil, err
	}
	if (q.Strata != nil) != (s.strata != nil) && len(s.units) > 0 {
		return nil, optionError("Strata", "the query has strata %v, the shard %v", q.Strata != nil, s.strata != nil)
	}
	ix, err := s.index(q.Distance)
	if err != nil {
		return nil, err
	}
	p := q.params()
	if ix == nil {
		return &MatchCandidates{p: p, set: true}, nil
	}
	qs := make([]candQuery, len(q.Treated))
	for k, i := range q.Treated {
		qs[k] = candQuery{treated: i, x: q.Scores[k]}
		if q.Strata != nil {
			qs[k].stratum = q.Strata[k]
		}
	}
	control := func(j int) candControl {
		c := candControl{unit: s.units[j], x: ix.x[j], w: 1}
		if s.w != nil {
			c.w = s.w[j]
		}
		if s.strata != nil {
			c.stratum = s.strata[j]
		}
		return c
	}
	c := collectCandidates(ix, s.w, control, qs, p, len(s.units))
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// MatchRun is the coordinator of a matching whose control units are
// split over shards: it holds what MatchUnits takes except the control
// scores — the treated flags of all units, the treated units' scores,
// and the options with the frequency weights and strata of all units —
// and turns the shards' merged answers into the *UnitMatching that
// MatchUnits would return. MatchUnitsShards drives it; a coordinator that
// talks to its shards itself calls NewMatchRun, then, when NeedsMoments,
// Query with the shards' merged MatchMoments (else Query(nil)),
// broadcasts the query, merges the shards' MatchCandidates and calls
// Finish. A MatchRun is not safe for concurrent use.
type MatchRun struct {
	o       UnitOptions
	mo      MatchOptions // the rule, K >= 1
	um      UnitMatching // the units (and unitError)
	tx      []float64    // treated scores on the distance scale
	tw, cw  []float64    // group weights (nil: 1)
	ts, cs  []int32      // group strata (nil: none)
	ctrlOf  []int32      // unit -> control number (-1: treated)
	csum    float64
	stotal  map[int32]float64 // control weight of each stratum
	torder  []int32
	cmin    float64 // the trimming range
	cmax    float64
	sr      searcher // the caliper width
	pending []bool   // treated units searched (Query)
	query   *MatchQuery
}

// NewMatchRun prepares a sharded matching of the units whose flags are
// treated (one per unit, as MatchUnits takes them): scores holds the
// treated units' scores, one per treated unit in unit order, and opts the
// matching rule and the frequency weights and strata of all units
// (UnitOptions, as MatchUnits). The rule is MatchOptions with
// replacement and TieDistance; NoReplacement (each treated unit takes
// the controls the earlier ones left: sequential over all controls) and
// TieRMatching (R's standardization, a compensated sum over all scores in
// sorted order, which the shards cannot reproduce bit for bit) are not
// supported (*InputError naming the option, ErrBadOption). Errors are MatchUnits' for the same input
// (about a unit: Field "scores", "Weights" or "Strata", Index the unit),
// except those about control scores, which the shards report. Cost: O(n)
// plus sorting the treated units.
func NewMatchRun(scores []float64, treated []bool, opts *UnitOptions) (*MatchRun, error) {
	var o UnitOptions
	if opts != nil {
		o = *opts
	}
	n := len(treated)
	switch {
	case o.Weights != nil && len(o.Weights) != n:
		return nil, optionError("Weights", "%d weights for %d units", len(o.Weights), n)
	case o.Strata != nil && len(o.Strata) != n:
		return nil, optionError("Strata", "%d strata for %d units", len(o.Strata), n)
	}
	mo := o.Match
	switch {
	case mo.TreatedWeights != nil || mo.ControlWeights != nil || mo.TreatedStrata != nil || mo.ControlStrata != nil:
		return nil, optionError("Match", "give weights and strata per unit (UnitOptions.Weights, Strata), not per group")
	case mo.NoReplacement:
		return nil, optionError("NoReplacement", "matching without replacement is sequential over all controls (each treated unit takes the controls the earlier ones left) and cannot be sharded; use MatchUnits")
	case mo.TieRule == TieRMatching:
		return nil, optionError("TieRule", "TieRMatching is not supported with sharded controls (its standardization is a compensated sum over all scores in sorted order, which the shards cannot reproduce bit for bit); use TieDistance")
	case mo.TieRule != TieDistance:
		return nil, optionError("TieRule", "unknown tie rule %d", mo.TieRule)
	case mo.Distance != ProbabilityDistance && mo.Distance != LogitDistance:
		return nil, optionError("Distance", "unknown distance %d", mo.Distance)
	}
	r := &MatchRun{o: o, ctrlOf: make([]int32, n)}
	for u, t := range treated {
		if t {
			r.ctrlOf[u] = -1
			r.um.TreatedUnits = append(r.um.TreatedUnits, u)
		} else {
			r.ctrlOf[u] = int32(len(r.um.ControlUnits))
			r.um.ControlUnits = append(r.um.ControlUnits, u)
		}
	}
	T, N := len(r.um.TreatedUnits), len(r.um.ControlUnits)
	switch {
	case N == 0:
		return nil, r.um.unitError(&InputError{Field: "control", Index: -1, Msg: "no control units", Err: ErrEmptyGroup})
	case N > math.MaxInt32-1:
		return nil, optionError("control", "%d controls; at most %d supported", N, math.MaxInt32-1)
	case T == 0:
		return nil, r.um.unitError(&InputError{Field: "treated", Index: -1, Msg: "no treated units", Err: ErrEmptyGroup})
	case len(scores) != T:
		return nil, optionError("scores", "%d scores for %d treated units", len(scores), T)
	case mo.K < 0:
		return nil, optionError("K", "K = %d; want >= 1 (0 means 1)", mo.K)
	case !(mo.Caliper >= 0) || math.IsInf(mo.Caliper, 1):
		return nil, optionError("Caliper", "caliper %v; want a finite value >= 0", mo.Caliper)
	case !(mo.TieTolerance >= 0) || math.IsInf(mo.TieTolerance, 1):
		return nil, optionError("TieTolerance", "tolerance %v; want a finite value >= 0", mo.TieTolerance)
	}
	if mo.K == 0 {
		mo.K = 1
	}
	r.mo = mo
	if o.Weights != nil {
		r.tw, r.cw = gather(o.Weights, r.um.TreatedUnits), gather(o.Weights, r.um.ControlUnits)
	}
	if o.Strata != nil {
		r.ts, r.cs = gather(o.Strata, r.um.TreatedUnits), gather(o.Strata, r.um.ControlUnits)
	}
	if err := checkWeights("TreatedWeights", r.tw, T, "treated", false); err != nil {
		return nil, r.um.unitError(err)
	}
	var err error
	if r.tx, err = transformInto(nil, "treated", scores, mo.Distance); err != nil {
		return nil, r.um.unitError(err)
	}

	// the totals of the engine (MatchInto), in its order
	r.csum = float64(N)
	if r.cw != nil {
		r.csum = 0
		for j, w := range r.cw {
			if err := weightError("ControlWeights", j, w, false); err != nil {
				return nil, r.um.unitError(err)
			}
			r.csum += w
		}
	}
	if r.csum == 0 {
		return nil, r.um.unitError(&InputError{Field: "ControlWeights", Index: -1, Msg: "all control weights are 0", Err: ErrEmptyGroup})
	}
	if r.csum < float64(mo.K) {
		return nil, &InputError{Field: "K", Index: -1,
			Msg: fmt.Sprintf("K = %d neighbours but the controls weigh %g in total", mo.K, r.csum), Err: ErrTooFewControls}
	}
	if mo.K > math.MaxInt32 {
		return nil, optionError("K", "K = %d; at most 2^31-1 with sharded controls", mo.K)
	}
	var tsum float64
	for i := range T {
		tsum += r.treatedWeight(i)
	}
	if tsum == 0 {
		return nil, r.um.unitError(&InputError{Field: "TreatedWeights", Index: -1, Msg: "all treated weights are 0", Err: ErrEmptyGroup})
	}
	if r.cs != nil {
		// in the engine a stratum without weights weighs its number of
		// controls, added up as a count
		r.stotal = make(map[int32]float64)
		count := make(map[int32]int)
		for j, s := range r.cs {
			if r.cw != nil {
				r.stotal[s] += r.cw[j]
			} else {
				count[s]++
			}
		}
		for s, c := range count {
			r.stotal[s] = float64(c)
		}
	}
	r.torder = make([]int32, T)
	for i := range r.torder {
		r.torder[i] = int32(i)
	}
	slices.SortFunc(r.torder, func(a, b int32) int {
		if sa, sb := stratumOf(r.ts, int(a)), stratumOf(r.ts, int(b)); sa != sb {
			return cmp.Compare(sa, sb)
		}
		if c := cmp.Compare(r.tx[a], r.tx[b]); c != 0 {
			return c
		}
		if r.tw != nil {
			if c := cmp.Compare(r.tw[a], r.tw[b]); c != 0 {
				return c
			}
		}
		return cmp.Compare(a, b)
	})
	return r, nil
}

func (r *MatchRun) treatedWeight(i int) float64 {
	if r.tw == nil {
		return 1
	}
	return r.tw[i]
}

// NeedsMoments reports whether Query needs the shards' moments: with a
// caliper (its width is Caliper times the standard deviation of all
// scores) or trimming (the range of the control scores).
func (r *MatchRun) NeedsMoments() bool { return r.mo.Caliper > 0 || r.mo.Trim }

// Query returns the query to broadcast to the shards. moments are the
// merged MatchMoments of all shards when NeedsMoments (else nil): they
// give the trimming range and, with the treated units' terms added, the
// exact sums S0 = Σ w, S1 = Σ w x, S2 = Σ w x² over all units with
// positive weight, from which the caliper's standard deviation
// sqrt(S2/S0 − (S1/S0)²) (the population sd of MatchOptions.Caliper) is
// computed as MatchUnits computes it from the same exact sums (its terms
// are per block of equal scores, the shards' per control: the same sums
// when the block weights are exact): the width is MatchUnits' bit for
// bit, for any split of the controls and any order of the merges.
//
// The query lists the treated units that are searched: those of
// positive weight, not trimmed, whose stratum's controls weigh K or more
// (computed here from the weights and strata of the units, in the
// engine's order). Errors: moments missing, on another scale or covering
// another number of controls (*InputError, ErrBadOption), and the
// engine's caliper errors. Cost: O(T) plus, with a caliper, O(T) exact
// additions.
func (r *MatchRun) Query(moments *MatchMoments) (*MatchQuery, error) {
	N := len(r.um.ControlUnits)
	r.cmin, r.cmax = math.Inf(-1), math.Inf(1)
	r.sr = searcher{}
	if r.NeedsMoments() {
		switch {
		case moments == nil || !moments.set:
			return nil, optionError("moments", "the run has a caliper or trimming: Query needs the shards' merged MatchMoments")
		case moments.dist != r.mo.Distance:
			return nil, optionError("moments", "moments on distance %d for a run on distance %d", moments.dist, r.mo.Distance)
		case moments.n != N:
			return nil, optionError("moments", "the shards' moments cover %d controls, the run has %d (a shard missing, or shards overlapping)", moments.n, N)
		}
		r.cmin, r.cmax = moments.min, moments.max
		if r.mo.Caliper > 0 {
			if err := r.setWidth(moments); err != nil {
				return nil, err
			}
		}
	}
	T := len(r.tx)
	r.pending = make([]bool, T)
	q := &MatchQuery{Distance: r.mo.Distance, K: r.mo.K, TieTolerance: r.mo.TieTolerance}
	if r.sr.cal > 0 {
		q.Width = r.sr.cal
		if r.sr.calScale {
			q.WidthExp = r.sr.calE
		}
	}
	for i := range T {
		if r.preStatus(i) != StatusMatched {
			continue
		}
		r.pending[i] = true
		q.Treated = append(q.Treated, i)
		q.Scores = append(q.Scores, r.tx[i])
		if r.ts != nil {
			q.Strata = append(q.Strata, r.ts[i])
		}
	}
	if r.ts != nil && q.Strata == nil {
		q.Strata = []int32{}
	}
	r.query = q
	return q, nil
}

// preStatus is treated unit i's status before the search (StatusMatched:
// to be searched), as the engine's MatchInto decides it.
func (r *MatchRun) preStatus(i int) MatchStatus {
	t, w := r.tx[i], r.treatedWeight(i)
	switch {
	case w == 0:
		return StatusAbsent
	case r.mo.Trim && (t < r.cmin || t > r.cmax):
		return StatusTrimmed
	case r.cs != nil && r.stotal[r.ts[i]] < float64(r.mo.K):
		return StatusNoControls
	}
	return StatusMatched
}

// setWidth sets the caliper width from the moments of the controls and
// the treated units' terms.
func (r *MatchRun) setWidth(m *MatchMoments) error {
	var a xmoments
	a.s0.addSum(m.s0)
	a.s1p.addSum(m.s1p)
	a.s1n.addSum(m.s1n)
	a.s2.addSum(m.s2)
	lo, hi := m.min, m.max
	for i, t := range r.tx {
		if w := r.treatedWeight(i); w > 0 {
			lo, hi = math.Min(lo, t), math.Max(hi, t)
			a.add(w, t)
		}
	}
	if a.s0.sum().float() > math.MaxFloat64 {
		return r.um.unitError(errWeightOverflow())
	}
	_, e := math.Frexp(math.Max(math.Abs(lo), math.Abs(hi)))
	return r.sr.setCaliper(r.mo.Caliper, a.sd(e), e)
}

// Finish returns the matching from the merged candidates of all shards
// for the last query: the *UnitMatching that MatchUnits returns on all
// units, in the same unit space (TreatedUnits, ControlUnits; control j is
// ControlUnits[j]), so that ATT, the other estimators and package
// estimate take it unchanged. It searches the candidates once more with
// the engine (an Index over them, without Partial) and fills the
// Matching as MatchInto does.
//
// Guarantee: with frequency weights that are whole numbers (or none), so
// that every sum of weights is exact, the matching equals MatchUnits' on
// all units bit for bit, with or without caliper, trimming, strata and
// tie tolerance: Status,
// Matched, MatchedWeight, KthDistance, SetWeight, the sets Start,
// Control, Weight, ControlWeight, MatchedControls, NMatched,
// NDistinctControls and WeightedControls. BlockLo and BlockHi refer to
// the matching's own Index, whose blocks hold only the candidate controls
// (numbered among all controls); that Index cannot match (Match and
// NewSearcher on it are errors). ATT and the estimators that read the
// sets by block then give MatchUnits' results bit for bit when no control
// has weight 0. With controls of weight 0 (which are never candidates)
// at the lower edge of match sets, ATT may order the sets sharing a
// block differently, and the Abadie–Imbens SE (its control term) can
// then differ in the last bits (1e-15 relative; seen in none of the
// tests); the estimate and the naive SE stay bit-identical. With other
// weights the engine rounds its weight sums in the order of all controls
// (stratum totals, which Finish computes the same way, but also a set's
// weight, which may be a difference of prefix sums over all blocks, and
// block weights in the caliper's sums): the sets are the same unless a
// cumulative weight or the width lies within rounding of a boundary, and
// set weights agree to rounding.
//
// UnitMatching.Scores is nil (the control scores stay on the shards):
// estimators that re-match (estimate.Bootstrap, OtsuRai) need MatchUnits.
// Errors: no query yet; candidates of another query, or covering another
// number of controls (a shard missing or shards overlapping), or whose
// controls disagree with the run's units, weights or strata (*InputError,
// ErrBadOption); ErrNoMatch and ErrNoCommonSupport as Match. Cost:
// O(n + U log U + T log U) for U candidate controls and T treated units.
func (r *MatchRun) Finish(c *MatchCandidates) (*UnitMatching, error) {
	q := r.query
	switch {
	case q == nil:
		return nil, optionError("MatchRun", "Finish before Query")
	case c == nil || !c.set:
		return nil, optionError("MatchCandidates", "no candidates")
	case c.p != q.params():
		return nil, optionError("MatchCandidates", "candidates for another query (%v), want %v", c.p, q.params())
	case c.n != len(r.um.ControlUnits):
		return nil, optionError("MatchCandidates", "the candidates cover %d controls, the run has %d (a shard missing, or shards overlapping)", c.n, len(r.um.ControlUnits))
	}
	if err := r.checkCandidates(c); err != nil {
		return nil, err
	}
	T, N, U := len(r.tx), len(r.um.ControlUnits), len(c.ctrl)

	// the index of the candidates, in order of units
	var uix *Index
	var cwl []float64 // local weights (nil: all 1, as the run's)
	if U > 0 {
		x := make([]float64, U)
		var strata []int32
		if r.cs != nil {
			strata = make([]int32, U)
		}
		if r.cw != nil {
			cwl = make([]float64, U)
		}
		for j, k := range c.ctrl {
			x[j] = k.x
			if strata != nil {
				strata[j] = k.stratum
			}
			if cwl != nil {
				cwl[j] = k.w
			}
		}
		uix = buildIndex(x, strata, r.mo.Distance)
	}

	// the search of MatchInto on the candidates
	lm := &Matching{ix: uix, cw: cwl, tw: r.tw, ControlWeight: make([]float64, U),
		Matched: make([]bool, T), Status: make([]MatchStatus, T), MatchedWeight: make([]float64, T),
		KthDistance: make([]float64, T), BlockLo: make([]int32, T), BlockHi: make([]int32, T), SetWeight: make([]float64, T)}
	sc := &matchScratch{torder: r.torder}
	var sr searcher
	if uix != nil {
		sc.bw.prepare(uix, cwl)
		sr = c.p.searcher(uix, &sc.bw, false)
	}
	nTrim, nLive := 0, 0
	for _, i32 := range r.torder {
		i := int(i32)
		lm.KthDistance[i] = math.NaN()
		st := r.preStatus(i)
		if st == StatusTrimmed {
			nTrim++
		}
		if r.treatedWeight(i) != 0 {
			nLive++
		}
		if st == StatusMatched {
			st = StatusNoControls
			if uix != nil {
				if slo, shi, _, ok := uix.stratumRange(stratumOf(r.ts, i)); ok && slo < shi {
					a, e, wset, dk, s := sr.find(r.tx[i], slo, shi)
					st = s
					if st == StatusMatched {
						lm.BlockLo[i], lm.BlockHi[i], lm.SetWeight[i] = a, e, wset
						lm.MatchedWeight[i] = r.treatedWeight(i)
						lm.KthDistance[i] = dk
						lm.NMatched++
					}
				}
			}
			// the stratum weighs K or more (preStatus): what the
			// candidates lack lies beyond the caliper
			if st == StatusNoControls && c.p.width > 0 {
				st = StatusCaliper
			}
		}
		lm.Status[i] = st
		lm.Matched[i] = st == StatusMatched
	}
	if lm.NMatched == 0 {
		if nTrim == nLive {
			return nil, ErrNoCommonSupport
		}
		return nil, ErrNoMatch
	}
	uix.fillControlWeights(lm, sc)

	// lift to all controls: local control j is global control gj[j]
	gj := make([]int32, U)
	for j, k := range c.ctrl {
		gj[j] = r.ctrlOf[k.unit]
	}
	gix := *uix
	gix.n, gix.x, gix.sOf, gix.candidates = N, nil, nil, true
	gix.order = make([]int32, U)
	for p, j := range uix.order {
		gix.order[p] = gj[j]
	}
	gix.blockOf = make([]int32, N)
	for j := range gix.blockOf {
		gix.blockOf[j] = -1
	}
	for j, b := range uix.blockOf {
		gix.blockOf[gj[j]] = b
	}
	m := &Matching{Matched: lm.Matched, Status: lm.Status, MatchedWeight: lm.MatchedWeight, KthDistance: lm.KthDistance,
		BlockLo: lm.BlockLo, BlockHi: lm.BlockHi, SetWeight: lm.SetWeight,
		ControlWeight: make([]float64, N), MatchedControls: make([]int32, len(lm.MatchedControls)),
		NMatched: lm.NMatched, NDistinctControls: lm.NDistinctControls, WeightedControls: lm.WeightedControls,
		ix: &gix, cw: r.cw, tw: r.tw}
	for k, j := range lm.MatchedControls {
		m.ControlWeight[gj[j]] = lm.ControlWeight[j]
		m.MatchedControls[k] = gj[j]
	}
	if !r.mo.SkipSets {
		m.Start = make([]int, T+1)
		for i := range T {
			if m.Matched[i] {
				inv := 1 / m.SetWeight[i]
				for _, j := range gix.order[gix.bstart[m.BlockLo[i]]:gix.bstart[m.BlockHi[i]]] {
					wj := m.controlWeight(int(j))
					if wj > 0 {
						m.Control = append(m.Control, j)
						m.Weight = append(m.Weight, wj*inv)
					}
				}
			}
			m.Start[i+1] = len(m.Control)
		}
	}
	return &UnitMatching{Matching: m, TreatedUnits: r.um.TreatedUnits, ControlUnits: r.um.ControlUnits, Options: r.o}, nil
}

// checkCandidates checks that the candidates' controls are control units
// of the run with its weights and strata, and their treated units the
// query's.
func (r *MatchRun) checkCandidates(c *MatchCandidates) error {
	bad := func(format string, args ...any) error { return optionError("MatchCandidates", format, args...) }
	for _, k := range c.ctrl {
		if k.unit >= len(r.ctrlOf) || r.ctrlOf[k.unit] < 0 {
			return bad("candidate unit %d is not a control unit of the run", k.unit)
		}
		j := int(r.ctrlOf[k.unit])
		if w := r.controlWeight(j); math.Float64bits(w) != math.Float64bits(k.w) {
			return bad("candidate unit %d has weight %v in its shard and %v in the run", k.unit, k.w, w)
		}
		if r.cs != nil && r.cs[j] != k.stratum {
			return bad("candidate unit %d has stratum %d in its shard and %d in the run", k.unit, k.stratum, r.cs[j])
		}
	}
	for _, q := range c.queries {
		i := q.treated
		if i >= len(r.tx) || !r.pending[i] || math.Float64bits(q.x) != math.Float64bits(r.tx[i]) || stratumOf(r.ts, i) != q.stratum {
			return bad("candidates for treated unit %d, which the query does not hold with score %v in stratum %d", i, q.x, q.stratum)
		}
	}
	return nil
}

func (r *MatchRun) controlWeight(j int) float64 {
	if r.cw == nil {
		return 1
	}
	return r.cw[j]
}

// MatchUnitsShards is MatchUnits with the control units split over
// shards: the coordinator holds the treated flags of all units, the
// treated units' scores (one per treated unit, in unit order) and the
// options with every unit's weight and stratum; each shard holds some
// control units with their scores (and the same weights and strata).
// It runs a MatchRun: with a caliper or trimming a first round of
// Moments, merged; then the query, broadcast, and every shard's
// Candidates, merged in order of shards (the order does not matter); then
// Finish. Each round calls all shards at once, each in its own
// goroutine. See MatchRun for what is supported, Finish for the
// guarantee (MatchUnits' matching, bit for bit with whole-number
// weights) and MatchCandidates for what a shard sends: at most 16 + 28m
// bytes per treated unit for its m candidates (about K, plus ties), and
// the query 12 bytes per treated unit (with strata 20 + 32m and 16). The
// coordinator merges the answers one by one, each merge an Index over
// the candidates so far. Errors are NewMatchRun's, Query's and Finish's;
// a shard's own error is returned as it is (the lowest-numbered shard's
// when several fail), and a nil shard or answer is an *InputError with
// ErrBadOption.
func MatchUnitsShards(ctx context.Context, shards []MatchShard, scores []float64, treated []bool, opts *UnitOptions) (*UnitMatching, error) {
	if len(shards) == 0 {
		return nil, optionError("shards", "none")
	}
	for k, s := range shards {
		if s == nil {
			return nil, optionError("shards", "shard %d is nil", k)
		}
	}
	r, err := NewMatchRun(scores, treated, opts)
	if err != nil {
		return nil, err
	}
	var moments *MatchMoments
	if r.NeedsMoments() {
		parts := make([]*MatchMoments, len(shards))
		err := lgEach(ctx, len(shards), func(k int) error {
			m, err := shards[k].Moments(ctx, r.mo.Distance)
			if err == nil && m == nil {
				err = optionError("shards", "shard %d: Moments returned nil", k)
			}
			parts[k] = m
			return err
		})
		if err != nil {
			return nil, err
		}
		moments = &MatchMoments{}
		for _, m := range parts {
			if err := moments.Merge(m); err != nil {
				return nil, err
			}
		}
	}
	q, err := r.Query(moments)
	if err != nil {
		return nil, err
	}
	parts := make([]*MatchCandidates, len(shards))
	err = lgEach(ctx, len(shards), func(k int) error {
		c, err := shards[k].Candidates(ctx, q)
		if err == nil && c == nil {
			err = optionError("shards", "shard %d: Candidates returned nil", k)
		}
		parts[k] = c
		return err
	})
	if err != nil {
		return nil, err
	}
	var all MatchCandidates
	for _, c := range parts {
		if err := all.Merge(c); err != nil {
			return nil, err
		}
	}
	return r.Finish(&all)
}

// errCandidateIndex is the error of matching on the index of a sharded
// matching.
func errCandidateIndex() error {
	return optionError("Index", "the index of a sharded matching (MatchRun.Finish) holds only the candidate controls and cannot match; use NewIndex")
}
