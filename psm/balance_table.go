package psm

import (
	"cmp"
	"math"
	"math/bits"
	"slices"
)

// The eCDF statistics of Balance need the distinct values of a variable
// among all units with the weights of each group at each value. A
// variable with few distinct values (dummies, counts of weeks, ages in
// days) is tabulated in one pass without sorting (valueCounter); one with
// many is sorted (sortKeys, an in-place radix sort) and its distinct
// values are produced on the fly (distinctIter), so no array of one entry
// per unit is ever built beyond the one copy of the variable being
// sorted. Both ways give the same bits: every weight sum is taken in
// ascending unit order.

// valueTable lists distinct values in ascending order with the sums of
// the base (before-matching) weights of the treated and of the controls
// at each value. -0 is stored as +0.
type valueTable struct {
	vals   []float64
	wt, wc []float64
}

func (t *valueTable) reset() {
	t.vals, t.wt, t.wc = t.vals[:0], t.wt[:0], t.wc[:0]
}

func (t *valueTable) add(v, wt, wc float64) {
	t.vals = append(t.vals, v)
	t.wt = append(t.wt, wt)
	t.wc = append(t.wc, wc)
}

// colSrc is one variable of one group: unit i's value is data[i*stride]
// (a column of a row-major matrix, or a slice with stride 1), or, when
// blk is not nil, column j of the RowBlocker blk.m.
type colSrc struct {
	data   []float64
	stride int
	blk    *rowBlock
	j      int
}

func (s colSrc) at(i int) float64 {
	if s.blk != nil {
		return s.blk.m.At(i, s.j)
	}
	return s.data[i*s.stride]
}

// read sets d to the values of units lo..lo+len(d)-1.
func (s colSrc) read(d []float64, lo int) {
	switch {
	case s.blk != nil:
		for i := range d {
			d[i] = s.blk.m.At(lo+i, s.j)
		}
	case s.stride == 1:
		copy(d, s.data[lo:lo+len(d)])
	default:
		for i := range d {
			d[i] = s.data[(lo+i)*s.stride]
		}
	}
}

const (
	// smallVals: the integer values 0..smallVals-1 are counted in
	// histograms indexed by the value.
	smallVals = 1 << 12
	// maxOtherDefault: at most this many other distinct values are
	// counted in a hash table; a variable with more is sorted.
	maxOtherDefault = 1 << 16
	// oneBits is math.Float64bits(1).
	oneBits = 0x3FF0000000000000
)

// Test hooks: maxOther is maxOtherDefault (tests lower it);
// balanceForceSort sorts every variable.
var (
	maxOther         = maxOtherDefault
	balanceForceSort = false
)

// valueCounter tabulates one variable, the treated (group 0) first, then
// the controls (group 1) in ascending blocks.
//
// A group without weights counts small values in four interleaved
// integer histograms (lane i%4 for unit i, so that runs of equal values
// do not wait on each other's store); while every control value is 0 or
// 1 the controls are counted by a branch-free loop without histogram.
// Exact counts give the same bits as adding 1 unit by unit. A group with
// weights adds them unit by unit, in order.
type valueCounter struct {
	cnt  [2][]uint32  // without weights: 4 lanes per value
	sum  [2][]float64 // with weights
	seen [2][]bool    // with weights: the value occurs
	// only01: every control so far is 0 or 1 (controls without weights);
	// n01 counts them
	only01 bool
	n01    [2]uint64
	// other values: open addressing (linear probing) on the bits of the
	// value, with the weights in the slot; bits 0 (+0, a small value)
	// marks an empty slot
	other  []otherSlot
	nother int
	// sorted: too many distinct values, the variable is sorted. keys,
	// when not nil, collects floatKey(x+0) of the controls during the
	// scan (else the variable is read again for sorting).
	sorted   bool
	keys     []uint64
	noGather bool // the scan decided not to collect keys
	nt       int  // number of treated
	// bad is the first non-finite index of the treated and of the
	// controls (-1 if none).
	bad [2]int
}

// otherSlot is a value outside the histograms and its weights.
type otherSlot struct {
	bits uint64
	w    [2]float64
}

// init prepares the counts; weighted[g] tells whether group g has
// weights; nt is the number of treated.
func (c *valueCounter) init(weighted [2]bool, nt int) {
	*c = valueCounter{bad: [2]int{-1, -1}, only01: !weighted[1], nt: nt}
	for g, w := range weighted {
		if w {
			c.sum[g] = make([]float64, 2)
			c.seen[g] = make([]bool, 2)
		} else {
			c.cnt[g] = make([]uint32, 4*2)
		}
	}
}

