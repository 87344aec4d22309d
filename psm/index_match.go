package psm

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/psmeval/psmeval/internal/buf"
)

// eagerBlocks is the largest number of blocks for which the control
// weights are added up per block for all blocks at once (a sequential
// pass with the block sums in cache); above it block sums are computed
// only for the blocks a search touches. (A variable so that tests can
// exercise both paths.)
var eagerBlocks = 1 << 16

// matchScratch holds per-call work space, kept in a Matching so that
// MatchInto can reuse it.
type matchScratch struct {
	bw blockWeights
	// block masses sum t_i/W_i of the sets covering each block
	mass    []float64
	mstamp  []uint32
	touched []int32
	xt      []float64 // treated scores on the distance scale
	torder  []int32   // treated units in order of (stratum, score)
	stotal  []float64 // control weight of each stratum (with strata and weights)
	mgen    uint32
	// MatchedControls lists every non-zero ControlWeight entry of the
	// previous call
	prevValid bool
	// without replacement
	cap   []float64
	next  []int32
	rem   []float64
	left  []int32
	right []int32
}

// blockWeights gives the total control weight of index blocks and finds
// the nearest blocks with positive weight. Eager (few blocks): all block
// sums, their prefix sums and the list of positive blocks are computed up
// front, O(N + B), and queries are O(1). Lazy (many blocks): a block sum
// is computed when first asked for in a call (stamped with the call's
// generation), so a call costs only the blocks its searches touch; the
// nearest positive block is found by stepping over zero-weight blocks.
// Without control weights the sums are the block sizes, O(1).
type blockWeights struct {
	ix *Index
	cw []float64
	// wf, when set, gives the weight of the control at sorted position p
	// on demand (Searcher): a block's sum is formed anew each time it is
	// asked for
	wf    func(j int) float64
	eager bool
	wb    []float64 // block sums (eager: all; lazy: stamped)
	pw    []float64 // eager: prefix sums of wb (len B+1)
	cpos  []int32   // eager: positive blocks before b (len B+1)
	pos   []int32   // eager: the positive blocks
	stamp []uint32  // lazy: generation of wb[b]
	gen   uint32
}

func (bw *blockWeights) w(b int32) float64 {
	if bw.eager {
		return bw.wb[b]
	}
	ix := bw.ix
	if bw.wf != nil {
		var s float64
		for p := ix.bstart[b]; p < ix.bstart[b+1]; p++ {
			s += bw.wf(int(p))
		}
		return s
	}
	if bw.cw == nil {
		return float64(ix.bstart[b+1] - ix.bstart[b])
	}
	if bw.stamp[b] == bw.gen {
		return bw.wb[b]
	}
	var s float64
	for _, j := range ix.order[ix.bstart[b]:ix.bstart[b+1]] {
		s += bw.cw[j]
	}
	bw.wb[b], bw.stamp[b] = s, bw.gen
	return s
}

// left returns the largest block b in [lo, L) with positive weight, or -1.
func (bw *blockWeights) left(L, lo int32) int32 {
	if bw.eager {
		if r := bw.cpos[L]; r > bw.cpos[lo] {
			return bw.pos[r-1]
		}
		return -1
	}
	for b := L - 1; b >= lo; b-- {
		if bw.w(b) > 0 {
			return b
		}
	}
	return -1
}

// right returns the smallest block b in [R, hi) with positive weight, or -1.
func (bw *blockWeights) right(R, hi int32) int32 {
	if bw.eager {
		if r := bw.cpos[R]; r < bw.cpos[hi] {
			return bw.pos[r]
		}
		return -1
	}
	for b := R; b < hi; b++ {
		if bw.w(b) > 0 {
			return b
		}
	}
	return -1
}

// sum is the total weight of blocks [a, e).
func (bw *blockWeights) sum(a, e int32) float64 {
	if !bw.eager && bw.cw == nil && bw.wf == nil {
		return float64(bw.ix.bstart[e] - bw.ix.bstart[a])
	}
	if bw.eager && e-a > 32 {
		return bw.pw[e] - bw.pw[a]
	}
	var s float64
	for b := a; b < e; b++ {
		s += bw.w(b)
	}
	return s
}

