package psm

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

// aiDesign simulates n units: X1, X2 independent N(0, 1), the index
// S = X1 + b2 X2, P(W=1|X) = F(a0 + S) (the logit is fitted on X1 and
// X2), Y(0) = 1 + X1 + g X2 + e, Y(1) = Y(0) + tau0 + tau1 S,
// e ~ N(0, 1). Given the score, X is not fixed, so Cov(X, mu(w,X) | p) is
// not 0 when g != b2 (with b2 = 0 it is (0, 0, g) on the terms
// (1, X1, X2)); Var(Y | p, W) is the same for both groups and all p (so
// the homoskedastic Abadie–Imbens variance of ATT is consistent for a
// known score when tau1 = 0). With tau1 != 0 the effect varies with the
// score, so dtau_t/dtheta is not 0.
//
// extra adds that many covariates, independent N(0, 1), that neither the
// score nor the outcome depends on but the logit is fitted on: they
// leave c (and d) as they are but add noise to the plug-in ĉ and d̂.
type aiDesign struct {
	a0, b2, g, tau0, tau1 float64
	extra                 int
}

// trueATT is E[Y(1) - Y(0) | W = 1] = tau0 + tau1 E[S F] / E[F] with
// F = F(a0 + S), S ~ N(0, v), v = 1 + b2^2; by Stein's lemma
// E[S F] = v E[F(1-F)]. The two one-dimensional normal expectations are
// computed by composite Simpson on [-12, 12] standard deviations with
// 24,000 intervals (error below 1e-12).
func (d aiDesign) trueATT() float64 {
	const lo, hi, k = -12.0, 12.0, 24000
	v := 1 + d.b2*d.b2
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
		F := 1 / (1 + math.Exp(-(d.a0 + math.Sqrt(v)*z)))
		eF += w * phi * F
		ef += w * phi * F * (1 - F)
	}
	return d.tau0 + d.tau1*v*ef/eF
}

// draw returns the covariates, the treatment, the outcome and the true
// score of n units.
func (d aiDesign) draw(r *rand.Rand, n int) (x *mat.Dense, w, y, p []float64) {
	x = mat.NewDense(n, 2+d.extra, nil)
	w = make([]float64, n)
	y = make([]float64, n)
	p = make([]float64, n)
	for i := 0; i < n; i++ {
		x1, x2 := r.NormFloat64(), r.NormFloat64()
		x.Set(i, 0, x1)
		x.Set(i, 1, x2)
		for j := 0; j < d.extra; j++ {
			x.Set(i, 2+j, r.NormFloat64())
		}
		s := x1 + d.b2*x2
		p[i] = 1 / (1 + math.Exp(-(d.a0 + s)))
		y[i] = 1 + x1 + d.g*x2 + r.NormFloat64()
		if r.Float64() < p[i] {
			w[i] = 1
			y[i] += d.tau0 + d.tau1*s
		}
	}
	return x, w, y, p
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
	a, err := NewScoreAdjuster(x, tr, fit.Logit, &ScoreAdjustOptions{K: K, L: L})
	require.NoError(t, err)
	adj, err := a.Adjust(y, r)
	require.NoError(t, err)
	return r, adj
}

// mcStudy draws R data sets of n units from d and returns the ATT on the
// estimated score (with its ATTResult and ScoreAdjustResult) and on the
// true score, for each data set.
type mcRep struct {
	r     ATTResult
	adj   ScoreAdjustResult
	known float64
}

func mcStudy(t testing.TB, d aiDesign, R, n int) []mcRep {
	rng := rand.New(rand.NewPCG(2016, 84))
	out := make([]mcRep, R)
	for rep := range out {
		x, w, y, pt := d.draw(rng, n)
		r, adj := fitMatchAdjust(t, x, w, y, 1, 2)
		var ps, ys [2][]float64
		for i := range w {
			k := int(w[i])
			ps[k] = append(ps[k], pt[i])
			ys[k] = append(ys[k], y[i])
		}
		m, err := Match(ps[1], ps[0], nil)
		require.NoError(t, err)
		rk, err := ATT(ys[1], ys[0], m, nil)
		require.NoError(t, err)
		out[rep] = mcRep{r, adj, rk.ATT}
	}
	return out
}

// mcSummary is what the Monte Carlo checks: variances of the estimates
// on the estimated (V) and on the true score (VK), the means of the
// variance terms, and coverage of the 95 % normal intervals.
type mcSummary struct {
	truth, mean, V, VK         float64
	varAI, cTerm, dTerm, cross float64
	cNoise, dNoise             float64
	covAdj, covNoD, covAI      float64
	negAdj                     int
}

