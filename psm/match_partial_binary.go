package psm

import (
	"math"
)

// The binary encodings of MatchQuery, MatchMoments and MatchCandidates
// (version 1), in the framing of the logit's partials
// (logit_partial_binary.go): little-endian numbers, a float64 as its IEEE
// 754 bits, an 8-byte header "PSM", a type byte ('Q' query, 'M' moments,
// 'C' candidates), the version (uint16, 1) and a reserved uint16 (0).
// Then:
//
//	query: distance uint8, flags uint8 (bit 0: strata), K uint32,
//	    TieTolerance float64, Width float64, WidthExp int32; the number
//	    of treated units uint64; per treated unit its number uint32, its
//	    score float64 and, with strata, its stratum int32.
//	moments: distance uint8, the number of controls uint64, the
//	    smallest and the largest score float64 (+Inf and -Inf without
//	    controls of positive weight); four exact sums (Σ w, Σ w x over
//	    x > 0, Σ w |x| over x < 0, Σ w x²), each its first word uint16,
//	    its number of words uint16 and the words uint64: the sum times
//	    2^3264 is Σ_k word_k 2^(64(first+k)), the first and last word
//	    nonzero (no words for 0).
//	candidates: the query's rule as in a query (distance, flags, K,
//	    TieTolerance, Width, WidthExp); the number of controls covered
//	    uint64; the number U of candidate controls uint64, and per
//	    control, by unit, its unit uint64, score float64, weight float64
//	    and, with strata, its stratum int32; the number of treated units
//	    with candidates uint64, and per treated unit, by number, its
//	    number uint32, score float64, with strata its stratum int32, the
//	    number m of its candidates uint32 and their places among the U
//	    controls, m uint32 in increasing order.
//
// Decoding accepts exactly the encodings MarshalBinary makes (decoding
// and encoding again gives the same bytes; every candidate control is
// some treated unit's candidate, in its stratum); anything else is an
// *InputError with ErrBadEncoding naming what is wrong.

const matchPartialVersion = 1

// rule writes the rule of a query.
func (w *lgWriter) rule(p candParams) {
	w.u8(uint8(p.dist))
	var flags uint8
	if p.strata {
		flags = 1
	}
	w.u8(flags)
	w.u32(uint32(p.k))
	w.f64(p.tol)
	w.f64(p.width)
	w.u32(uint32(int32(p.widthExp)))
}

// rule reads and checks the rule of a query.
func (r *lgReader) rule() candParams {
	dist, flags, k := r.u8("the distance"), r.u8("the flags"), r.u32("K")
	tol, width, wexp := r.f64("TieTolerance"), r.f64("Width"), int32(r.u32("WidthExp"))
	if r.err != nil {
		return candParams{}
	}
	if flags > 1 {
		r.fail("flags %#x, want 0 or 1", flags)
		return candParams{}
	}
	q := MatchQuery{Distance: Distance(dist), K: int(k), TieTolerance: tol, Width: width, WidthExp: int(wexp)}
	if err := q.check(); err != nil {
		r.fail("%s", err.(*InputError).Msg)
		return candParams{}
	}
	p := q.params()
	p.strata = flags == 1
	return p
}

// MarshalBinary encodes the query (see match_partial_binary.go for the
// format): 42 bytes plus 12 per treated unit (16 with strata). An invalid
// query is an error (*InputError, ErrBadOption).
func (q *MatchQuery) MarshalBinary() ([]byte, error) {
	if err := q.check(); err != nil {
		return nil, err
	}
	p := q.params()
	each := 12
	if p.strata {
		each = 16
	}
	w := &lgWriter{b: make([]byte, 0, 42+each*len(q.Treated))}
	w.headerVersion('Q', matchPartialVersion)
	w.rule(p)
	w.u64(uint64(len(q.Treated)))
	for k, i := range q.Treated {
		w.u32(uint32(i))
		w.f64(q.Scores[k])
		if p.strata {
			w.u32(uint32(q.Strata[k]))
		}
	}
	return w.b, nil
}

// UnmarshalBinary decodes an encoding of MarshalBinary into q (Strata is
// nil without strata). Bad input is an *InputError with ErrBadEncoding,
// and q is left unchanged.
func (q *MatchQuery) UnmarshalBinary(data []byte) error {
	r := &lgReader{b: data, what: "MatchQuery"}
	r.headerVersion('Q', matchPartialVersion)
	p := r.rule()
	each := 12
	if p.strata {
		each = 16
	}
	n := r.count(each, "the treated units")
	if r.err != nil {
		return r.err
	}
	out := MatchQuery{Distance: p.dist, K: p.k, TieTolerance: p.tol, Width: p.width, WidthExp: p.widthExp,
		Treated: make([]int, n), Scores: make([]float64, n)}
	if p.strata {
		out.Strata = make([]int32, n)
	}
	for k := range n {
		out.Treated[k] = int(r.u32("a treated number"))
		out.Scores[k] = r.f64("a treated score")
		if p.strata {
			out.Strata[k] = int32(r.u32("a treated stratum"))
		}
	}
	r.end()
	if r.err != nil {
		return r.err
	}
	if err := out.check(); err != nil {
		return encodingError("MatchQuery", "%s", err.(*InputError).Msg)
	}
	*q = out
	return nil
}