// prepare sets up the block weights for one call.
func (bw *blockWeights) prepare(ix *Index, cw []float64) {
	B := len(ix.bscore)
	bw.ix, bw.cw = ix, cw
	bw.eager = B <= eagerBlocks
	if !bw.eager {
		if cw != nil {
			bw.wb = buf.Resize(bw.wb, B)
			if len(bw.stamp) != B {
				bw.stamp = make([]uint32, B)
				bw.gen = 0
			}
			bw.gen++
			if bw.gen == 0 { // wrapped around
				clear(bw.stamp)
				bw.gen = 1
			}
		}
		return
	}
	bw.wb = buf.Resize(bw.wb, B)
	bw.pw = buf.Resize(bw.pw, B+1)
	bw.cpos = buf.Resize(bw.cpos, B+1)
	bw.pos = buf.Resize(bw.pos, B)[:0]
	wb := bw.wb
	if cw == nil {
		for b := range wb {
			wb[b] = float64(ix.bstart[b+1] - ix.bstart[b])
		}
	} else {
		clear(wb)
		for j, w := range cw {
			wb[ix.blockOf[j]] += w
		}
	}
	var s float64
	var n int32
	for b, w := range wb {
		bw.pw[b] = s
		bw.cpos[b] = n
		if w > 0 {
			s += w
			bw.pos = append(bw.pos, int32(b))
			n++
		}
	}
	bw.pw[B] = s
	bw.cpos[B] = n
}

// Match matches the treated scores to the index's controls. opts (nil =
// defaults) gives K, replacement, caliper, ties, trimming, the treated
// strata and both frequency weight vectors; opts.Distance must equal the
// index's distance and opts.ControlStrata is ignored (fixed by NewIndex).
//
// Cost with replacement, for N controls in B blocks and T treated units:
// with control weights one sequential pass over them (their total, and
// their score range when trimming, a caliper or TieRMatching need it);
// O(T log T) to sort the treated units; a caliper (exact sums, some 50
// ns per block) and TieRMatching each add a pass over the B block
// weights and the T treated units (with more than 65,536 blocks and control weights this forms every
// block sum, O(N) gathered in sorted order); then O(log B) per treated unit plus one step per block visited to accumulate
// weight K (blocks of weight 0 are stepped over), whatever the size of the
// tie blocks. A block's weight sum costs its size once per call when the
// index has more than 65,536 blocks; with fewer, all block sums are formed
// up front (O(N), sequential). Filling ControlWeight costs the number of
// blocks in each set plus the matched blocks' sizes (with at most 65,536
// blocks: one sequential pass over all N), and clearing the previous
// call's entries (all N on a fresh destination). Expanding the sets (SkipSets false)
// adds their total size. Without replacement see MatchOptions.NoReplacement;
// the cost is O(N + B + T K log B).
func (ix *Index) Match(treated []float64, opts *MatchOptions) (*Matching, error) {
	m := &Matching{}
	if err := ix.MatchInto(m, treated, opts); err != nil {
		return nil, err
	}
	return m, nil
}

