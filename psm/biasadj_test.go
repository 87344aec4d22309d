package psm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

// bruteBiasAdjust follows R Matching's RmatchLoop literally for unit
// weights: one row per (treated, control) match with weight W = 1/|S_i|,
// Kcount, the K-weighted normal equations of y on (1, z) over the
// controls (solved with QR, no ridge), the adjusted pair effects Tau,
// Sigs and the variance from Kcount, KKcount and the adjusted individual
// effects SCAUS.
func bruteBiasAdjust(yt, yc []float64, zt, zc *mat.Dense, m *Matching, quirk bool) (est, se float64, coef []float64, err error) {
	_, p := zt.Dims()
	nc := len(yc)
	K := make([]float64, nc)
	KK := make([]float64, nc)
	for i, ok := range m.Matched {
		if !ok {
			continue
		}
		for k := m.Start[i]; k < m.Start[i+1]; k++ {
			K[m.Control[k]] += m.Weight[k]
			KK[m.Control[k]] += m.Weight[k] * m.Weight[k]
		}
	}
	// weighted least squares by QR on rows sqrt(K)(1, z)
	var rows int
	for _, k := range K {
		if k > 0 {
			rows++
		}
	}
	X := mat.NewDense(rows, p+1, nil)
	Y := mat.NewVecDense(rows, nil)
	r := 0
	for j, k := range K {
		if k == 0 {
			continue
		}
		s := math.Sqrt(k)
		X.Set(r, 0, s)
		for c := 0; c < p; c++ {
			X.Set(r, c+1, s*zc.At(j, c))
		}
		Y.SetVec(r, s*yc[j])
		r++
	}
	var qr mat.QR
	qr.Factorize(X)
	var a mat.VecDense
	if rows <= p+1 {
		return 0, 0, nil, fmt.Errorf("%d controls for %d coefficients", rows, p+1)
	}
	if err := qr.SolveVecTo(&a, false, Y); err != nil {
		return 0, 0, nil, err
	}
	coef = make([]float64, p)
	for c := range coef {
		coef[c] = a.AtVec(c + 1)
	}
	dz := func(zi *mat.Dense, i int, zj *mat.Dense, j int) float64 {
		var s float64
		for c, b := range coef {
			s += (zi.At(i, c) - zj.At(j, c)) * b
		}
		return s
	}
	var sumW, sumTau float64
	for i, ok := range m.Matched {
		if !ok {
			continue
		}
		for k := m.Start[i]; k < m.Start[i+1]; k++ {
			j := int(m.Control[k])
			W := m.Weight[k]
			sumW += W
			sumTau += W * (yt[i] - yc[j] - dz(zt, i, zc, j))
		}
	}
	est = sumTau / sumW
	var sse float64
	for i, ok := range m.Matched {
		if !ok {
			continue
		}
		for k := m.Start[i]; k < m.Start[i+1]; k++ {
			j := int(m.Control[k])
			e := yt[i] - yc[j] - dz(zt, i, zc, j) - est
			sse += m.Weight[k] * e * e
		}
	}
	sigs := 0.5 * sse / sumW
	SN := sumW
	var v float64
	for j := range K {
		v += sigs * (K[j]*K[j] - KK[j])
	}
	for i, st := range m.Status {
		var scaus float64
		switch {
		case st == StatusMatched:
			var ym float64
			for k := m.Start[i]; k < m.Start[i+1]; k++ {
				j := int(m.Control[k])
				ym += m.Weight[k] * (yc[j] + dz(zt, i, zc, j))
			}
			scaus = yt[i] - ym
		case quirk && (st == StatusCaliper || st == StatusNoControls):
			SN++
		default:
			continue
		}
		v += (scaus - est) * (scaus - est)
	}
	return est, math.Sqrt(v) / SN, coef, nil
}

// synthBiasAdjust draws treated and control scores with ties (a grid),
// two covariates correlated with the outcome, and the outcome.
func synthBiasAdjust(rng *rand.Rand, nt, nc int) (tr, co, yt, yc []float64, zt, zc *mat.Dense) {
	tr, co = make([]float64, nt), make([]float64, nc)
	yt, yc = make([]float64, nt), make([]float64, nc)
	zt, zc = mat.NewDense(nt, 2, nil), mat.NewDense(nc, 2, nil)
	draw := func(score []float64, y []float64, z *mat.Dense, i int, treated float64) {
		x1, x2 := rng.NormFloat64(), float64(rng.IntN(2))
		score[i] = math.Round(40/(1+math.Exp(-x1-0.5*x2+treated))) / 40
		z.Set(i, 0, x1)
		z.Set(i, 1, x2)
		y[i] = 1 + treated + 2*x1 - x2 + rng.NormFloat64()
	}
	for i := range tr {
		draw(tr, yt, zt, i, 1)
	}
	for j := range co {
		draw(co, yc, zc, j, 0)
	}
	return
}