func summarizeMC(d aiDesign, reps []mcRep) mcSummary {
	R := float64(len(reps))
	s := mcSummary{truth: d.trueATT()}
	var est, known []float64
	const z = 1.959963984540054
	for _, e := range reps {
		est, known = append(est, e.r.ATT), append(known, e.known)
		s.varAI += e.adj.VarAI / R
		s.cTerm += e.adj.CTerm / R
		s.dTerm += e.adj.DTerm / R
		s.cross += e.adj.CrossTerm / R
		s.cNoise += e.adj.CNoise / R
		s.dNoise += e.adj.DNoise / R
		dev := math.Abs(e.r.ATT - s.truth)
		if dev <= z*e.adj.SE {
			s.covAdj++
		}
		if dev <= z*math.Sqrt(e.adj.VarAI-max(0, e.adj.CTerm-e.adj.CNoise)) {
			s.covNoD++
		}
		if dev <= z*e.r.SE {
			s.covAI++
		}
		if e.adj.Var < e.adj.VarAI {
			s.negAdj++
		}
	}
	s.covAdj /= R
	s.covNoD /= R
	s.covAI /= R
	s.mean, s.V, s.VK = mean(est), mcVar(est), mcVar(known)
	return s
}

func (s mcSummary) String() string {
	return fmt.Sprintf("true ATT %.4f, mean estimate %.4f; MC var %.5f, on the true score %.5f, difference %.5f; "+
		"means: VarAI %.5f, c'Cov c %.5f (noise %.5f), d'Cov d %.5f (noise %.5f), c'Cov d %.5f; "+
		"adjustment -c+d %.5f, -c %.5f (noise-corrected: %.5f, %.5f); "+
		"coverage: adjusted %.3f, without d %.3f, unadjusted %.3f",
		s.truth, s.mean, s.V, s.VK, s.V-s.VK, s.varAI, s.cTerm, s.cNoise, s.dTerm, s.dNoise, s.cross,
		s.dTerm-s.cTerm, -s.cTerm, s.dTerm-s.dNoise-(s.cTerm-s.cNoise), -(s.cTerm - s.cNoise),
		s.covAdj, s.covNoD, s.covAI)
}

// Monte Carlo check of the adjusted variance on designs with a known ATT
// (aiDesign with b2 = 0, g = 2), R = 300 data sets of n = 2,000 each,
// seed fixed, each also matched on the true score (paired). The
// theory (Abadie and Imbens 2016, Theorem 2): the adjusted interval is
// asymptotically exact; the adjustment -c'I^{-1}c + d'I^{-1}d is
// negative when the effect is constant (d = 0) and may be either sign
// otherwise. Checks, with their Monte Carlo (MC) tolerances:
//
//   - constant effect (tau1 = 0): coverage of the adjusted interval
//     within 3 MC SEs (sqrt(.95 .05 / 300) = 0.0126) of 0.95; the mean
//     adjusted variance within 20 % of the MC variance of the estimates
//     (whose relative SE is sqrt(2/299) = 8 %); the mean adjustment
//     within 25 % of its MC counterpart, var(ATT on the estimated score)
//   - var(ATT on the true score); the adjusted variance below the
//     unadjusted one in at least 90 % of the data sets;
//   - effect varying with the score (tau1 = 3): the mean of -c'Cov c
//     within 25 % of the MC difference. The derivative term d'Cov d is
//     not in the MC difference here (see docs/ai2016.md: with b2 = 0 the
//     logit's error in the directions of the intercept and X1 only
//     re-maps the score monotonically, which leaves the matches as they
//     are), which is why ScoreAdjustOptions.NoDerivativeTerm exists; the
//     homoskedastic variance of ATT (R's Var.calc = 0) pools the effect
//     heterogeneity into sigma^2 and is too large here whether or not
//     the score is estimated, so coverage is not checked.
func TestScoreAdjustCoverage(t *testing.T) {
	if testing.Short() {
		t.Skip("Monte Carlo")
	}
	const R, n = 300, 2000
	t.Run("constant", func(t *testing.T) {
		d := aiDesign{a0: -1, b2: 0, g: 2, tau0: 1, tau1: 0}
		s := summarizeMC(d, mcStudy(t, d, R, n))
		t.Log(s)
		assert.InDelta(t, 0.95, s.covAdj, 3*0.0126, "adjusted coverage")
		assert.InDelta(t, 1, (s.varAI-s.cTerm+s.dTerm)/s.V, 0.2, "mean adjusted variance / MC variance")
		assert.InDelta(t, 1, (s.dTerm-s.cTerm)/(s.V-s.VK), 0.25, "mean adjustment / MC difference")
		assert.GreaterOrEqual(t, s.negAdj, R*9/10, "the adjustment is negative")
	})
	t.Run("hetero", func(t *testing.T) {
		d := aiDesign{a0: -1, b2: 0, g: 2, tau0: 1, tau1: 3}
		s := summarizeMC(d, mcStudy(t, d, R, n))
		t.Log(s)
		assert.InDelta(t, 1, -s.cTerm/(s.V-s.VK), 0.25, "mean -c'Cov c / MC difference")
	})
}