// MatchInto is Match writing into dst, reusing its memory (the
// bootstrap calls it once per replicate with one dst per worker). dst's
// slices are overwritten by the next call: copy what must outlive it, and
// do not modify ControlWeight in between (only the entries listed in
// MatchedControls are cleared). The weight slices in opts are referenced,
// not copied, by the result (ATT and Balance read them). On error dst is
// left in an unspecified state.
func (ix *Index) MatchInto(dst *Matching, treated []float64, opts *MatchOptions) error {
	var o MatchOptions
	if opts != nil {
		o = *opts
	}
	T := len(treated)
	if ix.candidates {
		return errCandidateIndex()
	}
	if err := ix.checkOptions(&o, T); err != nil {
		return err
	}
	sc := dst.scratch
	if sc == nil || dst.ix != ix {
		sc = &matchScratch{}
	}
	prevControls := dst.MatchedControls
	*dst = Matching{
		Start: dst.Start[:0], Control: dst.Control[:0], Weight: dst.Weight[:0],
		Matched: dst.Matched, Status: dst.Status, MatchedWeight: dst.MatchedWeight,
		KthDistance: dst.KthDistance, BlockLo: dst.BlockLo, BlockHi: dst.BlockHi,
		SetWeight: dst.SetWeight, ControlWeight: dst.ControlWeight,
		MatchedControls: dst.MatchedControls[:0],
		ix:              ix, cw: o.ControlWeights, tw: o.TreatedWeights, noRepl: o.NoReplacement, scratch: sc,
	}
	m := dst
	// Clear the control weights left by the previous call.
	if len(m.ControlWeight) == ix.n && sc.prevValid {
		for _, j := range prevControls {
			m.ControlWeight[j] = 0
		}
	} else {
		m.ControlWeight = buf.Resize(m.ControlWeight, ix.n)
		clear(m.ControlWeight)
	}
	sc.prevValid = false

	var err error
	sc.xt, err = transformInto(sc.xt, "treated", treated, ix.dist)
	if err != nil {
		return err
	}
	xt := sc.xt
	tw := o.TreatedWeights
	cw := o.ControlWeights

	// Totals over the controls: one sequential pass with weights.
	needStats := o.Caliper > 0 || o.TieRule == TieRMatching
	csum, cmin, cmax := float64(ix.n), ix.xmin, ix.xmax
	if cw != nil {
		// validate and add up in one pass; a second pass over the scores
		// only when trimming, a caliper or TieRMatching need them
		csum = 0
		for j, w := range cw {
			if !(w >= 0) || w > math.MaxFloat64 || (o.NoReplacement && w != math.Trunc(w)) {
				return weightError("ControlWeights", j, w, o.NoReplacement)
			}
			csum += w
		}
		if o.Trim || o.NoReplacement || needStats {
			cmin, cmax = math.Inf(1), math.Inf(-1)
			for j, w := range cw {
				if w > 0 {
					v := ix.x[j]
					cmin = math.Min(cmin, v)
					cmax = math.Max(cmax, v)
				}
			}
		}
		if ix.hasStrata {
			sc.stotal = buf.Resize(sc.stotal, len(ix.strata))
			clear(sc.stotal)
			for j, w := range cw {
				sc.stotal[ix.sOf[j]] += w
			}
		}
	}
	if csum == 0 {
		return &InputError{Field: "ControlWeights", Index: -1, Msg: "all control weights are 0", Err: ErrEmptyGroup}
	}
	if csum < float64(o.K) {
		return &InputError{Field: "K", Index: -1,
			Msg: fmt.Sprintf("K = %d neighbours but the controls weigh %g in total", o.K, csum), Err: ErrTooFewControls}
	}
	var tsum float64
	for i := range xt {
		w := 1.0
		if tw != nil {
			w = tw[i]
		}
		tsum += w
	}
	if tsum == 0 {
		return &InputError{Field: "TreatedWeights", Index: -1, Msg: "all treated weights are 0", Err: ErrEmptyGroup}
	}

	m.Matched = buf.Resize(m.Matched, T)
	m.Status = buf.Resize(m.Status, T)
	m.MatchedWeight = buf.Resize(m.MatchedWeight, T)
	m.KthDistance = buf.Resize(m.KthDistance, T)
	sc.bw.prepare(ix, cw)

	// The treated units in order of (stratum, score, weight, index): the
	// canonical order in which their contributions are added up (scale
	// statistics, ControlWeight), and successive binary searches share
	// their cache lines.
	sc.torder = buf.Resize(sc.torder, T)
	for i := range sc.torder {
		sc.torder[i] = int32(i)
	}
	slices.SortFunc(sc.torder, func(a, b int32) int {
		if sa, sb := stratumOf(o.TreatedStrata, int(a)), stratumOf(o.TreatedStrata, int(b)); sa != sb {
			return cmp.Compare(sa, sb)
		}
		if c := cmp.Compare(xt[a], xt[b]); c != 0 {
			return c
		}
		if tw != nil {
			if c := cmp.Compare(tw[a], tw[b]); c != 0 {
				return c
			}
		}
		return cmp.Compare(a, b)
	})

	// Scale statistics over all treated and control units (R Matching:
	// caliper sd with divisor W; standardization for TieRMatching).
	sr := searcher{ix: ix, bw: &sc.bw, k: float64(o.K), tol: o.TieTolerance, rule: o.TieRule}
	if needStats {
		if err := ix.scaleStats(&sr, &sc.bw, &o, xt, tw, sc.torder, cmin, cmax); err != nil {
			return err
		}
	}

	if o.NoReplacement {
		m.MatchedControls = nil
		return ix.matchNoReplacement(m, xt, &o, cmin, cmax, &sr)
	}

	m.BlockLo = buf.Resize(m.BlockLo, T)
	m.BlockHi = buf.Resize(m.BlockHi, T)
	m.SetWeight = buf.Resize(m.SetWeight, T)
	nTrim, nLive := 0, 0
	for _, i32 := range sc.torder {
		i := int(i32)
		t := xt[i]
		w := 1.0
		if tw != nil {
			w = tw[i]
		}
		m.BlockLo[i], m.BlockHi[i], m.SetWeight[i] = 0, 0, 0
		m.MatchedWeight[i] = 0
		m.KthDistance[i] = math.NaN()
		st, slo, shi, k := ix.entryStatus(&o, i, t, w, cmin, cmax)
		if st == StatusTrimmed {
			nTrim++
		}
		if st == StatusMatched && ix.stratumWeight(k, sc.stotal, cw, csum) < float64(o.K) {
			st = StatusNoControls
		}
		if w != 0 {
			nLive++
		}
		if st == StatusMatched {
			a, e, wset, dk, s := sr.find(t, slo, shi)
			st = s
			if st == StatusMatched {
				m.BlockLo[i], m.BlockHi[i], m.SetWeight[i] = a, e, wset
				m.MatchedWeight[i] = w
				m.KthDistance[i] = dk
				m.NMatched++
			}
		}
		m.Status[i] = st
		m.Matched[i] = st == StatusMatched
	}
	if m.NMatched == 0 {
		if nTrim == nLive {
			return ErrNoCommonSupport
		}
		return ErrNoMatch
	}
	ix.fillControlWeights(m, sc)
	sc.prevValid = true

	if !o.SkipSets {
		m.Start = buf.Resize(m.Start, T+1)
		m.Start[0] = 0
		for i := range xt {
			if m.Matched[i] {
				inv := 1 / m.SetWeight[i]
				for _, j := range ix.order[ix.bstart[m.BlockLo[i]]:ix.bstart[m.BlockHi[i]]] {
					wj := 1.0
					if cw != nil {
						wj = cw[j]
					}
					if wj > 0 {
						m.Control = append(m.Control, j)
						m.Weight = append(m.Weight, wj*inv)
					}
				}
			}
			m.Start[i+1] = len(m.Control)
		}
	} else {
		m.Start, m.Control, m.Weight = nil, nil, nil
	}
	return nil
}

