package psm

import (
	"math"
	"math/big"
	"math/bits"
)

// Exact sums of products of non-negative floating-point numbers: the
// moments of MatchMoments, which must merge in any order (and over any
// split of the controls) to the same bits. A term m·2^e (m an integer of
// up to 192 bits) is added into a binary fixed-point number whose word k
// holds bits 64k..64k+63 of the sum times 2^xsBias. Every product of up
// to three float64 values (down to 2^-3222) and a sum of up to 2^64 of
// them (up to 2^3136) fits.

const (
	xsBias  = 3264 // bits below 2^0
	xsWords = 104  // words of the fixed-point number
	// xsMaxWords bounds the words of a decoded sum: any 2^192 such sums
	// add up without overflowing the accumulator.
	xsMaxWords = 101
)

// xacc is an exact accumulator (the zero value is 0).
type xacc struct{ w [xsWords]uint64 }

// add adds m·2^e, m = m0 + m1·2^64 + m2·2^128.
func (a *xacc) add(m0, m1, m2 uint64, e int) {
	if m0|m1|m2 == 0 {
		return
	}
	p := e + xsBias
	k, s := p>>6, uint(p&63)
	w := a.w[k : k+4 : k+4]
	// m << s over four words (a shift by 64 gives 0)
	var c uint64
	w[0], c = bits.Add64(w[0], m0<<s, 0)
	w[1], c = bits.Add64(w[1], m1<<s|m0>>(64-s), c)
	w[2], c = bits.Add64(w[2], m2<<s|m1>>(64-s), c)
	w[3], c = bits.Add64(w[3], m2>>(64-s), c)
	for i := k + 4; c != 0; i++ {
		a.w[i], c = bits.Add64(a.w[i], 0, c)
	}
}

// mant returns m, e with |v| = m·2^e for a finite v.
func mant(v float64) (uint64, int) {
	b := math.Float64bits(v) &^ (1 << 63)
	ex := int(b >> 52)
	m := b & (1<<52 - 1)
	if ex == 0 {
		return m, -1074
	}
	return m | 1<<52, ex - 1075
}

// add1 adds |v|.
func (a *xacc) add1(v float64) {
	m, e := mant(v)
	a.add(m, 0, 0, e)
}

// add2 adds |u·v|, exactly.
func (a *xacc) add2(u, v float64) {
	mu, eu := mant(u)
	mv, ev := mant(v)
	hi, lo := bits.Mul64(mu, mv)
	a.add(lo, hi, 0, eu+ev)
}

// add3 adds |u·v·z|, exactly.
func (a *xacc) add3(u, v, z float64) {
	mu, eu := mant(u)
	mv, ev := mant(v)
	mz, ez := mant(z)
	h, l := bits.Mul64(mu, mv) // < 2^106
	ph, pl := bits.Mul64(l, mz)
	qh, ql := bits.Mul64(h, mz)
	r1, c := bits.Add64(ph, ql, 0)
	a.add(pl, r1, qh+c, eu+ev+ez)
}

// sum returns the accumulated value in compact form.
func (a *xacc) sum() xsum {
	lo, hi := 0, xsWords
	for lo < hi && a.w[lo] == 0 {
		lo++
	}
	for hi > lo && a.w[hi-1] == 0 {
		hi--
	}
	if lo == hi {
		return xsum{}
	}
	return xsum{lo: lo, w: append([]uint64(nil), a.w[lo:hi]...)}
}

// addSum adds a compact sum.
func (a *xacc) addSum(s xsum) {
	var c uint64
	for i, v := range s.w {
		a.w[s.lo+i], c = bits.Add64(a.w[s.lo+i], v, c)
	}
	for i := s.lo + len(s.w); c != 0; i++ {
		a.w[i], c = bits.Add64(a.w[i], 0, c)
	}
}

// xsum is an exact sum in compact form: the words lo..lo+len(w)-1 of an
// xacc, the first and the last nonzero (0: no words, lo 0).
type xsum struct {
	lo int
	w  []uint64
}

func (s xsum) isZero() bool { return len(s.w) == 0 }

// plus returns s + t.
func (s xsum) plus(t xsum) xsum {
	if t.isZero() {
		return s
	}
	if s.isZero() {
		return t
	}
	var a xacc
	a.addSum(s)
	a.addSum(t)
	return a.sum()
}

// bigInt returns the sum times 2^xsBias.
func (s xsum) bigInt() *big.Int {
	z := new(big.Int)
	for i := len(s.w) - 1; i >= 0; i-- {
		z.Lsh(z, 64)
		z.Or(z, new(big.Int).SetUint64(s.w[i]))
	}
	return z.Lsh(z, uint(64*s.lo))
}

// float returns the sum rounded to the nearest float64 (+Inf above the
// largest).
func (s xsum) float() float64 {
	f := new(big.Float).SetInt(s.bigInt()) // exact
	f.SetMantExp(f, -xsBias)
	v, _ := f.Float64()
	return v
}

// xsSD returns the population standard deviation sqrt(S2/S0 - (S1/S0)^2)
// of exact moments S0 = sum w, S1 = sum w x (s1p - s1n) and S2 =
// sum w x^2, times 2^-e, rounded to float64 once from 256 bits: a
// function of the exact sums alone. S0 must be positive.
func xsSD(s0, s1p, s1n, s2 xsum, e int) float64 {
	a0 := s0.bigInt()
	a1 := new(big.Int).Sub(s1p.bigInt(), s1n.bigInt())
	v := new(big.Int).Mul(a0, s2.bigInt())
	v.Sub(v, a1.Mul(a1, a1)) // S0·S2 - S1², >= 0 (Cauchy–Schwarz)
	if v.Sign() <= 0 {
		return 0
	}
	const prec = 256
	f := new(big.Float).SetPrec(prec).SetInt(v)
	f.Sqrt(f)
	f.Quo(f, new(big.Float).SetPrec(prec).SetInt(a0))
	f.SetMantExp(f, -e)
	sd, _ := f.Float64()
	return sd
}

// xmoments accumulates the exact sums S0 = Σ w, S1 = Σ w x (its positive
// and negative terms apart) and S2 = Σ w x² of scores x with weights
// w > 0.
type xmoments struct{ s0, s1p, s1n, s2 xacc }

func (m *xmoments) add(w, x float64) {
	mw, ew := mant(w)
	mx, ex := mant(x)
	m.s0.add(mw, 0, 0, ew)
	hi, lo := bits.Mul64(mw, mx) // w x
	switch {
	case x > 0:
		m.s1p.add(lo, hi, 0, ew+ex)
	case x < 0:
		m.s1n.add(lo, hi, 0, ew+ex)
	}
	h, l := bits.Mul64(mx, mx) // x², < 2^106, times w
	ph, pl := bits.Mul64(l, mw)
	qh, ql := bits.Mul64(h, mw)
	r1, c := bits.Add64(ph, ql, 0)
	m.s2.add(pl, r1, qh+c, ew+2*ex)
}

// sd returns the population sd of the scores times 2^-e (xsSD).
func (m *xmoments) sd(e int) float64 {
	return xsSD(m.s0.sum(), m.s1p.sum(), m.s1n.sum(), m.s2.sum(), e)
}
