package psm

import (
	"fmt"
	"math"
	"slices"
)

// Partial results of a matching whose control units are split over
// shards (match_shards.go). The coordinator (MatchRun) broadcasts the
// treated units' scores and strata in a MatchQuery; each shard answers
// with its MatchCandidates: for every treated unit, the controls of the
// shard that the engine's search would keep if the shard's controls were
// all the controls (its K nearest by weight and every control tied with
// its K-th, within the caliper; all of them when they weigh less than
// K). Candidates merge by searching the union of their controls again
// with the same rule, which is the rule of the whole: merged candidates
// are the candidates of the union of the shards, whatever the order or
// grouping of the merges. MatchRun.Finish searches the candidates of all
// shards once more, without Partial, and builds the Matching. With a
// caliper or trimming a first round gathers MatchMoments, the scores'
// range and exact moments, from which the coordinator computes the
// trimming range and the caliper width that the query carries.

// MatchQuery is what the coordinator of a sharded matching broadcasts to
// every shard (MatchRun.Query): the rule of MatchOptions with
// replacement and the default tie rule, and the treated units to search.
type MatchQuery struct {
	// Distance is the scale of the scores; the shards transform their
	// control scores to it as MatchOptions.Distance does.
	Distance Distance
	// K is the number of neighbours, counted by frequency weight (>= 1).
	K int
	// TieTolerance widens ties (MatchOptions.TieTolerance, TieDistance).
	TieTolerance float64
	// Width is the caliper width on the distance scale, or with WidthExp
	// != 0 on the axis scaled by 2^-WidthExp (a subnormal or huge width):
	// a control at |t − x|·2^-WidthExp > Width is excluded. 0: no
	// caliper (WidthExp 0).
	Width    float64
	WidthExp int
	// Treated numbers the treated units to search, strictly increasing
	// (the coordinator's numbering: treated i is TreatedUnits[i]); Scores
	// are their scores on the distance scale and Strata their strata
	// (nil: no strata).
	Treated []int
	Scores  []float64
	Strata  []int32
}

// maxWidthExp bounds |WidthExp| (the engine's exponents lie within ±1100).
const maxWidthExp = 1 << 12

// check reports whether the query is valid.
func (q *MatchQuery) check() error {
	bad := func(format string, args ...any) error { return optionError("MatchQuery", format, args...) }
	switch {
	case q.Distance != ProbabilityDistance && q.Distance != LogitDistance:
		return bad("unknown distance %d", q.Distance)
	case q.K < 1 || q.K > math.MaxInt32:
		return bad("K = %d, want 1 to 2^31-1", q.K)
	case !(q.TieTolerance >= 0) || math.IsInf(q.TieTolerance, 1):
		return bad("TieTolerance = %v, want a finite value >= 0", q.TieTolerance)
	case !(q.Width >= 0) || math.IsInf(q.Width, 1):
		return bad("Width = %v, want a finite value >= 0", q.Width)
	case q.WidthExp < -maxWidthExp || q.WidthExp > maxWidthExp || (q.Width == 0 && q.WidthExp != 0):
		return bad("WidthExp = %d with Width %v", q.WidthExp, q.Width)
	case len(q.Scores) != len(q.Treated):
		return bad("%d scores for %d treated units", len(q.Scores), len(q.Treated))
	case q.Strata != nil && len(q.Strata) != len(q.Treated):
		return bad("%d strata for %d treated units", len(q.Strata), len(q.Treated))
	}
	for k, i := range q.Treated {
		if i < 0 || i >= math.MaxInt32 || (k > 0 && i <= q.Treated[k-1]) {
			return bad("Treated[%d] = %d: want numbers 0 to 2^31-2 in increasing order", k, i)
		}
		if v := q.Scores[k]; math.IsNaN(v) || math.IsInf(v, 0) {
			return bad("Scores[%d] = %v is not finite", k, v)
		}
	}
	return nil
}

// candParams is the rule of a query, which candidates keep.
type candParams struct {
	dist     Distance
	k        int
	tol      float64
	width    float64
	widthExp int
	strata   bool
}

func (q *MatchQuery) params() candParams {
	return candParams{dist: q.Distance, k: q.K, tol: q.TieTolerance, width: q.Width, widthExp: q.WidthExp, strata: q.Strata != nil}
}

