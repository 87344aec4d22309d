package psm

import "math"

// The logit link as R's C code in src/library/stats/src/family.c computes
// it: the inverse link and its derivative are clamped for |eta| > 30, so
// fitted probabilities never reach exactly 0 or 1.
const (
	lgThresh  = 30.0
	lgMThresh = -30.0
	lgEps     = 2.220446049250313e-16 // DBL_EPSILON
	lgInvEps  = 1 / lgEps
	// lgBoundary is glm.fit's test for "fitted probabilities numerically
	// 0 or 1 occurred": mu < 10*eps or mu > 1 - 10*eps.
	lgBoundary = 10 * lgEps
)

// lgLinkinv returns mu = exp(eta)/(1+exp(eta)) (R's logit_linkinv).
func lgLinkinv(eta float64) float64 {
	var t float64
	switch {
	case eta < lgMThresh:
		t = lgEps
	case eta > lgThresh:
		t = lgInvEps
	default:
		t = math.Exp(eta)
	}
	return t / (1 + t)
}

// lgMuEtaLinkinv returns d mu/d eta (R's logit_mu_eta), mu, and the
// clamped exp(eta) that R's logit_linkinv uses (mu = t/(1+t)), sharing
// one exp.
func lgMuEtaLinkinv(eta float64) (muEta, mu, t float64) {
	switch {
	case eta < lgMThresh:
		return lgEps, lgEps / (1 + lgEps), lgEps
	case eta > lgThresh:
		return lgEps, lgInvEps / (1 + lgInvEps), lgInvEps
	}
	e := math.Exp(eta)
	o := 1 + e
	return e / (o * o), e / o, e
}

// lgDevResidT is lgDevResid with mu = t/(1+t). For y = 0 and t < 1/32
// it evaluates 2*wt*log(1/(1-mu)) = 2*wt*log1p(t) by its series
// t - t²/2 + ... - t¹²/12, cut to 8 terms for t < 1/256 (truncation
// below 1e-19 relative either way; much cheaper than a logarithm, and
// with a rare treatment most units take this branch): it differs from
// R's formula only by R's own rounding of 1-mu, under 1e-15 absolute per
// unit. Otherwise it is R's formula.
func lgDevResidT(y, mu, t, wt float64) float64 {
	if y == 0 && t < 1.0/256 {
		s := 1.0 / 8
		s = 1.0/7 - t*s
		s = 1.0/6 - t*s
		s = 1.0/5 - t*s
		s = 1.0/4 - t*s
		s = 1.0/3 - t*s
		s = 1.0/2 - t*s
		s = 1 - t*s
		return 2 * wt * t * s
	}
	if y == 0 && t < 1.0/32 {
		s := 1.0 / 12
		s = 1.0/11 - t*s
		s = 1.0/10 - t*s
		s = 1.0/9 - t*s
		s = 1.0/8 - t*s
		s = 1.0/7 - t*s
		s = 1.0/6 - t*s
		s = 1.0/5 - t*s
		s = 1.0/4 - t*s
		s = 1.0/3 - t*s
		s = 1.0/2 - t*s
		s = 1 - t*s
		return 2 * wt * t * s
	}
	return lgDevResid(y, mu, wt)
}

// lgDevResid is R's binomial_dev_resids for y in {0, 1}:
// 2*wt*(y*log(y/mu) + (1-y)*log((1-y)/(1-mu))).
func lgDevResid(y, mu, wt float64) float64 {
	if y != 0 {
		return 2 * wt * math.Log(1/mu)
	}
	return 2 * wt * math.Log(1/(1-mu))
}

// lgLinkfun is R's logit_link, log(mu/(1-mu)).
func lgLinkfun(mu float64) float64 { return math.Log(mu / (1 - mu)) }