// limit is the number of small values group g can count now.
func (c *valueCounter) limit(g int) int {
	if c.cnt[g] != nil {
		return len(c.cnt[g]) / 4
	}
	return len(c.sum[g])
}

// grow makes room for small value k in group g.
func (c *valueCounter) grow(g, k int) {
	n := max(2*c.limit(g), 1<<bits.Len(uint(k)))
	n = min(n, smallVals)
	if c.cnt[g] != nil {
		c.cnt[g] = append(c.cnt[g], make([]uint32, 4*n-len(c.cnt[g]))...)
		return
	}
	c.sum[g] = append(c.sum[g], make([]float64, n-len(c.sum[g]))...)
	c.seen[g] = append(c.seen[g], make([]bool, n-len(c.seen[g]))...)
}

// count adds units lo..lo+len(d)-1 of group g, with values d and
// weights w (nil = 1, as given to init).
func (c *valueCounter) count(g int, d []float64, lo int, w []float64) {
	if c.sorted {
		if g == 1 && c.keys != nil {
			c.gather(d, lo)
		}
		return
	}
	if g == 1 && c.only01 {
		if c.count01(d) {
			return
		}
		c.only01 = false
		h := c.cnt[1] // counts fit: every lane holds fewer than N < 2^31
		h[0] += uint32(c.n01[0])
		h[4] += uint32(c.n01[1])
	}
	if w == nil {
		h := c.cnt[g]
		lim := uint64(len(h) / 4)
		for q := 0; q < len(d); {
			for ; q+4 <= len(d); q += 4 {
				e := d[q : q+4 : q+4]
				x0, x1, x2, x3 := e[0], e[1], e[2], e[3]
				k0, k1, k2, k3 := int64(x0), int64(x1), int64(x2), int64(x3)
				if float64(k0) == x0 && float64(k1) == x1 && float64(k2) == x2 && float64(k3) == x3 &&
					uint64(k0|k1|k2|k3) < lim {
					h[k0<<2]++
					h[k1<<2+1]++
					h[k2<<2+2]++
					h[k3<<2+3]++
					continue
				}
				break
			}
			// one by one: the group of four that failed, or the tail
			for end := min(q+4, len(d)); q < end; q++ {
				x := d[q]
				k := int64(x)
				if float64(k) == x && uint64(k) < smallVals {
					if uint64(k) >= lim {
						c.grow(g, int(k))
						h = c.cnt[g]
						lim = uint64(len(h) / 4)
					}
					h[k<<2+int64(q&3)]++
					continue
				}
				if !c.countOther(g, x, lo+q, 1) {
					c.toSorted()
					return
				}
			}
		}
		return
	}
	s, seen := c.sum[g], c.seen[g]
	w = w[lo : lo+len(d)]
	for q, x := range d {
		k := int64(x)
		if float64(k) == x && uint64(k) < uint64(len(s)) {
			s[k] += w[q]
			seen[k] = true
			continue
		}
		if float64(k) == x && uint64(k) < smallVals {
			c.grow(g, int(k))
			s, seen = c.sum[g], c.seen[g]
			s[k] += w[q]
			seen[k] = true
			continue
		}
		if !c.countOther(g, x, lo+q, w[q]) {
			c.toSorted()
			return
		}
	}
}

// count01 counts the controls with values d if all are 0 or 1: the bits
// b of a value are those of 1 if bit 52 (the lowest exponent bit) is
// set, else those of +0, and any other b differs from them. Unrolled
// four times, branch-free.
func (c *valueCounter) count01(d []float64) bool {
	var bad0, bad1, n0, n1 uint64
	q := 0
	for ; q+4 <= len(d); q += 4 {
		e := d[q : q+4 : q+4]
		b0, b1 := math.Float64bits(e[0]), math.Float64bits(e[1])
		b2, b3 := math.Float64bits(e[2]), math.Float64bits(e[3])
		o0, o1, o2, o3 := b0>>52&1, b1>>52&1, b2>>52&1, b3>>52&1
		bad0 |= b0 ^ (-o0 & oneBits) | b2 ^ (-o2 & oneBits)
		bad1 |= b1 ^ (-o1 & oneBits) | b3 ^ (-o3 & oneBits)
		n0 += o0 + o2
		n1 += o1 + o3
	}
	for ; q < len(d); q++ {
		b := math.Float64bits(d[q])
		o := b >> 52 & 1
		bad0 |= b ^ (-o & oneBits)
		n0 += o
	}
	if bad0|bad1 != 0 {
		return false
	}
	ones := n0 + n1
	c.n01[0] += uint64(len(d)) - ones
	c.n01[1] += ones
	return true
}