// searcher returns the engine's search by the rule p over ix with the
// block weights bw.
func (p candParams) searcher(ix *Index, bw *blockWeights, partial bool) searcher {
	sr := searcher{ix: ix, bw: bw, k: float64(p.k), tol: p.tol, rule: TieDistance, partial: partial}
	if p.width > 0 {
		sr.cal = p.width
		sr.calScale, sr.calE = p.widthExp != 0, p.widthExp
	}
	return sr
}

func (p candParams) String() string {
	return fmt.Sprintf("distance %d, K %d, tolerance %v, width %v·2^%d, strata %v", p.dist, p.k, p.tol, p.width, p.widthExp, p.strata)
}

// candControl is a candidate control: its unit, score on the distance
// scale, frequency weight (> 0) and stratum (0 without strata).
type candControl struct {
	unit    int
	x, w    float64
	stratum int32
}

// candQuery is a treated unit with candidates: its number, score and
// stratum, and its candidates refs[lo:hi] (indices into ctrl, ascending).
type candQuery struct {
	treated int
	x       float64
	stratum int32
	lo, hi  int
}

// MatchCandidates is what a set of control units (a shard, or several
// shards merged) contributes to a matching for the treated units of a
// MatchQuery: for each treated unit t, the controls of positive weight
// in t's stratum that the engine's search (the one Match uses, with
// replacement) keeps among these controls with Partial set — the nearest
// ones until their frequency weights reach K, the last of them at
// distance d_K, and every control within d_K + TieTolerance (exact
// equality of distances with tolerance 0), excluding those beyond the
// caliper width; all of them when they weigh less than K — with their
// units, scores, weights and strata; and the number of controls the set
// holds. Controls of weight 0 are never candidates (they take no part in
// a match set).
//
// Because more controls can only bring d_K closer, the candidates of a
// union of shards are the candidates, searched again, of the union of
// their candidates: Merge does that, so merged candidates depend only on
// which shards were merged, not on the order or grouping of the merges
// (with whole-number weights, or any weights whose sums up to K are
// exact; see MatchRun.Finish for other weights).
//
// The zero value is empty and takes the query of the first candidates
// merged into it. Encoded size (MarshalBinary): 58 bytes, plus per
// distinct candidate control 24 bytes (28 with strata), plus per treated
// unit with candidates 16 bytes (20 with strata) and 4 per candidate: a
// treated unit with m candidates costs at most 16 + 28m bytes (20 + 32m
// with strata), less where treated units share controls. With unit
// weights m is K plus the controls tied with the K-th nearest (fewer
// when the shard's stratum holds fewer than K within the caliper, none
// when it holds none): K = 1 without ties is at most 44 bytes per treated
// unit (52 with strata). In memory about as much. A shard's answer does
// not grow with its number of controls; a merge of S shards' answers
// holds, per treated unit, the candidates of the union (about K again,
// not S·K).
type MatchCandidates struct {
	p       candParams
	set     bool
	n       int           // controls of the shards covered
	ctrl    []candControl // by unit, strictly increasing
	queries []candQuery   // by treated number, strictly increasing
	refs    []int32
}

// Controls returns the number of control units of the shards the
// candidates cover (all their controls, candidates or not).
func (c *MatchCandidates) Controls() int { return c.n }

// Candidates returns the number of distinct candidate controls.
func (c *MatchCandidates) Candidates() int { return len(c.ctrl) }

// Treated returns the number of treated units with candidates.
func (c *MatchCandidates) Treated() int { return len(c.queries) }

// Units returns the candidate units of treated unit i (the query's
// numbering), in increasing order; nil when it has none.
func (c *MatchCandidates) Units(i int) []int {
	k, ok := slices.BinarySearchFunc(c.queries, i, func(q candQuery, i int) int { return q.treated - i })
	if !ok {
		return nil
	}
	q := c.queries[k]
	out := make([]int, 0, q.hi-q.lo)
	for _, r := range c.refs[q.lo:q.hi] {
		out = append(out, c.ctrl[r].unit)
	}
	return out
}

