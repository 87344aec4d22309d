package psm

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// CNoise and DNoise estimate how much the outcome noise adds to the
// plug-in quadratic forms: E[ĉ'Cov ĉ | X] = ĉ_μ'Cov ĉ_μ + Σ_j g_j'Cov g_j σ_j²,
// with ĉ_μ the ĉ of the noise-free outcome μ(w, x) (known in a
// simulation), and the same for d̂. Monte Carlo on aiDesign with g = 0
// (the outcome depends on the covariates through the score only, so
// that c = 0 and the nearest-neighbour estimate of σ_j² is unbiased) and
// 30 covariates that nothing depends on: R = 200 data sets of n = 2,000,
// seed fixed. The mean CNoise (DNoise) must be within 10 % of the mean
// of CTerm − CTerm(μ) (DTerm − DTerm(μ)), whose Monte Carlo relative
// error is about 3 % here; and the noise must be a large part of the
// plug-in term (more than a third), or the design would not test it.
func TestScoreAdjustNoise(t *testing.T) {
	if testing.Short() {
		t.Skip("Monte Carlo")
	}
	d := aiDesign{a0: -1, g: 0, tau0: 1, extra: 10}
	rng := rand.New(rand.NewPCG(2016, 30))
	const R, n = 200, 2000
	var cNoise, dNoise, cExcess, dExcess, cTerm float64
	for range R {
		x, w, y, _ := d.draw(rng, n)
		mu := make([]float64, n)
		tr := make([]bool, n)
		for i := range mu {
			mu[i] = 1 + x.At(i, 0) + d.g*x.At(i, 1) + w[i]*(d.tau0+d.tau1*(x.At(i, 0)+d.b2*x.At(i, 1)))
			tr[i] = w[i] == 1
		}
		fit, err := FitLogit(context.Background(), x, w, nil, nil, nil)
		require.NoError(t, err)
		um, err := MatchUnits(fit.Scores(nil), tr, nil)
		require.NoError(t, err)
		a, err := NewScoreAdjuster(x, tr, fit.Logit, &ScoreAdjustOptions{K: 1, L: 2})
		require.NoError(t, err)
		adjust := func(y []float64) ScoreAdjustResult {
			adj, err := a.Adjust(y, unitsATT(t, um, y))
			require.NoError(t, err)
			return adj
		}
		adj, adjMu := adjust(y), adjust(mu)
		cNoise += adj.CNoise / R
		dNoise += adj.DNoise / R
		cExcess += (adj.CTerm - adjMu.CTerm) / R
		dExcess += (adj.DTerm - adjMu.DTerm) / R
		cTerm += adj.CTerm / R
	}
	t.Logf("c'Cov c %.6f: noise %.6f, excess over the noise-free outcome %.6f; d: noise %.6f, excess %.6f", cTerm, cNoise, cExcess, dNoise, dExcess)
	require.Greater(t, cExcess, cTerm/3, "the design must make the noise a large part of c'Cov c")
	assert.InDelta(t, 1, cNoise/cExcess, 0.1, "CNoise / (CTerm - CTerm(mu))")
	assert.InDelta(t, 1, dNoise/dExcess, 0.1, "DNoise / (DTerm - DTerm(mu))")
}