// TestScoreAdjustLongMC prints the Monte Carlo table of docs/ai2016.md
// (R = 4,000 data sets of n = 2,000 per design; about a minute per design
// on one core). Run with PSMEVAL_LONG_MC=1 go test ./psm -run
// TestScoreAdjustLongMC -v -timeout 30m.
func TestScoreAdjustLongMC(t *testing.T) {
	if os.Getenv("PSMEVAL_LONG_MC") == "" {
		t.Skip("set PSMEVAL_LONG_MC=1")
	}
	for _, d := range []aiDesign{
		{a0: -1, b2: 0, g: 2, tau0: 1, tau1: 0},
		{a0: -1, b2: 0, g: 2, tau0: 1, tau1: 3},
		{a0: -1, b2: 0.5, g: 2, tau0: 1, tau1: 0},
		{a0: -1, b2: 0.5, g: 2, tau0: 1, tau1: 3},
		{a0: -1, b2: 0, g: 0, tau0: 1, tau1: 0, extra: 10},
		{a0: -1, b2: 0, g: 0.5, tau0: 1, tau1: 0, extra: 30},
	} {
		s := summarizeMC(d, mcStudy(t, d, 4000, 2000))
		t.Logf("b2 %v g %v tau1 %v extra %d: %v", d.b2, d.g, d.tau1, d.extra, s)
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
	d := aiDesign{a0: -0.3, b2: 0.5, g: 1, tau0: 1, tau1: 1}
	x, w, y, _ := d.draw(rng, 40)
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
	a, err := NewScoreAdjuster(x, tr, fit.Logit, &ScoreAdjustOptions{L: L})
	require.NoError(t, err)
	got, err := a.Adjust(y, r)
	require.NoError(t, err)

	c, dd, _ := scoreAdjustByHand(x, w, y, p, nil, L, r.ATT)
	quad := func(v []float64) float64 { return quadCov(fit.Cov, v) }
	assert.InDelta(t, quad(c), got.CTerm, 1e-12*quad(c))
	assert.InDelta(t, quad(dd), got.DTerm, 1e-12*quad(dd))
	cn, dn := noiseByHand(x, w, y, p, nil, L, fit.Cov)
	require.Positive(t, cn)
	require.Positive(t, dn)
	assert.InDelta(t, cn, got.CNoise, 1e-12*cn)
	assert.InDelta(t, dn, got.DNoise, 1e-12*dn)
	want := r.SE*r.SE - max(0, quad(c)-cn) + max(0, quad(dd)-dn)
	assert.InDelta(t, want, got.Var, 1e-12)
	a, err = NewScoreAdjuster(x, tr, fit.Logit, &ScoreAdjustOptions{L: L, NoDerivativeTerm: true})
	require.NoError(t, err)
	noD, err := a.Adjust(y, r)
	require.NoError(t, err)
	assert.InDelta(t, r.SE*r.SE-max(0, quad(c)-cn), noD.Var, 1e-12)
	assert.Equal(t, got.DTerm, noD.DTerm)
	a, err = NewScoreAdjuster(x, tr, fit.Logit, &ScoreAdjustOptions{L: L, PlugIn: true})
	require.NoError(t, err)
	plain, err := a.Adjust(y, r)
	require.NoError(t, err)
	assert.InDelta(t, r.SE*r.SE-quad(c)+quad(dd), plain.Var, 1e-12)
	assert.Zero(t, plain.CNoise)
}

// scoreAdjustByHand computes ĉ and d̂ of NewScoreAdjuster directly from
// their definitions: for every unit of a stratum with both groups, the
// neighbours by sorting all distances within the stratum (nil strata:
// one stratum), the sample covariance over the min(L, m) nearest of each
// group (divisor l−1; none from fewer than two), the nearest unit of the
// other group as the imputed outcome (no ties in these data). skipped
// counts the covariances left out for want of two units.
func scoreAdjustByHand(x *mat.Dense, w, y, p []float64, strata []int32, L int, att float64) (c, d []float64, skipped int) {
	n := len(w)
	st := func(i int) int32 {
		if strata == nil {
			return 0
		}
		return strata[i]
	}
	xt := func(i int) []float64 { return []float64{1, x.At(i, 0), x.At(i, 1)} }
	both := map[int32][2]int{}
	for i := range w {
		b := both[st(i)]
		b[int(w[i])]++
		both[st(i)] = b
	}
	counted := func(i int) bool { b := both[st(i)]; return b[0] > 0 && b[1] > 0 }
	var n1 float64
	for i := range w {
		if w[i] == 1 && counted(i) {
			n1++
		}
	}
	c = make([]float64, 3)
	d = make([]float64, 3)
	for i := 0; i < n; i++ {
		if !counted(i) {
			continue
		}
		f := p[i] * (1 - p[i])
		var imputed [2]float64
		for g := 0; g < 2; g++ {
			var js []int
			for j := 0; j < n; j++ {
				if int(w[j]) == g && j != i && st(j) == st(i) {
					js = append(js, j)
				}
			}
			sortByDist(js, p, p[i])
			if g != int(w[i]) {
				imputed[g] = y[js[0]]
			} else {
				imputed[g] = y[i]
			}
			l := min(L, len(js))
			if l < 2 {
				skipped++
				continue
			}
			set := js[:l]
			var mx [3]float64
			var my float64
			for _, j := range set {
				for k, v := range xt(j) {
					mx[k] += v / float64(l)
				}
				my += y[j] / float64(l)
			}
			coef := f
			if g == 0 {
				coef = p[i] * p[i]
			}
			for _, j := range set {
				for k, v := range xt(j) {
					c[k] += coef * (v - mx[k]) * (y[j] - my) / float64(l-1) / n1
				}
			}
		}
		for k, v := range xt(i) {
			d[k] += f * v * (imputed[1] - imputed[0] - att) / n1
		}
	}
	return c, d, skipped
}

// noiseByHand computes CNoise and DNoise of NewScoreAdjuster from their
// definitions: g_j and h_j, the coefficients of y_j in ĉ and in d̂ with
// its ATT (ĉ and d̂ of scoreAdjustByHand at y = e_j and the ATT of e_j,
// attByHand), and s_j² = (y_j −
// y_k)²/2 with k the row of j's group and stratum nearest in score
// (sorting all distances, ties to the lower score).
func noiseByHand(x *mat.Dense, w, y, p []float64, strata []int32, L int, cov *mat.SymDense) (cNoise, dNoise float64) {
	n := len(w)
	e := make([]float64, n)
	for j := 0; j < n; j++ {
		var ks []int
		for k := 0; k < n; k++ {
			if k != j && w[k] == w[j] && (strata == nil || strata[k] == strata[j]) {
				ks = append(ks, k)
			}
		}
		if len(ks) == 0 {
			continue
		}
		sortByDist(ks, p, p[j])
		clear(e)
		e[j] = 1
		g, h, _ := scoreAdjustByHand(x, w, e, p, strata, L, attByHand(w, e, p, strata))
		s2 := (y[j] - y[ks[0]]) * (y[j] - y[ks[0]]) / 2
		cNoise += quadCov(cov, g) * s2
		dNoise += quadCov(cov, h) * s2
	}
	return cNoise, dNoise
}

// attByHand is the ATT of the imputation in scoreAdjustByHand: the mean
// over the treated rows of strata with both groups of y minus the
// outcome of the nearest control of the stratum (no ties in these data).
func attByHand(w, y, p []float64, strata []int32) float64 {
	var sum, n1 float64
	for i := range w {
		if w[i] != 1 {
			continue
		}
		var js []int
		for j := range w {
			if w[j] == 0 && (strata == nil || strata[j] == strata[i]) {
				js = append(js, j)
			}
		}
		if len(js) == 0 {
			continue
		}
		sortByDist(js, p, p[i])
		sum += y[i] - y[js[0]]
		n1++
	}
	return sum / n1
}

// quadCov returns v' Cov v for the logit's covariance matrix.
func quadCov(cov *mat.SymDense, v []float64) float64 {
	var s float64
	for i := range v {
		for j := range v {
			s += v[i] * cov.At(i, j) * v[j]
		}
	}
	return s
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

// Bad input to NewScoreAdjuster and Adjust is an *InputError
// naming the argument.
func TestScoreAdjustBadInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	d := aiDesign{a0: -0.3, g: 1, tau0: 1}
	x, w, y, _ := d.draw(rng, 50)
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
		_, err := NewScoreAdjuster(tc.x, tc.tr, fit.Logit, tc.o)
		var me *InputError
		require.ErrorAs(t, err, &me, tc.field)
		assert.Equal(t, tc.field, me.Field)
		assert.ErrorIs(t, err, ErrBadOption)
	}
	a, err := NewScoreAdjuster(x, tr, fit.Logit, nil)
	require.NoError(t, err)
	_, err = a.Adjust(y[1:], ATTResult{})
	assert.ErrorIs(t, err, ErrBadOption)
	y[3] = math.NaN()
	_, err = a.Adjust(y, ATTResult{})
	assert.ErrorIs(t, err, ErrBadValue)
}

