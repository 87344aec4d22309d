package psm

import (
	"context"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

// aiDesign simulates n units: X1, X2 independent N(0, 1),
// P(W=1|X) = F(a0 + b1 X1) (the logit is fitted on X1 and X2),
// Y(0) = 1 + X1 + g X2 + e, Y(1) = Y(0) + tau0 + tau1 X1, e ~ N(0, 1).
// Given the score, X2 is free: Cov(X, mu(w,X) | p) = (0, g) is not 0,
// and Var(Y | p, W) = 1 + g^2 for both groups (so the homoskedastic
// Abadie–Imbens variance of ATT is consistent for a known score). With
// tau1 != 0 the effect varies with the score, so dtau_t/dtheta is not 0.
type aiDesign struct{ a0, b1, g, tau0, tau1 float64 }

// trueATT is E[Y(1) - Y(0) | W = 1] = tau0 + tau1 E[X1 F] / E[F] with
// F = F(a0 + b1 X1); by Stein's lemma E[X1 F] = b1 E[F(1-F)]. The two
// one-dimensional normal expectations are computed by composite Simpson
// on [-12, 12] with 24,000 intervals (error below 1e-12).
func (d aiDesign) trueATT() float64 {
	const lo, hi, k = -12.0, 12.0, 24000
	h := (hi - lo) / k
	var eF, ef float64
	for i := 0; i <= k; i++ {
		z := lo + float64(i)*h
		w := 2.0
		switch {
		case i == 0 || i == k:
			w = 1
		case i%2 == 1:
			w = 4
		}
		phi := math.Exp(-z*z/2) / math.Sqrt(2*math.Pi)
		F := 1 / (1 + math.Exp(-(d.a0 + d.b1*z)))
		eF += w * phi * F
		ef += w * phi * F * (1 - F)
	}
	return d.tau0 + d.tau1*d.b1*ef/eF
}

func (d aiDesign) draw(r *rand.Rand, n int) (x *mat.Dense, w, y []float64) {
	x = mat.NewDense(n, 2, nil)
	w = make([]float64, n)
	y = make([]float64, n)
	for i := 0; i < n; i++ {
		x1, x2 := r.NormFloat64(), r.NormFloat64()
		x.Set(i, 0, x1)
		x.Set(i, 1, x2)
		p := 1 / (1 + math.Exp(-(d.a0 + d.b1*x1)))
		y[i] = 1 + x1 + d.g*x2 + r.NormFloat64()
		if r.Float64() < p {
			w[i] = 1
			y[i] += d.tau0 + d.tau1*x1
		}
	}
	return x, w, y
}

// fitMatchAdjust fits the logit, matches (K neighbours, defaults) and
// returns the ATT and its adjusted variance.
func fitMatchAdjust(t testing.TB, x *mat.Dense, w, y []float64, K, L int) (ATTResult, ScoreAdjustResult) {
	fit, err := FitLogit(context.Background(), x, w, nil, nil, nil)
	require.NoError(t, err)
	p := fit.Predict(x, nil)
	var ps [2][]float64
	var ys [2][]float64
	tr := make([]bool, len(w))
	for i, v := range w {
		k := int(v)
		tr[i] = k == 1
		ps[k] = append(ps[k], p[i])
		ys[k] = append(ys[k], y[i])
	}
	m, err := Match(ps[1], ps[0], &MatchOptions{K: K})
	require.NoError(t, err)
	r, err := ATT(ys[1], ys[0], m, nil)
	require.NoError(t, err)
	a, err := NewScoreAdjuster(x, tr, fit, &ScoreAdjustOptions{K: K, L: L})
	require.NoError(t, err)
	adj, err := a.Adjust(y, r)
	require.NoError(t, err)
	return r, adj
}

// Monte Carlo coverage of the 95 % normal interval with the adjusted and
// with the unadjusted Abadie–Imbens variance, on designs with a known ATT
// (aiDesign), R = 300 data sets of n = 2,000 each, seed fixed. The
// theory (Abadie and Imbens 2016, Theorem 2): the adjusted interval is
// asymptotically exact; the adjustment -c'I^{-1}c + d'I^{-1}d is
// negative when the effect is constant (d = 0) and may be either sign
// otherwise. Checks, with their Monte Carlo (MC) tolerances:
//
//   - constant effect: coverage of the adjusted interval within 3 MC SEs
//     (sqrt(.95 .05 / 300) = 0.0126) of 0.95, the mean adjusted variance
//     within 20 % of the MC variance of the estimates (whose relative SE
//     is sqrt(2/299) = 8 %), the adjusted variance below the unadjusted
//     one in at least 90 % of the data sets;
//   - constant effect: the mean adjustment, mean(Var - VarAI), within
//     25 % of its MC counterpart var(ATT on the estimated score) -
//     var(ATT on the true score), paired on the same data sets;
//   - heterogeneous effect: the homoskedastic variance of ATT (R's
//     Var.calc = 0) pools the effect heterogeneity into sigma^2 and is
//     too large whether or not the score is estimated, and the estimated
//     adjustment is about 20 times its MC counterpart (0.0061 against
//     0.0003 here: the derivative term d'I^{-1}d does not show in the
//     MC; see docs/ai2016.md), so only conservativeness is checked: the mean
//     adjusted variance is at least 0.9 times the MC variance.
func TestScoreAdjustCoverage(t *testing.T) {
	if testing.Short() {
		t.Skip("Monte Carlo")
	}
	const R, n = 300, 2000
	for _, tc := range []struct {
		name string
		d    aiDesign
	}{
		// constant effect: the adjustment is -c'I^{-1}c < 0
		{"constant", aiDesign{a0: -1, b1: 1, g: 2, tau0: 1, tau1: 0}},
		// the effect varies with the score and X2 matters little: the
		// derivative term dominates and the adjustment is positive
		{"hetero", aiDesign{a0: -1, b1: 1, g: 0.5, tau0: 1, tau1: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(2016, 84))
			truth := tc.d.trueATT()
			var covA, covU, sameSign int
			var est, known, adjust []float64
			var meanVA, meanVU float64
			for rep := 0; rep < R; rep++ {
				x, w, y := tc.d.draw(rng, n)
				r, adj := fitMatchAdjust(t, x, w, y, 1, 2)
				require.False(t, math.IsNaN(adj.SE), "rep %d: negative adjusted variance %v", rep, adj.Var)
				if math.Abs(r.ATT-truth) <= 1.959963984540054*adj.SE {
					covA++
				}
				if math.Abs(r.ATT-truth) <= 1.959963984540054*r.SE {
					covU++
				}
				est = append(est, r.ATT)
				adjust = append(adjust, adj.Var-adj.VarAI)
				meanVA += adj.Var / R
				meanVU += adj.VarAI / R
				var ps, ys [2][]float64
				for i := range w {
					k := int(w[i])
					ps[k] = append(ps[k], 1/(1+math.Exp(-(tc.d.a0+tc.d.b1*x.At(i, 0)))))
					ys[k] = append(ys[k], y[i])
				}
				m, err := Match(ps[1], ps[0], nil)
				require.NoError(t, err)
				rk, err := ATT(ys[1], ys[0], m, nil)
				require.NoError(t, err)
				known = append(known, rk.ATT)
			}
			v, vk := mcVar(est), mcVar(known)
			var meanAdj float64
			for _, a := range adjust {
				meanAdj += a / R
			}
			for _, a := range adjust {
				if (a < 0) == (v-vk < 0) {
					sameSign++
				}
			}
			ca, cu := float64(covA)/R, float64(covU)/R
			t.Logf("%s: true ATT %.4f, mean estimate %.4f; MC var %.5f (true score %.5f, difference %.5f); mean variance adjusted %.5f, unadjusted %.5f, mean adjustment %.5f (same sign as the MC difference in %d of %d); coverage adjusted %.3f, unadjusted %.3f (MC SE 0.0126)",
				tc.name, truth, mean(est), v, vk, v-vk, meanVA, meanVU, meanAdj, sameSign, R, ca, cu)
			if tc.d.tau1 != 0 {
				assert.GreaterOrEqual(t, meanVA/v, 0.9, "mean adjusted variance / MC variance")
				return
			}
			assert.InDelta(t, 0.95, ca, 3*0.0126, "adjusted coverage")
			assert.InDelta(t, 1, meanVA/v, 0.2, "mean adjusted variance / MC variance")
			assert.InDelta(t, 1, meanAdj/(v-vk), 0.25, "mean adjustment / MC difference")
			assert.GreaterOrEqual(t, sameSign, R*9/10, "the adjustment is negative")
		})
	}
}

