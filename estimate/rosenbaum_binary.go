package estimate

import (
	"math"

	"gonum.org/v1/gonum/mathext"
)

// RosenbaumBinary computes the Mantel–Haenszel bounds (Rosenbaum 2002,
// Observational Studies, 2nd ed., §4.3.2 for pairs and §4.4 for matched
// sets; Becker & Caliendo 2007, Stata mhbounds) for a 0/1 outcome on
// matched sets with one treated unit each.
//
// The statistic is T = Σ_s y_s, the number of sets whose treated unit
// responds. In set s with n_s units of which a_s respond, hidden bias of
// at most Gamma puts the probability that the treated unit is a
// responder between
//
//	p⁻_s = a_s / (a_s + Γ(n_s − a_s))  and  p⁺_s = Γ a_s / (Γ a_s + n_s − a_s),
//
// and T is stochastically bounded by sums of independent Bernoulli(p⁻_s)
// and Bernoulli(p⁺_s) (sets with a_s = 0 or a_s = n_s are fixed). The
// upper and lower p-value bounds are P(T⁺ ≥ t) and P(T⁻ ≥ t), t the
// observed T. For 1:1 pairs only the D discordant pairs count, and the
// bounds are binomial tails, P(Binomial(D, Γ/(1+Γ)) ≥ t_D) and
// P(Binomial(D, 1/(1+Γ)) ≥ t_D) with t_D the discordant pairs in which
// the treated unit responds (McNemar's test under hidden bias).
//
// The tails are exact: binomial (regularized incomplete beta) when all
// informative sets have the same shape (n_s, a_s), as for pairs; else
// the Poisson-binomial distribution by convolution, O(S²) per Gamma in
// the number S of informative sets, while S ≤ RosenbaumOptions.ExactMax;
// beyond it the normal approximation with continuity correction,
// 1 − Φ((t − ½ − E)/√V), E = Σ p_s, V = Σ p_s(1 − p_s) (mhbounds uses
// |t − E| − ½ in the numerator, so its p-value stays near or below ½
// when t falls below E).
//
// R rbounds::binarysens(x, y) (x, y the two discordant counts) computes
// 1 − pbinom(D, x+y, p) with D = max(x, y), that is P(B > D), a strict
// inequality: its bounds are those of this function for a statistic one
// larger (rosenbaum_test.go checks both). With AltAuto this function
// tests the larger count too.
//
// Every value must be 0 or 1 (an *Error wrapping ErrInvalid otherwise).
// The result does not depend on the order of the sets or of the controls
// within a set (bit for bit).
func RosenbaumBinary(sets []MatchedSet, opts *RosenbaumOptions) (*RosenbaumResult, error) {
	o, err := opts.resolved()
	if err != nil {
		return nil, err
	}
	if err := checkSets(sets); err != nil {
		return nil, err
	}
	sets = canonicalSets(sets)
	type shape struct{ a, n int }
	var (
		sh    []shape
		t     int // treated responders
		e1    float64
		fixed int // sets with a = n
	)
	for i, s := range sets {
		a := 0
		for _, v := range append([]float64{s.Treated}, s.Controls...) {
			switch v {
			case 1:
				a++
			case 0:
			default:
				return nil, invalidValue("sets", v, "matched set %d has the outcome %v, want 0 or 1", i, v)
			}
		}
		n := len(s.Controls) + 1
		if s.Treated == 1 {
			t++
		}
		e1 += float64(a) / float64(n)
		sh = append(sh, shape{a, n})
	}
	alt := o.Alternative
	if alt == AltAuto {
		alt = AltGreater
		if float64(t) < e1 {
			alt = AltLess
		}
	}
	if alt == AltLess {
		t = len(sets) - t
		for i := range sh {
			sh[i].a = sh[i].n - sh[i].a
		}
	}
	// informative sets and the observed count among them
	var inf []shape
	for _, x := range sh {
		switch {
		case x.a == x.n:
			fixed++
		case x.a > 0:
			inf = append(inf, x)
		}
	}
	tInf := t - fixed
	oneShape := true
	for _, x := range inf {
		oneShape = oneShape && x == inf[0]
	}
	res := &RosenbaumResult{Method: MantelHaenszel, Alternative: alt, Sets: len(sets), Informative: len(inf),
		Statistic: float64(t), Exact: oneShape || len(inf) <= o.ExactMax}
	probs := make([]float64, len(inf))
	tail := func(upper bool, g float64) float64 {
		for i, x := range inf {
			a, b := float64(x.a), float64(x.n-x.a)
			if upper {
				probs[i] = g * a / (g*a + b)
			} else {
				probs[i] = a / (a + g*b)
			}
		}
		switch {
		case oneShape:
			p := 0.0
			if len(inf) > 0 {
				p = probs[0]
			}
			return binomUpper(len(inf), tInf, p)
		case res.Exact:
			return poissonBinomialUpper(probs, tInf)
		}
		e, v := 0.0, 0.0
		for _, p := range probs {
			e += p
			v += p * (1 - p)
		}
		return upperNormal((float64(tInf) - 0.5 - e) / math.Sqrt(v))
	}
	res.fill(&o, func(g float64) (float64, float64) { return tail(true, g), tail(false, g) }, nil)
	return res, nil
}

// binomUpper is P(B ≥ t) for B ~ Binomial(n, p): the regularized
// incomplete beta I_p(t, n − t + 1) for 1 ≤ t ≤ n.
func binomUpper(n, t int, p float64) float64 {
	switch {
	case t <= 0:
		return 1
	case t > n:
		return 0
	case p <= 0:
		return 0
	case p >= 1:
		return 1
	}
	return mathext.RegIncBeta(float64(t), float64(n-t+1), p)
}

// poissonBinomialUpper is P(Σ B_i ≥ t) for independent B_i ~
// Bernoulli(p_i), by convolution: O(len(p)²).
func poissonBinomialUpper(p []float64, t int) float64 {
	if t <= 0 {
		return 1
	}
	if t > len(p) {
		return 0
	}
	f := make([]float64, len(p)+1)
	f[0] = 1
	for i, q := range p {
		for j := i + 1; j >= 1; j-- {
			f[j] = f[j]*(1-q) + f[j-1]*q
		}
		f[0] *= 1 - q
	}
	s := 0.0
	for j := len(p); j >= t; j-- {
		s += f[j]
	}
	return min(s, 1)
}