// With Strata the coefficients of ĉ and d̂ equal a direct computation
// within strata, to 1e-12: neighbours only from the row's stratum, the
// covariance over min(L, m) rows (none from fewer than two), no sums
// over a stratum without one of the groups.
func TestScoreAdjustStrataHand(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 3))
	d := aiDesign{a0: -0.3, b2: 0.5, g: 1, tau0: 1, tau1: 1}
	x, w, y, _ := d.draw(rng, 90)
	fit, err := FitLogit(context.Background(), x, w, nil, nil, nil)
	require.NoError(t, err)
	p := fit.Predict(x, nil)
	n := len(w)
	tr := make([]bool, n)
	strata := make([]int32, n)
	var treatedB int
	for i := range w {
		tr[i] = w[i] == 1
		switch {
		case i >= 80: // stratum 3: controls only, or none
			strata[i] = 3
			if tr[i] {
				strata[i] = 0
			}
		case tr[i] && i%5 == 0 && treatedB < 2: // stratum 2: two treated
			strata[i] = 2
			treatedB++
		case !tr[i] && i%3 == 0:
			strata[i] = 2
		default:
			strata[i] = int32(i % 2)
		}
	}
	require.Equal(t, 2, treatedB)

	// the ATT within strata, for τ̂
	um, err := MatchUnits(p, tr, &UnitOptions{Strata: strata})
	require.NoError(t, err)
	r := unitsATT(t, um, y)
	const L = 3
	a, err := NewScoreAdjuster(x, tr, fit.Logit, &ScoreAdjustOptions{L: L, Strata: strata})
	require.NoError(t, err)
	got, err := a.Adjust(y, r)
	require.NoError(t, err)

	c, dd, skipped := scoreAdjustByHand(x, w, y, p, strata, L, r.ATT)
	require.Greater(t, skipped, 0, "a stratum with too few rows for a covariance")
	quad := func(v []float64) float64 { return quadCov(fit.Cov, v) }
	assert.InDelta(t, quad(c), got.CTerm, 1e-12*quad(c))
	assert.InDelta(t, quad(dd), got.DTerm, 1e-12*quad(dd))
	cn, dn := noiseByHand(x, w, y, p, strata, L, fit.Cov)
	assert.InDelta(t, cn, got.CNoise, 1e-12*cn)
	assert.InDelta(t, dn, got.DNoise, 1e-12*dn)
	assert.InDelta(t, r.SE*r.SE-max(0, quad(c)-cn)+max(0, quad(dd)-dn), got.Var, 1e-12)

	_, err = NewScoreAdjuster(x, tr, fit.Logit, &ScoreAdjustOptions{Strata: strata[1:]})
	var me *InputError
	require.ErrorAs(t, err, &me)
	assert.Equal(t, "Strata", me.Field)
}

// unitsATT is ATT of the outcome y (one value per unit) on the matching
// um of units.
func unitsATT(t testing.TB, um *UnitMatching, y []float64) ATTResult {
	t.Helper()
	var ys [2][]float64
	for _, u := range um.TreatedUnits {
		ys[1] = append(ys[1], y[u])
	}
	for _, u := range um.ControlUnits {
		ys[0] = append(ys[0], y[u])
	}
	r, err := ATT(ys[1], ys[0], um.Matching, nil)
	require.NoError(t, err)
	return r
}
