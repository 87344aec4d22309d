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

// lgMuEtaLinkinv returns d mu/d eta (R's logit_mu_eta) and mu, sharing
// one exp.
func lgMuEtaLinkinv(eta float64) (muEta, mu float64) {
	switch {
	case eta < lgMThresh:
		return lgEps, lgEps / (1 + lgEps)
	case eta > lgThresh:
		return lgEps, lgInvEps / (1 + lgInvEps)
	}
	e := math.Exp(eta)
	o := 1 + e
	return e / (o * o), e / o
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