func (w *lgWriter) xsum(s xsum) {
	w.u16(uint16(s.lo))
	w.u16(uint16(len(s.w)))
	for _, v := range s.w {
		w.u64(v)
	}
}

func (r *lgReader) xsum(field string) xsum {
	lo, n := int(r.u16(field)), int(r.u16(field))
	if r.err != nil {
		return xsum{}
	}
	if n == 0 {
		if lo != 0 {
			r.fail("%s: first word %d of no words", field, lo)
		}
		return xsum{}
	}
	if lo+n > xsMaxWords {
		r.fail("%s: words %d to %d, want at most %d", field, lo, lo+n-1, xsMaxWords-1)
		return xsum{}
	}
	s := xsum{lo: lo, w: make([]uint64, n)}
	for k := range s.w {
		s.w[k] = r.u64(field)
	}
	if r.err == nil && (s.w[0] == 0 || s.w[n-1] == 0) {
		r.fail("%s: a zero first or last word", field)
	}
	return s
}

// MarshalBinary encodes the moments (see match_partial_binary.go for the
// format): 49 bytes plus 8 per word of the sums (MatchMoments). The zero
// value has no distance and is an error.
func (m *MatchMoments) MarshalBinary() ([]byte, error) {
	if !m.set {
		return nil, optionError("MatchMoments", "MarshalBinary: the zero value has no distance")
	}
	w := &lgWriter{b: make([]byte, 0, 49+8*(len(m.s0.w)+len(m.s1p.w)+len(m.s1n.w)+len(m.s2.w)))}
	w.headerVersion('M', matchPartialVersion)
	w.u8(uint8(m.dist))
	w.u64(uint64(m.n))
	w.f64(m.min)
	w.f64(m.max)
	for _, s := range []xsum{m.s0, m.s1p, m.s1n, m.s2} {
		w.xsum(s)
	}
	return w.b, nil
}

// UnmarshalBinary decodes an encoding of MarshalBinary into m. Bad input
// is an *InputError with ErrBadEncoding, and m is left unchanged.
func (m *MatchMoments) UnmarshalBinary(data []byte) error {
	r := &lgReader{b: data, what: "MatchMoments"}
	r.headerVersion('M', matchPartialVersion)
	dist := r.u8("the distance")
	n := r.u64("the number of controls")
	lo, hi := r.f64("the smallest score"), r.f64("the largest score")
	out := MatchMoments{dist: Distance(dist), set: true, n: int(n), min: lo, max: hi}
	out.s0, out.s1p, out.s1n, out.s2 = r.xsum("Σ w"), r.xsum("Σ w x (x > 0)"), r.xsum("Σ w |x| (x < 0)"), r.xsum("Σ w x²")
	r.end()
	if r.err != nil {
		return r.err
	}
	none := math.IsInf(lo, 1) && math.IsInf(hi, -1)
	switch {
	case out.dist != ProbabilityDistance && out.dist != LogitDistance:
		r.fail("unknown distance %d", dist)
	case n > lgMaxRow:
		r.fail("%d controls", n)
	case !none && !(lo <= hi && !math.IsInf(lo, 0) && !math.IsInf(hi, 0)):
		r.fail("score range %v to %v", lo, hi)
	case none != out.s0.isZero() || (none && !(out.s1p.isZero() && out.s1n.isZero() && out.s2.isZero())):
		r.fail("sums %v for score range %v to %v", !out.s0.isZero(), lo, hi)
	case !none && n == 0:
		r.fail("a score range without controls")
	}
	if r.err != nil {
		return r.err
	}
	*m = out
	return nil
}

// MarshalBinary encodes the candidates (see match_partial_binary.go for
// the format; the size is in MatchCandidates' documentation). The zero
// value has no query and is an error.
func (c *MatchCandidates) MarshalBinary() ([]byte, error) {
	if !c.set {
		return nil, optionError("MatchCandidates", "MarshalBinary: the zero value has no query")
	}
	ce, qe := 24, 16
	if c.p.strata {
		ce, qe = 28, 20
	}
	w := &lgWriter{b: make([]byte, 0, 58+ce*len(c.ctrl)+qe*len(c.queries)+4*len(c.refs))}
	w.headerVersion('C', matchPartialVersion)
	w.rule(c.p)
	w.u64(uint64(c.n))
	w.u64(uint64(len(c.ctrl)))
	for _, k := range c.ctrl {
		w.u64(uint64(k.unit))
		w.f64(k.x)
		w.f64(k.w)
		if c.p.strata {
			w.u32(uint32(k.stratum))
		}
	}
	w.u64(uint64(len(c.queries)))
	for _, q := range c.queries {
		w.u32(uint32(q.treated))
		w.f64(q.x)
		if c.p.strata {
			w.u32(uint32(q.stratum))
		}
		w.u32(uint32(q.hi - q.lo))
		for _, ref := range c.refs[q.lo:q.hi] {
			w.u32(uint32(ref))
		}
	}
	return w.b, nil
}