// countOther counts a value outside the histogram (recording a
// non-finite one); false when the hash table is full.
func (c *valueCounter) countOther(g int, x float64, i int, w float64) bool {
	b := math.Float64bits(x + 0)
	if len(c.other) > 0 {
		mask := len(c.other) - 1
		for h := otherHash(b, mask); ; h = (h + 1) & mask {
			e := &c.other[h]
			if e.bits == b {
				e.w[g] += w
				return true
			}
			if e.bits == 0 {
				break
			}
		}
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		if c.bad[g] < 0 {
			c.bad[g] = i
		}
		return true
	}
	if c.nother == maxOther {
		return false
	}
	if c.nother == maxOther/8 {
		// nearly every value so far distinct: it will not fit, sort now
		seen := i + 1
		if g == 1 {
			seen += c.nt
		}
		if 20*c.nother > 19*seen {
			return false
		}
	}
	if 4*(c.nother+1) > 3*len(c.other) { // at most 3/4 full
		c.rehash(max(256, 2*len(c.other)))
	}
	var ws [2]float64
	ws[g] = w
	c.insert(otherSlot{b, ws})
	c.nother++
	return true
}

// otherHash is the home slot of value bits b in a table of mask+1 slots.
func otherHash(b uint64, mask int) int {
	return int((b*0x9e3779b97f4a7c15)>>32) & mask
}

func (c *valueCounter) insert(e otherSlot) {
	mask := len(c.other) - 1
	h := otherHash(e.bits, mask)
	for c.other[h].bits != 0 {
		h = (h + 1) & mask
	}
	c.other[h] = e
}

func (c *valueCounter) rehash(n int) {
	old := c.other
	c.other = make([]otherSlot, n)
	for _, e := range old {
		if e.bits != 0 {
			c.insert(e)
		}
	}
}

// toSorted drops the counts: the variable will be sorted (its treated
// values are checked by the caller, its controls when collected).
func (c *valueCounter) toSorted() {
	c.sorted = true
	c.release()
}

// gather stores the keys of controls lo..lo+len(d)-1, values d,
// recording the first non-finite one.
func (c *valueCounter) gather(d []float64, lo int) {
	keys := c.keys[lo : lo+len(d)]
	for q, x := range d {
		if x-x != 0 && c.bad[1] < 0 { // NaN or ±Inf
			c.bad[1] = lo + q
		}
		keys[q] = floatKey(x + 0)
	}
}

// release drops the histograms and the hash table.
func (c *valueCounter) release() {
	c.cnt, c.sum, c.seen = [2][]uint32{}, [2][]float64{}, [2][]bool{}
	c.other, c.nother = nil, 0
}

// small returns the weight of group g at small value k and whether k
// occurs in g.
func (c *valueCounter) small(g, k int) (float64, bool) {
	if h := c.cnt[g]; h != nil {
		if g == 1 && c.only01 {
			if k < 2 {
				return float64(c.n01[k]), c.n01[k] > 0
			}
			return 0, false
		}
		if 4*k >= len(h) {
			return 0, false
		}
		n := h[4*k] + h[4*k+1] + h[4*k+2] + h[4*k+3]
		return float64(n), n > 0
	}
	if k >= len(c.sum[g]) {
		return 0, false
	}
	return c.sum[g][k], c.seen[g][k]
}

// table writes the counted values to t (c must not be sorted).
func (c *valueCounter) table(t *valueTable) {
	t.reset()
	ord := make([]otherSlot, 0, c.nother)
	for _, e := range c.other {
		if e.bits != 0 {
			ord = append(ord, e)
		}
	}
	slices.SortFunc(ord, func(a, b otherSlot) int {
		return cmp.Compare(math.Float64frombits(a.bits), math.Float64frombits(b.bits))
	})
	p := 0
	n := max(c.limit(0), c.limit(1), 2)
	if size := n + len(ord); cap(t.vals) < size {
		t.vals, t.wt, t.wc = make([]float64, 0, size), make([]float64, 0, size), make([]float64, 0, size)
	}
	for k := 0; k < n; k++ {
		wt, okt := c.small(0, k)
		wc, okc := c.small(1, k)
		if !okt && !okc {
			continue
		}
		v := float64(k)
		for ; p < len(ord) && math.Float64frombits(ord[p].bits) < v; p++ {
			t.add(math.Float64frombits(ord[p].bits), ord[p].w[0], ord[p].w[1])
		}
		t.add(v, wt, wc)
	}
	for ; p < len(ord); p++ {
		t.add(math.Float64frombits(ord[p].bits), ord[p].w[0], ord[p].w[1])
	}
}