// BiasAdjustedATT equals a literal transcription of R's RmatchLoop
// (bruteBiasAdjust: pair rows, Kcount, QR regression) on random data
// with ties, for K = 1..3, with and without expanded sets and a caliper
// (Matching's convention for dropped treated). Tolerance 1e-10 relative
// (the two solve the same least-squares problem by different
// factorizations).
func TestBiasAdjustedATTBrute(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 3))
	tested := 0
	defer func() { assert.Greater(t, tested, 30, "cases compared") }()
	for rep := 0; rep < 40; rep++ {
		nt, nc := 10+rng.IntN(40), 20+rng.IntN(200)
		tr, co, yt, yc, zt, zc := synthBiasAdjust(rng, nt, nc)
		o := &MatchOptions{K: 1 + rng.IntN(3), TieRule: TieRMatching, TieTolerance: 1e-12}
		quirk := rep%3 == 0
		if rep%4 == 0 {
			o.Caliper = 0.05
		}
		m, err := Match(tr, co, o)
		if err != nil {
			continue
		}
		wantEst, wantSE, wantCoef, err := bruteBiasAdjust(yt, yc, zt, zc, m, quirk)
		if err != nil { // singular: see TestBiasAdjustedATTSingular
			continue
		}
		tested++
		msg := fmt.Sprintf("rep %d K %d caliper %v", rep, o.K, o.Caliper)
		for _, skip := range []bool{false, true} {
			o.SkipSets = skip
			m, err := Match(tr, co, o)
			require.NoError(t, err)
			r, err := BiasAdjustedATT(yt, yc, zt, zc, m, &BiasAdjustOptions{MatchingCaliperQuirk: quirk})
			require.NoError(t, err, msg)
			relClose(t, wantEst, r.ATT, 1e-10, "%s skip %v est", msg, skip)
			relClose(t, wantSE, r.SE, 1e-10, "%s skip %v se", msg, skip)
			for c := range wantCoef {
				relClose(t, wantCoef[c], r.Coef[c], 1e-9, "%s skip %v coef %d", msg, skip, c)
			}
			plain, err := ATT(yt, yc, m, nil)
			require.NoError(t, err)
			assert.Equal(t, plain.ATT, r.Unadjusted, msg)
			assert.Equal(t, plain.TreatedMean, r.TreatedMean, msg)
			assert.InDelta(t, r.TreatedMean-r.ATT, r.ControlMean, 1e-12, msg)
			assert.Zero(t, r.Ridge, msg)
			assert.False(t, r.PseudoInverse, msg)
		}
	}
}

// The adjustment removes the bias of a covariate imbalance: with
// y = 2 z exactly (no effect, no noise) and matches at unequal z, the
// plain ATT is off and the bias-corrected one is 0 up to rounding.
func TestBiasAdjustedATTRemovesLinearBias(t *testing.T) {
	tr := []float64{0.30, 0.52, 0.71}
	co := []float64{0.28, 0.33, 0.50, 0.55, 0.70, 0.90}
	ztv := []float64{1, 2.5, 4}
	zcv := []float64{0.5, 1.7, 2.2, 2.9, 3.1, 5}
	yt, yc := make([]float64, 3), make([]float64, 6)
	for i, z := range ztv {
		yt[i] = 2 * z
	}
	for j, z := range zcv {
		yc[j] = 2 * z
	}
	m, err := Match(tr, co, &MatchOptions{K: 2})
	require.NoError(t, err)
	r, err := BiasAdjustedATT(yt, yc, mat.NewDense(3, 1, ztv), mat.NewDense(6, 1, zcv), m, nil)
	require.NoError(t, err)
	assert.Greater(t, math.Abs(r.Unadjusted), 0.1, "the plain ATT is biased")
	assert.InDelta(t, 0, r.ATT, 1e-12)
	assert.InDelta(t, 2, r.Coef[0], 1e-12)
	assert.InDelta(t, 0, r.SE, 1e-12)
}

// An evaluator reused over outcomes gives BiasAdjustedATT's results bit
// for bit.
func TestBiasAdjustEvaluatorReuse(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 9))
	tr, co, yt, yc, zt, zc := synthBiasAdjust(rng, 60, 300)
	m, err := Match(tr, co, &MatchOptions{K: 2})
	require.NoError(t, err)
	ev, err := NewBiasAdjustEvaluator(zt, zc, m, nil)
	require.NoError(t, err)
	for k := 0; k < 3; k++ {
		y2t, y2c := make([]float64, len(yt)), make([]float64, len(yc))
		for i := range y2t {
			y2t[i] = yt[i] + float64(k)*rng.NormFloat64()
		}
		for j := range y2c {
			y2c[j] = yc[j] + float64(k)*rng.NormFloat64()
		}
		want, err := BiasAdjustedATT(y2t, y2c, zt, zc, m, nil)
		require.NoError(t, err)
		got, err := ev.ATT(y2t, y2c)
		require.NoError(t, err)
		assert.Equal(t, want, got, "outcome %d", k)
	}
}

