package estimate

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/psmeval/psmeval/internal/rng"
)

// Scheme is how a bootstrap replicate draws person counts.
type Scheme int

const (
	// Multinomial draws n_1 treated persons with replacement from the n_1
	// treated persons and n_0 control persons from the n_0 control persons
	// (the classical bootstrap, stratified by group): the counts are
	// Multinomial(n_g; 1/n_g, ..., 1/n_g) within each group. Cost per
	// replicate O(n_1 + n_0): every control count is drawn.
	Multinomial Scheme = iota
	// Poisson draws an independent Poisson(1) count for every person (the
	// Poisson bootstrap; group sizes vary around n_1 and n_0). A count is a
	// function of (seed, replicate, person id) alone, so only the controls
	// the nearest-neighbour search visits are ever drawn: cost per
	// replicate O(n_1), independent of n_0.
	Poisson
)

func (s Scheme) String() string {
	switch s {
	case Multinomial:
		return "multinomial"
	case Poisson:
		return "poisson"
	}
	return fmt.Sprintf("Scheme(%d)", int(s))
}

// Stream ids of the per-replicate PCG generators.
const (
	streamTreated uint64 = 0x7472656174656421 // "treated!"
	streamControl uint64 = 0x636f6e74726f6c73 // "controls"
	streamOR      uint64 = 0x6f747375726169aa
)

// poisson1CDF[k] = P(X ≤ k) for X ~ Poisson(1), scaled to 2^53.
var poisson1CDF = func() []float64 {
	var t []float64
	p, c := math.Exp(-1), 0.0
	for k := 0; c < 1; k++ {
		c += p
		if c >= 1 || k > 30 {
			c = 1
		}
		t = append(t, c*(1<<53))
		p /= float64(k + 1)
	}
	return t
}()

// poissonCount is the Poisson(1) count of person id in the replicate with
// key: the first output of a PCG generator seeded from (key, id), turned
// into a count by inversion. Counter-based: no state, any order.
func poissonCount(key uint64, id int64) float64 {
	var g rand.PCG
	g.Seed(key, rng.SplitMix64(uint64(id)^0x3c6ef372fe94f82b))
	u := float64(g.Uint64() >> 11) // uniform on [0, 2^53)
	for k, c := range poisson1CDF {
		if u < c {
			return float64(k)
		}
	}
	return float64(len(poisson1CDF))
}

// persons ranks the persons of each group by id, so that multinomial
// draws do not depend on the order of the units.
type persons struct {
	rank          []int32 // per unit: rank of its person within its group
	ctrl          []int32 // the control units by (person, unit)
	nT, nC        int     // numbers of treated and control persons
	nTreatedUnits int
	overlap       int64 // a person with treated and control units, when any
	hasOverlap    bool
}

func newPersons(s *Sample) *persons {
	n := s.Len()
	pr := &persons{rank: make([]int32, n)}
	type pu struct {
		id int64
		u  int32
	}
	nt := 0
	for _, t := range s.Treated {
		if t {
			nt++
		}
	}
	tr := make([]pu, 0, nt)
	co := make([]pu, 0, n-nt)
	for u, t := range s.Treated {
		if t {
			tr = append(tr, pu{s.person(u), int32(u)})
		} else {
			co = append(co, pu{s.person(u), int32(u)})
		}
	}
	pr.nTreatedUnits = len(tr)
	rankGroup := func(g []pu) int {
		slices.SortFunc(g, func(a, b pu) int {
			if c := cmp.Compare(a.id, b.id); c != 0 {
				return c
			}
			return cmp.Compare(a.u, b.u)
		})
		r := int32(-1)
		for i, e := range g {
			if i == 0 || e.id != g[i-1].id {
				r++
			}
			pr.rank[e.u] = r
		}
		return int(r + 1)
	}
	pr.nT = rankGroup(tr)
	pr.nC = rankGroup(co)
	pr.ctrl = make([]int32, len(co))
	for i, e := range co {
		pr.ctrl[i] = e.u
	}
	// overlap: a person id in both groups (both are sorted by id).
	i, j := 0, 0
	for i < len(tr) && j < len(co) {
		switch {
		case tr[i].id < co[j].id:
			i++
		case tr[i].id > co[j].id:
			j++
		default:
			pr.overlap, pr.hasOverlap = tr[i].id, true
			return pr
		}
	}
	return pr
}

// counts holds the multinomial counts of one group in one replicate:
// n draws with replacement from n persons (ranks 0..n-1).
//
// They are drawn lazily but exactly. The ranks are cut into blocks of
// countBlock persons; draw gives every block its number of draws M_b by
// sequential conditional binomials, M_b ~ Binomial(n − Σ_{c<b} M_c,
// s_b / (n − Σ_{c<b} s_c)), so (M_b) is Multinomial(n; s_b/n). A block's
// person counts, Multinomial(M_b; uniform), are drawn only when a count
// in it is first read, from a stream keyed by (replicate key, stream,
// block): the result depends on the seed and the replicate only, not on
// which counts are read or in which order. A fixed-score replicate reads
// the controls near the treated, so at SFI scale most control blocks are
// never filled. Counts are bytes (counts of 255 and more continue in a
// map: probability about 1/255! per person, never in practice but exact).
//
// The block totals are drawn by binomial (gonum's variates, faster) with
// ln p and ln(1−p) of each block's probability tabulated; a full block's
// person draws are the top bytes of its PCG outputs (Lemire's bounded
// draw of 256), added without the overflow check while fewer than 255
// have been made.
type counts struct {
	c     []uint8
	ovf   map[int32]uint32
	tot   []int32  // draws per block
	stamp []uint32 // block filled in draw number stamp
	cur   uint32
	key   uint64
	strm  uint64
	// lp[2b], lp[2b+1]: ln p_b and ln(1 − p_b) of block b's conditional
	// probability p_b = s_b / (n − Σ_{c<b} s_c)
	lp []float64
	h  [countBlock]uint8 // fill's scratch histogram
}