// stratumWeight is the control weight of stratum number k.
func (ix *Index) stratumWeight(k int, stotal, cw []float64, csum float64) float64 {
	switch {
	case !ix.hasStrata:
		return csum
	case cw == nil:
		return float64(ix.bstart[ix.sblock[k+1]] - ix.bstart[ix.sblock[k]])
	}
	return stotal[k]
}

// fillControlWeights sets ControlWeight[j] = w_j * sum of t_i/W_i over
// the sets containing j's block, MatchedControls and the summaries.
// ControlWeight must be all zero on entry. The masses are accumulated in
// the canonical treated order sc.torder (stratum, score, weight), so the
// result does not depend on the order of the treated rows.
func (ix *Index) fillControlWeights(m *Matching, sc *matchScratch) {
	B := len(ix.bscore)
	cw := m.cw
	cwOut := m.ControlWeight
	if sc.bw.eager {
		// Few blocks: masses for all blocks, then one sequential pass.
		sc.mass = buf.Resize(sc.mass, B)
		mass := sc.mass
		clear(mass)
		for _, i := range sc.torder {
			if !m.Matched[i] {
				continue
			}
			f := m.MatchedWeight[i] / m.SetWeight[i]
			for b := m.BlockLo[i]; b < m.BlockHi[i]; b++ {
				mass[b] += f
			}
		}
		for j := range cwOut {
			w := mass[ix.blockOf[j]]
			if cw != nil {
				w *= cw[j]
			}
			if w > 0 {
				cwOut[j] = w
				m.MatchedControls = append(m.MatchedControls, int32(j))
			}
		}
	} else {
		// Masses only for the blocks in some set.
		sc.mass = buf.Resize(sc.mass, B)
		if len(sc.mstamp) != B {
			sc.mstamp = make([]uint32, B)
		}
		sc.touched = sc.touched[:0]
		mgen := nextGen(sc)
		for _, i := range sc.torder {
			if !m.Matched[i] {
				continue
			}
			f := m.MatchedWeight[i] / m.SetWeight[i]
			for b := m.BlockLo[i]; b < m.BlockHi[i]; b++ {
				if sc.mstamp[b] != mgen {
					sc.mstamp[b] = mgen
					sc.mass[b] = 0
					sc.touched = append(sc.touched, b)
				}
				sc.mass[b] += f
			}
		}
		slices.Sort(sc.touched)
		for _, b := range sc.touched {
			f := sc.mass[b]
			for _, j := range ix.order[ix.bstart[b]:ix.bstart[b+1]] {
				w := f
				if cw != nil {
					w *= cw[j]
				}
				if w > 0 {
					cwOut[j] = w
					m.MatchedControls = append(m.MatchedControls, j)
				}
			}
		}
		slices.Sort(m.MatchedControls)
	}
	m.NDistinctControls = len(m.MatchedControls)
	m.WeightedControls = 0
	for _, j := range m.MatchedControls {
		m.WeightedControls += cwOut[j]
	}
}

