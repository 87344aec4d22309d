package psm

import (
	"fmt"
	"math"
)

// neumaier is a compensated (Kahan–Babuška–Neumaier) running sum.
type neumaier struct{ s, c float64 }

func (a *neumaier) add(x float64) {
	t := a.s + x
	if math.Abs(a.s) >= math.Abs(x) {
		a.c += (a.s - t) + x
	} else {
		a.c += (x - t) + a.s
	}
	a.s = t
}

func (a *neumaier) val() float64 { return a.s + a.c }

// pow2Scaler multiplies by 2^-e (exactly, unless the result is
// subnormal), with a plain multiplication when 2^-e is a normal number.
type pow2Scaler struct {
	e   int
	f   float64
	mul bool
}

func newPow2Scaler(e int) pow2Scaler {
	s := pow2Scaler{e: e}
	if e >= -1020 && e <= 1020 {
		s.f, s.mul = math.Ldexp(1, -e), true
	}
	return s
}

func (s pow2Scaler) of(x float64) float64 {
	if s.mul {
		return x * s.f
	}
	return math.Ldexp(x, -s.e)
}

// scaleStats computes the scale statistics of one call into sr: the
// caliper width (o.Caliper > 0) and the TieRMatching standardization
// (mu, sig). The sums run over the control blocks (block weights from
// bw) and over the treated units with positive weight. For the caliper
// they are exact (exactsum.go: the sums of w, w x and w x², products
// included, in a binary fixed-point number) and the sd is rounded once
// from them (xsSD), so the width depends only on the scores and weights:
// not on the order of the rows, nor on how the controls are split
// (MatchRun computes it from the shards' MatchMoments to the same bits).
// For TieRMatching they are compensated sums in sorted order (blocks,
// then the treated in the order torder: stratum, score, weight) of the
// scores scaled by 2^-e, 2^e the power of two just above the largest
// |score| with positive weight, so they neither overflow nor lose
// subnormal scores. cmin, cmax are the extreme positive-weight control
// scores.
func (ix *Index) scaleStats(sr *searcher, bw *blockWeights, o *MatchOptions, xt, tw []float64, torder []int32, cmin, cmax float64) error {
	tmin, tmax := math.Inf(1), math.Inf(-1)
	for i, t := range xt {
		if tw == nil || tw[i] > 0 {
			tmin, tmax = math.Min(tmin, t), math.Max(tmax, t)
		}
	}
	lo, hi := math.Min(cmin, tmin), math.Max(cmax, tmax)
	_, e := math.Frexp(math.Max(math.Abs(lo), math.Abs(hi)))
	B := int32(len(ix.bscore))
	if o.Caliper > 0 {
		var m xmoments
		for b := int32(0); b < B; b++ {
			if w := bw.w(b); w > 0 {
				m.add(w, ix.bscore[b])
			}
		}
		for i, t := range xt {
			if w := weightOf(tw, i); w > 0 {
				m.add(w, t)
			}
		}
		if m.s0.sum().float() > math.MaxFloat64 {
			return errWeightOverflow()
		}
		if err := sr.setCaliper(o.Caliper, m.sd(e), e); err != nil {
			return err
		}
	}
	if o.TieRule != TieRMatching {
		return nil
	}
	sc := newPow2Scaler(e)
	var sw, s1, s2 neumaier
	for b := int32(0); b < B; b++ {
		if w := bw.w(b); w > 0 {
			y := sc.of(ix.bscore[b])
			sw.add(w)
			s1.add(w * y)
			s2.add(w * y * y)
		}
	}
	for _, i := range torder {
		if w := weightOf(tw, int(i)); w > 0 {
			y := sc.of(xt[i])
			sw.add(w)
			s1.add(w * y)
			s2.add(w * y * y)
		}
	}
	W := sw.val()
	if W > math.MaxFloat64 {
		return errWeightOverflow()
	}
	meanY := s1.val() / W
	const ccc = 1.4901161193847656e-08 // sqrt(.Machine$double.eps)
	sx2 := math.Ldexp(s2.val(), 2*e)   // sum w x^2
	if math.IsInf(sx2, 0) || math.IsNaN(sx2) {
		return &InputError{Field: "TieRule", Index: -1, Err: ErrBadScore,
			Msg: fmt.Sprintf("TieRMatching: the sum of squared scores overflows (largest |score| %g; at most about 1e154 is supported); use TieDistance", math.Max(math.Abs(lo), math.Abs(hi)))}
	}
	mean := math.Ldexp(meanY, e)
	f := 1.0
	if W > 1 {
		f = math.Sqrt(W / (W - 1))
	}
	sig := math.Sqrt(math.Max(ccc, sx2)/W-mean*mean) * f
	if !(sig >= ccc) {
		sig = ccc
	}
	// the largest standardized distance must be finite
	if dz := (hi-mean)/sig - (lo-mean)/sig; !(dz*dz <= math.MaxFloat64) {
		return &InputError{Field: "TieRule", Index: -1, Err: ErrBadScore,
			Msg: fmt.Sprintf("TieRMatching: standardized distances overflow (scores %g to %g, sd %g); use TieDistance", lo, hi, sig)}
	}
	sr.mu, sr.sig = mean, sig
	return nil
}

// setCaliper sets the caliper width of sr from the caliper c (in
// standard deviations) and the score sd sdY on the axis scaled by 2^-e.
func (sr *searcher) setCaliper(c, sdY float64, e int) error {
	calS := c * sdY
	switch {
	case sdY == 0:
		// all scores with positive weight are equal: every distance
		// is 0 and within any caliper
	case !(calS > 0) || math.IsInf(calS, 0):
		return optionError("Caliper", "caliper %g times the score sd %g·2^%d cannot be computed", c, sdY, e)
	default:
		if calw := math.Ldexp(calS, e); calw >= 0x1p-1000 && calw <= 0x1p1000 {
			sr.cal = calw
		} else {
			// subnormal or huge width: compare on the scaled axis
			sr.cal, sr.calScale, sr.calE = calS, true, e
		}
	}
	return nil
}

func weightOf(w []float64, i int) float64 {
	if w == nil {
		return 1
	}
	return w[i]
}

func errWeightOverflow() error {
	return &InputError{Field: "ControlWeights", Index: -1,
		Msg: "the total frequency weight of treated and control units overflows", Err: ErrBadWeight}
}
