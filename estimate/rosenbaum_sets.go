package estimate

import (
	"math"
	"slices"
)

// RosenbaumMeanDiff computes Rosenbaum bounds for matched sets with one
// treated unit and one or more controls each, for a count or continuous
// outcome: the permutation test of the mean difference with the
// separable approximation (Gastwirth, Krieger & Rosenbaum 2000;
// Rosenbaum 2007, "Sensitivity analysis for m-estimates, tests, and
// confidence intervals in matched observational studies", Biometrics 63;
// R sensitivitymv::senmv with method "t", ψ(x) = x, no trimming).
//
// # Test
//
// In set s with units j = 1..n_s and outcomes y_sj, unit j's score is
// q_sj = y_sj − mean of the other units' outcomes, so the treated unit's
// score is its outcome minus the mean of its controls (the set's
// contribution to the matched ATT) and the scores of a set sum to 0. The
// statistic is T = Σ_s q_s,treated (outcomes negated for AltLess). Under
// hidden bias of at most Gamma, unit j of set s is the treated one with
// probability γ^{u_j}/Σ_l γ^{u_l}, u ∈ [0,1]. The separable
// approximation bounds T by the sum over sets of the largest expectation
// over u, attained with u = 0 on the a smallest scores and 1 on the
// others, a = 1..n_s−1:
//
//	μ_a = (Σ_{j≤a} q_(j) + Γ Σ_{j>a} q_(j)) / (a + Γ(n_s − a)),
//
// with the largest variance among the a attaining the maximum (ties
// within a relative 1e-12 of the largest score: senmv compares with ==,
// which can miss a tie of exact arithmetic by a rounding error); the upper
// p-value bound is 1 − Φ((T − Σμ)/√Σν) (large-sample normal). The lower
// bound uses the smallest expectation (u = 1 on the a smallest scores).
// On 1:1 pairs this is the paired permutation t-test: μ = |d|(Γ−1)/(Γ+1),
// ν = 4d²Γ/(1+Γ)². If no set has unequal outcomes both bounds are 1.
//
// # Point estimate
//
// EstLow and EstHigh solve T(τ) = Σμ⁺(τ) and T(τ) = Σμ⁻(τ) for the
// outcomes with τ subtracted from every treated outcome (the m-estimate
// of an additive effect under the largest and the smallest expectation;
// at Gamma = 1 both are the matched ATT, Σ_s(y_s,t − mean controls)/S).
// T(τ) − Σμ(τ) decreases strictly in τ (piecewise linearly); the root is
// bracketed by the smallest and the largest treated-minus-control
// difference and found by regula falsi (Illinois) to a bracket of a few
// ulps. senmv's tau argument shifts the treated outcomes the same way
// (rosenbaum_test.go compares with the root of its deviate).
//
// The result does not depend on the order of the sets or of the controls
// within a set (bit for bit). Cost: O(Σ n_s log n_s) per Gamma for the
// p-values, and that times the number of root-finding steps (typically
// 10 to 40) per Gamma for the point estimates.
func RosenbaumMeanDiff(sets []MatchedSet, opts *RosenbaumOptions) (*RosenbaumResult, error) {
	o, err := opts.resolved()
	if err != nil {
		return nil, err
	}
	if err := checkSets(sets); err != nil {
		return nil, err
	}
	ms := newMDSets(canonicalSets(sets))
	t, inf := ms.scores(0, 1)
	alt := o.Alternative
	if alt == AltAuto {
		alt = AltGreater
		if t < 0 {
			alt = AltLess
		}
	}
	sign := 1.0
	if alt == AltLess {
		sign = -1
	}
	t, _ = ms.scores(0, sign)
	sorted := ms.sortedScores()
	res := &RosenbaumResult{Method: MeanDifference, Alternative: alt, Sets: len(sets), Informative: inf, Statistic: t}
	pb := func(g float64) (float64, float64) {
		if inf == 0 {
			return 1, 1
		}
		eu, vu, el, vl := ms.moments(sorted, g)
		return upperNormal((t - eu) / math.Sqrt(vu)), upperNormal((t - el) / math.Sqrt(vl))
	}
	est := func(g float64) (float64, float64) {
		return ms.estimate(g, true), ms.estimate(g, false)
	}
	res.fill(&o, pb, est)
	return res, nil
}

// mdSets holds matched sets in flat form for the mean-difference bounds:
// set s has the outcomes y[off[s]:off[s+1]], the treated unit first.
type mdSets struct {
	y   []float64
	off []int
	q   []float64 // scores, same layout
	buf []float64
}

func newMDSets(sets []MatchedSet) *mdSets {
	m := &mdSets{off: make([]int, 1, len(sets)+1)}
	for _, s := range sets {
		m.y = append(m.y, s.Treated)
		m.y = append(m.y, s.Controls...)
		m.off = append(m.off, len(m.y))
	}
	m.q = make([]float64, len(m.y))
	return m
}