func nextGen(sc *matchScratch) uint32 {
	sc.mgen++
	if sc.mgen == 0 {
		clear(sc.mstamp)
		sc.mgen = 1
	}
	return sc.mgen
}

func (m *Matching) summarizeControls() {
	m.NDistinctControls = 0
	m.WeightedControls = 0
	m.MatchedControls = m.MatchedControls[:0]
	for j, w := range m.ControlWeight {
		if w > 0 {
			m.NDistinctControls++
			m.WeightedControls += w
			m.MatchedControls = append(m.MatchedControls, int32(j))
		}
	}
}

func stratumOf(s []int32, i int) int32 {
	if s == nil {
		return 0
	}
	return s[i]
}

// transformInto validates scores and maps them to the distance scale,
// writing into dst.
func transformInto(dst []float64, field string, s []float64, d Distance) ([]float64, error) {
	dst = buf.Resize(dst, len(s))
	for i, v := range s {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return dst, &InputError{Field: field, Index: i, Value: v, Msg: "score is not finite", Err: ErrBadScore}
		}
		if d == LogitDistance {
			if !(v > 0 && v < 1) {
				return dst, &InputError{Field: field, Index: i, Value: v,
					Msg: "LogitDistance needs a score in (0, 1)", Err: ErrBadScore}
			}
			v = math.Log(v / (1 - v)) // R qlogis
		}
		if v == 0 {
			v = 0 // -0 -> +0
		}
		dst[i] = v
	}
	return dst, nil
}

// checkOptions validates the per-call options and fills defaults.
func (ix *Index) checkOptions(o *MatchOptions, T int) error {
	if T == 0 {
		return &InputError{Field: "treated", Index: -1, Msg: "no treated units", Err: ErrEmptyGroup}
	}
	if o.K < 0 {
		return optionError("K", "K = %d; want >= 1 (0 means 1)", o.K)
	}
	if o.K == 0 {
		o.K = 1
	}
	if o.Distance != ix.dist {
		return optionError("Distance", "distance %d differs from the index's %d", o.Distance, ix.dist)
	}
	if !(o.Caliper >= 0) || math.IsInf(o.Caliper, 1) {
		return optionError("Caliper", "caliper %v; want a finite value >= 0", o.Caliper)
	}
	if !(o.TieTolerance >= 0) || math.IsInf(o.TieTolerance, 1) {
		return optionError("TieTolerance", "tolerance %v; want a finite value >= 0", o.TieTolerance)
	}
	if o.TieRule != TieDistance && o.TieRule != TieRMatching {
		return optionError("TieRule", "unknown tie rule %d", o.TieRule)
	}
	if ix.hasStrata && o.TreatedStrata == nil {
		return optionError("TreatedStrata", "the index has control strata; treated strata are required")
	}
	if !ix.hasStrata && o.TreatedStrata != nil {
		return optionError("TreatedStrata", "treated strata given but the index was built without ControlStrata")
	}
	if o.TreatedStrata != nil && len(o.TreatedStrata) != T {
		return lengthError("TreatedStrata", len(o.TreatedStrata), T, "treated")
	}
	if o.ControlWeights != nil && len(o.ControlWeights) != ix.n {
		return lengthError("ControlWeights", len(o.ControlWeights), ix.n, "control")
	}
	// the control weights' values are checked in MatchInto's first pass
	return checkWeights("TreatedWeights", o.TreatedWeights, T, "treated", o.NoReplacement)
}