// UnmarshalBinary decodes an encoding of MarshalBinary into c. Bad input
// (truncated, another type or version, an invalid rule, controls or
// treated units out of order, a candidate out of range or in another
// stratum, a control that is nobody's candidate, trailing bytes) is an
// *InputError with ErrBadEncoding, and c is left unchanged.
func (c *MatchCandidates) UnmarshalBinary(data []byte) error {
	r := &lgReader{b: data, what: "MatchCandidates"}
	r.headerVersion('C', matchPartialVersion)
	p := r.rule()
	n := r.u64("the number of controls")
	ce, qe := 24, 16
	if p.strata {
		ce, qe = 28, 20
	}
	nc := r.count(ce, "the candidate controls")
	if r.err != nil {
		return r.err
	}
	if n > lgMaxRow || uint64(nc) > n || nc >= math.MaxInt32 {
		r.fail("%d candidate controls of %d controls", nc, n)
		return r.err
	}
	out := MatchCandidates{p: p, set: true, n: int(n), ctrl: make([]candControl, nc)}
	for j := range out.ctrl {
		k := &out.ctrl[j]
		u := r.u64("a control's unit")
		k.x, k.w = r.f64("a control's score"), r.f64("a control's weight")
		if p.strata {
			k.stratum = int32(r.u32("a control's stratum"))
		}
		if r.err != nil {
			return r.err
		}
		switch {
		case u >= lgMaxRow || (j > 0 && int(u) <= out.ctrl[j-1].unit):
			r.fail("control %d: unit %d (units increase, below 2^62)", j, u)
		case math.IsNaN(k.x) || math.IsInf(k.x, 0):
			r.fail("control %d: score %v", j, k.x)
		case !(k.w > 0) || math.IsInf(k.w, 1):
			r.fail("control %d: weight %v, want a finite weight > 0", j, k.w)
		}
		if r.err != nil {
			return r.err
		}
		k.unit = int(u)
	}
	nq := r.count(qe, "the treated units")
	if r.err != nil {
		return r.err
	}
	out.queries = make([]candQuery, nq)
	used := make([]bool, nc)
	for t := range out.queries {
		q := &out.queries[t]
		q.treated = int(r.u32("a treated number"))
		q.x = r.f64("a treated score")
		if p.strata {
			q.stratum = int32(r.u32("a treated stratum"))
		}
		m := r.u32("a number of candidates")
		if r.err != nil {
			return r.err
		}
		switch {
		case q.treated >= math.MaxInt32 || (t > 0 && q.treated <= out.queries[t-1].treated):
			r.fail("treated entry %d: number %d (numbers increase, below 2^31-1)", t, q.treated)
		case math.IsNaN(q.x) || math.IsInf(q.x, 0):
			r.fail("treated unit %d: score %v", q.treated, q.x)
		case m == 0 || uint64(m) > uint64(nc):
			r.fail("treated unit %d: %d candidates of %d controls", q.treated, m, nc)
		}
		if r.err != nil {
			return r.err
		}
		s := r.take(4*int(m), "the candidates")
		if s == nil {
			return r.err
		}
		q.lo = len(out.refs)
		for k := range int(m) {
			ref := int32(uint32(s[4*k]) | uint32(s[4*k+1])<<8 | uint32(s[4*k+2])<<16 | uint32(s[4*k+3])<<24)
			switch {
			case ref < 0 || int(ref) >= nc || (k > 0 && ref <= out.refs[len(out.refs)-1]):
				r.fail("treated unit %d: candidate %d (places increase, below %d)", q.treated, ref, nc)
			case out.ctrl[ref].stratum != q.stratum:
				r.fail("treated unit %d in stratum %d: candidate unit %d in stratum %d", q.treated, q.stratum, out.ctrl[ref].unit, out.ctrl[ref].stratum)
			}
			if r.err != nil {
				return r.err
			}
			used[ref] = true
			out.refs = append(out.refs, ref)
		}
		q.hi = len(out.refs)
	}
	r.end()
	if r.err != nil {
		return r.err
	}
	for j, u := range used {
		if !u {
			r.fail("control unit %d is no treated unit's candidate", out.ctrl[j].unit)
			return r.err
		}
	}
	*c = out
	return nil
}
