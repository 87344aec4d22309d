package psm

import (
	"math"
	"sort"
)

// Index is a prepared, reusable set of control scores for repeated
// matching with the same controls but new treated units or new frequency
// weights (the bootstrap). NewIndex sorts the controls once by (stratum,
// score, input index) and collapses equal scores within a stratum into
// blocks; a block is matched or not as a whole, so the cost of a match
// does not depend on how many controls share a score.
//
// An Index is immutable: any number of goroutines may call Match or
// MatchInto on it at the same time (each with its own destination).
type Index struct {
	n      int
	dist   Distance
	x      []float64 // control scores on the distance scale, input order
	order  []int32   // sorted position -> control index
	bscore []float64 // score of each block
	bstart []int32   // block b holds positions bstart[b]:bstart[b+1]
	// blockOf maps a control (input order) to its block.
	blockOf []int32
	// strata: sorted distinct keys and the block range of each
	// (sblock[s]:sblock[s+1]); without strata one range.
	strata     []int32
	sblock     []int32
	hasStrata  bool
	sOf        []int32 // stratum number (index into strata) of each control; nil without strata
	xmin, xmax float64 // smallest and largest control score
	// candidates marks the index of a matching merged from shards
	// (MatchRun.Finish): its blocks hold only the candidate controls,
	// numbered among all n controls; x and sOf are nil and blockOf is -1
	// for the other controls. It serves the matching's estimators but
	// cannot match.
	candidates bool
}

// NewIndex prepares the control scores for matching. It uses
// opts.Distance and opts.ControlStrata (nil = no strata); the other
// options are given to each (*Index).Match call. Cost: O(N) memory of
// about 45 bytes per control and a radix sort, O(N) time.
func NewIndex(control []float64, opts *MatchOptions) (*Index, error) {
	var o MatchOptions
	if opts != nil {
		o = *opts
	}
	n := len(control)
	if n == 0 {
		return nil, &InputError{Field: "control", Index: -1, Msg: "no control units", Err: ErrEmptyGroup}
	}
	if n > math.MaxInt32-1 {
		return nil, optionError("control", "%d controls; at most %d supported", n, math.MaxInt32-1)
	}
	if o.Distance != ProbabilityDistance && o.Distance != LogitDistance {
		return nil, optionError("Distance", "unknown distance %d", o.Distance)
	}
	if o.ControlStrata != nil && len(o.ControlStrata) != n {
		return nil, lengthError("ControlStrata", len(o.ControlStrata), n, "control")
	}
	x, err := transformInto(nil, "control", control, o.Distance)
	if err != nil {
		return nil, err
	}
	return buildIndex(x, o.ControlStrata, o.Distance), nil
}

// buildIndex is NewIndex on checked scores x, already on the distance
// scale d (taken, not copied), with strata nil or one per score.
func buildIndex(x []float64, strata []int32, d Distance) *Index {
	n := len(x)
	ix := &Index{n: n, dist: d, hasStrata: strata != nil}
	ix.x = x
	ix.xmin, ix.xmax = math.Inf(1), math.Inf(-1)
	for _, v := range x {
		ix.xmin = math.Min(ix.xmin, v)
		ix.xmax = math.Max(ix.xmax, v)
	}

	// Sort (stratum, score, index) by a stable LSD radix sort on the
	// order-preserving bit pattern of the score, then on the stratum.
	keys := make([]uint64, n)
	idx := make([]int32, n)
	for i, v := range x {
		keys[i] = floatKey(v)
		idx[i] = int32(i)
	}
	keys, idx = radixSort64(keys, idx)
	// sorted scores: decoded from the keys (sequential) or, after the
	// stratum pass, gathered
	sorted := make([]float64, n)
	if ix.hasStrata {
		sk := make([]uint64, n)
		for p, i := range idx {
			sk[p] = uint64(uint32(strata[i]) ^ 0x80000000)
		}
		_, idx = radixSort64(sk, idx)
		for p, i := range idx {
			sorted[p] = x[i]
		}
	} else {
		for p, k := range keys {
			sorted[p] = keyFloat(k)
		}
	}
	ix.order = idx

	// Count the blocks, then fill them.
	var stratumAt func(p int) int32
	if ix.hasStrata {
		stratumAt = func(p int) int32 { return strata[idx[p]] }
	} else {
		stratumAt = func(int) int32 { return 0 }
	}
	nb, ns := 0, 0
	for p := range sorted {
		if p == 0 || stratumAt(p) != stratumAt(p-1) {
			nb++
			ns++
		} else if sorted[p] != sorted[p-1] {
			nb++
		}
	}
	ix.blockOf = make([]int32, n)
	if ix.hasStrata {
		ix.sOf = make([]int32, n)
	}
	ix.bstart = make([]int32, 0, nb+1)
	ix.bscore = make([]float64, 0, nb)
	ix.sblock = make([]int32, 0, ns+1)
	ix.strata = make([]int32, 0, ns)
	for p, v := range sorted {
		s := stratumAt(p)
		newStratum := p == 0 || s != stratumAt(p-1)
		if newStratum || v != sorted[p-1] {
			if newStratum {
				ix.sblock = append(ix.sblock, int32(len(ix.bstart)))
				ix.strata = append(ix.strata, s)
			}
			ix.bstart = append(ix.bstart, int32(p))
			ix.bscore = append(ix.bscore, v)
		}
		i := idx[p]
		ix.blockOf[i] = int32(len(ix.bstart) - 1)
		if ix.hasStrata {
			ix.sOf[i] = int32(len(ix.strata) - 1)
		}
	}
	ix.bstart = append(ix.bstart, int32(n))
	ix.sblock = append(ix.sblock, int32(len(ix.bscore)))
	if !ix.hasStrata {
		ix.strata = nil
	}
	return ix
}