// searcher finds match sets with replacement.
type searcher struct {
	ix     *Index
	bw     *blockWeights
	k, tol float64
	rule   TieRule
	// partial accepts a set whose controls weigh less than k when the
	// stratum (within the caliper) has no more
	partial bool
	mu, sig float64
	// caliper width (0 = none): on the distance scale, or with calScale
	// in units of 2^calE (a subnormal or huge width)
	cal      float64
	calScale bool
	calE     int
	// hint is the start position of the previous search, in the block
	// range [hlo, hhi) (hhi = 0: none); find starts the next search of
	// that range from it, which for treated scores visited in order costs
	// O(log gap) probes near the last instead of a binary search over
	// all blocks
	hint, hlo, hhi int32
}

// dist is the tie-rule distance of block b from a treated score t
// (zt is t standardized for TieRMatching). It is monotone along each side
// of t, also in floating point.
func (s *searcher) dist(b int32, t, zt float64) float64 {
	x := s.ix.bscore[b]
	if s.rule == TieRMatching {
		d := (x-s.mu)/s.sig - zt
		return d * d
	}
	return math.Abs(x - t)
}

func (s *searcher) outside(b int32, t float64) bool {
	if s.cal == 0 {
		return false
	}
	d := math.Abs(t - s.ix.bscore[b])
	if s.calScale {
		d = math.Ldexp(d, -s.calE)
	}
	return d > s.cal
}

// find returns the match set [a, e) of blocks within the stratum's block
// range [slo, shi) for treated score t, the total control weight in it,
// and the raw distance of the K-th nearest control.
func (s *searcher) find(t float64, slo, shi int32) (a, e int32, wset, dk float64, st MatchStatus) {
	return s.findFrom(t, slo, shi, -1)
}

// findFrom is find with a guess g (slo ≤ g ≤ shi; −1: none) of the first
// block of the range with score ≥ t, from which the search gallops;
// without one it starts from the previous search's block.
func (s *searcher) findFrom(t float64, slo, shi, g int32) (a, e int32, wset, dk float64, st MatchStatus) {
	bs := s.ix.bscore
	var p int32
	switch {
	case g >= slo && g <= shi:
		p = slo + int32(lowerBoundNear(bs[slo:shi], t, int(g-slo)))
	case s.hhi != 0 && s.hlo == slo && s.hhi == shi:
		p = slo + int32(lowerBoundNear(bs[slo:shi], t, int(s.hint-slo)))
	default:
		p = slo + int32(lowerBound(bs[slo:shi], t))
	}
	s.hint, s.hlo, s.hhi = p, slo, shi
	var zt float64
	if s.rule == TieRMatching {
		zt = (t - s.mu) / s.sig
	}
	L, R := p, p
	cum := 0.0
	var d float64
	kth := int32(-1)
	caliperHit := false
	for {
		// The next block on each side: with all block sums at hand the
		// nearest of positive weight; otherwise the adjacent block, whose
		// weight is read only when it is taken (nearer than the other
		// side), so that a search reads the weights of the blocks it
		// passes and no others.
		var bl, br int32 = -1, -1
		if s.bw.eager {
			bl, br = s.bw.left(L, slo), s.bw.right(R, shi)
		} else {
			if L > slo {
				bl = L - 1
			}
			if R < shi {
				br = R
			}
		}
		var dl, dr float64
		if bl >= 0 {
			if s.outside(bl, t) {
				bl, caliperHit = -1, true
			} else {
				dl = s.dist(bl, t, zt)
			}
		}
		if br >= 0 {
			if s.outside(br, t) {
				br, caliperHit = -1, true
			} else {
				dr = s.dist(br, t, zt)
			}
		}
		if bl < 0 && br < 0 {
			if s.partial && cum > 0 {
				break
			}
			if caliperHit {
				return 0, 0, 0, 0, StatusCaliper
			}
			return 0, 0, 0, 0, StatusNoControls
		}
		// (written so that a NaN distance, which the scale checks rule
		// out, takes both sides instead of neither: no endless loop)
		takeL := bl >= 0 && (br < 0 || !(dl > dr))
		takeR := br >= 0 && (bl < 0 || !(dr > dl))
		var wl, wr float64
		if takeL {
			L = bl
			wl = s.bw.w(bl)
		}
		if takeR {
			R = br + 1
			wr = s.bw.w(br)
		}
		if wl > 0 {
			cum += wl
			d, kth = dl, bl
		}
		if wr > 0 {
			cum += wr
			if wl <= 0 || math.Abs(bs[br]-t) > math.Abs(bs[bl]-t) {
				kth = br
			}
			d = dr
		}
		if cum >= s.k {
			break
		}
	}
	thr := d + s.tol
	if s.rule == TieRMatching {
		thr += rMatchingTOL
	}
	in := func(b int32) bool { return !s.outside(b, t) && s.dist(b, t, zt) <= thr }
	// The set is the blocks of the stratum within thr, found by galloping
	// out from t on each side (distances are monotone on each side), in
	// O(log of the set's size). It holds every block taken above, except,
	// when Partial stops at the stratum's end, blocks of weight 0 beyond
	// the last positive one.
	a = gallopDown(slo, p, in)
	e = gallopUp(p, shi, func(b int32) bool { return !in(b) })
	wset = s.bw.sum(a, e)
	return a, e, wset, math.Abs(bs[kth] - t), StatusMatched
}