func mean(x []float64) float64 {
	var m float64
	for _, v := range x {
		m += v
	}
	return m / float64(len(x))
}

// mcVar is the sample variance (divisor n-1).
func mcVar(x []float64) float64 {
	m := mean(x)
	var v float64
	for _, e := range x {
		v += (e - m) * (e - m)
	}
	return v / float64(len(x)-1)
}

// The coefficients of ĉ and d̂ equal a direct computation of the
// formulas of NewScoreAdjuster (neighbours by sorting all distances,
// sample covariances with divisor L-1) on a small data set, to 1e-12.
func TestScoreAdjustHand(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	d := aiDesign{a0: -0.3, b1: 1, g: 1, tau0: 1, tau1: 1}
	x, w, y := d.draw(rng, 40)
	fit, err := FitLogit(context.Background(), x, w, nil, nil, nil)
	require.NoError(t, err)
	p := fit.Predict(x, nil)
	n := len(w)
	var ps, ys [2][]float64
	tr := make([]bool, n)
	for i := range w {
		k := int(w[i])
		tr[i] = k == 1
		ps[k] = append(ps[k], p[i])
		ys[k] = append(ys[k], y[i])
	}
	m, err := Match(ps[1], ps[0], nil)
	require.NoError(t, err)
	r, err := ATT(ys[1], ys[0], m, nil)
	require.NoError(t, err)
	const L = 3
	a, err := NewScoreAdjuster(x, tr, fit, &ScoreAdjustOptions{L: L})
	require.NoError(t, err)
	got, err := a.Adjust(y, r)
	require.NoError(t, err)

	xt := func(i int) []float64 { return []float64{1, x.At(i, 0), x.At(i, 1)} }
	n1 := float64(len(ps[1]))
	c := make([]float64, 3)
	dd := make([]float64, 3)
	for i := 0; i < n; i++ {
		f := p[i] * (1 - p[i])
		var imputed [2]float64
		for g := 0; g < 2; g++ {
			var js []int
			for j := 0; j < n; j++ {
				if int(w[j]) == g && j != i {
					js = append(js, j)
				}
			}
			sortByDist(js, p, p[i])
			set := js[:L]
			var mx [3]float64
			var my float64
			for _, j := range set {
				for k, v := range xt(j) {
					mx[k] += v / L
				}
				my += y[j] / L
			}
			coef := f
			if g == 0 {
				coef = p[i] * p[i]
			}
			for _, j := range set {
				for k, v := range xt(j) {
					c[k] += coef * (v - mx[k]) * (y[j] - my) / (L - 1) / n1
				}
			}
			if g != int(w[i]) { // nearest of the other group (no ties here)
				imputed[g] = y[js[0]]
			} else {
				imputed[g] = y[i]
			}
		}
		for k, v := range xt(i) {
			dd[k] += f * v * (imputed[1] - imputed[0] - r.ATT) / n1
		}
	}
	quad := func(v []float64) float64 {
		var s float64
		for i := range v {
			for j := range v {
				s += v[i] * fit.Cov.At(i, j) * v[j]
			}
		}
		return s
	}
	assert.InDelta(t, quad(c), got.CTerm, 1e-12*quad(c))
	assert.InDelta(t, quad(dd), got.DTerm, 1e-12*quad(dd))
	assert.InDelta(t, r.SE*r.SE-quad(c)+quad(dd), got.Var, 1e-12)
}