// Merge adds the candidates of o to c: the union of their controls is
// searched again for every treated unit with candidates in either, so
// that c holds the candidates of the controls of both. Merge is
// associative and commutative. It is an error (an *InputError with
// ErrBadOption, c unchanged) when the candidates answer different
// queries (another rule, or one treated unit with different scores or
// strata) or share a control unit (overlapping shards, or a partial
// merged twice). o is not modified. Cost: O(U log U) for the U candidate
// controls of both (an Index over them) plus a search per treated unit.
func (c *MatchCandidates) Merge(o *MatchCandidates) error {
	if !o.set {
		return nil
	}
	if !c.set {
		*c = MatchCandidates{p: o.p, set: true, n: o.n, ctrl: slices.Clone(o.ctrl),
			queries: slices.Clone(o.queries), refs: slices.Clone(o.refs)}
		return nil
	}
	if c.p != o.p {
		return optionError("MatchCandidates", "merging candidates for another query (%v) into ones for %v", o.p, c.p)
	}
	if c.n > lgMaxRow-o.n || len(c.ctrl)+len(o.ctrl) >= math.MaxInt32 {
		return optionError("MatchCandidates", "merging candidates of %d and %d controls (%d and %d candidates): too many", c.n, o.n, len(c.ctrl), len(o.ctrl))
	}
	// the union of the controls, by unit
	ctrl := make([]candControl, 0, len(c.ctrl)+len(o.ctrl))
	a, b := c.ctrl, o.ctrl
	for len(a) > 0 || len(b) > 0 {
		switch {
		case len(b) == 0 || (len(a) > 0 && a[0].unit < b[0].unit):
			ctrl, a = append(ctrl, a[0]), a[1:]
		case len(a) == 0 || b[0].unit < a[0].unit:
			ctrl, b = append(ctrl, b[0]), b[1:]
		default:
			return optionError("MatchCandidates", "control unit %d is in both candidates (overlapping shards, or candidates merged twice)", a[0].unit)
		}
	}
	// the union of the treated units
	qs := make([]candQuery, 0, len(c.queries)+len(o.queries))
	qa, qb := c.queries, o.queries
	for len(qa) > 0 || len(qb) > 0 {
		switch {
		case len(qb) == 0 || (len(qa) > 0 && qa[0].treated < qb[0].treated):
			qs, qa = append(qs, qa[0]), qa[1:]
		case len(qa) == 0 || qb[0].treated < qa[0].treated:
			qs, qb = append(qs, qb[0]), qb[1:]
		default:
			if math.Float64bits(qa[0].x) != math.Float64bits(qb[0].x) || qa[0].stratum != qb[0].stratum {
				return optionError("MatchCandidates", "treated unit %d has score %v in stratum %d in one candidates and %v in %d in the other",
					qa[0].treated, qa[0].x, qa[0].stratum, qb[0].x, qb[0].stratum)
			}
			qs, qa, qb = append(qs, qa[0]), qa[1:], qb[1:]
		}
	}
	*c = *searchCandidates(ctrl, qs, c.p, c.n+o.n)
	return nil
}

// searchCandidates returns the candidates among the controls ctrl (by
// unit) for the treated units qs (by number; lo and hi are not read),
// covering n controls.
func searchCandidates(ctrl []candControl, qs []candQuery, p candParams, n int) *MatchCandidates {
	if len(ctrl) == 0 {
		return &MatchCandidates{p: p, set: true, n: n}
	}
	x := make([]float64, len(ctrl))
	w := make([]float64, len(ctrl))
	var strata []int32
	if p.strata {
		strata = make([]int32, len(ctrl))
	}
	for j, c := range ctrl {
		x[j], w[j] = c.x, c.w
		if strata != nil {
			strata[j] = c.stratum
		}
	}
	ix := buildIndex(x, strata, p.dist)
	return collectCandidates(ix, w, func(j int) candControl { return ctrl[j] }, qs, p, n)
}