// gallopDown returns the first b in [lo, hi] with ok(b), for ok false on
// [lo, x) and true on [x, hi) (x = hi when ok holds nowhere), probing
// hi−1, hi−2, hi−4, ... and then bisecting: O(log(hi − x)) calls.
func gallopDown(lo, hi int32, ok func(int32) bool) int32 {
	top, step := hi, int32(1) // ok holds on [top, hi)
	for top > lo {
		probe := max(top-step, lo)
		if !ok(probe) { // x in (probe, top]
			return probe + 1 + int32(sort.Search(int(top-probe-1), func(k int) bool { return ok(probe + 1 + int32(k)) }))
		}
		top, step = probe, step*2
	}
	return lo
}

// gallopUp returns the first b in [lo, hi] with ok(b), for ok false on
// [lo, x) and true on [x, hi) (x = hi when ok holds nowhere), probing
// lo, lo+1, lo+3, ... and then bisecting: O(log(x − lo)) calls.
func gallopUp(lo, hi int32, ok func(int32) bool) int32 {
	bot, step := lo, int32(1) // ok is false on [lo, bot)
	for bot < hi {
		probe := min(bot+step-1, hi-1)
		if ok(probe) { // x in [bot, probe]
			return bot + int32(sort.Search(int(probe-bot), func(k int) bool { return ok(bot + int32(k)) }))
		}
		bot, step = probe+1, step*2
	}
	return hi
}

// lowerBound returns the first i with x[i] >= t (len(x) when none) for
// ascending x: sort.SearchFloat64s without the closure, which a search
// per treated unit and replicate pays for.
func lowerBound(x []float64, t float64) int {
	lo, hi := 0, len(x)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if x[m] < t {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// lowerBoundNear is lowerBound(x, t) found from a guess g (0 ≤ g ≤
// len(x)): galloping away from g, then bisecting, in O(log |answer − g|)
// probes.
func lowerBoundNear(x []float64, t float64, g int) int {
	n := len(x)
	switch {
	case g < n && x[g] < t: // the answer is in (g, n]
		lo, step := g+1, 1
		hi := n
		for {
			probe := lo + step - 1
			if probe >= n {
				break
			}
			if x[probe] >= t {
				hi = probe
				break
			}
			lo, step = probe+1, step*2
		}
		return lo + lowerBound(x[lo:hi], t)
	case g > 0 && x[g-1] >= t: // the answer is in [0, g−1]
		hi, step := g-1, 1
		lo := 0
		for {
			probe := hi - step
			if probe < 0 {
				break
			}
			if x[probe] < t {
				lo = probe + 1
				break
			}
			hi, step = probe, step*2
		}
		return lo + lowerBound(x[lo:hi], t)
	}
	return g
}