// A covariate that no matched control has (a dummy held by treated units
// only) makes the regression singular: Match's ridge is added, the
// covariate's slope is exactly 0, and the other slopes are those without
// the covariate, shrunk by the ridge (relative change below 1e-6 here,
// where the ridge is about 1e-8 of the Gram matrix). The R parity of this
// case is synth_ridge_rare_* in TestBiasAdjustedATTAgainstRMatching.
func TestBiasAdjustedATTSingular(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	tr, co, yt, yc, zt, zc := synthBiasAdjust(rng, 80, 400)
	m, err := Match(tr, co, &MatchOptions{K: 2})
	require.NoError(t, err)
	base, err := BiasAdjustedATT(yt, yc, zt, zc, m, nil)
	require.NoError(t, err)
	require.Zero(t, base.Ridge)
	zt3, zc3 := mat.NewDense(80, 3, nil), mat.NewDense(400, 3, nil)
	zt3.Augment(zt, mat.NewDense(80, 1, nil))
	zc3.Augment(zc, mat.NewDense(400, 1, nil))
	for i := 0; i < 80; i += 7 {
		zt3.Set(i, 2, 1)
	}
	r, err := BiasAdjustedATT(yt, yc, zt3, zc3, m, nil)
	require.NoError(t, err)
	assert.Greater(t, r.Ridge, 0.0)
	assert.False(t, r.PseudoInverse)
	assert.Equal(t, 0.0, r.Coef[2], "slope of the covariate no control has")
	relClose(t, base.Coef[0], r.Coef[0], 1e-6, "slope 0")
	relClose(t, base.Coef[1], r.Coef[1], 1e-6, "slope 1")
	relClose(t, base.ATT, r.ATT, 1e-6, "ATT")
	relClose(t, base.SE, r.SE, 1e-6, "SE")
}

// A covariate constant at c over the matched controls (collinear with the
// intercept) gets, with Match's ridge, the minimum-norm fit: intercept
// A/(1+c^2) and slope c·A/(1+c^2), A the intercept of the fit without
// it, which shifts the estimate when treated units have other values.
// Tolerance 1e-3 relative: G^-1 has entries of order 1/ridge along the
// collinear direction, so rounding is amplified (to about 1e-5 relative
// here; R computes the same way). The R parity of this case (c = 1) is
// synth_ridge_constant_k1.
func TestBiasAdjustedATTConstantColumn(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 1))
	tr, co, yt, yc, zt, zc := synthBiasAdjust(rng, 80, 400)
	m, err := Match(tr, co, &MatchOptions{K: 1})
	require.NoError(t, err)
	base, err := BiasAdjustedATT(yt, yc, zt, zc, m, nil)
	require.NoError(t, err)
	for _, tc := range []struct{ c, tol float64 }{{1, 1e-3}, {2, 1e-3}, {3, 1e-3}} {
		c := tc.c
		zt3, zc3 := mat.NewDense(80, 3, nil), mat.NewDense(400, 3, nil)
		zt3.Augment(zt, mat.NewDense(80, 1, nil))
		zc3.Augment(zc, mat.NewDense(400, 1, nil))
		var shift float64
		for i := 0; i < 80; i++ {
			v := c
			if i%3 == 0 {
				v = 0
			}
			zt3.Set(i, 2, v)
			shift += v - c
		}
		for j := 0; j < 400; j++ {
			zc3.Set(j, 2, c)
		}
		r, err := BiasAdjustedATT(yt, yc, zt3, zc3, m, nil)
		require.NoError(t, err)
		assert.Greater(t, r.Ridge, 0.0)
		A := base.Intercept
		relClose(t, A/(1+c*c), r.Intercept, tc.tol, "c %v intercept", c)
		relClose(t, c*A/(1+c*c), r.Coef[2], tc.tol, "c %v slope of the constant column", c)
		relClose(t, base.Coef[0], r.Coef[0], 1e-6, "c %v slope 0", c)
		relClose(t, base.ATT-shift*c*A/(1+c*c)/80, r.ATT, tc.tol, "c %v shifted ATT", c)
		assert.Greater(t, math.Abs(r.ATT-base.ATT), 1e-3, "c %v: the shift is visible", c)
	}
}