// collectCandidates searches the controls of ix, whose input order is
// their order by unit, with frequency weights cw (nil: all 1), for the
// treated units qs by the rule p with Partial, and returns the controls
// of positive weight found (control(j) describes control j of ix) and n
// as the number of controls covered.
func collectCandidates(ix *Index, cw []float64, control func(j int) candControl, qs []candQuery, p candParams, n int) *MatchCandidates {
	out := &MatchCandidates{p: p, set: true, n: n}
	var bw blockWeights
	bw.prepare(ix, cw)
	sr := p.searcher(ix, &bw, true)
	slot := make([]int32, ix.n) // 1 + the control's place in ctrl; 0: not a candidate
	var found []int32           // controls found, per treated unit in turn
	for _, q := range qs {
		slo, shi, _, ok := ix.stratumRange(q.stratum)
		if !ok || slo == shi {
			continue
		}
		a, e, _, _, st := sr.find(q.x, slo, shi)
		if st != StatusMatched {
			continue
		}
		lo := len(found)
		for _, j := range ix.order[ix.bstart[a]:ix.bstart[e]] {
			if cw == nil || cw[j] > 0 {
				found = append(found, j)
				slot[j] = 1
			}
		}
		if len(found) > lo {
			slices.Sort(found[lo:])
			out.queries = append(out.queries, candQuery{treated: q.treated, x: q.x, stratum: q.stratum, lo: lo, hi: len(found)})
		}
	}
	for j, s := range slot {
		if s != 0 {
			out.ctrl = append(out.ctrl, control(j))
			slot[j] = int32(len(out.ctrl))
		}
	}
	out.refs = found
	for k, j := range found {
		out.refs[k] = slot[j] - 1
	}
	return out
}

// MatchMoments is what a set of control units (a shard, or several
// merged) contributes to the first round of a sharded matching with a
// caliper or trimming (MatchShard.Moments): the number of controls, the
// smallest and largest score of the controls with positive weight, and
// the exact sums S0 = Σ w, S1 = Σ w x and S2 = Σ w x² over them, x the
// score on the distance scale and w the frequency weight. The sums are
// kept exactly (products of float64 values added into a binary
// fixed-point number), so they merge, in any order, to the exact sums
// over all controls. The coordinator adds the treated units' terms and
// computes the caliper's standard deviation sqrt(S2/S0 − (S1/S0)²) from
// the exact sums, rounded once (see MatchRun.Query).
//
// The zero value is empty and takes the distance of the first moments
// merged into it. Encoded size (MarshalBinary): 49 bytes plus 8 per
// 64-bit word of the four sums, whose words span the binary range of
// their terms: 73 bytes for whole-number scores and weights, about 100
// for scores in (0, 1) or on the logit scale (at most about 2.4 KB for
// terms from subnormal to huge).
type MatchMoments struct {
	dist     Distance
	set      bool
	n        int
	min, max float64
	// s0 = Σ w, s1p = Σ w x over x > 0, s1n = Σ w |x| over x < 0,
	// s2 = Σ w x²
	s0, s1p, s1n, s2 xsum
}

// Controls returns the number of control units covered.
func (m *MatchMoments) Controls() int { return m.n }

// Range returns the smallest and largest score, on the distance scale,
// of the controls with positive weight (+Inf, -Inf when there are none).
func (m *MatchMoments) Range() (lo, hi float64) { return m.min, m.max }

// Distance returns the scale of the scores.
func (m *MatchMoments) Distance() Distance { return m.dist }

// newMatchMoments returns the moments of the scores x (on the scale d)
// with frequency weights w (nil: all 1).
func newMatchMoments(d Distance, x, w []float64) *MatchMoments {
	m := &MatchMoments{dist: d, set: true, n: len(x), min: math.Inf(1), max: math.Inf(-1)}
	var a xmoments
	for j, v := range x {
		if wj := weightOf(w, j); wj > 0 {
			m.min, m.max = math.Min(m.min, v), math.Max(m.max, v)
			a.add(wj, v)
		}
	}
	m.s0, m.s1p, m.s1n, m.s2 = a.s0.sum(), a.s1p.sum(), a.s1n.sum(), a.s2.sum()
	return m
}

// Merge adds o to m: the counts and the exact sums add, the ranges
// widen. Merge is associative and commutative, and the merged moments
// are those of the union of the controls, bit for bit. It is an error
// (an *InputError with ErrBadOption, m unchanged) when the moments are
// on different distance scales. o is not modified.
func (m *MatchMoments) Merge(o *MatchMoments) error {
	if !o.set {
		return nil
	}
	if !m.set {
		*m = *o
		return nil
	}
	if m.dist != o.dist {
		return optionError("MatchMoments", "merging moments on distance %d into moments on distance %d", o.dist, m.dist)
	}
	m.n += o.n
	m.min, m.max = math.Min(m.min, o.min), math.Max(m.max, o.max)
	m.s0, m.s1p, m.s1n, m.s2 = m.s0.plus(o.s0), m.s1p.plus(o.s1p), m.s1n.plus(o.s1n), m.s2.plus(o.s2)
	return nil
}
