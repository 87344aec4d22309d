package psm

import (
	"math"
	"slices"
	"sort"

	"github.com/psmeval/psmeval/internal/buf"
)

// matchNoReplacement matches treated units in input order, each copy of
// a treated unit taking the K nearest control units (copies) not used
// before. Blocks with capacity left are found with two union-find
// structures (nearest block at or below / at or above), so a treated copy
// costs O(K log B) amortized.
func (ix *Index) matchNoReplacement(m *Matching, xt []float64, o *MatchOptions, cmin, cmax float64, sr *searcher) error {
	sc := m.scratch
	B := len(ix.bscore)
	T := len(xt)
	K := o.K
	tw, cw := o.TreatedWeights, o.ControlWeights

	sc.cap = buf.Resize(sc.cap, B)
	capb := sc.cap
	for b := range capb {
		capb[b] = sc.bw.w(int32(b))
	}
	sc.rem = buf.Resize(sc.rem, ix.n)
	rem := sc.rem
	for p, j := range ix.order {
		if cw == nil {
			rem[p] = 1
		} else {
			rem[p] = cw[j]
		}
	}
	sc.next = buf.Resize(sc.next, B)
	next := sc.next
	// left[b+1] is a link towards the nearest block <= b with capacity
	// (left[0] is the sentinel "none"); right[b] towards the nearest block
	// >= b with capacity (right[B] the sentinel).
	sc.left = buf.Resize(sc.left, B+1)
	sc.right = buf.Resize(sc.right, B+1)
	left, right := sc.left, sc.right
	left[0] = 0
	right[B] = int32(B)
	for b := 0; b < B; b++ {
		p := ix.bstart[b]
		for p < ix.bstart[b+1] && rem[p] == 0 {
			p++
		}
		next[b] = p
		if capb[b] > 0 {
			left[b+1] = int32(b + 1)
			right[b] = int32(b)
		} else {
			left[b+1] = int32(b)
			right[b] = int32(b + 1)
		}
	}
	findL := func(b int32) int32 { // nearest block <= b with capacity, or -1
		x := b + 1
		for left[x] != x {
			left[x] = left[left[x]]
			x = left[x]
		}
		return x - 1
	}
	findR := func(b int32) int32 { // nearest block >= b with capacity, or B
		x := b
		for right[x] != x {
			right[x] = right[right[x]]
			x = right[x]
		}
		return x
	}

	m.BlockLo, m.BlockHi, m.SetWeight = nil, nil, nil
	m.Start = buf.Resize(m.Start, T+1)
	m.Start[0] = 0
	type take struct {
		b int32
		u float64
	}
	takes := make([]take, 0, K)
	type used struct {
		pos int32
		u   float64
	}
	var uses []used
	nTrim, nLive := 0, 0
	for i, t := range xt {
		w := 1.0
		if tw != nil {
			w = tw[i]
		}
		m.MatchedWeight[i] = 0
		m.KthDistance[i] = math.NaN()
		st, slo, shi, _ := ix.entryStatus(o, i, t, w, cmin, cmax)
		if st == StatusTrimmed {
			nTrim++
		}
		if w != 0 {
			nLive++
		}
		uses = uses[:0]
		copies := 0
		var zt float64
		if o.TieRule == TieRMatching {
			zt = (t - sr.mu) / sr.sig
		}
		var p int32
		if st == StatusMatched {
			bs := ix.bscore
			p = slo + int32(sort.Search(int(shi-slo), func(k int) bool { return bs[slo+int32(k)] >= t }))
		}
		for c := 0; st == StatusMatched && c < int(w); c++ {
			// Peek at the K nearest free units without changing state.
			takes = takes[:0]
			need := float64(K)
			lb, rb := findL(p-1), findR(p)
			caliperHit := false
			for need > 0 {
				if lb >= 0 && lb < slo {
					lb = -1
				}
				if rb >= shi {
					rb = -1
				}
				if lb >= 0 && sr.outside(lb, t) {
					lb, caliperHit = -1, true
				}
				if rb >= 0 && sr.outside(rb, t) {
					rb, caliperHit = -1, true
				}
				if lb < 0 && rb < 0 {
					break
				}
				useL := lb >= 0 && (rb < 0 || sr.dist(lb, t, zt) <= sr.dist(rb, t, zt))
				b := rb
				if useL {
					b = lb
				}
				u := math.Min(need, capb[b])
				takes = append(takes, take{b, u})
				need -= u
				if u == capb[b] {
					if useL {
						lb = findL(b - 1)
					} else {
						rb = findR(b + 1)
					}
				}
			}
			if need > 0 {
				if copies == 0 {
					st = StatusNoControls
					if caliperHit {
						st = StatusCaliper
					}
				}
				break
			}
			// Commit.
			copies++
			for _, tk := range takes {
				b, u := tk.b, tk.u
				capb[b] -= u
				if d := math.Abs(ix.bscore[b] - t); !(d <= m.KthDistance[i]) {
					m.KthDistance[i] = d
				}
				for u > 0 {
					q := next[b]
					v := math.Min(u, rem[q])
					rem[q] -= v
					u -= v
					uses = append(uses, used{q, v})
					for next[b] < ix.bstart[b+1] && rem[next[b]] == 0 {
						next[b]++
					}
				}
				if capb[b] == 0 {
					left[b+1] = b
					right[b] = b + 1
				}
			}
		}
		if st == StatusMatched {
			m.MatchedWeight[i] = float64(copies)
			m.NMatched++
			slices.SortFunc(uses, func(a, b used) int { return int(a.pos - b.pos) })
			inv := 1 / (float64(K) * float64(copies))
			for k := 0; k < len(uses); {
				q, u := uses[k].pos, 0.0
				for ; k < len(uses) && uses[k].pos == q; k++ {
					u += uses[k].u
				}
				j := ix.order[q]
				m.Control = append(m.Control, j)
				m.Weight = append(m.Weight, u*inv)
				m.ControlWeight[j] += u / float64(K)
			}
		}
		m.Status[i] = st
		m.Matched[i] = st == StatusMatched
		m.Start[i+1] = len(m.Control)
	}
	if m.NMatched == 0 {
		if nTrim == nLive {
			return ErrNoCommonSupport
		}
		return ErrNoMatch
	}
	m.summarizeControls()
	sc.prevValid = true
	return nil
}
