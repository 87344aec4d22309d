package estimate

import (
	"cmp"
	"math"
	"slices"
)

// RosenbaumSignedRank computes the bounds of Wilcoxon's signed-rank test
// and of the Hodges–Lehmann estimate for 1:1 matched pairs (Rosenbaum
// 2002, Observational Studies, 2nd ed., §4.3.3 and §4.3.5; R
// rbounds::psens and rbounds::hlsens). treated[i] and control[i] are the
// outcomes of pair i.
//
// # Test
//
// With d_i = treated_i − control_i, the pairs with d_i = 0 are dropped,
// the others ranked by |d_i| (average ranks for ties) and T is the sum of
// the ranks of the positive differences (of the negative ones for
// AltLess). Under hidden bias of at most Gamma, T is bounded by sums of
// independent r_i·Bernoulli(p) with p⁺ = Γ/(1+Γ) and p⁻ = 1/(1+Γ), with
// expectation p·Σr_i and variance p(1−p)·Σr_i²; the p-value bounds are
// the large-sample normal tails 1 − Φ((T − p⁺Σr)/√(p⁺(1−p⁺)Σr²)) (upper)
// and the same with p⁻ (lower), without continuity correction: the
// formula of psens, which these equal up to rounding (psens rounds to 4
// digits; rosenbaum_test.go compares the unrounded values to 1e-8).
// Without any non-zero difference both bounds are 1. psens always tests
// AltGreater.
//
// # Point estimate
//
// The Hodges–Lehmann estimate solves T(τ) = E(T) for the differences
// d_i − τ. Between its jumps T(τ) is the number of Walsh averages
// (d_i + d_j)/2, i ≤ j, above τ (the signed-rank statistic with average
// ranks agrees with it everywhere except at the jumps themselves); with N
// = n(n+1)/2, n the number of pairs (zeros included), and c the target
// expectation, the estimate is the midpoint of sup{τ: T(τ) > c} =
// W_(N−⌊c⌋) and inf{τ: T(τ) < c} = W_(N−⌈c⌉+1), W_(1) ≤ ... ≤ W_(N) the
// sorted Walsh averages (at Gamma = 1, c = N/2: the median of the Walsh
// averages). Under Gamma, EstLow uses c = p⁺N and EstHigh c = p⁻N
// (Rosenbaum 2002, §4.3.5); c within a relative 1e-12 of an integer is
// taken as that integer, so that the rounding of Γ/(1+Γ) (N/(1+Γ) = 20
// for N = 78 and Γ = 2.9) does not move the estimate by half a gap. The
// bounds are on treated − control whatever the Alternative. Each order
// statistic is found exactly by bisection on the floating-point numbers
// with an O(n) count of the Walsh averages d_i/2 + d_j/2 below a value:
// O(n log n + 64n) per bound, no n² memory.
//
// rbounds::hlsens instead walks from an approximate estimate (the
// uniroot of wilcox.test(exact = FALSE), the continuity-corrected normal
// statistic, which is not the median of the Walsh averages when
// differences tie) in steps of its argument pr until T(τ) crosses c, so
// its bounds lie on that grid, within pr of the crossing, and at Gamma =
// 1 it returns the start unchanged; it also swaps the groups when
// mean(treated) < mean(control) and so reports bounds on control −
// treated. rosenbaum_test.go checks these bounds against the definition
// above computed in R, to 1e-8, and that hlsens's values for Gamma > 1
// lie within pr of them.
//
// The result does not depend on the order of the pairs (bit for bit: the
// rank sums are exact and the Walsh averages are selected from the sorted
// differences). Cost: O(n log n) for the ranks and O(n) per Gamma for the
// p-values.
func RosenbaumSignedRank(treated, control []float64, opts *RosenbaumOptions) (*RosenbaumResult, error) {
	o, err := opts.resolved()
	if err != nil {
		return nil, err
	}
	if len(treated) != len(control) {
		return nil, invalid("control", "%d treated and %d control outcomes", len(treated), len(control))
	}
	if len(treated) == 0 {
		return nil, invalid("treated", "Rosenbaum bounds need at least one matched set")
	}
	d := make([]float64, len(treated))
	for i := range d {
		if notFinite(treated[i]) || notFinite(control[i]) {
			field, v := "treated", treated[i]
			if !notFinite(v) {
				field, v = "control", control[i]
			}
			return nil, invalidValue(field, v, "pair %d has the outcomes %v and %v", i, treated[i], control[i])
		}
		d[i] = treated[i] - control[i]
		if notFinite(d[i]) {
			return nil, invalid("treated", "the difference of pair %d overflows", i)
		}
	}
	r := signedRanks(d)
	var tPos, tNeg, sr, sr2 float64
	nz := 0
	for i, v := range d {
		switch {
		case v > 0:
			tPos += r[i]
		case v < 0:
			tNeg += r[i]
		default:
			continue
		}
		nz++
		sr += r[i]
		sr2 += r[i] * r[i]
	}
	alt := o.Alternative
	if alt == AltAuto {
		alt = AltGreater
		if tPos < sr/2 {
			alt = AltLess
		}
	}
	t := tPos
	if alt == AltLess {
		t = tNeg
	}
	res := &RosenbaumResult{Method: SignedRank, Alternative: alt, Sets: len(d), Informative: nz, Statistic: t}
	tail := func(p float64) float64 {
		if nz == 0 {
			return 1
		}
		return upperNormal((t - p*sr) / math.Sqrt(p*(1-p)*sr2))
	}
	sorted := slices.Clone(d)
	slices.Sort(sorted)
	res.fill(&o, func(g float64) (float64, float64) { return tail(g / (1 + g)), tail(1 / (1 + g)) },
		func(g float64) (float64, float64) {
			n := float64(len(d))
			N := n * (n + 1) / 2
			return walshEstimate(sorted, N*g/(1+g)), walshEstimate(sorted, N/(1+g))
		})
	return res, nil
}