func sortByDist(js []int, p []float64, t float64) {
	sort.SliceStable(js, func(a, b int) bool {
		da, db := math.Abs(p[js[a]]-t), math.Abs(p[js[b]]-t)
		if da != db {
			return da < db
		}
		return p[js[a]] < p[js[b]]
	})
}

// Bad input to NewScoreAdjuster and Adjust is an *MatchInputError
// naming the argument.
func TestScoreAdjustBadInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	d := aiDesign{a0: -0.3, b1: 1, g: 1, tau0: 1}
	x, w, y := d.draw(rng, 50)
	fit, err := FitLogit(context.Background(), x, w, nil, nil, nil)
	require.NoError(t, err)
	tr := make([]bool, len(w))
	for i, v := range w {
		tr[i] = v == 1
	}
	for _, tc := range []struct {
		field string
		x     *mat.Dense
		tr    []bool
		o     *ScoreAdjustOptions
	}{
		{"x", nil, tr, nil},
		{"treated", x, tr[1:], nil},
		{"L", x, tr, &ScoreAdjustOptions{L: 1}},
		{"K", x, tr, &ScoreAdjustOptions{K: -1}},
		{"Include", x, tr, &ScoreAdjustOptions{Include: make([]bool, len(tr))}},
		{"treated", x, tr, &ScoreAdjustOptions{L: 49}},
		{"x", mat.NewDense(len(tr), 1, nil), tr, nil},
	} {
		_, err := NewScoreAdjuster(tc.x, tc.tr, fit, tc.o)
		var me *MatchInputError
		require.ErrorAs(t, err, &me, tc.field)
		assert.Equal(t, tc.field, me.Field)
		assert.ErrorIs(t, err, ErrBadOption)
	}
	a, err := NewScoreAdjuster(x, tr, fit, nil)
	require.NoError(t, err)
	_, err = a.Adjust(y[1:], ATTResult{})
	assert.ErrorIs(t, err, ErrBadOption)
	y[3] = math.NaN()
	_, err = a.Adjust(y, ATTResult{})
	assert.ErrorIs(t, err, ErrBadValue)
}