// Len is the number of controls.
func (ix *Index) Len() int { return ix.n }

// NumBlocks is the number of blocks (distinct scores within strata).
func (ix *Index) NumBlocks() int { return len(ix.bscore) }

// Block returns the controls (input indices, ascending) of block b. The
// slice aliases the index and must not be modified.
func (ix *Index) Block(b int) []int32 { return ix.order[ix.bstart[b]:ix.bstart[b+1]] }

// BlockScore returns the score of block b on the distance scale.
func (ix *Index) BlockScore(b int) float64 { return ix.bscore[b] }

// BlockOf returns the block of control j (input order); -1 for a control
// that the index of a sharded matching (MatchRun.Finish) does not hold.
func (ix *Index) BlockOf(j int) int { return int(ix.blockOf[j]) }

// Distance returns the distance scale the index was built for.
func (ix *Index) Distance() Distance { return ix.dist }

// floatKey maps a float64 to a uint64 with the same order.
func floatKey(f float64) uint64 {
	b := math.Float64bits(f)
	if b>>63 != 0 {
		return ^b
	}
	return b | 1<<63
}

// keyFloat inverts floatKey.
func keyFloat(k uint64) float64 {
	if k>>63 != 0 {
		return math.Float64frombits(k &^ (1 << 63))
	}
	return math.Float64frombits(^k)
}

// radixSort64 sorts keys ascending, carrying idx along, with a stable
// least-significant-digit radix sort (8 bits a pass, skipping passes in
// which all keys share the digit). It returns the sorted slices (which
// may be the input slices or new ones).
func radixSort64(keys []uint64, idx []int32) ([]uint64, []int32) {
	n := len(keys)
	var counts [8][256]int
	for _, k := range keys {
		for d := 0; d < 8; d++ {
			counts[d][(k>>(8*d))&0xff]++
		}
	}
	var k2 []uint64
	var i2 []int32
	for d := 0; d < 8; d++ {
		c := &counts[d]
		trivial := false
		for _, v := range c {
			if v == n {
				trivial = true
				break
			}
			if v != 0 {
				break
			}
		}
		if trivial {
			continue
		}
		if k2 == nil {
			k2 = make([]uint64, n)
			i2 = make([]int32, n)
		}
		var offs [256]int
		sum := 0
		for b := 0; b < 256; b++ {
			offs[b] = sum
			sum += c[b]
		}
		shift := uint(8 * d)
		for p, k := range keys {
			b := (k >> shift) & 0xff
			q := offs[b]
			offs[b] = q + 1
			k2[q] = k
			i2[q] = idx[p]
		}
		keys, k2 = k2, keys
		idx, i2 = i2, idx
	}
	return keys, idx
}

// stratumRange returns the block range of stratum s and its number k
// (ok false when the controls have no such stratum).
func (ix *Index) stratumRange(s int32) (lo, hi int32, k int, ok bool) {
	if !ix.hasStrata {
		return 0, int32(len(ix.bscore)), 0, true
	}
	k = sort.Search(len(ix.strata), func(i int) bool { return ix.strata[i] >= s })
	if k == len(ix.strata) || ix.strata[k] != s {
		return 0, 0, 0, false
	}
	return ix.sblock[k], ix.sblock[k+1], k, true
}

// entryStatus classifies treated unit i (score t, frequency weight w)
// before any search: StatusAbsent for weight 0, StatusTrimmed outside
// [cmin, cmax] under Trim, StatusNoControls when its stratum has no
// controls; otherwise StatusMatched with the stratum's block range
// [slo, shi) and index k.
func (ix *Index) entryStatus(o *MatchOptions, i int, t, w, cmin, cmax float64) (st MatchStatus, slo, shi int32, k int) {
	switch {
	case w == 0:
		return StatusAbsent, 0, 0, 0
	case o.Trim && (t < cmin || t > cmax):
		return StatusTrimmed, 0, 0, 0
	}
	slo, shi, k, ok := ix.stratumRange(stratumOf(o.TreatedStrata, i))
	if !ok {
		return StatusNoControls, 0, 0, k
	}
	return StatusMatched, slo, shi, k
}