// signedRanks returns the average ranks of |d_i| among the non-zero d_i
// (R rank(abs(d[d != 0]))); zeros get rank 0.
func signedRanks(d []float64) []float64 {
	idx := make([]int, 0, len(d))
	for i, v := range d {
		if v != 0 {
			idx = append(idx, i)
		}
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(math.Abs(d[a]), math.Abs(d[b])) })
	r := make([]float64, len(d))
	for lo := 0; lo < len(idx); {
		hi := lo + 1
		for hi < len(idx) && math.Abs(d[idx[hi]]) == math.Abs(d[idx[lo]]) {
			hi++
		}
		avg := float64(lo+1+hi) / 2 // mean of ranks lo+1..hi
		for _, i := range idx[lo:hi] {
			r[i] = avg
		}
		lo = hi
	}
	return r
}

// walshEstimate is the midpoint of sup{τ: T(τ) > c} and inf{τ: T(τ) < c}
// for the ascending differences d, T(τ) the number of Walsh averages
// above τ: (W_(N−⌊c⌋) + W_(N−⌈c⌉+1))/2, 0 < c < N = n(n+1)/2.
func walshEstimate(d []float64, c float64) float64 {
	if r := math.Round(c); math.Abs(c-r) <= 1e-12*c {
		c = r // an integer in exact arithmetic (N/(1+Γ) = 20 for N = 78, Γ = 2.9)
	}
	n := int64(len(d))
	N := n * (n + 1) / 2
	i := N - int64(math.Floor(c))
	j := N - int64(math.Ceil(c)) + 1
	i = min(max(i, 1), N)
	j = min(max(j, 1), N)
	a := walshSelect(d, i)
	if j == i {
		return a
	}
	b := walshSelect(d, j)
	return a/2 + b/2
}

// walshSelect returns the k-th smallest (1-based) of the Walsh averages
// d_i/2 + d_j/2, i ≤ j, of the ascending d: the smallest float x with at
// least k of them ≤ x, by bisection on the order of the float64 values.
func walshSelect(d []float64, k int64) float64 {
	lo, hi := floatKey(d[0]), floatKey(d[len(d)-1])
	for lo < hi {
		mid := lo + (hi-lo)/2
		if walshCount(d, keyFloat(mid)) >= k {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return keyFloat(lo)
}

// walshCount returns the number of Walsh averages d_i/2 + d_j/2 ≤ x,
// i ≤ j, of the ascending d, with two pointers: O(n).
func walshCount(d []float64, x float64) int64 {
	var cnt int64
	j := len(d) - 1
	for i := range d {
		for j >= i && d[i]/2+d[j]/2 > x {
			j--
		}
		if j < i {
			break
		}
		cnt += int64(j - i + 1)
	}
	return cnt
}

// floatKey maps a non-NaN float64 to a uint64 in the same order.
func floatKey(x float64) uint64 {
	b := math.Float64bits(x)
	if b>>63 == 1 {
		return ^b
	}
	return b | 1<<63
}

// keyFloat inverts floatKey.
func keyFloat(k uint64) float64 {
	if k>>63 == 1 {
		return math.Float64frombits(k &^ (1 << 63))
	}
	return math.Float64frombits(^k)
}