// scores fills m.q with the scores of sign·y, the treated outcomes
// shifted by −tau first, and returns T and the number of sets with
// unequal outcomes.
func (m *mdSets) scores(tau, sign float64) (t float64, informative int) {
	for s := 0; s+1 < len(m.off); s++ {
		lo, hi := m.off[s], m.off[s+1]
		n := float64(hi - lo)
		sum := 0.0
		eq := true
		for j := lo; j < hi; j++ {
			v := m.y[j]
			if j == lo {
				v -= tau
			}
			v *= sign
			m.q[j] = v
			sum += v
			eq = eq && v == m.q[lo]
		}
		for j := lo; j < hi; j++ {
			m.q[j] = (n*m.q[j] - sum) / (n - 1)
		}
		if eq {
			for j := lo; j < hi; j++ {
				m.q[j] = 0
			}
		} else {
			informative++
		}
		t += m.q[lo]
	}
	return t, informative
}

// sortedScores returns a copy of m.q sorted ascending within each set.
func (m *mdSets) sortedScores() []float64 {
	q := slices.Clone(m.q)
	for s := 0; s+1 < len(m.off); s++ {
		slices.Sort(q[m.off[s]:m.off[s+1]])
	}
	return q
}

// moments returns the separable bounds Σμ⁺, Σν⁺ (largest expectation)
// and Σμ⁻, Σν⁻ (smallest) of T at gamma for the scores q, sorted
// ascending within each set.
func (m *mdSets) moments(q []float64, g float64) (eu, vu, el, vl float64) {
	eu, vu = m.bound(q, g, true)
	el, vl = m.bound(q, g, false)
	return eu, vu, el, vl
}

// bound returns Σμ⁺, Σν⁺ when upper, else Σμ⁻, Σν⁻ (see moments).
func (m *mdSets) bound(q []float64, g float64, upper bool) (e, v float64) {
	for s := 0; s+1 < len(m.off); s++ {
		mu, vs := separableMax(q[m.off[s]:m.off[s+1]], g, !upper)
		if !upper {
			mu = -mu
		}
		e += mu
		v += vs
	}
	return e, v
}

// separableMax returns the largest expectation of the treated unit's
// score over u ∈ {0,1}^n monotone in the scores (u = 0 on the a smallest)
// and the largest variance among the a attaining it; with neg, of the
// negated scores (read q from the end), which gives the smallest
// expectation of q as −μ.
func separableMax(q []float64, g float64, neg bool) (mu, v float64) {
	n := len(q)
	at := func(j int) float64 {
		if neg {
			return -q[n-1-j]
		}
		return q[j]
	}
	var t1, t2, scale float64
	for j := range n {
		x := at(j)
		t1 += x
		t2 += x * x
		scale = max(scale, math.Abs(x))
	}
	if scale == 0 {
		return 0, 0
	}
	tol := 1e-12 * scale
	mu, v = math.Inf(-1), 0
	var s1, s2 float64
	for a := 1; a < n; a++ {
		x := at(a - 1)
		s1 += x
		s2 += x * x
		den := float64(a) + g*float64(n-a)
		m := (s1 + g*(t1-s1)) / den
		va := (s2+g*(t2-s2))/den - m*m
		switch {
		case m > mu+tol:
			mu, v = m, va
		case m >= mu-tol:
			mu, v = max(mu, m), max(v, va)
		}
	}
	return mu, max(v, 0)
}

// estimate returns the root τ of T(τ) − Σμ(τ), with the largest
// expectation when upper (EstLow), else the smallest (EstHigh).
func (m *mdSets) estimate(g float64, upper bool) float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for s := 0; s+1 < len(m.off); s++ {
		a, b := m.off[s], m.off[s+1]
		cmin, cmax := slices.Min(m.y[a+1:b]), slices.Max(m.y[a+1:b])
		lo = min(lo, m.y[a]-cmax)
		hi = max(hi, m.y[a]-cmin)
	}
	f := func(tau float64) float64 {
		t, _ := m.scores(tau, 1)
		if m.buf == nil {
			m.buf = make([]float64, len(m.q))
		}
		copy(m.buf, m.q)
		for s := 0; s+1 < len(m.off); s++ {
			slices.Sort(m.buf[m.off[s]:m.off[s+1]])
		}
		e, _ := m.bound(m.buf, g, upper)
		return t - e
	}
	// f(lo) ≥ 0 ≥ f(hi): regula falsi with the Illinois modification,
	// falling back to bisection, until the bracket is a few ulps wide.
	flo, fhi := f(lo), f(hi)
	switch {
	case flo <= 0:
		return lo
	case fhi >= 0:
		return hi
	}
	side := 0
	for range 300 {
		mid := lo + (hi-lo)/2
		if mid <= lo || mid >= hi || hi-lo <= 4e-16*max(math.Abs(lo), math.Abs(hi)) {
			break
		}
		x := lo + (hi-lo)*(flo/(flo-fhi))
		if !(x > lo && x < hi) {
			x = mid
		}
		fx := f(x)
		switch {
		case fx > 0:
			lo, flo = x, fx
			if side == 1 {
				fhi /= 2
			}
			side = 1
		case fx < 0:
			hi, fhi = x, fx
			if side == -1 {
				flo /= 2
			}
			side = -1
		default:
			return x
		}
	}
	return lo + (hi-lo)/2
}