// countBlock is the number of persons per block of counts.
const countBlock = 256

func newCounts(n int) *counts {
	nb := (n + countBlock - 1) / countBlock
	k := &counts{c: make([]uint8, n), ovf: map[int32]uint32{}, tot: make([]int32, nb), stamp: make([]uint32, nb), lp: make([]float64, 2*nb)}
	cells := n
	for b := range nb {
		p := k.prob(b, cells)
		k.lp[2*b], k.lp[2*b+1] = math.Log(p), math.Log1p(-p)
		cells -= countBlock
	}
	return k
}

// prob is block b's conditional probability when cells persons remain:
// its size over cells.
func (k *counts) prob(b, cells int) float64 {
	sb := min(countBlock, len(k.c)-b*countBlock)
	return float64(sb) / float64(cells)
}

func (k *counts) get(i int32) float64 {
	b := i / countBlock
	if k.stamp[b] != k.cur {
		k.fill(b)
	}
	if c := k.c[i]; c < 255 {
		return float64(c)
	}
	return 255 + float64(k.ovf[i])
}

// draw starts a new set of counts from the PCG stream (key, stream): the
// block totals. Cost O(n / countBlock) binomial draws.
func (k *counts) draw(key, stream uint64) {
	k.cur++
	if k.cur == 0 { // wrapped: forget all stamps
		clear(k.stamp)
		k.cur = 1
	}
	k.key, k.strm = key, stream
	if len(k.ovf) > 0 {
		clear(k.ovf)
	}
	n := len(k.c)
	src := rng.NewPCG(key, stream)
	rem, cells := n, n
	for b := range k.tot {
		sb := min(countBlock, n-b*countBlock)
		var m int
		switch {
		case rem == 0:
			m = 0
		case sb == cells:
			m = rem
		default:
			m = int(binomial(&src, float64(rem), k.prob(b, cells), k.lp[2*b], k.lp[2*b+1]))
		}
		k.tot[b] = int32(m)
		rem -= m
		cells -= sb
	}
}

// fill draws block b's person counts.
func (k *counts) fill(b int32) {
	lo := int(b) * countBlock
	hi := min(lo+countBlock, len(k.c))
	k.stamp[b] = k.cur
	m := int(k.tot[b])
	g := rng.NewPCG(k.key^0x6a09e667f3bcc909, rng.SplitMix64(k.strm+uint64(b)))
	if m == 0 || hi-lo < countBlock {
		clear(k.c[lo:hi])
		sb := uint64(hi - lo)
		for range m {
			k.inc(uint64(lo) + g.Uint64N(sb))
		}
		return
	}
	// A full block: Uint64N(256) is the top byte. The draws count into
	// the scratch histogram k.h (in L1, where the increments' loads do not
	// wait for the block's lines of c), copied out at the end. No count
	// reaches 255 in the first 254 draws.
	h := &k.h
	clear(h[:])
	fast := min(m, 254)
	var x uint64
	for range fast {
		g, x = g.Next()
		h[x>>56]++
	}
	for range m - fast {
		g, x = g.Next()
		if j := x >> 56; h[j] != 255 {
			h[j]++
		} else {
			k.ovf[int32(lo)+int32(j)]++
		}
	}
	copy(k.c[lo:hi], h[:])
}

func (k *counts) inc(i uint64) {
	if v := k.c[i]; v != 255 {
		k.c[i] = v + 1
	} else {
		k.ovf[int32(i)]++
	}
}

// multCount is the multinomial counter over sorted control positions.
type multCount struct {
	cnt   *counts
	prank []int32
}

func (m multCount) at(pos int) float64 { return m.cnt.get(m.prank[pos]) }

func (m multCount) fn() func(int) float64 {
	cnt, prank := m.cnt, m.prank
	return func(pos int) float64 { return cnt.get(prank[pos]) }
}

// poisCount is the Poisson counter over sorted control positions.
type poisCount struct {
	key uint64
	pid []int64
}

func (p poisCount) at(pos int) float64 { return poissonCount(p.key, p.pid[pos]) }

func (p poisCount) fn() func(int) float64 {
	key, pid := p.key, p.pid
	return func(pos int) float64 { return poissonCount(key, pid[pos]) }
}

// unitWeights is a counter over sorted control positions from per-unit
// weights.
type unitWeights struct {
	w    []float64
	unit []int32
}

func (c unitWeights) at(pos int) float64 { return c.w[c.unit[pos]] }

func (c unitWeights) fn() func(int) float64 {
	w, unit := c.w, c.unit
	return func(pos int) float64 { return w[unit[pos]] }
}