// iterChunk is the number of distinct values distinctIter produces at a
// time from sorted keys.
const iterChunk = 1024

// distinctIter produces the distinct values of a variable with their
// weight sums in ascending order, in chunks: either a whole valueTable
// or, from the sorted keys of the treated (tk, units ti) and of the
// controls (ck, units ci; nil without weights), merged on the fly.
type distinctIter struct {
	tab    *valueTable
	tk, ck []uint64
	ti, ci []int32
	tw, cw []float64
	i, j   int
	sent   bool
	buf    valueTable
}

func (it *distinctIter) reset() { it.i, it.j, it.sent = 0, 0, false }

// next returns the next chunk, nil at the end.
func (it *distinctIter) next() *valueTable {
	if it.tab != nil {
		if it.sent {
			return nil
		}
		it.sent = true
		return it.tab
	}
	t := &it.buf
	t.reset()
	tk, ck := it.tk, it.ck
	nt, nc := len(tk), len(ck)
	i, j := it.i, it.j
	for len(t.vals) < iterChunk && (i < nt || j < nc) {
		var k uint64
		switch {
		case i == nt:
			k = ck[j]
		case j == nc:
			k = tk[i]
		default:
			k = min(tk[i], ck[j])
		}
		var wt, wc float64
		for ; i < nt && tk[i] == k; i++ {
			if it.tw == nil {
				wt++
			} else {
				wt += it.tw[it.ti[i]]
			}
		}
		if it.cw == nil {
			j0 := j
			for j < nc && ck[j] == k {
				j++
			}
			wc = float64(j - j0) // = adding 1 j-j0 times (exact below 2^53)
		} else {
			for ; j < nc && ck[j] == k; j++ {
				wc += it.cw[it.ci[j]]
			}
		}
		t.add(keyFloat(k), wt, wc)
	}
	it.i, it.j = i, j
	if len(t.vals) == 0 {
		return nil
	}
	return t
}

// sortKeys sorts keys ascending in place, carrying idx along when it is
// not nil, with equal keys in ascending idx order (the order a stable
// sort of ascending idx gives). An in-place most-significant-digit radix
// sort (8 bits a level, American flag permutation), insertion sort for
// small buckets; no extra memory.
func sortKeys(keys []uint64, idx []int32) {
	if len(keys) < 2 {
		return
	}
	var diff uint64
	for _, k := range keys {
		diff |= k ^ keys[0]
	}
	if diff == 0 {
		if idx != nil {
			slices.Sort(idx)
		}
		return
	}
	msdSort(keys, idx, uint(bits.Len64(diff)-1)&^7)
}

func msdSort(keys []uint64, idx []int32, shift uint) {
	n := len(keys)
	if n <= 32 {
		insertionSortKeys(keys, idx)
		return
	}
	var counts [256]int
	for _, k := range keys {
		counts[(k>>shift)&0xff]++
	}
	var heads, tails [256]int
	sum := 0
	for b := range 256 {
		heads[b] = sum
		sum += counts[b]
		tails[b] = sum
	}
	for b := range 256 {
		for heads[b] < tails[b] {
			p := heads[b]
			k := keys[p]
			d := int((k >> shift) & 0xff)
			if d == b {
				heads[b]++
				continue
			}
			var x int32
			if idx != nil {
				x = idx[p]
			}
			for d != b {
				q := heads[d]
				heads[d]++
				k, keys[q] = keys[q], k
				if idx != nil {
					x, idx[q] = idx[q], x
				}
				d = int((k >> shift) & 0xff)
			}
			keys[p] = k
			if idx != nil {
				idx[p] = x
			}
			heads[b]++
		}
	}
	lo := 0
	for b := range 256 {
		hi := lo + counts[b]
		if hi-lo > 1 {
			var bi []int32
			if idx != nil {
				bi = idx[lo:hi]
			}
			if shift == 0 {
				if bi != nil { // equal keys
					slices.Sort(bi)
				}
			} else {
				msdSort(keys[lo:hi], bi, shift-8)
			}
		}
		lo = hi
	}
}

// insertionSortKeys sorts by (key, idx).
func insertionSortKeys(keys []uint64, idx []int32) {
	for i := 1; i < len(keys); i++ {
		k := keys[i]
		var x int32
		if idx != nil {
			x = idx[i]
		}
		j := i
		for j > 0 && (keys[j-1] > k || (idx != nil && keys[j-1] == k && idx[j-1] > x)) {
			keys[j] = keys[j-1]
			if idx != nil {
				idx[j] = idx[j-1]
			}
			j--
		}
		keys[j] = k
		if idx != nil {
			idx[j] = x
		}
	}
}
